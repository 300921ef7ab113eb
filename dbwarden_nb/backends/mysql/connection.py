"""Connecting to MySQL and MariaDB through PyMySQL: engine options, the server's version, the default database."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from ..base import Connection, Mixin

if TYPE_CHECKING:
    import sqlalchemy as sa

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# URL query options SQLAlchemy hands to the driver as integers
INTEGER_OPTIONS = ("connect_timeout", "read_timeout", "write_timeout", "client_flag")


class MySQLConnecting(Mixin):
    """Connecting to MySQL and MariaDB through PyMySQL: engine options, the server's version, the default database."""

    session_init: ClassVar[str]  # the backend class's (MySQL's and MariaDB's differ)

    def create_engine(self, url: str) -> sa.Engine:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        from ...config import sqlalchemy_url

        parsed = make_url(sqlalchemy_url(url))
        for key in INTEGER_OPTIONS:  # the driver would raise a bare ValueError from int()
            value = parsed.query.get(key)
            if isinstance(value, str) and not value.strip().isdigit():
                raise ValueError(f"?{key}={value!r} is not a whole number (seconds, or flags for client_flag)")
        args: dict[str, Any] = {"init_command": self.session_init, "charset": "utf8mb4"}
        if parsed.host in LOOPBACK and not any(k.startswith("ssl") for k in parsed.query):
            # PyMySQL would try TLS ("preferred") and build a new certificate store per connection (~0.1 s)
            # for a connection that never leaves the machine; URL ssl_* options turn it back on
            args["ssl_disabled"] = True
        return create_engine(parsed, poolclass=NullPool, connect_args=args)

    def connect(self, url: str, masked_url: str | None = None) -> Connection:
        conn = super().connect(url, masked_url)
        database, conn.thread_id = conn.query("SELECT DATABASE(), CONNECTION_ID()")[0]
        if not database:
            conn.close()
            from ...errors import ConfigError

            raise ConfigError(f"{conn.masked_url} names no database: add it to the URL (…/dbname)")
        return conn

    def server_version(self, conn: Connection) -> str:
        return str(conn.query("SELECT VERSION()")[0][0])

    def version_tuple(self, conn: Connection) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.server_version(conn))[:3])

    def default_schema(self, conn: Connection | None) -> str | None:
        return None if conn is None else str(conn.query("SELECT DATABASE()")[0][0])
