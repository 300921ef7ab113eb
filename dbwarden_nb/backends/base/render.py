"""The shared rendering base: one ``render_<kind>`` for every operation kind of ``operations.py``.

A backend overrides the kinds it can render; the defaults here refuse with one line (``<backend> cannot ...``).
``RENDERED_KINDS`` is the declared list; ``Renderer.render`` dispatches on ``op.kind`` through it, and a kind
a backend adds for itself (ClickHouse's dictionaries) is found the same way on its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

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


class Renderer:
    """``render_<kind>`` for every kind in ``RENDERED_KINDS``: refused unless the backend overrides it."""

    name: ClassVar[str]

    # What a backend cannot do, consulted at planning time, goes here (an ``unsupported`` table keyed by
    # operation kind): not built yet; until then an impossible step is refused when it is rendered.

    def cannot(self, op: Operation) -> Rendered:
        raise BackendError(f"{self.name} cannot {op.describe()}")

    def renders(self, kind: str) -> bool:
        """Whether this backend renders ``kind`` (not the refusing default; a replaced object is dropped and
        created where the backend has no replacement of its own)."""
        method = getattr(type(self), f"render_{kind}", None)
        if kind == "replace_object" and method is Renderer.render_replace_object:
            return self.renders("drop_object") and self.renders("create_object")
        return method is not None and method is not getattr(Renderer, f"render_{kind}", None)

    def render(self, op: Operation) -> list[Statement]:
        method = getattr(self, f"render_{op.kind}", None)
        if method is None:
            raise BackendError(f"{self.name} cannot {op.describe()}")
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


def undeclared_kinds() -> list[str]:
    """Operation kinds of operations.py without a ``render_<kind>`` here (empty, or a new kind was forgotten)."""
    from ... import operations

    kinds = {cls.kind for cls in vars(operations).values()
             if isinstance(cls, type) and issubclass(cls, operations.Operation) and cls is not operations.Operation
             and "kind" in vars(cls)}
    return sorted(k for k in kinds if not hasattr(Renderer, f"render_{k}"))
