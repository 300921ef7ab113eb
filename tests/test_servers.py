"""Each database fixture gives a real, fresh database: create a table, insert a row, read it back."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

DRIVERS = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql", "mysql": "mysql+pymysql"}


def roundtrip(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == []  # fresh and empty
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
            conn.execute(sa.text("INSERT INTO t VALUES (1, 'one')"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, name FROM t")).all() == [(1, "one")]
    finally:
        engine.dispose()


def with_driver(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{DRIVERS[scheme]}://{rest}"


def test_pg_url(pg_url):
    assert re.fullmatch(r"postgresql://postgres@127\.0\.0\.1:\d+/dbw_[0-9a-f]{8}", pg_url)
    roundtrip(with_driver(pg_url))


def test_mariadb_url(mariadb_url, mariadb_server):
    assert re.fullmatch(r"mariadb://root@127\.0\.0\.1:\d+/dbw_[0-9a-f]{8}", mariadb_url)
    assert "MariaDB" in mariadb_server.version
    roundtrip(with_driver(mariadb_url))


def test_mysql_url(mysql_url, mysql_server):
    assert re.fullmatch(r"mysql://root@127\.0\.0\.1:\d+/dbw_[0-9a-f]{8}", mysql_url)
    assert "MariaDB" not in mysql_server.version
    roundtrip(with_driver(mysql_url))


def test_sqlite_url(sqlite_url, tmp_path):
    assert sqlite_url == f"sqlite:///{tmp_path}/test.db"
    roundtrip(sqlite_url)


def test_clickhouse_url(clickhouse_url, chdb_path):
    from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client

    database = clickhouse_url.rsplit("=", 1)[1]
    assert clickhouse_url == f"chdb://{chdb_path}?database={database}"
    assert re.fullmatch(r"dbw_[0-9a-f]{8}", database)
    client = get_chdb_client(chdb_path)
    assert client.query(f"SHOW TABLES FROM {database}").result_rows == []
    client.command(f"CREATE TABLE {database}.t (id Int32, name String) ENGINE = MergeTree ORDER BY id")
    client.insert(f"{database}.t", [(1, "one")], column_names=["id", "name"])
    assert client.query(f"SELECT id, name FROM {database}.t").result_rows == [(1, "one")]


def test_clickhouse_client(clickhouse_client, clickhouse_url):
    database = clickhouse_url.rsplit("=", 1)[1]
    assert clickhouse_client.query("SELECT currentDatabase()").result_rows == [(database,)]
    clickhouse_client.command("CREATE TABLE t (id Int32, name String) ENGINE = MergeTree ORDER BY id")
    clickhouse_client.insert("t", [(1, "one")], column_names=["id", "name"])
    assert clickhouse_client.query(f"SELECT id, name FROM {database}.t").result_rows == [(1, "one")]


@pytest.mark.parametrize("kind", ["postgresql", "mariadb", "mysql"])
def test_databases_are_dropped(kind, request):
    server = request.getfixturevalue(f"{kind}_server")
    name = server.create_database()
    roundtrip(server.sqlalchemy_url(name))
    engine = sa.create_engine(server.sqlalchemy_url(name))
    conn = engine.connect()  # left open on purpose: the drop must not wait for it
    conn.execute(sa.text("SELECT 1"))
    server.drop_database(name)
    conn.invalidate()  # the server ended its session
    engine.dispose()
    if kind == "postgresql":
        exists = sa.text("SELECT count(*) FROM pg_database WHERE datname = :name")
    else:
        exists = sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name")
    admin = sa.create_engine(server.sqlalchemy_url())
    try:
        with admin.connect() as conn:
            assert conn.execute(exists, {"name": name}).scalar() == 0
    finally:
        admin.dispose()


def test_chdb_client_is_shared_and_single_directory(chdb_path, tmp_path):
    from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client
    from dbwarden_nb.errors import BackendError

    assert get_chdb_client(chdb_path) is get_chdb_client(chdb_path + "/")
    with pytest.raises(BackendError, match="only one per process"):
        get_chdb_client(str(tmp_path))
