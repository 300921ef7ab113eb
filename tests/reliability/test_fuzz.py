"""Hostile input, fuzzed: every entry point that reads what a user (or a file on disk) hands it.

Targets: migration files (random bytes, and valid files mutated with headers, markers, quotes, dollar quotes,
BEGIN ... END bodies, comments, CRLF, NUL bytes and broken UTF-8), the statement splitter, snapshot JSON (random
bytes, truncated and tampered valid snapshots), ``database_config`` keywords (called directly and through
generated ``dbwarden.py`` files), ``%dbwarden`` lines and ``dbwarden`` argument vectors against a real SQLite
project.

Property everywhere: only the project's own errors (``dbwarden_nb.errors``) escape, as one non-empty line naming
the culprit; the CLI exits 1 or 2 with exactly one stderr line and no traceback; rejected input changes nothing on
disk. Round trips where they are cheap: a generated file renders back byte for byte, the splitter is stable.

Each target runs a few thousand cases (``CASES``); the ``ci`` profile of tests/conftest.py derandomizes them.
"""

from __future__ import annotations

import io
import json
import os
import random
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from projects import ProjectDir
from test_bad_input import USERS, files_of

import dbwarden_nb as dw
from dbwarden_nb import config as config_module
from dbwarden_nb.cli import main
from dbwarden_nb.commands import COMMANDS, build_parser
from dbwarden_nb.config import database_config, load_config
from dbwarden_nb.errors import DbwardenError, MigrationFileError, SnapshotError
from dbwarden_nb.migrations.files import MigrationFile, Statement, parse_migration, read_migrations, split_statements
from dbwarden_nb.schema import Snapshot

PASSWORD = "S3cr3t-Pa55w0rd-XYZ"


def fuzz(cases: int) -> Any:
    return settings(max_examples=cases, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


def one_line(exc: BaseException, *culprits: str) -> str:
    """The error's message, checked: one non-empty line naming (one of) the culprit(s)."""
    assert isinstance(exc, DbwardenError), f"{type(exc).__name__} escaped: {exc!r}"
    message = str(exc)
    assert message.strip() and "\n" not in message and "\r" not in message, repr(message)
    assert PASSWORD not in message
    if culprits:
        assert any(c in message for c in culprits), (culprits, message)
    return message


# -- migration files ------------------------------------------------------------------------------------------

TOKENS = [
    "'", '"', "`", "$$", "$a$", "$ü$", "/*", "*/", "--", ";", "\n", "\r\n", "\r", " BEGIN ", " END ", " END IF ",
    " CASE ", "E'\\", "\\", "-- upgrade\n", "\n-- rollback\n", "\n-- dev-upgrade: sqlite\n", "\n-- dev-rollback: mysql\n",
    "\n-- dev-upgrade\n", "\n-- dbwarden: no-transaction\n", "\n-- dbwarden: irreversible\n", "\n-- dbwarden: bogus\n",
    "\n-- severity: HIGH\n", "\n-- base: x\n", "\n-- backend: a b\n", "-- dbwarden migration 0002: again\n", "\ufeff",
    "\x00", "99999999999", "\nCREATE TRIGGER t AFTER INSERT ON x BEGIN ", "\nCREATE FUNCTION f() AS $$ BEGIN ", "",
]
BAD_BYTES = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"\r\n", b"\r"]


# Statements the splitter must keep whole: quotes, escapes, dollar quotes, comments, BEGIN ... END bodies.
STATEMENTS = [
    "SELECT 1", "INSERT INTO t VALUES ('a;b', 'it''s', \"q;\"\"x\")", "SELECT `a;b` FROM `t``x`",
    "SELECT E'\\';' || 'x'", "SELECT $$ ; $$ || $tag$ $$ ; $tag$", "CREATE TABLE t (\"begin\" INT, end_at INT)",
    "SELECT 1 /* ; */ + 2 -- ; note\n + 3", ("CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW\nBEGIN\n"
    "  UPDATE t SET x = CASE WHEN a THEN 1 ELSE 2 END;\n  IF y THEN SELECT 1; END IF;\nEND"),
    "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql",
    "CREATE PROCEDURE p()\nBEGIN\n  WHILE n DO SET n = 0; END WHILE;\n  BEGIN SELECT 3; END;\nEND",
    "ALTER TABLE t ADD COLUMN \"naïve ;\" TEXT DEFAULT '--'", "UPDATE t SET a = 'x' WHERE t.end = 1", "BEGIN", "COMMIT",
    "SELECT '\u00e9\U0001f600'", "CREATE INDEX CONCURRENTLY ix ON t (a)",
]
CHECKSUMS = ["sha256:" + "0123456789abcdef" * 4, "sha256:" + "f" * 64]


