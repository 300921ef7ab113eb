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

from ...errors import BackendError, LockError, MigrationError, SnapshotError
from ...migrations.lock import Lock, LockStatus
from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterSequence,
    CreateIndex,
    CreateSequence,
    DropColumn,
    DropIndex,
    DropSequence,
    Operation,
    Plan,
)
from ...schema import (Check, Column, ForeignKey, Index, PrimaryKey, SchemaObject, Snapshot, Table, Unique, schemas_of,
                      split_key)
from ...models.codegen import sql_text
from ..base import Backend, Connection
from .catalog import SERIALS, TYPE_LIMITS, CatalogReader, implicit_name, is_serial, sequence_options
from .render import PostgreSQLRendering
from ..base.sqltext import split_top_level

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
    "json": "dict[str, Any]", "jsonb": "dict[str, Any]", "macaddr": "str", "macaddr8": "str", "citext": "str",
    "xml": "str", "tsvector": "str", "tsquery": "str", "bit": "str", "bit varying": "str", "oid": "int",
    "regclass": "str", "hstore": "dict[str, str | None]",
}
_SA_TYPE = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9_ ]*?)\s*(?:\((?P<params>[^)]*)\))?\s*(?P<zone>WITH(?:OUT)? TIME ZONE)?(?P<array>(?:\[\])*)$", re.I)
_PG_TYPE = re.compile(r"^(?P<base>[a-z][a-z0-9_ ]*?)(?:\((?P<params>[0-9, ]+)\))?(?P<tail>( with(out)? time zone)?)(?P<array>(\[\])*)$")

ADVISORY_KEY = 0x64627764  # "dbwd": the advisory lock's class; its object is the database's OID


