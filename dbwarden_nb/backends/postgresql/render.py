"""PostgreSQL DDL: every operation rendered as the statements that perform it (its inverse is rendered the
same way, from the inverse operation). A mixin of PostgreSQLBackend, kept apart for size."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...errors import BackendError
from ...migrations.files import Statement
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
    ReplaceObject,
)
from ...schema import (
    Check,
    Column,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    SchemaObject,
    Table,
    Unique,
    View,
    split_key,
)
from ..base import Mixin
from .catalog import SERIALS, implicit_name


class PostgreSQLRendering(Mixin):
    """``render_<kind>`` for every operation, and the SQL pieces they share."""

    quote: Any
    qualified: Any
    literal: Any

    def is_user_type(self, type_: str) -> bool:
        raise NotImplementedError

    def q(self, table: Table | View) -> str:
        return self.qualified(table.schema, table.name)

    def qkey(self, key: str) -> str:
        schema, name = split_key(key)
        return self.qualified(schema, name)

    def column_sql(self, col: Column, table: Table | None = None) -> str:
        type_ = SERIALS[col.type] if col.options.get("serial") and col.type in SERIALS else col.type
        parts = [self.quote(col.name), type_]
        if col.collation:
            parts.append(f"COLLATE {self.quote(col.collation)}")
        if col.options.get("compression"):
            parts.append(f"COMPRESSION {col.options['compression']}")
        if col.computed is not None:
            parts.append(f"GENERATED ALWAYS AS ({col.computed.expression}) STORED")
        if col.identity is not None:
            parts.append(self.identity_sql(col))
        if col.default is not None:
            parts.append(f"DEFAULT {col.default}")
        if not col.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    def identity_sql(self, col: Column) -> str:
        ident = col.identity
        assert ident is not None
        opts = " ".join(f"{word} {value}" for word, value in (("START WITH", ident.start), ("INCREMENT BY", ident.increment),
                                                           ("MINVALUE", ident.minvalue), ("MAXVALUE", ident.maxvalue),
                                                           ("CACHE", ident.cache)) if value is not None)
        if ident.cycle:
            opts += " CYCLE"
        return f"GENERATED {'ALWAYS' if ident.always else 'BY DEFAULT'} AS IDENTITY" + (f" ({opts.strip()})" if opts.strip() else "")

    def _named(self, name: str | None) -> str:
        return f"CONSTRAINT {self.quote(name)} " if name else ""

    def _cols(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(n) for n in names)

    def constraint_sql(self, c: PrimaryKey | Unique | Check | ForeignKey) -> str:
        if isinstance(c, PrimaryKey):
            return (f"{self._named(c.name)}PRIMARY KEY ({self._cols(c.columns)})"
                    + _deferrable(c.options.get("deferrable"), c.options.get("initially")))
        if isinstance(c, Unique):
            o = c.options
            sql = f"{self._named(c.name)}UNIQUE{' NULLS NOT DISTINCT' if o.get('nulls_not_distinct') else ''} ({self._cols(c.columns)})"
            if o.get("include"):
                sql += f" INCLUDE ({self._cols(o['include'])})"
            if o.get("with"):
                sql += f" WITH ({_with(o['with'])})"
            if o.get("tablespace"):
                sql += f" USING INDEX TABLESPACE {self.quote(o['tablespace'])}"
            return sql + _deferrable(o.get("deferrable"), o.get("initially"))
        if isinstance(c, Check):
            if c.options.get("type") == "exclude":
                return f"{self._named(c.name)}{c.expression}"
            return f"{self._named(c.name)}CHECK ({c.expression}){' NO INHERIT' if c.options.get('no_inherit') else ''}"
        ref_cols = f" ({self._cols(c.ref_columns)})" if c.ref_columns else ""
        sql = f"{self._named(c.name)}FOREIGN KEY ({self._cols(c.columns)}) REFERENCES {self.qkey(c.ref_table)}{ref_cols}"
        if c.match:
            sql += f" MATCH {c.match}"
        if c.on_update:
            sql += f" ON UPDATE {c.on_update}"
        if c.on_delete:
            sql += f" ON DELETE {c.on_delete}"
        return sql + _deferrable(c.deferrable, c.initially)

    def create_table_sql(self, t: Table) -> list[str]:
        o = t.options
        head = f"CREATE {'UNLOGGED ' if o.get('unlogged') else ''}TABLE {self.q(t)}"
        keys = [self.constraint_sql(t.primary_key)] if t.primary_key else []
        # a unique on exactly the key's columns would be folded into the key by CREATE TABLE: it is added after
        twins = [u for u in t.uniques if t.primary_key and u.columns == t.primary_key.columns]
        keys += [self.constraint_sql(u) for u in t.uniques if u not in twins]
        keys += [self.constraint_sql(c) for c in t.checks if not c.options.get("not_valid")]
        keys += [self.constraint_sql(f) for f in t.foreign_keys if not f.options.get("not_valid")]
        if o.get("partition_of"):
            # the columns are the parent's; a partition adds its own defaults and its own keys
            defaults = [f"{self.quote(c.name)} WITH OPTIONS DEFAULT {c.default}" for c in t.columns if c.default is not None]
            items = " (\n    " + ",\n    ".join(defaults + keys) + "\n)" if defaults or keys else ""
            sql = f"{head} PARTITION OF {self.qkey(o['partition_of'])}{items} {o['partition_bound']}"
        else:
            # a column only inherited is the parent's; the child may set its own default or NOT NULL (below)
            defs = [self.column_sql(c, t) for c in t.columns if not c.options.get("inherited")] + keys
            sql = f"{head} (\n    " + ",\n    ".join(defs) + "\n)" if defs else f"{head} ()"
            if o.get("inherits"):
                sql += f" INHERITS ({', '.join(self.qkey(k) for k in o['inherits'])})"
            if o.get("partition_by"):
                sql += f" PARTITION BY {o['partition_by']}"
        if o.get("with"):
            sql += f" WITH ({_with(o['with'])})"
        if o.get("tablespace"):
            sql += f" TABLESPACE {self.quote(o['tablespace'])}"
        out = [sql] + [self.add_constraint_sql(t, u) for u in twins]
        for col in t.columns:
            if col.options.get("inherited"):
                if col.default is not None:
                    out.append(f"ALTER TABLE ONLY {self.q(t)} ALTER COLUMN {self.quote(col.name)} SET DEFAULT {col.default}")
                if not col.nullable:
                    out.append(f"ALTER TABLE ONLY {self.q(t)} ALTER COLUMN {self.quote(col.name)} SET NOT NULL")
        validated: list[Check | ForeignKey] = [*t.checks, *t.foreign_keys]
        out += [self.add_constraint_sql(t, c) for c in validated if c.options.get("not_valid")]
        for col in t.columns:
            if col.options.get("storage"):
                out.append(f"ALTER TABLE {self.q(t)} ALTER COLUMN {self.quote(col.name)} SET STORAGE {col.options['storage'].upper()}")
        out += [self.create_index_sql(t, i) for i in t.indexes]
        out += [self.comment_index_sql(t, i) for i in t.indexes if "comment" in i.options]
        primary = [t.primary_key] if t.primary_key else []
        commented: list[PrimaryKey | Unique | Check | ForeignKey] = [*primary, *t.uniques, *t.checks, *t.foreign_keys]
        out += [self.comment_constraint_sql(t, c) for c in commented
                if "comment" in c.options]
        if t.comment is not None:
            out.append(f"COMMENT ON TABLE {self.q(t)} IS {self.literal(t.comment)}")
        out += [self.comment_column_sql(t, c) for c in t.columns if c.comment is not None]
        return out

    def comment_index_sql(self, t: Table, ix: Index) -> str:
        return f"COMMENT ON INDEX {self.qualified(t.schema, ix.name or '')} IS {self.literal(ix.options['comment'])}"

    def comment_constraint_sql(self, t: Table, c: Any) -> str:
        return f"COMMENT ON CONSTRAINT {self.quote(c.name or '')} ON {self.q(t)} IS {self.literal(c.options['comment'])}"

    def comment_column_sql(self, t: Table, c: Column) -> str:
        value = "NULL" if c.comment is None else self.literal(c.comment)
        return f"COMMENT ON COLUMN {self.q(t)}.{self.quote(c.name)} IS {value}"

    def add_constraint_sql(self, t: Table, c: Any) -> str:
        not_valid = " NOT VALID" if getattr(c, "options", {}).get("not_valid") else ""
        return f"ALTER TABLE {self.q(t)} ADD {self.constraint_sql(c)}{not_valid}"

    def create_index_sql(self, t: Table, ix: Index, concurrently: bool = False) -> str:
        o = ix.options
        elements = []
        for e in ix.elements:
            text = self.quote(e.column) if e.expression is None else f"({e.expression})"
            if e.collation:
                text += f" COLLATE {self.quote(e.collation)}"
            if e.opclass:
                text += f" {e.opclass}"
            if e.descending:
                text += " DESC"
            if e.nulls:
                text += f" NULLS {e.nulls.upper()}"
            elements.append(text)
        sql = f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {'CONCURRENTLY ' if concurrently else ''}{self.quote(ix.name or '')} ON {self.q(t)}"
        if o.get("using"):
            sql += f" USING {o['using']}"
        sql += f" ({', '.join(elements)})"
        if o.get("include"):
            sql += f" INCLUDE ({self._cols(o['include'])})"
        if o.get("nulls_not_distinct"):
            sql += " NULLS NOT DISTINCT"
        if o.get("with"):
            sql += f" WITH ({_with(o['with'])})"
        if o.get("tablespace"):
            sql += f" TABLESPACE {self.quote(o['tablespace'])}"
        if ix.where:
            sql += f" WHERE {ix.where}"
        return sql

    def render_create_table(self, op: CreateTable) -> list[str]:
        return self.create_table_sql(op.new)

    def render_drop_table(self, op: DropTable) -> list[str]:
        return [f"DROP TABLE {self.q(op.old)}"]

    def render_rename_table(self, op: RenameTable) -> list[str]:
        out = []
        if op.old.schema != op.new.schema:
            out.append(f"ALTER TABLE {self.q(op.old)} SET SCHEMA {self.quote(op.new.schema or 'public')}")
        if op.old.name != op.new.name:
            out.append(f"ALTER TABLE {self.qualified(op.new.schema, op.old.name)} RENAME TO {self.quote(op.new.name)}")
        return out

    def render_add_column(self, op: AddColumn) -> list[str]:
        t, c = op.parent, op.column
        out = [f"ALTER TABLE {self.q(t)} ADD COLUMN {self.column_sql(c)}"]
        if c.options.get("storage"):
            out.append(f"ALTER TABLE {self.q(t)} ALTER COLUMN {self.quote(c.name)} SET STORAGE {c.options['storage'].upper()}")
        if c.comment is not None:
            out.append(self.comment_column_sql(t, c))
        return out

    def render_drop_column(self, op: DropColumn) -> list[str]:
        return [f"ALTER TABLE {self.q(op.parent)} DROP COLUMN {self.quote(op.column.name)}"]

    def render_rename_column(self, op: RenameColumn) -> list[str]:
        return [f"ALTER TABLE {self.q(op.parent)} RENAME COLUMN {self.quote(op.old.name)} TO {self.quote(op.new.name)}"]

    def render_alter_column(self, op: AlterColumn) -> list[str | Statement]:
        """Every change in place, values kept: identity, serial and generated columns included. Only giving a column
        a generation expression has no ALTER (PostgreSQL 17 changes one, none adds one): that column is made anew."""
        t, old, new = op.parent, op.old, op.new
        table, column = self.q(t), self.quote(new.name)
        prefix = f"ALTER TABLE {table} ALTER COLUMN {column}"
        if new.computed is not None and new.computed != old.computed:
            # what depends on the column goes with it: its indexes and keys are made again
            def uses(obj: Any) -> bool:
                columns = [*getattr(obj, "columns", ()), *getattr(obj, "include", ()), *obj.options.get("include", ())]
                text = " ".join(e.expression or "" for e in getattr(obj, "elements", ())) + getattr(obj, "expression", "")
                return new.name in columns or self.quote(new.name) in text or re.search(rf"\b{re.escape(new.name)}\b", text) is not None

            again = [self.create_index_sql(t, i) for i in t.indexes if uses(i)]
            again += [self.add_constraint_sql(t, c) for c in (*t.uniques, *t.checks, *t.foreign_keys) if uses(c)]
            return [f"ALTER TABLE {table} DROP COLUMN {self.quote(old.name)}",
                    f"ALTER TABLE {table} ADD COLUMN {self.column_sql(new)}", *again]
        changes = set(op.changes)
        out: list[str | Statement] = []
        if old.computed is not None:  # generated → plain: the computed values stay as plain values
            out.append(f"{prefix} DROP EXPRESSION")
        if old.identity is not None and new.identity is None:
            out.append(f"{prefix} DROP IDENTITY")
        elif old.identity is not None and new.identity is not None and new.identity != old.identity:
            out.append(f"{prefix} {self.identity_changes(old.identity, new.identity)}")
            if _bounds(old.identity) != _bounds(new.identity):  # restarted inside the new bounds, then past the rows
                ascending = (new.identity.increment or 1) > 0
                out.append(f"SELECT setval(pg_get_serial_sequence({self.literal(table)}, {self.literal(new.name)}), "
                           f"{'max' if ascending else 'min'}({column})) FROM {table} "
                           f"HAVING {'max' if ascending else 'min'}({column}) IS NOT NULL")
        was_serial, is_serial = bool(old.options.get("serial")), bool(new.options.get("serial"))
        sequence = self.qualified(t.schema, implicit_name(t.name, new.name, "seq"))
        if was_serial and not is_serial:  # the default first: it depends on the sequence
            out += [f"{prefix} DROP DEFAULT", f"DROP SEQUENCE {sequence}"]
        if {"type", "collation"} & changes:
            collate = f" COLLATE {self.quote(new.collation)}" if new.collation else ""
            # a user type (enum, domain) only casts from text; a default must be set again after the change
            via = "::text" if self.is_user_type(old.type) or self.is_user_type(new.type) else ""
            if old.default is not None and "type" in changes:
                out.append(f"{prefix} DROP DEFAULT")
                changes.add("default")
            out.append(f"{prefix} TYPE {new.type}{collate}{self.using(old, new, column, via)}")
            if was_serial and is_serial and old.type != new.type:  # the implied sequence follows the column
                out.append(f"ALTER SEQUENCE {sequence} AS {new.type}")
        if "default" in changes and (new.default is not None or old.default is not None and "type" not in changes):
            out.append(f"{prefix} SET DEFAULT {new.default}" if new.default is not None else f"{prefix} DROP DEFAULT")
        if "nullable" in changes and op.validate_apart:
            # SET NOT NULL uses a valid CHECK (col IS NOT NULL) instead of scanning the rows under its lock
            check = self.quote(not_null_check(t, new.name))
            out += [f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID",
                    Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}", transactional=False),
                    f"{prefix} SET NOT NULL", f"ALTER TABLE {table} DROP CONSTRAINT {check}"]
        elif "nullable" in changes:
            out.append(f"{prefix} {'DROP' if new.nullable else 'SET'} NOT NULL")
        # numbering added to a column with rows goes on after the highest value, never back to 1
        after_max = f"max({column})) FROM {table} HAVING max({column}) IS NOT NULL"
        if is_serial and not was_serial:
            out += [f"CREATE SEQUENCE {sequence} AS {new.type} OWNED BY {table}.{column}",
                    f"SELECT setval({self.literal(sequence)}, {after_max}",
                    f"{prefix} SET DEFAULT nextval({self.literal(sequence)}::regclass)"]
        if new.identity is not None and old.identity is None:
            out += [f"{prefix} ADD {self.identity_sql(new)}",
                    f"SELECT setval(pg_get_serial_sequence({self.literal(table)}, {self.literal(new.name)}), {after_max}"]
        if old.options.get("storage") != new.options.get("storage"):
            out.append(f"{prefix} SET STORAGE {(new.options.get('storage') or _default_storage(new.type)).upper()}")
        if old.options.get("compression") != new.options.get("compression"):
            out.append(f"{prefix} SET COMPRESSION {new.options.get('compression') or 'default'}")
        if "comment" in changes:
            out.append(self.comment_column_sql(t, new))
        return out

    def using(self, old: Column, new: Column, column: str, via: str) -> str:
        """``USING col::type`` where the types need an explicit cast; none between strings, or between numerics,
        whose implicit cast refuses a value that does not fit where an explicit one would cut it (varchar(5))."""
        from ..base.assess import type_shape

        families = {type_shape(c.type, self.type_families).family for c in (old, new)}
        if not via and len(families) == 1 and families & {"string", "char", "decimal", "integer", "binary"}:
            return ""
        return f" USING {column}{via}::{new.type}"

    @staticmethod
    def identity_changes(old: Any, new: Any) -> str:
        """``SET GENERATED … SET INCREMENT BY …``: an identity changed in place, its sequence going on where it is."""
        parts = [f"SET GENERATED {'ALWAYS' if new.always else 'BY DEFAULT'}"] if old.always != new.always else []
        for field, word in (("start", "START WITH"), ("increment", "INCREMENT BY"), ("minvalue", "MINVALUE"),
                            ("maxvalue", "MAXVALUE"), ("cache", "CACHE")):
            before, after = getattr(old, field), getattr(new, field)
            if before != after:
                if after is not None:
                    parts.append(f"SET {word} {after}")
                elif field in ("minvalue", "maxvalue"):
                    parts.append(f"SET NO {word}")
                else:
                    parts.append(f"SET {word} 1")
        if bool(old.cycle) != bool(new.cycle):
            parts.append("SET CYCLE" if new.cycle else "SET NO CYCLE")
        if _bounds(old) != _bounds(new):  # the current value may lie outside the new bounds
            parts.append("RESTART")
        return " ".join(parts)

    def render_create_index(self, op: CreateIndex) -> list[str | Statement]:
        comment = [self.comment_index_sql(op.parent, op.index)] if "comment" in op.index.options else []
        sql = self.create_index_sql(op.parent, op.index, op.concurrently)
        # CONCURRENTLY cannot run inside a transaction block
        return [Statement(sql, transactional=False) if op.concurrently else sql, *comment]

    def render_drop_index(self, op: DropIndex) -> list[str | Statement]:
        sql = f"DROP INDEX {'CONCURRENTLY ' if op.concurrently else ''}{self.qualified(op.parent.schema, op.index.name or '')}"
        return [Statement(sql, transactional=False) if op.concurrently else sql]

    def render_add_constraint(self, op: AddConstraint) -> list[str | Statement]:
        c = op.constraint
        comment = [self.comment_constraint_sql(op.parent, c)] if "comment" in c.options else []
        if op.concurrently and isinstance(c, Unique):
            # built while writes go on, then made the constraint (its index renamed to it) under a brief lock
            o = c.options
            ix = Index(c.name, tuple(IndexElement(col) for col in c.columns), unique=True,
                       options={k: o[k] for k in ("include", "nulls_not_distinct", "with", "tablespace") if o.get(k)})
            attach = (f"ALTER TABLE {self.q(op.parent)} ADD CONSTRAINT {self.quote(c.name or '')} UNIQUE USING INDEX "
                      f"{self.quote(c.name or '')}{_deferrable(o.get('deferrable'), o.get('initially'))}")
            return [Statement(self.create_index_sql(op.parent, ix, concurrently=True), transactional=False), attach, *comment]
        if not op.validate_apart:
            return [self.add_constraint_sql(op.parent, c), *comment]
        # the rows are checked after the ADD has committed and released its lock: validation in a transaction of its
        # own only blocks other DDL (SHARE UPDATE EXCLUSIVE), so it runs apart from the migration's transaction
        validate = f"ALTER TABLE {self.q(op.parent)} VALIDATE CONSTRAINT {self.quote(c.name or '')}"
        return [self.add_constraint_sql(op.parent, c) + " NOT VALID", *comment, Statement(validate, transactional=False)]

    def render_drop_constraint(self, op: DropConstraint) -> list[str]:
        name = op.constraint.name
        if name is None:
            raise BackendError(f"cannot drop an unnamed constraint on {op.parent.key}")
        return [f"ALTER TABLE {self.q(op.parent)} DROP CONSTRAINT {self.quote(name)}"]

    def render_alter_table(self, op: AlterTable) -> list[str]:
        old, new = op.old, op.new
        out = []
        if old.comment != new.comment:
            out.append(f"COMMENT ON TABLE {self.q(new)} IS {'NULL' if new.comment is None else self.literal(new.comment)}")
        o, n = old.options, new.options  # partitioning is fixed: refused by PostgreSQLBackend.unsupported
        if o.get("with") != n.get("with"):
            gone = sorted(set(o.get("with") or {}) - set(n.get("with") or {}))
            if gone:
                out.append(f"ALTER TABLE {self.q(new)} RESET ({', '.join(gone)})")
            if n.get("with"):
                out.append(f"ALTER TABLE {self.q(new)} SET ({_with(n['with'])})")
        if o.get("tablespace") != n.get("tablespace"):
            out.append(f"ALTER TABLE {self.q(new)} SET TABLESPACE {self.quote(n.get('tablespace') or 'pg_default')}")
        if bool(o.get("unlogged")) != bool(n.get("unlogged")):
            out.append(f"ALTER TABLE {self.q(new)} SET {'UNLOGGED' if n.get('unlogged') else 'LOGGED'}")
        before, after = o.get("inherits") or [], n.get("inherits") or []
        out += [f"ALTER TABLE {self.q(new)} NO INHERIT {self.qkey(k)}" for k in before if k not in after]
        out += [f"ALTER TABLE {self.q(new)} INHERIT {self.qkey(k)}" for k in after if k not in before]
        return out

    def render_create_view(self, op: Any) -> list[str]:
        v = op.view
        kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
        with_ = f" WITH ({_with(v.options['with'])})" if v.options.get("with") else ""
        space = f" TABLESPACE {self.quote(v.options['tablespace'])}" if v.options.get("tablespace") else ""
        out = [f"CREATE {kind} {self.q(v)}{with_}{space} AS\n{v.definition}"]
        if v.comment is not None:
            out.append(f"COMMENT ON {kind} {self.q(v)} IS {self.literal(v.comment)}")
        for ix in v.indexes:
            out += self.render_create_index(CreateIndex(v, ix))  # type: ignore[arg-type]  # a view is indexed as a table
        return out

    def render_drop_view(self, op: Any) -> list[str]:
        return [f"DROP {'MATERIALIZED VIEW' if op.view.materialized else 'VIEW'} {self.q(op.view)}"]

    # -- schemas and other schema objects (each kind: its CREATE and DROP words) ------------------------------

    def object_name(self, obj: SchemaObject) -> str:
        if obj.kind in ("schema", "extension", "trigger", "rule", "policy"):  # database-wide, or named within its table
            return self.quote(obj.name)
        return self.qualified(obj.schema, obj.name)

    def render_create_object(self, op: CreateObject) -> list[str]:
        obj, name = op.object, self.object_name(op.object)
        if obj.kind == "schema":
            return [f"CREATE SCHEMA {name}"]
        if obj.kind == "collation":
            return [f"CREATE COLLATION {name} ({obj.definition})"]
        if obj.kind == "extension":
            schema = f" WITH SCHEMA {self.quote(obj.schema)}" if obj.schema else ""
            version = f" VERSION {self.literal(obj.options['version'])}" if obj.options.get("version") else ""
            return [f"CREATE EXTENSION {name}{schema}{version}"]
        if obj.kind in ("function", "procedure", "aggregate"):
            return self._unchecked(obj) + [f"CREATE {obj.kind.upper()} {name}{obj.definition}"] + self._comment(obj)
        if obj.kind == "text search dictionary":
            return [f"CREATE TEXT SEARCH DICTIONARY {name} {obj.definition}"] + self._comment(obj)
        if obj.kind == "text search configuration":
            mappings = obj.options.get("mappings") or {}
            alter = f"ALTER TEXT SEARCH CONFIGURATION {name}"
            # COPY brings the copied mappings: those declared replace them
            copied = [f"{alter} DROP MAPPING IF EXISTS FOR {', '.join(mappings)}"] if mappings and re.search(
                r"\bCOPY\b", obj.definition, re.IGNORECASE) else []
            return ([f"CREATE TEXT SEARCH CONFIGURATION {name} {obj.definition}", *copied]
                    + [f"{alter} ADD MAPPING FOR {token} WITH {dicts}" for token, dicts in mappings.items()]
                    + self._comment(obj))
        if obj.kind == "trigger":
            return [f"CREATE TRIGGER {name} {obj.definition}"] + self._comment(obj)
        if obj.kind in ("rule", "policy"):
            on = f" ON {self.qualified(obj.schema, obj.options['table'])}" if obj.kind == "policy" else ""
            return [f"CREATE {obj.kind.upper()} {name}{on} {obj.definition}".rstrip()]
        if obj.kind == "row security":
            table = self.qualified(obj.schema, obj.name)
            forced = [f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"] if obj.options.get("forced") else []
            return [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY", *forced]
        if obj.kind == "grant":
            privileges = [p.strip() for p in obj.definition.split(",") if p.strip()]
            plain = [p for p in privileges if not p.endswith(" WITH GRANT OPTION")]
            granting = [p.removesuffix(" WITH GRANT OPTION") for p in privileges if p not in plain]
            on, to = self._grant_target(obj)
            return ([f"GRANT {', '.join(plain)} ON {on} TO {to}"] if plain else []) + (
                [f"GRANT {', '.join(granting)} ON {on} TO {to} WITH GRANT OPTION"] if granting else [])
        raise BackendError(f"{self.name} cannot create a {obj.kind}")

    def _unchecked(self, obj: SchemaObject) -> list[str]:
        """A SQL-language body names tables the plan may create after it (pg_dump's way: bodies unchecked)."""
        return ["SET check_function_bodies = false"] if re.search(r"\bLANGUAGE\s+sql\b", obj.definition, re.IGNORECASE) else []

    def _target(self, obj: SchemaObject) -> str:
        """How DROP and COMMENT ON name the object: with a routine's arguments, a trigger's table."""
        name = self.object_name(obj)
        if obj.kind in ("trigger", "rule", "policy"):
            return f"{obj.kind.upper()} {name} ON {self.qualified(obj.schema, obj.options['table'])}"
        if obj.kind in ("function", "procedure", "aggregate") and "arguments" in obj.options:
            return f"{obj.kind.upper()} {name}({obj.options['arguments']})"
        return f"{obj.kind.upper()} {name}"

    def _comment(self, obj: SchemaObject, always: bool = False) -> list[str]:
        note = obj.options.get("comment")
        if note is None and not always:
            return []
        return [f"COMMENT ON {self._target(obj)} IS {'NULL' if note is None else self.literal(note)}"]

    def _grant_target(self, obj: SchemaObject) -> tuple[str, str]:
        on = f"{'SEQUENCE ' if obj.options.get('sequence') else ''}{self.qualified(obj.schema, obj.options['table'])}"
        return on, "PUBLIC" if obj.name == "PUBLIC" else self.quote(obj.name)

    def render_drop_object(self, op: DropObject) -> list[str]:
        obj = op.object
        if obj.kind == "grant":
            on, to = self._grant_target(obj)
            return [f"REVOKE ALL ON {on} FROM {to}"]
        if obj.kind == "row security":
            table = self.qualified(obj.schema, obj.name)
            forced = [f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"] if obj.options.get("forced") else []
            return [*forced, f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"]
        return [f"DROP {self._target(obj)}"]

    def render_replace_object(self, op: ReplaceObject) -> list[str]:
        old, new = op.old, op.new

        def uncommented(o: SchemaObject) -> SchemaObject:
            return replace(o, options={k: v for k, v in o.options.items() if k != "comment"})

        if uncommented(old) == uncommented(new):
            return self._comment(new, always=True)
        if new.kind == "row security":
            table = self.qualified(new.schema, new.name)
            return [f"ALTER TABLE {table} {'FORCE' if new.options.get('forced') else 'NO FORCE'} ROW LEVEL SECURITY"]
        if new.kind == "rule":
            return [f"CREATE OR REPLACE RULE {self.object_name(new)} {new.definition}"]
        if new.kind == "text search configuration" and old.definition == new.definition:
            return self._remapped(old, new)
        if new.kind == "text search dictionary" and _template(old) == _template(new):
            return self._reoptioned(old, new)
        if new.kind == "extension" and replace(old, options={}) == replace(new, options={}):
            return [f"ALTER EXTENSION {self.object_name(new)} UPDATE TO {self.literal(new.options['version'])}"]
        if routine_in_place(old, new):
            return (self._unchecked(new) + [f"CREATE OR REPLACE {new.kind.upper()} {self.object_name(new)}{new.definition}"]
                    + self._comment(new, always=old.options.get("comment") != new.options.get("comment")))
        return self.render_drop_object(DropObject(old)) + self.render_create_object(CreateObject(new))

    def _remapped(self, old: SchemaObject, new: SchemaObject) -> list[str]:
        """A configuration's mappings changed in place (indexes and columns that use it keep it)."""
        alter = f"ALTER TEXT SEARCH CONFIGURATION {self.object_name(new)}"
        before, after = old.options.get("mappings") or {}, new.options.get("mappings") or {}
        out = [f"{alter} DROP MAPPING FOR {token}" for token in before if token not in after]
        out += [f"{alter} {'ALTER' if token in before else 'ADD'} MAPPING FOR {token} WITH {dicts}"
                for token, dicts in after.items() if before.get(token) != dicts]
        return out + self._comment(new, always=old.options.get("comment") != new.options.get("comment"))

    def _reoptioned(self, old: SchemaObject, new: SchemaObject) -> list[str]:
        """A dictionary's options changed in place (the configurations that use it keep it): an option named
        without a value is removed."""
        before, after = _dictionary_options(old), _dictionary_options(new)
        changes = [f"{k} = {v}" for k, v in after.items() if before.get(k) != v] + [k for k in before if k not in after]
        out = [f"ALTER TEXT SEARCH DICTIONARY {self.object_name(new)} ({', '.join(changes)})"] if changes else []
        return out + self._comment(new, always=old.options.get("comment") != new.options.get("comment"))

    def enum_sql(self, name: str, values: Sequence[str]) -> str:
        return f"CREATE TYPE {self.qkey(name)} AS ENUM ({', '.join(self.literal(v) for v in values)})"

    def render_create_enum(self, op: Any) -> list[str]:
        return [self.enum_sql(op.name, op.values)]

    def render_drop_enum(self, op: Any) -> list[str]:
        return [f"DROP TYPE {self.qkey(op.name)}"]

    def render_add_enum_value(self, op: Any) -> list[Statement]:
        # committed on its own: a value added in a transaction cannot be used before that transaction ends;
        # IF NOT EXISTS: the rollback cannot remove the value, so applying the migration again finds it there
        where = f" BEFORE {self.literal(op.before)}" if op.before else ""
        return [Statement(f"ALTER TYPE {self.qkey(op.name)} ADD VALUE IF NOT EXISTS {self.literal(op.value)}{where}",
                          transactional=False)]

    def render_recreate_enum(self, op: Any) -> list[str]:
        schema, name = split_key(op.name)
        old_name = f"{name}__dbwarden_old"
        out = [f"ALTER TYPE {self.qkey(op.name)} RENAME TO {self.quote(old_name)}"]
        out.append(self.enum_sql(op.name, op.new))
        for table, column, old_default, new_default, array in op.usages:
            prefix = f"ALTER TABLE {self.qkey(table)} ALTER COLUMN {self.quote(column)}"
            suffix = "[]" if array else ""
            if old_default is not None:
                out.append(f"{prefix} DROP DEFAULT")
            out.append(f"{prefix} TYPE {self.qkey(op.name)}{suffix} USING {self.quote(column)}::text{suffix}::{self.qkey(op.name)}{suffix}")
            if new_default is not None:
                out.append(f"{prefix} SET DEFAULT {new_default}")
        return out + [f"DROP TYPE {self.qualified(schema, old_name)}"]

    def render_remove_enum_value(self, op: Any) -> list[str]:
        # a statement for the irreversible marker to stand on; the value itself stays
        return ["SELECT " + self.literal(f"enum {op.name} keeps value {op.value!r}: PostgreSQL cannot remove enum values")]

    def render_create_sequence(self, op: Any) -> list[str]:
        o = op.options
        opts = "".join(f" {w} {o[k]}" for k, w in (("increment", "INCREMENT BY"), ("minvalue", "MINVALUE"),
                                                   ("maxvalue", "MAXVALUE"), ("start", "START WITH"), ("cache", "CACHE")) if k in o)
        cycle = " CYCLE" if o.get("cycle") else ""
        return [f"CREATE SEQUENCE {self.qkey(op.name)} AS {o.get('type', 'bigint')}{opts}{cycle}"]

    def render_drop_sequence(self, op: Any) -> list[str]:
        return [f"DROP SEQUENCE {self.qkey(op.name)}"]

    def render_create_domain(self, op: Any) -> list[str]:
        d = op.options
        sql = f"CREATE DOMAIN {self.qkey(op.name)} AS {d['type']}"
        if d.get("collation"):
            sql += f" COLLATE {self.quote(d['collation'])}"
        if d.get("default") is not None:
            sql += f" DEFAULT {d['default']}"
        if not d.get("nullable", True):
            sql += " NOT NULL"
        for check in d.get("checks", ()):
            name, _, definition = check.partition(" ")
            sql += f" CONSTRAINT {self.quote(name)} {definition}"
        return [sql]

    def render_alter_domain(self, op: Any) -> list[str]:
        old, new, name = op.old, op.new, self.qkey(op.name)  # type and collation: refused by unsupported
        out = []
        if old.get("default") != new.get("default"):
            out.append(f"ALTER DOMAIN {name} " + (f"SET DEFAULT {new['default']}" if new.get("default") is not None else "DROP DEFAULT"))
        if old.get("nullable", True) != new.get("nullable", True):
            out.append(f"ALTER DOMAIN {name} {'DROP' if new.get('nullable', True) else 'SET'} NOT NULL")
        before, after = list(old.get("checks", ())), list(new.get("checks", ()))
        for check in before:
            if check not in after:
                out.append(f"ALTER DOMAIN {name} DROP CONSTRAINT {self.quote(check.partition(' ')[0])}")
        for check in after:
            if check not in before:
                cname, _, definition = check.partition(" ")
                out.append(f"ALTER DOMAIN {name} ADD CONSTRAINT {self.quote(cname)} {definition}")
        return out

    def render_alter_sequence(self, op: Any) -> list[str]:
        old, new = op.old, op.new
        words = {"type": "AS", "increment": "INCREMENT BY", "minvalue": "MINVALUE", "maxvalue": "MAXVALUE",
                 "start": "START WITH", "cache": "CACHE"}
        parts = []
        for key, word in words.items():
            if old.get(key) != new.get(key):
                if key in new:
                    parts.append(f"{word} {new[key]}")
                elif key in ("minvalue", "maxvalue"):
                    parts.append(f"NO {word}")
                else:
                    parts.append(f"{word} {'bigint' if key == 'type' else 1}")
        if bool(old.get("cycle")) != bool(new.get("cycle")):
            parts.append("CYCLE" if new.get("cycle") else "NO CYCLE")
        if old.get("owned_by") != new.get("owned_by"):
            owner = new.get("owned_by")
            parts.append(f"OWNED BY {self.qkey(owner[0])}.{self.quote(owner[1])}" if owner else "OWNED BY NONE")
        return [f"ALTER SEQUENCE {self.qkey(op.name)} {' '.join(parts)}"] if parts else []

    def render_drop_domain(self, op: Any) -> list[str]:
        return [f"DROP DOMAIN {self.qkey(op.name)}"]


_DICTIONARY_OPTION = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^,)]+)")