# Strategies built once: hypothesis validates a strategy on first use, which dominates when built per draw.
ANY_STATEMENT = st.sampled_from(STATEMENTS)
REASONS = st.none() | st.sampled_from(["drops data", "x; y", "ünïcode reason"])
BACKENDS = st.none() | st.sampled_from(["postgresql", "sqlite", "clickhouse"])
DEV_BACKENDS = st.none() | st.sampled_from(["sqlite", "mysql"])
DESCRIPTIONS = st.sampled_from(["x", "add orders", "ünï; -- 'q'", ""])
CHECKSUM = st.none() | st.sampled_from(CHECKSUMS)
SEVERITY = st.sampled_from(["INFO", "WARN", "CRITICAL"])


@st.composite
def sections(draw: st.DrawFn, rollback: bool, statements: st.SearchStrategy[str]) -> tuple[Statement, ...]:
    return tuple(Statement(draw(statements), draw(st.booleans()), draw(REASONS) if rollback else None)
                 for _ in range(draw(st.integers(0, 3))))


def _whole_in(sql: str, backend: str | None) -> bool:
    try:
        return [s.sql for s in split_statements(sql, backend)] == [sql]
    except MigrationFileError:
        return False


# A file's sections hold the statements its backend's lexer reads whole (a MySQL string ends elsewhere than a
# PostgreSQL one); a dev section's, its dev backend's.
UPGRADE, ROLLBACK = (
    {b: sections(rollback, st.sampled_from([s for s in STATEMENTS if _whole_in(s, b)]))
     for b in (None, "postgresql", "sqlite", "clickhouse", "mysql")}
    for rollback in (False, True))


@st.composite
def valid_files(draw: st.DrawFn) -> MigrationFile:
    """Generated migration files: cheap to draw (tests/test_migration_files.py has the thorough generator)."""
    dev, backend = draw(DEV_BACKENDS), draw(BACKENDS)
    return MigrationFile(
        version=draw(st.integers(1, 10**6)), description=draw(DESCRIPTIONS), upgrade=draw(UPGRADE[backend]),
        rollback=draw(ROLLBACK[backend]), backend=backend, base=draw(CHECKSUM), target=draw(CHECKSUM),
        severity=draw(SEVERITY), dev_backend=dev, dev_upgrade=None if dev is None else draw(UPGRADE[dev]),
        dev_rollback=None if dev is None else draw(ROLLBACK[dev]),
    )