class PostgreSQLBackend(PostgreSQLRendering, Backend):
    name: ClassVar[str] = "postgresql"
    supports_concurrent_indexes: ClassVar[bool] = True
    supports_seeds: ClassVar[bool] = True
    timeout_variables: ClassVar[Mapping[str, tuple[tuple[str, str], ...]]] = {
        "lock_timeout": (("lock_timeout", "ms"),), "statement_timeout": (("statement_timeout", "ms"),)}
    dialect_name: ClassVar[str] = "postgresql"
    max_name_bytes: ClassVar[int | None] = 63  # NAMEDATALEN - 1: longer names are cut with a mere NOTICE
    transactional_ddl: ClassVar[bool] = True
    supports_schemas: ClassVar[bool] = True
    supports_comments: ClassVar[bool] = True
    normalizes_on_server: ClassVar[bool] = True
    views_pin_columns: ClassVar[bool] = True
    default_schema_name: ClassVar[str] = "public"

    # -- connecting ---------------------------------------------------------------------------------

    def default_schema(self, conn: Connection | None) -> str:
        if conn is None:
            return self.default_schema_name
        return str(conn.query("SELECT current_schema()")[0][0])

    def regclass(self, schema: str | None, name: str) -> str:
        """A relation's name as ``'…'::regclass`` prints it: qualified outside the default schema, quoted if needed."""
        prep = self._preparer()
        return f"{prep.quote(schema)}.{prep.quote(name)}" if schema else prep.quote(name)

    def user_schemas(self, conn: Connection) -> list[str]:
        rows = conn.query("SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
                          "AND nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY nspname")
        return [r[0] for r in rows]

    def server_num(self, conn: Connection) -> int:
        return int(conn.query("SHOW server_version_num")[0][0])

    def server_version(self, conn: Connection) -> str:
        return _version_text(self.server_num(conn))

    def connect_read_only(self, url: str, masked_url: str | None = None) -> Connection:
        from ...config import mask_url
        from .connection import PsycopgConnection

        return PsycopgConnection(self, url, masked_url or mask_url(url))  # type: ignore[return-value]

    # -- introspection ------------------------------------------------------------------------------

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        default = self.default_schema(conn)
        number = self.server_num(conn)
        snap = CatalogReader(conn, list(schemas or [default]), default, number,
                             self.manage_grants).read(self.name, _version_text(number))
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
        options: dict[str, Any] = {k: str(info[k]).lower() for k in ("storage", "compression") if k in info}
        if info.get("inherited"):
            options["inherited"] = True
        table = column.table
        if (table is not None and table._autoincrement_column is column and column.identity is None
                and column.server_default is None and column.autoincrement is not False
                and (column.default is None or getattr(column.default, "optional", False))):
            options["serial"] = True  # what SQLAlchemy's CREATE TABLE spells SERIAL/BIGSERIAL
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
        return {**options, **_comment(index)}

    def index_opclass(self, index: sa.Index, name: str | None) -> str | None:
        ops = index.dialect_options["postgresql"].get("ops") or {}
        return ops.get(name) if name else None

    def unique_options(self, constraint: sa.UniqueConstraint) -> dict[str, Any]:
        pg = constraint.dialect_options["postgresql"]
        options: dict[str, Any] = _deferrable(constraint)
        if pg.get("nulls_not_distinct"):
            options["nulls_not_distinct"] = True
        if pg.get("include"):
            options["include"] = [getattr(c, "name", c) for c in pg["include"]]
        return {**options, **_comment(constraint)}

    def primary_key_options(self, constraint: sa.PrimaryKeyConstraint) -> dict[str, Any]:
        return {**_deferrable(constraint), **_comment(constraint)}

    def check_options(self, constraint: sa.CheckConstraint) -> dict[str, Any]:
        info = dict(constraint.info.get("dbwarden") or {})
        options = {k: True for k in ("no_inherit",) if info.get(k)}
        if constraint.dialect_options["postgresql"].get("not_valid"):
            options["not_valid"] = True
        return {**options, **_comment(constraint)}

    def foreign_key_options(self, constraint: sa.ForeignKeyConstraint) -> dict[str, Any]:
        not_valid = {"not_valid": True} if constraint.dialect_options["postgresql"].get("not_valid") else {}
        return {**not_valid, **_comment(constraint)}

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

    def model_extras(self, tables: Sequence[sa.Table], default_schema: str | None,
                     metadata: Sequence[sa.MetaData] = ()) -> dict[str, Any]:
        """Enums, domains and sequences the tables use, and those declared with ``metadata=`` that none uses."""
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import DOMAIN

        from ...models.extract import declared_types

        enums: dict[str, tuple[str, ...]] = {}
        domains: dict[str, dict[str, Any]] = {}
        sequences: dict[str, dict[str, Any]] = {}
        for md in metadata:
            for seq in md._sequences.values():
                sequences[self._key(seq, default_schema)] = self._seq_options(seq)
        types = declared_types(metadata)
        for table in tables:
            table_key = self._key(table, default_schema)
            for col in table.columns:
                types.append(getattr(col.type, "item_type", col.type))  # an array of an enum uses the enum
                if isinstance(col.default, sa.Sequence):
                    seq_key = self._key(col.default, default_schema)
                    sequences[seq_key] = self._seq_options(col.default)
                    if col.server_default is not None and _draws_from(str(getattr(col.server_default, "arg", "")),
                                                                      col.default.name):
                        # a sequence given to the column whose server default draws from it: the column owns it,
                        # as serial's does (dropped with the column), but with its own name and options
                        sequences[seq_key]["owned_by"] = [table_key, col.name]
        for t in types:
            if isinstance(t, sa.Enum) and t.native_enum and t.name:
                enums[self._key(t, default_schema)] = tuple(t.enums)
            if isinstance(t, DOMAIN):
                doc: dict[str, Any] = {"type": t.data_type.compile(dialect=self.dialect()), "nullable": not t.not_null}
                if t.default is not None:
                    doc["default"] = str(t.default)
                if t.check is not None:
                    doc["checks"] = [f"{t.constraint_name or t.name + '_check'} CHECK ({t.check})"]
                domains[self._key(t, default_schema)] = doc
        return {"enums": enums, "domains": domains, "sequences": sequences}

    @staticmethod
    def _key(obj: Any, default_schema: str | None) -> str:
        """The snapshot key of a model's table, sequence or named type: qualified outside the default schema."""
        return f"{obj.schema}.{obj.name}" if obj.schema and obj.schema != default_schema else obj.name

    def _seq_options(self, seq: sa.Sequence) -> dict[str, Any]:
        """The sequence's parameters as the server reports them: what it leaves at the server's default is left out."""
        type_name = seq.data_type.compile(dialect=self.dialect()).lower() if seq.data_type is not None else "bigint"
        type_name = self.canonical_type(type_name)
        increment = seq.increment if seq.increment is not None else 1
        limit = TYPE_LIMITS.get(type_name, TYPE_LIMITS["bigint"])
        low, high = (1, limit) if increment > 0 else (-limit - 1, -1)
        minvalue = seq.minvalue if seq.minvalue is not None else low
        maxvalue = seq.maxvalue if seq.maxvalue is not None else high
        start = seq.start if seq.start is not None else (minvalue if increment > 0 else maxvalue)
        return {"type": type_name, **sequence_options(start, increment, minvalue, maxvalue, seq.cache or 1,
                                                      bool(seq.cycle), type_name)}

    def extract_models(self, tables: Sequence[sa.Table], conn: Connection | None = None,
                       metadata: Sequence[sa.MetaData] = ()) -> Snapshot:
        """The models as SQLAlchemy spells them, with a sequence that is exactly what ``serial`` makes folded into
        its column, as the server's catalog reads it back (so the offline path agrees with the online one)."""
        raw = super().extract_models(tables, conn, metadata)
        changed: dict[str, Table] = {}
        sequences = dict(raw.sequences)
        for seq_key, opts in raw.sequences.items():
            owner = opts.get("owned_by")
            table = changed.get(owner[0], raw.tables.get(owner[0])) if owner else None
            col = table.column(owner[1]) if table is not None else None
            if table is None or col is None:
                continue
            seq_schema, seq_name = split_key(seq_key)
            plain = {k: v for k, v in opts.items() if k not in ("type", "owned_by")}
            if (col.default == f"nextval({self.literal(self.regclass(seq_schema, seq_name))}::regclass)"
                    and is_serial(table.name, col.name, col.type, seq_name, opts["type"], plain, seq_schema == table.schema)):
                columns = tuple(replace(c, default=None, options={**c.options, "serial": True}) if c is col else c
                                for c in table.columns)
                changed[table.key] = table.replace(columns=columns)
                del sequences[seq_key]
        return raw.replace(tables={**raw.tables, **changed}, sequences=sequences) if changed else raw

    # -- planning ---------------------------------------------------------------------------------

    type_families: ClassVar[Mapping[str, tuple[str, int | None]]] = {
        "character varying": ("string", None), "text": ("string", None), "character": ("char", 1),
        "bytea": ("binary", None), "numeric": ("decimal", None), "smallint": ("integer", 2), "integer": ("integer", 4),
        "bigint": ("integer", 8), "bit varying": ("bits", None),
    }

    def assessor(self, undoing: bool = False) -> Any:
        from .assess import PostgreSQLAssessor

        return PostgreSQLAssessor(self, undoing)

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """Leave to the parent what PostgreSQL carries to its partitions and inheritance children: a column added
        to or dropped from the parent, and its type, default and NOT NULL changed there, reach the children by
        themselves (the same step on a child is refused: ``cannot add column to a partition``). Steps on tables
        that hold rows already take the weaker locks (:meth:`_online`)."""
        plan = self._online(self._serials_kept(plan), old)
        parent_steps: dict[tuple[str, str, str], Operation] = {}
        for op in plan:
            if isinstance(op, (AddColumn, DropColumn)):
                parent_steps[(op.kind, op.table, op.column.name)] = op
            elif isinstance(op, AlterColumn):
                parent_steps[(op.kind, op.table, op.new.name)] = op
        if not parent_steps:
            return plan
        out: list[Operation] = []
        for op in plan:
            parents = [*_parents(new.tables.get(op.table)), *_parents(old.tables.get(op.table))]
            if isinstance(op, (AddColumn, DropColumn)) and parents:
                inherited_only = isinstance(op, AddColumn) or bool(op.column.options.get("inherited")) \
                    or bool(op.parent.options.get("partition_of"))
                if inherited_only and any((op.kind, p, op.column.name) in parent_steps for p in parents):
                    continue
            elif isinstance(op, AlterColumn) and parents:
                above = [parent_steps.get((op.kind, p, op.new.name)) for p in parents]
                carried = {f for step in above if isinstance(step, AlterColumn) for f in step.changes
                           if f in ("type", "default", "nullable") and getattr(step.new, f) == getattr(op.new, f)}
                if carried:
                    if not set(op.changes) - carried:
                        continue
                    op = AlterColumn(op.parent, replace(op.old, **{f: getattr(op.new, f) for f in carried}), op.new)
            out.append(op)
        return plan.replace(operations=tuple(out))

    def failure(self, exc: BaseException, sql: str) -> MigrationError:
        error = super().failure(exc, sql)
        if re.match(r"\s*CREATE (UNIQUE )?INDEX CONCURRENTLY", sql, re.I):
            return MigrationError(f"{error}; a concurrent build that fails leaves its index behind, INVALID: drop it "
                                  "(DROP INDEX CONCURRENTLY) before running migrate again")
        return error

    def _online(self, plan: Plan, old: Snapshot) -> Plan:
        """On a table that exists before the migration (not one it creates, and not a partitioned one, which allows
        neither), a CHECK or foreign key is added ``NOT VALID`` and validated apart (a SET NOT NULL is validated apart
        through a CHECK of its own, then SET NOT NULL uses it instead of a scan), so the rows are scanned under
        a lock that lets reads and writes go on; with ``concurrent_indexes``, indexes are built and dropped
        ``CONCURRENTLY``, and so is the index of a new unique constraint, attached to it afterwards. Inside
        CREATE TABLE nothing changes: a new table has no rows."""
        def existing(op: Any) -> bool:
            return op.table in old.tables and not op.parent.options.get("partition_by")

        out: list[Operation] = []
        for op in plan:
            unique = isinstance(op, AddConstraint) and isinstance(op.constraint, Unique) and bool(op.constraint.name)
            if (isinstance(op, (CreateIndex, DropIndex)) or unique) and self.concurrent_indexes and existing(op):
                op = replace(op, concurrently=True)
            elif isinstance(op, AddConstraint) and existing(op) and _validates_apart(op.constraint):
                op = replace(op, validate_apart=True)
            elif isinstance(op, AlterColumn) and op.changes == ("nullable",) and not op.new.nullable and existing(op):
                op = replace(op, validate_apart=True)
            out.append(op)
        return plan.replace(operations=tuple(out))

    def _serials_kept(self, plan: Plan) -> Plan:
        """A serial column that becomes a column with a sequence of its own under the serial's name (or the other
        way round) keeps the very sequence it has: the sequence is altered, never dropped and made again."""
        ops = list(plan)
        replaced: dict[int, Operation | None] = {}  # by id(): operation → its replacement (None: left out)
        for op in ops:
            if not isinstance(op, AlterColumn) or bool(op.old.options.get("serial")) == bool(op.new.options.get("serial")):
                continue
            t = op.parent
            name = implicit_name(t.name, op.new.name, "seq")
            key = f"{t.schema}.{name}" if t.schema else name
            draws = f"nextval({self.literal(self.regclass(t.schema, name))}::regclass)"
            gaining = bool(op.old.options.get("serial"))  # the sequence becomes the column's own
            seq_op = next((o for o in ops if isinstance(o, CreateSequence if gaining else DropSequence) and o.name == key), None)
            if seq_op is None or (op.new.default if gaining else op.old.default) != draws:
                continue
            implied = {"type": (op.old if gaining else op.new).type}
            owner = [t.key, op.new.name]
            serial_side = replace(op.old if gaining else op.new, default=draws,
                                  options={k: v for k, v in (op.old if gaining else op.new).options.items() if k != "serial"})
            column = AlterColumn(t, serial_side, op.new) if gaining else AlterColumn(t, op.old, serial_side)
            sequence = (AlterSequence(key, implied, seq_op.options) if gaining else AlterSequence(key, seq_op.options, implied))
            replaced[id(seq_op)] = sequence
            replaced[id(op)] = column if column.changes else None
            ownership = {"owned_by": owner}  # it has it already
            replaced.update((id(o), None) for o in ops if isinstance(o, AlterSequence) and o.name == key
                            and (o.old, o.new) in (({}, ownership), (ownership, {})))
        kept = (replaced.get(id(o), o) for o in ops)
        return plan.replace(operations=tuple(o for o in kept if o is not None))

    # -- normalization through the server ---------------------------------------------------------

    def normalize_models(self, raw: Snapshot, conn: Connection | None) -> Snapshot:
        """Create the model schema in scratch schemas inside a rolled-back transaction and read it back."""
        if conn is None:
            return raw
        tag = "dbwarden_scratch_" + secrets.token_hex(4)
        default = self.default_schema(conn)
        mapping = {s: f"{tag}_{s}"[:63] for s in sorted(schemas_of(raw))}
        # sequences are canonical already (extract_models); their owners may be tables normalized in another chunk
        unowned = {k: {o: v for o, v in opts.items() if o != "owned_by"} for k, opts in raw.sequences.items()}
        grant = next((o for o in raw.objects.values() if o.kind == "grant"), None)
        if grant is not None and not self.manage_grants:
            raise SnapshotError(f"the models declare {grant.key}: grants are managed with "
                                "database_config(manage_grants=True) only")
        extensions, installed = self._extensions(conn, raw)
        objects = [replace(o, name=mapping[o.name]) if o.kind == "schema" else o for o in raw.objects.values()
                   if o.kind != "extension" or o.name not in installed]  # an extension is database-wide
        scratch = _move_schemas(raw.replace(sequences=unowned, objects={o.key: o for o in objects}), mapping,
                                qualified=(default, tag))
        from ...differ import diff

        plan = diff(self.empty(), scratch, forward_references=False)
        statements = [f"CREATE SCHEMA {self.quote(tag)}"]  # the plan creates the others
        statements.append(f"SET LOCAL search_path TO {self.quote(tag)}, {self.quote(default)}")
        statements.append("SET LOCAL check_function_bodies = false")
        statements += [stmt.sql for stmt in self.render_plan(plan)]
        with conn.rolled_back():
            self._execute_batch(conn, statements)
            number = self.server_num(conn)
            result = CatalogReader(conn, [tag, *mapping.values()], tag, number,
                                   self.manage_grants).read(self.name, _version_text(number))
        back = {v: k for k, v in mapping.items()}
        # what the server had to qualify in the scratch schema (a name a CTE shadows) it qualifies in the real one
        result = _move_schemas(result, back, text_from=dict(back) | {tag: default})
        # sequences are canonical already, and schemas keep their names (the scratch ones are renamed back above);
        # extensions are the models' own, with the version the server has
        objects = {**{k: o for k, o in result.objects.items() if o.kind not in ("schema", "extension")},
                   **{k: o for k, o in raw.objects.items() if o.kind == "schema"},
                   **{o.key: o for o in extensions}}
        return result.replace(sequences=raw.sequences, objects=objects, server_version=None, unmanaged={})

    def _extensions(self, conn: Connection, raw: Snapshot) -> tuple[list[SchemaObject], set[str]]:
        """The models' extensions, each with its version (declared, else installed, else the server's default),
        and the names of those already installed."""
        wanted = [o for o in raw.objects.values() if o.kind == "extension"]
        if not wanted:
            return [], set()
        rows = conn.query("SELECT name, default_version, installed_version FROM pg_available_extensions "
                          "WHERE name = ANY(:names)", {"names": [o.name for o in wanted]})
        found = {name: installed or default for name, default, installed in rows}
        missing = [o.name for o in wanted if o.name not in found]
        if missing:
            raise SnapshotError(f"extension {missing[0]} is not available on this server (pg_available_extensions)")
        out = [o if o.options.get("version") else replace(o, options={**o.options, "version": found[o.name]})
               for o in wanted]
        return out, {name for name, _, installed in rows if installed}

    def _execute_batch(self, conn: Connection, statements: list[str]) -> None:
        """All statements in one round trip (the simple query protocol takes many); when one fails, run them
        again one by one from a savepoint to name the statement at fault."""
        conn.execute("SAVEPOINT dbwarden_batch")
        try:
            conn.execute(";\n".join(statements))
            return
        except Exception:
            conn.execute("ROLLBACK TO SAVEPOINT dbwarden_batch")
        for sql in statements:
            try:
                conn.execute(sql)
            except Exception as exc:
                raise BackendError(f"the models cannot be created on the server: {self.failure(exc, sql)}") from None

    def is_user_type(self, type_: str) -> bool:
        return _user_type(type_)

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
        m = _PG_TYPE.match(spelled)
        if m is None:
            return "Any"
        dims = len(m.group("array") or "") // 2
        return "list[" * dims + self.python_types.get(m.group("base") + (m.group("tail") or ""), "Any") + "]" * dims

    @staticmethod
    def _serial_key(table: Table) -> str | None:
        """The key column SQLAlchemy makes SERIAL when told ``autoincrement=True`` (one per table at most)."""
        pk = table.primary_key.columns if table.primary_key else ()
        return next((c.name for c in table.columns if c.name in pk and c.options.get("serial")), None)

    def autoincrement_kwarg(self, table: Table, column: Column) -> str | None:
        pk = table.primary_key.columns if table.primary_key else ()
        # SQLAlchemy's "auto": a lone integer key column without default, identity or foreign key is SERIAL
        picked = (pk == (column.name,) and column.type in SERIALS and column.default is None and column.identity is None
                  and not any(column.name in fk.columns for fk in table.foreign_keys))
        serial = self._serial_key(table) == column.name
        return None if picked == serial else str(serial)

    def implied_sequence(self, table: Table, column: Column) -> tuple[str, dict[str, Any], str] | None:
        if not column.options.get("serial") or self._serial_key(table) == column.name:
            return None
        name = implicit_name(table.name, column.name, "seq")
        key = f"{table.schema}.{name}" if table.schema else name
        return key, {"type": column.type}, f"nextval({self.literal(self.regclass(table.schema, name))}::regclass)"

    def column_info(self, column: Column) -> dict[str, Any]:
        return {k: column.options[k] for k in ("storage", "compression", "inherited") if k in column.options}

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
        info = {k: o[k] for k in ("no_inherit", "comment") if k in o}
        if info:
            kwargs["info"] = repr({"dbwarden": info})
        if isinstance(constraint, Unique):
            if o.get("nulls_not_distinct"):
                kwargs["postgresql_nulls_not_distinct"] = "True"
            if o.get("include"):
                kwargs["postgresql_include"] = repr(list(o["include"]))
        if isinstance(constraint, (Unique, PrimaryKey)):
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
        for part in split_top_level(m.group(2)):
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
        if "comment" in o:
            kwargs["info"] = repr({"dbwarden": {"comment": o["comment"]}})
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


    @contextmanager
    def scratch_empty(self, url: str) -> Iterator[Connection]:
        """A new database on the same server (the user needs CREATEDB), dropped afterwards."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import DBAPIError

        name = f"dbwarden_scratch_{secrets.token_hex(4)}"
        admin = self.connect(url)
        try:
            try:
                admin.execute_autocommit(f"CREATE DATABASE {self.quote(name)}")
            except DBAPIError as exc:
                raise BackendError(f"cannot create a scratch database on the server (the user needs CREATEDB): "
                                   f"{self.failure(exc, 'CREATE DATABASE')}") from None
            try:
                conn = self.connect(make_url(url).set(database=name).render_as_string(hide_password=False),
                                    "a scratch database")
                try:
                    yield conn
                finally:
                    conn.close()
            finally:
                admin.execute_autocommit(f"DROP DATABASE IF EXISTS {self.quote(name)}")
        finally:
            admin.close()


class AdvisoryLock(Lock):
    """``pg_try_advisory_lock`` on the migration connection itself: released by the server when it ends."""

    session = True

    def _key(self) -> str:
        return f"{ADVISORY_KEY}, (SELECT oid::int FROM pg_database WHERE datname = current_database())"

    def try_acquire(self) -> bool:
        got = bool(self.conn.query(f"SELECT pg_try_advisory_lock({self._key()})")[0][0])
        if got:
            self.conn.query("SELECT set_config('application_name', :owner, false)", {"owner": f"dbwarden {self.owner}"[:63]})
            # if this runner dies mid-statement, the server ends the statement (and the lock) within a second
            # instead of running it to its end for nobody (PostgreSQL 14+)
            self.conn.query("SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 "
                            "THEN set_config('client_connection_check_interval', '1000', false) END")
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


def _validates_apart(c: Any) -> bool:
    """A named CHECK (not an exclusion constraint) or foreign key, not declared NOT VALID: it can be added without
    checking the rows and validated afterwards."""
    if not c.name or c.options.get("not_valid"):
        return False
    return isinstance(c, ForeignKey) and bool(c.columns) or isinstance(c, Check) and not c.options.get("type")


def _parents(table: Table | None) -> list[str]:
    """The tables a table inherits from or is a partition of."""
    if table is None:
        return []
    return [*(table.options.get("inherits") or ()), *([table.options["partition_of"]] if table.options.get("partition_of") else [])]


def _deferrable(constraint: Any) -> dict[str, Any]:
    """``deferrable``/``initially`` of a model's unique or primary key, as the catalog reports them."""
    options: dict[str, Any] = {}
    if constraint.deferrable:
        options["deferrable"] = True
    if (constraint.initially or "").upper() == "DEFERRED":
        options["initially"] = "DEFERRED"
    return options


