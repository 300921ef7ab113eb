"""History is the truth and an audit trail, on the real servers, through the CLI: a rollback adds an event and never
erases the applied one; a rollback that stops half-way (MariaDB/MySQL commit each DDL statement) is recorded as
``rolling_back`` and finished by the next ``rollback``, which ``migrate`` refuses to re-apply over; a partial
migration whose failed statement was fixed is re-recorded by ``repair`` and continued by ``migrate``, which says in
``--dry-run`` where it resumes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from backend_params import backends, url_fixture
from projects import ProjectDir

SERVERS = backends()
CLICKHOUSE_HEAD = """
from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines
"""


def _table(kind: str, name: str) -> str:
    if kind == "clickhouse":
        return (f'class T{name}(Base):\n    __tablename__ = "{name}"\n    __table_args__ = (engines.MergeTree(order_by="id"),)\n'
                "    id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)\n")
    return f'class T{name}(Base):\n    __tablename__ = "{name}"\n    id: Mapped[int] = mapped_column(primary_key=True)\n'


def _models(project: ProjectDir, kind: str, *names: str) -> None:
    project.models((CLICKHOUSE_HEAD if kind == "clickhouse" else "") + "\n".join(_table(kind, n) for n in names))


def _events(project: ProjectDir) -> list[tuple]:
    return [(e["version"], e["status"], e["statements_completed"])
            for e in project.ok("--json", "history").json()["events"]]


def _rows(project: ProjectDir) -> list[tuple]:
    return [(r["version"], r["status"], r["statements_completed"])
            for r in project.ok("--json", "history").json()["history"]]


@pytest.mark.parametrize("kind", SERVERS)
def test_a_rollback_adds_an_event_and_history_shows_both(request, tmp_path, kind):
    project = ProjectDir(tmp_path / "p", request.getfixturevalue(url_fixture(kind)), kind)
    _models(project, kind, "a")
    project.ok("make-migrations", "a")
    _models(project, kind, "a", "b")
    project.ok("make-migrations", "b")
    project.ok("migrate")
    project.ok("rollback", "--force")
    assert _rows(project) == [(1, "applied", 1)]
    project.ok("migrate")
    assert _rows(project) == [(1, "applied", 1), (2, "applied", 1)]
    assert _events(project) == [(1, "applied", 1), (2, "applied", 1), (2, "rolled_back", 1), (2, "applied", 1)]
    text = project.ok("history").out
    assert "primary: 2 migration(s); 1 rollback(s)" in text, text
    lines = [line.split()[:2] for line in text.splitlines()[1:]]
    assert lines == [["0001", "applied"], ["0002", "applied"], ["0002", "rolled_back"], ["0002", "applied"]], text
    # the audit trail is the tool's own: never part of the schema it diffs
    assert project.cli("diff", "--check").code == 0


def _mariadb(request, tmp_path) -> tuple[ProjectDir, sa.Engine]:
    url = request.getfixturevalue("mariadb_url")
    project = ProjectDir(tmp_path / "p", url, "mariadb")
    engine = sa.create_engine("mariadb+pymysql://" + url.split("://", 1)[1], poolclass=sa.pool.NullPool)
    request.addfinalizer(engine.dispose)
    return project, engine


def _sql(engine: sa.Engine, statement: str) -> list[tuple]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement))
        return [tuple(r) for r in result] if result.returns_rows else []


def _tables(engine: sa.Engine) -> list[str]:
    return sorted(n for (n,) in _sql(engine, "SHOW TABLES") if not n.startswith("dbwarden_"))


def test_a_rollback_that_stops_half_way_is_recorded_and_finished(request, tmp_path):
    """MariaDB commits each DROP: the rollback of a three-table migration stops at its 2nd statement (a table made by
    hand refers to the table it drops). History says 1 rollback statement ran; migrate refuses to re-apply over
    the half-undone state; once the cause is gone, rollback continues from statement 2."""
    project, engine = _mariadb(request, tmp_path)
    _models(project, "mariadb", "a", "b", "c")
    project.ok("make-migrations", "three")
    project.ok("migrate")
    _sql(engine, "CREATE TABLE holder (b_id INT, FOREIGN KEY (b_id) REFERENCES b (id))")
    failed = project.cli("rollback", "--force")
    assert failed.code == 1 and "0001_three.sql failed at statement 2 of 3" in failed.err, failed.err
    assert "1 statement(s) of the rollback had run" in failed.err
    assert _tables(engine) == ["a", "b", "holder"]  # c is gone, b and a stay
    assert _rows(project) == [(1, "rolling_back", 1)]
    status = project.ok("status").out
    assert "rolling_back: 0001 three (its rollback stopped after 1 statement(s))" in status, status
    refused = project.cli("migrate")
    assert refused.code == 1 and refused.err.strip() == (
        "dbwarden: error: migrations/primary/0001_three.sql is being rolled back (its rollback stopped after 1 "
        "statement(s)); run 'dbwarden rollback' to finish rolling it back, then 'dbwarden migrate'"), refused.err
    assert "resumes at statement 2 of 3: 1 ran before" in project.ok("rollback", "--dry-run", "--force").out
    _sql(engine, "DROP TABLE holder")
    assert "rolled back 1 migration(s)" in project.ok("rollback", "--force").out
    assert _tables(engine) == [] and _rows(project) == []
    assert _events(project) == [(1, "applied", 3), (1, "rolling_back", 1), (1, "rolled_back", 3)]
    project.ok("migrate")
    assert _tables(engine) == ["a", "b", "c"]


def test_repair_after_fixing_the_failed_statement(request, tmp_path):
    """A hand-written migration stops at its 2nd statement (a typo); editing the file makes every command refuse it
    (checksum mismatch, naming repair); repair re-records it with the first statement kept as run; migrate --dry-run
    says it resumes at statement 2, and migrate finishes it without running statement 1 again."""
    project, engine = _mariadb(request, tmp_path)
    project.ok("new", "by hand")
    path = project.migration_files()[0]
    text = path.read_text()
    broken = text.replace("-- write the upgrade statements here, each ending with ;\n",
                          "CREATE TABLE a (id INT PRIMARY KEY);\nCREATE TABLE b (id INT PRIMARY KEY,);\n"
                          "CREATE TABLE c (id INT PRIMARY KEY);\n")
    broken = broken.replace("-- rollback\n", "-- rollback\nDROP TABLE c;\nDROP TABLE b;\nDROP TABLE a;\n")
    path.write_text(broken)
    failed = project.cli("migrate", "--force")
    assert failed.code == 1 and "failed at statement 2 of 3" in failed.err, failed.err
    assert _rows(project) == [(1, "partial", 1)]
    assert "resumes at statement 2 of 3: 1 ran before" in project.ok("migrate", "--dry-run").out
    path.write_text(broken.replace("(id INT PRIMARY KEY,)", "(id INT PRIMARY KEY)"))
    refused = project.cli("status")
    assert refused.code == 1 and "checksum mismatch" in refused.err and "'dbwarden repair 0001'" in refused.err
    out = project.ok("repair", "1").out
    assert "repaired 0001 by hand" in out and "1 of 3 upgrade statement(s) stay run" in out, out
    assert "  ran 1: CREATE TABLE a (id INT PRIMARY KEY)" in out and "  next 2: CREATE TABLE b" in out, out
    assert _rows(project) == [(1, "partial", 1)]
    assert "resumes at statement 2 of 3: 1 ran before" in project.ok("migrate", "--dry-run").out
    project.ok("migrate", "--force")  # statement 1 is not run again: table a exists, it would fail
    assert _tables(engine) == ["a", "b", "c"] and _rows(project) == [(1, "applied", 3)]
    assert _events(project) == [(1, "partial", 1), (1, "repaired", 1), (1, "applied", 3)]
    # repair of a migration that did not stop part-way: one line naming it, no change
    again = project.cli("repair", "1")
    assert again.code == 2 and again.err.strip() == (
        "dbwarden: error: repair 0001: it is applied; repair re-records only a migration that stopped part-way "
        "(partial)"), again.err
    missing = project.cli("repair", "7")
    assert missing.code == 2 and "repair 0007: no migration of that version stopped part-way" in missing.err


def test_a_manual_migration_not_written_yet_is_not_applied(sqlite_url, tmp_path):
    project = ProjectDir(tmp_path / "p", sqlite_url, "sqlite")
    project.ok("new", "seed data")
    refused = project.cli("migrate")
    assert refused.code == 1 and refused.err.strip() == (
        "dbwarden: error: migrations/primary/0001_seed_data.sql has no upgrade statement yet (a 'dbwarden new' file): "
        "write its statements, or delete the file"), refused.err
    assert _rows(project) == []


def test_a_database_migrated_before_the_audit_trail_gets_it_when_it_rolls_back(sqlite_url, tmp_path):
    import sqlite3

    project = ProjectDir(tmp_path / "p", sqlite_url, "sqlite")
    _models(project, "sqlite", "a")
    project.ok("make-migrations", "a")
    project.ok("migrate")
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:  # as an earlier version left it
        conn.execute("DROP TABLE dbwarden_log")
    assert _events(project) == [] and _rows(project) == [(1, "applied", 1)]
    project.ok("rollback", "--force")
    assert _rows(project) == [] and _events(project) == [(1, "rolled_back", 1)]
