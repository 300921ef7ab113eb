"""MySQL's migration lock: GET_LOCK on the migration connection, named after the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import LockError
from ...migrations.lock import Lock, LockStatus
from ..base import Connection, Mixin


class GetLock(Lock):
    """``GET_LOCK`` on the migration connection: the server waits up to the timeout and releases the lock
    when the connection ends. ``lock-status`` names the holding connection (IS_USED_LOCK + processlist)."""

    def __init__(self, conn: Connection, owner: str | None = None):
        super().__init__(conn, owner)
        database = conn.query("SELECT DATABASE()")[0][0]
        self.name = f"dbwarden:{database}"[:64]

    session = True

    def acquire(self, timeout: float = 60.0, on_wait: Callable[[], None] | None = None) -> None:
        if not self.try_acquire():  # else the server waits for it
            if on_wait is not None:
                on_wait()
            got = self.conn.query("SELECT GET_LOCK(:n, :t)", {"n": self.name, "t": max(0, round(timeout))})[0][0]
            if got != 1:
                self.timed_out(timeout)
        self.held = True

    def try_acquire(self) -> bool:
        return self.conn.query("SELECT GET_LOCK(:n, 0)", {"n": self.name})[0][0] == 1

    def release(self) -> None:
        self.conn.query("SELECT RELEASE_LOCK(:n)", {"n": self.name})
        self.held = False

    def _holder(self) -> tuple[Any, ...] | None:
        rows = self.conn.query(
            "SELECT l.id, p.USER, p.HOST, p.DB, p.TIME FROM (SELECT IS_USED_LOCK(:n) AS id) l "
            "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id",
            {"n": self.name},
        )
        return rows[0] if rows and rows[0][0] is not None else None

    def status(self) -> LockStatus:
        row = self._holder()
        if row is None:
            return LockStatus(False, kind="get_lock")
        cid, user, host, _db, seconds = row
        mine = self.conn.query("SELECT CONNECTION_ID()")[0][0] == cid
        who = f"connection {cid}" + (f" ({user}@{host}" + (f", for {seconds}s" if seconds is not None else "") + ")" if user else "")
        return LockStatus(True, who + (" — this session" if mine else ""), kind="get_lock")

    def force_release(self) -> LockStatus:
        before = self.status()
        row = self._holder()
        if row is not None:
            try:
                self.conn.query(f"KILL {int(row[0])}")
            except Exception as exc:  # noqa: BLE001  permission: say so instead of pretending
                raise LockError(f"cannot end the connection holding the migration lock ({row[0]}): {exc}") from None
        return before


class MySQLLocking(Mixin):
    """MySQL's migration lock: GET_LOCK on the migration connection, named after the database."""

    def lock(self, conn: Connection) -> Lock:
        return GetLock(conn)
