"""More of the SQLite workflow, through the CLI (ProjectDir) and the Python API (dbwarden_nb.project):
migrate --count/--to-version/--dry-run/--sql/--force, rollback, downgrade, history, status, manual migrations,
--offline, a 50-migration chain, renames and the migration lock."""

from __future__ import annotations

import itertools
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.backends import get_backend
from dbwarden_nb.migrations.files import parse_migration
from dbwarden_nb.migrations.lock import LeaseLock
from dbwarden_nb.schema import Snapshot

USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
"""
AGE = "    age: Mapped[int | None]\n"
NICK = "    nick: Mapped[str | None] = mapped_column(sa.String(50))\n"
TAGS = """
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40))
"""
# four INFO migrations: create users, add age, create tags, add an index on users.age
INFO_STEPS = [
    ("create users", USERS),
    ("add age", USERS + AGE),
    ("create tags", USERS + AGE + TAGS),
    ("index age", USERS + AGE + '    __table_args__ = (sa.Index("ix_users_age", "age"),)\n' + TAGS),
]


# -- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, sqlite_url: str) -> ProjectDir:
    return ProjectDir(tmp_path / "proj", sqlite_url)


def db_path(project: ProjectDir) -> str:
    return project.url.removeprefix("sqlite:///")


def sql(project: ProjectDir, *statements: str) -> list[tuple]:
    db = sqlite3.connect(db_path(project))
    try:
        rows: list[tuple] = []
        for s in statements:
            rows = db.execute(s).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def dump(project: ProjectDir) -> list[str]:
    """The database's logical content (schema and rows), to prove that nothing changed."""
    if not Path(db_path(project)).exists():
        return []
    db = sqlite3.connect(db_path(project))
    try:
        return list(db.iterdump())
    finally:
        db.close()


def api(project: ProjectDir) -> dw.Project:
    return dw.project(project.root / "dbwarden.py")


def live(project: ProjectDir) -> Snapshot:
    return api(project).snapshot()


def stored(project: ProjectDir, version: int) -> Snapshot:
    snap = api(project).database().stored_snapshot(version)
    assert snap is not None, f"no stored snapshot {version:04d}"
    return snap


def status(project: ProjectDir) -> tuple[list[int], list[int]]:
    doc = project.ok("--json", "status").json()
    return [r["version"] for r in doc["applied"]], [p["version"] for p in doc["pending"]]


def write_info_steps(project: ProjectDir) -> None:
    for name, source in INFO_STEPS:
        project.models(source)
        project.ok("make-migrations", name)
    assert len(project.migration_files()) == len(INFO_STEPS)


def parsed_files(project: ProjectDir) -> list:
    return [parse_migration(path.read_text(), path) for path in project.migration_files()]


def one_line_error(result, code: int = 1) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.err.startswith("dbwarden: error: ") and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err + result.out
    return result.err


# -- migrate: --count, --to-version, --dry-run, --sql, --force -------------------------------------------


def test_migrate_count_and_to_version(project: ProjectDir) -> None:
    write_info_steps(project)
    assert status(project) == ([], [1, 2, 3, 4])

    out = project.ok("migrate", "--count", "1").out
    assert "applied 1 migration(s)" in out and "0001 create users" in out
    assert status(project) == ([1], [2, 3, 4])
    assert live(project) == stored(project, 1)

    out = project.ok("migrate", "--to-version", "3").out
    assert "applied 2 migration(s)" in out and "0002 add age" in out and "0003 create tags" in out
    assert status(project) == ([1, 2, 3], [4])
    assert live(project) == stored(project, 3)

    assert "nothing to migrate" in project.ok("migrate", "--to-version", "2").out  # already there
    assert status(project) == ([1, 2, 3], [4])

    one_line_error(project.cli("migrate", "--to-version", "9"), code=2)
    assert one_line_error(project.cli("migrate", "--count", "0"), code=2)

    out = project.ok("migrate", "--count", "10").out  # more than pending: applies what there is
    assert "applied 1 migration(s)" in out and "0004 index age" in out
    assert status(project) == ([1, 2, 3, 4], [])
    assert live(project) == stored(project, 4)


