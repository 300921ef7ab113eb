"""PostgreSQL's facts for assessing steps (see assess.py): what is only metadata, which lock each step takes."""

from __future__ import annotations

from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    Assessment,
    CreateIndex,
    DropColumn,
    DropConstraint,
    DropIndex,
    Operation,
    RenameColumn,
    ReplaceObject,
    used_by,
)
from ...schema import ForeignKey
from ..base.assess import Assessor, TypeShape

EXCLUSIVE = "ACCESS EXCLUSIVE lock on {table} (reads and writes wait)"


class PostgreSQLAssessor(Assessor):
    rewrite_note = "the table is rewritten under an ACCESS EXCLUSIVE lock"

    def effect(self, op: Operation) -> Assessment | None:
        if isinstance(op, ReplaceObject) and op.dependents and any(
                s.sql.startswith(f"DROP {op.old.kind.upper()} ") for s in self.backend.render(op)):
            # pg_depend holds these (views, defaults, checks, indexes, policies, triggers): DROP refuses
            return Assessment("CRITICAL", f"{used_by(op.dependents)}: "
                              "PostgreSQL refuses to drop it while they use it (drop them in the models first, or "
                              "write this step by hand)")
        return super().effect(op)

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
        if isinstance(op, (CreateIndex, DropIndex)) and op.concurrently:
            verb = "builds" if isinstance(op, CreateIndex) else "goes"
            return (f"SHARE UPDATE EXCLUSIVE lock on {table} (CONCURRENTLY, outside the migration's transaction: "
                    f"reads and writes go on while the index {verb})")
        if isinstance(op, CreateIndex):
            return f"SHARE lock on {table} (writes wait while the index builds)"
        if isinstance(op, AddConstraint) and op.concurrently:
            return (f"its index is built CONCURRENTLY under a SHARE UPDATE EXCLUSIVE lock on {table} (reads and writes "
                    "go on), then attached under a brief ACCESS EXCLUSIVE lock")
        if isinstance(op, AddConstraint) and op.validate_apart:
            first = ("SHARE ROW EXCLUSIVE lock on it and its referenced table" if isinstance(op.constraint, ForeignKey)
                     else EXCLUSIVE.format(table="it"))
            return (f"added NOT VALID under a brief {first}, committed; then VALIDATE CONSTRAINT scans the rows of "
                    f"{table} under a SHARE UPDATE EXCLUSIVE lock (reads and writes go on)")
        if isinstance(op, AddConstraint):
            return f"{EXCLUSIVE.format(table=table)} while existing rows are checked"
        if isinstance(op, AlterColumn) and op.validate_apart:
            return (f"a CHECK ({op.new.name} IS NOT NULL) is added NOT VALID and validated apart under a SHARE UPDATE "
                    f"EXCLUSIVE lock on {table} (reads and writes go on); SET NOT NULL then uses it instead of scanning, "
                    "under a brief ACCESS EXCLUSIVE lock, and drops it")
        if isinstance(op, (AddColumn, DropColumn, AlterColumn, RenameColumn, DropConstraint, DropIndex, AlterTable)):
            return EXCLUSIVE.format(table=table)
        return None
