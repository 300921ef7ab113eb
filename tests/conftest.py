"""Shared pytest fixtures."""

from __future__ import annotations

import os
import signal
import sys
from urllib.parse import parse_qs, quote, urlsplit

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `servers` stays importable under any --import-mode
import servers
from hypothesis import settings

# In CI ($CI set) property tests are derandomized: the same cases on every run, no example database.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# =================================================================================================
# Real databases. Each URL fixture is a FRESH, EMPTY database for one test, dropped afterwards:
#   pg_url          postgresql://postgres@127.0.0.1:PORT/dbw_<hex>   (use postgresql+psycopg://)
#   mariadb_url     mariadb://root@127.0.0.1:PORT/dbw_<hex>          (use mariadb+pymysql://)
#   mysql_url       mysql://root@127.0.0.1:PORT/dbw_<hex>            (use mysql+pymysql://)
#   clickhouse_url  chdb:///ABS/DATA/DIR?database=dbw_<hex>
#   clickhouse_client  the process-wide chDB client, its default database set to that one
#   sqlite_url      sqlite:////<tmp_path>/test.db
# Servers come from DBWARDEN_TEST_{POSTGRESQL,MARIADB,MYSQL}_URL (admin URLs of existing servers)
# or are throwaway ones started lazily, once per session (see servers.py). A server that cannot be
# provisioned fails its tests, unless DBWARDEN_TEST_ALLOW_MISSING lists it
# (postgresql,mariadb,mysql,clickhouse): then they are skipped.
# The hooks pytest_report_header and pytest_terminal_summary live here: extend, do not redefine.
# =================================================================================================

_used_servers: list[str] = []  # what this run provisioned, for the terminal summary


@pytest.fixture(autouse=True)
def _forget_project_modules(tmp_path_factory):
    """Model modules a test imported from its temporary projects, and those projects on sys.path, are forgotten
    after it: projects made by ``dbwarden init`` all name theirs ``models``, and the next test's must not be found
    in sys.modules or in an earlier project's folder instead."""
    yield
    base = os.path.realpath(tmp_path_factory.getbasetemp()) + os.sep
    for name, module in list(sys.modules.items()):
        if os.path.realpath(getattr(module, "__file__", None) or "").startswith(base):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not os.path.realpath(p).startswith(base)]


def _allowed_missing() -> set[str]:
    return {kind.strip() for kind in os.environ.get("DBWARDEN_TEST_ALLOW_MISSING", "").split(",")}


def _provision(kind: str, start):
    try:
        return start()
    except Exception as exc:
        error = exc  # reported below, outside the except block, to keep the report one message
    if kind in _allowed_missing():
        pytest.skip(f"{kind} unavailable (allowed by DBWARDEN_TEST_ALLOW_MISSING): {error}")
    pytest.fail(
        f"cannot provision {kind}: {error}\n(set DBWARDEN_TEST_ALLOW_MISSING={kind} to skip its tests instead)",
        pytrace=False,
    )


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _serve(kind: str):
    # A CI timeout's SIGTERM would end pytest without teardown, leaking the servers; as an
    # interrupt, pytest still runs the finalizers.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    server = _provision(kind, lambda: servers.server_for(kind))
    _used_servers.append(server.describe())
    yield server
    server.stop()


def _fresh_database(server: servers.Server):
    name = server.create_database()
    yield server.database_url(name)
    server.drop_database(name)


@pytest.fixture(scope="session")
def postgresql_server():
    yield from _serve("postgresql")


@pytest.fixture(scope="session")
def mariadb_server():
    yield from _serve("mariadb")


@pytest.fixture(scope="session")
def mysql_server():
    yield from _serve("mysql")


@pytest.fixture
def pg_url(postgresql_server):
    yield from _fresh_database(postgresql_server)


@pytest.fixture
def mariadb_url(mariadb_server):
    yield from _fresh_database(mariadb_server)


@pytest.fixture
def mysql_url(mysql_server):
    yield from _fresh_database(mysql_server)


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory):
    """The chDB data directory of this pytest process (chDB allows one per process)."""
    path = str(tmp_path_factory.mktemp("chdb"))

    def start():
        from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client

        return get_chdb_client(path)

    client = _provision("clickhouse", start)
    _used_servers.append(f"clickhouse {client.server_version} (chdb, {path})")
    yield path
    from dbwarden_nb.backends.clickhouse.chdb import close_chdb_clients

    close_chdb_clients()


@pytest.fixture
def clickhouse_url(chdb_path):
    from clickhouse_connect.driver.binding import quote_identifier

    from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client

    name = servers.fresh_name()
    get_chdb_client(chdb_path, "default").command(f"CREATE DATABASE {quote_identifier(name)}")
    yield f"chdb://{quote(chdb_path)}?database={name}"
    # back to "default" first: the shared client may still have the dropped database selected
    get_chdb_client(chdb_path, "default").command(f"DROP DATABASE IF EXISTS {quote_identifier(name)} SYNC")


@pytest.fixture
def clickhouse_client(clickhouse_url, chdb_path):
    """The shared chDB client with the test's database as its default (``client.database``);
    fully qualified names work too."""
    from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client

    (database,) = parse_qs(urlsplit(clickhouse_url).query)["database"]
    return get_chdb_client(chdb_path, database)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def fresh_url(request, tmp_path):
    """``fresh_url(url)``: another new, empty database on the server of ``url`` (dropped afterwards), for a database
    rebuilt from generated models to be compared with the original."""
    made: list = []

    def make(url: str) -> str:
        scheme = url.split(":", 1)[0].split("+")[0]
        if scheme == "sqlite":
            return f"sqlite:///{tmp_path / f'fresh_{len(made)}.db'}"
        if scheme == "chdb":
            from clickhouse_connect.driver.binding import quote_identifier

            from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client

            path = request.getfixturevalue("chdb_path")
            name = servers.fresh_name()
            get_chdb_client(path, "default").command(f"CREATE DATABASE {quote_identifier(name)}")
            made.append(lambda: get_chdb_client(path, "default").command(
                f"DROP DATABASE IF EXISTS {quote_identifier(name)} SYNC"))
            return f"chdb://{quote(path)}?database={name}"
        server = request.getfixturevalue({"postgresql": "postgresql_server", "mariadb": "mariadb_server",
                                          "mysql": "mysql_server"}[scheme])
        name = server.create_database()
        made.append(lambda: server.drop_database(name))
        return server.database_url(name)

    yield make
    for drop in made:
        drop()


def pytest_report_header(config):
    sources = [f"{kind}: {servers.describe_source(kind)}" for kind in servers.KINDS]
    sources.append("clickhouse: chdb, in-process, one data directory in a tmp dir per pytest process")
    allowed = os.environ.get("DBWARDEN_TEST_ALLOW_MISSING")
    if allowed:
        sources.append(f"DBWARDEN_TEST_ALLOW_MISSING={allowed}")
    return sources


def pytest_terminal_summary(terminalreporter):
    corpus = sys.modules.get("corpus")
    for line in getattr(corpus, "NOT_RUN", ()):
        terminalreporter.write_sep("!", line)
    if _used_servers:
        terminalreporter.write_sep("-", "database servers used")
        for line in _used_servers:
            terminalreporter.write_line(line)


# =================================================================================================
# End of the real-database section.
# =================================================================================================
