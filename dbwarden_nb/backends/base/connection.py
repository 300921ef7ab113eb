"""The connection every backend hands out: the concrete SQLAlchemy one, and the Protocol of what the engine uses
(the runner, history, lock and introspection), which a backend's own connection class also satisfies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import BackendError

if TYPE_CHECKING:
    from typing import Self

    import sqlalchemy as sa

    from . import Backend


class ConnectionProtocol(Protocol):
    """What the engine asks of a connection (``Connection`` below, ``PsycopgConnection``, ``ClickHouseConnection``)."""

    backend: Backend
    masked_url: str

    def execute(self, sql: str) -> None: ...
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]: ...
    def transaction(self) -> AbstractContextManager[None]: ...
    def execute_autocommit(self, sql: str) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class Connection:
    """A live connection through SQLAlchemy, the shape the runner, history and lock code rely on."""

    def __init__(self, backend: Backend, engine: sa.Engine, masked_url: str):
        self.backend = backend
        self.engine = engine
        self.masked_url = masked_url
        self._conn = engine.connect()
        self._explicit = False  # inside transaction(); outside it every statement commits at once
        self._lost = False
        self.thread_id: int | None = None  # the server's id of this session, where the backend needs it (cancel)

    @property
    def sqlalchemy(self) -> sa.Connection:
        return self._conn

    def execute(self, sql: str) -> None:
        """Run one statement verbatim: on the driver's own cursor with no parameters at all, since some
        drivers (psycopg) read ``%s`` as a placeholder even when given an empty parameter list."""
        self._alive()
        if not self._conn.in_transaction():
            self._conn.begin()
        try:
            self._raw(sql)
        except Exception as exc:
            from sqlalchemy.exc import DBAPIError

            raise DBAPIError.instance(sql, None, exc, self.engine.dialect.loaded_dbapi.Error) from exc
        self._settle()

    def _raw(self, sql: str) -> list[tuple[Any, ...]]:
        self._alive()
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None, "a connection that is not lost has its DBAPI connection"
        cursor = dbapi.cursor()
        try:
            cursor.execute(sql)
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        except KeyboardInterrupt:  # Ctrl-C: the statement must stop on the server too, not run on for nobody
            self._lost = True
            self.backend.cancel(self)
            raise
        except Exception as exc:
            if self.backend.interrupted(exc):  # the driver stopped the statement for a Ctrl-C (the connection lives)
                raise KeyboardInterrupt from None
            self._lost = self._lost or self.engine.dialect.is_disconnect(exc, dbapi, cursor)  # type: ignore[arg-type]  # any error
            raise
        finally:
            with suppress(Exception):
                cursor.close()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return all rows: with ``:name`` parameters when given, else verbatim (a ``:`` or ``%``
        in a quoted name is not a placeholder), as every connection of the project does."""
        from sqlalchemy import text

        if not params:
            self._alive()
            if not self._conn.in_transaction():
                self._conn.begin()
            rows = self._raw(sql)
            self._settle()
            return rows
        self._alive()
        result = self._conn.execute(text(sql), dict(params or {}))
        rows = [tuple(r) for r in result.fetchall()] if result.returns_rows else []
        self._settle()
        return rows

    def _settle(self) -> None:
        # outside an explicit transaction nothing may stay open: an idle read transaction would
        # block other runners (SQLite's shared lock, PostgreSQL's snapshot)
        if not self._explicit and self._conn.in_transaction():
            self._conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._explicit:
            yield
            return
        if self._conn.in_transaction():
            self._conn.commit()
        self._explicit = True
        tx = self._conn.begin()
        try:
            yield
        except BaseException:
            self._discard(tx.rollback)
            raise
        else:
            tx.commit()
        finally:
            self._explicit = False

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """A transaction that is always rolled back; transactions opened inside it join it."""
        if self._conn.in_transaction():
            self._conn.commit()
        self._explicit = True
        tx = self._conn.begin()
        try:
            yield
        finally:
            tx.rollback()
            self._explicit = False

    def execute_autocommit(self, sql: str) -> None:
        """Run a statement that cannot run inside a transaction block (CREATE INDEX CONCURRENTLY, …)."""
        if self._conn.in_transaction():
            self._conn.commit()
        level = self._conn.get_isolation_level()
        self._conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            self._raw(sql)
        finally:
            if not self.lost:
                self._conn.execution_options(isolation_level=level)

    def commit(self) -> None:
        if self._conn.in_transaction():
            self._conn.commit()

    def rollback(self) -> None:
        if self._conn.in_transaction() and not self.lost:
            self._conn.rollback()

    @property
    def lost(self) -> bool:
        """The server ended this connection (or it broke): its session locks and open transaction are gone."""
        return self._lost or self._conn.invalidated

    def _alive(self) -> None:
        # SQLAlchemy would quietly reconnect an invalidated connection: a new session, without the
        # migration lock the old one held, so nothing more may run on it
        if self.lost:
            raise BackendError(f"the connection to {self.masked_url} was lost")

    def _discard(self, rollback: Any) -> None:
        """Roll back while another error propagates; on a lost connection the server has done it already."""
        if self.lost:
            return
        try:
            rollback()
        except Exception:  # noqa: BLE001  a failed rollback: the connection is gone
            self._lost = True

    def close(self) -> None:
        self._discard(self.rollback)
        if self.lost:  # closing would try to roll back on the dead session first
            try:
                self._conn.invalidate()
            except Exception:  # noqa: BLE001, S110  closing a broken connection: nothing left to tell
                pass
        self._conn.close()
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PipelineFailure(Exception):
    """The statement sent ``position``-th (from 0) since the last sync failed with ``error`` (what ``execute`` would
    have raised); none sent after it ran."""

    def __init__(self, position: int, error: BaseException):
        super().__init__(str(error))
        self.position, self.error = position, error


class Pipeline:
    """Statements of the open transaction sent in order; :meth:`sync` waits until all sent have run. This one runs
    each as it is sent (a backend whose driver can send without waiting has its own, ``Backend.pipeline``)."""

    def __init__(self, conn: ConnectionProtocol):
        self.conn = conn
        self.sent = 0

    def send(self, sql: str) -> None:
        try:
            self.conn.execute(sql)
        except Exception as exc:  # noqa: BLE001 (any driver error: the pipeline names the statement that failed)
            raise PipelineFailure(self.sent, exc) from None
        self.sent += 1

    def sync(self) -> None:
        self.sent = 0
