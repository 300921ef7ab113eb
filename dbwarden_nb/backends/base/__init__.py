"""The backend protocol: what every database module provides, with shared defaults.

A backend is one class: flags (``supports_*``), lookup tables (type aliases) and overridable steps —
connect, introspect, model-side normalization, rendering of each operation (``render_<kind>``), the
history table and the migration lock. The core never asks which backend it talks to; it asks a flag.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from ...errors import BackendError, ConfigError, MigrationError
from ...operations import Constraint, Operation, Plan
from ...schema import Index, Snapshot
from .connection import Connection, ConnectionProtocol, Pipeline  # noqa: F401 (the protocol's home)
from .render import Renderer
from .translation import TranslationRules

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Dialect

    from ...migrations.lock import Lock


# SQLAlchemy spellings tried, in order, when generating model code for a canonical type; ``{0}``, ``{1}``
# stand for the type's parameters. The generator keeps the first whose compiled form is the type itself.
TYPE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "INTEGER": ("sa.Integer()",), "BIGINT": ("sa.BigInteger()",), "SMALLINT": ("sa.SmallInteger()",),
    "VARCHAR": ("sa.String({0})", "sa.String()"), "CHAR": ("sa.CHAR({0})", "sa.CHAR()"),
    "NVARCHAR": ("sa.NVARCHAR({0})", "sa.NVARCHAR()"), "NCHAR": ("sa.NCHAR({0})", "sa.NCHAR()"),
    "TEXT": ("sa.Text()",), "CLOB": ("sa.CLOB()",), "BOOLEAN": ("sa.Boolean()",),
    "DATETIME": ("sa.DateTime()",), "DATE": ("sa.Date()",), "TIME": ("sa.Time()",), "TIMESTAMP": ("sa.TIMESTAMP()",),
    "FLOAT": ("sa.Float()", "sa.Float({0})"), "REAL": ("sa.REAL()",), "DOUBLE": ("sa.Double()",),
    "DOUBLE PRECISION": ("sa.DOUBLE_PRECISION()",),
    "NUMERIC": ("sa.Numeric({0}, {1})", "sa.Numeric({0})", "sa.Numeric()"),
    "DECIMAL": ("sa.DECIMAL({0}, {1})", "sa.DECIMAL({0})", "sa.DECIMAL()"),
    "BLOB": ("sa.LargeBinary()", "sa.BLOB()"), "BINARY": ("sa.BINARY({0})",), "VARBINARY": ("sa.VARBINARY({0})",),
    "JSON": ("sa.JSON()",), "UUID": ("sa.Uuid()",),
}
PYTHON_TYPES: dict[str, str] = {
    **dict.fromkeys(("INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT"), "int"),
    **dict.fromkeys(("VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "TEXT", "CLOB"), "str"),
    **dict.fromkeys(("FLOAT", "REAL", "DOUBLE", "DOUBLE PRECISION"), "float"),
    **dict.fromkeys(("NUMERIC", "DECIMAL"), "decimal.Decimal"),
    **dict.fromkeys(("DATETIME", "TIMESTAMP"), "datetime.datetime"),
    "DATE": "datetime.date", "TIME": "datetime.time", "BOOLEAN": "bool",
    **dict.fromkeys(("BLOB", "BINARY", "VARBINARY"), "bytes"), "UUID": "uuid.UUID", "JSON": "dict[str, Any]",
}
_TYPE_PARTS = re.compile(r"^([A-Z][A-Z0-9_ ]*?)\s*(?:\(([0-9, ]*)\))?$")

# Leading words of hand-written statements and what they risk (``check`` on manual migrations).
_STATEMENT_RISKS: tuple[tuple[str, str, str], ...] = (
    (r"DROP (TABLE|SCHEMA|DATABASE)", "CRITICAL", "destroys data"),
    (r"TRUNCATE", "CRITICAL", "destroys data"),
    (r"DELETE ", "WARN", "deletes rows"),
    (r"ALTER TABLE .* DROP", "CRITICAL", "drops a column or constraint"),
    (r"ALTER TABLE .* (ALTER|MODIFY|CHANGE)", "WARN", "changes a column: data-dependent, may rewrite the table"),
    (r"UPDATE ", "WARN", "rewrites rows"),
    (r"CREATE UNIQUE INDEX", "WARN", "fails if rows hold duplicates"),
)

_SPACES = re.compile(r"\s+")
_PAREN_SPACES = re.compile(r"\s*([(),])\s*")


def _named_parts(snap: Snapshot) -> Iterator[tuple[str, str, bool]]:
    """(the object, a name or text of it, whether it is a name) for every name, comment and default of ``snap``."""
    for key, t in snap.tables.items():
        where = f"table {key!r}"
        if t.schema:
            yield where, t.schema, True
        yield where, t.name, True
        yield f"comment of {where}", t.comment or "", False
        for c in t.columns:
            yield f"column {c.name!r} of {where}", c.name, True
            yield f"comment of column {c.name!r} of {where}", c.comment or "", False
            yield f"default of column {c.name!r} of {where}", c.default or "", False
            yield f"expression of column {c.name!r} of {where}", c.computed.expression if c.computed else "", False
        constraints: list[tuple[str, Constraint | Index]] = [("primary key", t.primary_key)] if t.primary_key else []
        constraints += [("foreign key", k) for k in t.foreign_keys] + [("unique constraint", u) for u in t.uniques]
        constraints += [("check constraint", k) for k in t.checks] + [("index", i) for i in t.indexes]
        for kind, obj in constraints:
            if obj.name is not None:
                yield f"{kind} {obj.name!r} of {where}", obj.name, True
        for k in t.checks:
            yield f"check constraint {k.name or ''!r} of {where}", k.expression, False
        for i in t.indexes:
            for e in i.elements:
                yield f"index {i.name or ''!r} of {where}", e.expression or "", False
    for key, v in snap.views.items():
        yield f"view {key!r}", v.name, True
        yield f"comment of view {key!r}", v.comment or "", False
    for kind, keys in (("enum", snap.enums), ("sequence", snap.sequences), ("domain", snap.domains)):
        for key in keys:
            yield f"{kind} {key!r}", key.rpartition(".")[2], True


class Backend(Renderer):
    """Defaults shared by every backend; modules override flags, tables and steps."""

    # how its snapshots translate to SQLite (its package's translation.py)
    translation_rules: ClassVar[TranslationRules] = TranslationRules()

    name: ClassVar[str] = "base"
    dialect_name: ClassVar[str] = ""  # SQLAlchemy dialect used to compile model-side types and expressions
    transactional_ddl: ClassVar[bool] = False
    supports_forward_references: ClassVar[bool] = False
    supports_schemas: ClassVar[bool] = False
    supports_comments: ClassVar[bool] = False
    case_insensitive_tables: ClassVar[bool] = False  # "users" and "USERS" name the same table
    case_insensitive_columns: ClassVar[bool] = False
    views_pin_columns: ClassVar[bool] = False
    # what existing rows get in a new NOT NULL column without default, where the server fills it instead of failing
    new_not_null_fill: ClassVar[str | None] = None  # a view blocks changing the type of (or dropping) a column it reads
    type_aliases: ClassVar[Mapping[str, str]] = {}
    option_keys: ClassVar[Sequence[str]] = ()  # the keys a Table/Column ``info["dbwarden"]`` may use here
    # What names and texts the server holds as written. Beyond these limits it truncates or mangles them
    # silently (PostgreSQL cuts names at 63 bytes, MariaDB stores an emoji in a comment as '?'), or fails half-way
    # through a migration, so models beyond them are refused first (``refuse_unholdable``), naming the object.
    max_name_bytes: ClassVar[int | None] = None  # UTF-8 bytes of an identifier
    max_name_chars: ClassVar[int | None] = None
    names_end_with_space: ClassVar[bool] = True  # a name may end with a space
    bmp_only: ClassVar[bool] = False  # names, comments, defaults and expressions hold only U+0000..U+FFFF

    def unholdable_name(self, name: str) -> str | None:
        """Why the server cannot hold identifier ``name`` as written, or None."""
        size = len(name.encode("utf-8", "surrogatepass"))
        if self.max_name_bytes is not None and size > self.max_name_bytes:
            return f"{self.name} names are at most {self.max_name_bytes} bytes, this one is {size} (the server would cut it)"
        if self.max_name_chars is not None and len(name) > self.max_name_chars:
            return f"{self.name} names are at most {self.max_name_chars} characters, this one is {len(name)}"
        if not self.names_end_with_space and name.endswith(" "):
            return f"{self.name} rejects names that end with a space"
        return self.unholdable_text(name)

    def unholdable_text(self, text: str) -> str | None:
        """Why the server cannot hold ``text`` (a name, comment, default or expression) unchanged, or None."""
        wide = next((ch for ch in text if ord(ch) > 0xFFFF), None) if self.bmp_only else None
        if wide is not None:
            return (f"{self.name} stores names, comments, defaults and expressions in a 3-byte character set: "
                    f"U+{ord(wide):04X} would become '?'")
        return None

    def refuse_unholdable(self, snap: Snapshot) -> None:
        """Raise a one-line BackendError naming the first object whose name or text the server cannot hold, or
        whose name is one of dbwarden's own tables (they are never part of a snapshot)."""
        for key, table in snap.tables.items():
            own = {self.history_table: "history", self.lock_table: "lock"}.get(table.name)
            if own is not None:
                raise BackendError(f"model table {key}: {table.name} is the name of dbwarden's own {own} table; "
                                   "give the model's table another name (__tablename__)")
        for what, text, is_name in _named_parts(snap):
            reason = self.unholdable_name(text) if is_name else self.unholdable_text(text)
            if reason is not None:
                raise BackendError(f"{what}: {reason}")

    # -- online DDL (database_config(concurrent_indexes=..., lock_timeout=..., statement_timeout=...)) ------------

    supports_concurrent_indexes: ClassVar[bool] = False  # CREATE/DROP INDEX CONCURRENTLY
    concurrent_indexes: bool = False  # this database builds indexes on existing tables concurrently
    timeouts: Mapping[str, int] = {}  # "lock_timeout" / "statement_timeout" → milliseconds, set before each migration
    # what each timeout is called here, and in what unit the server takes it ("ms", "s", "whole s")
    timeout_variables: ClassVar[Mapping[str, tuple[tuple[str, str], ...]]] = {}

    manage_grants: bool = False  # privileges on tables, views and sequences are part of the snapshot

    def for_database(self, config: Any) -> Backend:
        """This backend set up for one configured database (ClickHouse renders ``ON CLUSTER`` for ``cluster=``)."""
        backend = self.online(config.concurrent_indexes, config.timeouts)
        if getattr(config, "manage_grants", False) != backend.manage_grants:
            backend = copy.copy(backend)
            backend.manage_grants = config.manage_grants
        return backend

    def online(self, concurrent_indexes: bool, timeouts: Mapping[str, int] | None = None) -> Backend:
        """This backend building indexes on existing tables concurrently (or not), with ``timeouts``; the same
        object when nothing changes."""
        timeouts = dict(self.timeouts if timeouts is None else timeouts)
        if concurrent_indexes == self.concurrent_indexes and timeouts == dict(self.timeouts):
            return self
        if concurrent_indexes and not self.supports_concurrent_indexes:
            raise ConfigError(f"building indexes concurrently is a PostgreSQL feature; {self.name} builds plain "
                              "indexes online by itself where it can")
        clone = copy.copy(self)
        clone.concurrent_indexes, clone.timeouts = concurrent_indexes, timeouts
        return clone

    def timeout_statements(self) -> list[str]:
        """The statements that set this database's timeouts for the session, before each migration."""
        out = []
        for name, ms in sorted(self.timeouts.items()):
            values = {"ms": f"{ms}", "s": f"{ms / 1000:g}", "whole s": f"{max(1, -(-ms // 1000))}"}
            out += [self.set_sql(variable, values[unit]) for variable, unit in self.timeout_variables[name]]
        return out

    def set_sql(self, variable: str, value: str) -> str:
        return f"SET SESSION {variable} = {value}"

    # -- connecting ---------------------------------------------------------------------------------

    def dialect(self) -> Dialect:
        """The SQLAlchemy dialect that compiles model-side types, defaults, expressions and names. What it
        compiles is run verbatim, with no parameters, so it uses the ``named`` paramstyle: a ``format`` or
        ``pyformat`` one (psycopg2's, MySQLdb's) would double every ``%`` in names, strings and checks."""
        from sqlalchemy.dialects import registry

        return registry.load(self.dialect_name)(paramstyle="named")

    def create_engine(self, url: str) -> sa.Engine:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        return create_engine(url, poolclass=NullPool)

    def connect(self, url: str, masked_url: str | None = None) -> Connection:
        from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

        from ...config import mask_text, mask_url

        masked = masked_url or mask_url(url)
        try:
            engine = self.create_engine(url)
        except (ArgumentError, NoSuchModuleError, ValueError, TypeError) as exc:  # a port or option not a number…
            raise ConfigError(f"invalid database URL {masked}: {mask_text(str(exc), [url])}") from None
        try:
            return Connection(self, engine, masked)
        except DBAPIError as exc:
            reason = mask_text(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc), [url])
            raise ConfigError(f"cannot connect to {masked}: {reason}") from None

    def connect_read_only(self, url: str, masked_url: str | None = None) -> Connection:
        """A connection for commands that only read and compare (and normalize models in a rolled-back
        transaction); backends whose driver is much cheaper to load than SQLAlchemy's engine override it."""
        return self.connect(url, masked_url)

    def user_schemas(self, conn: Connection) -> list[str]:
        """Every schema of the database that holds user objects (backends with ``supports_schemas``)."""
        return []

    def server_version(self, conn: Connection) -> str:
        info = conn.sqlalchemy.dialect.server_version_info or ()
        return ".".join(str(p) for p in info)

    # -- identifiers and types ----------------------------------------------------------------------

    def quote(self, name: str) -> str:
        return self._preparer().quote_identifier(name)

    def _preparer(self) -> Any:
        prep = getattr(self, "_prep", None)
        if prep is None:
            prep = self._prep = self.dialect().identifier_preparer
        return prep

    def qualified(self, key_or_schema: str | None, name: str | None = None) -> str:
        """Quoted ``schema.name`` (``qualified(schema, name)``)."""
        if name is None:
            return self.quote(key_or_schema or "")
        return f"{self.quote(key_or_schema)}.{self.quote(name)}" if key_or_schema else self.quote(name)

    def literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def canonical_type(self, spelled: str) -> str:
        """One spelling per type: upper case, single spaces, no spaces around parentheses, aliases mapped."""
        text = _PAREN_SPACES.sub(r"\1", _SPACES.sub(" ", spelled.strip())).upper()
        text = text.replace(",", ", ")
        base, paren, rest = text.partition("(")
        base = self.type_aliases.get(base, base)
        return base + paren + rest

    def canonical_default(self, text: str) -> str:
        return self.canonical_expression(text)

    def canonical_expression(self, text: str) -> str:
        from .sqltext import collapse_spaces

        return collapse_spaces(text)

    def canonical_view(self, definition: str) -> str:
        return self.canonical_expression(definition)

    def table_options(self, table: sa.Table) -> dict[str, Any]:
        """Backend facts of a model table (dialect kwargs and ``info["dbwarden"]``)."""
        return {}

    def column_options(self, column: sa.Column[Any]) -> dict[str, Any]:
        return {}

    def computed_stored(self, computed: Any) -> bool:
        """Whether a model's ``Computed`` is stored; ``persisted=None`` means the backend's default."""
        return computed.persisted is not False

    # The referential action a foreign key gets when none is written: the snapshot spells it None, so that
    # saying it and leaving it out are one meaning (MariaDB reports RESTRICT there, and NO ACTION only when written).
    default_fk_action: ClassVar[str] = "NO ACTION"

    def canonical_fk_action(self, action: str | None) -> str | None:
        if action is None:
            return None
        action = " ".join(action.upper().split())
        return None if action == self.default_fk_action else action

    def normalize_model_table(self, table: Any) -> Any:
        """Last model-side step: spell what the server would report (implicit names, rowid rules…)."""
        return table

    # Model-side hooks for options SQLAlchemy keeps in dialect keyword arguments; extract.py calls them.
    normalizes_on_server: ClassVar[bool] = False  # models pass through the server (normalize_models)
    default_schema_name: ClassVar[str | None] = None

    def default_schema(self, conn: Connection | None) -> str | None:
        return self.default_schema_name

    def normalize_models(self, raw: Snapshot, conn: Connection | None) -> Snapshot:
        """The model snapshot in the server's spelling; ``conn`` is None offline."""
        return raw

    def index_options(self, index: Any) -> dict[str, Any]:
        return {}

    def index_opclass(self, index: Any, name: str | None) -> str | None:
        return None

    def unique_options(self, constraint: Any) -> dict[str, Any]:
        return {}

    def primary_key_options(self, constraint: Any) -> dict[str, Any]:
        return {}

    def check_options(self, constraint: Any) -> dict[str, Any]:
        return {}

    def foreign_key_options(self, constraint: Any) -> dict[str, Any]:
        return {}

    def column_check(self, column: Any, constraint: Any, expression: str) -> Any:
        """A check given in a column's arguments, as this backend holds it (the same as a table's by default)."""
        from ...schema import Check

        name = constraint.name if isinstance(constraint.name, str) else None
        return Check(name, expression, self.check_options(constraint))

    def extra_checks(self, table: Any) -> list[Any]:
        """Constraints SQLAlchemy models as their own classes (PostgreSQL's exclusion constraints)."""
        return []

    def model_extras(self, tables: Sequence[Any], default_schema: str | None, metadata: Sequence[Any] = ()) -> dict[str, Any]:
        """Schema objects outside tables that the models declare: enums, sequences, domains (``metadata``: every
        ``MetaData`` of the models, which holds those declared with ``metadata=`` that no table uses)."""
        return {}

    # -- code generation (generate-models) ----------------------------------------------------------

    type_candidates_table: ClassVar[Mapping[str, tuple[str, ...]]] = TYPE_CANDIDATES
    python_types: ClassVar[Mapping[str, str]] = PYTHON_TYPES
    # whether a ``Mapped[X | None]`` annotation says what ``nullable=`` would (ClickHouse: only an explicit one does)
    nullable_from_annotation: ClassVar[bool] = True

    def array_type_code(self, element: str) -> str:
        """Model code for an array of ``element`` (a snapshot type ending in ``[]``)."""
        return f"sa.ARRAY({element})"

    def domain_type_code(self, arguments: str) -> str:
        """Model code for a domain of the snapshot, given its constructor's arguments."""
        raise BackendError(f"{self.name} has no domains")

    def type_candidates(self, spelled: str) -> list[str]:
        """SQLAlchemy type expressions that may compile to ``spelled`` (only integer parameters are used)."""
        m = _TYPE_PARTS.match(spelled)
        if not m:
            return []
        params = [p.strip() for p in (m.group(2) or "").split(",") if p.strip()]
        out = []
        for code in self.type_candidates_table.get(m.group(1), ()):
            wanted = code.count("{")
            if wanted == len(params):
                out.append(code.format(*params))
        return out

    def codegen_namespace(self) -> dict[str, Any]:
        """Names (besides ``sa``) that type candidates use, e.g. a dialect's types module."""
        return {}

    def inline_enum_values(self, spelled: str) -> tuple[str, ...] | None:
        """The labels of a column type that lists them itself (MySQL's ``enum('a','b')``), else None; such a type
        gets an enum class (spelled by :meth:`enum_class_type`)."""
        return None

    def enum_class_type(self, arguments: str) -> str:
        """The type expression of an inline enum made from its class (``arguments``: the class and keywords)."""
        return f"sa.Enum({arguments})"

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        return []

    def python_type(self, spelled: str) -> str:
        m = _TYPE_PARTS.match(spelled)
        return self.python_types.get(m.group(1), "Any") if m else "Any"

    def autoincrement_kwarg(self, table: Any, column: Any) -> str | None:
        """``"True"``/``"False"`` where SQLAlchemy's default ``autoincrement`` of a key column would not give the
        column as the snapshot has it; None where it does."""
        return None

    def implied_sequence(self, table: Any, column: Any) -> tuple[str, dict[str, Any], str] | None:
        """For an auto-numbered column SQLAlchemy cannot spell as such (PostgreSQL: a serial outside the primary
        key), the sequence to give it (key, options) and the server default that draws from it."""
        return None

    def implicit_constraint_name(self, table: Any, kind: str, columns: Sequence[str]) -> str | None:
        """The name the server gives an unnamed constraint (generate-models leaves such names out)."""
        return None

    def constraint_kwargs(self, constraint: Any) -> dict[str, str]:
        """Dialect keyword arguments (name → Python source) of a unique, check or foreign key."""
        return {}

    def check_code(self, check: Any) -> str | None:
        """Model code for a check-like constraint SQLAlchemy spells with its own class, else None."""
        return None

    def column_kwargs(self, table: Any, column: Any) -> dict[str, str]:
        """Extra keyword arguments (name → Python source) generate-models writes for a column."""
        return {}

    def column_info(self, column: Any) -> dict[str, Any]:
        """The ``info["dbwarden"]`` entries generate-models writes for a column."""
        return {}

    def table_info(self, table: Any) -> dict[str, Any]:
        return {}

    def table_kwargs(self, table: Any) -> dict[str, str]:
        """Dialect keyword arguments (name → Python source) generate-models writes for a table."""
        return {}

    def index_kwargs(self, index: Any) -> dict[str, str]:
        return {}

    # -- schema -------------------------------------------------------------------------------------

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        raise NotImplementedError

    def from_models(self, tables: Sequence[sa.Table], conn: Connection | None = None,
                    metadata: Sequence[sa.MetaData] = ()) -> Snapshot:
        """The canonical snapshot of SQLAlchemy tables; ``conn`` lets a backend normalize through the server."""
        return self.normalize_models(self.extract_models(tables, conn, metadata), conn)

    def extract_models(self, tables: Sequence[sa.Table], conn: Connection | None = None,
                       metadata: Sequence[sa.MetaData] = ()) -> Snapshot:
        """The snapshot as SQLAlchemy spells the models, before any server normalization."""
        from ...models.extract import extract

        return extract(self, tables, self.default_schema(conn), metadata)

    def empty(self) -> Snapshot:
        return Snapshot(self.name)

    # -- planning and rendering ---------------------------------------------------------------------

    def plan(self, old: Snapshot, new: Snapshot, renames: Any = None, rebuild: Sequence[str] = (),
             refuse: bool = True) -> Plan:
        """The plan from ``old`` to ``new`` on this engine: diffed, adapted to what it can run, refused in one line
        when a step is one the engine cannot run (its ``unsupported`` table), each step assessed. ``refuse=False``:
        the differences only, never run (what migrate reports when the database differs from its target)."""
        from ...differ import diff

        plan = diff(old, new, renames, forward_references=self.supports_forward_references)
        adapted = self.adapt(plan.replace(rebuild=tuple(rebuild)), old, new)
        if refuse:
            self.refuse_unsupported(adapted)
        return self.assessed(adapted)

    def assessed(self, plan: Plan, undoing: bool = False) -> Plan:
        """``plan`` with each step's assessment for this engine (severity by effect, data checks, locks);
        ``undoing``: the plan is a rollback's."""
        from .assess import assessed

        return assessed(self, plan, undoing)

    # base type name → (family, implied length): what decides whether values of one type fit another (assess.py)
    type_families: ClassVar[Mapping[str, tuple[str, int | None]]] = {}

    def zero_value(self, type_: str) -> str | None:
        """A literal of ``type_`` for rows that must hold something (a NOT NULL column re-added by a rollback)."""
        from .assess import type_shape

        family = type_shape(type_, self.type_families).family
        return {"integer": "0", "decimal": "0", "string": "''", "char": "''"}.get(family)

    def assess(self, op: Operation) -> Any:
        """What ``op`` does on this engine where that differs from what it does anywhere (None: its defaults)."""
        return self.assessor().assess(op)

    def assessor(self, undoing: bool = False) -> Any:
        from .assess import Assessor

        return Assessor(self, undoing)

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """Rewrite a neutral plan into steps this backend can run (e.g. table rebuilds)."""
        return plan

    # -- history and lock ---------------------------------------------------------------------------

    history_table: ClassVar[str] = "dbwarden_migrations"
    transactional_history: ClassVar[bool] = True  # a history write can sit in one transaction with its statements
    lock_table: ClassVar[str] = "dbwarden_lock"
    log_table: ClassVar[str] = "dbwarden_log"  # the audit trail: one row per migration applied, rolled back, ...
    seeds_table: ClassVar[str] = "dbwarden_seeds"  # which seed files were applied, with their checksums (seeds.py)
    supports_seeds: ClassVar[bool] = False  # seeds_ddl works here, and a seed's statements share one transaction
    internal_tables: ClassVar[frozenset[str]] = frozenset({"dbwarden_migrations", "dbwarden_lock", "dbwarden_log",
                                                           "dbwarden_seeds"})

    def seeds_ddl(self) -> list[str]:
        """CREATE statement for the seeds table (idempotent)."""
        import sqlalchemy as sa
        from sqlalchemy.schema import CreateTable

        table = sa.Table(
            self.seeds_table,
            sa.MetaData(),
            sa.Column("version", sa.Integer, primary_key=True, nullable=False, autoincrement=False),
            sa.Column("filename", sa.String(255), nullable=False),
            sa.Column("checksum", sa.String(80), nullable=False),
            sa.Column("repeatable", sa.Integer, nullable=False),
            sa.Column("applied_at", sa.String(32), nullable=False),
        )
        return [str(CreateTable(table, if_not_exists=True).compile(dialect=self.dialect())).strip()]

    def history_ddl(self) -> list[str]:
        """CREATE statements for the history table and the audit trail (idempotent)."""
        from sqlalchemy.schema import CreateTable

        return [str(CreateTable(self._history_table(name, keyed), if_not_exists=True).compile(dialect=self.dialect())).strip()
                for name, keyed in ((self.history_table, True), (self.log_table, False))]

    def _history_table(self, name: str, keyed: bool) -> sa.Table:
        import sqlalchemy as sa

        return sa.Table(
            name,
            sa.MetaData(),
            sa.Column("version", sa.Integer, primary_key=keyed, nullable=False, autoincrement=False),
            sa.Column("description", sa.String(255), nullable=False),
            sa.Column("filename", sa.String(255), nullable=False),
            sa.Column("checksum", sa.String(80), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("statements_completed", sa.Integer, nullable=False),
            sa.Column("applied_at", sa.String(32), nullable=False),
            sa.Column("duration_ms", sa.Integer, nullable=False),
            sa.Column("target", sa.String(80)),
        )

    def lock_ddl(self) -> list[str]:
        import sqlalchemy as sa
        from sqlalchemy.schema import CreateTable

        table = sa.Table(
            self.lock_table,
            sa.MetaData(),
            sa.Column("name", sa.String(32), primary_key=True),
            sa.Column("owner", sa.String(255), nullable=False),
            sa.Column("acquired_at", sa.Float, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False),
        )
        return [str(CreateTable(table, if_not_exists=True).compile(dialect=self.dialect())).strip()]

    def table_exists(self, conn: Connection, name: str) -> bool:
        from sqlalchemy import inspect

        found = inspect(conn.sqlalchemy).has_table(name)
        conn.commit()
        return found

    def history_exists(self, conn: Connection) -> bool:
        return self.table_exists(conn, self.history_table)

    def lock(self, conn: Connection) -> Lock:
        from ...migrations.lock import LeaseLock

        return LeaseLock(conn)

    def cancel(self, conn: Connection) -> None:
        """Stop the statement ``conn`` runs on the server after a Ctrl-C (from another connection; best effort).
        Drivers that cancel on their own (psycopg) or whose statement ends with the process (SQLite) need nothing."""

    def interrupted(self, exc: BaseException) -> bool:
        """Whether a driver error is the driver's way of reporting a Ctrl-C that stopped the statement."""
        return False

    def leftovers(self, conn: Connection) -> list[str]:
        """Scratch databases a killed run left on the server, that no connection uses (``lock-status`` names them)."""
        return []

    @contextmanager
    def scratch_copy(self, url: str) -> Iterator[Connection]:
        """A connection to a throwaway copy of the database (``make-migrations --verify``)."""
        raise BackendError(f"--verify is not available for {self.name} yet")
        yield  # pragma: no cover

    @contextmanager
    def scratch_empty(self, url: str) -> Iterator[Connection]:
        """A connection to a new, empty database on the server of ``url``, dropped afterwards (``snapshot
        --restore`` replays a migration chain in it)."""
        raise BackendError(f"snapshot --restore is not available for {self.name} yet")
        yield  # pragma: no cover

    def statement_risks(self, sql: str) -> list[tuple[str, str]]:
        """Risks of one hand-written statement (``check`` on manual migrations), by its leading words."""
        words = " ".join(sql.split()[:6]).upper()
        first = sql.strip().splitlines()[0][:80] if sql.strip() else ""
        for pattern, level, why in _STATEMENT_RISKS:
            if re.match(pattern, words):
                return [(level, f"{why}: {first}")]
        return []

    def joins_transaction(self, sql: str) -> bool:
        """Without transactional DDL: whether this statement's effect commits or rolls back with the history
        write of its transaction (row changes do; DDL the server commits on its own does not)."""
        return False

    def before_migration(self, conn: Connection) -> None:
        """Called before a migration's first statement, outside any transaction: the session's timeouts."""
        for sql in self.timeout_statements():
            conn.execute(sql)

    def before_commit(self, conn: Connection) -> None:
        """Called inside the last transaction of a migration; raise to roll it back."""

    @contextmanager
    def pipeline(self, conn: Connection) -> Iterator[Pipeline]:
        """Send statements of the transaction ``conn`` has open without waiting for each result, where the driver
        can; here each runs as it is sent."""
        yield Pipeline(conn)

    def lock_capacity(self, conn: Connection) -> int | None:
        """How many locks the server's lock table holds for all sessions, where a transaction can run out of them
        (None: no such limit)."""
        return None

    def locks_held(self, conn: Connection) -> int:
        """The locks this session's transaction holds in that table."""
        return 0

    def failure(self, exc: BaseException, sql: str) -> MigrationError:
        """A one-line error for a failed statement."""
        orig = getattr(exc, "orig", None) or exc
        reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        first = sql.strip().splitlines()[0] if sql.strip() else sql
        return MigrationError(f"{reason} (in: {first[:120]})")


# The base of a backend's mixins (its connection.py, catalog.py, model.py, render.py, codegen.py, lock.py): Backend
# for type checkers, so their methods see its attributes; object at run time, so the backend class's bases decide.
if TYPE_CHECKING:
    Mixin = Backend
else:
    Mixin = object
