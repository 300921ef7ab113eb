"""Configuration (dbwarden.py, URLs, masking) and model loading. No database needed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper

from dbwarden_nb import config
from dbwarden_nb.backends.clickhouse.connection import parse_clickhouse_url
from dbwarden_nb.config import (
    DatabaseConfig,
    ProjectConfig,
    database_config,
    find_config,
    load_config,
    mask_text,
    mask_url,
    session_config,
    sqlalchemy_url,
)
from dbwarden_nb.errors import ConfigError
from dbwarden_nb.models.loader import load_tables

REPO_ROOT = Path(__file__).resolve().parents[1]
IMPORT = "from dbwarden_nb import database_config\n"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own session registry, sys.path and model modules (tests reuse package names)."""
    monkeypatch.delenv("DBWARDEN_CONFIG", raising=False)
    monkeypatch.setattr(config._SESSION, "databases", {})
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    registries = set()
    for name, module in list(sys.modules.items()):
        locations = [getattr(module, "__file__", None) or "", *getattr(module, "__path__", [])]
        if any(location and Path(location).is_relative_to(tmp_path) for location in locations):
            del sys.modules[name]
            mappers = (sa_inspect(value, raiseerr=False) for value in vars(module).values() if isinstance(value, type))
            registries.update(mapper.registry for mapper in mappers if isinstance(mapper, Mapper))
    # Half-collected classes of this test must not break a later configure_mappers() anywhere in the session.
    for registry in registries:
        registry.dispose(cascade=True)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def write_config(root: Path, body: str) -> Path:
    write(root, {"dbwarden.py": IMPORT + textwrap.dedent(body)})
    return (root / "dbwarden.py").resolve()


def config_error(root: Path, body: str) -> str:
    path = write_config(root, body)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


PG = 'database_type="postgresql", database_url="postgresql://u:pw@h/db"'


# ---------------------------------------------------------------------------------------------- loading


def test_load_config_reads_every_database(tmp_path):
    path = write_config(
        tmp_path,
        f"""
        database_config("primary", default=True, {PG}, dev_database_url="sqlite:///./dev.db",
                        model_paths=["app.models"])
        database_config("events", database_type="clickhouse", database_url="clickhouse://h/ev",
                        migrations_dir="db/events", model_paths="events.py", cluster="c1")
        """,
    )
    project = load_config(path)
    assert project.root == tmp_path.resolve() and project.path == path
    assert list(project.databases) == ["primary", "events"]
    primary, events = project.get(), project.get("events")
    assert primary.database_name == "primary" and project.default_name == "primary"
    assert primary.model_paths == ("app.models",) and events.model_paths == ("events.py",)
    assert primary.migrations_path == tmp_path.resolve() / "migrations" / "primary"
    assert events.migrations_path == tmp_path.resolve() / "db" / "events"
    assert primary.snapshots_path == tmp_path.resolve() / ".dbwarden" / "primary" / "snapshots"
    assert primary.backend_name() == "postgresql" and primary.backend_name(dev=True) == "sqlite"
    assert str(tmp_path.resolve()) in sys.path


def test_dbwarden_py_imports_the_registry_function_from_the_package():
    import dbwarden_nb

    assert dbwarden_nb.database_config is database_config


def test_root_goes_on_sys_path_once(tmp_path):
    path = write_config(tmp_path, f"database_config('main', {PG})")
    load_config(path)
    load_config(path)
    assert sys.path.count(str(path.parent)) == 1


def test_dbwarden_py_can_import_project_modules(tmp_path):
    write(tmp_path, {"settings.py": "URL = 'sqlite:///app.db'\n"})
    path = write_config(
        tmp_path, "from settings import URL\ndatabase_config('main', database_type='sqlite', database_url=URL)"
    )
    assert load_config(path).get().url() == "sqlite:///app.db"


def test_same_name_replaces_the_entry(tmp_path):
    path = write_config(
        tmp_path,
        f"""
        database_config("main", {PG})
        database_config("other", default=True, database_type="sqlite", database_url="sqlite:///o.db")
        database_config("main", database_type="sqlite", database_url="sqlite:///m.db")
        """,
    )
    project = load_config(path)
    assert list(project.databases) == ["main", "other"]
    assert project.get("main").database_type == "sqlite"


