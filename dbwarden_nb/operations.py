"""Operations: the ordered steps that turn one snapshot into another.

Each operation carries everything needed to render it and knows its inverse, so a migration's rollback
is rendered from the reversed operations and can never disagree with its upgrade.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from .schema import Check, Column, ForeignKey, Index, Options, PrimaryKey, SchemaObject, Table, Unique, View
from .session import view

SEVERITIES = ("INFO", "WARN", "CRITICAL")

Constraint = PrimaryKey | ForeignKey | Unique | Check


def max_severity(levels: Iterable[str]) -> str:
    return max(levels, key=SEVERITIES.index, default="INFO")


@dataclass(frozen=True)
class Operation:
    """Base of every operation. ``table`` is the snapshot key of the object the step touches.

    Its severity, risk and irreversibility are what the step does on any engine (``default_*``); a backend that
    knows better for its engine (a change that is only metadata there, a check of the data that decides whether
    the step can fail) says so in ``assessment``, which then wins."""

    kind: ClassVar[str] = "operation"
    default_severity: ClassVar[str] = "INFO"
    assessment: Assessment | None = field(default=None, kw_only=True, compare=False, repr=False)

    @property
    def table(self) -> str:
        raise NotImplementedError

    def reverse(self) -> Operation:
        raise NotImplementedError

    @property
    def default_irreversible(self) -> str | None:
        """Why the inverse cannot restore the schema, or None."""
        return None

    @property
    def default_risk(self) -> str:
        """Why this step is risky (shown by ``check``), or an empty string."""
        return ""

    @property
    def severity(self) -> str:
        return self.assessment.severity if self.assessment else self.default_severity

    @property
    def risk(self) -> str:
        return self.assessment.risk if self.assessment else self.default_risk

    @property
    def irreversible(self) -> str | None:
        return self.assessment.irreversible if self.assessment else self.default_irreversible

    def assessed(self, assessment: Assessment | None) -> Operation:
        return self if assessment is None else replace(self, assessment=assessment)

    def describe(self) -> str:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "kind": self.kind,
            "table": self.table,
            "severity": self.severity,
            "description": self.describe(),
            "risk": self.risk or None,
            "irreversible": self.irreversible,
        }
        if self.assessment is not None and (self.assessment.checks or self.assessment.lock):
            doc["checks"] = [c.to_json() for c in self.assessment.checks]
            doc["lock"] = self.assessment.lock
        return doc


@dataclass(frozen=True)
class DataCheck:
    """A question to the data before a step runs: ``sql`` counts the rows that make it fail or lose values. A
    ``hard`` check stops the migration whenever a row is counted (values would be lost); a soft one asks for
    ``--force`` (the step itself then fails on those rows, naming them)."""

    sql: str
    what: str  # "rows of orders with NULL in customer_id"
    hard: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"sql": self.sql, "what": self.what, "hard": self.hard}


@dataclass(frozen=True)
class Assessment:
    """What a step does on one engine: its severity and why, what cannot be undone, which lock it takes, and the
    checks of the data that decide whether it can fail."""

    severity: str = "INFO"
    risk: str = ""
    irreversible: str | None = None
    checks: tuple[DataCheck, ...] = ()
    lock: str | None = None


# -- tables -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTable(Operation):
    kind: ClassVar[str] = "create_table"
    new: Table

    @property
    def table(self) -> str:
        return self.new.key

    def reverse(self) -> Operation:
        return DropTable(self.new)

    def describe(self) -> str:
        return f"create table {self.table} ({len(self.new.columns)} columns)"


@dataclass(frozen=True)
class DropTable(Operation):
    kind: ClassVar[str] = "drop_table"
    default_severity: ClassVar[str] = "CRITICAL"
    old: Table

    @property
    def table(self) -> str:
        return self.old.key

    def reverse(self) -> Operation:
        return CreateTable(self.old)

    @property
    def default_risk(self) -> str:
        return f"drops table {self.table} and all its rows"

    @property
    def default_irreversible(self) -> str | None:
        return f"the rows of table {self.table} are not restored"

    def describe(self) -> str:
        return f"drop table {self.table}"


@dataclass(frozen=True)
class RenameTable(Operation):
    kind: ClassVar[str] = "rename_table"
    default_severity: ClassVar[str] = "WARN"
    old: Table
    new: Table

    @property
    def table(self) -> str:
        return self.new.key

    def reverse(self) -> Operation:
        return RenameTable(self.new, self.old)

    @property
    def default_risk(self) -> str:
        return "code that uses the old table name breaks"

    def describe(self) -> str:
        return f"rename table {self.old.key} to {self.new.key}"


@dataclass(frozen=True)
class AlterTable(Operation):
    """Table-level properties (comment, backend options) changed."""

    kind: ClassVar[str] = "alter_table"
    old: Table
    new: Table

    @property
    def table(self) -> str:
        return self.new.key

    def reverse(self) -> Operation:
        return AlterTable(self.new, self.old)

    def describe(self) -> str:
        changed = [n for n in ("comment", "options") if getattr(self.old, n) != getattr(self.new, n)]
        return f"alter table {self.table}: {', '.join(changed)}"


@dataclass(frozen=True)
class RebuildTable(Operation):
    """Recreate a table with a new definition and copy its rows (SQLite's path for what ALTER cannot do)."""

    kind: ClassVar[str] = "rebuild_table"
    default_severity: ClassVar[str] = "WARN"
    old: Table
    new: Table
    renames: tuple[tuple[str, str], ...] = ()  # (old column, new column)
    reasons: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()  # what the folded steps destroy (their irreversible reasons)
    lost_back: tuple[str, ...] = ()  # the same for the reverse rebuild
    fills: tuple[tuple[str, str], ...] = ()  # (new column, SQL literal) for a NOT NULL column the copy has no value for

    @property
    def table(self) -> str:
        return self.new.key

    @property
    def default_irreversible(self) -> str | None:
        return "; ".join(self.lost) or None

    def reverse(self) -> Operation:
        return RebuildTable(self.new, self.old, tuple((b, a) for a, b in self.renames), self.reasons,
                            self.lost_back, self.lost)

    @property
    def default_risk(self) -> str:
        return "copies every row into a new table (locks it for the duration)"

    def describe(self) -> str:
        return f"rebuild table {self.table}: {'; '.join(self.reasons)}"


# -- columns ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddColumn(Operation):
    kind: ClassVar[str] = "add_column"
    parent: Table
    column: Column

    @property
    def table(self) -> str:
        return self.parent.key

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "WARN" if self.default_risk else "INFO"

    @property
    def default_risk(self) -> str:
        c = self.column
        if not c.nullable and c.default is None and c.identity is None and c.computed is None:
            return f"NOT NULL column {c.name} without default fails on a table with rows"
        return ""

    def reverse(self) -> Operation:
        return DropColumn(self.parent, self.column)

    def describe(self) -> str:
        return f"add column {self.table}.{self.column.name} {self.column.type}"


@dataclass(frozen=True)
class DropColumn(Operation):
    kind: ClassVar[str] = "drop_column"
    default_severity: ClassVar[str] = "CRITICAL"
    parent: Table
    column: Column

    @property
    def table(self) -> str:
        return self.parent.key

    @property
    def default_risk(self) -> str:
        return f"drops column {self.table}.{self.column.name} and its data"

    @property
    def default_irreversible(self) -> str | None:
        return f"the values of column {self.table}.{self.column.name} are not restored"

    def reverse(self) -> Operation:
        return AddColumn(self.parent, self.column)

    def describe(self) -> str:
        return f"drop column {self.table}.{self.column.name}"


@dataclass(frozen=True)
class AlterColumn(Operation):
    """``validate_apart``: a SET NOT NULL whose scan of the rows runs apart, under a weaker lock (PostgreSQL: a
    ``CHECK (col IS NOT NULL)`` added NOT VALID and validated, which SET NOT NULL then uses instead of scanning)."""

    kind: ClassVar[str] = "alter_column"
    parent: Table
    old: Column
    new: Column
    validate_apart: bool = field(default=False, kw_only=True, compare=False)

    @property
    def table(self) -> str:
        return self.parent.key

    @property
    def changes(self) -> tuple[str, ...]:
        names = ("type", "nullable", "default", "identity", "computed", "collation", "comment", "options")
        return tuple(n for n in names if getattr(self.old, n) != getattr(self.new, n))

    @property
    def replaces_values(self) -> bool:
        """The column becomes generated: what it holds is replaced by what its expression computes."""
        return self.new.computed is not None and self.old.computed is None

    @property
    def recomputes(self) -> bool:
        """A generated column's expression changes: no server alters it in place before PostgreSQL 17."""
        return self.new.computed is not None and self.old.computed is not None and self.new.computed != self.old.computed

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "CRITICAL" if self.replaces_values or self.recomputes else "WARN" if self.default_risk else "INFO"

    @property
    def default_risk(self) -> str:
        if self.replaces_values:
            return (f"column {self.table}.{self.new.name} becomes generated: it is dropped and added, its values "
                    f"replaced by ({self.new.computed.expression})")  # type: ignore[union-attr]
        if self.recomputes:
            return (f"generated column {self.table}.{self.new.name} is dropped and added with its new expression: "
                    "every row is computed again (the table is rewritten)")
        if "type" in self.changes:
            return f"type change {self.old.type} -> {self.new.type} rewrites or may fail on existing data"
        if self.old.nullable and not self.new.nullable:
            return f"SET NOT NULL fails if {self.new.name} has NULL rows"
        return ""

    @property
    def default_irreversible(self) -> str | None:
        if self.replaces_values:
            return f"the values column {self.table}.{self.new.name} held before it was generated are not restored"
        return None

    def reverse(self) -> Operation:
        return AlterColumn(self.parent, self.new, self.old)

    def describe(self) -> str:
        return f"alter column {self.table}.{self.new.name}: {', '.join(self.changes)}"


@dataclass(frozen=True)
class RenameColumn(Operation):
    kind: ClassVar[str] = "rename_column"
    default_severity: ClassVar[str] = "WARN"
    parent: Table
    old: Column
    new: Column

    @property
    def table(self) -> str:
        return self.parent.key

    @property
    def default_risk(self) -> str:
        return "code that uses the old column name breaks"

    def reverse(self) -> Operation:
        return RenameColumn(self.parent, self.new, self.old)

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old.name} to {self.new.name}"


