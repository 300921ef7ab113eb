"""Migration hooks (``hooks={...}`` in database_config), through the CLI: a before_migrate hook that raises stops the
run before anything is applied; after_migrate and on_failure errors are reported, never tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from projects import ProjectDir

from dbwarden_nb.config import sqlalchemy_url
from dbwarden_nb.errors import ConfigError

HOOKS = '''
import json as _json
import os as _os


def _log(ctx):
    with open("hooks.log", "a") as out:
        out.write(_json.dumps({"event": ctx.event, "database": ctx.database, "environment": ctx.environment,
                               "version": ctx.version, "versions": list(ctx.versions), "applied": list(ctx.applied),
                               "statements": len(ctx.statements), "error": ctx.error}) + "\\n")


def gate(ctx):
    _log(ctx)
    if _os.environ.get("ENVS_GATE"):
        raise RuntimeError("no change ticket for " + ", ".join(str(v) for v in ctx.versions))


def notify(ctx):
    _log(ctx)
    if _os.environ.get("ENVS_NOTIFY_FAILS"):
        raise ConnectionError("chat server down")

'''
USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def _project(root: Path, url: str, kind: str) -> ProjectDir:
    project = ProjectDir(root, url, kind, extra_config='\nhooks={"before_migrate": [gate], "after_migrate": notify, '
                                                       '"on_failure": [notify]},')
    config = root / "dbwarden.py"
    text = config.read_text()
    config.write_text(text.replace("\n\n", "\n" + HOOKS, 1))
    return project


def _events(root: Path) -> list[dict]:
    path = root / "hooks.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _tables(project: ProjectDir) -> set[str]:
    engine = sa.create_engine(sqlalchemy_url(project.url, root=project.root))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_before_hook_stops_the_run_before_it_starts(tmp_path: Path, kind: str, request, monkeypatch) -> None:
    url = request.getfixturevalue({"postgresql": "pg_url", "sqlite": "sqlite_url"}[kind])
    project = _project(tmp_path, url, kind)
    project.models(USERS)
    project.ok("make-migrations", "create users")
    before = _tables(project)

    monkeypatch.setenv("ENVS_GATE", "1")
    stopped = project.cli("migrate")
    assert stopped.code == 1 and stopped.out == ""
    assert stopped.err.count("\n") == 1 and "Traceback" not in stopped.err
    assert "database 'primary': before_migrate hook gate (" in stopped.err
    assert "dbwarden.py:" in stopped.err and "raised RuntimeError: no change ticket for 1; nothing was applied" in stopped.err
    assert _tables(project) == before and "users" not in before  # schema unchanged, no history table made
    assert "dbwarden_migrations" not in _tables(project)
    assert "pending: 1" in project.ok("status").out
    assert [e["event"] for e in _events(tmp_path)] == ["before_migrate"]  # the others did not run

    monkeypatch.delenv("ENVS_GATE")
    project.ok("migrate")
    assert "users" in _tables(project)
    before_event, after_event = _events(tmp_path)[1:]
    assert before_event == {"event": "before_migrate", "database": "primary", "environment": None, "version": 1,
                            "versions": [1], "applied": [], "statements": 1, "error": None}
    assert after_event == {**before_event, "event": "after_migrate", "applied": [1]}
    project.ok("migrate")  # nothing pending: no hook runs
    assert len(_events(tmp_path)) == 3


def test_after_and_failure_hook_errors_are_reported(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    project = _project(tmp_path, sqlite_url, "sqlite")
    project.models(USERS)
    project.ok("make-migrations", "create users")
    monkeypatch.setenv("ENVS_NOTIFY_FAILS", "1")
    after = project.cli("migrate")
    assert after.code == 1 and "applied 1 migration(s)" in after.out
    assert after.err.count("\n") == 1 and "after_migrate hook notify (" in after.err
    assert "raised ConnectionError: chat server down (the migrations stay applied)" in after.err
    assert "pending: 0" in project.ok("status").out

    project.ok("new", "broken")
    broken = project.migration_files()[-1]
    broken.write_text(broken.read_text().replace("-- write the upgrade statements here, each ending with ;",
                                                 "SELECT * FROM no_such_table;"))
    failed = project.cli("migrate")
    assert failed.code == 1 and failed.err.count("\n") == 1 and "Traceback" not in failed.err
    assert "no_such_table" in failed.err and "; and on_failure hook notify (" in failed.err
    event = _events(tmp_path)[-1]
    assert event["event"] == "on_failure" and event["versions"] == [2] and event["applied"] == []
    assert "no_such_table" in event["error"]


@pytest.mark.parametrize("hooks, says", [
    ({"before_migate": []}, "unknown hook event 'before_migate'"),
    ({"after_migrate": ["notify"]}, "hooks['after_migrate'] must hold callables, got 'notify'"),
    ([print], "hooks must be a dict of event: [callables]"),
])
def test_hooks_are_validated(hooks: object, says: str) -> None:
    from dbwarden_nb.config import database_config

    with pytest.raises(ConfigError) as caught:
        database_config("envs_app", database_type="sqlite", database_url="sqlite:///a.db", hooks=hooks)
    assert says in str(caught.value)


def test_hooks_are_told_the_environment(tmp_path: Path, sqlite_url: str) -> None:
    project = _project(tmp_path, sqlite_url, "sqlite")
    config = tmp_path / "dbwarden.py"
    config.write_text(config.read_text().replace("hooks=", f"environments={{'staging': 'sqlite:///{tmp_path / 's.db'}'}}, hooks=", 1))
    project.models(USERS)
    project.ok("make-migrations", "create users")
    project.ok("-e", "staging", "migrate")
    assert [(e["event"], e["environment"]) for e in _events(tmp_path)] == [("before_migrate", "staging"),
                                                                          ("after_migrate", "staging")]
    project.ok("migrate", "--dry-run")  # no hook for a dry run
    assert len(_events(tmp_path)) == 2