def test_migrate_dry_run_changes_nothing(project: ProjectDir) -> None:
    write_info_steps(project)
    project.ok("migrate", "--count", "1")
    before = dump(project)
    out = project.ok("migrate", "--dry-run").out
    assert "would apply 3 migration(s)" in out
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["0002", "0003", "0004"]
    planned = project.ok("--json", "migrate", "--dry-run", "--count", "2").json()["planned"]
    assert [p["version"] for p in planned] == [2, 3]
    assert dump(project) == before
    assert status(project) == ([1], [2, 3, 4])


def test_migrate_sql_prints_the_full_script_and_changes_nothing(project: ProjectDir) -> None:
    write_info_steps(project)
    project.ok("migrate", "--count", "1")
    before = dump(project)
    script = project.ok("migrate", "--sql").out
    files = {m.version: m for m in parsed_files(project)}
    # one block per pending migration, in order: header comment, BEGIN, its statements, its history row, COMMIT
    heads = [int(m) for m in re.findall(r"^-- migrations/primary/(\d{4})_", script, re.MULTILINE)]
    assert heads == [2, 3, 4]
    assert script.count("BEGIN;") == 3 and script.count("COMMIT;") == 3
    for version in (2, 3, 4):
        f = files[version]
        block = script[script.index(f"-- migrations/primary/{f.filename}"):]
        block = block[: block.index("COMMIT;")]
        for stmt in f.upgrade:
            assert stmt.sql + ";" in block
        assert 'INSERT INTO "dbwarden_migrations"' in block
        assert f"VALUES ({version}, " in block and f.checksum in block
    assert "0001_" not in script  # applied already
    assert dump(project) == before
    assert status(project) == ([1], [2, 3, 4])
    assert project.ok("migrate", "--sql", "--count", "1").out.count('INSERT INTO "dbwarden_migrations"') == 1


def test_drop_column_needs_force(project: ProjectDir) -> None:
    project.models(USERS + NICK)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    sql(project, "INSERT INTO users (id, email, nick) VALUES (1, 'a@x', 'al')")
    project.models(USERS + NICK + AGE)
    project.ok("make-migrations", "add age")  # INFO, pending together with the CRITICAL one below
    project.models(USERS + AGE)
    made = project.ok("make-migrations", "drop nick")
    assert "severity CRITICAL" in made.out
    before = dump(project)

    refused = project.cli("migrate")
    err = one_line_error(refused)
    assert "migrations/primary/0003_drop_nick.sql" in err and "CRITICAL" in err and "--force" in err
    assert dump(project) == before  # the INFO migration before it was not applied either
    assert status(project) == ([1], [2, 3])

    # a dry run and the script need no --force: they change nothing
    assert "0003 drop nick [CRITICAL]" in project.ok("migrate", "--dry-run").out
    assert "DROP COLUMN" in project.ok("migrate", "--sql").out
    assert dump(project) == before

    project.ok("migrate", "--force")
    assert status(project) == ([1, 2, 3], [])
    assert sql(project, "SELECT id, email, age FROM users") == [(1, "a@x", None)]
    assert "nick" not in {c.name for c in live(project).tables["users"].columns}


