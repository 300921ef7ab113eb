"""The newcomer's path (issue 18): the traps a new user falls into, each stopped with one clear line, on real
servers through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from projects import ProjectDir
from test_bad_input import one_line

from dbwarden_nb.config import sqlalchemy_url

AUTHORS = """
class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
"""
BOOKS = """
class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("author.id"))
"""


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def tables(url: str) -> list[str]:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# -- 1. adoption ------------------------------------------------------------------------------------------


def test_first_make_migrations_on_a_database_with_tables_names_the_two_ways(tmp_path: Path, pg_url: str,
                                                                            fresh_url) -> None:
    execute(pg_url, "CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL)")
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS + BOOKS)
    for args in (["make-migrations", "add book"], ["make-migrations", "add book", "--dry-run"]):
        msg = one_line(project.cli(*args), 2)
        assert msg.startswith("primary: the database already holds tables (author) and migrations/primary has no "
                              "migration yet: run 'dbwarden baseline'"), msg
        assert "'dbwarden make-migrations --from-empty NAME'" in msg
    assert not project.migration_files() and not (project.root / ".dbwarden" / "primary" / "snapshots").exists()

    # --from-empty: a chain that builds everything, for a fresh database
    project.ok("make-migrations", "initial", "--from-empty")
    (first,) = project.migration_files()
    assert 'CREATE TABLE "author"' in first.read_text() and 'CREATE TABLE "book"' in first.read_text()
    msg = one_line(project.cli("make-migrations", "again", "--from-empty"), 2)
    assert msg == ("--from-empty starts the first migration of a chain, but migrations/primary already has 1 "
                   "(latest 0001); drop the flag")
    fresh = fresh_url(pg_url)
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace(pg_url, fresh))
    project.ok("migrate")
    assert {"author", "book"} <= set(tables(fresh))
    assert project.ok("diff", "--check").code == 0


def test_baseline_then_first_change_writes_only_the_change(tmp_path: Path, pg_url: str) -> None:
    execute(pg_url, "CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL)",
            "INSERT INTO author VALUES (1, 'Le Guin')")
    project = ProjectDir.initialized(tmp_path / "proj", pg_url, "postgresql")
    project.ok("generate-models", "--output", "models")
    project.ok("baseline")
    assert project.ok("diff", "--check").code == 0
    assert "no changes" in project.ok("make-migrations", "nothing").out.lower() or not project.migration_files()
    (project.root / "models" / "book.py").write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom .base import Base\n\n"
        + BOOKS.replace("class Book", "\nclass Book"))
    init = project.root / "models" / "__init__.py"
    init.write_text(init.read_text() + "from .book import Book  # noqa: F401\n")
    project.ok("make-migrations", "add book")
    (first,) = project.migration_files()
    assert 'CREATE TABLE "book"' in first.read_text() and 'CREATE TABLE "author"' not in first.read_text()
    project.ok("migrate")
    assert project.ok("diff", "--check").code == 0


def test_an_empty_database_needs_no_choice(tmp_path: Path, pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    assert project.ok("diff", "--check").code == 0


# -- 2. backend guard -------------------------------------------------------------------------------------


def test_a_chain_of_another_backend_is_refused_with_one_line(tmp_path: Path, sqlite_url: str, pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace("'sqlite'", "'postgresql'").replace(sqlite_url, pg_url))
    for args in (["status"], ["check"], ["migrate"], ["migrate", "--sql"], ["make-migrations", "next"], ["rollback"]):
        msg = one_line(project.cli(*args))
        assert msg == ("migrations/primary/0001_initial.sql was written for sqlite (-- backend: sqlite), but database "
                       "'primary' is postgresql: a chain runs only on the backend it was made for (README: 'From "
                       "SQLite to PostgreSQL' says how to move)"), (args, msg)
    assert tables(pg_url) == []
    assert project.ok("history").out.strip() == "primary: no migrations applied"

    # and the other way round: a PostgreSQL file never runs on SQLite
    config.write_text(config.read_text().replace("'postgresql'", "'sqlite'").replace(pg_url, sqlite_url))
    first = project.migration_files()[0]
    first.write_text(first.read_text().replace("-- backend: sqlite", "-- backend: postgresql"))
    msg = one_line(project.cli("migrate"))
    assert msg.startswith("migrations/primary/0001_initial.sql was written for postgresql (-- backend: postgresql), "
                          "but database 'primary' is sqlite")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists() or tables(sqlite_url) == []


def test_moving_a_sqlite_prototype_to_postgresql_as_the_readme_says(tmp_path: Path, sqlite_url: str,
                                                                   pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    project.models(AUTHORS + BOOKS)
    project.ok("make-migrations", "add book")
    project.ok("migrate")
    # the README's steps: point dbwarden.py at PostgreSQL (SQLite stays as the dev database), archive the SQLite
    # chain, and start a PostgreSQL one from the empty schema
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace("'sqlite'", "'postgresql'").replace(
        repr(sqlite_url), f"{pg_url!r}, dev_database_url='sqlite:///./dev.db'"))
    (project.root / "migrations" / "primary").rename(project.root / "migrations" / "primary-sqlite")
    (project.root / ".dbwarden" / "primary").rename(project.root / ".dbwarden" / "primary-sqlite")
    project.ok("make-migrations", "initial")
    (first,) = project.migration_files()
    assert "-- backend: postgresql" in first.read_text() and "-- dev-upgrade: sqlite" in first.read_text()
    project.ok("migrate")
    assert project.ok("diff", "--check").code == 0
    project.ok("--dev", "migrate")
    assert {"author", "book"} <= set(tables("sqlite:///" + str(project.root / "dev.db")))


# -- 3. init ----------------------------------------------------------------------------------------------


def test_init_with_a_postgresql_url_writes_its_type_a_gitignore_and_says_what_to_commit(tmp_path: Path,
                                                                                         pg_url: str) -> None:
    project = ProjectDir.initialized(tmp_path / "proj", pg_url, "postgresql")
    (project.root / "dbwarden.py").unlink()
    (project.root / ".gitignore").unlink()
    out = project.ok("init", "--url", pg_url).out
    assert out.strip().endswith("; commit dbwarden.py, your models, migrations/ and .dbwarden/*/snapshots/"), out
    assert "database_type='postgresql'" in (project.root / "dbwarden.py").read_text()
    ignored = (project.root / ".gitignore").read_text().splitlines()
    assert "/.dbwarden/*/cache/" in ignored and not any("snapshots" in line and not line.startswith("#")
                                                        for line in ignored)
    assert project.ok("status").out.startswith("primary (postgresql, ")
    assert project.ok("init", "--url", pg_url).out.startswith(f"{project.root.resolve()} is already initialized")
    assert (project.root / ".gitignore").read_text().splitlines() == ignored  # nothing added twice

    msg = one_line(project.cli("init", "--path", "other", "--url", pg_url, "--database-type", "mysql"), 2)
    assert msg.startswith("init --url: 'postgresql://") and msg.endswith("is not a mysql URL (expected mysql://)")
    msg = one_line(project.cli("init", "--path", "other", "--url", "${DATABASE_URL}"), 2)
    assert msg.startswith("init --url: cannot tell the database type from '${DATABASE_URL}'; add --database-type")
    assert not (project.root / "other").exists()
    secret = pg_url.replace("postgres@", "postgres:Sup3rS3cret@")
    out = project.ok("init", "--path", "withpw", "--url", secret).out
    assert "dbwarden.py holds the URL's password: before you commit it" in out and "Sup3rS3cret" not in out, out
    assert "*.py.new" in (project.root / "withpw" / ".gitignore").read_text().splitlines()


def test_init_of_sqlite_ignores_its_database_file(tmp_path: Path) -> None:
    from test_bad_input import run_in

    assert run_in(tmp_path, "init").code == 0
    ignored = (tmp_path / ".gitignore").read_text().splitlines()
    assert "/app.db" in ignored and "/.dbwarden/*/cache/" in ignored
    assert "database_type='sqlite'" in (tmp_path / "dbwarden.py").read_text()


# -- 4. typos ---------------------------------------------------------------------------------------------


def test_typos_in_renames_and_foreign_keys_name_what_is_missing(tmp_path: Path, pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS + BOOKS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    project.models(AUTHORS.replace("name:", "full_name:") + BOOKS)
    for spec, code, message in (
        ("author.nme:full_name", 2, "no column 'nme' in table author of the current schema"),
        ("authr.name:full_name", 2, "no table 'authr' in the models"),
        ("author.name:fullname", 2, "no column 'fullname' in table author of the models"),
    ):
        for command in ("make-migrations", "diff"):
            args = [command, "next", "--rename", spec] if command == "make-migrations" else [command, "--rename", spec]
            assert one_line(project.cli(*args), code) == f"--rename {spec}: {message}", (command, spec)
    assert len(project.migration_files()) == 1
    project.ok("make-migrations", "rename", "--rename", "author.name:full_name")

    project.models(AUTHORS + BOOKS.replace('mapped_column(sa.ForeignKey("author.id"))',
                                           'mapped_column(sa.ForeignKey("authr.id"))')
                   .replace("author_id: Mapped[int] =", "author_id ="))
    assert one_line(project.cli("make-migrations", "typo")) == (
        "column book.author_id: ForeignKey('authr.id') names table 'authr', which no model defines (a typo?); a column "
        "without a type of its own takes the type of the column it references")
    project.models(AUTHORS + BOOKS.replace('"author.id"', '"author.idd"'))
    assert one_line(project.cli("make-migrations", "typo")) == (
        "table book: ForeignKey('author.idd'): table author has no column 'idd'")


# -- 5. missing stored snapshots ----------------------------------------------------------------------------


def test_missing_stored_snapshots_are_said_as_such(tmp_path: Path, pg_url: str) -> None:
    import shutil

    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    project.models(AUTHORS + BOOKS)
    project.ok("make-migrations", "add book")
    project.ok("new", "by hand")
    (project.migration_files()[-1]).write_text(project.migration_files()[-1].read_text().replace(
        "-- rollback", "INSERT INTO author VALUES (1, 'Le Guin');\n-- rollback\nDELETE FROM author WHERE id = 1;"))
    project.ok("migrate")
    shutil.rmtree(project.root / ".dbwarden")  # a clone that ignored .dbwarden/
    expected = ("primary: the stored snapshots of migration(s) 0001, 0002 are missing from .dbwarden/primary/snapshots/ "
                "(they are committed with the migrations: a clone that left out .dbwarden/?); 'dbwarden snapshot "
                "--restore' rebuilds them by replaying migrations/primary in a scratch database")
    for args in (["make-migrations", "next"], ["diff", "--offline"], ["make-migrations", "next", "--offline"]):
        msg = one_line(project.cli(*args))
        assert msg == expected, (args, msg)
        assert "manual migration" not in msg

    before = tables(pg_url)
    restored = project.ok("snapshot", "--restore").out.strip()
    assert restored == ("primary: restored 0001, 0002, 0003 by replaying 3 migration(s) of migrations/primary in a "
                        "scratch database")
    assert tables(pg_url) == before
    assert "nothing written" in project.ok("make-migrations", "next").out
    assert project.ok("diff", "--offline", "--check").code == 0
    assert project.ok("snapshot", "--restore").out.strip() == (
        "primary: restored none by replaying 3 migration(s) of migrations/primary in a scratch database; 3 snapshot(s) "
        "were there and were kept")


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
def test_snapshot_restore_on_sqlite_and_mariadb(tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    import shutil

    url = request.getfixturevalue(f"{kind}_url")
    project = ProjectDir(tmp_path / "proj", url, kind)
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    project.models(AUTHORS + BOOKS)
    project.ok("make-migrations", "add book")
    snapshots = project.root / ".dbwarden" / "primary" / "snapshots"
    def checksums() -> dict[str, str]:
        return {p.name: json.loads(p.read_text())["checksum"] for p in snapshots.iterdir()}

    stored = checksums()
    shutil.rmtree(project.root / ".dbwarden")
    assert project.ok("snapshot", "--restore").out.startswith("primary: restored 0001, 0002 by replaying")
    assert checksums() == stored
    assert tables(url) == []


# -- 6. passwords with an unencoded '@' -------------------------------------------------------------------


@pytest.mark.parametrize("through_variable", [False, True])
def test_a_password_with_an_unencoded_at_is_masked_whole_and_the_url_said_malformed(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, through_variable: bool) -> None:
    url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:S3cr3t@rl-Pw@")
    if through_variable:
        monkeypatch.setenv("NEWC_URL", url)
    project = ProjectDir(tmp_path / "proj", "${NEWC_URL}" if through_variable else url, "postgresql")
    project.models(AUTHORS)
    masked = url.replace("S3cr3t@rl-Pw", "***")
    for args in (["status"], ["diff"], ["migrate"], ["-v", "status"], ["--json", "status"], ["snapshot"]):
        result = project.cli(*args)
        assert result.code == 1, (args, result)
        assert result.err.splitlines()[-1].endswith(  # (from dbwarden.py itself: its file and line first)
            f"database 'primary': database_url {masked!r} is malformed: its password holds an "
            "unencoded '@', so the driver would read the rest of it as the host name; write each '@' of the password "
            "as %40"), (args, result.err)
        assert "rl-Pw" not in result.out + result.err and "S3cr3t" not in result.out + result.err, args
    result = project.cli("config")
    assert "rl-Pw" not in result.out + result.err and "S3cr3t" not in result.out + result.err
    project.root.joinpath("dbwarden.py").write_text(project.root.joinpath("dbwarden.py").read_text().replace(
        "S3cr3t@rl-Pw", "S3cr3t%40rl-Pw"))
    if through_variable:
        monkeypatch.setenv("NEWC_URL", url.replace("S3cr3t@rl-Pw", "S3cr3t%40rl-Pw"))
    result = project.ok("status")  # encoded, the password is read whole (the test server trusts it)
    assert "rl-Pw" not in result.out + result.err and "S3cr3t" not in result.out + result.err


# -- 7. one line, never a traceback ------------------------------------------------------------------------


def test_each_bad_input_is_one_line(tmp_path: Path, pg_url: str, mariadb_url: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    cases = [  # (environment, dbwarden.py URL, models, arguments, exit code, the line)
        ({"DBWARDEN_LOCK_TIMEOUT": "abc"}, None, None, ["migrate"], 2,
         "DBWARDEN_LOCK_TIMEOUT 'abc': expected a number of seconds, 0 or more (e.g. 60)"),
        ({"DBWARDEN_LOCK_TIMEOUT": "-5"}, None, None, ["status"], 2,
         "DBWARDEN_LOCK_TIMEOUT '-5': expected a number of seconds, 0 or more (e.g. 60)"),
        ({}, None, None, ["migrate", "--lock-timeout", "-1"], 2,
         "--lock-timeout -1.0: expected a number of seconds, 0 or more (e.g. 60)"),
        ({}, None, None, ["migrate", "--lock-timeout", "nan"], 2,
         "--lock-timeout nan: expected a number of seconds, 0 or more (e.g. 60)"),
        ({}, "postgresql://postgres@127.0.0.1:abc/db", None, ["status"], 1,
         ("database 'primary': database_url 'postgresql://postgres@127.0.0.1:abc/db' is malformed: the port 'abc' is "
          "not a number")),
        ({}, "postgresql://postgres@[::1/db", None, ["status"], 1,
         ("database 'primary': database_url 'postgresql://postgres@[::1/db' is malformed: an unbalanced '[' or ']' in "
          "the host (an IPv6 address is written [::1]:5432)")),
        ({}, "postgresql://postgres@::1]:5432/db", None, ["diff"], 1,
         ("database 'primary': database_url 'postgresql://postgres@::1]:5432/db' is malformed: an unbalanced '[' or "
          "']' in the host (an IPv6 address is written [::1]:5432)")),
        ({}, None, AUTHORS.replace('"author"', '"dbwarden_migrations"'), ["make-migrations", "x"], 1,
         ("model table dbwarden_migrations: dbwarden_migrations is the name of dbwarden's own history table; give the "
          "model's table another name (__tablename__)")),
        ({}, None, AUTHORS.replace('"author"', '"dbwarden_lock"'), ["diff"], 1,
         ("model table dbwarden_lock: dbwarden_lock is the name of dbwarden's own lock table; give the model's table "
          "another name (__tablename__)")),
    ]
    config = project.root / "dbwarden.py"
    original = config.read_text()
    for env, url, models, args, code, line in cases:
        with monkeypatch.context() as patched:
            for key, value in env.items():
                patched.setenv(key, value)
            config.write_text(original.replace(pg_url, url) if url else original)
            project.models(models or AUTHORS)
            msg = one_line(project.cli(*args), code)
            assert msg == line or (url and msg.endswith(f"dbwarden.py:3: ConfigError: {line}")), (env, url, args, msg)
    config.write_text(original)
    project.models(AUTHORS)
    project.ok("migrate", "--lock-timeout", "0")

    maria = ProjectDir(tmp_path / "maria", f"{mariadb_url}?connect_timeout=abc", "mariadb")
    masked = f"{mariadb_url}?connect_timeout=abc"
    for args in (["status"], ["diff"]):
        assert one_line(maria.cli(*args)) == (
            f"database 'primary': database_url: invalid database URL {masked}: ?connect_timeout='abc' is not a whole "
            "number (seconds, or flags for client_flag)")


@pytest.mark.parametrize("url", ["postgresql://app:p@ss/word@h/db", "mysql://app:s3cr@t@db.local:3306/app",
                                 "mariadb://a:b@c@d:3306/x?ssl_ca=/etc/ca.pem"])
def test_an_at_the_driver_would_cut_the_password_at_is_malformed(url: str) -> None:
    from dbwarden_nb.config import ConfigError, check_url, url_database_type

    with pytest.raises(ConfigError, match="is malformed: its password holds an unencoded '@'") as caught:
        check_url(url_database_type(url), url)
    assert url.split("://")[1].split(":")[1].rpartition("@")[0] not in str(caught.value)


def test_dw_snapshot_of_a_malformed_url_is_one_line_without_the_password(pg_url: str) -> None:
    import dbwarden_nb as dw
    from dbwarden_nb.errors import ConfigError

    url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:S3cr3t@rl-Pw@")
    with pytest.raises(ConfigError) as caught:
        dw.snapshot(url)
    assert "is malformed: its password holds an unencoded '@'" in str(caught.value)
    assert "rl-Pw" not in str(caught.value) and "S3cr3t" not in str(caught.value)


@pytest.mark.parametrize("url", ["postgresql://a%40b@h/db", "postgresql://u:p%40ss@h:5432/db?options=x@y",
                                 "mysql://u@[::1]:3306/db", "sqlite:///./my@db.db"])
def test_well_formed_urls_pass(url: str) -> None:
    from dbwarden_nb.config import check_url, url_database_type

    check_url(url_database_type(url), url)


# -- 8. nothing left behind --------------------------------------------------------------------------------


def test_scratch_databases_of_killed_runs_are_named_then_dropped(tmp_path: Path, mariadb_url: str) -> None:
    import time

    now = int(time.time())
    legacy, old, young = "dbwarden_scratch_0badc0de", f"dbwarden_scratch_{now - 3600:x}_0badc0de", \
        f"dbwarden_verify_{now:x}_0badc0de"
    try:
        execute(mariadb_url, *(f"CREATE DATABASE `{name}`" for name in (legacy, old, young)))
        project = ProjectDir(tmp_path / "proj", mariadb_url, "mariadb")
        project.models(AUTHORS)
        out = project.ok("lock-status").out.splitlines()
        assert out == ["primary: migration lock: free",
                       (f"primary: scratch database(s) left by a killed run: {legacy}, {old}, {young} (the next "
                        "make-migrations drops them once they are 5 minutes old; DROP DATABASE drops them now)")]
        project.ok("make-migrations", "initial")  # normalizes the models in a scratch database of its own
        assert project.ok("--json", "lock-status").json()["leftovers"] == [young]
    finally:
        execute(mariadb_url, *(f"DROP DATABASE IF EXISTS `{name}`" for name in (legacy, old, young)))


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path: Path, sqlite_url: str) -> None:
    import socket
    import subprocess
    import sys
    import time

    project = ProjectDir(tmp_path / "proj", sqlite_url)
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    project.ok("lock-status")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=False, capture_output=True, text=True)
    owner = f"{socket.gethostname()}:{int(dead.stdout)}:0badc0de"
    from dbwarden_nb.backends import get_backend
    from dbwarden_nb.migrations.lock import LeaseLock

    conn = get_backend("sqlite").connect(sqlite_url)
    try:
        LeaseLock(conn, owner=owner).acquire(1)  # a live lease for an hour, of a process that is gone
        conn.query("UPDATE dbwarden_lock SET expires_at = :e", {"e": time.time() + 3600})
        conn.commit()
    finally:
        conn.close()
    assert project.ok("lock-status").out.strip() == f"primary: migration lock: held by {owner}"
    assert "applied 1 migration(s)" in project.ok("migrate", "--lock-timeout", "0").out
    assert project.ok("lock-status").out.strip() == "primary: migration lock: free"


LONG_STATEMENT = {  # a statement that runs for minutes
    "sqlite": "CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) "
              "SELECT x FROM c",
    "mariadb": "CREATE TABLE big AS SELECT seq FROM seq_1_to_5000000000",
}


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
def test_ctrl_c_stops_a_long_statement(tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    url = request.getfixturevalue(f"{kind}_url")
    project = ProjectDir(tmp_path / "proj", url, kind)
    project.ok("new", "slow")
    (manual,) = project.migration_files()
    manual.write_text(manual.read_text().replace("-- rollback", f"{LONG_STATEMENT[kind]};\n-- rollback\nDROP TABLE big;"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.Popen([sys.executable, "-m", "dbwarden_nb", "migrate"], cwd=project.root, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # well inside the statement
    assert run.poll() is None
    run.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = run.communicate(timeout=60)
    assert time.monotonic() - started < 10, "the statement ran on after Ctrl-C"
    assert run.returncode == 130 and err == "dbwarden: interrupted\n", (run.returncode, out, err)
    time.sleep(1)
    assert "big" not in tables(url)
    assert project.ok("lock-status").out.strip() == "primary: migration lock: free"
    assert "pending: 1" in project.ok("status").out
