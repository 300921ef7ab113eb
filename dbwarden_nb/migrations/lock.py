"""Migration locks: one runner at a time per database.

Servers with session locks (PostgreSQL advisory locks, MySQL GET_LOCK) release them when the holder's
connection ends. SQLite and ClickHouse have none, so they use a lease: a row with an owner and an
expiry that a crashed holder stops renewing, and that the next runner takes over once it is stale.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import LockError

if TYPE_CHECKING:
    from ..backends.base import Connection

LOCK_NAME = "migrate"


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LockStatus:
    held: bool
    owner: str | None = None
    acquired_at: float | None = None
    expires_at: float | None = None
    kind: str = "lease"

    @property
    def stale(self) -> bool:
        return self.expires_at is not None and self.expires_at < time.time()

    def to_json(self) -> dict[str, Any]:
        return {"held": self.held, "owner": self.owner, "kind": self.kind, "stale": self.stale,
                "acquired_at": self.acquired_at, "expires_at": self.expires_at}

    def to_text(self) -> str:
        if not self.held:
            return "migration lock: free"
        state = " (stale: the holder stopped renewing it)" if self.stale else ""
        return f"migration lock: held by {self.owner}{state}"


class Lock:
    """Protocol of every lock strategy."""

    def __init__(self, conn: Connection, owner: str | None = None):
        self.conn = conn
        self.owner = owner or new_owner()
        self.held = False

    def acquire(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                status = self.status()
                raise LockError(
                    f"migration lock is held by {status.owner or 'another session'}; waited {timeout:g}s "
                    "(run 'dbwarden lock-status' to see it, 'dbwarden unlock' if its holder is gone)"
                )
            time.sleep(0.2)
        self.held = True

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def renew(self) -> None:
        """Extend a lease; session locks need nothing."""

    def release(self) -> None:
        raise NotImplementedError

    def status(self) -> LockStatus:
        raise NotImplementedError

    def force_release(self) -> LockStatus:
        """End the lock whoever holds it; returns what it was."""
        raise NotImplementedError

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self.release()


class LeaseLock(Lock):
    """A row in ``dbwarden_lock`` with an owner and an expiry; a stale lease is taken over."""

    ttl = 120.0

    def __init__(self, conn: Connection, owner: str | None = None):
        super().__init__(conn, owner)
        backend = conn.backend
        self.table = backend.quote(backend.lock_table)
        self.q = backend.quote

    def _ensure(self) -> None:
        with self.conn.transaction():
            for sql in self.conn.backend.lock_ddl():
                self.conn.execute(sql)

    def try_acquire(self) -> bool:
        self._ensure()
        now = time.time()
        q = self.q
        with self.conn.transaction():
            self.conn.query(f"DELETE FROM {self.table} WHERE {q('name')} = :n AND {q('expires_at')} < :now",
                            {"n": LOCK_NAME, "now": now})
            self.conn.query(
                f"INSERT INTO {self.table} ({q('name')}, {q('owner')}, {q('acquired_at')}, {q('expires_at')}) "
                f"SELECT :n, :o, :now, :exp WHERE NOT EXISTS (SELECT 1 FROM {self.table} WHERE {q('name')} = :n)",
                {"n": LOCK_NAME, "o": self.owner, "now": now, "exp": now + self.ttl},
            )
            rows = self.conn.query(f"SELECT {q('owner')} FROM {self.table} WHERE {q('name')} = :n", {"n": LOCK_NAME})
        return bool(rows) and rows[0][0] == self.owner

    def renew(self) -> None:
        q = self.q
        with self.conn.transaction():
            self.conn.query(f"UPDATE {self.table} SET {q('expires_at')} = :exp WHERE {q('name')} = :n AND {q('owner')} = :o",
                            {"exp": time.time() + self.ttl, "n": LOCK_NAME, "o": self.owner})

    def release(self) -> None:
        q = self.q
        with self.conn.transaction():
            self.conn.query(f"DELETE FROM {self.table} WHERE {q('name')} = :n AND {q('owner')} = :o",
                            {"n": LOCK_NAME, "o": self.owner})
        self.held = False

    def status(self) -> LockStatus:
        if not self.conn.backend.table_exists(self.conn, self.conn.backend.lock_table):
            return LockStatus(False)
        q = self.q
        rows = self.conn.query(
            f"SELECT {q('owner')}, {q('acquired_at')}, {q('expires_at')} FROM {self.table} WHERE {q('name')} = :n",
            {"n": LOCK_NAME},
        )
        self.conn.commit()
        if not rows:
            return LockStatus(False)
        owner, acquired, expires = rows[0]
        return LockStatus(True, owner, float(acquired), float(expires))

    def force_release(self) -> LockStatus:
        before = self.status()
        if before.held:
            with self.conn.transaction():
                self.conn.query(f"DELETE FROM {self.table} WHERE {self.q('name')} = :n", {"n": LOCK_NAME})
        return before
