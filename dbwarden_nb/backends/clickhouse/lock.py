"""ClickHouse's migration lock: a lease in a table of its own (no transactions, no session locks): the lowest live token holds it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ...migrations.lock import LOCK_NAME, Lock, LockStatus, lease_seconds, lost_lease
from ..base import Mixin


class ClickHouseLeaseLock(Lock):
    """A lease without transactions or row locks: Lamport's bakery over rows of a MergeTree table.

    A claimant first inserts a *choosing* row (token 0), then a *ticket* row whose token is above every token it
    can see, then waits until nobody else is still choosing, and holds the lock if its ticket is the lowest live
    one; else it withdraws its rows and tries again later. Every contender reads the same tickets, and one that
    chose after us saw ours, so at most one holds the lock. Rows expire ``$DBWARDEN_LOCK_LEASE`` seconds after
    their last renewal, which is how a crashed holder's lease is taken over. The ticket is a fencing token:
    :meth:`verify`, called before every history write, stops a holder whose lease another runner took over.
    """

    def __init__(self, conn: Any, owner: str | None = None):
        super().__init__(conn, owner)
        self.table = conn.backend.quote(conn.backend.lock_table)
        self.token: int | None = None
        self.ttl = lease_seconds()

    def _ensure(self) -> None:
        for sql in self.conn.backend.lock_ddl():
            self.conn.execute(sql)

    def _insert(self, token: int, now: float) -> None:
        self.conn.query(f"INSERT INTO {self.table} (name, owner, token, acquired_at, expires_at) VALUES "
                        "(:n, :o, :t, :now, :exp)", {"n": LOCK_NAME, "o": self.owner, "t": token, "now": now,
                                                     "exp": now + self.ttl})

    def _choosing(self) -> bool:
        """Whether another claimant has a choosing row and no ticket yet."""
        return bool(self.conn.query(
            f"SELECT owner FROM {self.table} WHERE name = :n AND owner != :o AND expires_at >= :now "
            "GROUP BY owner HAVING max(token) = 0 LIMIT 1", {"n": LOCK_NAME, "o": self.owner, "now": time.time()}))

    def _lowest(self) -> tuple[str, int] | None:
        rows = self.conn.query(f"SELECT owner, token FROM {self.table} WHERE name = :n AND token > 0 AND expires_at >= :now "
                               "ORDER BY token, owner LIMIT 1", {"n": LOCK_NAME, "now": time.time()})
        return (rows[0][0], int(rows[0][1])) if rows else None

    def try_acquire(self) -> bool:
        self._ensure()
        if self._lowest() is not None:  # held, and not stale: no need to queue (deletes are slow here)
            return False
        now = time.time()
        if self.conn.query(f"SELECT 1 FROM {self.table} WHERE expires_at < :now LIMIT 1", {"now": now}):
            self.conn.query(f"DELETE FROM {self.table} WHERE expires_at < :now", {"now": now})
        self._insert(0, now)
        seen = self.conn.query(f"SELECT max(token) FROM {self.table} WHERE name = :n", {"n": LOCK_NAME})[0][0] or 0
        token = max(int(seen) + 1, time.time_ns())  # above every ticket seen, and growing from holder to holder
        self._insert(token, now)
        deadline = time.monotonic() + self.ttl
        while self._choosing() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._lowest() == (self.owner, token):
            self.token = token
            return True
        self.release()
        return False

    def verify(self) -> None:
        if self._lowest() != (self.owner, self.token):
            raise lost_lease(f"{self.owner} (fencing token {self.token})", self.ttl)

    def renew(self) -> None:
        self.verify()
        self.conn.query(f"ALTER TABLE {self.table} UPDATE expires_at = :exp WHERE owner = :o SETTINGS mutations_sync = 2",
                        {"exp": time.time() + self.ttl, "o": self.owner})

    def release(self) -> None:
        """Withdraw our rows, and expired ones left by holders that vanished (a stale ticket we outlived)."""
        self.conn.query(f"DELETE FROM {self.table} WHERE owner = :o OR expires_at < :now", {"o": self.owner, "now": time.time()})
        self.held = False

    def status(self) -> LockStatus:
        if not self.conn.backend.table_exists(self.conn, self.conn.backend.lock_table):
            return LockStatus(False)
        rows = self.conn.query(f"SELECT owner, acquired_at, expires_at FROM {self.table} WHERE name = :n AND token > 0 "
                               "ORDER BY token, owner LIMIT 1", {"n": LOCK_NAME})
        if not rows:
            return LockStatus(False)
        owner, acquired, expires = rows[0]
        return LockStatus(True, owner, float(acquired), float(expires))

    def force_release(self) -> LockStatus:
        before = self.status()
        if before.held:
            self.conn.query(f"DELETE FROM {self.table} WHERE name = :n", {"n": LOCK_NAME})
        return before


class ClickHouseLocking(Mixin):
    """ClickHouse's migration lock: a lease in a table of its own (no transactions, no session locks): the lowest live token holds it."""

    if TYPE_CHECKING:  # from ClickHouseRendering
        def _on_cluster(self) -> str: ...

    def lock_ddl(self) -> list[str]:
        return [(f"CREATE TABLE IF NOT EXISTS {self.quote(self.lock_table)}{self._on_cluster()} (name String, owner String, "
                 "token UInt64, acquired_at Float64, expires_at Float64) ENGINE = MergeTree ORDER BY (name, token)")]

    def lock(self, conn: Any) -> Lock:
        return ClickHouseLeaseLock(conn)
