"""PostgreSQL, through psycopg 3 and SQLAlchemy.

The canonical snapshot is what the server itself reports. Live schemas are read with a fixed handful of
catalog queries (catalog.py). Models are normalized through the server: their DDL is created in
a scratch schema inside a transaction that is rolled back, and read back with the same queries, so both
sides land on one spelling for types, defaults, checks, index expressions and views.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

from ...errors import BackendError, MigrationError
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
from ...schema import Check, ForeignKey, Snapshot, Table, Unique
from ..base import Backend, Connection, TranslationRules
from ..base.render import NO_REBUILDS, Unsupported
from .catalog import PostgreSQLCatalog, implicit_name
from .codegen import PostgreSQLCodegen
from .connection import PostgreSQLConnecting
from .lock import PostgreSQLLocking
from .model import PG_TYPE_CANDIDATES, PostgreSQLModel
from .render import PostgreSQLRendering
from .translation import PostgreSQLTranslation

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


class PostgreSQLBackend(PostgreSQLModel, PostgreSQLCodegen, PostgreSQLCatalog, PostgreSQLConnecting, PostgreSQLLocking, PostgreSQLRendering, Backend):
    name: ClassVar[str] = "postgresql"
    translation_rules: ClassVar[TranslationRules] = PostgreSQLTranslation()
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
    # what no ALTER statement changes, refused when a plan is made (base/render.py)
    unsupported: ClassVar[Unsupported] = {
        **{("alter_table", key): "changing it needs a table rebuild (a new table, the rows copied): write a manual "
                                 "migration" for key in ("partition_by", "partition_of", "partition_bound")},
        **{("alter_domain", key): "ALTER DOMAIN cannot change it: write a manual migration (a new domain, the "
                                  "columns moved to it)" for key in ("type", "collation")},
        "rebuild_table": NO_REBUILDS,
    }

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
        if re.match(r"\s*CREATE (UNIQUE )?INDEX CONCURRENTLY", sql, re.IGNORECASE):
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
            if (isinstance(op, (CreateIndex, DropIndex, AddConstraint)) and (unique or not isinstance(op, AddConstraint))
                    and self.concurrent_indexes and existing(op)):
                op = replace(op, concurrently=True)
            elif ((isinstance(op, AddConstraint) and existing(op) and _validates_apart(op.constraint))
                  or (isinstance(op, AlterColumn) and op.changes == ("nullable",) and not op.new.nullable and existing(op))):
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

    # -- code generation --------------------------------------------------------------------------

    type_candidates_table: ClassVar[Mapping[str, tuple[str, ...]]] = PG_TYPE_CANDIDATES
    python_types: ClassVar[Mapping[str, str]] = PG_PYTHON_TYPES

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