def test_session_registry_outside_a_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database_config("nb", database_type="sqlite", database_url="sqlite:///a.db")
    database_config("nb", database_type="sqlite", database_url="sqlite:///b.db")  # a re-run cell
    project = session_config()
    assert list(project.databases) == ["nb"] and project.path is None
    assert project.get().url() == "sqlite:///b.db" and project.get().root == Path.cwd()


def test_load_does_not_touch_the_session(tmp_path):
    load_config(write_config(tmp_path, f"database_config('main', {PG})"))
    with pytest.raises(ConfigError, match=r"^no database configured"):
        session_config()


def test_load_config_accepts_a_folder(tmp_path):
    write_config(tmp_path, f"database_config('main', {PG})")
    assert load_config(tmp_path).path == (tmp_path / "dbwarden.py").resolve()


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.py")


# ---------------------------------------------------------------------------------------------- errors


def test_exception_in_dbwarden_py_is_one_line_with_location(tmp_path):
    path = write_config(tmp_path, "x = 1\nraise ValueError('bad\\nthing')\n")
    assert config_error(tmp_path, "x = 1\nraise ValueError('bad\\nthing')\n") == f"{path}:3: ValueError: bad thing"


def test_syntax_error_in_dbwarden_py(tmp_path):
    message = config_error(tmp_path, "database_config(\n")
    assert message.startswith(f"{tmp_path.resolve() / 'dbwarden.py'}:2: SyntaxError: ")
    assert "\n" not in message


def test_unknown_keyword(tmp_path):
    message = config_error(tmp_path, f"database_config('primary', {PG}, databse_type='x')")
    assert message == (
        f"{tmp_path.resolve() / 'dbwarden.py'}:2: ConfigError: database 'primary': "
        "unknown keyword 'databse_type' for database_config (did you mean 'database_type'?)"
    )
    with pytest.raises(ConfigError, match=r"^database 'primary': unknown keyword 'zzz' .*expected one of"):
        database_config("primary", database_type="sqlite", database_url="sqlite://", zzz=1)


def test_unknown_database_type():
    with pytest.raises(ConfigError) as caught:
        database_config("x", database_type="oracle", database_url="oracle://h")
    assert str(caught.value) == (
        "database 'x': unknown database_type 'oracle' (expected one of postgresql, mysql, mariadb, clickhouse, sqlite)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"database_url": "sqlite://"}, "database 'x': database_type is required (one of postgresql, "),
        ({"database_type": "sqlite"}, "database 'x': database_url is required"),
        ({"database_type": "sqlite", "database_url": ""}, "database 'x': database_url must be a non-empty string"),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "dev_database_type": "mysql"},
            "database 'x': unknown dev_database_type 'mysql' (expected one of sqlite)",
        ),
        (
            {"database_type": "postgresql", "database_url": "mysql://u:secret@h/db"},
            ("database 'x': database_url 'mysql://u:***@h/db' is not a postgresql URL "
             "(expected postgresql:// or postgres://)"),
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "dev_database_url": "postgresql://h"},
            "database 'x': dev_database_url 'postgresql://h' is not a sqlite URL",
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "cluster": "c"},
            "database 'x': cluster is only supported for database_type clickhouse",
        ),
        (
            {"database_type": "mariadb", "database_url": "mysql://h", "concurrent_indexes": True},
            "database 'x': concurrent_indexes is only supported for database_type postgresql (MySQL and MariaDB build",
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "concurrent_indexes": "yes"},
            "database 'x': concurrent_indexes must be True or False, got 'yes'",
        ),
        (
            {"database_type": "mariadb", "database_url": "mysql://h", "manage_grants": True},
            "database 'x': manage_grants is supported for database_type postgresql only (elsewhere grants are listed",
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "manage_grants": 1},
            "database 'x': manage_grants must be True or False, got 1",
        ),
        (
            {"database_type": "mysql", "database_url": "mysql://h", "statement_timeout": "5s"},
            ("database 'x': statement_timeout is only supported for database_type mariadb, postgresql (MySQL's "
             "max_execution_time limits only SELECT statements)"),
        ),
        (
            {"database_type": "sqlite", "database_url": "sqlite://", "lock_timeout": "5s"},
            "database 'x': lock_timeout is only supported for database_type mariadb, mysql, postgresql",
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "lock_timeout": "5 seconds"},
            ("database 'x': lock_timeout must be a duration such as \"5s\", \"500ms\", \"10min\" or \"1h\" "
             "(a bare number is milliseconds; more than 0, at most 24 days), got '5 seconds'"),
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "statement_timeout": 0},
            "database 'x': statement_timeout must be a duration",
        ),
        (
            {"database_type": "postgresql", "database_url": "postgresql://h", "statement_timeout": "30d"},
            "database 'x': statement_timeout must be a duration",
        ),
        (
            {"database_type": "sqlite", "database_url": "sqlite://", "model_paths": [1]},
            "database 'x': model_paths must be a list of non-empty strings, got [1]",
        ),
        (
            {"database_type": "sqlite", "database_url": "sqlite://", "include_tables": 5},
            "database 'x': include_tables must be a list of non-empty strings",
        ),
        ({"database_type": "sqlite", "database_url": "sqlite://", "default": "yes"}, "database 'x': default must be"),
    ],
)
def test_bad_fields_name_the_database_and_the_field(kwargs, message):
    with pytest.raises(ConfigError) as caught:
        database_config("x", **kwargs)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("name", ["", "a/b", "../x", ".hidden", 3])
