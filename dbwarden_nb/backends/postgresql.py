"""PostgreSQL, through psycopg 3 and SQLAlchemy.

The canonical snapshot is what the server itself reports. Live schemas are read with a fixed handful of
catalog queries (postgresql_catalog.py). Models are normalized through the server: their DDL is created in
a scratch schema inside a transaction that is rolled back, and read back with the same queries, so both
sides land on one spelling for types, defaults, checks, index expressions and views.
"""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Mapping, Sequence

from ..errors import BackendError, LockError
from ..migrations.files import Statement
from ..migrations.lock import Lock, LockStatus
from ..operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    RenameColumn,
    RenameTable,
)
from ..schema import Check, Column, ForeignKey, Index, PrimaryKey, Snapshot, Table, Unique, View, split_key
from ..models.codegen import sql_text
from .base import Backend, Connection
from .postgresql_catalog import SERIALS, CatalogReader

if TYPE_CHECKING:
    import sqlalchemy as sa

# SQLAlchemy's spelling → the server's (format_type) for the offline path; online, the server decides.
TYPE_ALIASES = {
    "VARCHAR": "character varying", "CHAR": "character", "INTEGER": "integer", "INT": "integer", "BIGINT": "bigint",
    "SMALLINT": "smallint", "BOOLEAN": "boolean", "TEXT": "text", "FLOAT": "double precision",
    "DOUBLE PRECISION": "double precision", "REAL": "real", "NUMERIC": "numeric", "DECIMAL": "numeric",
    "DATE": "date", "BYTEA": "bytea", "JSON": "json", "JSONB": "jsonb", "UUID": "uuid", "INTERVAL": "interval",
    "TIMESTAMP WITHOUT TIME ZONE": "timestamp without time zone", "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "TIME WITHOUT TIME ZONE": "time without time zone", "TIME WITH TIME ZONE": "time with time zone",
    "TIMESTAMP": "timestamp without time zone", "INET": "inet", "CIDR": "cidr", "MACADDR": "macaddr", "MONEY": "money",
    "TSVECTOR": "tsvector", "BIT": "bit", "VARBIT": "bit varying", "XML": "xml",
}

PG_TYPE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "integer": ("sa.Integer()",), "bigint": ("sa.BigInteger()",), "smallint": ("sa.SmallInteger()",),
    "character varying": ("sa.String({0})", "sa.String()"), "character": ("sa.CHAR({0})", "sa.CHAR()"),
    "text": ("sa.Text()",), "boolean": ("sa.Boolean()",), "double precision": ("sa.Double()",), "real": ("sa.REAL()",),
    "numeric": ("sa.Numeric({0}, {1})", "sa.Numeric({0})", "sa.Numeric()"), "date": ("sa.Date()",),
    "timestamp without time zone": ("sa.DateTime()", "postgresql.TIMESTAMP(precision={0})"),
    "timestamp with time zone": ("sa.DateTime(timezone=True)", "postgresql.TIMESTAMP(timezone=True, precision={0})"),
    "time without time zone": ("sa.Time()", "postgresql.TIME(precision={0})"),
    "time with time zone": ("sa.Time(timezone=True)", "postgresql.TIME(timezone=True, precision={0})"),
    "bytea": ("sa.LargeBinary()",), "json": ("sa.JSON()",), "jsonb": ("postgresql.JSONB()",), "uuid": ("sa.Uuid()",),
    "interval": ("sa.Interval()", "postgresql.INTERVAL(precision={0})"), "inet": ("postgresql.INET()",),
    "cidr": ("postgresql.CIDR()",), "macaddr": ("postgresql.MACADDR()",), "macaddr8": ("postgresql.MACADDR8()",),
    "money": ("postgresql.MONEY()",), "tsvector": ("postgresql.TSVECTOR()",), "tsquery": ("postgresql.TSQUERY()",),
    "bit": ("postgresql.BIT({0})", "postgresql.BIT()"), "bit varying": ("postgresql.BIT({0}, varying=True)", "postgresql.BIT(varying=True)"),
    "int4range": ("postgresql.INT4RANGE()",), "int8range": ("postgresql.INT8RANGE()",), "numrange": ("postgresql.NUMRANGE()",),
    "daterange": ("postgresql.DATERANGE()",), "tsrange": ("postgresql.TSRANGE()",), "tstzrange": ("postgresql.TSTZRANGE()",),
    "oid": ("postgresql.OID()",), "regclass": ("postgresql.REGCLASS()",), "xml": ("sa.types.NullType()",),
    "citext": ("postgresql.CITEXT()",), "hstore": ("postgresql.HSTORE()",),
}
PG_PYTHON_TYPES = {
    "integer": "int", "bigint": "int", "smallint": "int", "character varying": "str", "character": "str", "text": "str",
    "boolean": "bool", "double precision": "float", "real": "float", "numeric": "decimal.Decimal", "date": "datetime.date",
    "timestamp without time zone": "datetime.datetime", "timestamp with time zone": "datetime.datetime",
    "time without time zone": "datetime.time", "time with time zone": "datetime.time", "bytea": "bytes",
    "uuid": "uuid.UUID", "interval": "datetime.timedelta", "inet": "str", "cidr": "str", "money": "str",
}
_SA_TYPE = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9_ ]*?)\s*(?:\((?P<params>[^)]*)\))?\s*(?P<zone>WITH(?:OUT)? TIME ZONE)?(?P<array>(?:\[\])*)$", re.I)
_PG_TYPE = re.compile(r"^(?P<base>[a-z][a-z0-9_ ]*?)(?:\((?P<params>[0-9, ]+)\))?(?P<tail>( with(out)? time zone)?)(?P<array>(\[\])*)$")

