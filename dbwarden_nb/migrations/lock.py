"""Migration locks: one runner at a time per database.

Servers with session locks (PostgreSQL advisory locks, MySQL GET_LOCK) release them when the holder's
connection ends. SQLite and ClickHouse have none, so they use a lease: a row with an owner and an
expiry that a crashed holder stops renewing, and that the next runner takes over once it is stale.
A lease lasts ``$DBWARDEN_LOCK_LEASE`` seconds (default 120) from its last renewal; the runner renews it
inside every transaction that records progress, so a holder whose lease was taken over cannot record
anything more (the write and the check commit together or not at all).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, LockError

if TYPE_CHECKING:
    from typing import Self

    from ..backends.base import Connection

LOCK_NAME = "migrate"
LEASE_ENV = "DBWARDEN_LOCK_LEASE"
DEFAULT_LEASE = 120.0


def lease_seconds() -> float:
    """How long a lease lasts without renewal: ``$DBWARDEN_LOCK_LEASE`` or 120 seconds."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    if not raw:
        return DEFAULT_LEASE
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(f"${LEASE_ENV} is {raw!r}; expected a number of seconds greater than 0")
    return value


def lost_lease(holder: str, ttl: float) -> LockError:
    """The error of a lease holder that finds its lease gone (expired and taken over, or ended by unlock)."""
    return LockError(f"lost the migration lock: the lease of {holder} expired (or 'dbwarden unlock' ended it); stopped "
                     f"before recording anything more (a lease lasts ${LEASE_ENV} = {ttl:g}s between renewals)")


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def gone_here(owner: str | None) -> bool:
    """Whether a lease owner (``host:pid:token``, see :func:`new_owner`) is a process of this host that no longer
    runs: its lease is taken over at once, without waiting for it to expire."""
    host, pid, token = ((owner or "").rsplit(":", 2) + ["", ""])[:3]
    if host != socket.gethostname() or not pid.isdigit() or not token or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False


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

    session = False  # released by the server when the holder's connection ends

    def __init__(self, conn: Connection, owner: str | None = None):
        self.conn = conn
        self.owner = owner or new_owner()
        self.held = False

    def acquire(self, timeout: float = 60.0, on_wait: Callable[[], None] | None = None) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; ``on_wait`` is called once if it is busy."""
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if on_wait is not None:
                on_wait()
                on_wait = None
            if time.monotonic() >= deadline:
                self.timed_out(timeout)
            time.sleep(0.2)
        self.held = True

    def timed_out(self, timeout: float) -> None:
        status = self.status()
        raise LockError(
            f"migration lock is held by {status.owner or 'another session'}; waited {timeout:g}s "
            "(run 'dbwarden lock-status' to see it, 'dbwarden unlock' if its holder is gone)"
        )

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def renew(self) -> None:
        """Extend a lease between migrations; session locks need nothing."""

    def verify(self) -> None:
        """Inside a transaction that records progress: raise :class:`LockError` if the lock is no longer
        ours, so that the record is not written. A session lock cannot be lost while its connection lives."""

    def release(self) -> None:
        raise NotImplementedError

    def status(self) -> LockStatus:
        raise NotImplementedError

    def force_release(self) -> LockStatus:
        """End the lock whoever holds it; returns what it was."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self.release()


class LeaseLock(Lock):
    """A row in ``dbwarden_lock`` with an owner and an expiry; a stale lease is taken over."""

    def __init__(self, conn: Connection, owner: str | None = None):
        super().__init__(conn, owner)
        self.ttl = lease_seconds()
        backend = conn.backend
        self.table = backend.quote(backend.lock_table)
        self.q = backend.quote

    def _ensure(self) -> None:
        with self.conn.transaction():
            for sql in self.conn.backend.lock_ddl():
                self.conn.execute(sql)

    def try_acquire(self) -> bool:
        from sqlalchemy.exc import OperationalError

        try:
            return self._claim()
        except OperationalError:  # the holder's migration keeps the file locked for writing: still busy
            if self.conn.lost:
                raise
            return False

    def _claim(self) -> bool:
        self._ensure()
        now = time.time()
        q = self.q
        with self.conn.transaction():
            held = self.conn.query(f"SELECT {q('owner')} FROM {self.table} WHERE {q('name')} = :n", {"n": LOCK_NAME})
            if held and gone_here(held[0][0]):  # its holder died on this host: no need to wait for the expiry
                self.conn.query(f"DELETE FROM {self.table} WHERE {q('name')} = :n AND {q('owner')} = :o",
                                {"n": LOCK_NAME, "o": held[0][0]})
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
        """Extend the lease if it is still ours (in the caller's transaction when there is one), else raise."""
        q = self.q
        mine = {"n": LOCK_NAME, "o": self.owner}
        with self.conn.transaction():
            self.conn.query(f"UPDATE {self.table} SET {q('expires_at')} = :exp WHERE {q('name')} = :n AND {q('owner')} = :o",
                            {"exp": time.time() + self.ttl, **mine})
            still = self.conn.query(f"SELECT 1 FROM {self.table} WHERE {q('name')} = :n AND {q('owner')} = :o", mine)
            if not still:
                raise lost_lease(self.owner, self.ttl)

    verify = renew

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
