"""The model side: SQLAlchemy tables to snapshot facts in PostgreSQL's canonical spelling, and normalization through the server."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...errors import BackendError, SnapshotError
from ...schema import Check, SchemaObject, Snapshot, Table, schemas_of, split_key
from ..base import Connection, Mixin
from .catalog import TYPE_LIMITS, CatalogReader, is_serial, sequence_options
from .connection import _version_text

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
_SA_TYPE = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9_ ]*?)\s*(?:\((?P<params>[^)]*)\))?\s*(?P<zone>WITH(?:OUT)? TIME ZONE)?(?P<array>(?:\[\])*)$", re.IGNORECASE)


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


_NEXTVAL = re.compile(r"""nextval\(\s*'(?:(?:"[^"]*"|[^'".]*)\.)?("(?:[^"]|"")*"|[^'".]*)'(?:::regclass)?\s*\)""", re.IGNORECASE)


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
            text = re.sub(rf'(?<![\w$])("?){re.escape(old)}\1\.', lambda m: f"{m.group(1)}{new}{m.group(1)}.", text)  # noqa: B023  used at once
            text = text.replace(f'"schema": "{old}"', f'"schema": "{new}"')
        else:
            text = text.replace(f"{old}.", f"{new}." if new else "").replace(f'"schema": "{old}"', f'"schema": "{new}"')
    return Snapshot.from_dict(json.loads(text))


class PostgreSQLModel(Mixin):
    """The model side: SQLAlchemy tables to snapshot facts in PostgreSQL's canonical spelling, and normalization through the server."""

    if TYPE_CHECKING:  # from PostgreSQLConnecting
        def server_num(self, conn: Connection) -> int: ...
        def regclass(self, schema: str | None, name: str) -> str: ...
        def default_schema(self, conn: Connection | None) -> str: ...

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
                ddl = self.dialect().ddl_compiler(self.dialect(), None)  # type: ignore[arg-type]  # only its visit_* are used
                text = ddl.visit_exclude_constraint(cons)  # type: ignore[attr-defined]  # PostgreSQL's DDL compiler
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
                    doc["checks"] = [f"{t.constraint_name or f'{t.name}_check'} CHECK ({t.check})"]
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
            col = table.column(owner[1]) if table is not None and owner else None
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
        kept = [replace(o, name=mapping[o.name]) if o.kind == "schema" else o for o in raw.objects.values()
                if o.kind != "extension" or o.name not in installed]  # an extension is database-wide
        scratch = _move_schemas(raw.replace(sequences=unowned, objects={o.key: o for o in kept}), mapping,
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
        except Exception:  # noqa: BLE001  the batch failed: one statement at a time names the culprit
            conn.execute("ROLLBACK TO SAVEPOINT dbwarden_batch")
        for sql in statements:
            try:
                conn.execute(sql)
            except Exception as exc:  # noqa: BLE001  the driver's error, as one line
                raise BackendError(f"the models cannot be created on the server: {self.failure(exc, sql)}") from None

    def is_user_type(self, type_: str) -> bool:
        return _user_type(type_)
