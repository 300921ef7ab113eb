"""Snapshots of a database given by URL or Engine, outside any project (``dw.snapshot(...)``)."""

from __future__ import annotations

from typing import Any

from .errors import ConfigError
from .schema import Snapshot

_SCHEMES = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mariadb",
            "sqlite": "sqlite", "clickhouse": "clickhouse", "clickhouses": "clickhouse", "chdb": "clickhouse"}


def backend_of_url(url: str) -> str:
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in _SCHEMES:
        from .config import mask_url

        raise ConfigError(f"cannot tell the database type of {mask_url(url)} (expected one of {', '.join(sorted(set(_SCHEMES)))}://…)")
    return _SCHEMES[scheme]


def snapshot_of(source: Any, database_type: str | None = None) -> Snapshot:
    from .backends import get_backend
    from .backends.base import Connection
    from .config import mask_url, sqlalchemy_url

    if isinstance(source, str):
        backend = get_backend(database_type or backend_of_url(source))
        with backend.connect(sqlalchemy_url(source), mask_url(source)) as conn:
            return backend.introspect(conn)
    dialect = getattr(getattr(source, "dialect", None), "name", None)
    if dialect is None:
        raise ConfigError(f"dw.snapshot() expects a URL or a SQLAlchemy Engine, got {type(source).__name__}")
    backend = get_backend(database_type or backend_of_url(dialect + "://"))
    conn = Connection(backend, source, mask_url(str(source.url)))
    try:
        return backend.introspect(conn)
    finally:
        conn.rollback()
        conn.sqlalchemy.close()