ADVISORY_KEY = 0x64627764  # "dbwd": the advisory lock's class; its object is the database's OID


class PostgreSQLBackend(Backend):
    name: ClassVar[str] = "postgresql"
    dialect_name: ClassVar[str] = "postgresql"
    transactional_ddl: ClassVar[bool] = True
    supports_schemas: ClassVar[bool] = True
    supports_comments: ClassVar[bool] = True
    normalizes_on_server: ClassVar[bool] = True
    default_schema_name: ClassVar[str] = "public"

    # -- connecting ---------------------------------------------------------------------------------

    def default_schema(self, conn: Connection | None) -> str:
        if conn is None:
            return self.default_schema_name
        return str(conn.query("SELECT current_schema()")[0][0])

    def server_num(self, conn: Connection) -> int:
        return int(conn.query("SHOW server_version_num")[0][0])

    # -- introspection ------------------------------------------------------------------------------

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        default = self.default_schema(conn)
        reader = CatalogReader(conn, list(schemas or [default]), default, self.server_num(conn))
        snap = reader.read(self.name, self.server_version(conn))
        return snap.replace(tables={k: t for k, t in snap.tables.items() if t.name not in self.internal_tables or t.schema})

    # -- model side ---------------------------------------------------------------------------------

    def canonical_type(self, spelled: str) -> str:
        """Offline spelling: SQLAlchemy's upper-case names mapped to the server's (format_type).

        Online, models go through the server instead (``normalize_models``), which knows every type."""
        m = _SA_TYPE.match(" ".join(spelled.strip().split()))
        if m is None:
            return spelled.strip()
        base, params, zone = m.group("base").strip(), m.group("params"), m.group("zone")
        array = "[]" if m.group("array") else ""  # the server keeps no array dimensions in the type
        values = [p.strip() for p in (params or "").split(",") if p.strip()]
        upper = base.upper()
        if upper == "FLOAT" and values:  # float(p): real up to 24 bits of precision, double precision above
            return ("real" if int(values[0]) <= 24 else "double precision") + array
        if upper in ("NUMERIC", "DECIMAL") and len(values) == 1:
            values.append("0")
        if upper in ("CHAR", "CHARACTER", "NCHAR") and not values:
            values = ["1"]
        params = f"({','.join(values)})" if values else ""
        if zone:
            return f"{base.lower()}{params} {zone.lower()}{array}"
        if upper in ("TIMESTAMP", "TIME"):
            return f"{base.lower()}{params} without time zone{array}"
        return TYPE_ALIASES.get(upper, base if base.islower() else base.lower()) + params + array

    def normalize_model_table(self, table: Table) -> Table:
        """Give unnamed keys the names the server will give them (checks excepted: they depend on the expression)."""
        def named(obj: Any, kind: str) -> Any:
            return obj if obj.name else replace(obj, name=self.implicit_constraint_name(table, kind, obj.columns))

        return table.replace(
            primary_key=named(table.primary_key, "primary_key") if table.primary_key else None,
            uniques=tuple(named(u, "unique") for u in table.uniques),
            foreign_keys=tuple(named(f, "foreign_key") for f in table.foreign_keys),
        )

    def implicit_constraint_name(self, table: Table, kind: str, columns: Sequence[str]) -> str | None:
        """The name PostgreSQL gives an unnamed constraint, so generated models can leave it out."""
        suffix = {"primary_key": "pkey", "unique": "key", "foreign_key": "fkey", "check": "check"}[kind]
        parts = [table.name] + ([] if kind == "primary_key" else list(columns[:1] if kind == "check" else columns))
        name = "_".join(parts + [suffix])
        return name if len(name.encode()) <= 63 else None

    def table_options(self, table: sa.Table) -> dict[str, Any]:
        pg = table.dialect_options["postgresql"]
        info = dict(table.info.get("dbwarden") or {})
        options: dict[str, Any] = {}
        if "UNLOGGED" in [p.upper() for p in table._prefixes]:
            options["unlogged"] = True
        if pg.get("with"):
            options["with"] = {str(k): str(v) for k, v in dict(pg["with"]).items()}
        if pg.get("tablespace"):
            options["tablespace"] = pg["tablespace"]
        if pg.get("partition_by"):
            options["partition_by"] = pg["partition_by"]
        inherits = pg.get("inherits")
        if inherits:
            options["inherits"] = [inherits] if isinstance(inherits, str) else list(inherits)
        for key in ("partition_of", "partition_bound"):
            if key in info:
                options[key] = info[key]
        return options

    def column_options(self, column: sa.Column[Any]) -> dict[str, Any]:
        info = dict(column.info.get("dbwarden") or {})
        options = {k: str(info[k]).lower() for k in ("storage", "compression") if k in info}
        table = column.table
        if (table is not None and table._autoincrement_column is column and column.identity is None
                and column.server_default is None and column.autoincrement is not False):
            options["serial"] = True
        return options

    def index_options(self, index: sa.Index) -> dict[str, Any]:
        pg = index.dialect_options["postgresql"]
        options: dict[str, Any] = {}
        if pg.get("using") and str(pg["using"]).lower() != "btree":
            options["using"] = str(pg["using"]).lower()
        if pg.get("include"):
            options["include"] = [getattr(c, "name", c) for c in pg["include"]]
        if pg.get("with"):
            options["with"] = {str(k): str(v) for k, v in dict(pg["with"]).items()}
        if pg.get("tablespace"):
            options["tablespace"] = pg["tablespace"]
        if pg.get("nulls_not_distinct"):
            options["nulls_not_distinct"] = True
        return options

    def index_opclass(self, index: sa.Index, name: str | None) -> str | None:
        ops = index.dialect_options["postgresql"].get("ops") or {}
        return ops.get(name) if name else None

    def unique_options(self, constraint: sa.UniqueConstraint) -> dict[str, Any]:
        pg = constraint.dialect_options["postgresql"]
        options: dict[str, Any] = {}
        if constraint.deferrable:
            options["deferrable"] = True
        if (constraint.initially or "").upper() == "DEFERRED":
            options["initially"] = "DEFERRED"
        if pg.get("nulls_not_distinct"):
            options["nulls_not_distinct"] = True
        if pg.get("include"):
            options["include"] = [getattr(c, "name", c) for c in pg["include"]]
        return options

    def check_options(self, constraint: sa.CheckConstraint) -> dict[str, Any]:
        info = dict(constraint.info.get("dbwarden") or {})
        options = {k: True for k in ("no_inherit",) if info.get(k)}
        if constraint.dialect_options["postgresql"].get("not_valid"):
            options["not_valid"] = True
        return options

    def foreign_key_options(self, constraint: sa.ForeignKeyConstraint) -> dict[str, Any]:
        return {"not_valid": True} if constraint.dialect_options["postgresql"].get("not_valid") else {}

    def extra_checks(self, table: sa.Table) -> list[Check]:
        """Exclusion constraints, kept as checks of type ``exclude`` with the server's definition."""
        from sqlalchemy.dialects.postgresql import ExcludeConstraint

        out = []
        for cons in table.constraints:
            if isinstance(cons, ExcludeConstraint):
                ddl = self.dialect().ddl_compiler(self.dialect(), None)
                text = ddl.visit_exclude_constraint(cons)
                text = re.sub(r"^CONSTRAINT \S+ ", "", text) if cons.name else text
                out.append(Check(cons.name if isinstance(cons.name, str) else None, text.strip(), {"type": "exclude"}))
        return out

    def model_extras(self, tables: Sequence[sa.Table], default_schema: str | None) -> dict[str, Any]:
        """Enums and sequences the tables use (domains come through their columns' types)."""
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import DOMAIN

        enums: dict[str, tuple[str, ...]] = {}
        domains: dict[str, dict[str, Any]] = {}
        sequences: dict[str, dict[str, Any]] = {}
        for md in {id(t.metadata): t.metadata for t in tables}.values():
            for seq in md._sequences.values():
                sequences[self._seq_key(seq, default_schema)] = self._seq_options(seq)
        for table in tables:
            for col in table.columns:
                t = col.type
                if isinstance(t, sa.Enum) and t.native_enum and t.name:
                    schema = t.schema if t.schema and t.schema != default_schema else None
                    enums[f"{schema}.{t.name}" if schema else t.name] = tuple(t.enums)
                if isinstance(t, DOMAIN):
                    doc: dict[str, Any] = {"type": t.data_type.compile(dialect=self.dialect()), "nullable": not t.not_null}
                    if t.default is not None:
                        doc["default"] = str(t.default)
                    if t.check is not None:
                        doc["checks"] = [f"{t.constraint_name or t.name + '_check'} CHECK ({t.check})"]
                    domains[t.name] = doc
                if isinstance(col.default, sa.Sequence):
                    sequences[self._seq_key(col.default, default_schema)] = self._seq_options(col.default)
        return {"enums": enums, "domains": domains, "sequences": sequences}

    @staticmethod
    def _seq_key(seq: sa.Sequence, default_schema: str | None) -> str:
        return f"{seq.schema}.{seq.name}" if seq.schema and seq.schema != default_schema else seq.name

    def _seq_options(self, seq: sa.Sequence) -> dict[str, Any]:
        opts = {k: v for k, v in (("start", seq.start), ("increment", seq.increment), ("minvalue", seq.minvalue),
                                  ("maxvalue", seq.maxvalue), ("cache", seq.cache), ("cycle", seq.cycle)) if v is not None}
        opts["type"] = seq.data_type.compile(dialect=self.dialect()).lower() if seq.data_type is not None else "bigint"
        return opts

    # -- normalization through the server ---------------------------------------------------------

    def normalize_models(self, raw: Snapshot, conn: Connection | None) -> Snapshot:
        """Create the model schema in scratch schemas inside a rolled-back transaction and read it back."""
        if conn is None:
            return raw
        tag = "dbwarden_scratch_" + secrets.token_hex(4)
        default = self.default_schema(conn)
        keyed = [*raw.enums, *raw.domains, *raw.sequences]
        schemas = sorted({t.schema for t in raw.tables.values() if t.schema} | {v.schema for v in raw.views.values() if v.schema}
                         | {split_key(k)[0] for k in keyed if split_key(k)[0]})
        mapping = {s: f"{tag}_{s}"[:63] for s in schemas}
        scratch = _move_schemas(raw, mapping)
        from ..differ import diff

        plan = diff(self.empty(), scratch, forward_references=False)
        with conn.rolled_back():
            conn.execute(f"CREATE SCHEMA {self.quote(tag)}")
            for s in mapping.values():
                conn.execute(f"CREATE SCHEMA {self.quote(s)}")
            conn.execute(f"SET LOCAL search_path TO {self.quote(tag)}, {self.quote(default)}")
            for stmt in self.render_plan(plan):
                try:
                    conn.execute(stmt.sql)
                except Exception as exc:
                    raise BackendError(f"the models cannot be created on the server: {self.failure(exc, stmt.sql)}") from None
            reader = CatalogReader(conn, [tag, *mapping.values()], tag, self.server_num(conn))
            result = reader.read(self.name, self.server_version(conn))
        back = {v: k for k, v in mapping.items()}
        result = _move_schemas(result, back, text_from=dict(back) | {tag: ""})
        return result.replace(server_version=None)

    # -- rendering ----------------------------------------------------------------------------------

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
            return f"{self._named(c.name)}PRIMARY KEY ({self._cols(c.columns)})"
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
        if o.get("partition_of"):
            sql = f"{head} PARTITION OF {self.qkey(o['partition_of'])} {o['partition_bound']}"
        else:
            defs = [self.column_sql(c, t) for c in t.columns]
            if t.primary_key:
                defs.append(self.constraint_sql(t.primary_key))
            defs += [self.constraint_sql(u) for u in t.uniques]
            defs += [self.constraint_sql(c) for c in t.checks if not c.options.get("not_valid")]
            defs += [self.constraint_sql(f) for f in t.foreign_keys if not f.options.get("not_valid")]
            sql = f"{head} (\n    " + ",\n    ".join(defs) + "\n)"
            if o.get("inherits"):
                sql += f" INHERITS ({', '.join(self.qkey(k) for k in o['inherits'])})"
            if o.get("partition_by"):
                sql += f" PARTITION BY {o['partition_by']}"
        if o.get("with"):
            sql += f" WITH ({_with(o['with'])})"
        if o.get("tablespace"):
            sql += f" TABLESPACE {self.quote(o['tablespace'])}"
        out = [sql]
        out += [self.add_constraint_sql(t, c) for c in (*t.checks, *t.foreign_keys) if c.options.get("not_valid")]
        for col in t.columns:
            if col.options.get("storage"):
                out.append(f"ALTER TABLE {self.q(t)} ALTER COLUMN {self.quote(col.name)} SET STORAGE {col.options['storage'].upper()}")
        out += [self.create_index_sql(t, i) for i in t.indexes]
        if t.comment is not None:
            out.append(f"COMMENT ON TABLE {self.q(t)} IS {self.literal(t.comment)}")
        out += [self.comment_column_sql(t, c) for c in t.columns if c.comment is not None]
        return out

    def comment_column_sql(self, t: Table, c: Column) -> str:
        value = "NULL" if c.comment is None else self.literal(c.comment)
        return f"COMMENT ON COLUMN {self.q(t)}.{self.quote(c.name)} IS {value}"

    def add_constraint_sql(self, t: Table, c: Any) -> str:
        not_valid = " NOT VALID" if getattr(c, "options", {}).get("not_valid") else ""
        return f"ALTER TABLE {self.q(t)} ADD {self.constraint_sql(c)}{not_valid}"

    def create_index_sql(self, t: Table, ix: Index) -> str:
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
        sql = f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {self.quote(ix.name or '')} ON {self.q(t)}"
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
        return self.schema_for(op.new.key) + self.create_table_sql(op.new)

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

    def render_alter_column(self, op: AlterColumn) -> list[str]:
        t, old, new = op.parent, op.old, op.new
        prefix = f"ALTER TABLE {self.q(t)} ALTER COLUMN {self.quote(new.name)}"
        changes = set(op.changes)
        if old.computed != new.computed or old.options.get("serial") != new.options.get("serial"):
            # a generated expression or serial-ness cannot be altered in place: drop and add the column
            return [f"ALTER TABLE {self.q(t)} DROP COLUMN {self.quote(old.name)}",
                    f"ALTER TABLE {self.q(t)} ADD COLUMN {self.column_sql(new)}"]
        out = []
        if old.identity is not None and new.identity != old.identity:
            out.append(f"{prefix} DROP IDENTITY")
        if {"type", "collation"} & changes:
            collate = f" COLLATE {self.quote(new.collation)}" if new.collation else ""
            # a user type (enum, domain) only casts from text; a default must be set again after the change
            via = "::text" if _user_type(old.type) or _user_type(new.type) else ""
            if old.default is not None and "type" in changes:
                out.append(f"{prefix} DROP DEFAULT")
                changes.add("default")
            out.append(f"{prefix} TYPE {new.type}{collate} USING {self.quote(new.name)}{via}::{new.type}")
            if new.options.get("serial") and old.type != new.type:  # the implied sequence follows the column
                target = self.literal(self.q(t)), self.literal(new.name)
                out.append(f"DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s AS {new.type}', "
                           f"pg_get_serial_sequence({target[0]}, {target[1]})); END $$")
        if "default" in changes and (new.default is not None or old.default is not None and "type" not in changes):
            out.append(f"{prefix} SET DEFAULT {new.default}" if new.default is not None else f"{prefix} DROP DEFAULT")
        if "nullable" in changes:
            out.append(f"{prefix} {'DROP' if new.nullable else 'SET'} NOT NULL")
        if new.identity is not None and new.identity != old.identity:
            out.append(f"{prefix} ADD {self.identity_sql(new)}")
        if old.options.get("storage") != new.options.get("storage"):
            out.append(f"{prefix} SET STORAGE {(new.options.get('storage') or _default_storage(new.type)).upper()}")
        if old.options.get("compression") != new.options.get("compression"):
            out.append(f"{prefix} SET COMPRESSION {new.options.get('compression') or 'default'}")
        if "comment" in changes:
            out.append(self.comment_column_sql(t, new))
        return out

    def render_create_index(self, op: CreateIndex) -> list[str]:
        return [self.create_index_sql(op.parent, op.index)]

    def render_drop_index(self, op: DropIndex) -> list[str]:
        return [f"DROP INDEX {self.qualified(op.parent.schema, op.index.name or '')}"]

    def render_add_constraint(self, op: AddConstraint) -> list[str]:
        return [self.add_constraint_sql(op.parent, op.constraint)]

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
        o, n = old.options, new.options
        fixed = ("partition_by", "partition_of", "partition_bound")
        for key in fixed:
            if o.get(key) != n.get(key):
                raise BackendError(f"table {new.key}: changing {key.replace('_', ' ')} needs a table rebuild; write a manual migration")
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
        out = self.schema_for(v.key) + [f"CREATE {kind} {self.q(v)}{with_}{space} AS\n{v.definition}"]
        if v.comment is not None:
            out.append(f"COMMENT ON {kind} {self.q(v)} IS {self.literal(v.comment)}")
        return out

    def render_drop_view(self, op: Any) -> list[str]:
        return [f"DROP {'MATERIALIZED VIEW' if op.view.materialized else 'VIEW'} {self.q(op.view)}"]

    def schema_for(self, key: str) -> list[str]:
        """``CREATE SCHEMA IF NOT EXISTS`` for an object key in a schema other than the default."""
        schema, _ = split_key(key)
        return [f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}"] if schema else []

    def enum_sql(self, name: str, values: Sequence[str]) -> str:
        return f"CREATE TYPE {self.qkey(name)} AS ENUM ({', '.join(self.literal(v) for v in values)})"

    def render_create_enum(self, op: Any) -> list[str]:
        return self.schema_for(op.name) + [self.enum_sql(op.name, op.values)]

    def render_drop_enum(self, op: Any) -> list[str]:
        return [f"DROP TYPE {self.qkey(op.name)}"]

    def render_add_enum_value(self, op: Any) -> list[Statement]:
        # committed on its own: a value added in a transaction cannot be used before that transaction ends
        where = f" BEFORE {self.literal(op.before)}" if op.before else ""
        return [Statement(f"ALTER TYPE {self.qkey(op.name)} ADD VALUE {self.literal(op.value)}{where}", transactional=False)]

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
        return self.schema_for(op.name) + [f"CREATE SEQUENCE {self.qkey(op.name)} AS {o.get('type', 'bigint')}{opts}{cycle}"]

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
        return self.schema_for(op.name) + [sql]

    def render_alter_domain(self, op: Any) -> list[str]:
        old, new, name = op.old, op.new, self.qkey(op.name)
        if old.get("type") != new.get("type") or old.get("collation") != new.get("collation"):
            raise BackendError(f"domain {op.name}: changing its type or collation needs a manual migration")
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
                    parts.append(f"{word} {dict(type='bigint', increment=1, cache=1).get(key, 1)}")
        if bool(old.get("cycle")) != bool(new.get("cycle")):
            parts.append("CYCLE" if new.get("cycle") else "NO CYCLE")
        return [f"ALTER SEQUENCE {self.qkey(op.name)} {' '.join(parts)}"] if parts else []

    def render_drop_domain(self, op: Any) -> list[str]:
        return [f"DROP DOMAIN {self.qkey(op.name)}"]

    # -- code generation --------------------------------------------------------------------------

    type_candidates_table: ClassVar[Mapping[str, tuple[str, ...]]] = PG_TYPE_CANDIDATES
    python_types: ClassVar[Mapping[str, str]] = PG_PYTHON_TYPES

    def type_candidates(self, spelled: str) -> list[str]:
        m = _PG_TYPE.match(spelled)
        if not m:
            return []
        base = m.group("base") + (m.group("tail") or "")
        params = [p.strip() for p in (m.group("params") or "").split(",") if p.strip()]
        dims = len(m.group("array") or "") // 2
        out = []
        for code in self.type_candidates_table.get(base, ()):
            if code.count("{") == len(params):
                text = code.format(*params)
                out.append(f"postgresql.ARRAY({text}, dimensions={dims})" if dims > 1 else f"postgresql.ARRAY({text})" if dims else text)
        return out

    def codegen_namespace(self) -> dict[str, Any]:
        from sqlalchemy.dialects import postgresql

        return {"postgresql": postgresql}

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        return [("sqlalchemy.dialects", "postgresql")] if "postgresql." in code else []

    def python_type(self, spelled: str) -> str:
        if spelled.endswith("[]"):
            return "list"
        m = _PG_TYPE.match(spelled)
        return self.python_types.get(m.group("base") + (m.group("tail") or ""), "Any") if m else "Any"

    def autoincrement_default(self, table: Table, column: Column) -> bool:
        return bool(column.options.get("serial")) or column.type not in SERIALS or column.identity is not None

    def column_info(self, column: Column) -> dict[str, Any]:
        return {k: column.options[k] for k in ("storage", "compression") if k in column.options}

    def table_info(self, table: Table) -> dict[str, Any]:
        return {k: table.options[k] for k in ("partition_of", "partition_bound") if k in table.options}

    def table_kwargs(self, table: Table) -> dict[str, str]:
        o = table.options
        kwargs: dict[str, str] = {}
        if o.get("with"):
            kwargs["postgresql_with"] = repr(dict(o["with"]))
        if o.get("tablespace"):
            kwargs["postgresql_tablespace"] = repr(o["tablespace"])
        if o.get("partition_by"):
            kwargs["postgresql_partition_by"] = repr(o["partition_by"])
        if o.get("inherits"):
            kwargs["postgresql_inherits"] = repr(tuple(o["inherits"]) if len(o["inherits"]) > 1 else o["inherits"][0])
        if o.get("unlogged"):
            kwargs["prefixes"] = "['UNLOGGED']"
        return kwargs

    def constraint_kwargs(self, constraint: Any) -> dict[str, str]:
        o = constraint.options
        kwargs: dict[str, str] = {}
        if o.get("not_valid"):
            kwargs["postgresql_not_valid"] = "True"
        if o.get("no_inherit"):
            kwargs["info"] = repr({"dbwarden": {"no_inherit": True}})
        if isinstance(constraint, Unique):
            if o.get("nulls_not_distinct"):
                kwargs["postgresql_nulls_not_distinct"] = "True"
            if o.get("include"):
                kwargs["postgresql_include"] = repr(list(o["include"]))
            if o.get("deferrable"):
                kwargs["deferrable"] = "True"
            if o.get("initially"):
                kwargs["initially"] = repr(o["initially"])
        return kwargs

    def check_code(self, check: Any) -> str | None:
        """Exclusion constraints as ``postgresql.ExcludeConstraint`` with the server's elements."""
        if check.options.get("type") != "exclude":
            return None
        m = re.match(r"EXCLUDE USING (\w+) \((.*?)\)( WHERE \((.*)\))?$", check.expression, re.S)
        if m is None:
            raise BackendError(f"exclusion constraint {check.name}: cannot read {check.expression!r}")
        elements = []
        for part in _split_commas(m.group(2)):
            expr, _, operator = part.rpartition(" WITH ")
            elements.append(f"({sql_text(expr.strip())}, {operator.strip()!r})")
        args = elements + [f"using={m.group(1)!r}"]
        if check.name:
            args.append(f"name={check.name!r}")
        if m.group(4):
            args.append(f"where={sql_text(m.group(4))}")
        return f"postgresql.ExcludeConstraint({', '.join(args)})"

    def index_kwargs(self, index: Index) -> dict[str, str]:
        o = index.options
        kwargs: dict[str, str] = {}
        if o.get("using"):
            kwargs["postgresql_using"] = repr(o["using"])
        if o.get("include"):
            kwargs["postgresql_include"] = repr(list(o["include"]))
        if o.get("with"):
            kwargs["postgresql_with"] = repr(dict(o["with"]))
        if o.get("tablespace"):
            kwargs["postgresql_tablespace"] = repr(o["tablespace"])
        if o.get("nulls_not_distinct"):
            kwargs["postgresql_nulls_not_distinct"] = "True"
        ops = {e.column or e.expression: e.opclass for e in index.elements if e.opclass}
        if ops:
            kwargs["postgresql_ops"] = repr(ops)
        if index.where:
            kwargs["postgresql_where"] = sql_text(index.where)
        return kwargs

    # -- lock ---------------------------------------------------------------------------------------

    def lock(self, conn: Connection) -> Lock:
        return AdvisoryLock(conn)

    # -- verify -------------------------------------------------------------------------------------

    @contextmanager
    def scratch_copy(self, url: str) -> Iterator[Connection]:
        """The same database inside a transaction that is rolled back: DDL is transactional here."""
        conn = self.connect(url)
        try:
            with conn.rolled_back():
                yield conn
        finally:
            conn.close()