def test_bad_database_name(name):
    with pytest.raises(ConfigError, match="is not a valid name"):
        database_config(name, database_type="sqlite", database_url="sqlite://")


def test_mariadb_accepts_mysql_urls_and_paths_are_accepted():
    db = database_config("m", database_type="mariadb", database_url="mysql://h/db", model_paths=[Path("models")])
    assert db.model_paths == ("models",) and db.url() == "mysql://h/db"


def test_two_defaults(tmp_path):
    message = config_error(
        tmp_path,
        f"""
        database_config("a", default=True, {PG})
        database_config("b", default=True, {PG})
        """,
    )
    assert message == (
        f"{tmp_path.resolve() / 'dbwarden.py'}: several default databases: a, b (set default=True on exactly one)"
    )


def test_no_default_among_several(tmp_path):
    message = config_error(tmp_path, f"database_config('a', {PG})\ndatabase_config('b', {PG})")
    assert message.endswith("no default database among a, b (set default=True on one of them)")


def test_single_database_is_the_default(tmp_path):
    assert load_config(write_config(tmp_path, f"database_config('only', {PG})")).get().database_name == "only"


def test_no_database_configured(tmp_path):
    assert config_error(tmp_path, "x = 1").endswith("dbwarden.py: no database configured (call database_config(...))")


def test_unknown_database_name(tmp_path):
    path = write_config(tmp_path, f"database_config('b', {PG}, default=True)\ndatabase_config('a', {PG})")
    project = load_config(path)
    with pytest.raises(ConfigError) as caught:
        project.get("x")
    assert str(caught.value) == "unknown database 'x' (configured: a, b)"


# ---------------------------------------------------------------------------------------------- discovery


def test_find_config_walks_up(tmp_path, monkeypatch):
    write_config(tmp_path, f"database_config('main', {PG})")
    nested = tmp_path / "notebooks" / "deep"
    nested.mkdir(parents=True)
    assert find_config(nested) == (tmp_path / "dbwarden.py").resolve()
    monkeypatch.chdir(nested)
    assert find_config() == (tmp_path / "dbwarden.py").resolve()
    assert load_config().get().database_name == "main"


def test_find_config_missing(tmp_path):
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    assert str(caught.value) == (
        f"no dbwarden.py found in {tmp_path.resolve()} or its parents (run 'dbwarden init' or set DBWARDEN_CONFIG)"
    )


def test_find_config_from_environment(tmp_path, monkeypatch):
    other = write_config(tmp_path / "elsewhere", f"database_config('env', {PG})")
    monkeypatch.setenv("DBWARDEN_CONFIG", str(other))
    assert find_config(tmp_path) == other
    monkeypatch.setenv("DBWARDEN_CONFIG", str(tmp_path / "missing.py"))
    with pytest.raises(ConfigError, match=r"DBWARDEN_CONFIG is set to .*missing.py, which does not exist"):
        find_config(tmp_path)


