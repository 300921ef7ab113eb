"""Process-wide cache of chDB clients.

chDB embeds one ClickHouse engine per process, bound to a single data directory: while any
client on directory A is open, opening directory B (or ``:memory:``, or calling
``chdb.query()``) fails with "EmbeddedServer already initialized with path A". Once every client
on A is closed, another directory can be opened. Two processes cannot share one directory.

So every chDB connection of the project goes through :func:`get_chdb_client`, which hands out one
shared client per directory.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from dbwarden_nb.errors import BackendError

_lock = threading.Lock()
_clients: dict[str, Any] = {}  # realpath of the data directory -> clickhouse_connect client


def get_chdb_client(path: str, database: str | None = None) -> Any:
    """The shared clickhouse_connect client on the chDB data directory ``path``.

    The client is shared: ``database``, when given, becomes its default database (``USE``) for
    every holder of the client, so code that may share a process with other users of the same
    directory should qualify names (``db.table``) instead of relying on it.
    """
    import clickhouse_connect

    key = os.path.realpath(path)  # chDB compares paths literally
    with _lock:
        client = _clients.get(key)
        if client is not None and getattr(getattr(client, "_backend", None), "_closed", False):
            del _clients[key]  # someone closed the shared client; open a new one
            client = None
        if client is None:
            if _clients:
                (other,) = _clients
                raise BackendError(
                    f"chDB cannot open {key!r}: this process already uses the chDB data directory "
                    f"{other!r}, and chDB allows only one per process"
                )
            try:
                client = clickhouse_connect.get_client(interface="chdb", path=key)
            except clickhouse_connect.driver.exceptions.Error as exc:
                raise BackendError(f"chDB cannot open {key!r}: {exc}") from exc
            _clients[key] = client
        if database is not None:
            client.database = database
        return client


def close_chdb_clients() -> None:
    """Close the shared clients, which lets this process open another data directory."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