def _comment(item: Any) -> dict[str, Any]:
    """``info={"dbwarden": {"comment": …}}`` of an index or constraint (SQLAlchemy has no comment for them)."""
    info = getattr(item, "info", None) or {}
    comment = (info.get("dbwarden") or {}).get("comment")
    return {"comment": comment} if comment is not None else {}


_NEXTVAL = re.compile(r"""nextval\(\s*'(?:(?:"[^"]*"|[^'".]*)\.)?("(?:[^"]|"")*"|[^'".]*)'(?:::regclass)?\s*\)""", re.I)


def _draws_from(default: str, sequence: str) -> bool:
    """Whether a server default is ``nextval('<sequence>')`` (schema-qualified, quoted, with or without ::regclass)."""
    m = _NEXTVAL.fullmatch(default.strip())
    if m is None:
        return False
    name = m.group(1)
    return (name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()) == sequence


def _user_type(type_: str) -> bool:
    """Not one of the server's built-in type names: an enum or domain (arrays of them too)."""
    base = re.sub(r"\(.*\)|\[\]", "", type_).strip()
    return base not in PG_TYPE_CANDIDATES and base not in TYPE_ALIASES.values() and not base.startswith(("timestamp", "time"))


def _move_schemas(snap: Snapshot, mapping: Mapping[str, str], text_from: Mapping[str, str] | None = None,
                  qualified: tuple[str, str] | None = None) -> Snapshot:
    """The snapshot with schema names renamed (keys, tables, references; and, textually, expressions).
    ``qualified`` (default schema, scratch schema): references written ``default.name`` to the snapshot's own
    objects of the default schema go to the scratch schema too (other ``default.`` names, functions of an
    extension, stay where they are)."""
    import json

    doc = snap.to_dict()
    doc.pop("checksum", None)
    text = json.dumps(doc)
    if qualified is not None:
        own = sorted({k for kind in ("tables", "views", "enums", "domains", "sequences") for k in doc[kind] if "." not in k},
                     key=len, reverse=True)
        if own:
            names = "|".join(re.escape(json.dumps(n)[1:-1]) for n in own)
            text = re.sub(rf'(?<![\w$])(\\?"?){re.escape(qualified[0])}\1\.(?=(\\?"?)(?:{names})\2(?![\w$]))',
                          lambda m: f"{m.group(1)}{qualified[1]}{m.group(1)}.", text)
    if not mapping and not text_from:
        return Snapshot.from_dict(json.loads(text))
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


def _version_text(number: int) -> str:
    """``server_version_num`` as SQLAlchemy spells the version: 150020 → "15.20", 90624 → "9.6.24"."""
    if number >= 100000:
        return f"{number // 10000}.{number % 10000}"
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"