# ---------------------------------------------------------------------------------------------- URLs


def test_env_var_is_resolved_when_used(tmp_path, monkeypatch):
    project = load_config(
        write_config(
            tmp_path,
            """
            database_config("primary", database_type="postgresql", database_url="${PRIMARY_URL}",
                            dev_database_url="sqlite:///${DEV_FILE}")
            database_config("parts", default=True, database_type="mysql",
                            database_url="mysql://app:${DB_PASSWORD}@${DB_HOST}:3306/app")
            """,
        )
    )
    primary = project.get("primary")
    with pytest.raises(ConfigError) as caught:
        primary.url()
    assert str(caught.value) == "database 'primary': database_url references ${PRIMARY_URL}, which is not set"
    with pytest.raises(ConfigError, match=r"^database 'primary': dev_database_url references \$\{DEV_FILE\}"):
        primary.url(dev=True)
    monkeypatch.setenv("PRIMARY_URL", "postgres://u:pw@h/db")
    monkeypatch.setenv("DB_PASSWORD", "s3cr%40t")
    monkeypatch.setenv("DB_HOST", "db.local")
    assert primary.url() == "postgres://u:pw@h/db"
    assert primary.sqlalchemy_url() == "postgresql+psycopg://u:pw@h/db"
    assert project.get().url() == "mysql://app:s3cr%40t@db.local:3306/app"
    monkeypatch.setenv("DB_PASSWORD", "s3cr@t")  # unencoded: SQLAlchemy would send "t@db.local" as the host (issue 18)
    with pytest.raises(ConfigError, match=r"^database 'parts': database_url 'mysql://app:\*\*\*@db.local:3306/app' is "
                                          r"malformed: its password holds an unencoded '@'"):
        project.get().url()
    monkeypatch.setenv("PRIMARY_URL", "mysql://h/db")
    with pytest.raises(ConfigError, match=r"^database 'primary': database_url 'mysql://h/db' is not a postgresql URL"):
        primary.url()


def test_dev_without_dev_url():
    db = database_config("primary", database_type="postgresql", database_url="postgresql://h/db")
    for call in (db.url, db.backend_name, db.sqlalchemy_url):
        with pytest.raises(ConfigError) as caught:
            call(dev=True)
        assert str(caught.value) == "--dev mode is enabled, but database 'primary' has no dev_database_url configured"


