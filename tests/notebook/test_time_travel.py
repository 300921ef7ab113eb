"""Time travel on the Python API: the schema at a version (its stored snapshot), the diff between two versions,
the ERD of a version, and the history as a timeline; on real SQLite and PostgreSQL projects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.errors import ConfigError, UsageError
from dbwarden_nb.notebook import display
from dbwarden_nb.reports import DiffReport

USERS = """
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(50))
    """
ORDERS = USERS + """
    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    """
NOTES = ORDERS.replace('name: Mapped[str] = mapped_column(sa.String(50))',
                       'name: Mapped[str] = mapped_column(sa.String(50))\n        note: Mapped[str | None] = mapped_column(sa.Text)')
STEPS = (("add users", USERS), ("add orders", ORDERS), ("add user notes", NOTES))


def three_versions(project: ProjectDir, *flags: str) -> None:
    for name, models in STEPS:
        project.models(models)
        project.ok("make-migrations", name, *flags)


def describe(plan) -> list[str]:
    return [op.describe() for op in plan]


def test_versions_snapshots_diffs_and_erds_on_sqlite(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    three_versions(project, "--offline")  # no database file yet: time travel must not need one
    monkeypatch.chdir(project.root)
    proj = dw.project()
    stored = [proj.snapshot(version=v) for v in (0, 1, 2, 3)]
    assert [sorted(s.tables) for s in stored] == [[], ["users"], ["orders", "users"], ["orders", "users"]]
    assert stored[3].to_json() == (project.root / ".dbwarden/primary/snapshots/0003.json").read_text()
    assert [c.name for c in stored[3].tables["users"].columns] == ["id", "name", "note"]

    step = proj.diff(2, 3)
    assert isinstance(step, DiffReport) and (step.source, step.target) == ("version 0002", "version 0003")
    assert describe(step.plan) == ["add column users.note TEXT"] and step.statements
    assert step.to_text().startswith("primary: 1 difference(s), version 0003 vs version 0002")
    whole = proj.diff(0, 3)
    assert describe(whole.plan) == describe(dw.diff(stored[0], stored[3]))  # the same plan, from the snapshots
    assert {op.kind for op in whole.plan} == {"create_table"}
    back = proj.diff(3, 1)  # backwards too: what undoing 0002 and 0003 means
    assert sorted(describe(back.plan)) == sorted(describe(dw.diff(stored[3], stored[1])))
    assert "drop table orders" in describe(back.plan)
    assert proj.diff(2, 2).empty and proj.diff_versions(1, 2).to_text() == proj.diff(1, 2).to_text()
    assert json.loads(proj.diff(1, 2, out="json").to_text())["operations"][0]["kind"] == "create_table"

    erd = proj.erd(version=2)
    assert '"orders" }o--|| "users"' in erd.source.replace("}o..||", "}o--||") and erd.relationships == 1
    assert proj.erd(version=1).relationships == 0 and "orders" not in proj.erd(version=1).source

    for bad, why in ((9, "no stored snapshot of version 0009; stored: 0001, 0002, 0003"),):
        with pytest.raises(UsageError, match=re.escape(why)):
            proj.snapshot(version=bad)
        with pytest.raises(UsageError, match=re.escape(why)):
            proj.diff(1, bad)
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # time travel needs no database

    project.ok("migrate")
    assert proj.snapshot() == proj.snapshot(version=3)  # the live schema is what version 3 says
    assert proj.erd().source == proj.erd(version=3).source


def test_time_travel_needs_no_server(tmp_path: Path) -> None:
    """PostgreSQL migrations written --offline; the server of the URL does not exist."""
    project = ProjectDir(tmp_path / "pg", "postgresql://app@127.0.0.1:1/shop", database_type="postgresql")
    three_versions(project, "--offline")
    proj = dw.project(project.root / "dbwarden.py")
    step = proj.diff(1, 2)
    assert describe(step.plan) == ["create table orders (2 columns)"]
    assert any("ON DELETE CASCADE" in sql and "REFERENCES" in sql for sql in step.statements)  # PostgreSQL's SQL
    assert proj.snapshot(version=3).backend == "postgresql" and proj.erd(version=3).tables == 2
    with pytest.raises(ConfigError, match="database 'primary': database_url: "):
        proj.snapshot()  # the live schema does need the server


def test_history_is_a_timeline(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    three_versions(project)
    project.ok("migrate")
    monkeypatch.chdir(project.root)
    history = dw.project().history()
    with display.fixed_ids():
        bundle = history._repr_mimebundle_()
    svg = re.search(r"<svg class=\"dbw-timeline\".*?</svg>", bundle["text/html"], re.DOTALL).group()
    assert re.findall(r'class="dbw-tl-version"[^>]*>(\d{4})<', svg) == ["0001", "0002", "0003"]
    assert svg.count('<circle class="dbw-tl-ok"') == 3 and "<script" not in svg and " on" not in svg
    assert "add user notes" in svg and re.search(r"\d{4}-\d{2}-\d{2}</text>", svg)  # the day it was applied
    assert bundle["text/plain"] == history.to_text().split("\n")[0] + "\n" + "\n".join(
        re.sub(r" \S+Z  ", " ", line) for line in history.to_text().split("\n")[1:])  # the stable text twin
