"""The history table: which migration was applied, when, with which checksum and how far it got.

``dbwarden_migrations`` holds what the database holds now, one row per migration. A row's status is
``applied``; or ``partial`` (the first ``statements_completed`` statements ran, the next one did not); or
``running`` (the first ``statements_completed`` ran and the next one was started: it is written just before a
statement whose effect the server commits on its own, so if the runner or its connection dies there, history
still says that statement may have taken effect); or ``rolling_back`` (a rollback stopped after its first
``statements_completed`` statements, on a backend whose DDL commits on its own).

``dbwarden_log`` is the audit trail: a row for every migration applied, rolled back, stopped part-way, repaired
or adopted by ``baseline``, never updated or deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backends.base import Connection

APPLIED, FAILED, PARTIAL, RUNNING = "applied", "failed", "partial", "running"
ROLLING_BACK, ROLLED_BACK, REPAIRED = "rolling_back", "rolled_back", "repaired"
_PROGRESS = {PARTIAL: 0, RUNNING: 1, APPLIED: 2}  # which of two rows of one version was written last
HISTORY_FIELDS = ("version", "description", "filename", "checksum", "status", "statements_completed", "applied_at",
           "duration_ms", "target")


@dataclass(frozen=True)
class HistoryRow:
    version: int
    description: str
    filename: str
    checksum: str
    status: str
    statements_completed: int
    applied_at: str
    duration_ms: int
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class History:
    """Reads and writes ``dbwarden_migrations`` and ``dbwarden_log`` through a backend connection."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.backend = conn.backend
        self.table = self.backend.quote(self.backend.history_table)
        self.log_table = self.backend.quote(self.backend.log_table)

    def ensure(self) -> None:
        for sql in self.backend.history_ddl():
            self.conn.execute(sql)

    def exists(self) -> bool:
        return self.backend.history_exists(self.conn)

    def rows(self) -> list[HistoryRow]:
        if not self.exists():
            return []
        latest: dict[int, HistoryRow] = {}
        for row in self._read(self.table, "version"):
            seen = latest.get(row.version)
            if seen is None or _progress(row) > _progress(seen):
                latest[row.version] = row
        return list(latest.values())

    def events(self) -> list[HistoryRow]:
        """The audit trail, oldest first (empty where no run has written it yet)."""
        if not self.backend.table_exists(self.conn, self.backend.log_table):
            return []
        return self._read(self.log_table, "applied_at")

    def log(self, row: HistoryRow) -> None:
        """Add ``row`` to the audit trail, its time to the microsecond (so events of one second keep their order)."""
        at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._insert(self.log_table, replace(row, applied_at=at))

    def _read(self, table: str, order: str) -> list[HistoryRow]:
        q = self.backend.quote
        cols = ", ".join(q(f) for f in HISTORY_FIELDS)
        rows = self.conn.query(f"SELECT {cols} FROM {table} ORDER BY {q(order)}, {q('version')}")
        return [HistoryRow(*_values(r)) for r in rows]

    def _insert(self, table: str, row: HistoryRow) -> None:
        cols = ", ".join(self.backend.quote(f) for f in HISTORY_FIELDS)
        params = ", ".join(f":{f}" for f in HISTORY_FIELDS)
        self.conn.query(f"INSERT INTO {table} ({cols}) VALUES ({params})", row.to_json())

    def record(self, row: HistoryRow) -> None:
        """Insert or replace the row of ``row.version`` (inside the caller's transaction when there is one).

        Without transactions (ClickHouse, where a delete is also slow) rows are only added while a migration
        progresses, and :meth:`rows` keeps the one that got furthest; so a crash leaves a row, never none. Rows
        that claim more progress than the new one (a statement recorded as running that then failed) are deleted
        at once; the ones it supersedes, once the migration is applied. A rollback's progress replaces every other
        row of its version at once (:meth:`rows` prefers it while both exist)."""
        if self.backend.transactional_history:
            self.remove(row.version)
            self._insert(self.table, row)
            return
        q = self.backend.quote
        self._insert(self.table, row)
        mine = f"{q('version')} = :version AND NOT ({q('status')} = :status AND {q('statements_completed')} = :statements_completed)"
        if row.status == ROLLING_BACK:
            self.conn.query(f"DELETE FROM {self.table} WHERE {mine}", row.to_json())
            return
        ahead = [s for s, rank in _PROGRESS.items() if rank > _PROGRESS[row.status]]
        if (ahead and self.conn.query(
                f"SELECT 1 FROM {self.table} WHERE {mine} AND ({q('statements_completed')} > :statements_completed "
                f"OR {q('statements_completed')} = :statements_completed AND {q('status')} IN :ahead) LIMIT 1",
                {**row.to_json(), "ahead": tuple(ahead)})) or row.status == APPLIED:
            self.conn.query(f"DELETE FROM {self.table} WHERE {mine}", row.to_json())

    def set_checksum(self, row: HistoryRow, checksum: str) -> None:
        """Record another kind of checksum of the same file for ``row`` (the current row, not the audit trail)."""
        q = self.backend.quote
        self.conn.query(f"UPDATE {self.table} SET {q('checksum')} = :new WHERE {q('version')} = :version "
                        f"AND {q('checksum')} = :old", {"new": checksum, "version": row.version, "old": row.checksum})

    def remove(self, version: int) -> None:
        """Delete the row of ``version``."""
        self.conn.query(f"DELETE FROM {self.table} WHERE {self.backend.quote('version')} = :v", {"v": version})


def _progress(row: HistoryRow) -> tuple[bool, int, int]:
    return row.status == ROLLING_BACK, row.statements_completed, _PROGRESS.get(row.status, 0)


def row_progress(row: HistoryRow) -> str:
    """How far an unfinished migration got, as ``status`` says it."""
    if row.status == ROLLING_BACK:
        return f"its rollback stopped after {row.statements_completed} statement(s)"
    if row.status == RUNNING:
        return (f"{row.statements_completed} statement(s) ran; statement {row.statements_completed + 1} was started "
                "and may or may not have taken effect")
    return f"{row.statements_completed} statement(s) ran"


def _values(row: Sequence[Any]) -> list[Any]:
    """A history table row's values in HISTORY_FIELDS order, the numeric ones as int."""
    return [int(v) if f in ("version", "statements_completed", "duration_ms") else v for f, v in zip(HISTORY_FIELDS, row)]