def test_dev_sqlite_url_is_resolved_against_the_root(tmp_path):
    db = load_config(
        write_config(tmp_path, f"database_config('p', {PG}, dev_database_url='sqlite:///./development.db')")
    ).get()
    assert db.url(dev=True) == "sqlite:///./development.db"
    assert db.sqlalchemy_url(dev=True) == f"sqlite:///{tmp_path.resolve() / 'development.db'}"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("mysql+pymysql://root:pw@127.0.0.1/app?charset=utf8", "mysql+pymysql://root:***@127.0.0.1/app?charset=utf8"),
        ("clickhouse://u:pw@h:8123/db", "clickhouse://u:***@h:8123/db"),
        ("clickhouses://default:pw@h/db", "clickhouses://default:***@h/db"),
        ("chdb:///var/data/ch?database=x", "chdb:///var/data/ch?database=x"),
        ("sqlite:///./dev.db", "sqlite:///./dev.db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p:a/s@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://user@tenant:pw@h/db", "postgresql://user@tenant:***@h/db"),
        ("postgresql://u:@h/db", "postgresql://u:***@h/db"),
        ("postgresql://h/db?user=u&password=pw&ssl=1", "postgresql://h/db?user=u&password=***&ssl=1"),
        ("mysql://h/db?PASSWORD=pw", "mysql://h/db?PASSWORD=***"),
        ("postgresql://u:${PW}@h/db", "postgresql://u:***@h/db"),
        ("${PRIMARY_URL}", "${PRIMARY_URL}"),
        ("", ""),
        ("not a url", "not a url"),
        # An "@" after the password costs the host, never the password.
        ("postgresql://u:pw@h/db?application_name=a@b", "postgresql://u:***@b"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


PASSWORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@given(PASSWORDS, st.sampled_from(["postgresql", "mysql+pymysql", "mariadb", "clickhouse", "clickhouses"]))
def test_a_password_never_survives_mask_url(password, scheme):
    url = f"{scheme}://user:{password}@db.example.com:5432/app?sslmode=require"
    assert mask_url(url) == f"{scheme}://user:***@db.example.com:5432/app?sslmode=require"


@given(PASSWORDS.filter(lambda password: "&" not in password))
def test_a_query_password_never_survives_mask_url(password):
    url = f"postgresql://db.example.com/app?sslmode=require&password={password}&application_name=x"
    assert mask_url(url) == "postgresql://db.example.com/app?sslmode=require&password=***&application_name=x"


@given(PASSWORDS.filter(lambda password: "*" not in password))
def test_a_known_secret_never_survives_mask_text(password):
    text = f'connection failed for "{password}" (sent as {password}) at postgresql://u:{password}@h/db'
    assert password not in mask_text(text, {password})


def test_mask_text_scrubs_driver_messages(monkeypatch):
    monkeypatch.setenv("PW", "p@ss/word")
    db = database_config(
        "primary",
        database_type="postgresql",
        database_url="postgresql://app:${PW}@h/db",
        dev_database_url="sqlite:///dev.db?password=devsecret",
    )
    assert db.secrets() == {"p@ss/word", "devsecret"}
    text = "FATAL: login as app with p%40ss%2Fword failed; hint: p@ss/word; see mysql://x:other@h/db"
    assert mask_text(text, db.secrets()) == "FATAL: login as app with *** failed; hint: ***; see mysql://x:***@h/db"
    project = ProjectConfig(root=db.root, path=None, databases={"primary": db})
    assert project.secrets() == db.secrets()


def test_secrets_skip_unset_variables():
    db = database_config("p", database_type="postgresql", database_url="postgresql://u:${UNSET_PW_VAR}@h/db")
    assert db.secrets() == frozenset()


def test_masked_and_repr_never_show_passwords(tmp_path):
    project = load_config(
        write_config(
            tmp_path,
            """
            database_config("primary", database_type="postgresql", database_url="postgresql://u:topsecret@h/db",
                            dev_database_url="sqlite:///./dev.db", model_paths=["app.models"],
                            include_tables=["orders*"])
            """,
        )
    )
    db = project.get()
    assert db.masked() == {
        "database_name": "primary",
        "database_type": "postgresql",
        "database_url": "postgresql://u:***@h/db",
        "default": False,
        "dev_database_type": None,
        "dev_database_url": "sqlite:///./dev.db",
        "model_paths": ["app.models"],
        "migrations_dir": "migrations/primary",
        "seeds_dir": "seeds/primary",
        "schemas": None,
        "include_tables": ["orders*"],
        "exclude_tables": None,
        "cluster": None,
        "concurrent_indexes": False,
        "manage_grants": False,
        "lock_timeout": None,
        "statement_timeout": None,
        "environments": {},
        "environment": None,
        "hooks": {},
    }
    assert project.masked()["databases"] == {"primary": db.masked()}
    assert "topsecret" not in repr(db) and "topsecret" not in repr(project)
    assert "postgresql://u:***@h/db" in repr(db)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@h/db", "postgresql+psycopg://u:pw@h/db"),
        ("postgres://u:pw@h/db", "postgresql+psycopg://u:pw@h/db"),
        ("mysql://u:pw@h/db", "mysql+pymysql://u:pw@h/db"),
        ("mariadb://u:pw@h/db", "mariadb+pymysql://u:pw@h/db"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
        ("mysql+mysqldb://h/db", "mysql+mysqldb://h/db"),
        ("sqlite:////abs/app.db", "sqlite:////abs/app.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite:///file:x.db?mode=ro&uri=true", "sqlite:///file:x.db?mode=ro&uri=true"),
        ("clickhouse://u:pw@h:8123/db", "clickhouse://u:pw@h:8123/db"),
        ("clickhouses://h/db", "clickhouses://h/db"),
        ("chdb:///data/ch?database=x", "chdb:///data/ch?database=x"),
    ],
)
def test_sqlalchemy_url(url, expected):
    assert sqlalchemy_url(url, root=Path("/project")) == expected


