"""A ClickHouse migration that stops half-way (history ``partial``) has two ways out, on a real chDB: ``migrate``
continues after the last statement that ran, once the cause is fixed; ``rollback --force`` (or ``downgrade --to V
--force``) undoes exactly the statements that ran, by the rollback statements marked as undoing them, and records it.
Both for a statement that failed without effect, and for an ALTER whose mutation failed after its definition
change was made (it counts as run)."""

from __future__ import annotations

import re

import pytest
from projects import ProjectDir
from roundtrip import live

pytest.importorskip("clickhouse_connect")

HEAD = """
        from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
        from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines
"""


def _table(name: str, columns: str = "") -> str:
    return f"""
        class T{name}(Base):
            __tablename__ = "{name}"
            __table_args__ = (engines.MergeTree(order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True){columns}
"""


def _history(project) -> list[tuple]:
    rows = project.ok("--json", "history").json()["history"]
    return [(r["version"], r["status"], r["statements_completed"]) for r in rows]


def _tables(client) -> list[str]:
    return [r[0] for r in client.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                       "AND NOT startsWith(name, 'dbwarden_') ORDER BY name").result_rows]


@pytest.fixture
def stopped(tmp_path, clickhouse_url, clickhouse_client):
    """Migration 0002 creates tables a, b and c; a table b made by hand makes its 2nd statement fail."""
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    project.models(HEAD + _table("base"))
    project.ok("make-migrations", "base")
    project.ok("migrate")
    before = live(project)
    project.models(HEAD + _table("base") + _table("a") + _table("b") + _table("c"))
    project.ok("make-migrations", "three tables")
    rollback = project.migration_files()[1].read_text().split("-- rollback\n")[1]
    statements = [(marker, sql) for marker, sql in re.findall(r"(-- dbwarden: undoes \d)\n(?:-- dbwarden: check .*\n)?(.*;)", rollback)]
    assert statements == [("-- dbwarden: undoes 3", "DROP TABLE `c` SYNC;"), ("-- dbwarden: undoes 2", "DROP TABLE `b` SYNC;"),
                          ("-- dbwarden: undoes 1", "DROP TABLE `a` SYNC;")], rollback
    # each drop first counts the rows written since the upgrade created the table
    assert rollback.count('-- dbwarden: check {"sql": "SELECT count(*) FROM `') == 3, rollback
    clickhouse_client.command("CREATE TABLE b (x String) ENGINE = Memory")
    failed = project.cli("migrate")
    assert failed.code == 1 and "0002_three_tables.sql failed at statement 2 of 3" in failed.err, failed.err
    assert "1 statement(s) had run (recorded as partial; the next migrate continues from statement 2)" in failed.err
    assert _history(project) == [(1, "applied", 1), (2, "partial", 1)]
    return project, before


def test_migrate_continues_after_the_cause_is_fixed(stopped, clickhouse_client):
    project, _ = stopped
    again = project.cli("migrate")
    assert again.code == 1 and "failed at statement 2 of 3" in again.err  # not fixed yet: the same statement fails
    clickhouse_client.command("DROP TABLE b SYNC")
    project.ok("migrate")
    assert _history(project) == [(1, "applied", 1), (2, "applied", 3)]
    assert _tables(clickhouse_client) == ["a", "b", "base", "c"]
    assert project.cli("diff", "--check").code == 0
    assert "nothing written" in project.ok("make-migrations", "again").out


@pytest.mark.parametrize("command", [("rollback", "--force"), ("downgrade", "--to", "1", "--force")])
def test_rollback_force_undoes_just_what_ran(stopped, clickhouse_client, command):
    project, before = stopped
    refused = project.cli(*command[:-1])
    assert refused.code == 1 and refused.err.strip() == (
        "dbwarden: error: migrations/primary/0002_three_tables.sql is partial (1 statement(s) ran); run 'dbwarden "
        "migrate' to finish it, or 'dbwarden rollback --force' to undo what ran of it")
    assert "rolled back 1 migration(s)" in project.ok(*command).out
    # only table a, which migration 0002 made, is gone: the b made by hand stays; history holds 0001 alone
    assert _tables(clickhouse_client) == ["b", "base"]
    assert _history(project) == [(1, "applied", 1)]
    assert "pending: 1\n    0002 three tables [INFO]" in project.ok("status").out
    clickhouse_client.command("DROP TABLE b SYNC")
    assert live(project) == before
    project.ok("migrate")  # and the migration now runs whole
    assert _history(project) == [(1, "applied", 1), (2, "applied", 3)]


