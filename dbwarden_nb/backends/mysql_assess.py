"""MySQL's and MariaDB's facts for assessing steps (see assess.py)."""

from __future__ import annotations

from ..operations import AlterColumn, CreateIndex, Operation
from .assess import Assessor, TypeShape

UTF8MB4 = 4  # bytes per character at most: what decides a VARCHAR's length prefix, whatever the column's charset


class MySQLAssessor(Assessor):
    rewrite_note = "the table is copied (ALGORITHM=COPY): writes wait while it runs"

    def metadata_only(self, old: TypeShape, new: TypeShape, op: AlterColumn) -> bool:
        """A longer VARCHAR whose length prefix keeps its size (both under 256 bytes, or both from 256) is in place."""
        if old.family != "string" or new.family != "string" or "collation" in op.changes:
            return False
        if old.length is None or new.length is None or op.old.type.split("(")[0] != op.new.type.split("(")[0]:
            return False
        return (old.length * UTF8MB4 < 256) == (new.length * UTF8MB4 < 256)

    def lock(self, op: Operation) -> str | None:
        if isinstance(op, CreateIndex):
            if self.backend.builds_online(op):  # type: ignore[attr-defined]
                return f"online (ALGORITHM=INPLACE, LOCK=NONE): writes to {op.table} go on while it builds"
            return f"{op.table} is locked against writes while the index builds"
        if isinstance(op, AlterColumn) and "type" in op.changes:
            return f"{op.table} is copied unless the change is in place: writes wait while it runs"
        return None
