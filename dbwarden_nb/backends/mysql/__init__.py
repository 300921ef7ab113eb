"""MySQL, through PyMySQL and SQLAlchemy (MariaDB subclasses this in mariadb.py).

The canonical snapshot is what the server reports in information_schema, read with a fixed handful of
queries (mysql_catalog.py). Models are normalized through the server: their DDL is created in a scratch
database (MySQL DDL is not transactional, so the database is dropped afterwards) and read back with the
same queries. DDL is not transactional here: the runner records progress per statement.
"""

from __future__ import annotations

import re
import secrets
import time
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, ClassVar, ContextManager, Iterator, Mapping, Sequence

from ...errors import BackendError, LockError
from ...migrations.lock import Lock, LockStatus
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
    Operation,
    Plan,
    RenameColumn,
    RenameTable,
)
from ...schema import Check, Column, ForeignKey, Index, PrimaryKey, Snapshot, Table, Unique, split_key
from ..base import Backend, Connection
from .catalog import CatalogReader
from .generated import RegenerateColumn, regenerate_columns

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Dialect

# SQLAlchemy's compiled type names → the server's COLUMN_TYPE base names (the offline path; online the
# server decides). Parameters the server fills in when they are left out.
TYPE_NAMES = {
    "INTEGER": "int", "INT": "int", "BOOL": "tinyint", "BOOLEAN": "tinyint", "NUMERIC": "decimal", "DEC": "decimal",
    "FIXED": "decimal", "REAL": "double", "DOUBLE PRECISION": "double", "NATIONAL CHAR": "char", "NCHAR": "char",
    "NATIONAL VARCHAR": "varchar", "NVARCHAR": "varchar", "CHARACTER": "char", "CHARACTER VARYING": "varchar",
}
DEFAULT_PARAMS = {"decimal": "10,0", "bit": "1", "char": "1", "binary": "1"}
INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "bigint")
DEFAULT_WIDTHS = {"tinyint": (4, 3), "smallint": (6, 5), "mediumint": (9, 8), "int": (11, 10), "bigint": (20, 20)}  # (signed, unsigned)
STRING_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"})
_SPELLED = re.compile(r"^(?P<base>[A-Za-z][A-Za-z ]*?)\s*(?:\((?P<params>.*)\))?(?P<flags>(?:\s+(?:UNSIGNED|SIGNED|ZEROFILL))*)"
                      r"(?P<tail>(?:\s+(?:CHARACTER SET|CHARSET|COLLATE)\s+\S+|\s+BINARY|\s+ASCII|\s+UNICODE)*)\s*$", re.I | re.S)
_COLUMN_TYPE = re.compile(r"^(?P<base>[a-z]+)(?:\((?P<params>.*)\))?(?P<unsigned> unsigned)?(?P<zerofill> zerofill)?$", re.S)
_LITERAL = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|'([^'\\]|''|\\.)*'|[bBxX]'[0-9a-fA-F]*'|0x[0-9a-fA-F]+|NULL|TRUE|FALSE)$",
                      re.I | re.S)
_CURRENT_TIMESTAMP = re.compile(r"^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$", re.I)
_TIMESTAMP_WORDS = re.compile(r"^(current_timestamp|now|localtime|localtimestamp)(\(\s*(\d*)\s*\))?$", re.I)

# canonical base type → SQLAlchemy spellings for generate-models ({0}, {1}: the type's parameters)
MYSQL_TYPE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "int": ("sa.Integer()",), "bigint": ("sa.BigInteger()",), "smallint": ("sa.SmallInteger()",),
    "tinyint": ("mysql.TINYINT()",), "mediumint": ("mysql.MEDIUMINT()",),
    "decimal": ("sa.Numeric({0}, {1})", "sa.Numeric({0})"), "float": ("sa.Float()", "mysql.FLOAT({0}, {1})"),
    "double": ("sa.Double()", "mysql.DOUBLE({0}, {1})"), "varchar": ("sa.String({0})",), "char": ("sa.CHAR({0})",),
    "text": ("sa.Text()",), "tinytext": ("mysql.TINYTEXT()",), "mediumtext": ("mysql.MEDIUMTEXT()",),
    "longtext": ("mysql.LONGTEXT()",), "blob": ("sa.LargeBinary()",), "tinyblob": ("mysql.TINYBLOB()",),
    "mediumblob": ("mysql.MEDIUMBLOB()",), "longblob": ("mysql.LONGBLOB()",), "binary": ("sa.BINARY({0})",),
    "varbinary": ("sa.VARBINARY({0})",), "date": ("sa.Date()",), "datetime": ("sa.DateTime()", "mysql.DATETIME(fsp={0})"),
    "timestamp": ("mysql.TIMESTAMP()", "mysql.TIMESTAMP(fsp={0})"), "time": ("sa.Time()", "mysql.TIME(fsp={0})"),
    "year": ("mysql.YEAR()", "mysql.YEAR({0})"), "json": ("sa.JSON()",), "bit": ("mysql.BIT({0})",), "uuid": ("sa.Uuid()",),
}
MYSQL_PYTHON_TYPES = {
    **dict.fromkeys(INTEGER_TYPES + ("year", "bit"), "int"), "decimal": "decimal.Decimal", "float": "float",
    "double": "float", **dict.fromkeys(STRING_TYPES - {"set"}, "str"), "set": "set[str]", "date": "datetime.date",
    "datetime": "datetime.datetime", "timestamp": "datetime.datetime", "time": "datetime.timedelta",
    **dict.fromkeys(("binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob"), "bytes"), "uuid": "uuid.UUID",
    "json": "dict[str, Any]",
}
# Table keyword arguments SQLAlchemy passes through as ``mysql_<key>`` and where the snapshot keeps them.
TABLE_KWARGS = {"engine": "engine", "collate": "collation", "charset": "charset", "default_charset": "charset",
                "character_set": "charset", "row_format": "row_format", "auto_increment": "auto_increment",
                "partition_by": "partition_by", "partitions": "partitions"}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# a scratch database unused for this long after its birth was left by a killed run
