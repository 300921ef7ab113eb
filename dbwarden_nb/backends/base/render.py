"""The shared rendering base: one ``render_<kind>`` for every operation kind of ``operations.py``.

A backend overrides the kinds it can render; the defaults here refuse with one line (``<backend> cannot ...``).
``RENDERED_KINDS`` is the declared list; ``Renderer.render`` dispatches on ``op.kind`` through it, and a kind
a backend adds for itself (ClickHouse's dictionaries) is found the same way on its class.

What the engine cannot do is declared in one table, ``Renderer.unsupported``: an operation kind, or ``(kind,
attribute)`` where the engine runs the kind but cannot change that attribute, mapped to why. ``Backend.plan``
consults it (:meth:`Renderer.refuse_unsupported`), so an impossible plan is refused when it is made, in one line
naming the object and the reason, before anything is rendered or written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any, ClassVar, NoReturn

from ...errors import BackendError
from ...migrations.files import Statement
from ...operations import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    AlterDomain,
    AlterSequence,
    AlterTable,
    CreateDomain,
    CreateEnum,
    CreateIndex,
    CreateObject,
    CreateSequence,
    CreateTable,
    CreateView,
    DropColumn,
    DropConstraint,
    DropDomain,
    DropEnum,
    DropIndex,
    DropObject,
    DropSequence,
    DropTable,
    DropView,
    Operation,
    Plan,
    RebuildTable,
    RecreateEnum,
    RemoveEnumValue,
    RenameColumn,
    RenameTable,
    ReplaceObject,
)

Rendered = Sequence[Statement | str]
# kind, or (kind, attribute) → why the engine cannot do it
Unsupported = Mapping[str | tuple[str, str], str]

# Every operation kind of operations.py: a Renderer method ``render_<kind>`` exists for each.
RENDERED_KINDS: tuple[str, ...] = (
    'create_table',
    'drop_table',
    'rename_table',
    'alter_table',
    'rebuild_table',
    'add_column',
    'drop_column',
    'alter_column',
    'rename_column',
    'create_index',
    'drop_index',
    'add_constraint',
    'drop_constraint',
    'create_view',
    'drop_view',
    'create_enum',
    'drop_enum',
    'add_enum_value',
    'recreate_enum',
    'remove_enum_value',
    'create_sequence',
    'alter_sequence',
    'drop_sequence',
    'create_domain',
    'alter_domain',
    'drop_domain',
    'create_object',
    'drop_object',
    'replace_object',
)

# the kinds of one family of schema objects, for ``unsupported`` tables that refuse the whole family
ENUM_KINDS = ("create_enum", "drop_enum", "add_enum_value", "remove_enum_value", "recreate_enum")
SEQUENCE_KINDS = ("create_sequence", "alter_sequence", "drop_sequence")
DOMAIN_KINDS = ("create_domain", "alter_domain", "drop_domain")
OBJECT_KINDS = ("create_object", "drop_object", "replace_object")
# reasons several engines share
NO_DOMAINS = "there are no domains here (CREATE DOMAIN is PostgreSQL's)"
NO_REBUILDS = "tables are altered in place here: no plan rebuilds one (make-migrations --rebuild is for SQLite and ClickHouse)"


def refusing(kinds: Sequence[str], why: str) -> dict[str | tuple[str, str], str]:
    """``unsupported`` entries refusing each of ``kinds`` for one reason."""
    return dict.fromkeys(kinds, why)


class Renderer:
    """``render_<kind>`` for every kind in ``RENDERED_KINDS``: refused unless the backend overrides it."""

    name: ClassVar[str]

    # What this engine cannot do (see the module's docstring); a subclass extends or trims its parent's table
    # with ``{**Parent.unsupported, ...}`` (MariaDB has the sequences MySQL lacks).
    unsupported: ClassVar[Unsupported] = {}

    def refusal(self, op: Operation) -> str | None:
        """The one line refusing ``op`` by this backend's ``unsupported`` table, or None when nothing refuses it."""
        why = self.unsupported.get(op.kind)
        if why is not None:
            return f"{self.name} cannot {op.describe()}: {why}"
        for attribute in changed_attributes(op):
            why = self.unsupported.get((op.kind, attribute))
            if why is not None:
                what = op.describe()  # "alter sequence s: increment" names it already, "alter table t: options" not
                if not re.search(rf"\b{re.escape(attribute)}\b", what):
                    what += f" ({attribute})"
                return f"{self.name} cannot {what}: {why}"
        return None

    def refuse_unsupported(self, plan: Plan) -> None:
        """Raise a one-line BackendError for the first step of ``plan`` this backend declares it cannot run."""
        for op in plan:
            reason = self.refusal(op)
            if reason is not None:
                raise BackendError(reason)

    def cannot(self, op: Operation) -> NoReturn:
        raise BackendError(self.refusal(op) or f"{self.name} cannot {op.describe()}")

    def renders(self, kind: str) -> bool:
        """Whether this backend renders ``kind`` (not the refusing default; a replaced object is dropped and
        created where the backend has no replacement of its own)."""
        method = getattr(type(self), f"render_{kind}", None)
        if kind == "replace_object" and method is Renderer.render_replace_object:
            return self.renders("drop_object") and self.renders("create_object")
        return method is not None and method is not getattr(Renderer, f"render_{kind}", None)

    def render(self, op: Operation) -> list[Statement]:
        method = getattr(self, f"render_{op.kind}", None)
        if method is None or self.refusal(op) is not None:
            self.cannot(op)
        out = method(op)
        return [s if isinstance(s, Statement) else Statement(s) for s in out]

    def render_replace_object(self, op: ReplaceObject) -> Rendered:
        """A changed definition where the engine has no ``CREATE OR REPLACE`` for it: dropped, then created."""
        return self.render(DropObject(op.old)) + self.render(CreateObject(op.new))

    def render_plan(self, plan: Plan) -> list[Statement]:
        return [stmt for op in plan for stmt in self.render(op)]

    def render_create_table(self, op: CreateTable) -> Rendered:
        return self.cannot(op)

    def render_drop_table(self, op: DropTable) -> Rendered:
        return self.cannot(op)

    def render_rename_table(self, op: RenameTable) -> Rendered:
        return self.cannot(op)

    def render_alter_table(self, op: AlterTable) -> Rendered:
        return self.cannot(op)

    def render_rebuild_table(self, op: RebuildTable) -> Rendered:
        return self.cannot(op)

    def render_add_column(self, op: AddColumn) -> Rendered:
        return self.cannot(op)

    def render_drop_column(self, op: DropColumn) -> Rendered:
        return self.cannot(op)

    def render_alter_column(self, op: AlterColumn) -> Rendered:
        return self.cannot(op)

    def render_rename_column(self, op: RenameColumn) -> Rendered:
        return self.cannot(op)

    def render_create_index(self, op: CreateIndex) -> Rendered:
        return self.cannot(op)

    def render_drop_index(self, op: DropIndex) -> Rendered:
        return self.cannot(op)

    def render_add_constraint(self, op: AddConstraint) -> Rendered:
        return self.cannot(op)

    def render_drop_constraint(self, op: DropConstraint) -> Rendered:
        return self.cannot(op)

    def render_create_view(self, op: CreateView) -> Rendered:
        return self.cannot(op)

    def render_drop_view(self, op: DropView) -> Rendered:
        return self.cannot(op)

    def render_create_enum(self, op: CreateEnum) -> Rendered:
        return self.cannot(op)

    def render_drop_enum(self, op: DropEnum) -> Rendered:
        return self.cannot(op)

    def render_add_enum_value(self, op: AddEnumValue) -> Rendered:
        return self.cannot(op)

    def render_recreate_enum(self, op: RecreateEnum) -> Rendered:
        return self.cannot(op)

    def render_remove_enum_value(self, op: RemoveEnumValue) -> Rendered:
        return self.cannot(op)

    def render_create_sequence(self, op: CreateSequence) -> Rendered:
        return self.cannot(op)

    def render_alter_sequence(self, op: AlterSequence) -> Rendered:
        return self.cannot(op)

    def render_drop_sequence(self, op: DropSequence) -> Rendered:
        return self.cannot(op)

    def render_create_domain(self, op: CreateDomain) -> Rendered:
        return self.cannot(op)

    def render_alter_domain(self, op: AlterDomain) -> Rendered:
        return self.cannot(op)

    def render_drop_domain(self, op: DropDomain) -> Rendered:
        return self.cannot(op)

    def render_create_object(self, op: CreateObject) -> Rendered:
        return self.cannot(op)

    def render_drop_object(self, op: DropObject) -> Rendered:
        return self.cannot(op)


