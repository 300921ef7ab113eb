"""Snapshots of a database given by URL or Engine, outside any project (``dw.snapshot(...)``)."""

from __future__ import annotations

from typing import Any

from .errors import ConfigError
from .schema import Snapshot


def backend_of_url(url: str) -> str:
    from .config import DATABASE_TYPES, mask_url, url_database_type

    found = url_database_type(url if "://" in url else url + "://")
    if found is None:
        raise ConfigError(f"cannot tell the database type of {mask_url(url)} (expected one of "
                          f"{', '.join(sorted(DATABASE_TYPES))}://…)")
    return found


def snapshot_of(source: Any, database_type: str | None = None) -> Snapshot:
    from .backends import get_backend
    from .backends.base import Connection
    from .config import mask_url, sqlalchemy_url

    if isinstance(source, str):
        from .config import check_url

        kind = database_type or backend_of_url(source)
        check_url(kind, source)  # a malformed URL is said so, before a driver could show part of its password
        backend = get_backend(kind)
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
