"""PostgreSQL's migration lock: a session advisory lock keyed by the database's OID."""

from __future__ import annotations

from typing import Any

from ...errors import LockError
from ...migrations.lock import Lock, LockStatus
from ..base import Connection, Mixin

ADVISORY_KEY = 0x64627764  # "dbwd": the advisory lock's class; its object is the database's OID


class AdvisoryLock(Lock):
    """``pg_try_advisory_lock`` on the migration connection itself: released by the server when it ends."""

    session = True

    def _key(self) -> str:
        return f"{ADVISORY_KEY}, (SELECT oid::int FROM pg_database WHERE datname = current_database())"

    def try_acquire(self) -> bool:
        got = bool(self.conn.query(f"SELECT pg_try_advisory_lock({self._key()})")[0][0])
        if got:
            self.conn.query("SELECT set_config('application_name', :owner, false)", {"owner": f"dbwarden {self.owner}"[:63]})
            # if this runner dies mid-statement, the server ends the statement (and the lock) within a second
            # instead of running it to its end for nobody (PostgreSQL 14+)
            self.conn.query("SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 "
                            "THEN set_config('client_connection_check_interval', '1000', false) END")
        return got

    def release(self) -> None:
        self.conn.query(f"SELECT pg_advisory_unlock({self._key()})")
        self.conn.query("SELECT set_config('application_name', '', false)")
        self.held = False

    def _holder(self) -> list[tuple[Any, ...]]:
        return self.conn.query(
            "SELECT l.pid, a.application_name, a.backend_start::text FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.classid = {ADVISORY_KEY} AND l.granted "
            "AND l.objid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )

    def status(self) -> LockStatus:
        rows = self._holder()
        if not rows:
            return LockStatus(False, kind="advisory")
        pid, app, _started = rows[0]
        owner = (app or "").removeprefix("dbwarden ") or f"backend pid {pid}"
        return LockStatus(True, f"{owner} (pid {pid})", kind="advisory")

    def force_release(self) -> LockStatus:
        before = self.status()
        for pid, *_ in self._holder():
            try:
                self.conn.query("SELECT pg_terminate_backend(:pid)", {"pid": pid})
            except Exception as exc:  # noqa: BLE001  permission: say so instead of pretending
                raise LockError(f"cannot end the session holding the migration lock (pid {pid}): {exc}") from None
        return before


class PostgreSQLLocking(Mixin):
    """PostgreSQL's migration lock: a session advisory lock keyed by the database's OID."""

    def lock(self, conn: Connection) -> Lock:
        return AdvisoryLock(conn)
