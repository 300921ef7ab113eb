"""Connecting to SQLite through the standard library's driver: foreign keys on, signals let in during long statements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base import Connection, Mixin

if TYPE_CHECKING:
    import sqlalchemy as sa

PROGRESS_STEPS = 20_000  # SQLite virtual machine steps between two calls of _let_signals_in


def _let_signals_in() -> int:
    """SQLite's progress handler: doing nothing in Python lets a pending signal be raised (0: go on)."""
    return 0


class SQLiteConnecting(Mixin):
    """Connecting to SQLite through the standard library's driver: foreign keys on, signals let in during long statements."""

    def create_engine(self, url: str) -> sa.Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

        # pysqlite commits DDL on its own; take transactions into our hands so a failed migration leaves no trace.
        @event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            # a long statement calls into Python now and then, where a pending Ctrl-C is raised: SQLite then stops
            # the statement ("interrupted", see interrupted()), instead of the signal waiting for its end
            dbapi_conn.set_progress_handler(_let_signals_in, PROGRESS_STEPS)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine

    def connect(self, url: str, masked_url: str | None = None) -> Connection:
        conn = super().connect(url, masked_url)
        try:
            conn.query("SELECT count(*) FROM sqlite_master")
        except Exception as exc:  # noqa: BLE001  not a database file, unreadable path …
            conn.close()
            from ...errors import ConfigError

            raise ConfigError(f"cannot open {conn.masked_url}: {getattr(exc, 'orig', exc)}") from None
        conn.commit()
        return conn

    def interrupted(self, exc: BaseException) -> bool:
        import sqlite3

        return isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted"

    def server_version(self, conn: Connection) -> str:
        return str(conn.query("SELECT sqlite_version()")[0][0])