class AdvisoryLock(Lock):
    """``pg_try_advisory_lock`` on the migration connection itself: released by the server when it ends."""

    def _key(self) -> str:
        return f"{ADVISORY_KEY}, (SELECT oid::int FROM pg_database WHERE datname = current_database())"

    def try_acquire(self) -> bool:
        got = bool(self.conn.query(f"SELECT pg_try_advisory_lock({self._key()})")[0][0])
        if got:
            self.conn.query("SELECT set_config('application_name', :owner, false)", {"owner": f"dbwarden {self.owner}"[:63]})
        return got

    def release(self) -> None:
        self.conn.query(f"SELECT pg_advisory_unlock({self._key()})")
        self.conn.query("SELECT set_config('application_name', '', false)")
        self.held = False

    def _holder(self) -> list[tuple[Any, ...]]:
        return self.conn.query(
            "SELECT l.pid, a.application_name, a.backend_start::text FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.classid = {ADVISORY_KEY} AND l.granted "
            "AND l.objid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )

    def status(self) -> LockStatus:
        rows = self._holder()
        if not rows:
            return LockStatus(False, kind="advisory")
        pid, app, started = rows[0]
        owner = (app or "").removeprefix("dbwarden ") or f"backend pid {pid}"
        return LockStatus(True, f"{owner} (pid {pid})", kind="advisory")

    def force_release(self) -> LockStatus:
        before = self.status()
        for pid, *_ in self._holder():
            try:
                self.conn.query("SELECT pg_terminate_backend(:pid)", {"pid": pid})
            except Exception as exc:  # permission: say so instead of pretending
                raise LockError(f"cannot end the session holding the migration lock (pid {pid}): {exc}") from None
        return before


def _user_type(type_: str) -> bool:
    """Not one of the server's built-in type names: an enum or domain (arrays of them too)."""
    base = re.sub(r"\(.*\)|\[\]", "", type_).strip()
    return base not in PG_TYPE_CANDIDATES and base not in TYPE_ALIASES.values() and not base.startswith(("timestamp", "time"))


def _split_commas(text: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in parts + [text[start:]] if p.strip()]


def _with(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items()))