def test_sqlalchemy_url_relative_sqlite_paths():
    root = Path("/project")
    assert sqlalchemy_url("sqlite:///./dev.db", root=root) == "sqlite:////project/dev.db"
    assert (
        sqlalchemy_url("sqlite+pysqlite:///data/x.db?timeout=5", root=root)
        == "sqlite+pysqlite:////project/data/x.db?timeout=5"
    )
    assert sqlalchemy_url("sqlite:///./dev.db") == "sqlite:///./dev.db"  # no root: left to SQLite's cwd


SERVER = {"interface": "http", "host": "localhost", "port": 8123, "username": "default", "password": "", "database": None}
CHDB = {"interface": "chdb", "host": None, "port": None, "username": None, "password": None, "database": None, "secure": False}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "clickhouse://u:p%40ss@ch.local:8124/analytics",
            {**SERVER, "host": "ch.local", "port": 8124, "username": "u", "password": "p@ss", "database": "analytics"},
        ),
        ("clickhouses://ch.local", {**SERVER, "interface": "https", "host": "ch.local", "port": 8443, "secure": True}),
        (
            "clickhouse://u:a:b@c@[::1]/?database=x",
            {**SERVER, "host": "::1", "username": "u", "password": "a:b@c", "database": "x"},
        ),
        ("chdb:///var/lib/ch?database=demo", {**CHDB, "database": "demo", "path": "/var/lib/ch"}),
        ("chdb://data/ch", {**CHDB, "path": "/project/data/ch"}),
        ("chdb://", {**CHDB, "path": None}),
    ],
)
def test_parse_clickhouse_url(url, expected):
    assert parse_clickhouse_url(url, root=Path("/project")) == {"path": None, "secure": False, **expected}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:pw@h/db", "'postgresql://u:***@h/db' is not a ClickHouse URL"),
        ("clickhouse://u:pw@h:http/db", "'clickhouse://u:***@h:http/db': invalid host or port 'h:http'"),
        ("clickhouse://h/db?compress=1", "'clickhouse://h/db?compress=1': unsupported query parameter(s) compress"),
    ],
)
def test_parse_clickhouse_url_errors(url, message):
    with pytest.raises(ConfigError) as caught:
        parse_clickhouse_url(url)
    assert str(caught.value).startswith(message)


def test_manages_table():
    db = DatabaseConfig(
        database_name="d",
        database_type="postgresql",
        database_url="postgresql://h/db",
        root=Path("/p"),
        include_tables=("orders*", "app.*"),
        exclude_tables=("*_tmp",),
    )
    assert db.manages_table("orders") and db.manages_table("users", "app")
    assert not db.manages_table("users") and not db.manages_table("orders_tmp")
    assert not db.manages_table("users", "other")


