"""The history table: which migration was applied, when, with which checksum and how far it got.

A row's status is ``applied``; or ``partial`` (the first ``statements_completed`` statements ran, the
next one did not); or ``running`` (the first ``statements_completed`` ran and the next one was started: it
is written just before a statement whose effect the server commits on its own, so if the runner or its
connection dies there, history still says that statement may have taken effect).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backends.base import Connection

APPLIED, FAILED, PARTIAL, RUNNING = "applied", "failed", "partial", "running"
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
    """Reads and writes ``dbwarden_migrations`` through a backend connection."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.backend = conn.backend
        self.table = self.backend.quote(self.backend.history_table)

    def ensure(self) -> None:
        for sql in self.backend.history_ddl():
            self.conn.execute(sql)

    def exists(self) -> bool:
        return self.backend.history_exists(self.conn)

    def rows(self) -> list[HistoryRow]:
        if not self.exists():
            return []
        cols = ", ".join(self.backend.quote(f) for f in HISTORY_FIELDS)
        rows = self.conn.query(f"SELECT {cols} FROM {self.table} ORDER BY {self.backend.quote('version')}")
        latest: dict[int, HistoryRow] = {}
        for r in rows:
            row = HistoryRow(*(int(v) if f in ("version", "statements_completed", "duration_ms") else v
                               for f, v in zip(HISTORY_FIELDS, r)))
            seen = latest.get(row.version)
            if seen is None or _progress(row) > _progress(seen):
                latest[row.version] = row
        return list(latest.values())

    def record(self, row: HistoryRow) -> None:
        """Insert or replace the row of ``row.version`` (inside the caller's transaction when there is one).

        Without transactions (ClickHouse, where a delete is also slow) rows are only added while a migration
        progresses, and :meth:`rows` keeps the one that got furthest; so a crash leaves a row, never none. Rows
        that claim more progress than the new one (a statement recorded as running that then failed) are deleted
        at once; the ones it supersedes, once the migration is applied."""
        cols = ", ".join(self.backend.quote(f) for f in HISTORY_FIELDS)
        params = ", ".join(f":{f}" for f in HISTORY_FIELDS)
        if self.backend.transactional_history:
            self.remove(row.version)
            self.conn.query(f"INSERT INTO {self.table} ({cols}) VALUES ({params})", row.to_json())
            return
        q = self.backend.quote
        self.conn.query(f"INSERT INTO {self.table} ({cols}) VALUES ({params})", row.to_json())
        mine = f"{q('version')} = :version AND NOT ({q('status')} = :status AND {q('statements_completed')} = :statements_completed)"
        ahead = [s for s, rank in _PROGRESS.items() if rank > _PROGRESS[row.status]]
        if ahead and self.conn.query(
                f"SELECT 1 FROM {self.table} WHERE {mine} AND ({q('statements_completed')} > :statements_completed "
                f"OR {q('statements_completed')} = :statements_completed AND {q('status')} IN :ahead) LIMIT 1",
                {**row.to_json(), "ahead": tuple(ahead)}):
            self.conn.query(f"DELETE FROM {self.table} WHERE {mine}", row.to_json())
        elif row.status == APPLIED:
            self.conn.query(f"DELETE FROM {self.table} WHERE {mine}", row.to_json())

    def remove(self, version: int) -> None:
        """Delete the row of ``version``."""
        self.conn.query(f"DELETE FROM {self.table} WHERE {self.backend.quote('version')} = :v", {"v": version})


def _progress(row: HistoryRow) -> tuple[int, int]:
    return row.statements_completed, _PROGRESS.get(row.status, 0)


def row_progress(row: HistoryRow) -> str:
    """How far an unfinished migration got, as ``status`` says it."""
    if row.status == RUNNING:
        return (f"{row.statements_completed} statement(s) ran; statement {row.statements_completed + 1} was started "
                "and may or may not have taken effect")
    return f"{row.statements_completed} statement(s) ran"