ORPHAN_AGE = 300
_SCRATCH_BORN = re.compile(r"dbwarden_(?:scratch|verify)_([0-9a-f]{8,12})_[0-9a-f]{8}")  # else an older version's
# URL query options SQLAlchemy hands to the driver as integers
INTEGER_OPTIONS = ("connect_timeout", "read_timeout", "write_timeout", "client_flag")
# what a create option is set to when the model no longer has it
CREATE_OPTION_RESETS = {"key_block_size": "0", "checksum": "0", "delay_key_write": "0", "min_rows": "0", "max_rows": "0",
                        "avg_row_length": "0"}
NOT_CREATE_OPTIONS = {"comment", "subpartition_by", "subpartitions", "with_parser", "length", "prefix", "using",
                      "ops", "default collate", "data_directory", "index_directory"}


def split_values(params: str) -> list[str]:
    """``'a','b''c'`` → ['a', "b'c"] (ENUM and SET values as COLUMN_TYPE prints them)."""
    return [v.replace("''", "'").replace("\\\\", "\\") for v in re.findall(r"'((?:[^'\\]|''|\\.)*)'", params)]


LOCK_WAITS = (("lock_wait_timeout", "whole s"), ("innodb_lock_wait_timeout", "whole s"))  # metadata locks, row locks