def mutants(text: str, seed: int, count: int) -> list[bytes]:
    """``count`` copies of a valid file's text with a few insertions, deletions and broken bytes each, made by a
    seeded ``random.Random``: hypothesis draws the file and the seed, the mutations cost no draws."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        mutant = text
        for _ in range(rng.randint(0, 5)):
            at = rng.randint(0, len(mutant))
            mutant = mutant[:at] + rng.choice(TOKENS) + mutant[at + rng.randint(0, 8):]
        data = mutant.encode("utf-8", "surrogatepass")
        for _ in range(rng.randint(0, 2)):
            at = rng.randint(0, len(data))
            data = data[:at] + rng.choice(BAD_BYTES) + data[at:]
        out.append(data[: rng.randint(0, len(data))] if rng.random() < 0.3 else data)  # some truncated
    return out


@pytest.fixture(scope="module")
def migrations_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_migrations")


def check_migration_file(folder: Path, data: bytes) -> None:
    path = folder / "0001_x.sql"
    path.write_bytes(data)
    try:
        files = read_migrations(folder)
    except Exception as exc:
        one_line(exc, "0001_x.sql")
    else:
        assert [f.version for f in files] == [1] and isinstance(files[0], MigrationFile)


MUTANTS = 4  # per example: 500 examples check 2,500 files


@fuzz(500)
@given(st.binary(max_size=400), valid_files(), st.integers(0, 2**32))
@example(b"-- dbwarden migration 0001: x\n-- upgrade\nSELECT '\xff';\n-- rollback\n", MigrationFile(1, "x", (), ()), 0)
@example(b"-- dbwarden migration 0001: x\r\n-- upgrade\r\nSELECT $$;\r\n-- rollback\r\n", MigrationFile(1, "x", (), ()), 1)
@example(b"-- dbwarden migration 0001: x\n-- upgrade\nCREATE TRIGGER t BEGIN SELECT 1;\n-- rollback\n", MigrationFile(1, "x", (), ()), 2)
def test_migration_file_bytes(migrations_folder: Path, data: bytes, valid: MigrationFile, seed: int) -> None:
    for candidate in (data, *mutants(valid.render(), seed, MUTANTS)):
        try:
            check_migration_file(migrations_folder, candidate)
        except AssertionError as failure:
            raise AssertionError(f"{failure} (file: {candidate!r})") from None


@fuzz(600)
@given(valid_files(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_generated_files_round_trip(m: MigrationFile, newline: str, bom: bool) -> None:
    """render(parse(x)) == x for generated files, whatever the line ends and a byte-order mark."""
    text = m.render()
    assert parse_migration(text).render() == text
    foreign = ("\ufeff" if bom else "") + text.replace("\n", newline)
    parsed = parse_migration(foreign)
    assert parsed == m and parsed.checksum == m.checksum and parsed.render() == text


def joined(statements: list[Statement]) -> str:
    """Statements written back as text the splitter reads, directives included."""
    lines = []
    for s in statements:
        lines += [] if s.transactional else ["-- dbwarden: no-transaction"]
        lines += [] if s.irreversible is None else [f"-- dbwarden: irreversible {s.irreversible}"]
        lines.append(s.sql + ";")
    return "\n".join(lines)


sql_noise = st.lists(st.one_of(ANY_STATEMENT, st.sampled_from(TOKENS), st.text(max_size=12)), max_size=8).map("".join)


@fuzz(2000)
@given(st.one_of(sql_noise, st.text(max_size=200), st.lists(ANY_STATEMENT, max_size=4).map(";\n".join)))
@example("SELECT 1 -- note;\n;")
@example("CREATE TRIGGER t BEGIN SELECT 1; END; END;")
def test_split_is_stable(text: str) -> None:
    try:
        statements = split_statements(text)
    except Exception as exc:
        one_line(exc, "line ")
        return
    assert all(s.sql and s.sql == s.sql.strip() for s in statements)
    assert split_statements(joined(statements)) == statements


# -- snapshot JSON ---------------------------------------------------------------------------------------------


RICH_SCHEMA = '''
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL UNIQUE COLLATE NOCASE,
                    "naïve ""name""" TEXT DEFAULT 'x;y', age INTEGER CHECK (age > 0), created DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                     total NUMERIC(10, 2), note TEXT, doubled INTEGER GENERATED ALWAYS AS (total * 2) VIRTUAL,
                     CONSTRAINT ck_total CHECK (total >= 0));