# -- indexes and constraints -----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateIndex(Operation):
    """``concurrently``: built while writes go on, outside the migration's transaction (PostgreSQL, on a table that
    exists already, when the database is configured so); decided by the backend, no part of what the step does."""

    kind: ClassVar[str] = "create_index"
    parent: Table
    index: Index
    concurrently: bool = field(default=False, kw_only=True, compare=False)

    @property
    def table(self) -> str:
        return self.parent.key

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "WARN" if self.index.unique else "INFO"

    @property
    def default_risk(self) -> str:
        return "fails if existing rows hold duplicates" if self.index.unique else ""

    def reverse(self) -> Operation:
        return DropIndex(self.parent, self.index)

    def describe(self) -> str:
        unique = "unique " if self.index.unique else ""
        cols = ", ".join(e.label for e in self.index.elements)
        return f"create {unique}index {self.index.name or ''} on {self.table} ({cols})".replace("  ", " ")


@dataclass(frozen=True)
class DropIndex(Operation):
    kind: ClassVar[str] = "drop_index"
    parent: Table
    index: Index
    concurrently: bool = field(default=False, kw_only=True, compare=False)  # as CreateIndex's

    @property
    def table(self) -> str:
        return self.parent.key

    def reverse(self) -> Operation:
        return CreateIndex(self.parent, self.index)

    def describe(self) -> str:
        return f"drop index {self.index.name or ''} on {self.table}".replace("  ", " ")


