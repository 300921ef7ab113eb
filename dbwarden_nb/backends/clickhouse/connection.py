"""Connecting to ClickHouse: a server through clickhouse-connect, or embedded chDB (one shared client per data directory, chdb.py)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, unquote

from ...errors import BackendError, ConfigError
from .. import BACKENDS
from ..base import Mixin

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://(.*)", re.DOTALL)
_HOST_PORT = re.compile(r"(?:\[(?P<ipv6>[^\]]*)\]|(?P<host>[^:]*))(?::(?P<port>.*))?", re.DOTALL)


def parse_clickhouse_url(url: str, *, root: Path | None = None) -> dict[str, Any]:
    """Split a ClickHouse URL into clickhouse-connect arguments.

    ``clickhouse://user:password@host:8123/db`` (HTTP), ``clickhouses://…`` (HTTPS, default port 8443),
    ``chdb:///absolute/path?database=db`` (embedded chDB; ``chdb://relative/path`` is resolved against
    ``root``; ``chdb://`` alone is in memory). ``?database=`` is the only query parameter.
    """
    from ...config import mask_url

    match = _SCHEME.fullmatch(url)
    scheme, remainder = (match.group(1).lower(), match.group(2)) if match else ("", "")
    if scheme not in BACKENDS["clickhouse"].schemes:
        raise ConfigError(
            f"{mask_url(url)!r} is not a ClickHouse URL (expected clickhouse://, clickhouses:// or chdb://)"
        )
    target, _, query = remainder.partition("?")
    params = parse_qs(query, keep_blank_values=True)
    if set(params) - {"database"}:
        unknown = ", ".join(sorted(set(params) - {"database"}))
        raise ConfigError(f"{mask_url(url)!r}: unsupported query parameter(s) {unknown} (only database=)")
    database = params["database"][-1] if "database" in params else None
    if scheme == "chdb":
        path = unquote(target) or None
        if path is not None and root is not None and not Path(path).is_absolute():
            path = os.path.normpath(root / path)
        return {
            "interface": "chdb",
            "host": None,
            "port": None,
            "username": None,
            "password": None,
            "database": database,
            "path": path,
            "secure": False,
        }
    secure = scheme == "clickhouses"
    userinfo, at, server = target.rpartition("@")  # the last "@": see config._userinfo_password
    username, _, password = userinfo.partition(":")
    host_port, _, path_database = server.partition("/")
    address = _HOST_PORT.fullmatch(host_port)
    port = address.group("port") if address else None
    if address is None or (port is not None and not port.isdigit()):
        raise ConfigError(f"{mask_url(url)!r}: invalid host or port {host_port!r}")
    return {
        "interface": "https" if secure else "http",
        "host": address.group("ipv6") or address.group("host") or "localhost",
        "port": int(port) if port else (8443 if secure else 8123),
        "username": unquote(username) if at and username else "default",
        "password": unquote(password) if at else "",
        "database": unquote(path_database) or database,
        "path": None,
        "secure": secure,
    }


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
        if re.match(r"\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS)\b", sql, re.IGNORECASE):
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    from typing import Self

    from . import ClickHouseBackend


class ClickHouseConnecting(Mixin):
    """Connecting to ClickHouse: a server through clickhouse-connect, or embedded chDB (one shared client per data directory, chdb.py)."""

    def connect(self, url: str, masked_url: str | None = None) -> ClickHouseConnection:  # type: ignore[override]
        from ...config import mask_text, mask_url

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
                return ClickHouseConnection(cast("ClickHouseBackend", self), client, masked, shared=True)  # its only class
            client = clickhouse_connect.get_client(
                interface=args["interface"], host=args["host"], port=args["port"], username=args["username"],
                password=args["password"], database=args["database"] or "default", secure=args["secure"])
            return ClickHouseConnection(cast("ClickHouseBackend", self), client, masked, shared=False)
        except (BackendError, ConfigError):
            raise
        except Exception as exc:  # noqa: BLE001  the driver's error, as one masked line
            raise ConfigError(f"cannot connect to {masked}: {mask_text(str(exc).splitlines()[0], [url])}") from None

    def server_version(self, conn: Any) -> str:
        return str(conn.client.server_version)

    def table_exists(self, conn: Any, name: str) -> bool:
        return bool(conn.query("SELECT 1 FROM system.tables WHERE database = :d AND name = :n",
                               {"d": conn.database, "n": name}))
