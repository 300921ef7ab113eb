"""A PostgreSQL connection straight on psycopg, for the commands that only read and compare (diff, snapshot,
make-migrations, generate-models).

Importing SQLAlchemy's engine layer costs more than everything else such a command does at a few hundred
tables (~0.3 s of ~0.8 s), and those commands need nothing from it: the catalog queries and the scratch-schema
normalization go through ``query``/``execute``/``transaction``/``rolled_back`` only. It offers the same methods
as :class:`~dbwarden_nb.backends.base.Connection` with the same transaction rules; the runner, history and
lock keep the SQLAlchemy connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from ...errors import BackendError, ConfigError
from ..base import Connection, Mixin
from ..base.connection import Pipeline, PipelineFailure

if TYPE_CHECKING:
    from typing import Self


class PsycopgConnection:
    def __init__(self, backend: Any, url: str, masked_url: str):
        import psycopg

        from ...config import mask_text

        self.backend = backend
        self.masked_url = masked_url
        self._explicit = False
        conninfo = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)
        try:
            self._raw = psycopg.connect(conninfo)
        except psycopg.ProgrammingError as exc:  # libpq could not parse the URL
            raise ConfigError(f"invalid database URL {masked_url}: {mask_text(_first_line(exc), [url])}") from None
        except psycopg.Error as exc:
            raise ConfigError(f"cannot connect to {masked_url}: {mask_text(_first_line(exc), [url])}") from None

    @property
    def sqlalchemy(self) -> Any:
        raise BackendError("internal: this read-only PostgreSQL connection has no SQLAlchemy connection")

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
        self._alive()
        try:
            with self._raw.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall() if cursor.description is not None else []
        except Exception:
            self._alive()  # a lost connection is one clear line; other errors are the caller's to report
            if not self._explicit:  # an aborted implicit transaction would refuse every later statement
                self._raw.rollback()
            raise
        if not self._explicit:
            self._raw.commit()  # nothing stays open between statements (an idle snapshot blocks other runners)
        return [tuple(r) for r in rows]

    def execute(self, sql: str) -> None:
        """One statement verbatim, with no parameters (so a ``%`` is never read as a placeholder)."""
        self._run(sql, None)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """A query of our own with ``:name`` parameters."""
        if not params:
            return self._run(sql, None)
        names = "|".join(re.escape(name) for name in params)
        converted = re.sub(rf"(?<![:\w]):({names})\b", r"%(\1)s", sql.replace("%", "%%"))
        return self._run(converted, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._explicit:
            yield
            return
        self.commit()
        self._explicit = True
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        else:
            self.commit()
        finally:
            self._explicit = False

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """A transaction that is always rolled back; transactions opened inside it join it."""
        self.commit()
        self._explicit = True
        try:
            yield
        finally:
            self.rollback()
            self._explicit = False

    def execute_autocommit(self, sql: str) -> None:
        self.commit()
        self._raw.autocommit = True
        try:
            self._run(sql, None)
        finally:
            if not self.lost:
                self._raw.autocommit = False

    def commit(self) -> None:
        if not self.lost:
            self._raw.commit()

    def rollback(self) -> None:
        if not self.lost:
            self._raw.rollback()

    @property
    def lost(self) -> bool:
        return bool(self._raw.closed or self._raw.broken)

    def _alive(self) -> None:
        if self.lost:
            raise BackendError(f"the connection to {self.masked_url} was lost")

    def close(self) -> None:
        if not self.lost:
            try:
                self._raw.rollback()
            except Exception:  # noqa: BLE001, S110  closing a broken connection: nothing left to tell
                pass
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _version_text(number: int) -> str:
    """``server_version_num`` as SQLAlchemy spells the version: 150020 → "15.20", 90624 → "9.6.24"."""
    if number >= 100000:
        return f"{number // 10000}.{number % 10000}"
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


class PostgreSQLConnecting(Mixin):
    """Connecting to PostgreSQL: the default schema, user schemas, the server's version, the read-only psycopg connection."""

    default_schema_name: ClassVar[str]  # the backend class's ("public")

    def default_schema(self, conn: Connection | None) -> str:
        if conn is None:
            return self.default_schema_name
        return str(conn.query("SELECT current_schema()")[0][0])

    def regclass(self, schema: str | None, name: str) -> str:
        """A relation's name as ``'…'::regclass`` prints it: qualified outside the default schema, quoted if needed."""
        prep = self._preparer()
        return f"{prep.quote(schema)}.{prep.quote(name)}" if schema else prep.quote(name)

    def user_schemas(self, conn: Connection) -> list[str]:
        rows = conn.query("SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
                          "AND nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY nspname")
        return [r[0] for r in rows]

    def server_num(self, conn: Connection) -> int:
        return int(conn.query("SHOW server_version_num")[0][0])

    def server_version(self, conn: Connection) -> str:
        return _version_text(self.server_num(conn))

    @contextmanager
    def pipeline(self, conn: Connection) -> Iterator[Pipeline]:
        """psycopg's pipeline mode: a migration's statements go to the server in batches, one round trip each."""
        import psycopg

        raw = conn.sqlalchemy.connection.dbapi_connection
        assert raw is not None, "a live connection has its DBAPI connection"
        failure: Exception | None = None
        try:
            with raw.pipeline() as pipe:
                try:
                    yield _PsycopgPipeline(conn, raw, pipe)
                except Exception as exc:  # noqa: BLE001 (raised below, out of pipeline mode: psycopg logs one inside)
                    failure = exc
        except psycopg.Error:
            if failure is None:
                raise
        if failure is not None:
            raise failure

    def lock_capacity(self, conn: Connection) -> int:
        # the shared lock table: max_locks_per_transaction × (max_connections + max_prepared_transactions) entries
        return int(conn.query("SELECT current_setting('max_locks_per_transaction')::int * "
                              "(current_setting('max_connections')::int + "
                              "current_setting('max_prepared_transactions')::int)")[0][0])

    def locks_held(self, conn: Connection) -> int:
        # fast-path locks live in the session's own slots, not in the shared table
        return int(conn.query("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND NOT fastpath")[0][0])

    def connect_read_only(self, url: str, masked_url: str | None = None) -> Connection:
        from ...config import mask_url
        from .connection import PsycopgConnection

        return PsycopgConnection(self, url, masked_url or mask_url(url))  # type: ignore[return-value]