def _constraint_label(c: Constraint) -> str:
    kind = {PrimaryKey: "primary key", ForeignKey: "foreign key", Unique: "unique", Check: "check"}[type(c)]
    what = c.expression if isinstance(c, Check) else ", ".join(c.columns)
    return f"{kind} {c.name + ' ' if c.name else ''}({what})"


@dataclass(frozen=True)
class AddConstraint(Operation):
    """``validate_apart``: added without checking the rows, then validated in a transaction of its own under a
    weaker lock (PostgreSQL's ``NOT VALID`` + ``VALIDATE CONSTRAINT`` on a table that exists already);
    ``concurrently``: a unique constraint whose index is built first, as CreateIndex's, then attached."""

    kind: ClassVar[str] = "add_constraint"
    parent: Table
    constraint: Constraint
    validate_apart: bool = field(default=False, kw_only=True, compare=False)
    concurrently: bool = field(default=False, kw_only=True, compare=False)

    @property
    def table(self) -> str:
        return self.parent.key

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "WARN" if self.default_risk else "INFO"

    @property
    def default_risk(self) -> str:
        if isinstance(self.constraint, ForeignKey):
            return ""
        return "fails if existing rows violate it"

    def reverse(self) -> Operation:
        return DropConstraint(self.parent, self.constraint)

    def describe(self) -> str:
        return f"add {_constraint_label(self.constraint)} on {self.table}"


