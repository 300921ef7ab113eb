"""Rendering: render_<kind> for what SQLite runs (ALTER TABLE is narrow here: the rest is a table rebuild)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import BackendError
from ...operations import (
    AddColumn,
    CreateIndex,
    CreateObject,
    DropColumn,
    DropIndex,
    DropObject,
    RebuildTable,
    RenameColumn,
)
from ...schema import (
    Column,
    ForeignKey,
    Index,
    Table,
)
from ..base import Mixin


class SQLiteRendering(Mixin):
    """Rendering: render_<kind> for what SQLite runs (ALTER TABLE is narrow here: the rest is a table rebuild)."""

    def column_sql(self, col: Column, table: Table | None = None) -> str:
        parts = [self.quote(col.name), col.type]
        if table is not None and table.options.get("autoincrement") and table.primary_key and table.primary_key.columns == (col.name,):
            parts.append(f"{self._named(table.primary_key.name)}PRIMARY KEY AUTOINCREMENT")
        if not col.nullable:
            parts.append("NOT NULL")
        if col.default is not None:
            parts.append(f"DEFAULT ({col.default})")
        if col.collation:
            parts.append(f"COLLATE {self.quote(col.collation)}")
        if col.computed is not None:
            parts.append(f"GENERATED ALWAYS AS ({col.computed.expression}) {'STORED' if col.computed.stored else 'VIRTUAL'}")
        return " ".join(parts)

    def _named(self, name: str | None) -> str:
        return f"CONSTRAINT {self.quote(name)} " if name else ""

    def _columns(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(n) for n in names)

    def create_table_sql(self, table: Table, name: str | None = None) -> str:
        defs = [self.column_sql(c, table) for c in table.columns]
        pk = table.primary_key
        if pk and not (table.options.get("autoincrement") and len(pk.columns) == 1):
            defs.append(f"{self._named(pk.name)}PRIMARY KEY ({self._columns(pk.columns)})")
        for u in table.uniques:
            defs.append(f"{self._named(u.name)}UNIQUE ({self._columns(u.columns)})")
        for c in table.checks:
            defs.append(f"{self._named(c.name)}CHECK ({c.expression})")
        for fk in table.foreign_keys:
            defs.append(self.foreign_key_sql(fk))
        tail = [x for x, on in (("WITHOUT ROWID", table.options.get("without_rowid")), ("STRICT", table.options.get("strict"))) if on]
        body = ",\n    ".join(defs)
        return f"CREATE TABLE {self.quote(name or table.name)} (\n    {body}\n){' ' + ', '.join(tail) if tail else ''}"

    def foreign_key_sql(self, fk: ForeignKey) -> str:
        ref_cols = f" ({self._columns(fk.ref_columns)})" if fk.ref_columns else ""
        sql = f"{self._named(fk.name)}FOREIGN KEY ({self._columns(fk.columns)}) REFERENCES {self.quote(fk.ref_table)}{ref_cols}"
        if fk.on_delete:
            sql += f" ON DELETE {fk.on_delete}"
        if fk.on_update:
            sql += f" ON UPDATE {fk.on_update}"
        if fk.deferrable:
            sql += " DEFERRABLE" + (f" INITIALLY {fk.initially}" if fk.initially else "")
        return sql

    def create_index_sql(self, table: Table, index: Index) -> str:
        elements = []
        for e in index.elements:
            text = self.quote(e.column_name) if e.expression is None else e.expression
            if e.collation:
                text += f" COLLATE {self.quote(e.collation)}"
            elements.append(text + (" DESC" if e.descending else ""))
        where = f" WHERE {index.where}" if index.where else ""
        unique = "UNIQUE " if index.unique else ""
        return f"CREATE {unique}INDEX {self.quote(index.name or '')} ON {self.quote(table.name)} ({', '.join(elements)}){where}"

    def render_create_table(self, op: Any) -> list[str]:
        return [self.create_table_sql(op.new)] + [self.create_index_sql(op.new, i) for i in op.new.indexes]

    def render_drop_table(self, op: Any) -> list[str]:
        return [f"DROP TABLE {self.quote(op.old.name)}"]

    def render_rename_table(self, op: Any) -> list[str]:
        if op.old.name.lower() == op.new.name.lower():  # SQLite refuses a rename that changes only the case
            step = f"_dbwarden_rename_{op.new.name}"
            return [f"ALTER TABLE {self.quote(op.old.name)} RENAME TO {self.quote(step)}",
                    f"ALTER TABLE {self.quote(step)} RENAME TO {self.quote(op.new.name)}"]
        return [f"ALTER TABLE {self.quote(op.old.name)} RENAME TO {self.quote(op.new.name)}"]

    def render_add_column(self, op: AddColumn) -> list[str]:
        return [f"ALTER TABLE {self.quote(op.parent.name)} ADD COLUMN {self.column_sql(op.column)}"]

    def render_drop_column(self, op: DropColumn) -> list[str]:
        return [f"ALTER TABLE {self.quote(op.parent.name)} DROP COLUMN {self.quote(op.column.name)}"]

    def render_rename_column(self, op: RenameColumn) -> list[str]:
        return [f"ALTER TABLE {self.quote(op.parent.name)} RENAME COLUMN {self.quote(op.old.name)} TO {self.quote(op.new.name)}"]

    def render_create_index(self, op: CreateIndex) -> list[str]:
        return [self.create_index_sql(op.parent, op.index)]

    def render_drop_index(self, op: DropIndex) -> list[str]:
        return [f"DROP INDEX {self.quote(op.index.name or '')}"]

    def render_create_view(self, op: Any) -> list[str]:
        return [f"CREATE VIEW {self.quote(op.view.name)} AS {op.view.definition}"]

    def render_drop_view(self, op: Any) -> list[str]:
        return [f"DROP VIEW {self.quote(op.view.name)}"]

    def render_rebuild_table(self, op: RebuildTable) -> list[str]:
        """SQLite's twelve-step rebuild: new table, copy rows, drop old, rename, recreate indexes."""
        temp = f"_dbwarden_new_{op.new.name}"
        renamed = dict(op.renames)
        copied = [
            (src, dst.name)
            for dst in op.new.columns
            if dst.computed is None
            for src in [next((o for o, n in renamed.items() if n == dst.name), dst.name)]
            if (old_col := op.old.column(src)) is not None and old_col.computed is None
        ]
        targets = ", ".join([self.quote(d) for _, d in copied] + [self.quote(c) for c, _ in op.fills])
        sources = ", ".join([self.quote(s) for s, _ in copied] + [value for _, value in op.fills])
        statements = [self.create_table_sql(op.new, temp)]
        if copied:
            statements.append(f"INSERT INTO {self.quote(temp)} ({targets}) SELECT {sources} FROM {self.quote(op.old.name)}")
        # legacy renaming: views and triggers that name the table are neither checked nor rewritten
        # while it is briefly missing (the modern rename refuses, "error in view v: no such table")
        statements += [
            f"DROP TABLE {self.quote(op.old.name)}",
            "PRAGMA legacy_alter_table = ON",
            f"ALTER TABLE {self.quote(temp)} RENAME TO {self.quote(op.new.name)}",
            "PRAGMA legacy_alter_table = OFF",
        ]
        return statements + [self.create_index_sql(op.new, i) for i in op.new.indexes]

    def render_create_object(self, op: CreateObject) -> list[str]:
        if op.object.kind != "trigger":
            raise BackendError(f"sqlite cannot create a {op.object.kind} ({op.object.key}): SQLite has triggers only")
        return [f"CREATE TRIGGER {self.quote(op.object.name)} {op.object.definition}"]

    def render_drop_object(self, op: DropObject) -> list[str]:
        return [f"DROP TRIGGER {self.quote(op.object.name)}"]
