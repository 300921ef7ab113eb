"""The history table: which migration was applied, when, with which checksum and how far it got."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backends.base import Connection

APPLIED, FAILED, PARTIAL = "applied", "failed", "partial"
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
        return [HistoryRow(*(int(v) if f in ("version", "statements_completed", "duration_ms") else v
                             for f, v in zip(HISTORY_FIELDS, r))) for r in rows]

    def record(self, row: HistoryRow) -> None:
        """Insert or replace the row of ``row.version`` (inside the caller's transaction when there is one)."""
        self.remove(row.version)
        cols = ", ".join(self.backend.quote(f) for f in HISTORY_FIELDS)
        params = ", ".join(f":{f}" for f in HISTORY_FIELDS)
        self.conn.query(f"INSERT INTO {self.table} ({cols}) VALUES ({params})", row.to_json())

    def remove(self, version: int) -> None:
        self.conn.query(f"DELETE FROM {self.table} WHERE {self.backend.quote('version')} = :v", {"v": version})