def _deferrable(deferrable: Any, initially: Any) -> str:
    if not deferrable:
        return ""
    return " DEFERRABLE" + (f" INITIALLY {initially}" if initially else "")


def _default_storage(type_: str) -> str:
    return "extended" if type_ in ("text", "bytea", "jsonb", "json") or type_.startswith(("character", "numeric")) else "plain"


def _move_schemas(snap: Snapshot, mapping: Mapping[str, str], text_from: Mapping[str, str] | None = None) -> Snapshot:
    """The snapshot with schema names renamed (keys, tables, references; and, textually, expressions)."""
    if not mapping and not text_from:
        return snap
    import json

    doc = snap.to_dict()
    doc.pop("checksum", None)
    text = json.dumps(doc)
    replacements = dict(text_from or {})
    for old, new in mapping.items():
        replacements.setdefault(old, new)
    for old, new in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        if text_from is None:  # forward: only qualified references, never a bare word
            text = re.sub(rf'(?<![\w$])("?){re.escape(old)}\1\.', lambda m: f"{m.group(1)}{new}{m.group(1)}.", text)
            text = text.replace(f'"schema": "{old}"', f'"schema": "{new}"')
        else:
            text = text.replace(f"{old}.", f"{new}." if new else "").replace(f'"schema": "{old}"', f'"schema": "{new}"')
    return Snapshot.from_dict(json.loads(text))
