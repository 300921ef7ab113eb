"""MySQL and MariaDB backend tests on real servers (each test runs on both): the type matrix (offline
canonical spelling of every SQLAlchemy and mysql-dialect type against what the server reports), the
GET_LOCK migration lock, a migration that fails half-way (``partial`` history, then continued), and
introspection whose query count does not grow with the number of tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from projects import ProjectDir
from sqlalchemy.dialects import mysql

from dbwarden_nb.backends import get_backend
from dbwarden_nb.config import sqlalchemy_url
from dbwarden_nb.errors import LockError

SERVERS = ["mysql", "mariadb"]


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(backend name, URL of a fresh database) on each server."""
    yield request.param, request.getfixturevalue(f"{request.param}_url")


def connect(server: tuple[str, str]) -> Any:
    kind, url = server
    return get_backend(kind).connect(sqlalchemy_url(url))


# -- the type matrix ------------------------------------------------------------------------------

TYPES: list[Any] = [
    sa.Integer(), sa.BigInteger(), sa.SmallInteger(), sa.Boolean(), sa.String(10), sa.Unicode(12), sa.Text(),
    sa.Text(100), sa.Text(1000), sa.Text(100000), sa.UnicodeText(), sa.Numeric(10, 2), sa.Numeric(), sa.Numeric(8),
    sa.Float(), sa.Float(30), sa.Double(), sa.REAL(), sa.DateTime(), sa.DateTime(timezone=True), sa.Date(), sa.Time(),
    sa.TIMESTAMP(), sa.LargeBinary(), sa.LargeBinary(300), sa.JSON(), sa.Uuid(), sa.Enum("a", "b'c", name="e"),
    sa.CHAR(3), sa.NCHAR(3), sa.NVARCHAR(4), sa.BINARY(3), sa.VARBINARY(4), sa.Interval(),
    mysql.INTEGER(unsigned=True, zerofill=True), mysql.INTEGER(display_width=5), mysql.INTEGER(unsigned=True),
    mysql.TINYINT(1), mysql.TINYINT(), mysql.TINYINT(unsigned=True), mysql.SMALLINT(zerofill=True), mysql.MEDIUMINT(),
    mysql.MEDIUMINT(unsigned=True), mysql.BIGINT(unsigned=True), mysql.BIGINT(display_width=12, zerofill=True),
    mysql.DECIMAL(10, 2, unsigned=True), mysql.DECIMAL(), mysql.NUMERIC(5), mysql.DOUBLE(unsigned=True),
    mysql.FLOAT(unsigned=True), mysql.REAL(), mysql.ENUM("x", "y"), mysql.SET("a", "b"), mysql.BIT(), mysql.BIT(5),
    mysql.YEAR(), mysql.DATETIME(fsp=6), mysql.TIMESTAMP(fsp=3), mysql.TIME(fsp=2), mysql.VARCHAR(10, charset="latin1"),
    mysql.VARCHAR(10, binary=True), mysql.TINYTEXT(), mysql.MEDIUMTEXT(), mysql.LONGTEXT(), mysql.TINYBLOB(),
    mysql.MEDIUMBLOB(), mysql.LONGBLOB(), mysql.JSON(), mysql.NVARCHAR(5), mysql.NCHAR(2), mysql.CHAR(3, collation="latin1_bin"),
    mysql.BOOLEAN(), mysql.DOUBLE(10, 2), mysql.FLOAT(7, 3),
]


def test_type_matrix(server: tuple[str, str]) -> None:
    """Each type created by SQLAlchemy's own DDL: the offline canonical spelling equals what the server reports."""
    kind, _url = server
    backend = get_backend(kind)
    table = sa.Table("matrix", sa.MetaData(), *(sa.Column(f"c{i}", t) for i, t in enumerate(TYPES)))
    ddl = str(sa.schema.CreateTable(table).compile(dialect=backend.dialect()))
    with connect(server) as conn:
        # offline, TEXT(n) is sized for utf8mb4 (4 bytes a character); a throwaway server defaults to latin1
        conn.execute("ALTER DATABASE CHARACTER SET utf8mb4")
        conn.execute(ddl)
        live = backend.introspect(conn).tables["matrix"]
    from dbwarden_nb.models.extract import Extractor

    ex = Extractor(backend)
    mismatches = []
    for i, t in enumerate(TYPES):
        offline = ex.type(table.c[f"c{i}"])
        reported = live.column(f"c{i}").type
        if offline != reported:
            mismatches.append(f"{t!r}: offline {offline!r}, {kind} reports {reported!r}")
    assert not mismatches, "\n".join(mismatches)


# -- the migration lock ---------------------------------------------------------------------------


def test_get_lock(server: tuple[str, str]) -> None:
    with connect(server) as a, connect(server) as b:
        backend = a.backend
        first, second = backend.lock(a), backend.lock(b)
        assert not second.status().held
        first.acquire(timeout=1)
        status = second.status()
        holder = a.query("SELECT CONNECTION_ID()")[0][0]
        assert status.held and status.kind == "get_lock" and f"connection {holder}" in (status.owner or "")
        assert "this session" in (first.status().owner or "")
        assert not second.try_acquire()
        with pytest.raises(LockError, match=f"held by connection {holder}"):
            second.acquire(timeout=1)
        first.release()
        assert not second.status().held
        second.acquire(timeout=1)
        assert first.status().held and not first.try_acquire()
        second.release()


