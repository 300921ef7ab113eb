"""MySQL's and MariaDB's facts for assessing steps (see assess.py)."""

from __future__ import annotations

from dataclasses import replace

from ...operations import AddConstraint, AlterColumn, Assessment, CreateIndex, Operation
from ...schema import Check, ForeignKey
from ..base.assess import Assessor, TypeShape

COPIED = "{table} is copied (ALGORITHM=COPY): writes wait while it runs"

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

    def add_constraint(self, op: AddConstraint) -> Assessment | None:
        """A CHECK or a foreign key (with foreign_key_checks on) cannot be added in place: the server copies the
        table, and writes wait while it does; its rows are still counted first."""
        found = super().add_constraint(op)
        if found is None or not isinstance(op.constraint, (Check, ForeignKey)):
            return found
        return replace(found, severity="WARN", risk=f"{COPIED.format(table=op.table)}; it fails on rows that violate it")

    def lock(self, op: Operation) -> str | None:
        if isinstance(op, AddConstraint) and isinstance(op.constraint, (Check, ForeignKey)):
            return COPIED.format(table=op.table)
        if isinstance(op, AlterColumn) and op.changes == ("nullable",):
            return f"{op.table} is rebuilt in place (ALGORITHM=INPLACE): writes go on"
        if isinstance(op, CreateIndex):
            if self.backend.builds_online(op):  # type: ignore[attr-defined]
                return f"online (ALGORITHM=INPLACE, LOCK=NONE): writes to {op.table} go on while it builds"
            return f"{op.table} is locked against writes while the index builds"
        if isinstance(op, AlterColumn) and "type" in op.changes:
            return f"{op.table} is copied unless the change is in place: writes wait while it runs"
        return None
