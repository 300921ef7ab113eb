"""PostgreSQL's facts for assessing steps (see assess.py): what is only metadata, which lock each step takes."""

from __future__ import annotations

from ..operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    CreateIndex,
    DropColumn,
    DropConstraint,
    DropIndex,
    Operation,
    RenameColumn,
)
from .assess import Assessor, TypeShape

EXCLUSIVE = "ACCESS EXCLUSIVE lock on {table} (reads and writes wait)"


class PostgreSQLAssessor(Assessor):
    rewrite_note = "the table is rewritten under an ACCESS EXCLUSIVE lock"

    def metadata_only(self, old: TypeShape, new: TypeShape, op: AlterColumn) -> bool:
        """A longer or unbounded string, or more digits before the point at the same scale: no rewrite, no scan."""
        if "collation" in op.changes or old.family != new.family:
            return False
        if old.family in ("string", "bits"):
            return True  # fits() said every value fits: varchar(n) → varchar(m > n) or text
        if old.family == "decimal":
            return new.precision is None or (old.scale or 0) == (new.scale or 0)
        return False

    def lock(self, op: Operation) -> str | None:
        table = op.table
        if isinstance(op, CreateIndex):
            if op.index.options.get("concurrently"):
                return f"SHARE UPDATE EXCLUSIVE lock on {table} (writes go on while the index builds)"
            return f"SHARE lock on {table} (writes wait while the index builds)"
        if isinstance(op, AddConstraint):
            return (f"brief {EXCLUSIVE.format(table=table)}, then SHARE UPDATE EXCLUSIVE while existing rows are "
                    "validated (writes go on)")
        if isinstance(op, (AddColumn, DropColumn, AlterColumn, RenameColumn, DropConstraint, DropIndex, AlterTable)):
            return EXCLUSIVE.format(table=table)
        return None
