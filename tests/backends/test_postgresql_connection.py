"""The read-only PostgreSQL connection (backends/postgresql/connection.py): same results and transaction rules
as the SQLAlchemy one, one-line errors, and read-only commands that never load SQLAlchemy's engine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from dbwarden_nb.backends import get_backend
from dbwarden_nb.config import sqlalchemy_url
from dbwarden_nb.errors import BackendError, ConfigError


@pytest.fixture
def backend():
    return get_backend("postgresql")


def test_same_snapshot_and_version_as_the_sqlalchemy_connection(pg_url, backend):
    url = sqlalchemy_url(pg_url)
    with backend.connect(url) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, pct text DEFAULT '100%' CHECK (pct LIKE '%\\%'))")
        conn.commit()
        full, version = backend.introspect(conn), backend.server_version(conn)
    reader = backend.connect_read_only(url)
    try:
        assert backend.introspect(reader) == full
        assert backend.server_version(reader) == version
        # :name parameters next to '::' casts and '%' signs, which must reach the server as written
        rows = reader.query("SELECT :a::int + 1, '5%' || :b, 'x:y'", {"a": 41, "b": "!"})
        assert rows == [(42, "5%!", "x:y")]
    finally:
        reader.close()


def test_transactions_follow_the_connection_rules(pg_url, backend):
    reader = backend.connect_read_only(sqlalchemy_url(pg_url))
    try:
        with reader.rolled_back():
            reader.execute("CREATE TABLE scratch (id int)")
            with reader.transaction():  # joins the rolled-back one
                reader.execute("INSERT INTO scratch VALUES (1)")
            assert reader.query("SELECT count(*) FROM scratch") == [(1,)]
        assert reader.query("SELECT to_regclass('scratch') IS NULL") == [(True,)]
        with pytest.raises(ZeroDivisionError), reader.transaction():
            reader.execute("CREATE TABLE gone (id int)")
            raise ZeroDivisionError
        assert reader.query("SELECT to_regclass('gone') IS NULL") == [(True,)]
        with pytest.raises(Exception, match="division by zero"):
            reader.query("SELECT 1 / 0")
        assert reader.query("SELECT 1") == [(1,)]  # a failed statement outside a transaction leaves none open
        reader.execute("CREATE TABLE kept (id int)")  # outside a transaction: committed at once
        assert reader.query("SELECT count(*) FROM pg_stat_activity "
                            "WHERE pid = pg_backend_pid() AND state = 'idle in transaction'") == [(0,)]
    finally:
        reader.close()


def test_errors_are_one_line(pg_url, backend):
    with pytest.raises(ConfigError, match=r"^cannot connect to postgresql://u:\*\*\*@127\.0\.0\.1:1/x: ") as err:
        backend.connect_read_only("postgresql+psycopg://u:Pa55word@127.0.0.1:1/x",
                                  "postgresql://u:***@127.0.0.1:1/x")
    assert "Pa55word" not in str(err.value) and "\n" not in str(err.value)
    reader = backend.connect_read_only(sqlalchemy_url(pg_url))
    killer = backend.connect(sqlalchemy_url(pg_url))
    try:
        pid = reader.query("SELECT pg_backend_pid()")[0][0]
        killer.query("SELECT pg_terminate_backend(:pid)", {"pid": pid})
        with pytest.raises(BackendError, match="the connection to .* was lost"):
            reader.query("SELECT 1")
        assert reader.lost
    finally:
        reader.close()
        killer.close()


def test_read_only_commands_load_no_sqlalchemy(pg_url, tmp_path):
    """diff and no-op make-migrations on unchanged models: the model cache and psycopg, nothing more."""
    (tmp_path / "dbwarden.py").write_text(textwrap.dedent(f"""\
        from dbwarden_nb import database_config

        database_config(database_name="primary", default=True, database_type="postgresql",
                        database_url={pg_url!r}, model_paths=["models.py"])
        """))
    (tmp_path / "models.py").write_text(textwrap.dedent("""\
        import sqlalchemy as sa
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Item(Base):
            __tablename__ = "item"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(40), index=True)
        """))
    past = time.time() - 60  # written a minute ago: a file changed during a run is never cached
    for name in ("dbwarden.py", "models.py"):
        os.utime(tmp_path / name, (past, past))
    probe = ("import sys; from dbwarden_nb.cli import main; code = main(sys.argv[1:]); "
             "print('engine loaded:', 'sqlalchemy.engine' in sys.modules); sys.exit(code)")

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", probe, *args], check=False, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("make-migrations", "items")
    run("migrate")
    run("diff")  # fills the model cache
    for args in (("diff",), ("make-migrations", "again")):
        out = run(*args)
        assert "engine loaded: False" in out, out
        assert "no differences" in out or "no changes" in out, out
