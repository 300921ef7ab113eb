"""Environments: one chain, several targets (``environments={...}``, ``-e NAME``), and the grid of
``status --all-environments``, through the CLI on real servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_params import backends, url_fixture
from projects import ProjectDir

from dbwarden_nb.api import Project
from dbwarden_nb.errors import ConfigError

SECRET = "Envs-Secret-Pw9"
USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
"""
ORDERS = USERS + """
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def _project(root: Path, url: str, kind: str) -> ProjectDir:
    environments = {"staging": "${ENVS_STAGING_URL}", "production": f"{url.split('://')[0]}://app:{SECRET}@127.0.0.1:1/shop"}
    return ProjectDir(root, url, kind, extra_config=f"\nenvironments={environments!r},")


@pytest.mark.parametrize("kind", backends({"clickhouse": "plain models: a ClickHouse table needs an engine"}))
def test_one_chain_several_targets(tmp_path: Path, kind: str, fresh_url, monkeypatch, request) -> None:
    url = request.getfixturevalue(url_fixture(kind))
    monkeypatch.setenv("ENVS_STAGING_URL", fresh_url(url))
    project = _project(tmp_path, url, kind)
    project.models(USERS)
    project.ok("make-migrations", "create users")
    project.ok("migrate")  # no -e: database_url
    assert "pending: 1" in project.ok("-e", "staging", "status").out
    project.ok("--environment", "staging", "migrate")
    project.models(ORDERS)
    project.ok("make-migrations", "add orders")
    project.ok("migrate")

    grid = project.cli("status", "--all-environments")
    assert grid.code == 0, grid.err
    lines = grid.out.splitlines()
    assert lines[1].split() == ["version", "description", "default", "staging", "production"], grid.out
    assert lines[1].split() == ["version", "description", "default", "staging", "production"]
    assert lines[2].split() == ["0001", "create", "users", "applied", "applied", "unreachable"], grid.out
    assert lines[3].split() == ["0002", "add", "orders", "applied", "pending", "unreachable"]
    assert lines[4].startswith("  production: unreachable: ") and len(lines) == 5
    assert SECRET not in grid.out + grid.err and "Traceback" not in grid.out + grid.err
    assert project.ok("-e", "staging", "status", "--all-environments").out == grid.out  # every target, whatever -e
    states = project.cli("--json", "status", "--all-environments").json()["migrations"][1]["states"]
    assert states == {"default": "applied", "staging": "pending", "production": "unreachable"}

    assert "pending: 1" in project.ok("-e", "staging", "status").out  # the same chain: only the target changed
    project.ok("-e", "staging", "migrate")
    assert project.ok("-e", "staging", "diff", "--check").code == 0


def test_bad_environment_is_one_line(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    monkeypatch.delenv("ENVS_STAGING_URL", raising=False)
    project = _project(tmp_path, sqlite_url, "sqlite")
    for args, says in ((("-e", "nope", "status"), "has no environment 'nope' (configured: staging, production"),
                       (("-e", "staging", "status"), "environments['staging'] references ${ENVS_STAGING_URL}"),
                       (("--dev", "-e", "staging", "status"), "--dev and -e staging both choose")):
        result = project.cli(*args)
        assert result.code != 0 and says in result.err, (args, result.err)
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
    grid = project.cli("status", "--all-environments")  # an unset variable is a column saying so
    assert grid.code == 0 and "staging: unreachable: database 'primary': environments['staging'] references" in grid.out
    assert SECRET not in project.ok("config").out


@pytest.mark.parametrize("environments, says", [
    ({"default": "sqlite:///x.db"}, "environment name 'default' is not valid"),
    ({"staging": ""}, "environments['staging'] must be a non-empty URL string"),
    ({"staging": "postgresql://h/db"}, "environments['staging'] 'postgresql://h/db' is not a sqlite URL"),
    (["sqlite:///x.db"], "environments must be a dict of name: URL"),
])
def test_environments_are_validated(environments: object, says: str) -> None:
    from dbwarden_nb.config import database_config

    with pytest.raises(ConfigError) as caught:
        database_config("envs_app", database_type="sqlite", database_url="sqlite:///a.db", environments=environments)
    assert says in str(caught.value)


def test_notebook_grid(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    from dbwarden_nb.notebook.display import fixed_ids, mimebundle

    monkeypatch.setenv("ENVS_STAGING_URL", f"sqlite:///{tmp_path / 'staging.db'}")
    project = _project(tmp_path, sqlite_url, "sqlite")
    project.models(USERS)
    project.ok("make-migrations", "create users")
    project.ok("migrate")
    report = Project.load(tmp_path / "dbwarden.py").status(all_environments=True)
    with fixed_ids():
        bundle = mimebundle(report)
    assert bundle["text/plain"] == report.to_text(reasons=False) and "production: unreachable\n" in bundle["text/plain"] + "\n"
    html = bundle["text/html"]
    assert "<th>default</th><th>staging</th><th>production</th>" in html
    assert "✓ applied" in html and "… pending" in html and "⚠ unreachable" in html
    assert SECRET not in html and "app:***@127.0.0.1:1/shop" in html


def test_magic_takes_e_and_the_grid(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    pytest.importorskip("IPython")
    from dbwarden_nb.notebook.magics import execute
    from dbwarden_nb.reports import EnvironmentStatusReport, StatusReport

    monkeypatch.setenv("ENVS_STAGING_URL", f"sqlite:///{tmp_path / 'staging.db'}")
    project = _project(tmp_path, sqlite_url, "sqlite")
    project.models(USERS)
    project.ok("make-migrations", "create users")
    project.ok("migrate")
    monkeypatch.chdir(tmp_path)
    try:
        grid = execute(["status", "--all-environments"])
        staging = execute(["-e", "staging", "status"])
        with pytest.raises(Exception, match="has no environment 'nope'"):  # exit code 1 in the CLI: the cell fails
            execute(["-e", "nope", "status"])
    finally:
        project.forget_modules()
    assert isinstance(grid, EnvironmentStatusReport) and [c.cell(1) for c in grid.columns] == ["applied", "pending",
                                                                                               "unreachable"]
    assert isinstance(staging, StatusReport) and len(staging.pending) == 1


def test_grid_frame() -> None:
    pytest.importorskip("pandas")
    from dbwarden_nb.reports import EnvironmentColumn, EnvironmentStatusReport

    report = EnvironmentStatusReport("app", "sqlite", [(1, "create users")], [
        EnvironmentColumn("default", "sqlite:///a.db", {1: "applied"}), EnvironmentColumn("staging", "x", error="down")])
    frame = report.to_frame()
    assert list(frame.columns) == ["database", "version", "description", "default", "staging"]
    assert frame.values.tolist() == [["app", 1, "create users", "applied", "unreachable"]]
