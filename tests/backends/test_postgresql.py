"""The PostgreSQL backend on a real server: the type matrix (offline spelling, server normalization and
generate-models round trip of every type a user may write), batched introspection, the transactional
runner (all-or-nothing, ``-- dbwarden: no-transaction`` with CREATE INDEX CONCURRENTLY, partial resume),
the advisory lock, enum value additions, type changes with USING, and passwords never leaking.

Run with e.g. ``DBWARDEN_TEST_POSTGRESQL_URL=postgresql://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import subprocess
import sys
import textwrap
import time
import types
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from projects import ProjectDir, Result
from sqlalchemy.dialects import postgresql as pg

from dbwarden_nb.backends import get_backend
from dbwarden_nb.backends.base import Connection
from dbwarden_nb.config import sqlalchemy_url
from dbwarden_nb.models.codegen import generate_models

BACKEND = get_backend("postgresql")


def connect(url: str) -> Connection:
    return BACKEND.connect(sqlalchemy_url(url))


def error_line(text: str) -> str:
    """The one error line of a failed command (progress lines may precede it on stderr)."""
    assert "Traceback" not in text, text
    errors = [line for line in text.strip().splitlines() if line.startswith("dbwarden: error:")]
    assert len(errors) == 1, f"expected exactly one error line:\n{text}"
    return errors[0]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected exactly one line, got {len(lines)}:\n{text}"
    return lines[0]


# =================================================================================================
# 1. The type matrix
# =================================================================================================


class Color(enum.Enum):
    red = 1
    green = 2


OFFLINE_CHAR = ("bug: offline canonical_type maps CHAR (sa.CHAR()) to 'character', "
                "the server reports 'character(1)'")
OFFLINE_NUMERIC_P = ("bug: offline canonical_type keeps 'numeric(10)' for sa.Numeric(10), "
                     "the server reports 'numeric(10,0)'")
OFFLINE_ARRAY_DIMS = ("bug: offline canonical_type keeps one '[]' per ARRAY dimension ('integer[][]'), "
                      "the server (format_type) always reports 'integer[]'")
FLOAT_P = ("bug: canonical_type turns FLOAT(p) into 'double precision(p)' (not a PostgreSQL type); "
           "the server reports 'real' for p <= 24 and 'double precision' above, and online the models "
           "cannot even be created ('syntax error at or near \"(\"')")
CODEGEN_ARRAY_ENUM = ("bug: generate-models writes postgresql.ARRAY(sa.Enum(...)) for an array of an enum "
                      "(or domain) without importing postgresql: the generated module raises NameError")
ENUM_OTHER_SCHEMA = ("bug: normalize_models moves only the schemas of tables and views into scratch schemas; "
                     "a native Enum in another schema used by a default-schema table is created in its real "
                     "schema ('type ... already exists' once it exists live) and never read back (on a fresh "
                     "database make-migrations then omits CREATE SCHEMA/CREATE TYPE and migrate fails)")


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], Any]
    offline_bug: str | None = None
    online_bug: str | None = None
    codegen_bug: str | None = None
    needs: str | None = None  # an extension, or "pg14" for multiranges


MATRIX: list[Case] = [
    Case("Integer", lambda: sa.Integer()),
    Case("BigInteger", lambda: sa.BigInteger()),
    Case("SmallInteger", lambda: sa.SmallInteger()),
    Case("INT", lambda: sa.INT()),
    Case("String(30)", lambda: sa.String(30)),
    Case("String()", lambda: sa.String()),
    Case("VARCHAR(12)", lambda: sa.VARCHAR(12)),
    Case("Unicode(20)", lambda: sa.Unicode(20)),
    Case("Text", lambda: sa.Text()),
    Case("UnicodeText", lambda: sa.UnicodeText()),
    Case("CHAR(5)", lambda: sa.CHAR(5)),
    Case("CHAR()", lambda: sa.CHAR()),
    Case("Boolean", lambda: sa.Boolean()),
    Case("Float()", lambda: sa.Float()),
    Case("Float(24)", lambda: sa.Float(24)),
    Case("Float(53)", lambda: sa.Float(53)),
    Case("Double", lambda: sa.Double()),
    Case("DOUBLE_PRECISION", lambda: sa.DOUBLE_PRECISION()),
    Case("REAL", lambda: sa.REAL()),
    Case("Numeric(10,2)", lambda: sa.Numeric(10, 2)),
    Case("Numeric(10)", lambda: sa.Numeric(10)),
    Case("Numeric()", lambda: sa.Numeric()),
    Case("DECIMAL(8,3)", lambda: sa.DECIMAL(8, 3)),
    Case("DateTime", lambda: sa.DateTime()),
    Case("DateTime(tz)", lambda: sa.DateTime(timezone=True)),
    Case("TIMESTAMP", lambda: sa.TIMESTAMP()),
    Case("pg.TIMESTAMP(3)", lambda: pg.TIMESTAMP(precision=3)),
    Case("pg.TIMESTAMP(3,tz)", lambda: pg.TIMESTAMP(precision=3, timezone=True)),
    Case("pg.TIMESTAMP(0)", lambda: pg.TIMESTAMP(precision=0)),
    Case("Date", lambda: sa.Date()),
    Case("Time", lambda: sa.Time()),
    Case("Time(tz)", lambda: sa.Time(timezone=True)),
    Case("pg.TIME(2)", lambda: pg.TIME(precision=2)),
    Case("pg.TIME(3,tz)", lambda: pg.TIME(precision=3, timezone=True)),
    Case("Interval", lambda: sa.Interval()),
    Case("INTERVAL(3)", lambda: pg.INTERVAL(precision=3)),
    Case("INTERVAL DAY TO SECOND", lambda: pg.INTERVAL(fields="DAY TO SECOND")),
    Case("INTERVAL YEAR TO MONTH", lambda: pg.INTERVAL(fields="YEAR TO MONTH")),
    Case("INTERVAL SECOND(2)", lambda: pg.INTERVAL(precision=2, fields="SECOND")),
    Case("LargeBinary", lambda: sa.LargeBinary()),
    Case("BYTEA", lambda: pg.BYTEA()),
    Case("JSON", lambda: sa.JSON()),
    Case("pg.JSON", lambda: pg.JSON()),
    Case("JSONB", lambda: pg.JSONB()),
    Case("Uuid", lambda: sa.Uuid()),
    Case("pg.UUID", lambda: pg.UUID()),
    Case("ARRAY(Integer)", lambda: pg.ARRAY(sa.Integer)),
    Case("sa.ARRAY(Text)", lambda: sa.ARRAY(sa.Text)),
    Case("ARRAY(String(10))", lambda: pg.ARRAY(sa.String(10))),
    Case("ARRAY(Numeric(5,2))", lambda: pg.ARRAY(sa.Numeric(5, 2))),
    Case("ARRAY(DateTime(tz))", lambda: pg.ARRAY(sa.DateTime(timezone=True))),
    Case("ARRAY(TIMESTAMP(3))", lambda: pg.ARRAY(pg.TIMESTAMP(precision=3))),
    Case("ARRAY(Uuid)", lambda: pg.ARRAY(sa.Uuid())),
    Case("ARRAY(JSONB)", lambda: pg.ARRAY(pg.JSONB())),
    Case("ARRAY(Boolean)", lambda: pg.ARRAY(sa.Boolean())),
    Case("ARRAY(CHAR(2))", lambda: pg.ARRAY(sa.CHAR(2))),
    Case("ARRAY(Enum)", lambda: pg.ARRAY(sa.Enum("a", "b", name="mx_arr_enum"))),
    Case("ARRAY(Integer,dims=2)", lambda: pg.ARRAY(sa.Integer, dimensions=2)),
    Case("ARRAY(Text,dims=3)", lambda: pg.ARRAY(sa.Text, dimensions=3)),
    Case("INET", lambda: pg.INET()),
    Case("CIDR", lambda: pg.CIDR()),
    Case("MACADDR", lambda: pg.MACADDR()),
    Case("MACADDR8", lambda: pg.MACADDR8()),
    Case("MONEY", lambda: pg.MONEY()),
    Case("TSVECTOR", lambda: pg.TSVECTOR()),
    Case("TSQUERY", lambda: pg.TSQUERY()),
    Case("REGCONFIG", lambda: pg.REGCONFIG()),
    Case("OID", lambda: pg.OID()),
    Case("REGCLASS", lambda: pg.REGCLASS()),
    Case("BIT(4)", lambda: pg.BIT(4)),
    Case("BIT()", lambda: pg.BIT()),
    Case("BIT VARYING(8)", lambda: pg.BIT(8, varying=True)),
    Case("BIT VARYING", lambda: pg.BIT(varying=True)),
    Case("INT4RANGE", lambda: pg.INT4RANGE()),
    Case("INT8RANGE", lambda: pg.INT8RANGE()),
    Case("NUMRANGE", lambda: pg.NUMRANGE()),
    Case("DATERANGE", lambda: pg.DATERANGE()),
    Case("TSRANGE", lambda: pg.TSRANGE()),
    Case("TSTZRANGE", lambda: pg.TSTZRANGE()),
    Case("INT4MULTIRANGE", lambda: pg.INT4MULTIRANGE(), needs="pg14"),
    Case("DATEMULTIRANGE", lambda: pg.DATEMULTIRANGE(), needs="pg14"),
    Case("TSTZMULTIRANGE", lambda: pg.TSTZMULTIRANGE(), needs="pg14"),
    Case("Enum", lambda: sa.Enum("happy", "sad", name="mx_mood")),
    Case("Enum(python enum)", lambda: sa.Enum(Color, name="mx_color")),
    Case("pg.ENUM", lambda: pg.ENUM("x", "y", name="mx_kind")),
    Case("Enum(native_enum=False)", lambda: sa.Enum("a", "bb", native_enum=False)),
    Case("Enum(schema=app)", lambda: sa.Enum("p", "q", name="mx_schemed", schema="mx_app")),
    Case("DOMAIN", lambda: pg.DOMAIN("mx_posint", sa.Integer, check="VALUE > 0")),
    Case("CITEXT", lambda: pg.CITEXT(), needs="citext"),
    Case("HSTORE", lambda: pg.HSTORE(), needs="hstore"),
]


def _params(bug_field: str) -> list[Any]:
    out = []
    for case in MATRIX:
        bug = getattr(case, bug_field) if bug_field else None
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def matrix_db(postgresql_server):
    """One database for the whole matrix: a wide table ``matrix`` with one column per type, and its
    introspected snapshot (``format_type`` of every column)."""
    name = postgresql_server.create_database()
    url = postgresql_server.database_url(name)
    conn = connect(url)
    try:
        available = {r[0] for r in conn.query("SELECT name FROM pg_available_extensions")}
        server_num = BACKEND.server_num(conn)
        usable = []
        for case in MATRIX:
            if case.needs == "pg14" and server_num < 140000:
                continue
            if case.needs not in (None, "pg14"):
                if case.needs not in available:
                    continue
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {case.needs}")
            usable.append(case)
        conn.execute("CREATE SCHEMA mx_app")
        md = sa.MetaData()
        columns = {case.id: f"c{n:02d}" for n, case in enumerate(usable)}
        sa.Table("matrix", md, sa.Column("id", sa.Integer, primary_key=True),
                 *(sa.Column(columns[c.id], c.make()) for c in usable))
        md.create_all(conn.sqlalchemy)
        conn.commit()
        snap = BACKEND.introspect(conn, ["public", "mx_app"])
        yield types.SimpleNamespace(url=url, conn=conn, snap=snap, columns=columns)
    finally:
        conn.close()
        postgresql_server.drop_database(name)


def _server_column(matrix_db, case: Case):
    if case.id not in matrix_db.columns:
        pytest.skip(f"{case.id}: {case.needs} is not available on this server")
    table = matrix_db.snap.tables["matrix"]
    (col,) = [c for c in table.columns if c.name == matrix_db.columns[case.id]]
    return table, col


@pytest.mark.parametrize("case", _params("offline_bug"))
def test_type_matrix_offline_spelling_equals_server(matrix_db, case: Case):
    """The type-matrix test: what the models spell offline is exactly what the server reports."""
    _, col = _server_column(matrix_db, case)
    offline = BACKEND.canonical_type(case.make().compile(dialect=BACKEND.dialect()))
    assert offline == col.type


@pytest.mark.parametrize("case", _params("online_bug"))
def test_type_matrix_models_normalized_through_server(matrix_db, case: Case):
    """Online, the model snapshot of a column of that type has the server's type."""
    _, col = _server_column(matrix_db, case)
    md = sa.MetaData()
    table = sa.Table("mx_one", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c", case.make()))
    snap = BACKEND.from_models([table], matrix_db.conn)
    assert snap.tables["mx_one"].columns[1].type == col.type


def _exec_module(code: str) -> types.ModuleType:
    module = types.ModuleType(f"dbw_generated_{uuid.uuid4().hex[:10]}")
    sys.modules[module.__name__] = module  # annotations are resolved through sys.modules
    try:
        exec(compile(code, module.__name__, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[module.__name__]
        raise
    return module


@pytest.mark.parametrize("case", _params("codegen_bug"))
def test_type_matrix_generate_models_round_trip(matrix_db, case: Case):
    """generate-models code for the column re-extracts (through the server) to the very same table."""
    table, col = _server_column(matrix_db, case)
    pk = [c for c in table.columns if c.name == "id"]
    one = dataclasses.replace(table, columns=(*pk, col))
    snap = matrix_db.snap.replace(tables={"matrix": one})
    code = generate_models(BACKEND, snap, ["matrix"])
    module = _exec_module(code)
    try:
        tables = list(module.Base.metadata.sorted_tables)
        back = BACKEND.from_models(tables, matrix_db.conn)
        offline = BACKEND.extract_models(tables, None)
    finally:
        del sys.modules[module.__name__]
    assert back.tables["matrix"].columns[1].type == col.type, code
    assert back.tables["matrix"] == one, code
    for key, values in back.enums.items():
        assert matrix_db.snap.enums.get(key) == values
    # generated code spells the server's type offline too (no server needed to read it back)
    assert offline.tables["matrix"].columns[1].type == col.type, code


# =================================================================================================
# 2. Introspection is batched
# =================================================================================================


def _make_tables(conn: Connection, count: int) -> None:
    with conn.transaction():
        conn.execute("CREATE TYPE batch_state AS ENUM ('on', 'off')")
        conn.execute("CREATE SEQUENCE batch_seq")
        conn.execute("CREATE TABLE parent (id serial PRIMARY KEY, code text UNIQUE)")
        for n in range(count - 1):
            conn.execute(
                f"CREATE TABLE t{n} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                f"parent_id integer REFERENCES parent (id) ON DELETE CASCADE, "
                f"qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0), state batch_state, "
                f"name varchar(40) COLLATE \"C\", note text, CONSTRAINT uq_t{n} UNIQUE (parent_id, name))"
            )
            conn.execute(f"CREATE INDEX ix_t{n}_qty ON t{n} (qty DESC) WHERE note IS NOT NULL")
            conn.execute(f"CREATE INDEX ix_t{n}_lower ON t{n} (lower(note))")
            conn.execute(f"COMMENT ON TABLE t{n} IS 'table {n}'")
        conn.execute("CREATE VIEW v_parent AS SELECT id, code FROM parent")


def _count_queries(url: str) -> tuple[int, int]:
    conn = connect(url)
    try:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])
        sa.event.listen(conn.engine, "before_cursor_execute", listener)
        snap = BACKEND.introspect(conn)
        sa.event.remove(conn.engine, "before_cursor_execute", listener)
        return len(seen), len(snap.tables)
    finally:
        conn.close()


def test_introspection_query_count_does_not_grow_with_tables(postgresql_server):
    small_name, big_name = postgresql_server.create_database(), postgresql_server.create_database()
    try:
        small, big = postgresql_server.database_url(small_name), postgresql_server.database_url(big_name)
        for url, count in ((small, 3), (big, 60)):
            conn = connect(url)
            try:
                _make_tables(conn, count)
            finally:
                conn.close()
        small_queries, small_tables = _count_queries(small)
        big_queries, big_tables = _count_queries(big)
        assert (small_tables, big_tables) == (3, 60)
        assert big_queries == small_queries, (small_queries, big_queries)
        assert big_queries <= 20  # one query per kind of object, whatever their number
    finally:
        postgresql_server.drop_database(small_name)
        postgresql_server.drop_database(big_name)


# =================================================================================================
# 3. The transactional path
# =================================================================================================


def manual(project: ProjectDir, version: int, name: str, upgrade: str, rollback: str) -> Path:
    """A hand-written migration file, as `dbwarden new` lays it out."""
    folder = project.root / "migrations" / "primary"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version:04d}_{name}.sql"
    path.write_text(
        f"-- dbwarden migration {version:04d}: {name}\n-- backend: postgresql\n-- severity: INFO\n"
        f"-- upgrade\n{textwrap.dedent(upgrade).strip()}\n-- rollback\n{textwrap.dedent(rollback).strip()}\n",
        encoding="utf-8",
    )
    return path