def changed_attributes(op: Operation) -> tuple[str, ...]:
    """What a step changes, by name, for the ``(kind, attribute)`` entries of an ``unsupported`` table: the
    options of a sequence or domain that differ, a table's options (``settings.<key>`` inside a mapping) and
    comment, a column's fields and options; for a programmable object, its kind (``function``, ``event``)."""
    step: Any = op  # the fields below belong to the kinds tested
    if op.kind in ("create_object", "drop_object"):
        return (step.object.kind,)
    if op.kind == "replace_object":
        return (step.new.kind,)
    old, new = getattr(op, "old", None), getattr(op, "new", None)
    if old is None or new is None:
        return ()
    if is_dataclass(old) and type(old) is type(new):  # a table's or a column's fields
        out = [f.name for f in fields(old) if f.name != "options" and getattr(old, f.name) != getattr(new, f.name)]
        return (*out, *_changed_keys(getattr(old, "options", {}), getattr(new, "options", {})))
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return _changed_keys(old, new)
    return ()


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> tuple[str, ...]:
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        out.append(prefix + key)
        if isinstance(a, Mapping) or isinstance(b, Mapping):
            out += _changed_keys(a if isinstance(a, Mapping) else {}, b if isinstance(b, Mapping) else {}, f"{prefix}{key}.")
    return tuple(out)


def undeclared_kinds() -> list[str]:
    """Operation kinds of operations.py without a ``render_<kind>`` here (empty, or a new kind was forgotten)."""
    from ... import operations

    kinds = {cls.kind for cls in vars(operations).values()
             if isinstance(cls, type) and issubclass(cls, operations.Operation) and cls is not operations.Operation
             and "kind" in vars(cls)}
    return sorted(k for k in kinds if not hasattr(Renderer, f"render_{k}"))