def test_warn_rebuild_needs_force(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    sql(project, "INSERT INTO users (id, email) VALUES (1, 'a@x')")
    project.models(USERS.replace("String(200)", "String(300)"))
    assert "severity WARN" in project.ok("make-migrations", "widen email").out
    before = dump(project)
    err = one_line_error(project.cli("migrate"))
    assert "0002_widen_email.sql is WARN" in err and "--force" in err
    assert dump(project) == before
    project.ok("migrate", "--force")
    assert live(project) == stored(project, 2)
    assert sql(project, "SELECT id, email FROM users") == [(1, "a@x")]


def test_migrate_sql_script_runs_like_migrate(project: ProjectDir) -> None:
    """Run the reviewed script by hand (the history table exists already): same result as migrate."""
    write_info_steps(project)
    project.ok("migrate", "--count", "1")
    script = project.ok("migrate", "--sql").out
    db = sqlite3.connect(db_path(project), isolation_level=None)
    try:
        db.executescript(script)
    finally:
        db.close()
    assert status(project) == ([1, 2, 3, 4], [])
    assert project.ok("--json", "status").json()["problems"] == []
    assert live(project) == stored(project, 4)
    assert "nothing to migrate" in project.ok("migrate").out


def test_migrate_sql_script_runs_on_a_fresh_database(project: ProjectDir) -> None:
    write_info_steps(project)
    script = project.ok("migrate", "--sql").out
    db = sqlite3.connect(db_path(project), isolation_level=None)
    try:
        db.executescript(script)
    finally:
        db.close()
    assert status(project) == ([1, 2, 3, 4], [])
    assert live(project) == stored(project, 4)


# -- rollback, downgrade, history, status ---------------------------------------------------------------


def test_rollback_default_one_and_count(project: ProjectDir) -> None:
    empty = live(project)
    write_info_steps(project)
    project.ok("migrate")
    out = project.ok("rollback").out
    assert "rolled back 1 migration(s)" in out and "0004 index age" in out
    assert status(project) == ([1, 2, 3], [4])
    assert live(project) == stored(project, 3)

    out = project.ok("rollback", "--count", "2").out
    assert "rolled back 2 migration(s)" in out
    assert out.index("0003 create tags") < out.index("0002 add age")  # newest first
    assert status(project) == ([1], [2, 3, 4])
    assert live(project) == stored(project, 1)

    assert "0001 create users" in project.ok("rollback", "--dry-run").out
    assert status(project) == ([1], [2, 3, 4])  # dry run reverted nothing
    project.ok("rollback", "--count", "5")  # more than applied: reverts what there is
    assert status(project) == ([], [1, 2, 3, 4])
    assert live(project) == empty
    assert "nothing to rollback" in project.ok("rollback").out


def test_rollback_of_a_dropped_not_null_column_is_marked_or_works(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    sql(project, "INSERT INTO users (id, email) VALUES (1, 'a@x')")
    project.models(USERS.replace("    email: Mapped[str] = mapped_column(sa.String(200))\n", ""))
    project.ok("make-migrations", "drop email")
    project.ok("migrate", "--force")
    mfile = parse_migration(project.migration_files()[-1].read_text())
    # SPEC: "A rollback that cannot restore what the upgrade destroyed says so with -- dbwarden: irreversible"
    result = project.cli("rollback")
    if mfile.irreversible:
        assert result.code == 1 and "--force" in result.err
    else:
        assert result.code == 0, result.err
        assert live(project) == stored(project, 1)


def test_downgrade_to_keeps_that_version(project: ProjectDir) -> None:
    write_info_steps(project)
    project.ok("migrate")
    out = project.ok("downgrade", "--to", "2").out
    assert "rolled back 2 migration(s)" in out
    assert status(project) == ([1, 2], [3, 4])
    assert live(project) == stored(project, 2)

    before = dump(project)
    err = one_line_error(project.cli("downgrade", "--to", "3"), code=2)  # 3 is not applied
    assert "0003" in err
    assert dump(project) == before

    project.ok("downgrade", "--to", "0")
    assert status(project) == ([], [1, 2, 3, 4])
    assert live(project).tables == {}
    tables = {name for (name,) in sql(project, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables <= {"dbwarden_migrations", "dbwarden_lock", "dbwarden_log"} and "dbwarden_migrations" in tables


def test_history_and_status_show_applied_and_pending(project: ProjectDir) -> None:
    write_info_steps(project)
    assert "no migrations applied" in project.ok("history").out
    text = project.ok("status").out
    assert "applied: 0" in text and "pending: 4" in text and "0004 index age [INFO]" in text

    project.ok("migrate", "--count", "3")
    rows = project.ok("--json", "history").json()["history"]
    files = {m.version: m for m in parsed_files(project)}
    assert [r["version"] for r in rows] == [1, 2, 3]
    for r in rows:
        f = files[r["version"]]
        assert (r["filename"], r["checksum"], r["status"]) == (f.filename, f.checksum, "applied")
        assert r["description"] == f.description
        assert r["statements_completed"] == len(f.upgrade)
        assert r["target"] == f.target
    text = project.ok("history").out
    assert text.splitlines()[0] == "primary: 3 migration(s)"
    for r in rows:
        assert f"{r['version']:04d} applied" in text and r["checksum"][:19] in text

    text = project.ok("status").out
    assert "applied: 3, latest 0003 create tags" in text and "pending: 1" in text and "0004 index age [INFO]" in text
    project.ok("rollback")
    assert [r["version"] for r in project.ok("--json", "history").json()["history"]] == [1, 2]


# -- manual migrations ----------------------------------------------------------------------------------

NOTES = """
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str | None] = mapped_column(sa.Text)
"""


def fill_manual(path: Path, upgrade: str, rollback: str) -> None:
    text = path.read_text()
    assert "-- write the upgrade statements here, each ending with ;\n" in text
    text = text.replace("-- write the upgrade statements here, each ending with ;\n", upgrade)
    path.write_text(text.replace("-- rollback\n", "-- rollback\n" + rollback))


def test_manual_migration_becomes_the_base_of_the_next_one(project: ProjectDir) -> None:
    project.models(USERS)
    proj = api(project)
    proj.make_migrations("initial")
    proj.migrate()
    out = project.ok("new", "add notes").out
    assert "wrote migrations/primary/0002_add_notes.sql" in out
    path = project.migration_files()[-1]
    assert path.name == "0002_add_notes.sql" and parse_migration(path.read_text(), path).is_manual
    assert proj.database().stored_snapshot(2) is None  # no target until applied

    # before it is applied, make-migrations refuses to start from an unknown schema
    err = one_line_error(project.cli("make-migrations", "next"), code=2)
    assert "0002_add_notes.sql" in err and "migrate" in err
    assert len(project.migration_files()) == 2

    fill_manual(path, "CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body TEXT);\n", "DROP TABLE notes;\n")
    run = proj.migrate()
    assert [a.version for a in run.result.applied] == [2] and not run.drift
    snap = proj.database().stored_snapshot(2)
    assert snap is not None and snap == proj.snapshot() and "notes" in snap.tables

    # models that match what the manual migration did: nothing to do, so the base was its snapshot
    project.models(USERS + NOTES)
    assert "nothing written" in project.ok("make-migrations", "after manual").out
    assert "nothing written" in project.ok("make-migrations", "--offline", "after manual").out
    assert project.cli("diff", "--check").code == 0
    # without the notes model the next migration drops it: it starts from 0002, not from 0001
    project.models(USERS)
    report = proj.make_migrations("drop notes", dry_run=True)
    assert [op.kind for op in report.plan] == ["drop_table"] and report.file.base == snap.checksum


def test_manual_migration_edited_after_rollback_gets_a_new_snapshot(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    project.ok("new", "notes")
    path = project.migration_files()[-1]
    pristine = path.read_text()
    fill_manual(path, "CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body TEXT);\n", "DROP TABLE notes;\n")
    project.ok("migrate")
    project.ok("rollback", "--force")  # its rollback drops a table: --force; no longer applied, editing it is allowed
    path.write_text(pristine)
    fill_manual(path, "CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body TEXT, extra TEXT);\n",
                "DROP TABLE notes;\n")
    project.ok("migrate")
    project.models(USERS + NOTES + "    extra: Mapped[str | None] = mapped_column(sa.Text)\n")
    assert project.cli("diff", "--check").code == 0
    # "Right after migrate, diff and make-migrations always agree: both empty"
    assert "nothing written" in project.ok("make-migrations", "after").out


# -- --offline ------------------------------------------------------------------------------------------


def test_offline_needs_no_database(tmp_path: Path) -> None:
    project = ProjectDir(tmp_path / "proj", "sqlite:////nonexistent-dir-for-dbwarden/app.db")
    project.models(USERS)
    one_line_error(project.cli("make-migrations", "initial"))  # online: the database is unreachable
    assert project.migration_files() == []
    assert "difference" in project.ok("diff", "--offline").out  # models vs an empty schema
    assert "wrote migrations/primary/0001_initial.sql" in project.ok("make-migrations", "--offline", "initial").out
    project.models(USERS + AGE)
    assert "add column users.age" in project.ok("diff", "--offline").out
    project.ok("make-migrations", "--offline", "add age")
    assert project.ok("diff", "--offline").out.startswith("primary: no differences")
    assert "nothing written" in project.ok("make-migrations", "--offline", "again").out
    files = parsed_files(project)
    assert [f.version for f in files] == [1, 2] and files[1].base == files[0].target
    assert not Path("/nonexistent-dir-for-dbwarden").exists()


def test_offline_starts_from_the_stored_snapshot_not_the_live_database(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    # not migrated: the live database is empty, the stored snapshot has users
    project.models(USERS + AGE)
    offline = project.ok("--json", "diff", "--offline").json()
    assert [op["kind"] for op in offline["operations"]] == ["add_column"]
    online = project.ok("--json", "diff").json()
    assert [op["kind"] for op in online["operations"]] == ["create_table"]
    made = project.ok("--json", "make-migrations", "--offline", "add age").json()
    assert made["written"] == "migrations/primary/0002_add_age.sql"
    assert made["upgrade"] == ['ALTER TABLE "users" ADD COLUMN "age" INTEGER']
    project.ok("migrate")
    assert live(project) == stored(project, 2)
    assert project.cli("diff", "--check").code == 0


# -- a long chain -----------------------------------------------------------------------------------------

CHAIN_KINDS = ("add table", "add column", "add index", "alter column", "drop index", "add column", "drop column",
               "drop table")


def chain_sources(n: int) -> Iterator[tuple[str, str]]:
    """n successive model sources, each one change away from the previous one."""
    tables: dict[str, dict] = {}
    made = 0
    for step in range(1, n + 1):
        kind = CHAIN_KINDS[(step - 1) % len(CHAIN_KINDS)]
        if kind == "drop table" and len(tables) < 2:
            kind = "add table"
        if kind == "add table" or not tables:
            kind = "add table"
            tables[f"t{made:02d}"] = {"cols": {"c0": 20}, "indexes": [], "next": 1}
            made += 1
        elif kind == "drop table":
            del tables[min(tables)]
        else:
            t = tables[max(tables)]
            if kind == "add column":
                t["cols"][f"c{t['next']}"] = 10
                t["next"] += 1
            elif kind == "add index":
                t["indexes"].append(max(t["cols"]))
            elif kind == "drop index":
                assert t["indexes"], "the chain adds an index before it drops one"
                t["indexes"].pop()
            elif kind == "alter column":
                t["cols"]["c0"] += 5
            elif kind == "drop column":
                victim = next((c for c in sorted(t["cols"], reverse=True) if c != "c0" and c not in t["indexes"]), None)
                if victim is None:
                    t["cols"][f"c{t['next']}"] = 10
                    t["next"] += 1
                else:
                    del t["cols"][victim]
        # a comment of varying length: each rewrite changes the file's size, so the loader always re-imports it
        lines = [f"# step {step} {'#' * step}"]
        for name, t in tables.items():
            lines.append(f"class {name.upper()}(Base):\n    __tablename__ = {name!r}\n"
                         "    id: Mapped[int] = mapped_column(primary_key=True)")
            lines += [f"    {c}: Mapped[str | None] = mapped_column(sa.String({size}))" for c, size in t["cols"].items()]
            if t["indexes"]:
                indexes = "".join(f"sa.Index('ix_{name}_{c}', {c!r}), " for c in t["indexes"])
                lines.append(f"    __table_args__ = ({indexes})")
        yield kind, "\n".join(lines) + "\n"


def test_fifty_migration_chain_applies_reverts_and_reapplies(project: ProjectDir) -> None:
    started = time.monotonic()
    proj = api(project)
    kinds = []
    for step, (kind, source) in enumerate(chain_sources(50), start=1):
        project.models(source)
        report = proj.make_migrations(f"step {step} {kind}")
        assert report.file is not None and report.file.version == step, (step, kind, report.to_text())
        kinds.append({op.kind for op in report.plan})
    assert len(project.migration_files()) == 50
    seen = set().union(*kinds)
    assert {"create_table", "add_column", "create_index", "drop_index", "drop_table"} <= seen, seen
    assert seen & {"alter_column", "rebuild_table"} and seen & {"drop_column", "rebuild_table"}, seen
    final = stored(project, 50)
    # each file starts where the previous one ended
    files = parsed_files(project)
    assert all(b.base == a.target for a, b in itertools.pairwise(files))

    out = project.ok("migrate", "--force").out
    assert "applied 50 migration(s)" in out and "warning" not in out
    first = live(project)
    assert first == final and first.checksum == final.checksum
    assert project.cli("diff", "--check").code == 0
    assert "nothing written" in project.ok("make-migrations", "nothing").out

    project.ok("downgrade", "--to", "0", "--force")
    assert live(project).tables == {}
    tables = {name for (name,) in sql(project, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables <= {"dbwarden_migrations", "dbwarden_lock", "dbwarden_log"} and "dbwarden_migrations" in tables
    assert sql(project, "SELECT count(*) FROM dbwarden_migrations") == [(0,)]
    assert status(project) == ([], list(range(1, 51)))

    project.ok("migrate", "--force")
    again = live(project)
    assert again == first and again.checksum == first.checksum == final.checksum
    assert again.to_json() == first.to_json()

    project.ok("downgrade", "--to", "25", "--force")
    assert live(project) == stored(project, 25)
    project.ok("migrate", "--force")
    assert live(project) == final
    assert time.monotonic() - started < 20


# -- renames -------------------------------------------------------------------------------------------------


def test_rename_table_keeps_the_rows(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    sql(project, "INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x')")
    project.models(USERS.replace('"users"', '"members"'))
    made = project.ok("make-migrations", "rename users", "--rename-table", "users:members")
    assert "rename table users to members" in made.out
    mfile = parse_migration(project.migration_files()[-1].read_text())
    assert [s.sql for s in mfile.upgrade] == ['ALTER TABLE "users" RENAME TO "members"']
    assert [s.sql for s in mfile.rollback] == ['ALTER TABLE "members" RENAME TO "users"']
    project.ok("migrate", "--force")
    assert sql(project, "SELECT id, email FROM members ORDER BY id") == [(1, "a@x"), (2, "b@x")]
    assert project.cli("diff", "--check").code == 0
    assert project.cli("rollback").code == 1  # a rename back is WARN as the rename was: code using the name breaks
    project.ok("rollback", "--force")
    assert sql(project, "SELECT id, email FROM users ORDER BY id") == [(1, "a@x"), (2, "b@x")]


def test_rename_column_keeps_the_rows(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    sql(project, "INSERT INTO users (id, email) VALUES (1, 'a@x')")
    project.models(USERS.replace("email:", "mail:"))
    project.ok("make-migrations", "rename email", "--rename", "users.email:mail")
    mfile = parse_migration(project.migration_files()[-1].read_text())
    assert [s.sql for s in mfile.upgrade] == ['ALTER TABLE "users" RENAME COLUMN "email" TO "mail"']
    project.ok("migrate", "--force")
    assert sql(project, "SELECT id, mail FROM users") == [(1, "a@x")]
    assert live(project) == stored(project, 2)


def test_rename_table_and_column_together(project: ProjectDir) -> None:
    project.models(USERS.replace("sa.String(200))", "sa.String(200), index=True)"))
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    sql(project, "INSERT INTO users (id, email) VALUES (7, 'g@x')")
    project.models(USERS.replace('"users"', '"members"').replace("email:", "mail:")
                   .replace("sa.String(200))", "sa.String(200), index=True)"))
    project.ok("make-migrations", "both", "--rename-table", "users:members", "--rename", "users.email:mail")
    upgrade = [s.sql for s in parse_migration(project.migration_files()[-1].read_text()).upgrade]
    assert upgrade[0] == 'ALTER TABLE "users" RENAME TO "members"'
    assert not any(s.startswith(("DROP TABLE", "CREATE TABLE")) for s in upgrade), upgrade
    project.ok("migrate", "--force")
    assert sql(project, "SELECT id, mail FROM members") == [(7, "g@x")]
    assert project.cli("diff", "--check").code == 0


def test_rename_without_flag_is_only_suggested(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    project.models(USERS.replace('"users"', '"members"'))
    hint = ("table users is dropped and members created with the same columns: "
            "if it is a rename, pass --rename-table users:members")
    diff = project.ok("diff").out
    assert f"  ?  {hint}" in diff.splitlines()
    assert hint in project.ok("--json", "diff").json()["suggestions"]
    made = project.ok("make-migrations", "members")
    assert f"  ?  {hint}" in made.out.splitlines()
    upgrade = [s.sql for s in parse_migration(project.migration_files()[-1].read_text()).upgrade]
    assert upgrade[0] == 'DROP TABLE "users"' and upgrade[1].startswith('CREATE TABLE "members"')
    assert not any("RENAME" in s for s in upgrade)

    # the same for a column
    (project.root / ".dbwarden/primary/snapshots/0002.json").unlink()
    project.migration_files()[-1].unlink()
    project.models(USERS.replace("email:", "mail:"))
    col_hint = ("column users.email is dropped and mail added with the same definition: "
                "if it is a rename, pass --rename users.email:mail")
    assert f"  ?  {col_hint}" in project.ok("diff").out.splitlines()
    made = project.ok("make-migrations", "mail")
    assert f"  ?  {col_hint}" in made.out.splitlines()
    assert not any("RENAME COLUMN" in s.sql for s in parse_migration(project.migration_files()[-1].read_text()).upgrade)


def test_rename_suggestion_shown_by_make_migrations_dry_run(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.models(USERS.replace('"users"', '"members"'))
    out = project.ok("make-migrations", "members", "--dry-run").out
    assert "--rename-table users:members" in out


# -- the lock ------------------------------------------------------------------------------------------------

OTHER = "other-host:4242:deadbeef"


@pytest.fixture
def other_lock(project: ProjectDir) -> Iterator[LeaseLock]:
    """A live lease held by another owner on a separate connection."""
    conn = get_backend("sqlite").connect(project.url)
    lock = LeaseLock(conn, owner=OTHER)
    lock.acquire(1)
    try:
        yield lock
    finally:
        conn.close()


def prepared(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")


def test_lock_status_free_then_held(project: ProjectDir) -> None:
    prepared(project)
    assert project.ok("lock-status").out.strip() == "primary: migration lock: free"
    assert project.ok("--json", "lock-status").json()["held"] is False
    conn = get_backend("sqlite").connect(project.url)
    try:
        LeaseLock(conn, owner=OTHER).acquire(1)
        assert project.ok("lock-status").out.strip() == f"primary: migration lock: held by {OTHER}"
        doc = project.ok("--json", "lock-status").json()
        assert (doc["held"], doc["owner"], doc["stale"]) == (True, OTHER, False)
    finally:
        conn.close()


def test_live_lease_makes_migrate_wait_then_fail(project: ProjectDir, other_lock: LeaseLock) -> None:
    prepared(project)
    before = dump(project)
    started = time.monotonic()
    failed = project.cli("migrate", "--lock-timeout", "0.5")
    waited = time.monotonic() - started
    err = one_line_error(failed)
    assert f"migration lock is held by {OTHER}" in err and "waited 0.5s" in err
    assert 0.5 <= waited < 5
    assert dump(project) == before
    assert f"held by {OTHER}" in project.ok("lock-status").out  # still the other owner's
    # rollback and downgrade wait for the lock too
    assert OTHER in one_line_error(project.cli("rollback", "--lock-timeout", "0.2"))
    assert OTHER in one_line_error(project.cli("downgrade", "--to", "0", "--lock-timeout", "0.2"))
    # read-only commands do not take the lock
    assert "pending: 1" in project.ok("status").out
    assert "would apply 1 migration(s)" in project.ok("migrate", "--dry-run").out
    assert 'CREATE TABLE "users"' in project.ok("migrate", "--sql").out
    assert dump(project) == before


def test_live_lease_timeout_from_python_and_environment(project: ProjectDir, other_lock: LeaseLock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from dbwarden_nb.errors import LockError

    prepared(project)
    started = time.monotonic()
    with pytest.raises(LockError, match=re.escape(OTHER)):
        api(project).migrate(lock_timeout=0.3)
    assert time.monotonic() - started < 5
    monkeypatch.setenv("DBWARDEN_LOCK_TIMEOUT", "0.3")
    started = time.monotonic()
    err = one_line_error(project.cli("migrate"))
    assert OTHER in err and "waited 0.3s" in err and time.monotonic() - started < 5
    assert status(project) == ([], [1])


def test_stale_lease_is_taken_over(project: ProjectDir, other_lock: LeaseLock) -> None:
    prepared(project)
    sql(project, f"UPDATE dbwarden_lock SET expires_at = {time.time() - 30}")
    assert "(stale: the holder stopped renewing it)" in project.ok("lock-status").out
    assert project.ok("--json", "lock-status").json()["stale"] is True
    out = project.ok("migrate", "--lock-timeout", "2").out
    assert "applied 1 migration(s)" in out
    assert status(project) == ([1], [])
    assert project.ok("lock-status").out.strip() == "primary: migration lock: free"  # released after the run
    assert other_lock.status().held is False


def test_unlock_releases_a_held_lock(project: ProjectDir, other_lock: LeaseLock) -> None:
    prepared(project)
    out = project.ok("unlock").out
    assert out.strip() == f"primary: released the migration lock held by {OTHER}"
    assert project.ok("lock-status").out.strip() == "primary: migration lock: free"
    assert "applied 1 migration(s)" in project.ok("migrate", "--lock-timeout", "0.5").out
    assert project.ok("unlock").out.strip() == "primary: the migration lock was not held"
