"""Rendering: render_<kind> for what ClickHouse runs (ON CLUSTER where a cluster is named), and the SQL pieces they share."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ...errors import BackendError
from ...migrations.files import Statement
from ...schema import Check, Column, Index, Table, View
from ..base import Mixin
from .dictionary import (
    CreateDictionary,
    DropDictionary,
    ReplaceDictionary,
    dictionary_sql,
    is_dictionary,
)
from .engine import _keys, engine_clauses, full_type

# what ALTER TABLE cannot change in place
FIXED_OPTIONS = {"engine": "the engine", "partition_by": "PARTITION BY", "primary_key": "the PRIMARY KEY"}
# MergeTree settings fixed at CREATE TABLE (system.merge_tree_settings.readonly = 1 on 26.9): MODIFY SETTING fails
READONLY_SETTINGS = (
    "index_granularity", "index_granularity_bytes", "enable_mixed_granularity_parts", "table_disk",
    "share_nested_offsets", "allow_tuple_element_aggregation", "add_minmax_index_for_numeric_columns",
    "add_minmax_index_for_string_columns", "add_minmax_index_for_temporal_columns",
    "add_minmax_index_for_block_number_column", "add_minmax_index_for_block_offset_column",
)


def _rebuild_hint(table: str) -> str:
    return f"pass make-migrations --rebuild {table} to rebuild the table (a new table, the rows copied)"


class ClickHouseRendering(Mixin):
    """Rendering: render_<kind> for what ClickHouse runs (ON CLUSTER where a cluster is named), and the SQL pieces they share."""

    cluster: str | None  # set by ClickHouseBackend.__init__

    def quote(self, name: str) -> str:
        """`name` with backslashes escaped and backticks doubled (not backslash-escaped, so the migration file
        splitter, which has no backslash rules, reads it right)."""
        return "`" + name.replace("\\", "\\\\").replace("`", "``") + "`"

    def column_reference(self, name: str) -> str:
        """A column name inside an expression, as the server spells it there: bare when it is a plain word,
        else quoted (the server also quotes keywords such as `select`; normalization learns that from it)."""
        return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else self.quote(name)

    def qualified(self, key_or_schema: str | None, name: str | None = None) -> str:
        if name is None:
            return self.quote(key_or_schema or "")
        return f"{self.quote(key_or_schema)}.{self.quote(name)}" if key_or_schema else self.quote(name)

    def literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"  # '' rather than \': see quote()

    def _on_cluster(self) -> str:
        return f" ON CLUSTER {self.quote(self.cluster)}" if self.cluster else ""

    def column_sql(self, col: Column) -> str:
        parts = [self.quote(col.name), full_type(col)]
        if col.computed is not None:
            parts.append(("MATERIALIZED " if col.computed.stored else "ALIAS ") + col.computed.expression)
        elif col.options.get("default_kind") == "EPHEMERAL":
            parts.append("EPHEMERAL" + (f" {col.default}" if col.default is not None else ""))
        elif col.default is not None:
            parts.append(f"DEFAULT {col.default}")
        if col.comment:
            parts.append(f"COMMENT {self.literal(col.comment)}")
        if col.options.get("codec"):
            parts.append(f"CODEC({col.options['codec']})")
        if col.options.get("ttl"):
            parts.append(f"TTL {col.options['ttl']}")
        return " ".join(parts)

    def index_sql(self, ix: Index) -> str:
        return (f"INDEX {self.quote(ix.name or '')} {ix.elements[0].expression} TYPE {ix.options['type']} "
                f"GRANULARITY {ix.options.get('granularity', 1)}")

    def check_sql(self, check: Check) -> str:
        return f"CONSTRAINT {self.quote(check.name or '')} CHECK {check.expression}"

    def render_create_table_sql(self, t: Table) -> str:
        items = [self.column_sql(c) for c in t.columns] + [self.index_sql(i) for i in t.indexes]
        items += [self.check_sql(k) for k in t.checks]
        items += [f"PROJECTION {self.quote(n)} ({q})" for n, q in sorted((t.options.get("projections") or {}).items())]
        sql = f"CREATE TABLE {self.quote(t.name)}{self._on_cluster()} (\n    " + ",\n    ".join(items) + "\n) "
        sql += engine_clauses(t.options)
        if t.comment:
            sql += f" COMMENT {self.literal(t.comment)}"
        return sql

    def render_create_view_sql(self, v: View) -> str:
        if v.materialized:
            to = f" TO {self.quote(v.options['to'])}" if v.options.get("to") else ""
            return f"CREATE MATERIALIZED VIEW {self.quote(v.name)}{self._on_cluster()}{to} AS {v.definition}"
        return f"CREATE VIEW {self.quote(v.name)}{self._on_cluster()} AS {v.definition}"

    def _alter(self, table: str) -> str:
        return f"ALTER TABLE {self.quote(table)}{self._on_cluster()}"

    def render_create_table(self, op: Any) -> list[str]:
        return [self.render_create_table_sql(op.new)]

    def render_drop_table(self, op: Any) -> list[str]:
        return [f"DROP TABLE {self.quote(op.old.name)}{self._on_cluster()} SYNC"]

    def render_rename_table(self, op: Any) -> list[str]:
        what = "DICTIONARY" if is_dictionary(op.old) else "TABLE"
        return [f"RENAME {what} {self.quote(op.old.name)} TO {self.quote(op.new.name)}{self._on_cluster()}"]

    def render_create_dictionary(self, op: CreateDictionary) -> list[str]:
        return [dictionary_sql(self, op.new)]

    def render_drop_dictionary(self, op: DropDictionary) -> list[str]:
        return [f"DROP DICTIONARY {self.quote(op.old.name)}{self._on_cluster()} SYNC"]

    def render_replace_dictionary(self, op: ReplaceDictionary) -> list[str]:
        return [dictionary_sql(self, op.new, replace=True)]

    def render_add_column(self, op: Any) -> list[str]:
        return [f"{self._alter(op.parent.name)} ADD COLUMN {self.column_sql(op.column)}"]

    def render_drop_column(self, op: Any) -> list[str]:
        return [f"{self._alter(op.parent.name)} DROP COLUMN {self.quote(op.column.name)}"]

    def render_rename_column(self, op: Any) -> list[str]:
        return [f"{self._alter(op.parent.name)} RENAME COLUMN {self.quote(op.old.name)} TO {self.quote(op.new.name)}"]

    def render_alter_column(self, op: Any) -> list[str]:
        """MODIFY COLUMN with the full new definition, then REMOVE for each property the new one lacks."""
        old, new = op.old, op.new
        alter = f"{self._alter(op.parent.name)} MODIFY COLUMN {self.quote(new.name)}"
        removes = []
        if old.computed is not None and new.computed is None and new.default is None:
            removes.append("MATERIALIZED" if old.computed.stored else "ALIAS")
        if old.default is not None and new.default is None and new.computed is None:
            removes.append("DEFAULT")
        removes += [w for w, k in (("CODEC", "codec"), ("TTL", "ttl")) if old.options.get(k) and not new.options.get(k)]
        if old.comment and not new.comment:
            removes.append("COMMENT")
        main = self.column_sql(new)
        if old.nullable and not new.nullable and new.default is None and new.computed is None:
            # the server needs a value for the NULL rows: the type's default, removed again right after
            main = self.column_sql(replace(new, default=f"defaultValueOfTypeName({self.literal(new.type)})"))
            removes.insert(0, "DEFAULT")
        out = [f"{self._alter(op.parent.name)} MODIFY COLUMN {main}"]
        return out + [f"{alter} REMOVE {what}" for what in removes]

    def render_create_index(self, op: Any) -> list[str]:
        ix = op.index
        return [f"{self._alter(op.parent.name)} ADD {self.index_sql(ix)}"]

    def render_drop_index(self, op: Any) -> list[str]:
        return [f"{self._alter(op.parent.name)} DROP INDEX {self.quote(op.index.name or '')}"]

    def render_add_constraint(self, op: Any) -> list[str]:
        """A CHECK (the one constraint a ClickHouse snapshot holds); the server checks it on inserts from then on,
        never on the rows already there."""
        if not isinstance(op.constraint, Check):
            return self.cannot(op)
        return [f"{self._alter(op.parent.name)} ADD {self.check_sql(op.constraint)}"]

    def render_drop_constraint(self, op: Any) -> list[str]:
        return [f"{self._alter(op.parent.name)} DROP CONSTRAINT {self.quote(op.constraint.name or '')}"]

    def render_create_view(self, op: Any) -> list[str]:
        return [self.render_create_view_sql(op.view)]

    def render_drop_view(self, op: Any) -> list[str]:
        return [f"DROP VIEW {self.quote(op.view.name)}{self._on_cluster()} SYNC"]

    def render_alter_table(self, op: Any) -> list[Statement | str]:
        old, new = op.old, op.new
        name = new.name
        a, b = dict(old.options), dict(new.options)
        a["primary_key"] = a.get("primary_key") or a.get("order_by")  # the key ClickHouse actually uses
        b["primary_key"] = b.get("primary_key") or b.get("order_by")
        for key, what in FIXED_OPTIONS.items():
            if a.get(key) != b.get(key):
                if key == "primary_key" and a.get("order_by") != b.get("order_by"):
                    raise BackendError(
                        f"ClickHouse cannot change the PRIMARY KEY of table {name} in place ({a[key]!r} -> {b[key]!r}); "
                        f"to append columns to ORDER BY, keep the primary key: declare primary_key={a[key]!r}")
                raise BackendError(f"ClickHouse cannot change {what} of table {name} in place ({a.get(key)!r} -> "
                                   f"{b.get(key)!r}): ALTER TABLE has no such clause; {_rebuild_hint(name)}")
        sa_, sb = a.get("settings") or {}, b.get("settings") or {}
        for key in READONLY_SETTINGS:
            if sa_.get(key) != sb.get(key):
                raise BackendError(f"ClickHouse cannot change the setting {key} of table {name} in place "
                                   f"({sa_.get(key)!r} -> {sb.get(key)!r}): it is fixed when the table is created; "
                                   f"{_rebuild_hint(name)}")
        out: list[Statement | str] = []
        alter = self._alter(name)
        if a.get("order_by") != b.get("order_by"):
            ka, kb = _keys(a.get("order_by") or ""), _keys(b.get("order_by") or "")
            added = [c for c in new.columns if old.column(c.name) is None and c.name in kb[len(ka):]]
            dropped = [c for c in old.columns if new.column(c.name) is None and c.name in ka[len(kb):]]
            if kb[: len(ka)] == ka and [k.strip("`") for k in kb[len(ka):]] == [c.name for c in added] and added:
                clauses = [f"ADD COLUMN {self.column_sql(c)}" for c in added] + [f"MODIFY ORDER BY {b['order_by']}"]
                out.append(f"{alter} " + ", ".join(clauses))
            elif ka[: len(kb)] == kb and [k.strip("`") for k in ka[len(kb):]] == [c.name for c in dropped] and dropped:
                out.append(f"{alter} MODIFY ORDER BY {b['order_by']}")  # the exact inverse of an extension
                out += [f"{alter} DROP COLUMN {self.quote(c.name)}" for c in dropped]
            else:
                raise BackendError(
                    f"ClickHouse cannot change ORDER BY of table {name} from {a.get('order_by')!r} to "
                    f"{b.get('order_by')!r} in place: only columns added in the same migration may be appended")
        if a.get("sample_by") != b.get("sample_by"):
            out.append(f"{alter} MODIFY SAMPLE BY {b['sample_by']}" if b.get("sample_by") else f"{alter} REMOVE SAMPLE BY")
        if a.get("ttl") != b.get("ttl"):
            out.append(f"{alter} MODIFY TTL {b['ttl']}" if b.get("ttl") else f"{alter} REMOVE TTL")
        changed = {k: v for k, v in sb.items() if sa_.get(k) != v}
        if changed:
            out.append(f"{alter} MODIFY SETTING " + ", ".join(f"{k} = {v}" for k, v in changed.items()))
        gone = [k for k in sa_ if k not in sb]
        if gone:
            out.append(f"{alter} RESET SETTING " + ", ".join(gone))
        pa, pb = a.get("projections") or {}, b.get("projections") or {}
        for pname in sorted(pa):
            if pb.get(pname) != pa[pname]:
                out.append(f"{alter} DROP PROJECTION {self.quote(pname)}")
        for pname in sorted(pb):
            if pa.get(pname) != pb[pname]:
                out.append(f"{alter} ADD PROJECTION {self.quote(pname)} ({pb[pname]})")
        if (old.comment or None) != (new.comment or None):
            out.append(f"{alter} MODIFY COMMENT {self.literal(new.comment or '')}")
        return out

    def render_rebuild_table(self, op: Any) -> list[str]:
        """A new table under a scratch name, the rows copied, the two swapped, the old one dropped."""
        new_name, old_name = f"_dbwarden_new_{op.new.name}", f"_dbwarden_old_{op.new.name}"
        copied = [c.name for c in op.new.columns
                  if c.computed is None and c.options.get("default_kind") != "EPHEMERAL"
                  and (o := op.old.column(c.name)) is not None and o.computed is None]
        cols = ", ".join(self.quote(c) for c in copied)
        return [
            self.render_create_table_sql(op.new.replace(name=new_name)),
            f"INSERT INTO {self.quote(new_name)} ({cols}) SELECT {cols} FROM {self.quote(op.old.name)}",
            (f"RENAME TABLE {self.quote(op.old.name)} TO {self.quote(old_name)}, "
             f"{self.quote(new_name)} TO {self.quote(op.new.name)}{self._on_cluster()}"),
            f"DROP TABLE {self.quote(old_name)}{self._on_cluster()} SYNC",
        ]
