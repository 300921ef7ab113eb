"""MySQL and MariaDB: a column that changes between plain, STORED generated and VIRTUAL generated.

Both servers alter in place (``MODIFY COLUMN``) a plain column into a STORED generated one and back, and the
expression of a generated column that keeps its storage. Nothing turns a column into or out of VIRTUAL, or
changes STORED into VIRTUAL: that column is dropped and added again, which loses its values and fails while
another generated column uses it. The planner never does that silently: the step is a :class:`RegenerateColumn`,
CRITICAL and irreversible, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...operations import AddConstraint, AlterColumn, CreateIndex, DropColumn, DropConstraint, DropIndex, Operation
from ...schema import Column, Index, Unique


def storage(col: Column) -> str:
    if col.computed is None:
        return "plain"
    return "STORED generated" if col.computed.stored else "VIRTUAL generated"


def in_place(old: Column, new: Column) -> bool:
    """Whether ``MODIFY COLUMN`` turns ``old`` into ``new`` (both servers refuse anything that involves VIRTUAL,
    unless the column stays VIRTUAL)."""
    return storage(old) == storage(new) or "VIRTUAL generated" not in (storage(old), storage(new))


@dataclass(frozen=True)
class RegenerateColumn(AlterColumn):
    """An ``AlterColumn`` whose column changes between plain and generated or between STORED and VIRTUAL."""

    # the indexes and unique keys over the column that no other step touches: a dropped column leaves them (or
    # their other columns), so they are dropped before and made again after it is added
    covering: tuple[Index | Unique, ...] = ()

    @property
    def in_place(self) -> bool:
        return in_place(self.old, self.new)

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "CRITICAL" if self.default_irreversible else "WARN"

    @property
    def default_risk(self) -> str:
        name, change = f"{self.table}.{self.new.name}", f"{storage(self.old)} to {storage(self.new)}"
        if not self.in_place:
            return (f"{change} has no in-place form: column {name} is dropped and added again, losing its values "
                    f"(the drop fails while another generated column uses it)")
        if self.old.computed is None:
            return f"the values of column {name} are replaced by the computed ones ({change})"
        return f"column {name} no longer follows its expression: the values stay as they are ({change})"

    @property
    def default_irreversible(self) -> str | None:
        name = f"{self.table}.{self.new.name}"
        if not self.in_place:
            return f"the values of column {name} are not restored (dropped and added again: {storage(self.old)} to {storage(self.new)})"
        if self.old.computed is None:
            return f"the values column {name} held before it became generated are not restored"
        return None

    def reverse(self) -> Operation:
        return RegenerateColumn(self.parent, self.new, self.old, self.covering)

    def describe(self) -> str:
        how = "in place" if self.in_place else "dropped and added again"
        return f"alter column {self.table}.{self.new.name}: {storage(self.old)} to {storage(self.new)} ({how})"


def regenerate_columns(ops: list[Operation]) -> list[Operation]:
    """Each column that becomes or stops being generated, or changes storage, as a :class:`RegenerateColumn`."""
    out: list[Operation] = []
    for op in ops:
        if not isinstance(op, AlterColumn) or storage(op.old) == storage(op.new):
            out.append(op)
            continue
        touched = {_name(o) for o in ops if o.table == op.table and isinstance(o, (CreateIndex, DropIndex, AddConstraint, DropConstraint))}
        keys: list[Index | Unique] = [*op.parent.indexes, *op.parent.uniques]
        covering = [] if in_place(op.old, op.new) else [
            k for k in keys
            if op.new.name in k.columns and k.name not in touched and k.name is not None]
        out.append(RegenerateColumn(op.parent, op.old, op.new, tuple(covering)))
    for drop in [o for o in out if isinstance(o, DropColumn)]:  # a dropped column may use one that is re-added
        first = next((i for i, o in enumerate(out) if o.table == drop.table and isinstance(o, RegenerateColumn)
                      and not o.in_place), None)
        if first is not None and out.index(drop) > first:
            out.remove(drop)
            out.insert(first, drop)
    return out


def _name(op: Operation) -> str | None:
    obj = getattr(op, "index", None) or getattr(op, "constraint", None)
    return getattr(obj, "name", None)
