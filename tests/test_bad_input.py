"""Bad input on SQLite: each mistake is exit 1 (2 for usage), exactly one line on stderr naming the thing at
fault, no traceback, and nothing changed on disk or in the database."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from projects import ProjectDir, Result

from dbwarden_nb.cli import main
from dbwarden_nb.migrations.files import parse_migration

USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
"""
AGE = "    age: Mapped[int | None]\n"
SHA = r"sha256:[0-9a-f]{64}"


# -- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, sqlite_url: str) -> ProjectDir:
    return ProjectDir(tmp_path / "proj", sqlite_url)


@pytest.fixture
def applied(project: ProjectDir) -> ProjectDir:
    """Two applied migrations (0001_initial, 0002_x) and a row of data."""
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.models(USERS + AGE)
    project.ok("make-migrations", "x")
    project.ok("migrate")
    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    db.execute("INSERT INTO users (id, email, age) VALUES (1, 'a@x', 30)")
    db.commit()
    db.close()
    return project


def files_of(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, caches excepted (bytecode, and .dbwarden/<db>/cache/: what is
    derived from the files, rebuilt on demand and never committed)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
            and not (".dbwarden" in p.parts and "cache" in p.relative_to(root).parts[2:3])}


def dump(url: str) -> list[str]:
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        return []
    if not path.read_bytes().startswith(b"SQLite format 3\x00") and path.stat().st_size:
        return [path.read_bytes().decode("latin-1")]  # not a database: its bytes
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


class Unchanged:
    """Captures the project folder and the database; ``check()`` asserts neither changed."""

    def __init__(self, project: ProjectDir):
        self.project = project
        self.files = files_of(project.root)
        self.db = dump(project.url)

    def check(self) -> None:
        assert files_of(self.project.root) == self.files, "the project folder changed"
        assert dump(self.project.url) == self.db, "the database changed"


def one_line(result: Result, code: int = 1) -> str:
    """The single stderr line of a failed command, without its 'dbwarden: error: ' prefix."""
    assert result.code == code, (result.code, result.out, result.err)
    assert result.err.startswith("dbwarden: error: "), result.err
    assert result.err.endswith("\n") and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err and "Traceback" not in result.out
    assert result.out == ""
    return result.err.removeprefix("dbwarden: error: ").rstrip("\n")


