"""The thin end-to-end slice on SQLite: make-migrations → migrate → diff, through the CLI and the API."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.schema import Snapshot

USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(100), server_default="anon")
"""
ORDERS = """
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    total: Mapped[float] = mapped_column(sa.Numeric(10, 2), server_default=sa.text("0"))
"""

# Each step is the whole model source after one kind of change.
STEPS = [
    ("create tables", USERS + ORDERS),
    ("add column", USERS.replace('server_default="anon")', 'server_default="anon")\n    age: Mapped[int | None]') + ORDERS),
    ("create index", USERS + ORDERS + '    __table_args__ = (sa.Index("ix_orders_total", "total"),)\n'),
    ("drop index", USERS + ORDERS),
    ("alter column type", USERS.replace("String(100)", "String(250)") + ORDERS),
    ("add check", USERS.replace("String(100)", "String(250)")
     + ORDERS + '    __table_args__ = (sa.CheckConstraint("total >= 0", name="ck_orders_total"),)\n'),
    ("add not-null column with default", USERS.replace("String(100)", "String(250)").replace(
        'server_default="anon")', 'server_default="anon")\n    active: Mapped[bool] = mapped_column(server_default=sa.text("1"))')
     + ORDERS + '    __table_args__ = (sa.CheckConstraint("total >= 0", name="ck_orders_total"),)\n'),
    ("drop column", USERS + ORDERS),
    ("drop table", USERS),
]


@pytest.fixture
def project(tmp_path: Path, sqlite_url: str) -> ProjectDir:
    return ProjectDir(tmp_path / "proj", sqlite_url)


def live(project: ProjectDir) -> Snapshot:
    return dw.project(project.root / "dbwarden.py").snapshot()


def test_every_change_kind_converges_and_rolls_back(project: ProjectDir) -> None:
    snapshots = [live(project)]
    for step, (name, source) in enumerate(STEPS, start=1):
        project.models(source)
        made = project.ok("make-migrations", name)
        assert "wrote migrations/primary/" in made.out, (name, made.out)
        assert len(project.migration_files()) == step
        project.ok("migrate", "--force")
        check = project.cli("diff", "--check")
        assert check.code == 0, (name, check.out)
        again = project.ok("make-migrations", name + " again")
        assert "nothing written" in again.out and len(project.migration_files()) == step
        snapshots.append(live(project))
        if step == 1:  # rows that every later rebuild must keep
            db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
            db.executescript("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x');"
                             "INSERT INTO orders (id, user_id, total) VALUES (10, 1, 5);")
            db.commit()
            db.close()
    # 'drop index' and 'drop column' return to the models of 'create tables'; every other step is new
    assert snapshots[1] == snapshots[4] == snapshots[8]
    assert len({s.checksum for s in snapshots}) == len(snapshots) - 2

    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    assert db.execute("SELECT id, email, name FROM users ORDER BY id").fetchall() == [(1, "a@x", "anon"), (2, "b@x", "anon")]
    db.close()

    for step in range(len(STEPS), 0, -1):
        project.ok("rollback", "--force")
        assert live(project) == snapshots[step - 1], f"rollback of step {step} ({STEPS[step - 1][0]})"
    status = project.ok("--json", "status").json()
    assert status["applied"] == [] and len(status["pending"]) == len(STEPS)


def test_models_and_live_agree_after_each_migration_via_python_api(project: ProjectDir) -> None:
    project.models(USERS + ORDERS)
    proj = dw.project(project.root / "dbwarden.py")
    report = proj.make_migrations("initial")
    assert report.file is not None and report.file.version == 1
    run = proj.migrate()
    assert [a.version for a in run.result.applied] == [1] and not run.drift
    assert proj.diff().empty
    assert proj.make_migrations("nothing").plan.is_empty
    assert proj.snapshot() == proj.models()


def test_failing_statement_leaves_schema_and_history_unchanged(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    before = live(project)
    project.ok("new", "broken")
    path = project.migration_files()[-1]
    text = path.read_text().replace(
        "-- write the upgrade statements here, each ending with ;\n",
        'CREATE TABLE "t1" (id INTEGER);\nINSERT INTO "users" (id, email) VALUES (1, \'x\');\nSELECT * FROM no_such_table;\n',
    )
    path.write_text(text)
    failed = project.cli("migrate")
    assert failed.code == 1
    assert failed.err.count("\n") == 1 and "no such table: no_such_table" in failed.err
    assert "0002_broken.sql failed at statement 3 of 3" in failed.err
    assert live(project) == before
    history = project.ok("--json", "history").json()["history"]
    assert [row["version"] for row in history] == [1]
    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)
    db.close()


def test_json_outputs_parse(project: ProjectDir) -> None:
    project.models(USERS + ORDERS)
    made = project.ok("--json", "make-migrations", "initial").json()
    assert made["written"] == "migrations/primary/0001_initial.sql" and made["operations"]
    assert project.ok("--json", "migrate", "--dry-run").json()["planned"][0]["version"] == 1
    assert project.ok("--json", "migrate").json()["applied"][0]["version"] == 1
    assert project.ok("--json", "diff").json()["empty"] is True
    snap = project.ok("snapshot", "--out", "json").json()
    assert Snapshot.from_dict(snap).tables.keys() == {"orders", "users"}
    assert project.ok("--json", "snapshot").json()["checksum"] == snap["checksum"]
    for command in (["status"], ["history"], ["config"], ["version"], ["lock-status"]):
        doc = project.ok("--json", *command).json()
        assert isinstance(doc, dict) and doc, command
    project.models(USERS)
    diff = project.cli("--json", "diff", "--check")
    assert diff.code == 2 and json.loads(diff.out)["operations"][0]["kind"] == "drop_table"


def test_second_make_migrations_writes_nothing_offline_too(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "--offline", "initial")
    assert len(project.migration_files()) == 1
    assert "nothing written" in project.ok("make-migrations", "--offline", "again").out
    assert project.ok("diff", "--offline").out.startswith("primary: no differences")
    assert not Path(project.url.removeprefix("sqlite:///")).exists() or live(project).tables == {}


def test_dry_run_and_sql_write_nothing(project: ProjectDir) -> None:
    project.models(USERS)
    dry = project.ok("make-migrations", "initial", "--dry-run")
    assert 'CREATE TABLE "users"' in dry.out and project.migration_files() == []
    project.ok("make-migrations", "initial")
    script = project.ok("migrate", "--sql").out
    assert script.index("BEGIN;") < script.index('CREATE TABLE "users"') < script.index("INSERT INTO \"dbwarden_migrations\"")
    assert live(project).tables == {}
    assert project.ok("--json", "status").json()["pending"][0]["version"] == 1


def test_diff_out_sql_renders_the_statements(project: ProjectDir) -> None:
    project.models(USERS)
    out = project.ok("diff", "--out", "sql").out
    assert out.startswith('CREATE TABLE "users"') and out.rstrip().endswith(";")