CREATE INDEX ix_orders_user ON orders (user_id, total DESC);
CREATE UNIQUE INDEX ix_orders_note ON orders (lower(note)) WHERE note IS NOT NULL;
CREATE TABLE tags (name TEXT PRIMARY KEY, weight REAL) WITHOUT ROWID;
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
'''


@pytest.fixture(scope="module")
def snapshot_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The canonical JSON of a real SQLite database with keys, checks, indexes, generated columns and a view."""
    path = tmp_path_factory.mktemp("fuzz_snapshot") / "rich.db"
    db = sqlite3.connect(path)
    db.executescript(RICH_SCHEMA)
    db.close()
    return dw.snapshot(f"sqlite:///{path}").to_json()


@fuzz(1500)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                              lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                              max_leaves=10).map(json.dumps)))
@example(b"[" * 100_000)
@example('{"format": "dbwarden-snapshot/1", "backend": "sqlite", "tables": {"t": {"columns": [{"name": 1}]}}}')
@example('{"format": "dbwarden-snapshot/1", "backend": "sqlite", "tables": {"t": {"columns": [], "indexes": [{"name": "i", "columns": [{"expression": 3}]}]}}}')
def test_snapshot_from_random_input(data: str | bytes) -> None:
    try:
        Snapshot.from_json(data, source="fuzz.json")
    except Exception as exc:
        one_line(exc, "fuzz.json")


@fuzz(1500)
@given(st.data())
def test_snapshot_truncated(snapshot_json: str, data: st.DataObject) -> None:
    text = snapshot_json
    cut = data.draw(st.integers(0, len(text) - 2))
    with pytest.raises(SnapshotError) as info:
        Snapshot.from_json(text[:cut].encode(), source="0001.json")
    one_line(info.value, "0001.json")


def leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaves(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from leaves(value, (*path, index))
    else:
        yield path, doc


@fuzz(1500)
@given(st.data())
def test_snapshot_tampered(snapshot_json: str, data: st.DataObject) -> None:
    """Any string of the content edited while the checksum stays: the checksum error, naming the file."""
    doc = json.loads(snapshot_json)
    editable = [(p, v) for p, v in leaves(doc) if isinstance(v, str) and p[0] in ("tables", "views")
                and p[-1] not in ("name", "schema")]  # entry names are also their keys: a mismatch of its own
    assert len(editable) > 20
    path, value = data.draw(st.sampled_from(editable))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value + data.draw(st.text(min_size=1, max_size=3))
    with pytest.raises(SnapshotError) as info:
        Snapshot.from_json(json.dumps(doc), source=".dbwarden/primary/snapshots/0001.json")
    message = one_line(info.value, ".dbwarden/primary/snapshots/0001.json")
    assert "checksum mismatch" in message, message


# -- configuration ---------------------------------------------------------------------------------------------

KEYWORDS = ["default", "database_type", "database_url", "dev_database_type", "dev_database_url", "model_paths",
            "migrations_dir", "schemas", "include_tables", "exclude_tables", "cluster"]
URLS = [f"postgresql://app:{PASSWORD}@db.example.com/app", f"mysql://root:{PASSWORD}@h:3306/x", "sqlite:///./a.db",
        f"clickhouse://default:{PASSWORD}@h:8123/db", "chdb:///tmp/x", "${DBW_FUZZ_UNSET}", f"sqlite:///x?password={PASSWORD}",
        "postgresql://h/db", "ftp://x", "", "not a url", f"postgresql://u:{PASSWORD}@h:notaport/db"]
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10), st.binary(max_size=4),
    st.sampled_from(URLS), st.sampled_from(["postgresql", "mysql", "mariadb", "clickhouse", "sqlite", "SQLite", ""]),
    st.lists(st.one_of(st.text(max_size=6), st.integers(), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.builds(Path, st.sampled_from(["a", "../b", "/c"])),
)
NAMES = st.one_of(st.sampled_from(["primary", "a.b", "x-1", "_", "..", "a/b", "", " p", "ü"]), st.text(max_size=6),
                  st.integers(), st.none())
CONFIG_KWARGS = st.dictionaries(st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(["database_ur", "url", "Default"])),
                                ANY_VALUE, max_size=8)


@contextmanager
def fresh_registry(root: Path) -> Iterator[None]:
    """database_config calls go to a registry of their own, not the process's session registry."""
    token = config_module._current_registry.set(config_module._Registry(root=root))
    try:
        yield
    finally:
        config_module._current_registry.reset(token)


def check_config_error(exc: BaseException, name: object) -> None:
    culprit = f"database '{name}'" if isinstance(name, str) and not str(exc).startswith("database_name") else "database_name"
    one_line(exc, culprit)


@fuzz(1000)
@given(NAMES, CONFIG_KWARGS)
@example("primary", {"database_type": "postgresql", "database_url": URLS[-1]})
@example("primary", {"database_type": "sqlite", "database_url": "sqlite:///a.db", "model_paths": [b"x"]})
def test_database_config_keywords(tmp_path: Path, name: object, kwargs: dict[str, Any]) -> None:
    with fresh_registry(tmp_path):
        try:
            db = database_config(name, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            check_config_error(exc, name)
            return
    assert PASSWORD not in repr(db) and PASSWORD not in json.dumps(db.masked(), default=str)
    for dev in (False, True):  # a URL that passed is used later: its errors are the project's too
        try:
            db.sqlalchemy_url(dev)
        except Exception as exc:
            check_config_error(exc, name)


def literal(value: Any) -> str:
    return f"Path({str(value)!r})" if isinstance(value, Path) else repr(value)


JUNK_LINES = [
    "", "import nonexistent_module_xyz", "raise SystemExit(3)", "raise KeyboardInterrupt", "1/0", "def f(:",
    "database_config('primary', database_type='sqlite', database_url='sqlite:///a.db', default=True)",
    f"int({URLS[0]!r})", "import sys; sys.exit()", "\x00", "\tx = 1", "exec('raise ValueError(1)')",
    f"raise RuntimeError({URLS[1]!r})", "database_config()", "database_config(*[1, 2])", "x = ''' unclosed",
]