class _PsycopgPipeline(Pipeline):
    """Statements sent in psycopg's pipeline mode; a failure is found at the sync after it, and which statement it
    was by the first cursor without a result (those after it were not run)."""

    def __init__(self, conn: Connection, raw: Any, pipe: Any):
        super().__init__(conn)
        self.raw, self.pipe = raw, pipe
        self.cursors: list[Any] = []

    def send(self, sql: str) -> None:
        cursor = self.raw.cursor()
        self.cursors.append(cursor)
        self._waiting(lambda: cursor.execute(sql))  # may read the results of earlier ones

    def sync(self) -> None:
        try:
            self._waiting(self.pipe.sync)
        finally:
            for cursor in self.cursors:
                cursor.close()
            self.cursors.clear()

    def _waiting(self, call: Any) -> None:
        try:
            call()
        except KeyboardInterrupt:  # as Connection._raw: the statement must stop on the server too
            self.conn._lost = True  # type: ignore[attr-defined]
            raise
        except Exception as exc:  # noqa: BLE001 (any driver error: attributed to the first statement without a result)
            self.conn._lost = bool(self.raw.closed or self.raw.broken)  # type: ignore[attr-defined]
            position = next((n for n, c in enumerate(self.cursors) if c.pgresult is None), len(self.cursors) - 1)
            raise PipelineFailure(position, exc) from None
