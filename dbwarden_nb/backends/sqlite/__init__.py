"""SQLite: the embedded default and the fast dev database.

Introspection is five catalog queries whatever the table count (pragma table-valued functions joined
to ``sqlite_master``), plus the stored DDL text for what only the text carries. What ``ALTER TABLE``
cannot do becomes a table rebuild that keeps the rows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import ClassVar

from ...errors import MigrationError
from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    CreateIndex,
    CreateObject,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropObject,
    Operation,
    Plan,
    RebuildTable,
    RenameColumn,
    ReplaceObject,
)
from ...schema import (
    SchemaObject,
    Snapshot,
    Table,
)
from ..base import Backend, Connection, TranslationRules
from ..base.render import DOMAIN_KINDS, ENUM_KINDS, NO_DOMAINS, SEQUENCE_KINDS, Unsupported, refusing
from .catalog import SQLiteCatalog
from .codegen import SQLiteCodegen
from .connection import SQLiteConnecting
from .model import SQLiteModel
from .render import SQLiteRendering
from .translation import SQLiteTranslation

_LITERAL = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|'([^']|'')*'|[xX]'[0-9a-fA-F]*'|NULL|TRUE|FALSE)$", re.IGNORECASE)


class SQLiteBackend(SQLiteModel, SQLiteCodegen, SQLiteRendering, SQLiteCatalog, SQLiteConnecting, Backend):
    name: ClassVar[str] = "sqlite"
    translation_rules: ClassVar[TranslationRules] = SQLiteTranslation()
    dialect_name: ClassVar[str] = "sqlite"
    transactional_ddl: ClassVar[bool] = True
    supports_forward_references: ClassVar[bool] = True
    supports_seeds: ClassVar[bool] = True
    case_insensitive_tables: ClassVar[bool] = True
    case_insensitive_columns: ClassVar[bool] = True
    option_keys: ClassVar[Sequence[str]] = ("without_rowid", "strict", "autoincrement")
    # what the engine has no statement for, refused when a plan is made (base/render.py)
    unsupported: ClassVar[Unsupported] = {
        **refusing(ENUM_KINDS, "SQLite has no enum types (a CHECK (c IN (...)) spells one)"),
        **refusing(SEQUENCE_KINDS, "SQLite has no sequences (INTEGER PRIMARY KEY numbers the rows)"),
        **refusing(DOMAIN_KINDS, NO_DOMAINS),
    }
    # declared types by affinity (SQLite enforces no length, so no change of these narrows anything it holds)
    type_families: ClassVar[Mapping[str, tuple[str, int | None]]] = {
        **dict.fromkeys(("integer", "int", "bigint", "smallint", "tinyint", "mediumint"), ("integer", None)),
        **dict.fromkeys(("text", "varchar", "char", "character", "clob", "nvarchar", "nchar", "string"), ("string", None)),
        **dict.fromkeys(("numeric", "decimal", "real", "double", "float"), ("decimal", None)),
    }

    # -- adapting a neutral plan ------------------------------------------------------------------

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """Fold every step ALTER TABLE cannot do into one rebuild per table, in place of its steps; the triggers of
        a rebuilt table (which go with the table it drops) are dropped before it and created again after it."""
        return self._keep_triggers(self._fold(plan, old, new), old, new)

    def _keep_triggers(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        rebuilt = {op.table for op in plan if isinstance(op, RebuildTable)}
        if not rebuilt:
            return plan

        def on_rebuilt(obj: SchemaObject) -> bool:
            return obj.kind == "trigger" and obj.options.get("table") in rebuilt

        ops: list[Operation] = []
        for op in plan:
            if isinstance(op, (CreateObject, DropObject)) and on_rebuilt(op.object) \
                    or isinstance(op, ReplaceObject) and on_rebuilt(op.new):
                continue  # taken care of around the rebuild
            if isinstance(op, RebuildTable):
                ops += [DropObject(o) for o in old.objects.values() if on_rebuilt(o) and o.options["table"] == op.table]
                ops.append(op)
                ops += [CreateObject(o) for o in new.objects.values() if on_rebuilt(o) and o.options["table"] == op.table]
                continue
            ops.append(op)
        return plan.replace(operations=tuple(ops))

    def _fold(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        rebuild: dict[str, list[str]] = defaultdict(list)
        for op in plan:
            reason = self._needs_rebuild(op)
            if reason:
                rebuild[op.table].append(reason)
        if not rebuild:
            return plan
        folded = (AddColumn, DropColumn, AlterColumn, RenameColumn, AddConstraint, DropConstraint, AlterTable,
                  CreateIndex, DropIndex)
        steps: dict[str, list[Operation]] = defaultdict(list)
        for op in plan:
            if op.table in rebuild and isinstance(op, folded):
                steps[op.table].append(op)
        ops: list[Operation] = []
        for op in plan:
            if op.table in steps and isinstance(op, folded):
                if op is steps[op.table][0]:
                    group = steps[op.table]
                    renames = tuple((o.old.name, o.new.name) for o in group if isinstance(o, RenameColumn))
                    ops.append(RebuildTable(
                        _table_before(plan, old, op.table), new.tables[op.table], renames,
                        tuple(dict.fromkeys(rebuild[op.table])),
                        tuple(r for o in group if (r := o.irreversible)),
                        tuple(r for o in group if (r := o.reverse().irreversible)),
                    ))
                continue
            ops.append(op)
        # the rebuild takes the place of the table's first step; constraints added later in the plan
        # (foreign keys go last) must not come before it, so keep steps of other tables where they were
        return plan.replace(operations=tuple(ops))

    # -- triggers ---------------------------------------------------------------------------------

    def _needs_rebuild(self, op: Operation) -> str:
        if isinstance(op, (AlterColumn, AddConstraint, DropConstraint, AlterTable)):
            return op.describe()
        if isinstance(op, AddColumn):
            c = op.column
            if c.computed is not None and c.computed.stored:
                return f"add stored generated column {c.name}"
            if c.default is not None and not _LITERAL.match(c.default):
                return f"add column {c.name} with a non-constant default"
            if not c.nullable and c.default is None:
                return f"add NOT NULL column {c.name} without default"
            if op.parent.primary_key and c.name in op.parent.primary_key.columns:
                return f"add primary-key column {c.name}"
            if any(c.name in u.columns for u in op.parent.uniques) or any(c.name in fk.columns for fk in op.parent.foreign_keys):
                return f"add constrained column {c.name}"
        if isinstance(op, DropColumn):
            t, name = op.parent, op.column.name
            used = (
                (t.primary_key and name in t.primary_key.columns)
                or any(name in u.columns for u in t.uniques)
                or any(name in fk.columns for fk in t.foreign_keys)
                or any(name in i.columns or any(e.expression for e in i.elements) or i.where for i in t.indexes)
                or t.checks
                or any(c.computed for c in t.columns)
            )
            if used:
                return f"drop column {name} used by a constraint or index"
        return ""

    # -- running ----------------------------------------------------------------------------------

    @contextmanager
    def scratch_copy(self, url: str) -> Iterator[Connection]:
        """A copy of the database file in a temporary folder, made with SQLite's online backup."""
        import sqlite3
        import tempfile

        from sqlalchemy.engine import make_url

        source = make_url(url).database or ":memory:"
        with tempfile.TemporaryDirectory(prefix="dbwarden-verify-") as tmp:
            copy = f"{tmp}/scratch.db"
            src, dst = sqlite3.connect(source), sqlite3.connect(copy)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            conn = self.connect(f"sqlite:///{copy}", "a scratch copy")
            try:
                yield conn
            finally:
                conn.close()

    @contextmanager
    def scratch_empty(self, url: str) -> Iterator[Connection]:
        """A new database file in a temporary folder."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="dbwarden-scratch-") as tmp:
            conn = self.connect(f"sqlite:///{tmp}/scratch.db", "a scratch database")
            try:
                yield conn
            finally:
                conn.close()

    def before_migration(self, conn: Connection) -> None:
        # enforcement must be off before the transaction starts (the pragma is a no-op inside one),
        # so table rebuilds can drop and recreate referenced tables; checked before commit instead
        conn.rollback()
        conn.execute("PRAGMA foreign_keys = OFF")

    def before_commit(self, conn: Connection) -> None:
        problems = conn.query("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
        if problems:
            table, rowid, parent = problems[0]
            raise MigrationError(
                f"foreign key check failed: {len(problems)} row(s), first {table} rowid {rowid} references missing {parent}"
            )


def _table_before(plan: Plan, old: Snapshot, key: str) -> Table:
    """The table as it stands before its rebuild (after an earlier rename in the same plan)."""
    for op in plan:
        if op.kind == "rename_table" and op.table == key:
            return op.new  # type: ignore[attr-defined]
    return old.tables[key]