def test_config_module_imports_no_heavy_dependency():
    probe = (
        "import sys, dbwarden_nb.config\n"
        "heavy = {'sqlalchemy', 'psycopg', 'pymysql', 'clickhouse_connect', 'chdb', 'IPython', 'ipywidgets',"
        " 'pandas'}\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------- models

BASE = """
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass
"""

USERS = """
from sqlalchemy import Column, Integer, String
from shop.base import Base

class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
"""

ORDERS = """
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table
from sqlalchemy.orm import relationship
from shop.base import Base
from shop.users import User  # imported: not defined here

class Order(Base):
    __tablename__ = "orders"
    __table_args__ = {"schema": "sales"}
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
    user = relationship("User")

audit = Table("audit", Base.metadata, Column("id", Integer, primary_key=True))
"""


def shop(root: Path) -> Path:
    return write(root, {"shop/__init__.py": "", "shop/base.py": BASE, "shop/users.py": USERS, "shop/orders.py": ORDERS})


def models_db(root: Path, *model_paths: str, **options) -> DatabaseConfig:
    return DatabaseConfig(
        database_name="main",
        database_type="sqlite",
        database_url="sqlite://",
        root=root.resolve(),
        model_paths=model_paths,
        **options,
    )


def keys(tables) -> list[str]:
    return [table.key for table in tables]


def test_dotted_package_brings_its_submodules_sorted(tmp_path):
    shop(tmp_path)
    assert keys(load_tables(models_db(tmp_path, "shop"))) == ["audit", "users", "sales.orders"]


def test_dotted_module_counts_only_what_it_defines(tmp_path):
    shop(tmp_path)
    assert keys(load_tables(models_db(tmp_path, "shop.orders"))) == ["audit", "sales.orders"]


def test_folder_and_file_paths(tmp_path):
    shop(tmp_path)
    assert keys(load_tables(models_db(tmp_path, "shop/"))) == ["audit", "users", "sales.orders"]
    assert keys(load_tables(models_db(tmp_path, "shop/users.py"))) == ["users"]
    assert sys.modules["shop.users"].__file__ == str((tmp_path / "shop" / "users.py").resolve())


def test_files_not_importable_by_name_get_a_stable_module_name(tmp_path):
    root = tmp_path / "project"
    write(
        tmp_path,
        {
            "project/my-models/things.py": "from sqlalchemy import Table, MetaData\nt = Table('things', MetaData())\n",
            "shared/common.py": "from sqlalchemy import Table, MetaData\nt = Table('common', MetaData())\n",
        },
    )
    db = models_db(root, "my-models", "../shared/common.py")
    first = load_tables(db)
    assert keys(first) == ["common", "things"]
    assert [table is again for table, again in zip(first, load_tables(db), strict=True)] == [True, True]  # cached


def test_shared_base_between_two_databases(tmp_path):
    write(
        tmp_path,
        {
            "models/__init__.py": BASE,
            "models/billing.py": (
                "from sqlalchemy import Column, Integer\nfrom models import Base\n"
                "class Invoice(Base):\n    __tablename__ = 'invoices'\n    id = Column(Integer, primary_key=True)\n"
            ),
            "models/crm.py": (
                "from sqlalchemy import Column, Integer\nfrom models import Base\n"
                "class Contact(Base):\n    __tablename__ = 'contacts'\n    id = Column(Integer, primary_key=True)\n"
            ),
        },
    )
    assert keys(load_tables(models_db(tmp_path, "models.billing"))) == ["invoices"]
    assert keys(load_tables(models_db(tmp_path, "models.crm"))) == ["contacts"]
    assert sorted(sys.modules["models"].Base.metadata.tables) == ["contacts", "invoices"]


def test_include_and_exclude_tables(tmp_path):
    shop(tmp_path)
    included = models_db(tmp_path, "shop", include_tables=("sales.*", "users"))
    assert keys(load_tables(included)) == ["users", "sales.orders"]
    assert keys(load_tables(models_db(tmp_path, "shop", exclude_tables=("aud*",)))) == ["users", "sales.orders"]


def test_a_table_defined_twice(tmp_path):
    table = "from sqlalchemy import Table, MetaData\nt = Table('dup', MetaData())\n"
    write(tmp_path, {"twice/a.py": table, "twice/b.py": table})
    with pytest.raises(ConfigError, match=r"^database 'main': table 'dup' is defined twice, in twice.a and in twice.b"):
        load_tables(models_db(tmp_path, "twice"))


@pytest.mark.parametrize(
    ("files", "model_path", "message"),
    [
        ({}, "nothing.here", r"^database 'main': model path 'nothing.here': ModuleNotFoundError: No module named "),
        ({}, "missing/", r"^database 'main': model path 'missing/': .*missing does not exist$"),
        (
            {"broken/bad.py": "x = (\n"},
            "broken",
            r"^database 'main': model path 'broken': .*broken/bad.py:1: SyntaxError: '\(' was never closed$",
        ),
        (
            {"raising.py": "import os\nraise RuntimeError('boom')\n"},
            "raising.py",
            r"^database 'main': model path 'raising.py': .*raising.py:2: RuntimeError: boom$",
        ),
        (
            {
                "twice.py": "from sqlalchemy import Column, MetaData, Table\nm = MetaData()\nTable('t', m)\n"
                "Table('t', m, Column('a'))\n"
            },
            "twice.py",
            (r"^database 'main': model path 'twice.py': .*twice.py:4: InvalidRequestError: Table 't' is already defined "
             r"for this MetaData instance. Specify"),  # raised inside SQLAlchemy, located in the model file
        ),
    ],
)
def test_import_errors_are_one_line(tmp_path, files, model_path, message):
    write(tmp_path, files)
    with pytest.raises(ConfigError, match=message):
        load_tables(models_db(tmp_path, model_path))


def test_a_shadowed_module_name_is_reported(tmp_path):
    write(tmp_path, {"json.py": ""})
    with pytest.raises(ConfigError, match=r"json.py imports as 'json', but that name is already the module from"):
        load_tables(models_db(tmp_path, "json.py"))


def test_changed_model_file_is_reimported(tmp_path):
    shop(tmp_path)
    db = models_db(tmp_path, "shop")
    before = {table.key: table for table in load_tables(db)}
    assert list(before["users"].c.keys()) == ["id", "name"]
    write(tmp_path, {"shop/users.py": USERS + "    email = Column(String(200))\n"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SQLAlchemy warns when a class replaces one of the same name
        after = {table.key: table for table in load_tables(db)}
        sys.modules["shop.base"].Base.registry.configure()
    assert list(after["users"].c.keys()) == ["id", "name", "email"]
    assert after["sales.orders"] is before["sales.orders"] and after["audit"] is before["audit"]
    base = sys.modules["shop.base"].Base
    assert base.metadata.tables["users"] is after["users"]
    assert sys.modules["shop.orders"].Order.user.property.mapper.class_ is sys.modules["shop.users"].User
    assert len([m for m in base.registry.mappers if m.class_.__name__ == "User"]) == 1


def test_reimporting_a_package_keeps_tables_it_only_reexports(tmp_path):
    write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.tables import users\n",
            "pkg/tables.py": "from sqlalchemy import Column, Integer, MetaData, Table\n"
            "metadata = MetaData()\nusers = Table('users', metadata, Column('id', Integer))\n",
        },
    )
    db = models_db(tmp_path, "pkg")
    (users,) = load_tables(db)
    write(tmp_path, {"pkg/__init__.py": "from pkg.tables import users  # edited\n"})
    assert load_tables(db) == [users]
    assert users.metadata.tables["users"] is users


def test_syntax_error_while_editing_then_fixed(tmp_path):
    shop(tmp_path)
    db = models_db(tmp_path, "shop")
    load_tables(db)
    write(tmp_path, {"shop/users.py": USERS + "    oops = (\n"})
    with pytest.raises(ConfigError, match="SyntaxError"):
        load_tables(db)
    write(tmp_path, {"shop/users.py": USERS + "    nickname = Column(String(20))\n"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables = {table.key: table for table in load_tables(db)}
    assert "nickname" in tables["users"].c


def test_an_edit_within_the_same_second_and_size_is_seen(tmp_path, monkeypatch):
    # Python's own .pyc check compares whole seconds and size only: the stale bytecode must not be used.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    shop(tmp_path)
    users = tmp_path / "shop" / "users.py"
    second = 1_700_000_000 * 10**9
    os.utime(users, ns=(second, second))
    db = models_db(tmp_path, "shop")
    assert str(load_tables(db)[1].c.name.type) == "VARCHAR(50)"
    assert list((tmp_path / "shop" / "__pycache__").glob("users.*.pyc"))
    users.write_text(textwrap.dedent(USERS.replace("String(50)", "String(60)")))
    os.utime(users, ns=(second + 1000, second + 1000))
    assert str(load_tables(db)[1].c.name.type) == "VARCHAR(60)"


def test_timeouts_are_durations_in_milliseconds():
    config = database_config("x", database_type="postgresql", database_url="postgresql://h", lock_timeout="5s",
                             statement_timeout="1.5min", concurrent_indexes=True)
    assert config.timeouts == {"lock_timeout": 5000, "statement_timeout": 90000} and config.concurrent_indexes
    assert database_config("y", database_type="mariadb", database_url="mysql://h", lock_timeout=250).timeouts == {
        "lock_timeout": 250}
