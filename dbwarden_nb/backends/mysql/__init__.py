"""MySQL, through PyMySQL and SQLAlchemy (MariaDB subclasses this in mariadb.py).

The canonical snapshot is what the server reports in information_schema, read with a fixed handful of
queries (catalog.py). Models are normalized through the server: their DDL is created in a scratch
database (MySQL DDL is not transactional, so the database is dropped afterwards) and read back with the
same queries. DDL is not transactional here: the runner records progress per statement.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

from ...errors import BackendError
from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    CreateIndex,
    DropColumn,
    DropConstraint,
    DropIndex,
    Operation,
    Plan,
    RenameColumn,
)
from ...schema import Column, PrimaryKey, Snapshot, Table, Unique
from ..base import Backend, Connection, TranslationRules
from ..base.render import DOMAIN_KINDS, ENUM_KINDS, NO_DOMAINS, NO_REBUILDS, SEQUENCE_KINDS, Unsupported, refusing
from .catalog import CatalogReader, MySQLCatalog
from .codegen import INTEGER_TYPES, MySQLCodegen
from .connection import MySQLConnecting
from .generated import regenerate_columns
from .lock import MySQLLocking
from .model import MySQLModel
from .render import STRING_TYPES, MySQLRendering
from .translation import MySQLTranslation

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

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
# a scratch database unused for this long after its birth was left by a killed run
ORPHAN_AGE = 300
_SCRATCH_BORN = re.compile(r"dbwarden_(?:scratch|verify)_([0-9a-f]{8,12})_[0-9a-f]{8}")  # else an older version's
LOCK_WAITS = (("lock_wait_timeout", "whole s"), ("innodb_lock_wait_timeout", "whole s"))  # metadata locks, row locks


class MySQLBackend(MySQLModel, MySQLCodegen, MySQLRendering, MySQLCatalog, MySQLConnecting, MySQLLocking, Backend):
    name: ClassVar[str] = "mysql"
    translation_rules: ClassVar[TranslationRules] = MySQLTranslation()
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
    # what the engine has no statement for, refused when a plan is made (base/render.py)
    unsupported: ClassVar[Unsupported] = {
        **refusing(ENUM_KINDS, "enums are column types here (ENUM('a', 'b')), not schema objects"),
        **refusing(SEQUENCE_KINDS, "MySQL has no sequences (AUTO_INCREMENT numbers the rows)"),
        **refusing(DOMAIN_KINDS, NO_DOMAINS),
        "rebuild_table": NO_REBUILDS,
    }
    session_init: ClassVar[str] = "SET SESSION information_schema_stats_expiry = 0"

    # -- connecting ---------------------------------------------------------------------------------

    def dialect(self) -> Dialect:
        from sqlalchemy.dialects.mysql.base import MySQLDialect

        return MySQLDialect(paramstyle="named")  # run verbatim: no doubled % (see Backend.dialect)

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

    online_index_kinds: ClassVar[tuple[str, ...]] = ("", "UNIQUE")

    # -- code generation --------------------------------------------------------------------------

    type_candidates_table: ClassVar[Mapping[str, tuple[str, ...]]] = MYSQL_TYPE_CANDIDATES
    python_types: ClassVar[Mapping[str, str]] = MYSQL_PYTHON_TYPES

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

    # -- lock ---------------------------------------------------------------------------------------

    def joins_transaction(self, sql: str) -> bool:
        return bool(_ROW_STATEMENT.match(sql))

    # -- verify -------------------------------------------------------------------------------------

    def scratch_copy(self, url: str) -> AbstractContextManager[Connection]:  # type: ignore[override]
        """A scratch database with the live schema recreated in it (DDL is not transactional here)."""
        return self._scratch(url, "dbwarden_verify", self.introspect)

    def scratch_empty(self, url: str) -> AbstractContextManager[Connection]:  # type: ignore[override]
        return self._scratch(url, "dbwarden_scratch", lambda conn: self.empty())

    @contextmanager
    def _scratch(self, url: str, prefix: str, schema: Callable[[Connection], Snapshot]) -> Iterator[Connection]:
        conn = self.connect(url)
        try:
            with self.scratch_database(conn, prefix, schema(conn)):
                yield conn
        finally:
            conn.close()


def _is_key(op: Operation, adding: bool) -> TypeGuard[AddConstraint | DropConstraint | CreateIndex | DropIndex]:
    if isinstance(op, (AddConstraint, DropConstraint)):
        return isinstance(op, AddConstraint if adding else DropConstraint) and isinstance(op.constraint, (PrimaryKey, Unique))
    return isinstance(op, CreateIndex if adding else DropIndex)


def _key_columns(op: AddConstraint | DropConstraint | CreateIndex | DropIndex) -> tuple[str, ...]:
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


