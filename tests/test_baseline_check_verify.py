"""baseline (adopting an existing database), check (safety analysis) and make-migrations --verify, on SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from projects import ProjectDir

USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
"""


@pytest.fixture
def project(tmp_path: Path, sqlite_url: str) -> ProjectDir:
    return ProjectDir(tmp_path / "proj", sqlite_url)


def sql(project: ProjectDir, *statements: str) -> list[tuple]:
    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    try:
        rows: list[tuple] = []
        for s in statements:
            rows = db.execute(s).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def test_baseline_adopts_an_existing_database(project: ProjectDir) -> None:
    sql(project, 'CREATE TABLE "users" ("id" INTEGER NOT NULL, "email" VARCHAR(200) NOT NULL, PRIMARY KEY ("id"), UNIQUE ("email"))',
        "INSERT INTO users VALUES (1, 'a@x')")
    project.models(USERS + "    name: Mapped[str | None] = mapped_column(sa.Text)\n")
    out = project.ok("baseline").out
    assert "baseline of 1 table(s) recorded as .dbwarden/primary/snapshots/0000.json" in out
    made = project.ok("--json", "make-migrations", "add name").json()
    assert [op["kind"] for op in made["operations"]] == ["add_column"]  # starts from the baseline, not from scratch
    project.ok("migrate")
    assert project.ok("--json", "diff").json()["empty"]
    assert sql(project, "SELECT id, email, name FROM users") == [(1, "a@x", None)]
    status = project.ok("--json", "status").json()
    assert [r["version"] for r in status["applied"]] == [0, 1] and not status["problems"]
    project.ok("rollback")  # reverts 0001 only; the baseline is never rolled back
    assert project.ok("rollback").out.strip().endswith("nothing to rollback")
    again = project.cli("baseline")
    assert again.code == 2 and "already has migrations or a baseline" in again.err


def test_check_lists_the_risks_of_pending_migrations(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "users")
    assert project.ok("check").out.strip().endswith("no risks found")
    project.ok("migrate")
    project.models("")
    project.ok("make-migrations", "drop users")
    project.ok("new", "manual cleanup")
    manual = project.migration_files()[-1]
    manual.write_text(manual.read_text().replace("-- write the upgrade statements here, each ending with ;\n",
                                                 "DELETE FROM users WHERE id > 10;\nCREATE TABLE t (x INTEGER);\n"))
    report = project.cli("--json", "check")
    assert report.code == 2
    found = {m["version"]: m["risks"] for m in report.json()["migrations"]}
    assert found[2] == [{"severity": "CRITICAL", "risk": "drop table users: drops table users and all its rows"},
                        {"severity": "CRITICAL", "risk": "rollback is irreversible: the rows of table users are not restored"}]
    assert found[3] == [{"severity": "WARN", "risk": "deletes rows: DELETE FROM users WHERE id > 10"}]


def test_verify_applies_in_a_scratch_copy_and_writes_only_when_it_converges(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "users", "--verify")
    project.ok("migrate")
    sql(project, "INSERT INTO users VALUES (1, 'a@x')")
    project.models(USERS.replace("String(200)", "String(300)") + "    age: Mapped[int | None]\n")
    project.ok("make-migrations", "wider", "--verify")
    assert len(project.migration_files()) == 2
    assert sql(project, "SELECT * FROM users") == [(1, "a@x")]  # the real database was not touched
    assert project.ok("--json", "status").json()["pending"][0]["version"] == 2


def test_verify_refuses_when_the_database_is_behind(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "users")
    project.models(USERS + "    age: Mapped[int | None]\n")
    result = project.cli("make-migrations", "age", "--verify")
    assert result.code == 2 and "run 'dbwarden migrate' first" in result.err
    assert len(project.migration_files()) == 1