class MySQLBackend(Backend):
    name: ClassVar[str] = "mysql"
    # no statement_timeout: max_execution_time limits only SELECT statements (config.py refuses it)
    timeout_variables: ClassVar[Mapping[str, tuple[tuple[str, str], ...]]] = {"lock_timeout": LOCK_WAITS}
    case_insensitive_columns: ClassVar[bool] = True  # table names follow the file system; columns never do
    dialect_name: ClassVar[str] = "mysql"
    max_name_chars: ClassVar[int | None] = 64
    names_end_with_space: ClassVar[bool] = False
    bmp_only: ClassVar[bool] = True  # the data dictionary is utf8mb3: a 4-byte character in a comment becomes '?'
    transactional_ddl: ClassVar[bool] = False
    supports_comments: ClassVar[bool] = True
    supports_seeds: ClassVar[bool] = True  # a seed holding DDL commits part-way here (DDL commits on its own)
    normalizes_on_server: ClassVar[bool] = True
    option_keys: ClassVar[Sequence[str]] = ("invisible", "srid", "on_update", "partition_definitions", "not_enforced",
                                            "ignored", "comment", "system_versioning")
    catalog_reader: ClassVar[type[CatalogReader]] = CatalogReader  # MariaDB's overrides it (mariadb.py)
    # a column drawing from a sa.Sequence takes its values from it, not from AUTO_INCREMENT (MariaDB has sequences)
    sequence_owns_counter: ClassVar[bool] = False
    drop_check: ClassVar[str] = "CHECK"
    session_init: ClassVar[str] = "SET SESSION information_schema_stats_expiry = 0"

    # -- connecting ---------------------------------------------------------------------------------

    def dialect(self) -> Dialect:
        from sqlalchemy.dialects.mysql.base import MySQLDialect

        return MySQLDialect(paramstyle="named")  # run verbatim: no doubled % (see Backend.dialect)

    def create_engine(self, url: str) -> sa.Engine:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        from ...config import sqlalchemy_url

        parsed = make_url(sqlalchemy_url(url))
        for key in INTEGER_OPTIONS:  # the driver would raise a bare ValueError from int()
            value = parsed.query.get(key)
            if isinstance(value, str) and not value.strip().isdigit():
                raise ValueError(f"?{key}={value!r} is not a whole number (seconds, or flags for client_flag)")
        args: dict[str, Any] = {"init_command": self.session_init, "charset": "utf8mb4"}
        if parsed.host in LOOPBACK and not any(k.startswith("ssl") for k in parsed.query):
            # PyMySQL would try TLS ("preferred") and build a new certificate store per connection (~0.1 s)
            # for a connection that never leaves the machine; URL ssl_* options turn it back on
            args["ssl_disabled"] = True
        return create_engine(parsed, poolclass=NullPool, connect_args=args)

    def connect(self, url: str, masked_url: str | None = None) -> Connection:
        conn = super().connect(url, masked_url)
        database, conn.thread_id = conn.query("SELECT DATABASE(), CONNECTION_ID()")[0]
        if not database:
            conn.close()
            from ...errors import ConfigError

            raise ConfigError(f"{conn.masked_url} names no database: add it to the URL (…/dbname)")
        return conn

    def server_version(self, conn: Connection) -> str:
        return str(conn.query("SELECT VERSION()")[0][0])

    def version_tuple(self, conn: Connection) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.server_version(conn))[:3])

    def default_schema(self, conn: Connection | None) -> str | None:
        return None if conn is None else str(conn.query("SELECT DATABASE()")[0][0])

    def literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    # -- introspection ------------------------------------------------------------------------------

    def reader(self, conn: Connection, schema: str) -> CatalogReader:
        return self.catalog_reader(conn, schema, self.version_tuple(conn), self.internal_tables,
                                   self.canonical_fk_action)

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        schema = (schemas or [None])[0] or self.default_schema(conn)
        return self.reader(conn, str(schema)).read(self.name, self.server_version(conn))

    # -- model side ---------------------------------------------------------------------------------

    def canonical_type(self, spelled: str) -> str:
        """SQLAlchemy's spelling → the server's COLUMN_TYPE (offline; online the server decides)."""
        m = _SPELLED.match(" ".join(spelled.strip().split()))
        if m is None:
            return spelled.strip()
        base = m.group("base").strip().upper()
        params = m.group("params")
        flags = m.group("flags").upper().split()
        name = TYPE_NAMES.get(base, base.lower())
        if base in ("BOOL", "BOOLEAN"):
            params = "1"
        if name in ("enum", "set"):
            return f"{name}({params})"
        params = params.replace(" ", "") if params is not None else None
        unsigned, zerofill = "UNSIGNED" in flags or "ZEROFILL" in flags, "ZEROFILL" in flags
        if name == "decimal" and params is not None and "," not in params:
            params += ",0"
        if name == "float" and params is not None and "," not in params:
            name, params = ("float" if int(params or 0) <= 24 else "double"), None
        if name in ("text", "blob") and params:  # the smallest type that holds it (text: utf8mb4, 4 bytes a character)
            size = int(params) * (4 if name == "text" else 1)
            prefix = "tiny" if size < 256 else "" if size < 65536 else "medium" if size < 16777216 else "long"
            name, params = prefix + name, None
        if name in INTEGER_TYPES:
            params = self.integer_width(name, params, unsigned, zerofill)
        elif params is None:
            params = DEFAULT_PARAMS.get(name)
        if name == "year":
            params = self.year_width(params)
        out = name + (f"({params})" if params else "")
        return out + (" unsigned" if unsigned else "") + (" zerofill" if zerofill else "")

    def integer_width(self, name: str, width: str | None, unsigned: bool, zerofill: bool) -> str | None:
        """MySQL ≥ 8.0.19 prints no display width for integers, except tinyint(1) and with ZEROFILL."""
        if zerofill and width is None:
            return str(DEFAULT_WIDTHS[name][1 if unsigned else 0])
        if zerofill or (name == "tinyint" and width == "1"):
            return width
        return None

    def year_width(self, width: str | None) -> str | None:
        return None

    def canonical_default(self, text: str) -> str:
        text = self.canonical_expression(text)
        m = _TIMESTAMP_WORDS.match(text)
        if m:  # now() and friends are CURRENT_TIMESTAMP; the server prints that
            return "CURRENT_TIMESTAMP" + (f"({m.group(3)})" if m.group(3) else "")
        return text

    def column_options(self, column: sa.Column[Any]) -> dict[str, Any]:
        info = dict(column.info.get("dbwarden") or {})
        options: dict[str, Any] = {k: info[k] for k in ("invisible", "srid") if k in info}
        onupdate = column.server_onupdate
        text = getattr(getattr(onupdate, "arg", None), "text", None) or getattr(onupdate, "arg", None)
        if isinstance(text, str):
            options["on_update"] = self.canonical_default(text)
        elif "on_update" in info:
            options["on_update"] = info["on_update"]
        if column.autoincrement is True or self._sa_autoincrement(column):
            options["auto_increment"] = True
        return options

    def _sa_autoincrement(self, column: sa.Column[Any]) -> bool:
        """Whether SQLAlchemy's MySQL DDL would print AUTO_INCREMENT for the column."""
        import sqlalchemy as sa

        table = column.table
        if table is None or table._autoincrement_column is not column:
            return False
        if column.server_default is not None and not isinstance(column.server_default, sa.Identity):
            return False
        return not (isinstance(column.default, sa.Sequence) and self.sequence_owns_counter
                    and not column.default.optional)

    def computed_stored(self, computed: Any) -> bool:
        return computed.persisted is True  # unspecified is VIRTUAL here

    def table_options(self, table: sa.Table) -> dict[str, Any]:
        info = dict(table.info.get("dbwarden") or {})
        options: dict[str, Any] = {}
        create: dict[str, str] = {}
        for key, value in table.kwargs.items():
            prefix, _, option = key.partition("_")
            if prefix not in ("mysql", "mariadb") or value is None:
                continue
            option = option.lower()
            if option in TABLE_KWARGS:
                target = TABLE_KWARGS[option]
                options[target] = (int(value) if target in ("auto_increment", "partitions") else
                                   str(value).upper() if target == "row_format" else str(value))
            elif option not in NOT_CREATE_OPTIONS:
                create[option] = str(value)
        if create:
            options["create_options"] = create
        for key in ("partition_definitions", "system_versioning"):
            if key in info:
                options[key] = info[key]
        return options

    def index_options(self, index: sa.Index) -> dict[str, Any]:
        kw = {k.partition("_")[2]: v for k, v in index.kwargs.items() if k.startswith(("mysql_", "mariadb_")) and v is not None}
        info = dict(index.info.get("dbwarden") or {})
        options: dict[str, Any] = {}
        if kw.get("prefix"):
            options["prefix"] = str(kw["prefix"]).upper()
        if kw.get("using") and str(kw["using"]).upper() != "BTREE":
            options["using"] = str(kw["using"]).upper()
        length = kw.get("length")
        if length is not None:
            names = [getattr(e, "name", None) for e in index.expressions]
            lengths = dict(length) if isinstance(length, dict) else {n: length for n in names if n}
            if options.get("prefix") != "SPATIAL":
                options["length"] = {str(k): int(v) for k, v in lengths.items()}
        for key in ("invisible", "ignored", "comment"):
            if info.get(key):
                options[key] = info[key]
        return options

    def check_options(self, constraint: sa.CheckConstraint) -> dict[str, Any]:
        info = dict(constraint.info.get("dbwarden") or {})
        return {k: True for k in ("not_enforced", "column") if info.get(k)}

    def foreign_key_options(self, constraint: sa.ForeignKeyConstraint) -> dict[str, Any]:
        info = dict(constraint.info.get("dbwarden") or {})
        return {"index": str(info["index"])} if info.get("index") else {}

    def normalize_model_table(self, table: Table) -> Table:
        pk = table.primary_key
        return table.replace(primary_key=PrimaryKey(None, pk.columns)) if pk and pk.name else table

    def model_extras(self, tables: Sequence[Any], default_schema: str | None, metadata: Sequence[Any] = ()) -> dict[str, Any]:
        return {}

    # -- normalization through the server ---------------------------------------------------------

    @contextmanager
    def scratch_database(self, conn: Connection, prefix: str, snapshot: Snapshot) -> Iterator[str]:
        """A new database on the connection's server (same default charset and collation) holding ``snapshot``,
        made the connection's current one for the block; dropped afterwards (DDL is not transactional here)."""
        from sqlalchemy.exc import DBAPIError

        from ...differ import diff

        self.drop_orphans(conn)
        current, charset, collation = conn.query("SELECT DATABASE(), @@character_set_database, @@collation_database")[0]
        scratch = f"{prefix}_{int(time.time()):x}_{secrets.token_hex(4)}"  # its birth time: see drop_orphans
        sql = f"CREATE DATABASE {self.quote(scratch)} CHARACTER SET {charset} COLLATE {collation}"
        try:
            conn.execute(sql)
        except DBAPIError as exc:
            raise BackendError(f"cannot create a scratch database on the {self.name} server (the user needs the "
                               f"CREATE privilege): {self.failure(exc, sql)}") from None
        try:
            conn.execute(f"USE {self.quote(scratch)}")
            conn.execute("SET SESSION foreign_key_checks = 0")  # keys to tables outside the snapshot are kept
            try:
                for stmt in self.render_plan(diff(self.empty(), snapshot, forward_references=False)):
                    sql = stmt.sql
                    conn.execute(sql)
            except DBAPIError as exc:
                raise BackendError(f"the schema cannot be created on the {self.name} server: "
                                   f"{self.failure(exc, sql)}") from None
            conn.execute("SET SESSION foreign_key_checks = 1")
            yield scratch
        finally:
            conn.execute("SET SESSION foreign_key_checks = 1")
            conn.execute(f"USE {self.quote(current)}")
            conn.execute(f"DROP DATABASE IF EXISTS {self.quote(scratch)}")

    def cancel(self, conn: Connection) -> None:
        """``KILL QUERY`` from a new connection: the server would run the statement to its end for nobody."""
        if conn.thread_id is None:
            return
        with suppress(Exception), conn.engine.connect() as other:
            other.exec_driver_sql(f"KILL QUERY {int(conn.thread_id)}")

    def leftovers(self, conn: Connection) -> list[str]:
        names = [row[0] for row in conn.query(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE :a OR SCHEMA_NAME LIKE :b",
            {"a": "dbwarden\\_scratch\\_%", "b": "dbwarden\\_verify\\_%"})]
        if not names:
            return []
        in_use = {row[0] for row in conn.query("SELECT DB FROM information_schema.PROCESSLIST WHERE DB IS NOT NULL")}
        return sorted(name for name in names if name not in in_use)

    def drop_orphans(self, conn: Connection) -> None:
        """Drop the scratch databases of runs that were killed: the current database of no connection (a run uses
        its own from the moment it makes it) and born over ORPHAN_AGE seconds ago (their name says when; names of
        older versions, without a birth time, are taken as old)."""
        for name in self.leftovers(conn):
            born = _SCRATCH_BORN.fullmatch(name)
            if born is None or time.time() - int(born.group(1), 16) > ORPHAN_AGE:
                conn.execute(f"DROP DATABASE IF EXISTS {self.quote(name)}")

    def normalize_models(self, raw: Snapshot, conn: Connection | None) -> Snapshot:
        """Create the models in a scratch database on the same server and read them back."""
        if conn is None:
            return raw
        with self.scratch_database(conn, "dbwarden_scratch", raw) as scratch:
            snap = self.introspect(conn, [scratch])
        return snap.replace(server_version=raw.server_version)

    # -- adapting plans -----------------------------------------------------------------------------

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """Rewrite a neutral plan into steps the server accepts, in an order it accepts them."""
        ops = [op for op in plan if not (isinstance(op, AlterTable) and _only_counter_moved(op.old, op.new))]
        ops = _auto_increment_keys(regenerate_columns(ops))
        for op in [o for o in ops if isinstance(o, AlterTable) and o.old.options.get("collation") != o.new.options.get("collation")]:
            # a table's default collation changes before its columns do: new and restated columns take it
            first = next(i for i, o in enumerate(ops) if o.table == op.table and isinstance(o, (AddColumn, AlterColumn, AlterTable, RenameColumn, DropColumn)))
            ops.remove(op)
            ops.insert(first, op)
        return plan.replace(operations=tuple(ops))

    # -- rendering ----------------------------------------------------------------------------------

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
        return [f"CREATE {kind + ' ' if kind else ''}INDEX {self.quote(ix.name or '')} ON {self.q(op.parent)} "
                f"{self.index_body(ix)}{self.index_tail(ix)}{online}"]

    def builds_online(self, op: CreateIndex) -> bool:
        """InnoDB builds an index of plain columns while writes go on; asked for explicitly, the server refuses to
        fall back to locking the table instead of doing it silently. Not for FULLTEXT or SPATIAL indexes, other
        engines, or expressions (a functional index adds a hidden virtual column, which needs a lock)."""
        ix = op.index
        engine = str(op.parent.options.get("engine") or "InnoDB").lower()
        return (engine == "innodb" and self.index_kind(ix) in self.online_index_kinds and not ix.options.get("using")
                and all(e.expression is None for e in ix.elements))

    online_index_kinds: ClassVar[tuple[str, ...]] = ("", "UNIQUE")

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

    # -- triggers, functions, procedures -------------------------------------------------------------

    def render_create_object(self, op: CreateObject) -> list[str]:
        obj = op.object
        if obj.kind not in ("trigger", "function", "procedure"):
            raise BackendError(f"{self.name} cannot create a {obj.kind} ({obj.key})")
        return [f"CREATE {obj.kind.upper()} {self.quote(obj.name)}{'' if obj.kind != 'trigger' else ' '}{obj.definition}"]

    def render_drop_object(self, op: DropObject) -> list[str]:
        return [f"DROP {op.object.kind.upper()} {self.quote(op.object.name)}"]

    # -- code generation --------------------------------------------------------------------------

    type_candidates_table: ClassVar[Mapping[str, tuple[str, ...]]] = MYSQL_TYPE_CANDIDATES
    python_types: ClassVar[Mapping[str, str]] = MYSQL_PYTHON_TYPES

    def type_candidates(self, spelled: str) -> list[str]:
        m = _COLUMN_TYPE.match(spelled)
        if not m:
            return []
        base, params = m.group("base"), m.group("params")
        if base in ("enum", "set"):
            return [f"mysql.{base.upper()}({', '.join(repr(v) for v in split_values(params or ''))})"]
        unsigned, zerofill = bool(m.group("unsigned")), bool(m.group("zerofill"))
        if base == "tinyint" and params == "1" and not unsigned:
            return ["sa.Boolean()", "mysql.TINYINT(1)"]
        values = [p.strip() for p in (params or "").split(",") if p.strip()]
        out = [code.format(*values) for code in self.type_candidates_table.get(base, ()) if code.count("{") == len(values)]
        if unsigned or zerofill or (base in INTEGER_TYPES and values):
            cls = {"int": "INTEGER", "decimal": "DECIMAL"}.get(base, base.upper())
            args = []
            if base in INTEGER_TYPES and values:
                args.append(f"display_width={values[0]}")
            elif values:
                args += values
            args += ["unsigned=True"] if unsigned else []
            args += ["zerofill=True"] if zerofill else []
            out.append(f"mysql.{cls}({', '.join(args)})")
            if base in INTEGER_TYPES and values:  # the server's own default width
                out.insert(0, f"mysql.{cls}({', '.join(args[1:])})")
        return out

    def codegen_namespace(self) -> dict[str, Any]:
        from sqlalchemy.dialects import mysql

        return {"mysql": mysql}

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        return [("sqlalchemy.dialects", "mysql")] if "mysql." in code else []

    def inline_enum_values(self, spelled: str) -> tuple[str, ...] | None:
        m = _COLUMN_TYPE.match(spelled)
        return tuple(split_values(m.group("params") or "")) if m and m.group("base") == "enum" else None

    def enum_class_type(self, arguments: str) -> str:
        return f"mysql.ENUM({arguments})"

    def python_type(self, spelled: str) -> str:
        m = _COLUMN_TYPE.match(spelled)
        if m is None:
            return "Any"
        if m.group("base") == "tinyint" and m.group("params") == "1" and not m.group("unsigned"):
            return "bool"
        return self.python_types.get(m.group("base"), "Any")

    @staticmethod
    def _sa_picks(table: Table, column: Column) -> bool:
        """Whether SQLAlchemy makes the column AUTO_INCREMENT by default: a lone integer primary key
        without server default or foreign key."""
        pk = table.primary_key.columns if table.primary_key else ()
        return (pk == (column.name,) and column.type.split("(")[0].split()[0] in INTEGER_TYPES
                and column.default is None and not any(column.name in fk.columns for fk in table.foreign_keys))

    type_families: ClassVar[Mapping[str, tuple[str, int | None]]] = {
        "varchar": ("string", None), "char": ("char", 1), "tinytext": ("string", 255), "text": ("string", 65535),
        "mediumtext": ("string", 16777215), "longtext": ("string", None), "varbinary": ("binary", None),
        "binary": ("binary", 1), "tinyblob": ("binary", 255), "blob": ("binary", 65535), "mediumblob": ("binary", 16777215),
        "longblob": ("binary", None), "decimal": ("decimal", None), "tinyint": ("integer", 1), "smallint": ("integer", 2),
        "mediumint": ("integer", 3), "int": ("integer", 4), "bigint": ("integer", 8),
    }

    new_not_null_fill: ClassVar[str | None] = "the zero value of its type ('' or 0)"

    def assessor(self, undoing: bool = False) -> Any:
        from .assess import MySQLAssessor

        return MySQLAssessor(self, undoing)

    def autoincrement_kwarg(self, table: Table, column: Column) -> str | None:
        # the other way round (AUTO_INCREMENT SQLAlchemy would not pick) is column_kwargs': it applies off the key too
        return "False" if self._sa_picks(table, column) and not column.options.get("auto_increment") else None

    def implicit_constraint_name(self, table: Table, kind: str, columns: Sequence[str]) -> str | None:
        if kind == "unique" and columns:
            taken = {ix.name for ix in table.indexes} | {fk.options.get("index") for fk in table.foreign_keys}
            return columns[0] if columns[0] not in taken and columns[0] != "PRIMARY" else None
        return None

    def column_kwargs(self, table: Table, column: Column) -> dict[str, str]:
        """Keyword arguments of ``mapped_column``/``Column`` that the generic generator does not write."""
        kwargs: dict[str, str] = {}
        if column.options.get("on_update"):
            kwargs["server_onupdate"] = f"sa.text({column.options['on_update']!r})"
        if column.options.get("auto_increment") and not self._sa_picks(table, column):
            kwargs["autoincrement"] = "True"
        return kwargs

    def column_info(self, column: Column) -> dict[str, Any]:
        return {k: column.options[k] for k in ("invisible", "srid") if k in column.options}

    def table_info(self, table: Table) -> dict[str, Any]:
        return {k: table.options[k] for k in ("partition_definitions", "system_versioning") if k in table.options}

    def table_kwargs(self, table: Table) -> dict[str, str]:
        o = table.options
        kwargs: dict[str, str] = {}
        for key, kw in (("engine", "mysql_engine"), ("collation", "mysql_collate"), ("row_format", "mysql_row_format"),
                        ("partition_by", "mysql_partition_by")):
            if o.get(key):
                kwargs[kw] = repr(o[key])
        if o.get("auto_increment"):
            kwargs["mysql_auto_increment"] = repr(str(o["auto_increment"]))
        if o.get("partitions"):
            kwargs["mysql_partitions"] = repr(str(o["partitions"]))
        for key, value in sorted((o.get("create_options") or {}).items()):
            kwargs[f"mysql_{key}"] = repr(value)
        return kwargs

    def constraint_kwargs(self, constraint: Any) -> dict[str, str]:
        info: dict[str, Any] = {}
        if isinstance(constraint, Check):
            info = {k: True for k in ("not_enforced", "column") if constraint.options.get(k)}
        elif isinstance(constraint, ForeignKey) and constraint.options.get("index") not in (None, constraint.name):
            info = {"index": constraint.options["index"]}  # the server would name it after the key
        return {"info": repr({"dbwarden": info})} if info else {}

    def index_kwargs(self, index: Index) -> dict[str, str]:
        o = index.options
        kwargs: dict[str, str] = {}
        if o.get("length"):
            kwargs["mysql_length"] = repr(dict(o["length"]))
        if o.get("prefix"):
            kwargs["mysql_prefix"] = repr(o["prefix"])
        if o.get("using"):
            kwargs["mysql_using"] = repr(o["using"].lower())
        info = {k: o[k] for k in ("invisible", "ignored", "comment") if o.get(k)}
        if info:
            kwargs["info"] = repr({"dbwarden": info})
        return kwargs

    # -- lock ---------------------------------------------------------------------------------------

    def lock(self, conn: Connection) -> Lock:
        return GetLock(conn)

    def joins_transaction(self, sql: str) -> bool:
        return bool(_ROW_STATEMENT.match(sql))

    # -- verify -------------------------------------------------------------------------------------

    def scratch_copy(self, url: str) -> ContextManager[Connection]:  # type: ignore[override]
        """A scratch database with the live schema recreated in it (DDL is not transactional here)."""
        return self._scratch(url, "dbwarden_verify", self.introspect)

    def scratch_empty(self, url: str) -> ContextManager[Connection]:  # type: ignore[override]
        return self._scratch(url, "dbwarden_scratch", lambda conn: self.empty())

    @contextmanager
    def _scratch(self, url: str, prefix: str, schema: Callable[[Connection], Snapshot]) -> Iterator[Connection]:
        conn = self.connect(url)
        try:
            with self.scratch_database(conn, prefix, schema(conn)):
                yield conn
        finally:
            conn.close()