@dataclass(frozen=True)
class DropConstraint(Operation):
    kind: ClassVar[str] = "drop_constraint"
    parent: Table
    constraint: Constraint

    @property
    def table(self) -> str:
        return self.parent.key

    def reverse(self) -> Operation:
        return AddConstraint(self.parent, self.constraint)

    def describe(self) -> str:
        return f"drop {_constraint_label(self.constraint)} on {self.table}"


# -- views ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateView(Operation):
    kind: ClassVar[str] = "create_view"
    view: View

    @property
    def table(self) -> str:
        return self.view.key

    def reverse(self) -> Operation:
        return DropView(self.view)

    def describe(self) -> str:
        return f"create {'materialized ' if self.view.materialized else ''}view {self.table}"


@dataclass(frozen=True)
class DropView(Operation):
    kind: ClassVar[str] = "drop_view"
    view: View

    @property
    def table(self) -> str:
        return self.view.key

    def reverse(self) -> Operation:
        return CreateView(self.view)

    def describe(self) -> str:
        return f"drop {'materialized ' if self.view.materialized else ''}view {self.table}"


# -- types and sequences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedObjectOperation(Operation):
    """A step on a schema object other than a table (enum, domain, sequence): its key names it."""

    name: str

    @property
    def table(self) -> str:
        return self.name


@dataclass(frozen=True)
class CreateEnum(NamedObjectOperation):
    kind: ClassVar[str] = "create_enum"
    name: str
    values: tuple[str, ...]

    def reverse(self) -> Operation:
        return DropEnum(self.name, self.values)

    def describe(self) -> str:
        return f"create enum {self.name} ({', '.join(self.values)})"


@dataclass(frozen=True)
class DropEnum(NamedObjectOperation):
    kind: ClassVar[str] = "drop_enum"
    name: str
    values: tuple[str, ...]

    def reverse(self) -> Operation:
        return CreateEnum(self.name, self.values)

    def describe(self) -> str:
        return f"drop enum {self.name}"


@dataclass(frozen=True)
class AddEnumValue(NamedObjectOperation):
    """A new enum value. Servers cannot remove one, so the rollback is marked irreversible."""

    kind: ClassVar[str] = "add_enum_value"
    name: str
    value: str
    before: str | None = None

    @property
    def default_irreversible(self) -> str | None:
        return f"enum {self.name}: value {self.value!r} cannot be removed again"

    def reverse(self) -> Operation:
        return RemoveEnumValue(self.name, self.value)

    def describe(self) -> str:
        return f"add value {self.value!r} to enum {self.name}" + (f" before {self.before!r}" if self.before else "")