def _template(obj: SchemaObject) -> str:
    """The TEMPLATE of a text-search dictionary's definition."""
    return _dictionary_options(obj).get("template", "")


def _dictionary_options(obj: SchemaObject) -> dict[str, str]:
    """``(TEMPLATE = t, language = 'english')`` → {"template": "t", "language": "'english'"}: option names are
    case-insensitive, TEMPLATE among them."""
    return {k.lower(): v.strip() for k, v in _DICTIONARY_OPTION.findall(obj.definition)}


def routine_in_place(old: SchemaObject, new: SchemaObject) -> bool:
    """A routine whose result type stays: ``CREATE OR REPLACE`` (else it is dropped and created)."""
    return (new.kind in ("function", "procedure", "aggregate") and old.kind == new.kind
            and old.options.get("returns") == new.options.get("returns"))


def not_null_check(t: Table, column: str) -> str:
    """The name of the CHECK a SET NOT NULL of ``t.column`` is validated through (dropped right after it)."""
    digest = hashlib.sha256(f"{t.key}.{column}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"dbwarden_not_null_{digest}"


def _bounds(identity: Any) -> tuple[Any, ...]:
    return identity.start, identity.minvalue, identity.maxvalue


def _with(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items()))


def _deferrable(deferrable: Any, initially: Any) -> str:
    if not deferrable:
        return ""
    return " DEFERRABLE" + (f" INITIALLY {initially}" if initially else "")


def _default_storage(type_: str) -> str:
    return "extended" if type_ in ("text", "bytea", "jsonb", "json") or type_.startswith(("character", "numeric")) else "plain"