def _is_key(op: Operation, adding: bool) -> bool:
    if isinstance(op, (AddConstraint, DropConstraint)):
        return isinstance(op, AddConstraint if adding else DropConstraint) and isinstance(op.constraint, (PrimaryKey, Unique))
    return isinstance(op, CreateIndex if adding else DropIndex)


def _key_columns(op: Operation) -> tuple[str, ...]:
    return op.constraint.columns if isinstance(op, (AddConstraint, DropConstraint)) else op.index.columns  # type: ignore[union-attr]


def _auto_increment_keys(ops: list[Operation]) -> list[Operation]:
    """AUTO_INCREMENT needs a key at every moment: a column loses it before its keys are dropped and gets it
    after its new keys exist (new and dropped AUTO_INCREMENT columns take the same two steps)."""
    ops = list(ops)

    def without(col: Column) -> Column:
        return replace(col, options={k: v for k, v in col.options.items() if k != "auto_increment"})

    for o in list(ops):  # a new (or dropped) AUTO_INCREMENT column whose key comes (goes) in another step
        if isinstance(o, (AddColumn, DropColumn)) and o.column.options.get("auto_increment"):
            adding = isinstance(o, AddColumn)
            if any(p.table == o.table and _is_key(p, adding) for p in ops):
                plain, at = without(o.column), ops.index(o)
                ops[at:at + 1] = ([AddColumn(o.parent, plain), AlterColumn(o.parent, plain, o.column)] if adding else
                                  [AlterColumn(o.parent, o.column, plain), DropColumn(o.parent, plain)])
    for o in list(ops):  # a kept AUTO_INCREMENT column whose key is dropped and made again
        if _is_key(o, False):
            touched = {p.new.name for p in ops if isinstance(p, AlterColumn) and p.table == o.table}
            touched |= {p.column.name for p in ops if isinstance(p, DropColumn) and p.table == o.table}
            for name in _key_columns(o):
                col = o.parent.column(name)
                if col is not None and col.options.get("auto_increment") and name not in touched:
                    at = ops.index(o)
                    ops[at:at] = [AlterColumn(o.parent, col, without(col)), AlterColumn(o.parent, without(col), col)]
                    touched.add(name)

    def changes(o: Operation, gained: bool) -> bool:
        return (isinstance(o, AlterColumn) and bool(o.new.options.get("auto_increment")) == gained
                and bool(o.old.options.get("auto_increment")) != gained)

    for table in {o.table for o in ops if changes(o, False)}:
        first = next((i for i, o in enumerate(ops) if o.table == table and _is_key(o, False)), None)
        for o in [o for o in ops if o.table == table and changes(o, False)]:
            if first is not None and ops.index(o) > first:
                ops.remove(o)
                ops.insert(first, o)
    for table in {o.table for o in ops if changes(o, True)}:
        last = max((i for i, o in enumerate(ops) if o.table == table and _is_key(o, True)), default=None)
        for o in [o for o in ops if o.table == table and changes(o, True)]:
            if last is not None and ops.index(o) < last:
                ops.remove(o)
                ops.insert(last, o)
    return ops


