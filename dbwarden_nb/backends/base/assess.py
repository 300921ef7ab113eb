"""What a step does to the data on one engine: severity by effect, the lock it takes, and checks of the data.

The operations know what they do anywhere (``default_severity``: a dropped column loses its values). What depends
on the engine is assessed here, with the engine's own facts: a wider ``varchar`` is only metadata on PostgreSQL,
MariaDB fills a new NOT NULL column with ``0``/``''`` instead of failing, a narrower type keeps or loses values by
the engine's cast rules. Steps whose success depends on the rows (a new CHECK, UNIQUE, foreign key or NOT NULL, a
narrower type) carry :class:`DataCheck` queries that count the rows at fault; ``check`` and ``migrate`` run them,
so such a step needs ``--force`` only when some row is at fault, and a narrowing never rounds or truncates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Assessment,
    CreateIndex,
    DataCheck,
    DropColumn,
    DropTable,
    Operation,
    RebuildTable,
)
from ...schema import Check, Column, ForeignKey, PrimaryKey, Table, Unique

if TYPE_CHECKING:
    from . import Backend


@dataclass(frozen=True)
class TypeShape:
    """The part of a column type that decides what values fit: a family and its bounds (None: unbounded)."""

    family: str  # "string", "binary", "decimal", "integer", "other"
    length: int | None = None  # characters (string) or bytes (binary), or an integer's byte width
    precision: int | None = None
    scale: int | None = None
    unsigned: bool = False


_PARAMS = re.compile(r"\(([^)]*)\)")
# a default that is a constant (a number, a string, a boolean; a PostgreSQL cast of one): safe to compare rows with
_CONSTANT = re.compile(r"\(*(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false)\)*(?:::[a-z ]+(?:\(\d+(?:,\s*\d+)?\))?)?",
                       re.IGNORECASE)


def type_shape(spelled: str, families: Mapping[str, tuple[str, int | None]]) -> TypeShape:
    """The shape of a canonical type spelling; ``families`` maps base names to (family, implied length)."""
    text = spelled.lower().strip()
    m = _PARAMS.search(text)
    params = [p.strip() for p in m.group(1).split(",")] if m else []
    base = _PARAMS.sub("", text).replace(" unsigned", "").replace(" zerofill", "").strip()
    family, implied = families.get(base, ("other", None))
    numbers = [int(p) for p in params if p.isdigit()]
    unsigned = "unsigned" in text
    if family == "decimal":
        return TypeShape(family, precision=numbers[0] if numbers else None, scale=numbers[1] if len(numbers) > 1 else 0)
    if family in ("string", "binary"):
        return TypeShape(family, length=numbers[0] if numbers else implied)
    if family == "integer":
        return TypeShape(family, length=implied, unsigned=unsigned)
    return TypeShape(family)


def fits(old: TypeShape, new: TypeShape) -> bool | None:
    """Whether every value of ``old`` fits ``new`` unchanged; None when the shapes do not tell (other families)."""
    if old.family != new.family or old.family == "other":
        return None
    if old.family in ("string", "binary"):
        return new.length is None or old.length is not None and old.length <= new.length
    if old.family == "decimal":
        if new.precision is None:
            return True
        if old.precision is None:
            return False
        return (old.scale or 0) <= (new.scale or 0) and old.precision - (old.scale or 0) <= new.precision - (new.scale or 0)
    if old.family == "integer":
        if old.length is None or new.length is None:
            return None
        if old.unsigned == new.unsigned:
            return old.length <= new.length
        return not new.unsigned and old.unsigned and old.length < new.length
    return None


class Assessor:
    """The default assessment of every backend: generic SQL, quoted by the backend. Backends override the hooks.

    ``undoing``: the steps are a rollback's. Dropping what the upgrade created loses only what was written since:
    that is counted (a soft check), instead of the drop being CRITICAL whatever the table holds."""

    def __init__(self, backend: Backend, undoing: bool = False):
        self.backend = backend
        self.undoing = undoing
        self.q = backend.quote

    def table(self, t: Table) -> str:
        return self.backend.qualified(t.schema, t.name)

    def assess(self, op: Operation) -> Assessment | None:
        """The engine's assessment of ``op``, with the lock it takes; None where the defaults say it all."""
        found, lock = self.effect(op), self.lock(op)
        if lock is None:
            return found
        base = found or Assessment(op.default_severity, op.default_risk, op.default_irreversible)
        return replace(base, lock=base.lock or lock)

    def effect(self, op: Operation) -> Assessment | None:
        if self.undoing and isinstance(op, DropTable):
            return self.soft(op, [DataCheck(f"SELECT count(*) FROM {self.table(op.old)}",
                                            f"rows of {op.table} written since the upgrade created it, which the rollback drops")])
        if self.undoing and isinstance(op, DropColumn):
            # what the upgrade filled in (a constant default) is not lost: only other values are counted
            col, default = self.q(op.column.name), op.column.default
            constant = default is not None and _CONSTANT.fullmatch(default.strip()) is not None
            where = f"{col} IS NOT NULL" + (f" AND {col} <> {default}" if constant else "")
            return self.soft(op, [DataCheck(self.count(op.parent, where),
                                            f"values of {op.table}.{op.column.name} written since the upgrade added it"
                                            f"{' (other than its default)' if constant else ''}, which the rollback drops")])
        if isinstance(op, AlterColumn):
            return self.alter_column(op)
        if isinstance(op, AddConstraint):
            return self.add_constraint(op)
        if isinstance(op, CreateIndex) and op.index.unique and all(e.column for e in op.index.elements):
            return self.soft(op, [self.duplicates(op.parent, op.index.columns, "unique index", op.index.name)])
        if isinstance(op, AddColumn):
            return self.add_column(op)
        if isinstance(op, RebuildTable) and op.lost:
            return Assessment("CRITICAL", op.default_risk + "; " + "; ".join(op.lost), op.default_irreversible)
        if isinstance(op, RebuildTable):
            return self.rebuild(op)
        return None

    def rebuild(self, op: RebuildTable) -> Assessment | None:
        """A table copied into a new definition: the rows must satisfy what the new one adds (checks, uniques,
        NOT NULL on columns copied)."""
        old, new, renamed = op.old, op.new, dict(op.renames)
        t = replace(new, name=old.name, schema=old.schema)  # the rows are counted where they are: the old table
        back = {n: o for o, n in renamed.items()}
        checks = [DataCheck(self.count(t, f"NOT ({c.expression})"), f"rows of {op.table} that violate check "
                            f"{c.name or c.expression}, on which the copy fails")
                  for c in new.checks if c not in old.checks and not c.options.get("type") and not renamed]
        checks += [self.duplicates(t, u.columns, "unique constraint", u.name) for u in new.uniques
                   if u not in old.uniques and not renamed]
        filled = dict(op.fills)
        for col in new.columns:
            was = old.column(back.get(col.name, col.name))
            if was is not None and was.nullable and not col.nullable and col.default is None:
                checks.append(self.nulls(t, was.name))
            elif was is None and col.name not in filled and _needs_value(col):
                checks.append(DataCheck(f"SELECT count(*) FROM {self.table(old)}", f"rows of {op.table}, which the new "
                                        f"NOT NULL column {col.name} has no value for (the copy fails on them)"))
        return self.soft(op, checks, severity=op.default_severity) if checks else None

    # -- data checks --------------------------------------------------------------------------------------------

    @staticmethod
    def soft(op: Operation, checks: list[DataCheck], lock: str | None = None, severity: str = "INFO") -> Assessment:
        """A step that cannot hurt when its checks find no row: INFO, or ``--force`` when they do."""
        return Assessment(severity, op.default_risk, op.default_irreversible, tuple(checks), lock)

    def count(self, t: Table, where: str) -> str:
        return f"SELECT count(*) FROM {self.table(t)} WHERE {where}"

    def nulls(self, t: Table, column: str) -> DataCheck:
        return DataCheck(self.count(t, f"{self.q(column)} IS NULL"), f"rows of {t.key} with NULL in {column}, on which it fails")

    def duplicates(self, t: Table, columns: tuple[str, ...], what: str, name: str | None) -> DataCheck:
        cols = ", ".join(self.q(c) for c in columns)
        present = " AND ".join(f"{self.q(c)} IS NOT NULL" for c in columns)
        sql = (f"SELECT count(*) FROM (SELECT 1 AS x FROM {self.table(t)} WHERE {present} GROUP BY {cols} "
               f"HAVING count(*) > 1) {self.q('dbwarden_duplicates')}")
        return DataCheck(sql, f"values of {t.key} ({', '.join(columns)}) held by more than one row, on which the {what}"
                              + (f" {name}" if name else "") + " fails")

    def add_constraint(self, op: AddConstraint) -> Assessment | None:
        c, t = op.constraint, op.parent
        if isinstance(c, Check) and not c.options.get("type") and not c.options.get("not_valid"):
            return self.soft(op, [DataCheck(self.count(t, f"NOT ({c.expression})"),
                                            f"rows of {t.key} that violate check {c.name or c.expression}, on which it fails")])
        if isinstance(c, Unique):
            return self.soft(op, [self.duplicates(t, c.columns, "unique constraint", c.name)])
        if isinstance(c, PrimaryKey):
            return self.soft(op, [*(self.nulls(t, col) for col in c.columns), self.duplicates(t, c.columns, "primary key", c.name)])
        if isinstance(c, ForeignKey) and not c.options.get("not_valid") and c.columns:
            return self.soft(op, [self.orphans(t, c)])
        return None

    def orphans(self, t: Table, fk: ForeignKey) -> DataCheck:
        ref = self.backend.qkey(fk.ref_table) if hasattr(self.backend, "qkey") else self.q(fk.ref_table)
        child, parent = self.q("dbwarden_child"), self.q("dbwarden_parent")
        present = " AND ".join(f"{child}.{self.q(c)} IS NOT NULL" for c in fk.columns)
        join = " AND ".join(f"{parent}.{self.q(r)} = {child}.{self.q(c)}" for c, r in zip(fk.columns, fk.ref_columns))
        sql = (f"SELECT count(*) FROM {self.table(t)} {child} WHERE {present} "
               f"AND NOT EXISTS (SELECT 1 FROM {ref} {parent} WHERE {join})")
        return DataCheck(sql, f"rows of {t.key} whose ({', '.join(fk.columns)}) no row of {fk.ref_table} has, on which the key fails")

    def add_column(self, op: AddColumn) -> Assessment | None:
        return self.new_not_null(op) if _needs_value(op.column) else None

    def new_not_null(self, op: AddColumn) -> Assessment | None:
        """A NOT NULL column without default on a table with rows: the server refuses it, or (MySQL, MariaDB,
        ClickHouse) fills it with the zero value of its type, which is said."""
        fill = self.backend.new_not_null_fill
        if fill is not None:
            return Assessment("INFO", f"existing rows of {op.table} get {fill} in {op.column.name}")
        return self.soft(op, [DataCheck(f"SELECT count(*) FROM {self.table(op.parent)}",
                                        f"rows of {op.parent.key}, which the new NOT NULL column {op.column.name} "
                                        "has no value for (it fails on them)")])

    # -- column changes -----------------------------------------------------------------------------------------

    def alter_column(self, op: AlterColumn) -> Assessment | None:
        if op.default_severity == "CRITICAL":
            return None  # generated columns and the like: what the operation says stands
        checks: list[DataCheck] = []
        severity, risk, irreversible = "INFO", op.default_risk, op.default_irreversible
        if {"type", "collation"} & set(op.changes):
            assessed = self.type_change(op)
            if assessed is None:
                return None
            severity, risk, irreversible, more = assessed
            checks += more
        if op.old.nullable and not op.new.nullable:
            checks.append(self.nulls(op.parent, op.new.name))
            risk = risk or f"SET NOT NULL fails on rows with NULL in {op.new.name}"
        if not checks and severity == "INFO" and "type" not in op.changes and not (op.old.nullable and not op.new.nullable):
            return None
        return Assessment(severity, risk, irreversible, tuple(checks))

    def type_change(self, op: AlterColumn) -> tuple[str, str, str | None, list[DataCheck]] | None:
        """(severity, risk, irreversible, checks) of a type change, or None for the operation's default."""
        old, new = (type_shape(c.type, self.backend.type_families) for c in (op.old, op.new))
        verdict = fits(old, new)
        name = f"{op.table}.{op.new.name}"
        if verdict is True:
            if self.metadata_only(old, new, op):
                return "INFO", f"{op.old.type} -> {op.new.type}: every value fits, only the catalog changes", None, []
            return "WARN", f"{op.old.type} -> {op.new.type}: every value fits; {self.rewrite_note}", None, []
        if verdict is False:
            check = self.narrowing(op, old, new)
            if check is None:  # the engine does not enforce the bound (SQLite): nothing to lose
                return "INFO", f"{op.old.type} -> {op.new.type}: {self.backend.name} does not enforce the bound", None, []
            return ("CRITICAL", (f"{op.old.type} -> {op.new.type} is narrower: rows whose values do not fit stop the "
                                 "migration (they are counted first, never cut or rounded)"),
                    f"values of {name} wider than {op.old.type} cannot come back", [check])
        return None

    rewrite_note = "the table may be rewritten"

    def metadata_only(self, old: TypeShape, new: TypeShape, op: AlterColumn) -> bool:
        return False

    def narrowing(self, op: AlterColumn, old: TypeShape, new: TypeShape) -> DataCheck | None:
        """A hard check counting the values of ``op``'s column that the narrower type would change."""
        col, t = self.q(op.new.name), op.parent
        if new.family in ("string", "binary") and new.length is not None:
            measure = "char_length" if new.family == "string" else "octet_length"
            where = f"{measure}({col}) > {new.length}"
        elif new.family == "decimal" and new.precision is not None:
            scale = new.scale or 0
            where = f"{col} <> round({col}, {scale}) OR abs({col}) >= {10 ** (new.precision - scale)}"
        elif new.family == "integer" and new.length is not None:
            low, high = _integer_range(new)
            where = f"{col} < {low} OR {col} > {high}"
        else:
            return None
        return DataCheck(self.count(t, where), f"rows of {t.key} whose {op.new.name} does not fit {op.new.type}", hard=True)

    def lock(self, op: Operation) -> str | None:
        return None


def _needs_value(c: Column) -> bool:
    """A NOT NULL column with nothing to fill existing rows from: no default, identity or generation expression."""
    return not c.nullable and c.default is None and c.identity is None and c.computed is None


def _integer_range(shape: TypeShape) -> tuple[int, int]:
    bits = 8 * (shape.length or 8)
    return (0, 2 ** bits - 1) if shape.unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def assessed(backend: Any, plan: Any, undoing: bool = False) -> Any:
    """``plan`` with each step assessed for ``backend``'s engine (``undoing``: the steps of a rollback)."""
    assessor = backend.assessor(undoing)
    return plan.replace(operations=tuple(op.assessed(assessor.assess(op)) for op in plan))
