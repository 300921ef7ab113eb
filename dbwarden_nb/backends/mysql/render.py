"""Rendering: render_<kind> for the operations MySQL runs, and the SQL pieces they share."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ...errors import BackendError
from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    CreateIndex,
    CreateObject,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropObject,
    DropTable,
    RenameColumn,
    RenameTable,
)
from ...schema import (
    Check,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    Unique,
    split_key,
)
from ..base import Mixin
from .generated import RegenerateColumn

STRING_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"})
_LITERAL = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|'([^'\\]|''|\\.)*'|[bBxX]'[0-9a-fA-F]*'|0x[0-9a-fA-F]+|NULL|TRUE|FALSE)$",
                      re.IGNORECASE | re.DOTALL)
_CURRENT_TIMESTAMP = re.compile(r"^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$", re.IGNORECASE)
# what a create option is set to when the model no longer has it
CREATE_OPTION_RESETS = {"key_block_size": "0", "checksum": "0", "delay_key_write": "0", "min_rows": "0", "max_rows": "0",
                        "avg_row_length": "0"}


class MySQLRendering(Mixin):
    """Rendering: render_<kind> for the operations MySQL runs, and the SQL pieces they share."""

    online_index_kinds: ClassVar[tuple[str, ...]]  # the backend class's flags (MySQL's and MariaDB's differ)
    drop_check: ClassVar[str]

    def literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    def q(self, table: Table) -> str:
        return self.quote(table.name)

    def qkey(self, key: str) -> str:
        schema, name = split_key(key)
        return self.qualified(schema, name)

    def default_sql(self, text: str) -> str:
        if _LITERAL.match(text) or _CURRENT_TIMESTAMP.match(text) or text.startswith("("):
            return text
        return f"({text})"

    def column_sql(self, col: Column, table: Table | None = None) -> str:
        o = col.options
        parts = [self.quote(col.name), col.type]
        if o.get("srid") is not None:
            parts.append(f"SRID {int(o['srid'])}")
        if col.collation:
            parts.append(f"COLLATE {col.collation}")
        if col.computed is not None:
            parts.append(f"GENERATED ALWAYS AS ({col.computed.expression}) {'STORED' if col.computed.stored else 'VIRTUAL'}")
            if not col.nullable:
                parts.append("NOT NULL")
        else:
            parts.append("NULL" if col.nullable else "NOT NULL")
            if col.default is not None:
                parts.append(f"DEFAULT {self.default_sql(col.default)}")
        if o.get("on_update"):
            parts.append(f"ON UPDATE {o['on_update']}")
        if o.get("auto_increment"):
            parts.append("AUTO_INCREMENT")
        if o.get("invisible"):
            parts.append("INVISIBLE")
        if col.comment is not None:
            parts.append(f"COMMENT {self.literal(col.comment)}")
        if table is not None:
            parts += [f"CHECK ({c.expression})" for c in table.checks if c.options.get("column") and c.name == col.name]
        return " ".join(parts)

    def _cols(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(n) for n in names)

    def index_body(self, ix: Index) -> str:
        lengths = ix.options.get("length") or {}
        parts = []
        for e in ix.elements:
            if e.expression is not None:
                text = f"({e.expression})"
            else:
                text = self.quote(e.column or "") + (f"({lengths[e.column]})" if e.column in lengths else "")
            parts.append(text + (" DESC" if e.descending else ""))
        return f"({', '.join(parts)})"

    def index_tail(self, ix: Index) -> str:
        o = ix.options
        tail = f" USING {o['using']}" if o.get("using") else ""
        tail += f" COMMENT {self.literal(o['comment'])}" if o.get("comment") else ""
        tail += " INVISIBLE" if o.get("invisible") else ""
        tail += " IGNORED" if o.get("ignored") else ""
        return tail

    def index_kind(self, ix: Index) -> str:
        return (ix.options.get("prefix") or ("UNIQUE" if ix.unique else "")).upper()

    def fk_sql(self, fk: ForeignKey) -> str:
        name = f"CONSTRAINT {self.quote(fk.name)} " if fk.name else ""
        sql = (f"{name}FOREIGN KEY ({self._cols(fk.columns)}) REFERENCES {self.qkey(fk.ref_table)} "
               f"({self._cols(fk.ref_columns)})")
        sql += f" ON DELETE {fk.on_delete}" if fk.on_delete else ""
        sql += f" ON UPDATE {fk.on_update}" if fk.on_update else ""
        return sql

    def check_sql(self, c: Check) -> str:
        name = f"CONSTRAINT {self.quote(c.name)} " if c.name else ""
        return f"{name}CHECK ({c.expression})" + (" NOT ENFORCED" if c.options.get("not_enforced") else "")

    def unique_sql(self, u: Unique) -> str:
        return f"UNIQUE KEY {self.quote(u.name) + ' ' if u.name else ''}({self._cols(u.columns)})"

    def table_option_sql(self, o: Mapping[str, Any], creating: bool) -> list[str]:
        out = []
        if o.get("engine"):
            out.append(f"ENGINE={o['engine']}")
        if o.get("charset"):
            out.append(f"DEFAULT CHARSET={o['charset']}")
        if o.get("collation"):
            out.append(f"COLLATE={o['collation']}")
        if o.get("row_format"):
            out.append(f"ROW_FORMAT={o['row_format']}")
        if o.get("auto_increment"):
            out.append(f"AUTO_INCREMENT={int(o['auto_increment'])}")
        out += [f"{k.upper()}={v}" for k, v in sorted((o.get("create_options") or {}).items())]
        return out

    def partition_sql(self, o: Mapping[str, Any]) -> str:
        sql = f"PARTITION BY {o['partition_by']}"
        if o.get("partitions"):
            sql += f" PARTITIONS {int(o['partitions'])}"
        if o.get("partition_definitions"):
            defs = str(o["partition_definitions"]).strip()
            sql += f" {defs}" if defs.startswith("(") else f" ({defs})"
        return sql

    def render_create_table(self, op: CreateTable) -> list[str]:
        t = op.new
        items = [self.column_sql(c, t) for c in t.columns]
        if t.primary_key is not None:
            items.append(f"PRIMARY KEY ({self._cols(t.primary_key.columns)})")
        items += [self.unique_sql(u) for u in t.uniques]
        for ix in t.indexes:
            kind = self.index_kind(ix)
            items.append(f"{kind + ' ' if kind else ''}KEY {self.quote(ix.name or '')} {self.index_body(ix)}{self.index_tail(ix)}"
                         .replace("KEY `` ", "KEY "))
        for fk in t.foreign_keys:
            if fk.options.get("index"):
                items.append(f"KEY {self.quote(fk.options['index'])} ({self._cols(fk.columns)})")
            items.append(self.fk_sql(fk))
        items += [self.check_sql(c) for c in t.checks if not c.options.get("column")]
        body = ",\n  ".join(items)
        sql = f"CREATE TABLE {self.q(t)} (\n  {body}\n)"
        opts = self.table_option_sql(t.options, True)
        if t.comment is not None:
            opts.append(f"COMMENT={self.literal(t.comment)}")
        sql += (" " + " ".join(opts)) if opts else ""
        sql += self.versioning_sql(t.options)
        if t.options.get("partition_by"):
            sql += "\n" + self.partition_sql(t.options)
        return [sql]

    def versioning_sql(self, options: Mapping[str, Any]) -> str:
        return ""

    def render_drop_table(self, op: DropTable) -> list[str]:
        return [f"DROP TABLE {self.q(op.old)}"]

    def render_rename_table(self, op: RenameTable) -> list[str]:
        return [f"RENAME TABLE {self.qkey(op.old.key)} TO {self.qkey(op.new.key)}"]

    def render_add_column(self, op: AddColumn) -> list[str]:
        return [f"ALTER TABLE {self.q(op.parent)} ADD COLUMN {self.column_sql(op.column, op.parent)}"]

    def render_drop_column(self, op: DropColumn) -> list[str]:
        return [f"ALTER TABLE {self.q(op.parent)} DROP COLUMN {self.quote(op.column.name)}"]

    def render_alter_column(self, op: AlterColumn) -> list[str]:
        t = self.q(op.parent)
        if isinstance(op, RegenerateColumn) and not op.in_place:
            drops = [f"ALTER TABLE {t} DROP INDEX {self.quote(k.name or '')}" for k in op.covering]
            creates = [f"ALTER TABLE {t} ADD {self.unique_sql(k)}" if isinstance(k, Unique) else
                       self.render_create_index(CreateIndex(op.parent, k))[0] for k in op.covering]
            return [*drops, f"ALTER TABLE {t} DROP COLUMN {self.quote(op.old.name)}",
                    f"ALTER TABLE {t} ADD COLUMN {self.column_sql(op.new, op.parent)}", *creates]
        return [f"ALTER TABLE {t} MODIFY COLUMN {self.column_sql(op.new, op.parent)}"]

    def render_rename_column(self, op: RenameColumn) -> list[str]:
        return [f"ALTER TABLE {self.q(op.parent)} RENAME COLUMN {self.quote(op.old.name)} TO {self.quote(op.new.name)}"]

    def render_create_index(self, op: CreateIndex) -> list[str]:
        ix = op.index
        kind = self.index_kind(ix)
        online = " ALGORITHM=INPLACE LOCK=NONE" if self.builds_online(op) else ""
        return [(f"CREATE {kind + ' ' if kind else ''}INDEX {self.quote(ix.name or '')} ON {self.q(op.parent)} "
                 f"{self.index_body(ix)}{self.index_tail(ix)}{online}")]

    def builds_online(self, op: CreateIndex) -> bool:
        """InnoDB builds an index of plain columns while writes go on; asked for explicitly, the server refuses to
        fall back to locking the table instead of doing it silently. Not for FULLTEXT or SPATIAL indexes, other
        engines, or expressions (a functional index adds a hidden virtual column, which needs a lock)."""
        ix = op.index
        engine = str(op.parent.options.get("engine") or "InnoDB").lower()
        return (engine == "innodb" and self.index_kind(ix) in self.online_index_kinds and not ix.options.get("using")
                and all(e.expression is None for e in ix.elements))

    def render_drop_index(self, op: DropIndex) -> list[str]:
        return [f"DROP INDEX {self.quote(op.index.name or '')} ON {self.q(op.parent)}"]

    def render_add_constraint(self, op: AddConstraint) -> list[str]:
        c, t = op.constraint, self.q(op.parent)
        if isinstance(c, PrimaryKey):
            return [f"ALTER TABLE {t} ADD PRIMARY KEY ({self._cols(c.columns)})"]
        if isinstance(c, Unique):
            return [f"ALTER TABLE {t} ADD {self.unique_sql(c)}"]
        if isinstance(c, ForeignKey):
            index = f"ADD KEY {self.quote(c.options['index'])} ({self._cols(c.columns)}), " if c.options.get("index") else ""
            return [f"ALTER TABLE {t} {index}ADD {self.fk_sql(c)}"]
        if c.options.get("column"):
            return [self._modify_with_checks(op.parent, c.name, extra=c)]
        return [f"ALTER TABLE {t} ADD {self.check_sql(c)}"]

    def render_drop_constraint(self, op: DropConstraint) -> list[str]:
        c, t = op.constraint, self.q(op.parent)
        if isinstance(c, PrimaryKey):
            return [f"ALTER TABLE {t} DROP PRIMARY KEY"]
        if c.name is None:
            raise BackendError(f"cannot drop an unnamed constraint on {op.parent.key}")
        if isinstance(c, Unique):
            return [f"ALTER TABLE {t} DROP INDEX {self.quote(c.name)}"]
        if isinstance(c, ForeignKey):
            index = f", DROP INDEX {self.quote(c.options['index'])}" if c.options.get("index") else ""
            return [f"ALTER TABLE {t} DROP FOREIGN KEY {self.quote(c.name)}{index}"]
        if c.options.get("column"):
            return [self._modify_with_checks(op.parent, c.name, without=c)]
        return [f"ALTER TABLE {t} DROP {self.drop_check} {self.quote(c.name)}"]

    def _modify_with_checks(self, table: Table, column: str | None, extra: Check | None = None, without: Check | None = None) -> str:
        """A column-level check lives in its column's definition: restate the column with or without it."""
        col = table.column(column or "")
        if col is None:
            raise BackendError(f"column check {column} on {table.key}: no such column")
        checks = [c for c in table.checks if c != without and not (extra is not None and c.name == extra.name and c.options.get("column"))]
        checks += [extra] if extra is not None else []
        return f"ALTER TABLE {self.q(table)} MODIFY COLUMN {self.column_sql(col, table.replace(checks=tuple(checks)))}"

    def render_alter_table(self, op: AlterTable) -> list[str]:
        old, new = op.old, op.new
        o, n = dict(old.options), dict(new.options)
        t = self.q(new)
        out = []
        changes = []
        if old.comment != new.comment:
            changes.append(f"COMMENT={self.literal(new.comment or '')}")
        if o.get("engine") != n.get("engine"):
            changes.append(f"ENGINE={n.get('engine') or 'InnoDB'}")
        if o.get("collation") != n.get("collation") or o.get("charset") != n.get("charset"):
            changes += [x for x in self.table_option_sql({k: n.get(k) for k in ("charset", "collation")}, False)]
        if o.get("row_format") != n.get("row_format"):
            changes.append(f"ROW_FORMAT={n.get('row_format') or 'DEFAULT'}")
        if o.get("auto_increment") != n.get("auto_increment"):
            changes.append(f"AUTO_INCREMENT={int(n.get('auto_increment') or 1)}")
        before, after = o.get("create_options") or {}, n.get("create_options") or {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                changes.append(f"{key.upper()}={after.get(key, CREATE_OPTION_RESETS.get(key, 'DEFAULT'))}")
        if changes:
            out.append(f"ALTER TABLE {t} {', '.join(changes)}")
        if o.get("collation") != n.get("collation"):
            # columns that follow the table's default collation take the new one only when restated
            for col in new.columns:
                was = old.column(col.name)
                if col.collation is None and col.type.split("(")[0] in STRING_TYPES and was is not None and was == col:
                    out.append(f"ALTER TABLE {t} MODIFY COLUMN {self.column_sql(col, new)}")
        part_keys = ("partition_by", "partitions", "partition_definitions")
        if any(o.get(k) != n.get(k) for k in part_keys):
            out.append(f"ALTER TABLE {t} {self.partition_sql(n)}" if n.get("partition_by") else f"ALTER TABLE {t} REMOVE PARTITIONING")
        out += self.alter_versioning(t, o, n)
        return out

    def alter_versioning(self, table: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
        return []

    def render_create_view(self, op: Any) -> list[str]:
        v = op.view
        security = f"SQL SECURITY {v.options['security']} " if v.options.get("security") else ""
        check = f" WITH {v.options['check_option']} CHECK OPTION" if v.options.get("check_option") else ""
        return [f"CREATE {security}VIEW {self.qkey(v.key)} AS {v.definition}{check}"]

    def render_drop_view(self, op: Any) -> list[str]:
        return [f"DROP VIEW {self.qkey(op.view.key)}"]

    def render_create_object(self, op: CreateObject) -> list[str]:
        obj = op.object
        if obj.kind not in ("trigger", "function", "procedure", "event"):
            raise BackendError(f"{self.name} cannot create a {obj.kind} ({obj.key})")
        return [f"CREATE {obj.kind.upper()} {self.quote(obj.name)}{' ' if obj.kind in ('trigger', 'event') else ''}{obj.definition}"]

    def render_drop_object(self, op: DropObject) -> list[str]:
        return [f"DROP {op.object.kind.upper()} {self.quote(op.object.name)}"]