def test_an_alter_whose_mutation_failed_counts_as_run(tmp_path, clickhouse_url, clickhouse_client):
    """String → UInt64 on a row that holds 'abc': the server changes the column's type, then its mutation fails and
    stays pending, blocking later mutations of the table. The statement is counted as run, so rollback --force
    changes the type back (which also settles the pending mutation)."""
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    project.models(HEAD + _table("t", "\n            s: Mapped[str] = mapped_column(ch.String)"
                                      "\n            old: Mapped[int] = mapped_column(ch.UInt8)"))
    project.ok("make-migrations", "t")
    project.ok("migrate")
    clickhouse_client.command("INSERT INTO t VALUES (1, 'abc', 2)")
    before = live(project)
    project.models(HEAD + _table("t", "\n            a: Mapped[int] = mapped_column(ch.UInt8)"
                                      "\n            s: Mapped[int] = mapped_column(ch.UInt64)"))
    project.ok("make-migrations", "retype")
    upgrade = project.migration_files()[1].read_text().split("-- upgrade\n")[1].split("-- rollback")[0]
    assert upgrade.splitlines() == ["ALTER TABLE `t` ADD COLUMN `a` UInt8;", "ALTER TABLE `t` MODIFY COLUMN `s` UInt64;",
                                    "ALTER TABLE `t` DROP COLUMN `old`;"]
    failed = project.cli("migrate", "--force")
    assert failed.code == 1 and "failed at statement 2 of 3: Exception happened during execution of mutation" in failed.err
    assert "its change took effect all the same, so 2 statement(s) count as run (recorded as partial)" in failed.err
    assert _history(project) == [(1, "applied", 1), (2, "partial", 2)]
    project.ok("rollback", "--force")
    assert live(project) == before
    assert clickhouse_client.query("SELECT s FROM t").result_rows == [("abc",)]
    assert not clickhouse_client.query("SELECT 1 FROM system.mutations WHERE database = currentDatabase() "
                                       "AND NOT is_done").result_rows  # nothing left pending
    assert _history(project) == [(1, "applied", 1)]


MANUAL = """-- dbwarden migration 0001: by hand
-- upgrade
CREATE TABLE m1 (id UInt64) ENGINE = Memory;
CREATE TABLE m2 (id UInt64) ENGINE = Memory;
CREATE TABLE m3 (id UInt64) ENGINE = Memory;
-- rollback
{m3}DROP TABLE m3;
{m2}DROP TABLE m2;
{m1}DROP TABLE m1;
"""


def _manual(project, marks: dict[str, str]) -> None:
    folder = project.root / "migrations" / "primary"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0001_by_hand.sql").write_text(MANUAL.format_map({f"m{k}": f"-- dbwarden: undoes {v}\n" if v else ""
                                                                for k, v in marks.items()}))


def test_what_cannot_be_undone_exactly_is_refused_and_says_why(tmp_path, clickhouse_url, clickhouse_client):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    _manual(project, {"1": "", "2": "", "3": ""})
    clickhouse_client.command("CREATE TABLE m2 (x String) ENGINE = Memory")
    assert project.cli("migrate").code == 1
    where = "dbwarden: error: migrations/primary/0001_by_hand.sql is partial"
    # a rollback section written by hand does not say which statement undoes which
    refused = project.cli("rollback", "--force")
    assert refused.code == 1 and refused.err.startswith(f"{where} (1 statement(s) ran), but its rollback section does "
                                                        "not say which upgrade statements each of its statements undoes")
    # a step of two statements that stopped after the first: its rollback undoes both
    _manual(project, {"1": "1-2", "2": "1-2", "3": "3"})
    refused = project.cli("rollback", "--force")
    assert refused.code == 1 and refused.err.startswith(f"{where}: statements 1-1 of a step that ends at statement 2 "
                                                        "ran, and its rollback undoes the whole step")
    # marked by the user (the rollback section is not part of the checksum): exactly m1 goes
    _manual(project, {"1": "1", "2": "2", "3": "3"})
    project.ok("rollback", "--force")
    assert _tables(clickhouse_client) == ["m2"] and _history(project) == []


def test_a_statement_that_may_have_run_is_never_guessed(tmp_path, clickhouse_url, clickhouse_client):
    """A runner that died while statement 2 ran leaves a ``running`` row: whether to undo statement 2 is unknown."""
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    _manual(project, {"1": "1", "2": "2", "3": "3"})
    clickhouse_client.command("CREATE TABLE m2 (x String) ENGINE = Memory")
    assert project.cli("migrate").code == 1
    clickhouse_client.command("INSERT INTO dbwarden_migrations SELECT version, description, filename, checksum, "
                              "'running', 1, applied_at, duration_ms, target FROM dbwarden_migrations")
    refused = project.cli("rollback", "--force")
    assert refused.code == 1 and "is running (1 statement(s) ran; statement 2 was started and may or may not have " \
        "taken effect): what to undo is not known" in refused.err, refused.err
    assert _tables(clickhouse_client) == ["m1", "m2"]


def test_rollback_statements_are_marked_only_where_they_mirror_the_upgrade():
    from dbwarden_nb.api import rollback_statements
    from dbwarden_nb.backends import get_backend
    from dbwarden_nb.differ import diff
    from dbwarden_nb.schema import Column, Snapshot, Table

    def table(name: str, **options) -> Table:
        return Table(name, None, (Column("id", "UInt64", False),), options={"engine": "MergeTree", "order_by": "id", **options})

    def marks(backend_name: str, old: Snapshot, new: Snapshot) -> list:
        backend = get_backend(backend_name)
        plan = backend.adapt(diff(old, new), old, new)
        return [s.undoes for s in rollback_statements(backend, plan, old, new)]

    empty = Snapshot("clickhouse")
    two = Snapshot.of("clickhouse", [table("a"), table("b")])
    assert marks("clickhouse", empty, two) == [(2, 2), (1, 1)]
    # a changed projection is dropped and added around the change, and its rollback split again: not step for step
    old = Snapshot.of("clickhouse", [table("t", projections={"p": "SELECT id ORDER BY id"})])
    new = Snapshot.of("clickhouse", [table("t", projections={"p": "SELECT id, count() GROUP BY id"})])
    assert marks("clickhouse", old, new) == [None, None]
    # one transaction: nothing can stop half-way
    assert marks("sqlite", Snapshot("sqlite"), Snapshot.of("sqlite", [Table("a", None, (Column("id", "INTEGER"),))])) == [None]