def history(url: str) -> list[tuple[Any, ...]]:
    with connect(url) as conn:
        if not conn.query("SELECT to_regclass('dbwarden_migrations') IS NOT NULL")[0][0]:
            return []
        return conn.query("SELECT version, status, statements_completed FROM dbwarden_migrations ORDER BY version")


def tables_of(url: str) -> set[str]:
    with connect(url) as conn:
        rows = conn.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows} - {"dbwarden_migrations", "dbwarden_lock", "dbwarden_log"}


def run_cli(project: ProjectDir, *args: str, timeout: float = 60) -> Result:
    """The CLI in a child process: a hang (CREATE INDEX CONCURRENTLY waiting on us) becomes a failure."""
    env = dict(os.environ, PGOPTIONS="-c statement_timeout=30000")
    proc = subprocess.run([sys.executable, "-m", "dbwarden_nb", *args], check=False, cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def project(tmp_path, pg_url) -> ProjectDir:
    return ProjectDir(tmp_path / "proj", pg_url, database_type="postgresql")


def test_failing_third_statement_leaves_schema_and_history_unchanged(project, pg_url):
    manual(project, 1, "base", "CREATE TABLE kept (id integer);", "DROP TABLE kept;")
    project.ok("migrate")
    manual(project, 2, "breaks", """
        CREATE TABLE one (id integer);
        ALTER TABLE kept ADD COLUMN extra integer;
        INSERT INTO no_such_table VALUES (1);
        CREATE TABLE four (id integer);
        """, "DROP TABLE four; ALTER TABLE kept DROP COLUMN extra; DROP TABLE one;")
    result = project.cli("migrate")
    assert result.code == 1
    line = error_line(result.err)
    assert "0002_breaks.sql failed at statement 3 of 4" in line and "no_such_table" in line
    assert "nothing of it was applied" in line
    assert tables_of(pg_url) == {"kept"}
    with connect(pg_url) as conn:
        assert conn.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'kept'")[0][0] == 1
    assert history(pg_url) == [(1, "applied", 1)]
    status = project.ok("--json", "status").json()
    assert [p["version"] for p in status["pending"]] == [2] and status["partial"] == []


CONCURRENT_UPGRADE = """
    CREATE TABLE items (id integer PRIMARY KEY, v integer);
    INSERT INTO items SELECT g, g % 7 FROM generate_series(1, 500) g;
    -- dbwarden: no-transaction
    CREATE INDEX CONCURRENTLY ix_items_v ON items (v);
    ALTER TABLE items ADD COLUMN w integer;
    """


NO_AUTOCOMMIT = ("bug: the runner runs a '-- dbwarden: no-transaction' statement with Connection.execute, which "
                 "opens a transaction first (Connection.execute_autocommit is never called), so CREATE INDEX "
                 "CONCURRENTLY fails: 'cannot run inside a transaction block'")


def test_create_index_concurrently_between_transactional_statements(project, pg_url):
    manual(project, 1, "concurrent", CONCURRENT_UPGRADE + "UPDATE items SET w = v;", """
        ALTER TABLE items DROP COLUMN w;
        -- dbwarden: no-transaction
        DROP INDEX CONCURRENTLY ix_items_v;
        DROP TABLE items;
        """)
    refused = run_cli(project, "migrate", "--lock-timeout", "5")  # a manual UPDATE of every row: CRITICAL
    assert refused.code == 1 and "is CRITICAL (rewrites every row (no WHERE): UPDATE items SET w = v)" in refused.err
    result = run_cli(project, "migrate", "--lock-timeout", "5", "--force")
    assert result.code == 0, result.err + result.out
    with connect(pg_url) as conn:
        rows = conn.query("SELECT i.indisvalid, i.indisready FROM pg_index i "
                          "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_items_v'")
        assert rows == [(True, True)]
        assert conn.query("SELECT count(*), count(w) FROM items")[0] == (500, 500)
    assert history(pg_url) == [(1, "applied", 5)]
    result = run_cli(project, "rollback", "--lock-timeout", "5", "--force")
    assert result.code == 0, result.err + result.out
    assert tables_of(pg_url) == set()
    assert history(pg_url) == []


def test_failure_after_concurrent_index_is_partial_and_resumes(project, pg_url):
    manual(project, 1, "resumable", CONCURRENT_UPGRADE + "INSERT INTO fixme VALUES (1);", """
        ALTER TABLE items DROP COLUMN w;
        -- dbwarden: no-transaction
        DROP INDEX CONCURRENTLY ix_items_v;
        DROP TABLE items;
        """)
    result = run_cli(project, "migrate", "--lock-timeout", "5")
    assert result.code == 1
    line = error_line(result.err)
    assert "0001_resumable.sql failed at statement 5 of 5" in line, line
    assert "3 statement(s) had run" in line and "continues from statement 4" in line, line
    assert history(pg_url) == [(1, "partial", 3)]
    with connect(pg_url) as conn:
        # the transactional chunk after the index (statements 4 and 5) was rolled back as a whole
        assert conn.query("SELECT count(*) FROM information_schema.columns "
                          "WHERE table_name = 'items' AND column_name = 'w'")[0][0] == 0
        assert conn.query("SELECT count(*) FROM items")[0][0] == 500
        assert conn.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_items_v'::regclass")[0][0]
        conn.execute("CREATE TABLE fixme (id integer)")
    status = project.cli("status")
    assert "partial" in status.out + status.err
    result = run_cli(project, "migrate", "--lock-timeout", "5")
    assert result.code == 0, result.err + result.out
    assert history(pg_url) == [(1, "applied", 5)]
    with connect(pg_url) as conn:
        assert conn.query("SELECT count(*) FROM fixme")[0][0] == 1  # statement 5 ran once
        assert conn.query("SELECT count(*) FROM items")[0][0] == 500  # statement 2 did not run again


def test_partial_after_no_transaction_statement_resumes(project, pg_url):
    """The runner's bookkeeping alone, with a no-transaction statement that also runs in a transaction."""
    manual(project, 1, "resumable", """
        CREATE TABLE items (id integer PRIMARY KEY, v integer);
        INSERT INTO items SELECT g, g % 7 FROM generate_series(1, 50) g;
        -- dbwarden: no-transaction
        CREATE INDEX ix_items_v ON items (v);
        ALTER TABLE items ADD COLUMN w integer;
        INSERT INTO fixme VALUES (1);
        """, "ALTER TABLE items DROP COLUMN w; DROP INDEX ix_items_v; DROP TABLE items;")
    result = project.cli("migrate")
    assert result.code == 1
    line = error_line(result.err)
    assert "0001_resumable.sql failed at statement 5 of 5" in line, line
    assert "3 statement(s) had run" in line and "continues from statement 4" in line, line
    assert history(pg_url) == [(1, "partial", 3)]
    with connect(pg_url) as conn:
        assert conn.query("SELECT count(*) FROM information_schema.columns "
                          "WHERE table_name = 'items' AND column_name = 'w'")[0][0] == 0
        assert conn.query("SELECT to_regclass('ix_items_v') IS NOT NULL")[0][0]
        conn.execute("CREATE TABLE fixme (id integer)")
    assert [r["version"] for r in project.ok("--json", "status").json()["partial"]] == [1]
    project.ok("migrate")
    assert history(pg_url) == [(1, "applied", 5)]
    with connect(pg_url) as conn:
        assert conn.query("SELECT count(*) FROM fixme")[0][0] == 1
        assert conn.query("SELECT count(*) FROM items")[0][0] == 50
    project.ok("rollback", "--force")  # its manual rollback drops a column and a table
    assert tables_of(pg_url) == {"fixme"}
    assert history(pg_url) == []


# =================================================================================================
# 4. The advisory lock
# =================================================================================================


def _holder(url: str):
    from dbwarden_nb.backends.postgresql.lock import AdvisoryLock

    conn = get_backend("postgresql").connect(sqlalchemy_url(url))
    lock = AdvisoryLock(conn)
    lock.acquire(5)
    pid = conn.query("SELECT pg_backend_pid()")[0][0]
    return conn, lock, pid


def _wait_free(project: ProjectDir, seconds: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        doc = project.ok("--json", "lock-status").json()
        if not doc["held"] or time.monotonic() > deadline:
            return doc
        time.sleep(0.1)


def test_advisory_lock(project, pg_url):
    manual(project, 1, "one", "CREATE TABLE one (id integer);", "DROP TABLE one;")
    assert project.ok("--json", "lock-status").json()["held"] is False
    assert "free" in project.ok("lock-status").out

    conn, lock, pid = _holder(pg_url)
    try:
        doc = project.ok("--json", "lock-status").json()
        assert doc["held"] is True and doc["kind"] == "advisory"
        assert lock.owner in doc["owner"] and str(pid) in doc["owner"]
        text = project.ok("lock-status").out
        assert lock.owner in text and str(pid) in text

        started = time.monotonic()
        result = project.cli("migrate", "--lock-timeout", "1")
        assert time.monotonic() - started < 10
        assert result.code == 1
        line = one_line(result.err)
        assert lock.owner in line and str(pid) in line, line
        assert history(pg_url) == []
    finally:
        conn.close()  # no unlock: the server releases the lock when the session ends

    assert _wait_free(project)["held"] is False
    project.ok("migrate", "--lock-timeout", "5")
    assert history(pg_url) == [(1, "applied", 1)]

    conn, lock, pid = _holder(pg_url)
    try:
        released = project.ok("--json", "unlock").json()
        assert released["released"] is True and str(pid) in released["owner"]
        assert _wait_free(project)["held"] is False
        with pytest.raises(Exception):  # noqa: B017  the driver's own error for a terminated session
            conn.query("SELECT 1")
    finally:
        try:
            conn.close()
        except Exception:
            pass
    assert "not held" in project.ok("unlock").out


# =================================================================================================
# 5. Enum value additions
# =================================================================================================

ENUM_MODEL = """
    class Person(Base):
        __tablename__ = "people"
        id: Mapped[int] = mapped_column(primary_key=True)
        mood = mapped_column(sa.Enum({values}, name="mood"){extra})
    """


def test_enum_value_addition_is_irreversible(project, pg_url):
    project.models(ENUM_MODEL.format(values="'happy', 'sad'", extra=""))
    project.ok("make-migrations", "people")
    project.ok("migrate")
    with connect(pg_url) as conn:
        conn.execute("INSERT INTO people (mood) VALUES ('happy'), ('sad')")

    project.models(ENUM_MODEL.format(values="'happy', 'meh', 'sad', 'ecstatic'", extra=""))
    project.ok("make-migrations", "more moods")
    text = project.migration_files()[-1].read_text()
    upgrade, rollback = text.split("-- rollback", 1)
    assert """ALTER TYPE "mood" ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad'""" in upgrade
    assert """ALTER TYPE "mood" ADD VALUE IF NOT EXISTS 'ecstatic'""" in upgrade
    assert "-- dbwarden: irreversible" in rollback

    refused = project.cli("migrate")
    assert refused.code == 1 and "--force" in one_line(refused.err)
    project.ok("migrate", "--force")
    with connect(pg_url) as conn:
        labels = conn.query("SELECT enum_range(NULL::mood)::text")[0][0]
        conn.execute("INSERT INTO people (mood) VALUES ('meh'), ('ecstatic')")
    assert labels == "{happy,meh,sad,ecstatic}"
    assert project.ok("diff", "--check")

    refused = project.cli("rollback")
    assert refused.code == 1
    line = one_line(refused.err)
    assert "irreversible" in line and "--force" in line and "0002_more_moods.sql" in line
    assert [r[0] for r in history(pg_url)] == [1, 2]

    project.ok("rollback", "--force")
    assert [r[0] for r in history(pg_url)] == [1]
    with connect(pg_url) as conn:  # the values stay: PostgreSQL cannot remove them, as the marker says
        assert conn.query("SELECT enum_range(NULL::mood)::text")[0][0] == "{happy,meh,sad,ecstatic}"
        assert conn.query("SELECT count(*) FROM people")[0][0] == 4
    project.ok("migrate", "--force")  # and the migration applies again over the values it left
    assert [r[0] for r in history(pg_url)] == [1, 2]
    assert project.cli("diff", "--check").code == 0


def test_enum_value_added_and_used_as_default_in_one_migration(project, pg_url):
    project.models(ENUM_MODEL.format(values="'happy', 'sad'", extra=""))
    project.ok("make-migrations", "people")
    project.ok("migrate")
    project.models(ENUM_MODEL.format(values="'happy', 'sad', 'meh'", extra=", server_default='meh'"))
    project.ok("make-migrations", "default meh")
    project.ok("migrate", "--force")
    assert project.ok("diff", "--check")


# =================================================================================================
# 6. Type changes with USING
# =================================================================================================


def test_type_changes_with_using_keep_rows(project, pg_url):
    project.models("""
        class Thing(Base):
            __tablename__ = "things"
            id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
            n: Mapped[int] = mapped_column(sa.Integer)
            s: Mapped[str] = mapped_column(sa.String(10))
        """)
    project.ok("make-migrations", "things")
    project.ok("migrate")
    with connect(pg_url) as conn:
        conn.execute("INSERT INTO things (n, s) VALUES (5, '42'), (2147483647, ' -7')")

    project.models("""
        class Thing(Base):
            __tablename__ = "things"
            id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
            n: Mapped[int] = mapped_column(sa.BigInteger)
            s: Mapped[int] = mapped_column(sa.Integer)
        """)
    project.ok("make-migrations", "widen")
    upgrade = project.migration_files()[-1].read_text().split("-- rollback")[0]
    assert 'USING "s"::integer' in upgrade
    project.ok("migrate", "--force")
    with connect(pg_url) as conn:
        types_ = dict(conn.query("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'things'"))
        assert types_ == {"id": "bigint", "n": "bigint", "s": "integer"}
        assert conn.query("SELECT id, n, s FROM things ORDER BY id") == [(1, 5, 42), (2, 2147483647, -7)]
        conn.execute("INSERT INTO things (n, s) VALUES (2147483648 * 4, 1)")
        assert conn.query("SELECT id FROM things ORDER BY id DESC LIMIT 1")[0][0] == 3
        conn.execute("DELETE FROM things WHERE id = 3")
    project.ok("diff", "--check")
    again = project.ok("make-migrations", "again")
    assert "nothing written" in again.out

    project.ok("rollback", "--force")
    with connect(pg_url) as conn:
        types_ = dict(conn.query("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'things'"))
        assert types_ == {"id": "integer", "n": "integer", "s": "character varying"}
        assert conn.query("SELECT n, s FROM things ORDER BY id") == [(5, "42"), (2147483647, "-7")]


# =================================================================================================
# Model side, found while building the matrix
# =================================================================================================


def test_offline_diff_without_cache_agrees_with_stored_snapshot(project):
    project.models("""
        class Parent(Base):
            __tablename__ = "parent"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(10), unique=True)

        class Child(Base):
            __tablename__ = "child"
            id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
            parent_id: Mapped[int] = mapped_column(sa.ForeignKey("parent.id"))
        """)
    project.ok("make-migrations", "init")
    project.ok("diff", "--offline", "--check")
    import shutil

    shutil.rmtree(project.root / ".dbwarden" / "primary" / "cache")  # README: "the cache may be git-ignored"
    result = project.cli("diff", "--offline", "--check")
    assert result.code == 0, result.out + result.err


def test_column_level_check_constraint_reaches_the_database(project, pg_url):
    project.models("""
        class Stock(Base):
            __tablename__ = "stock"
            id: Mapped[int] = mapped_column(primary_key=True)
            qty: Mapped[int] = mapped_column(sa.CheckConstraint("qty >= 0", name="ck_stock_qty"))
        """)
    project.ok("make-migrations", "stock")
    assert "ck_stock_qty" in project.migration_files()[-1].read_text()
    project.ok("migrate")
    with connect(pg_url) as conn:
        assert conn.query("SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = 'stock'::regclass") == [("ck_stock_qty",)]


# =================================================================================================
# 7. A password in the URL never leaks
# =================================================================================================

PASSWORD = "S3cr3t-Pw-zq9"


def test_password_never_appears_in_output_or_files(tmp_path, pg_url):
    from sqlalchemy.engine import make_url

    role = f"dbw_secret_{uuid.uuid4().hex[:6]}"
    admin = connect(pg_url)
    admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}' SUPERUSER")
    try:
        base = make_url(pg_url)
        url = f"postgresql://{role}:{PASSWORD}@{base.host}:{base.port}/{base.database}"
        project = ProjectDir(tmp_path / "secret", url, database_type="postgresql")
        project.models("""
            class Account(Base):
                __tablename__ = "accounts"
                id: Mapped[int] = mapped_column(primary_key=True)
                email: Mapped[str] = mapped_column(sa.String(200), unique=True)
            """)
        outputs: list[Result] = []

        def run(*args: str, expect: int | None = 0) -> Result:
            result = project.cli(*args)
            outputs.append(result)
            if expect is not None:
                assert result.code == expect, f"{args}: {result.err}{result.out}".replace(PASSWORD, "<PASSWORD>")
            return result

        run("make-migrations", "accounts")
        run("migrate")
        run("status")
        run("--json", "status")
        run("diff")
        run("--json", "diff")
        run("snapshot", "--out", "json")
        run("generate-models")
        run("generate-models", "--output", "generated")
        run("history")
        run("--json", "history")
        run("config")
        run("--json", "config")
        run("lock-status")
        run("--json", "lock-status")
        run("new", "broken")
        broken = project.migration_files()[-1]
        broken.write_text(broken.read_text().replace(
            "-- write the upgrade statements here, each ending with ;",
            "CREATE TABLE audit (id integer);\nSELECT current_setting('no.such_setting');"))
        failed = run("migrate", expect=1)
        assert "failed at statement 2" in failed.err
        run("--json", "migrate", expect=1)
        # an unreachable server with the same credentials
        (project.root / "dbwarden_down.py").write_text((project.root / "dbwarden.py").read_text().replace(
            f"{base.host}:{base.port}", f"{base.host}:1"))
        down = run("--config", "dbwarden_down.py", "status", expect=1)
        assert "***" in down.err

        masked = run("config").out
        assert "***" in masked
        for result in outputs:
            assert PASSWORD not in result.out and PASSWORD not in result.err, result
        leaked = []
        for path in project.root.rglob("*"):
            if not path.is_file() or path.name in ("dbwarden.py", "dbwarden_down.py"):
                continue
            if path.parent.name == "__pycache__" and path.name.startswith("dbwarden"):
                continue  # the user's own config, compiled
            if PASSWORD.encode() in path.read_bytes():
                leaked.append(str(path.relative_to(project.root)))
        assert leaked == []
    finally:
        admin.execute(f"REASSIGN OWNED BY {role} TO CURRENT_USER")
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()