def _only_counter_moved(old: Table, new: Table) -> bool:
    """The live AUTO_INCREMENT counter is past the declared start and nothing else differs: rows were inserted."""
    o, n = dict(old.options), dict(new.options)
    before, after = o.pop("auto_increment", 1), n.pop("auto_increment", 1)
    return old.comment == new.comment and o == n and int(before) > int(after)


# Statements InnoDB runs inside the current transaction; every other one (DDL, LOCK, SET autocommit…) commits on
# its own. A SELECT or DO has no effect but its own, so it may share the history write's transaction too.
_ROW_STATEMENT = re.compile(r"\s*(?:\(\s*)*(INSERT|UPDATE|DELETE|REPLACE|SELECT|DO|WITH|VALUES|TABLE)\b", re.IGNORECASE)


class GetLock(Lock):
    """``GET_LOCK`` on the migration connection: the server waits up to the timeout and releases the lock
    when the connection ends. ``lock-status`` names the holding connection (IS_USED_LOCK + processlist)."""

    def __init__(self, conn: Connection, owner: str | None = None):
        super().__init__(conn, owner)
        database = conn.query("SELECT DATABASE()")[0][0]
        self.name = f"dbwarden:{database}"[:64]

    session = True

    def acquire(self, timeout: float = 60.0, on_wait: Callable[[], None] | None = None) -> None:
        if not self.try_acquire():  # else the server waits for it
            if on_wait is not None:
                on_wait()
            got = self.conn.query("SELECT GET_LOCK(:n, :t)", {"n": self.name, "t": max(0, int(round(timeout)))})[0][0]
            if got != 1:
                self.timed_out(timeout)
        self.held = True

    def try_acquire(self) -> bool:
        return self.conn.query("SELECT GET_LOCK(:n, 0)", {"n": self.name})[0][0] == 1

    def release(self) -> None:
        self.conn.query("SELECT RELEASE_LOCK(:n)", {"n": self.name})
        self.held = False

    def _holder(self) -> tuple[Any, ...] | None:
        rows = self.conn.query(
            "SELECT l.id, p.USER, p.HOST, p.DB, p.TIME FROM (SELECT IS_USED_LOCK(:n) AS id) l "
            "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id",
            {"n": self.name},
        )
        return rows[0] if rows and rows[0][0] is not None else None

    def status(self) -> LockStatus:
        row = self._holder()
        if row is None:
            return LockStatus(False, kind="get_lock")
        cid, user, host, db, seconds = row
        mine = self.conn.query("SELECT CONNECTION_ID()")[0][0] == cid
        who = f"connection {cid}" + (f" ({user}@{host}" + (f", for {seconds}s" if seconds is not None else "") + ")" if user else "")
        return LockStatus(True, who + (" — this session" if mine else ""), kind="get_lock")

    def force_release(self) -> LockStatus:
        before = self.status()
        row = self._holder()
        if row is not None:
            try:
                self.conn.query(f"KILL {int(row[0])}")
            except Exception as exc:  # permission: say so instead of pretending
                raise LockError(f"cannot end the connection holding the migration lock ({row[0]}): {exc}") from None
        return before