@dataclass(frozen=True)
class RecreateEnum(NamedObjectOperation):
    """Values removed, renamed or reordered: a new type replaces the old one in every column using it."""

    kind: ClassVar[str] = "recreate_enum"
    default_severity: ClassVar[str] = "WARN"
    old: tuple[str, ...]
    new: tuple[str, ...]
    usages: tuple[tuple[str, str, str | None, str | None, bool], ...] = ()  # table, column, old/new default, array

    @property
    def default_risk(self) -> str:
        gone = [v for v in self.old if v not in self.new]
        return f"fails if rows hold {', '.join(map(repr, gone))}" if gone else "rewrites every column using the type"

    def reverse(self) -> Operation:
        return RecreateEnum(self.name, self.new, self.old, tuple((t, c, new, old, a) for t, c, old, new, a in self.usages))

    def describe(self) -> str:
        return f"recreate enum {self.name} ({', '.join(self.old)} -> {', '.join(self.new)})"


@dataclass(frozen=True)
class RemoveEnumValue(NamedObjectOperation):
    """The inverse of AddEnumValue: renders nothing (the value stays); only ever in a rollback."""

    kind: ClassVar[str] = "remove_enum_value"
    name: str
    value: str

    def reverse(self) -> Operation:
        return AddEnumValue(self.name, self.value)

    def describe(self) -> str:
        return f"keep value {self.value!r} of enum {self.name} (it cannot be removed)"


@dataclass(frozen=True)
class CreateSequence(NamedObjectOperation):
    kind: ClassVar[str] = "create_sequence"
    name: str
    options: Options

    def reverse(self) -> Operation:
        return DropSequence(self.name, self.options)

    def describe(self) -> str:
        return f"create sequence {self.name}"


@dataclass(frozen=True)
class DropSequence(NamedObjectOperation):
    kind: ClassVar[str] = "drop_sequence"
    name: str
    options: Options

    def reverse(self) -> Operation:
        return CreateSequence(self.name, self.options)

    def describe(self) -> str:
        return f"drop sequence {self.name}"


@dataclass(frozen=True)
class CreateDomain(NamedObjectOperation):
    kind: ClassVar[str] = "create_domain"
    name: str
    options: Options

    def reverse(self) -> Operation:
        return DropDomain(self.name, self.options)

    def describe(self) -> str:
        return f"create domain {self.name} ({self.options.get('type')})"


@dataclass(frozen=True)
class AlterDomain(NamedObjectOperation):
    kind: ClassVar[str] = "alter_domain"
    name: str
    old: Options
    new: Options

    def reverse(self) -> Operation:
        return AlterDomain(self.name, self.new, self.old)

    @property
    def default_risk(self) -> str:
        return "a new check or NOT NULL fails if stored values violate it" if self.new.get("checks") or not self.new.get("nullable", True) else ""

    def describe(self) -> str:
        changed = sorted(k for k in set(self.old) | set(self.new) if self.old.get(k) != self.new.get(k))
        return f"alter domain {self.name}: {', '.join(changed)}"


@dataclass(frozen=True)
class AlterSequence(NamedObjectOperation):
    kind: ClassVar[str] = "alter_sequence"
    name: str
    old: Options
    new: Options

    def reverse(self) -> Operation:
        return AlterSequence(self.name, self.new, self.old)

    def describe(self) -> str:
        changed = sorted(k for k in set(self.old) | set(self.new) if self.old.get(k) != self.new.get(k))
        return f"alter sequence {self.name}: {', '.join(changed)}"