@st.composite
def config_files(draw: st.DrawFn) -> str:
    lines = ["from pathlib import Path", "from dbwarden_nb import database_config"]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 3)) == 0:
            lines.append(draw(st.sampled_from(JUNK_LINES)))
            continue
        name, kwargs = draw(NAMES), draw(CONFIG_KWARGS)
        args = [literal(name)] + [f"{key}={literal(value)}" for key, value in kwargs.items()]
        lines.append(f"database_config({', '.join(args)})")
    return "\n".join(lines) + "\n"


@fuzz(600)
@given(config_files())
def test_load_generated_config_files(tmp_path: Path, source: str) -> None:
    folder = tmp_path / "config"  # one folder for every case: each load puts it first on sys.path
    folder.mkdir(exist_ok=True)
    (folder / "dbwarden.py").write_text(source, encoding="utf-8")
    try:
        project = load_config(folder / "dbwarden.py")
    except KeyboardInterrupt:
        assert "raise KeyboardInterrupt" in source  # the user's Ctrl-C is never swallowed
    except Exception as exc:
        one_line(exc, "dbwarden.py")
    else:
        assert project.databases and PASSWORD not in json.dumps(project.masked(), default=str)


# -- the CLI and the magic on a real SQLite project ------------------------------------------------------------


GLOBAL_FLAGS = ["--dev", "--strict-translation", "--json", "-v", "--config"]
FLAGS = sorted({flag for cmd in COMMANDS for a in cmd.args for flag in a.flags if flag.startswith("-")} | {"-h", "--version"})
# init is left out: it creates a project wherever --path says (tests/reliability/test_paths.py covers the others)
COMMAND_NAMES = [cmd.name for cmd in COMMANDS if cmd.name != "init"]
VALUES = ["0", "1", "2", "-1", "0003", "99999999999999999999", "1e3", "nan", "inf", "-inf", "", " ", "-", "--", "x",
          "primary", "nope", "users", "users.email:mail", "users:members", "a:b", ":", "*", "json", "table", "sql",
          "../x", "/abs/path", "a\x00b", "\udcff", "é", "x" * 300, "\n", "--out=json", "-d", "dbwarden.py", ".", "=",
          "migrations", "users.", ".email:x", "--count=0"]
TOKEN = st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES), st.sampled_from(COMMAND_NAMES), st.text(max_size=8))
ARGV = st.one_of(
    st.tuples(st.lists(st.sampled_from(GLOBAL_FLAGS[:-1]), max_size=2, unique=True), st.sampled_from(COMMAND_NAMES),
              st.lists(TOKEN, max_size=5)).map(lambda t: [*t[0], t[1], *t[2]]),
    st.lists(TOKEN, max_size=6),
)


