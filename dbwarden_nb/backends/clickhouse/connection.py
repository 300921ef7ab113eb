"""Connecting to ClickHouse: a server through clickhouse-connect, or embedded chDB (one shared client per data directory, chdb.py)."""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ...errors import BackendError, ConfigError


class ClickHouseConnection:
    """The ``Connection`` shape over a clickhouse-connect client. ClickHouse has no transactions: the
    transaction methods only mark scopes, and nothing can be rolled back."""

    lost = False  # HTTP has no session to lose: each request stands alone

    def __init__(self, backend: ClickHouseBackend, client: Any, masked_url: str, shared: bool):
        self.backend = backend
        self.client = client
        self.masked_url = masked_url
        self._shared = shared

    @property
    def database(self) -> str:
        return self.client.database or "default"

    def execute(self, sql: str) -> None:
        self.client.command(sql)

    execute_autocommit = execute

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        from clickhouse_connect.driver.binding import format_query_value

        if params:
            sql = re.sub(r"(?<![:\w]):(\w+)", lambda m: str(format_query_value(params[m.group(1)]))
                         if m.group(1) in params else m.group(0), sql)
        if re.match(r"\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS)\b", sql, re.I):
            return [tuple(r) for r in self.client.query(sql).result_rows]
        self.client.command(sql)
        return []

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        yield

    @contextmanager
    def use(self, database: str) -> Iterator[None]:
        before = self.client.database
        self.client.database = database
        try:
            yield
        finally:
            self.client.database = before

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        if not self._shared:
            self.client.close()

    def __enter__(self) -> ClickHouseConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    from ..base import Backend as _Base
    from . import ClickHouseBackend
else:
    _Base = object


class ClickHouseConnecting(_Base):
    """Connecting to ClickHouse: a server through clickhouse-connect, or embedded chDB (one shared client per data directory, chdb.py)."""

    def connect(self, url: str, masked_url: str | None = None) -> ClickHouseConnection:  # type: ignore[override]
        from ...config import mask_text, mask_url, parse_clickhouse_url

        masked = masked_url or mask_url(url)
        args = parse_clickhouse_url(url)
        try:
            import clickhouse_connect
        except ModuleNotFoundError:
            raise ConfigError("the clickhouse backend needs clickhouse-connect: pip install 'dbwarden_nb[clickhouse]'") from None
        # the client logs its own failures (with the URL) through logging's last-resort stderr handler: the user
        # gets our one masked line instead; an application that configures logging still sees them
        logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
        try:
            if args["interface"] == "chdb":
                from .chdb import get_chdb_client

                if not args["path"]:
                    raise ConfigError(f"{masked}: chdb:// needs a data directory (chdb:///absolute/path)")
                client = get_chdb_client(str(args["path"]), str(args["database"] or "default"))
                return ClickHouseConnection(self, client, masked, shared=True)
            client = clickhouse_connect.get_client(
                interface=args["interface"], host=args["host"], port=args["port"], username=args["username"],
                password=args["password"], database=args["database"] or "default", secure=args["secure"])
            return ClickHouseConnection(self, client, masked, shared=False)
        except (BackendError, ConfigError):
            raise
        except Exception as exc:
            raise ConfigError(f"cannot connect to {masked}: {mask_text(str(exc).splitlines()[0], [url])}") from None

    def server_version(self, conn: Any) -> str:
        return str(conn.client.server_version)

    def table_exists(self, conn: Any, name: str) -> bool:
        return bool(conn.query("SELECT 1 FROM system.tables WHERE database = :d AND name = :n",
                               {"d": conn.database, "n": name}))
