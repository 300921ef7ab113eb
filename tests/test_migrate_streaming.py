"""migrate streams a file's statements (issue 18, point 9), sends a transaction's statements in batches (issue 22),
and on a PostgreSQL with default lock settings commits a migration larger than the lock table in several
transactions, progress recorded between them so that a failure continues exactly where it stopped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from dbwarden_nb.migrations.files import Section, read_migrations
from tests.projects import ProjectDir


def write(project: ProjectDir, upgrade: list[str], rollback: list[str], backend: str) -> Path:
    folder = project.root / "migrations" / "primary"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "0001_many.sql"
    path.write_text(f"-- dbwarden migration 0001: many\n-- backend: {backend}\n-- severity: INFO\n-- upgrade\n"
                    + "".join(s + ";\n" for s in upgrade) + "-- rollback\n" + "".join(s + ";\n" for s in rollback),
                    encoding="utf-8")
    return path


def test_a_section_is_streamed_and_a_failure_names_its_statement(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    project = ProjectDir(tmp_path, f"sqlite:///{db}")
    rows = [f"INSERT INTO items VALUES ({i}, 'it''s {i}; -- no comment', 'x')" for i in range(1, 1001)]
    path = write(project, ["CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, e TEXT)"] + rows
                 + ["INSERT INTO items VALUES (1, 'again', 'x')"], ["DROP TABLE items"], "sqlite")
    (f,) = read_migrations(path.parent)
    upgrade = f.section("upgrade")
    assert isinstance(upgrade, Section) and len(upgrade) == 1002 and "upgrade" not in f.__dict__  # never a tuple
    assert upgrade[5].sql == rows[4] and upgrade.line(5) == 10 and list(upgrade)[-1].sql.startswith("INSERT INTO items VALUES (1,")

    failed = project.cli("migrate")
    assert failed.code == 1 and "0001_many.sql failed at statement 1002 of 1002: UNIQUE constraint failed" in failed.err
    assert "nothing of it was applied" in failed.err, failed.err
    assert not sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE name = 'items'").fetchall()

    # unterminated input is found by the split, before anything runs
    write(project, ["CREATE TABLE items (id INTEGER PRIMARY KEY)", "INSERT INTO items VALUES (1)",
                    "CREATE TRIGGER t AFTER INSERT ON items BEGIN SELECT 1"], ["DROP TABLE items"], "sqlite")
    refused = project.cli("migrate")
    assert refused.code == 1 and "0001_many.sql:7: unterminated BEGIN ... END block" in refused.err, refused.err
    assert not project.ok("--json", "history").json()["history"]

    write(project, ["CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, e TEXT)"] + rows, ["DROP TABLE items"],
          "sqlite")
    assert "0001 many (1001 statement(s))" in project.ok("migrate").out
    assert sqlite3.connect(db).execute("SELECT count(*), max(name) FROM items").fetchone() == (1000, "it's 9; -- no comment")


def tables(n: int, fail_at: int | None = None) -> list[str]:
    out = []
    for i in range(n):
        out.append(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY)")
        if i == fail_at:
            out.append("INSERT INTO no_such_table VALUES (1)")
    return out


def count_tables(url: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't%'"))
        return int(found.scalar() or 0)


def test_a_migration_larger_than_the_lock_table_commits_in_parts_and_resumes(tmp_path: Path, pg_url: str) -> None:
    """3,000 tables (each with its primary key's index: ~9,000 locks) on a default PostgreSQL 15, whose lock table
    holds 64 × 100 = 6,400: one transaction would fail with 'out of shared memory'."""
    project = ProjectDir(tmp_path, pg_url, "postgresql")
    drops = [f"DROP TABLE t{i}" for i in reversed(range(3000))]
    write(project, tables(3000, fail_at=2500), drops, "postgresql")
    failed = project.cli("migrate")
    assert failed.code == 1 and "0001_many.sql failed at statement 2502 of 3001" in failed.err, failed.err
    assert "no_such_table" in failed.err and "recorded as partial; the next migrate continues from statement" in failed.err
    (row,) = project.ok("--json", "history").json()["history"]
    ran = row["statements_completed"]
    assert row["status"] == "partial" and 0 < ran < 2501 and count_tables(pg_url) == ran  # committed parts only

    write(project, tables(3000), drops, "postgresql")  # the statement fixed: its file no longer has it
    project.ok("repair", "0001")
    applied = project.ok("migrate").out
    assert "0001 many (" in applied and "committed in" in applied and "transactions" in applied, applied
    assert count_tables(pg_url) == 3000
    assert project.ok("--json", "history").json()["history"][0]["status"] == "applied"

    rolled = project.ok("rollback", "--force").out
    assert "rolled back 1 migration(s)" in rolled and count_tables(pg_url) == 0
    assert not project.ok("--json", "history").json()["history"]


def test_the_splitter_reads_strings_the_same_way_past_a_statements_first_words() -> None:
    """Once a statement cannot open a BEGIN ... END block it is read from string to string; E'...' strings, words
    with '$', dollar quotes, comments and a byte-order mark read as they do token by token."""
    from dbwarden_nb.migrations.files import split_statements

    def sqls(text: str) -> list[str]:
        return [s.sql for s in split_statements(text)]

    assert sqls("INSERT INTO t VALUES (E'a\\';b', 'c'';d');SELECT 1") == ["INSERT INTO t VALUES (E'a\\';b', 'c'';d')",
                                                                          "SELECT 1"]
    assert sqls("SELECT xE'\\';SELECT 'q'") == ["SELECT xE'\\'", "SELECT 'q'"]  # xE is a word: no escape string
    assert sqls("SELECT a$b$c, $q$;$q$ /* ; */ -- ;\n, E'\\'' ; x") == ["SELECT a$b$c, $q$;$q$ /* ; */ -- ;\n, E'\\''",
                                                                          "x"]
    assert sqls("SELECT 1 \ufeff ;\ufeffSELECT 2") == ["SELECT 1", "SELECT 2"]
    assert sqls("E'\\'';") == ["E'\\''"]  # E alone as a statement's first word still opens an escape string