@dataclass(frozen=True)
class DropDomain(NamedObjectOperation):
    kind: ClassVar[str] = "drop_domain"
    name: str
    options: Options

    def reverse(self) -> Operation:
        return CreateDomain(self.name, self.options)

    def describe(self) -> str:
        return f"drop domain {self.name}"


# -- other schema objects ----------------------------------------------------------------------------


# dropping these changes what the database does, not only what it holds
BEHAVIOUR = {"function": "code that calls it (queries, defaults, triggers) fails",
             "procedure": "code that calls it fails", "aggregate": "queries that use it fail",
             "trigger": "what it did on each change stops happening, silently",
             "event": "what it ran on its schedule stops happening, silently",
             "extension": "what it provides (types, functions, operator classes) goes with it",
             "policy": "which rows each role may see or change changes",
             "row security": "every row becomes visible to every role the table is granted to",
             "rule": "the statements it rewrote run as written",
             "grant": "the role loses these privileges: what it ran fails"}


@dataclass(frozen=True)
class CreateObject(Operation):
    kind: ClassVar[str] = "create_object"
    object: SchemaObject

    @property
    def table(self) -> str:
        return self.object.key

    def reverse(self) -> Operation:
        return DropObject(self.object)

    def describe(self) -> str:
        return f"create {self.object.key}"


def used_by(dependents: tuple[str, ...]) -> str:
    return f"used by {', '.join(dependents)}" if dependents else ""


@dataclass(frozen=True)
class DropObject(Operation):
    """``dependents``: what the old schema has that calls the object (a routine's views, triggers, defaults, …)."""

    kind: ClassVar[str] = "drop_object"
    object: SchemaObject
    dependents: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.object.key

    def reverse(self) -> Operation:
        return CreateObject(self.object)

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "WARN" if self.object.kind in BEHAVIOUR or self.dependents else "INFO"

    @property
    def default_risk(self) -> str:
        used = used_by(self.dependents)
        return f"{used}: {BEHAVIOUR.get(self.object.kind, 'they fail without it')}" if used else BEHAVIOUR.get(
            self.object.kind, "")

    def describe(self) -> str:
        return f"drop {self.object.key}"


@dataclass(frozen=True)
class ReplaceObject(Operation):
    """A changed definition: ``CREATE OR REPLACE`` where the engine has it, else drop and create."""

    kind: ClassVar[str] = "replace_object"
    old: SchemaObject
    new: SchemaObject
    dependents: tuple[str, ...] = ()  # as DropObject's: they run the new definition from now on

    @property
    def table(self) -> str:
        return self.new.key

    def reverse(self) -> Operation:
        return ReplaceObject(self.new, self.old, self.dependents)

    @property
    def default_severity(self) -> str:  # type: ignore[override]
        return "WARN" if self.dependents else "INFO"

    @property
    def default_risk(self) -> str:
        return f"{used_by(self.dependents)}: they run the new definition" if self.dependents else ""

    def describe(self) -> str:
        return f"replace {self.new.key}"


# -- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """An ordered list of operations, with rename suggestions the user has to confirm."""

    operations: tuple[Operation, ...] = ()
    suggestions: tuple[str, ...] = field(default=(), compare=False)
    rebuild: tuple[str, ...] = field(default=(), compare=False)  # tables the user allows to be rebuilt (copied)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def __bool__(self) -> bool:
        return bool(self.operations)

    @property
    def is_empty(self) -> bool:
        return not self.operations

    @property
    def severity(self) -> str:
        return max_severity(op.severity for op in self.operations)

    @property
    def irreversible(self) -> tuple[str, ...]:
        return tuple(op.irreversible for op in self.operations if op.irreversible)

    def reverse(self) -> Plan:
        return Plan(tuple(op.reverse() for op in reversed(self.operations)))

    def replace(self, **changes: Any) -> Plan:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "operations": [op.to_json() for op in self.operations],
            "suggestions": list(self.suggestions),
        }

    # -- display: views the notebook layer registers (session.view) ---------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return view("mimebundle", self)

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per operation."""
        return view("frame", self)