def run_in(folder: Path, *args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(cwd)
    return Result(code, out.getvalue(), err.getvalue())


def migrations_dir(project: ProjectDir) -> Path:
    return project.root / "migrations" / "primary"


# -- migration files --------------------------------------------------------------------------------------


def test_bad_header(applied: ProjectDir) -> None:
    bad = migrations_dir(applied) / "0003_bad.sql"
    bad.write_text("-- dbwarden migratoin 0003: bad\n-- upgrade\nCREATE TABLE t (id INTEGER);\n"
                   "-- rollback\nDROP TABLE t;\n")
    before = Unchanged(applied)
    for args in (["migrate"], ["status"], ["make-migrations", "next"], ["rollback"]):
        msg = one_line(applied.cli(*args))
        assert "migrations/primary/0003_bad.sql:1:" in msg and "first line must be" in msg, (args, msg)
    before.check()


def test_unterminated_string(applied: ProjectDir) -> None:
    bad = migrations_dir(applied) / "0003_bad.sql"
    bad.write_text("-- dbwarden migration 0003: bad\n-- upgrade\nINSERT INTO users (id, email) VALUES (2, 'oops);\n"
                   "-- rollback\nDELETE FROM users WHERE id = 2;\n")
    before = Unchanged(applied)
    for args in (["migrate"], ["status"], ["migrate", "--sql"]):
        msg = one_line(applied.cli(*args))
        assert "migrations/primary/0003_bad.sql:3:" in msg and "unterminated string literal" in msg, (args, msg)
    before.check()


def test_two_files_with_the_same_number(applied: ProjectDir) -> None:
    original = migrations_dir(applied) / "0002_x.sql"
    (migrations_dir(applied) / "0002_other.sql").write_text(original.read_text().replace("0002: x", "0002: other"))
    before = Unchanged(applied)
    for args in (["migrate"], ["status"], ["make-migrations", "next"], ["new", "manual"]):
        msg = one_line(applied.cli(*args))
        assert "two migration files with number 0002" in msg, (args, msg)
        assert "0002_other.sql" in msg and "0002_x.sql" in msg and "'dbwarden rebase'" in msg
    before.check()


def test_edited_applied_file(applied: ProjectDir) -> None:
    path = migrations_dir(applied) / "0002_x.sql"
    path.write_text(path.read_text().replace('ADD COLUMN "age" INTEGER', 'ADD COLUMN "age" BIGINT'))
    was = json.loads(applied.ok("--json", "history").out)["history"][1]["checksum"]
    now = parse_migration(path.read_text(), path).checksum
    assert was != now
    expected = (f"checksum mismatch: migrations/primary/0002_x.sql was applied as {was} and now reads {now} (an "
                "applied migration must not change: restore the file as it was applied, e.g. with git, and put the "
                "change in a new migration)")
    before = Unchanged(applied)
    for args in (["migrate"], ["rollback"], ["downgrade", "--to", "0"]):
        msg = one_line(applied.cli(*args))
        assert msg == expected, (args, msg)
        assert re.fullmatch(rf"checksum mismatch: \S+ was applied as {SHA} and now reads {SHA} \(.*\)", msg)
    status = applied.cli("status")  # status reports it too, and fails
    assert status.code == 1 and expected in status.out + status.err
    assert "free" in applied.ok("lock-status").out  # the failed runs released the lock
    before.check()


def test_edited_applied_file_status_error_on_stderr(applied: ProjectDir) -> None:
    path = migrations_dir(applied) / "0002_x.sql"
    path.write_text(path.read_text().replace('ADD COLUMN "age" INTEGER', 'ADD COLUMN "age" BIGINT'))
    result = applied.cli("status")
    assert result.code == 1
    assert result.err.startswith("dbwarden: error: checksum mismatch: migrations/primary/0002_x.sql was applied as ")
    assert result.err.count("\n") == 1


def test_deleted_applied_file(applied: ProjectDir) -> None:
    path = migrations_dir(applied) / "0002_x.sql"
    was = json.loads(applied.ok("--json", "history").out)["history"][1]["checksum"]
    path.unlink()
    before = Unchanged(applied)
    for args in (["migrate"], ["rollback"]):
        msg = one_line(applied.cli(*args))
        assert msg == f"deleted migration: migrations/primary/0002_x.sql was applied as {was} and is missing from disk"
    status = applied.cli("status")
    assert status.code == 1 and "deleted migration: migrations/primary/0002_x.sql" in status.out + status.err
    before.check()


# -- configuration -------------------------------------------------------------------------------------------


def test_unknown_database_type(tmp_path: Path, sqlite_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url, database_type="sqlitex")
    project.models(USERS)
    before = Unchanged(project)
    for args in (["status"], ["migrate"], ["make-migrations", "initial"], ["config"]):
        msg = one_line(project.cli(*args))
        assert "dbwarden.py:" in msg and "database 'primary'" in msg and "database_type 'sqlitex'" in msg, (args, msg)
    before.check()
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_missing_dbwarden_py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBWARDEN_CONFIG", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["status"], ["migrate"], ["make-migrations", "initial"]):
        msg = one_line(run_in(empty, *args))
        assert msg.startswith(f"no dbwarden.py found in {empty.resolve()}"), msg
    msg = one_line(run_in(empty, "--config", str(empty / "dbwarden.py"), "status"))
    assert str(empty / "dbwarden.py") in msg and "does not exist" in msg
    assert list(empty.iterdir()) == []


def test_unset_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBW_TEST_UNSET_URL", raising=False)
    project = ProjectDir(tmp_path / "proj", "${DBW_TEST_UNSET_URL}")
    project.models(USERS)
    before = Unchanged(project)
    for args in (["status"], ["migrate"], ["make-migrations", "initial"], ["diff"], ["lock-status"]):
        msg = one_line(project.cli(*args))
        assert msg == "database 'primary': database_url references ${DBW_TEST_UNSET_URL}, which is not set", (args, msg)
    before.check()


def test_model_module_with_a_syntax_error(applied: ProjectDir) -> None:
    applied.models(USERS + AGE + "\ndef broken(:\n    pass\n")
    source = (applied.root / f"{applied.module}.py").read_text().splitlines()
    line = next(n for n, text in enumerate(source, start=1) if text.startswith("def broken("))
    before = Unchanged(applied)
    for args in (["make-migrations", "next"], ["diff"], ["make-migrations", "--offline", "next"]):
        msg = one_line(applied.cli(*args))
        assert f"{applied.module}.py:{line}" in msg and "SyntaxError" in msg and "database 'primary'" in msg, (args, msg)
    before.check()


def test_dev_without_dev_database_url(applied: ProjectDir) -> None:
    before = Unchanged(applied)
    for args in (["--dev", "migrate"], ["--dev", "status"], ["--dev", "make-migrations", "next"], ["--dev", "rollback"]):
        result = applied.cli(*args)
        msg = one_line(result)
        assert msg == "--dev mode is enabled, but database 'primary' has no dev_database_url configured", (args, msg)
    before.check()


NOT_A_DATABASE = b"this is a text file, not an SQLite database\n" * 64


def test_sqlite_url_to_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(NOT_A_DATABASE)
    project = ProjectDir(tmp_path / "proj", f"sqlite:///{junk}")
    project.models(USERS)
    before = Unchanged(project)
    for args in (["status"], ["migrate"], ["make-migrations", "initial"], ["diff"], ["lock-status"], ["snapshot"]):
        msg = one_line(project.cli(*args))
        assert str(junk) in msg and "not a database" in msg, (args, msg)
    before.check()
    assert junk.read_bytes() == NOT_A_DATABASE


@pytest.mark.parametrize("kind", ["not a database", "missing folder"])
def test_unusable_sqlite_url_names_database_and_field(tmp_path: Path, kind: str) -> None:
    if kind == "not a database":
        target = tmp_path / "notes.db"
        target.write_bytes(NOT_A_DATABASE)
    else:
        target = tmp_path / "no-such-folder" / "app.db"
    project = ProjectDir(tmp_path / "proj", f"sqlite:///{target}")
    msg = one_line(project.cli("status"))
    # SPEC: "Bad configuration (... unreachable URL) is a one-line error naming the database and the field"
    assert "'primary'" in msg and "database_url" in msg, msg


# -- make-migrations arguments and stored snapshots -------------------------------------------------------------


def test_unknown_table_in_rename_table(applied: ProjectDir) -> None:
    applied.models(USERS.replace('"users"', '"members"') + AGE)
    before = Unchanged(applied)
    msg = one_line(applied.cli("make-migrations", "rename", "--rename-table", "nope:members"), code=2)
    assert "--rename-table" in msg and "'nope'" in msg
    msg = one_line(applied.cli("make-migrations", "rename", "--rename-table", "users:nope"), code=2)
    assert "--rename-table" in msg and "'nope'" in msg
    msg = one_line(applied.cli("diff", "--rename-table", "nope:members"), code=2)
    assert "'nope'" in msg
    before.check()
    applied.models(USERS.replace("email:", "mail:") + AGE)
    before = Unchanged(applied)
    msg = one_line(applied.cli("make-migrations", "rename", "--rename", "users.nope:mail"), code=2)
    assert "users.nope:mail" in msg
    msg = one_line(applied.cli("make-migrations", "rename", "--rename", "users-without-dot"), code=2)
    assert "users-without-dot" in msg
    before.check()


def test_tampered_stored_snapshot(project: ProjectDir) -> None:
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    path = project.root / ".dbwarden" / "primary" / "snapshots" / "0001.json"
    text = path.read_text()
    assert '"VARCHAR(200)"' in text
    path.write_text(text.replace('"VARCHAR(200)"', '"VARCHAR(250)"'))  # the checksum line is left as it was
    project.models(USERS + AGE)
    before = Unchanged(project)
    for args in (["make-migrations", "add age"], ["make-migrations", "--offline", "add age"], ["diff", "--offline"]):
        msg = one_line(project.cli(*args))
        assert msg.startswith(".dbwarden/primary/snapshots/0001.json: checksum mismatch"), (args, msg)
        assert re.search(rf"stored {SHA}, content {SHA}", msg)
    before.check()
    assert project.migration_files()[-1].name == "0001_initial.sql"


def test_tampered_latest_snapshot(applied: ProjectDir) -> None:
    path = applied.root / ".dbwarden" / "primary" / "snapshots" / "0002.json"
    doc = json.loads(path.read_text())
    doc["tables"]["users"]["columns"] = [c for c in doc["tables"]["users"]["columns"] if c["name"] != "age"]
    path.write_text(json.dumps(doc, indent=2))
    applied.models(USERS + AGE + "    note: Mapped[str | None]\n")
    before = Unchanged(applied)
    msg = one_line(applied.cli("make-migrations", "next"))
    assert msg.startswith(".dbwarden/primary/snapshots/0002.json: checksum mismatch")
    before.check()