@pytest.fixture(scope="module")
def sqlite_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectDir]:
    """A migrated SQLite project (database inside the folder) with a dev database; models match the database."""
    root = tmp_path_factory.mktemp("fuzz_cli") / "proj"
    project = ProjectDir(root, "sqlite:///./app.db", extra_config="\n                dev_database_url='sqlite:///./dev.db',")
    project.models(USERS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    yield project


def restore(root: Path, files: dict[str, bytes]) -> None:
    """Put the project folder back as it was (after a command that was allowed to change it)."""
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in path.parts:
            continue
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and not any(name.startswith(rel + "/") for name in files):
            shutil.rmtree(path)
    for rel, data in files.items():
        path = root / rel
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # --help and --version print themselves and exit 0
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@fuzz(600)
@given(ARGV)
@example(["--config", "a\x00b", "status"])
@example(["generate-models", "--output", "a\x00b"])
@example(["migrate", "--lock-timeout", "nan"])
@example(["new", "\x00"])
@example(["make-migrations", "x", "--rename", "users.email:"])
@example(["--dev", "repair", "6"])  # refused before anything is written: no empty dev database file either
def test_cli_argument_vectors(sqlite_project: ProjectDir, argv: list[str]) -> None:
    root = sqlite_project.root
    before = files_of(root)
    with inside(root):
        code, out, err = run_cli(argv)
    after = files_of(root)
    assert PASSWORD not in out + err
    if code == 0:
        assert "Traceback" not in out + err
        restore(root, before)  # e.g. `new x`, `rollback`: allowed to change the project
        return
    assert code in (1, 2), (argv, code, err)
    if "-v" in argv or "--verbose" in argv:  # the traceback first, then the line
        err = err[err.rfind("\n", 0, -1) + 1:]
    assert "Traceback" not in out + err
    assert err.startswith("dbwarden: error: ") and err.count("\n") == 1 and err.strip() != "dbwarden: error:", (argv, err)
    if "diff" not in argv and "check" not in argv:  # diff --check / check exit 2 with a report on stdout
        assert out == "", (argv, out)
    assert after == before, (argv, err)


@fuzz(300)
@given(st.one_of(ARGV.map(lambda argv: " ".join(shlex.quote(a) for a in argv)), st.text(max_size=40),
                 st.lists(TOKEN, max_size=5).map(" ".join)))
@example('status "unclosed')
@example("--config 'a\x00b' status")
def test_magic_lines(sqlite_project: ProjectDir, line: str) -> None:
    pytest.importorskip("IPython")
    from IPython.core.error import UsageError as IPythonUsageError

    from dbwarden_nb.notebook.magics import execute_line

    root = sqlite_project.root
    before = files_of(root)
    with inside(root), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
        try:
            execute_line(line)
        except IPythonUsageError as exc:
            message = str(exc)
            assert message.startswith("%dbwarden") and "\n" not in message and PASSWORD not in message, message
            assert files_of(root) == before, (line, message)
            return
        except DbwardenError as exc:  # the project's own error: its one line, or with -v itself, traceback and all
            if not ("-v" in line or "--verbose" in line):
                message = str(exc)
                assert message.startswith("%dbwarden") and "\n" not in message and PASSWORD not in message, message
                assert exc._render_traceback_() == [f"{type(exc).__name__}: {message}"], message
            one_line(exc)
            assert files_of(root) == before, (line, exc)
            return
        except SystemExit as exit_:  # never: --help returns None
            raise AssertionError(f"{line!r} exited {exit_.code}") from None
    assert "Traceback" not in err.getvalue()
    restore(root, before)


def test_cli_fuzz_vocabulary_covers_the_command_table() -> None:
    """The argument vocabulary is built from the command table, so a new command or flag is fuzzed too."""
    parser_commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert parser_commands == {*COMMAND_NAMES, "init"}
    assert {"--output", "--to-version", "--count", "--rename", "--lock-timeout"} <= set(FLAGS)



OS_ARGV = [  # what only a real command line carries: bytes that are not UTF-8 (surrogate-escaped by Python)
    [b"new", b"\xff"], [b"--json", b"new", b"x\xfe"], [b"make-migrations", b"\xc3(", b"--dry-run"],
    [b"status", b"-d", b"\xff"], [b"--config", b"\xff", b"status"], [b"--json", b"snapshot", b"--out", b"\xff"],
]


@pytest.mark.parametrize("argv", OS_ARGV, ids=lambda argv: repr(b" ".join(argv))[2:-1])
def test_cli_bytes_from_the_os(sqlite_project: ProjectDir, argv: list[bytes]) -> None:
    """A real process (its stdout and stderr are the OS's): one line, or the report; never a traceback."""

    root = sqlite_project.root
    before = files_of(root)
    run = subprocess.run([sys.executable.encode(), b"-m", b"dbwarden_nb", *argv], check=False, cwd=root, capture_output=True,
                         env={**os.environ, "DBWARDEN_PROGRESS": "none"}, timeout=120)
    assert b"Traceback" not in run.stdout + run.stderr, run.stderr.decode(errors="replace")
    if run.returncode == 0:
        assert b"--dry-run" in argv and not run.stderr
    else:
        assert run.returncode in (1, 2) and run.stderr.startswith(b"dbwarden: error: ") and run.stderr.count(b"\n") == 1
    assert files_of(root) == before


MODEL_JUNK = ["raise SystemExit(3)", "import sys; sys.exit('bye')", "1/0", "import no_such_module_xyz", "def f(:",
              "\x00", "exec('raise ValueError(\"a\\\\nb\")')", f"raise RuntimeError({URLS[0]!r})",
              "class T(Base):\n    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)"]


@pytest.mark.parametrize("junk", MODEL_JUNK)
def test_hostile_model_modules(sqlite_project: ProjectDir, junk: str) -> None:
    """A model module that fails however it fails (sys.exit included) is one line naming the module."""
    root = sqlite_project.root
    source = (root / f"{sqlite_project.module}.py").read_bytes()
    sqlite_project.models(USERS + "\n" + junk + "\n")
    before = files_of(root)
    try:
        for argv in (["diff"], ["make-migrations", "next"], ["--json", "make-migrations", "--offline", "next"]):
            with inside(root):
                code, out, err = run_cli(argv)
            assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err, (argv, code, err)
            assert sqlite_project.module in err and PASSWORD not in err, err
            assert files_of(root) == before
    finally:
        (root / f"{sqlite_project.module}.py").write_bytes(source)