def test_unlock_ends_the_holder(server: tuple[str, str]) -> None:
    with connect(server) as a, connect(server) as b:
        holder = a.backend.lock(a)
        holder.acquire(timeout=1)
        before = b.backend.lock(b).force_release()
        assert before.held
        import time

        for _ in range(50):  # KILL is asynchronous
            if not b.backend.lock(b).status().held:
                break
            time.sleep(0.1)
        assert not b.backend.lock(b).status().held


def test_lock_status_command(server: tuple[str, str], tmp_path: Path) -> None:
    kind, url = server
    project = ProjectDir(tmp_path / "proj", url, database_type=kind)
    assert "free" in project.ok("lock-status").out
    with connect(server) as conn:
        lock = conn.backend.lock(conn)
        lock.acquire(timeout=1)
        cid = conn.query("SELECT CONNECTION_ID()")[0][0]
        out = project.ok("lock-status").out
        assert f"held by connection {cid}" in out
        project.ok("new", "manual")
        waited = project.cli("migrate", "--lock-timeout", "1")
        lock.release()
    assert waited.code == 1 and f"migration lock is held by connection {cid}" in waited.err


# -- a migration that fails half-way ---------------------------------------------------------------


def test_partial_migration_continues(server: tuple[str, str], tmp_path: Path) -> None:
    kind, url = server
    project = ProjectDir(tmp_path / "proj", url, database_type=kind)
    project.ok("new", "half way")
    path = project.migration_files()[0]
    path.write_text(path.read_text().replace(
        "-- write the upgrade statements here, each ending with ;\n",
        "CREATE TABLE first_one (id int PRIMARY KEY);\n"
        "CREATE TABLE second_one (id int PRIMARY KEY);\n"
        "INSERT INTO later (id) VALUES (1);\n"
        "CREATE TABLE fourth_one (id int PRIMARY KEY);\n",
    ).replace("-- rollback\n", "-- rollback\nDROP TABLE fourth_one;\nDROP TABLE second_one;\nDROP TABLE first_one;\n"))
    failed = project.cli("migrate")
    assert failed.code == 1
    assert "failed at statement 3 of 4" in failed.err and "recorded as partial" in failed.err
    assert "continues from statement 3" in failed.err
    (row,) = project.ok("--json", "history").json()["history"]
    assert (row["status"], row["statements_completed"]) == ("partial", 2)
    with connect(server) as conn:
        tables = {r[0] for r in conn.query("SHOW TABLES")}
        assert {"first_one", "second_one"} <= tables and "fourth_one" not in tables
        conn.execute("CREATE TABLE later (id int)")  # what the failed statement needed
    project.ok("migrate")  # CREATE TABLE first_one again would fail: it continues at statement 3
    with connect(server) as conn:
        assert {"first_one", "second_one", "fourth_one"} <= {r[0] for r in conn.query("SHOW TABLES")}
        assert conn.query("SELECT id FROM later") == [(1,)]
    (row,) = project.ok("--json", "history").json()["history"]
    assert (row["status"], row["statements_completed"]) == ("applied", 4)


# -- introspection cost ---------------------------------------------------------------------------


def _count_queries(conn: Any) -> tuple[int, Any]:
    count = 0

    def before(*args: Any) -> None:
        nonlocal count
        count += 1

    sa.event.listen(conn.sqlalchemy, "before_cursor_execute", before)
    try:
        snap = conn.backend.introspect(conn)
    finally:
        sa.event.remove(conn.sqlalchemy, "before_cursor_execute", before)
    return count, snap


def test_introspection_query_count_is_constant(server: tuple[str, str]) -> None:
    with connect(server) as conn:
        def create(n: int, start: int) -> None:
            for i in range(start, start + n):
                conn.execute(
                    f"CREATE TABLE t{i} (id int PRIMARY KEY, ref int, name varchar(20) DEFAULT 'x', "
                    f"KEY ix_name_{i} (name), CHECK (id > 0)"
                    + (f", CONSTRAINT fk_{i} FOREIGN KEY (ref) REFERENCES t{i - 1} (id))" if i else ")")
                )

        create(3, 0)
        few, small = _count_queries(conn)
        create(57, 3)
        many, large = _count_queries(conn)
    assert len(small.tables) == 3 and len(large.tables) == 60
    assert few == many, f"{few} queries for 3 tables, {many} for 60"


# -- make-migrations --verify ---------------------------------------------------------------------


def test_verify_in_a_scratch_database(server: tuple[str, str], tmp_path: Path) -> None:
    """--verify applies the upgrade and the rollback in a scratch copy and leaves the database alone."""
    kind, url = server
    project = ProjectDir(tmp_path / "proj", url, database_type=kind)
    project.models("""
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
        """)
    project.ok("make-migrations", "first")
    project.ok("migrate")
    project.models("""
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str | None] = mapped_column(sa.String(20), index=True)
        """)
    made = project.ok("make-migrations", "second", "--verify")
    assert "0002_second.sql" in made.out
    with connect(server) as conn:
        assert {r[0] for r in conn.query("SHOW TABLES")} == {"items", "dbwarden_migrations", "dbwarden_log"}
        assert not conn.query("SHOW DATABASES LIKE 'dbwarden\\_verify\\_%'")
        assert "name" not in {c.name for c in conn.backend.introspect(conn).tables["items"].columns}
