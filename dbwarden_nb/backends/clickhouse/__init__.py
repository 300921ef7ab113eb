"""ClickHouse through clickhouse-connect: a server over HTTP(S), or the embedded chDB engine (``chdb://``).

Canonical snapshot of a table (what introspection reports and model normalization produces):

- ``Column.type`` is the server's type without its outer ``Nullable(...)`` (kept inside ``LowCardinality``
  as ``LowCardinality(String)``); ``Column.nullable`` says whether it is wrapped. ``DEFAULT`` is
  ``Column.default``; ``MATERIALIZED`` / ``ALIAS`` are ``Computed(expr, stored=True / False)``;
  ``EPHEMERAL`` is ``default`` plus ``options["default_kind"] = "EPHEMERAL"``; ``options["codec"]`` is the
  codec list without ``CODEC(...)``, ``options["ttl"]`` the column TTL.
- ``Table.options``: ``engine`` (name and arguments, e.g. ``ReplacingMergeTree(ver)``), ``order_by``,
  ``primary_key`` (only when given apart from ORDER BY), ``partition_by``, ``sample_by``, ``ttl``,
  ``settings`` (explicit ones; the implicit ``index_granularity = 8192`` is left out) and ``projections``
  (name → query). A table has no constraints here: no primary key, foreign keys or uniques.
- Skip indexes are ``Index`` objects with one expression element and ``options`` ``type`` and ``granularity``; the
  ones the server makes itself (``add_minmax_index_for_*_columns`` settings) are implied by the setting, not listed.
- Dictionaries are tables with ``options["dictionary"]`` (see ``clickhouse_dictionary``).
- Not managed, and listed in ``Snapshot.unmanaged``: user-defined SQL functions (global to the server), table
  constraints, materialized views that keep their rows in an inner table, and whatever the server shows with a
  credential masked (``'[HIDDEN]'``), which could not be written back.

Models (documented in ``docs``/README): clickhouse-connect's SQLAlchemy types (``clickhouse_connect.
cc_sqlalchemy.datatypes.sqltypes``) and engines (``clickhouse_connect.cc_sqlalchemy.ddl.tableengine``,
given as a ``Table`` argument or ``clickhousedb_engine=``), column keyword arguments ``clickhousedb_codec``,
``clickhousedb_ttl``, ``clickhousedb_materialized``, ``clickhousedb_alias`` (or ``sa.Computed(expr,
persisted=False)`` for ALIAS), and ``info={"dbwarden": {...}}`` for the rest: on a column ``{"ephemeral":
True}`` (with ``server_default``); on a table ``{"projections": {name: query}}``; on an ``Index``
``{"type": "bloom_filter(0.01)", "granularity": 4}``; a dictionary is a ``Table`` with ``{"dictionary": {...}}``.
Nullability: ``Nullable(...)`` types or an explicit ``nullable=True`` give ``Nullable``; SQLAlchemy's implicit
default does not.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar, Iterator, Mapping, Sequence

from ...errors import BackendError, ConfigError, FailedAfterEffect, MigrationError
from ...migrations.files import Statement
from ...migrations.lock import LOCK_NAME, Lock, LockStatus, lease_seconds, lost_lease
from ...operations import AddColumn, AlterColumn, AlterTable, DropColumn, Operation, Plan, RenameColumn
from ...schema import Column, Computed, Index, IndexElement, Snapshot, Table, View
from ..base import Backend
from .dictionary import (
    ATTRIBUTE_OPTIONS,
    DICTIONARY,
    CreateDictionary,
    DropDictionary,
    ReplaceDictionary,
    declares_dictionary,
    dictionary_sql,
    fold_dictionaries,
    hides_a_credential,
    is_dictionary,
    model_dictionary,
    parse_dictionary,
)
from ..base.sqltext import collapse_spaces, doubled_quotes, split_top_level, top_level_words

ENGINE_CLAUSES = ("PARTITION BY", "PRIMARY KEY", "ORDER BY", "SAMPLE BY", "TTL", "SETTINGS")
IMPLICIT_SETTINGS = {"index_granularity": "8192"}
MUTATION_FAILED = "341"  # UNFINISHED: an ALTER's mutation failed after its definition change was made
# user-defined SQL functions: global to the server, listed as not managed in every database's snapshot
UDF_QUERY = "SELECT name FROM system.functions WHERE origin = 'SQLUserDefined' ORDER BY name"
# what ALTER TABLE cannot change in place
FIXED_OPTIONS = {"engine": "the engine", "partition_by": "PARTITION BY", "primary_key": "the PRIMARY KEY"}
# MergeTree settings fixed at CREATE TABLE (system.merge_tree_settings.readonly = 1 on 26.9): MODIFY SETTING fails
READONLY_SETTINGS = (
    "index_granularity", "index_granularity_bytes", "enable_mixed_granularity_parts", "table_disk",
    "share_nested_offsets", "allow_tuple_element_aggregation", "add_minmax_index_for_numeric_columns",
    "add_minmax_index_for_string_columns", "add_minmax_index_for_temporal_columns",
    "add_minmax_index_for_block_number_column", "add_minmax_index_for_block_offset_column",
)

# generic SQLAlchemy spellings → ClickHouse types (the server reads them as these aliases)
GENERIC_TYPES = {
    "INTEGER": "Int32", "INT": "Int32", "BIGINT": "Int64", "SMALLINT": "Int16", "VARCHAR": "String", "TEXT": "String",
    "CLOB": "String", "DATETIME": "DateTime", "TIMESTAMP": "DateTime", "DATE": "Date", "BOOLEAN": "Bool",
    "FLOAT": "Float32", "REAL": "Float32", "DOUBLE": "Float64", "DOUBLE PRECISION": "Float64", "NUMERIC": "Decimal",
    "DECIMAL": "Decimal", "UUID": "UUID", "JSON": "JSON",
}
CH_PYTHON_TYPES = {
    "String": "str", "FixedString": "str", "Enum8": "str", "Enum16": "str", "Bool": "bool", "UUID": "uuid.UUID",
    "Date": "datetime.date", "Date32": "datetime.date", "DateTime": "datetime.datetime", "DateTime64": "datetime.datetime",
    "Decimal": "decimal.Decimal", "IPv4": "ipaddress.IPv4Address", "IPv6": "ipaddress.IPv6Address", "JSON": "dict[str, Any]",
}


def _split_top(text: str, sep: str = ",") -> list[str]:
    return split_top_level(text, sep, backslash=True)


def _top_keywords(text: str, words: Sequence[str]) -> list[tuple[int, str]]:
    return top_level_words(text, words, backslash=True)


def _unwrap(text: str, name: str) -> str | None:
    if text.startswith(name + "(") and text.endswith(")"):
        inner = text[len(name) + 1:-1]
        if _balanced(inner):
            return inner
    return None


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def split_nullable(spelled: str) -> tuple[str, bool]:
    """``Nullable(T)`` → (T, True); ``LowCardinality(Nullable(T))`` → (``LowCardinality(T)``, True)."""
    inner = _unwrap(spelled, "Nullable")
    if inner is not None:
        return inner, True
    low = _unwrap(spelled, "LowCardinality")
    if low is not None:
        lowinner = _unwrap(low, "Nullable")
        if lowinner is not None:
            return f"LowCardinality({lowinner})", True
    return spelled, False


def full_type(col: Column) -> str:
    if not col.nullable:
        return col.type
    low = _unwrap(col.type, "LowCardinality")
    return f"LowCardinality(Nullable({low}))" if low is not None else f"Nullable({col.type})"


def parse_engine_full(text: str) -> dict[str, Any]:
    """``ReplacingMergeTree(v) PARTITION BY … ORDER BY … SETTINGS a = 1`` → options dict."""
    text = collapse_spaces(doubled_quotes(text))
    marks = _top_keywords(text, ENGINE_CLAUSES)
    head = text[: marks[0][0]].strip() if marks else text.strip()
    if re.fullmatch(r"`\w+`", head):  # the server quotes keyword-like names: `Null`
        head = head[1:-1]
    opts: dict[str, Any] = {"engine": head}
    for n, (at, word) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(text)
        value = text[at + len(word):end].strip()
        if word == "SETTINGS":
            settings = {}
            for pair in _split_top(value):
                k, _, v = pair.partition("=")
                k, v = k.strip(), v.strip()
                if IMPLICIT_SETTINGS.get(k) != v:
                    settings[k] = v
            if settings:
                opts["settings"] = settings
        else:
            opts[word.lower().replace(" ", "_")] = value
    if "primary_key" in opts and _keys(opts["primary_key"]) == _keys(opts.get("order_by") or ""):
        del opts["primary_key"]  # PRIMARY KEY equal to ORDER BY is the default, however it was spelled
    return opts


def engine_clauses(opts: Mapping[str, Any]) -> str:
    parts = [f"ENGINE = {opts['engine']}"]
    for word in ENGINE_CLAUSES[:-1]:
        key = word.lower().replace(" ", "_")
        if opts.get(key):
            parts.append(f"{word} {opts[key]}")
    if opts.get("settings"):
        parts.append("SETTINGS " + ", ".join(f"{k} = {v}" for k, v in opts["settings"].items()))
    return " ".join(parts)


def column_list(create_query: str) -> tuple[str, str] | None:
    """The parenthesized column (or attribute) list of a CREATE statement the server printed, and the text after
    it: ``CREATE TABLE db.`a(b` (x UInt8) ENGINE = Log`` gives ``("x UInt8", "ENGINE = Log")``; None without one."""
    depth, quote, start, i = 0, "", -1, 0
    while i < len(create_query):
        ch = create_query[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'`\"":
            quote = ch
        elif ch == "(":
            start = i if depth == 0 else start
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return create_query[start + 1:i], create_query[i + 1:].strip()
        i += 1
    return None


def parse_column_ttls(create_query: str) -> dict[str, str]:
    """Column TTLs, which only the table's DDL carries: ``{column: expression}``."""
    listed = column_list(create_query)
    out: dict[str, str] = {}
    for part in _split_top(listed[0]) if listed else ():  # quotes doubled (introspect), no \' left
        named = split_column_name(part)
        if named is None or not part.startswith("`") and named[0].upper() in ("INDEX", "PROJECTION", "CONSTRAINT"):
            continue
        marks = _top_keywords(part, ("TTL",))
        if marks:
            tail = part[marks[-1][0] + 3:].strip()
            for stop in (" SETTINGS ", " COMMENT "):  # never after TTL in canonical DDL, but be safe
                tail = tail.split(stop)[0]
            out[named[0]] = tail
    return out


_NAME = r"(?:`(?:[^`\\]|``|\\.)*`|[^\s.`(]+)"  # a name as the server prints it: in backticks, or bare


def constraint_names(create_query: str) -> list[str]:
    """The names of a table's constraints (``CONSTRAINT c CHECK …`` / ``ASSUME …``), which the snapshot does not carry."""
    listed = column_list(create_query)
    parts = _split_top(listed[0]) if listed else []
    named = [split_column_name(p.removeprefix("CONSTRAINT ")) for p in parts if p.startswith("CONSTRAINT ")]
    return [n[0] for n in named if n is not None]


def _materialized_target(create_query: str) -> str | None:
    """``CREATE MATERIALIZED VIEW db.v TO db.t … AS SELECT …`` → ``db.t``; None for a view that keeps its rows in an
    inner table (a TO after its ENGINE belongs to a TTL: ``TTL d TO DISK 'cold'``)."""
    for at, word in _top_keywords(create_query, ("TO", "ENGINE", "AS")):
        if word != "TO":
            return None
        name = re.match(rf"{_NAME}(?:\.{_NAME})?", create_query[at + 3:])
        return name.group(0) if name else None
    return None


def split_column_name(part: str) -> tuple[str, str] | None:
    """A column (or attribute) definition as the server prints it → (its name, unquoted; the rest), e.g.
    ``x UInt8 DEFAULT 1`` → ``("x", "UInt8 DEFAULT 1")``; None when the part starts with no name."""
    if part.startswith("`"):
        quoted = re.match(_NAME, part)
        if quoted is None:
            return None
        return unquote_name(quoted.group(0)), part[quoted.end():].strip()
    if not re.match(r"[A-Za-z_]\w* ", part):
        return None
    name, _, rest = part.partition(" ")
    return name, rest.strip()


def unquote_name(text: str) -> str:
    """A name as the server prints it, bare or in backticks (a backtick inside doubled or backslash-escaped)."""
    if not (len(text) > 1 and text.startswith("`") and text.endswith("`")):
        return text
    return re.sub(r"``|\\(.)", lambda m: m.group(1) or "`", text[1:-1])


class ClickHouseConnection:
    """The ``Connection`` shape over a clickhouse-connect client. ClickHouse has no transactions: the
    transaction methods only mark scopes, and nothing can be rolled back."""

    lost = False  # HTTP has no session to lose: each request stands alone

    def __init__(self, backend: ClickHouseBackend, client: Any, masked_url: str, shared: bool):
        self.backend = backend
        self.client = client
        self.masked_url = masked_url
        self._shared = shared

    @property
    def database(self) -> str:
        return self.client.database or "default"

    def execute(self, sql: str) -> None:
        self.client.command(sql)

    execute_autocommit = execute

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        from clickhouse_connect.driver.binding import format_query_value

        if params:
            sql = re.sub(r"(?<![:\w]):(\w+)", lambda m: str(format_query_value(params[m.group(1)]))
                         if m.group(1) in params else m.group(0), sql)
        if re.match(r"\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS)\b", sql, re.I):
            return [tuple(r) for r in self.client.query(sql).result_rows]
        self.client.command(sql)
        return []

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        yield

    @contextmanager
    def use(self, database: str) -> Iterator[None]:
        before = self.client.database
        self.client.database = database
        try:
            yield
        finally:
            self.client.database = before

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        if not self._shared:
            self.client.close()

    def __enter__(self) -> ClickHouseConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClickHouseLeaseLock(Lock):
    """A lease without transactions or row locks: Lamport's bakery over rows of a MergeTree table.

    A claimant first inserts a *choosing* row (token 0), then a *ticket* row whose token is above every token it
    can see, then waits until nobody else is still choosing, and holds the lock if its ticket is the lowest live
    one; else it withdraws its rows and tries again later. Every contender reads the same tickets, and one that
    chose after us saw ours, so at most one holds the lock. Rows expire ``$DBWARDEN_LOCK_LEASE`` seconds after
    their last renewal, which is how a crashed holder's lease is taken over. The ticket is a fencing token:
    :meth:`verify`, called before every history write, stops a holder whose lease another runner took over.
    """

    def __init__(self, conn: Any, owner: str | None = None):
        super().__init__(conn, owner)
        self.table = conn.backend.quote(conn.backend.lock_table)
        self.token: int | None = None
        self.ttl = lease_seconds()

    def _ensure(self) -> None:
        for sql in self.conn.backend.lock_ddl():
            self.conn.execute(sql)

    def _insert(self, token: int, now: float) -> None:
        self.conn.query(f"INSERT INTO {self.table} (name, owner, token, acquired_at, expires_at) VALUES "
                        "(:n, :o, :t, :now, :exp)", {"n": LOCK_NAME, "o": self.owner, "t": token, "now": now,
                                                     "exp": now + self.ttl})

    def _choosing(self) -> bool:
        """Whether another claimant has a choosing row and no ticket yet."""
        return bool(self.conn.query(
            f"SELECT owner FROM {self.table} WHERE name = :n AND owner != :o AND expires_at >= :now "
            "GROUP BY owner HAVING max(token) = 0 LIMIT 1", {"n": LOCK_NAME, "o": self.owner, "now": time.time()}))

    def _lowest(self) -> tuple[str, int] | None:
        rows = self.conn.query(f"SELECT owner, token FROM {self.table} WHERE name = :n AND token > 0 AND expires_at >= :now "
                               "ORDER BY token, owner LIMIT 1", {"n": LOCK_NAME, "now": time.time()})
        return (rows[0][0], int(rows[0][1])) if rows else None

    def try_acquire(self) -> bool:
        self._ensure()
        if self._lowest() is not None:  # held, and not stale: no need to queue (deletes are slow here)
            return False
        now = time.time()
        if self.conn.query(f"SELECT 1 FROM {self.table} WHERE expires_at < :now LIMIT 1", {"now": now}):
            self.conn.query(f"DELETE FROM {self.table} WHERE expires_at < :now", {"now": now})
        self._insert(0, now)
        seen = self.conn.query(f"SELECT max(token) FROM {self.table} WHERE name = :n", {"n": LOCK_NAME})[0][0] or 0
        token = max(int(seen) + 1, time.time_ns())  # above every ticket seen, and growing from holder to holder
        self._insert(token, now)
        deadline = time.monotonic() + self.ttl
        while self._choosing() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._lowest() == (self.owner, token):
            self.token = token
            return True
        self.release()
        return False

    def verify(self) -> None:
        if self._lowest() != (self.owner, self.token):
            raise lost_lease(f"{self.owner} (fencing token {self.token})", self.ttl)

    def renew(self) -> None:
        self.verify()
        self.conn.query(f"ALTER TABLE {self.table} UPDATE expires_at = :exp WHERE owner = :o SETTINGS mutations_sync = 2",
                        {"exp": time.time() + self.ttl, "o": self.owner})

    def release(self) -> None:
        """Withdraw our rows, and expired ones left by holders that vanished (a stale ticket we outlived)."""
        self.conn.query(f"DELETE FROM {self.table} WHERE owner = :o OR expires_at < :now", {"o": self.owner, "now": time.time()})
        self.held = False

    def status(self) -> LockStatus:
        if not self.conn.backend.table_exists(self.conn, self.conn.backend.lock_table):
            return LockStatus(False)
        rows = self.conn.query(f"SELECT owner, acquired_at, expires_at FROM {self.table} WHERE name = :n AND token > 0 "
                               "ORDER BY token, owner LIMIT 1", {"n": LOCK_NAME})
        if not rows:
            return LockStatus(False)
        owner, acquired, expires = rows[0]
        return LockStatus(True, owner, float(acquired), float(expires))

    def force_release(self) -> LockStatus:
        before = self.status()
        if before.held:
            self.conn.query(f"DELETE FROM {self.table} WHERE name = :n", {"n": LOCK_NAME})
        return before


class ClickHouseBackend(Backend):
    name: ClassVar[str] = "clickhouse"
    dialect_name: ClassVar[str] = "clickhousedb"
    supports_comments: ClassVar[bool] = True
    new_not_null_fill: ClassVar[str | None] = "the default value of its type (0, an empty string, the epoch)"
    normalizes_on_server: ClassVar[bool] = True
    option_keys: ClassVar[Sequence[str]] = ("ephemeral", "projections", "type", "granularity", DICTIONARY, *ATTRIBUTE_OPTIONS)

    def __init__(self, cluster: str | None = None):
        self.cluster = cluster

    def with_cluster(self, cluster: str | None) -> ClickHouseBackend:
        """This backend rendering ``ON CLUSTER <cluster>`` (``database_config(cluster=...)``)."""
        return ClickHouseBackend(cluster)

    def for_database(self, config: Any) -> ClickHouseBackend:
        return self.with_cluster(config.cluster) if config.cluster else self

    # -- connecting ---------------------------------------------------------------------------------

    def dialect(self) -> Any:
        import clickhouse_connect.cc_sqlalchemy  # noqa: F401  registers the dialect
        from clickhouse_connect.cc_sqlalchemy.dialect import ClickHouseDialect

        return ClickHouseDialect()

    def connect(self, url: str, masked_url: str | None = None) -> ClickHouseConnection:  # type: ignore[override]
        from ...config import mask_text, mask_url, parse_clickhouse_url

        masked = masked_url or mask_url(url)
        args = parse_clickhouse_url(url)
        try:
            import clickhouse_connect
        except ModuleNotFoundError:
            raise ConfigError("the clickhouse backend needs clickhouse-connect: pip install 'dbwarden_nb[clickhouse]'") from None
        # the client logs its own failures (with the URL) through logging's last-resort stderr handler: the user
        # gets our one masked line instead; an application that configures logging still sees them
        logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
        try:
            if args["interface"] == "chdb":
                from .chdb import get_chdb_client

                if not args["path"]:
                    raise ConfigError(f"{masked}: chdb:// needs a data directory (chdb:///absolute/path)")
                client = get_chdb_client(str(args["path"]), str(args["database"] or "default"))
                return ClickHouseConnection(self, client, masked, shared=True)
            client = clickhouse_connect.get_client(
                interface=args["interface"], host=args["host"], port=args["port"], username=args["username"],
                password=args["password"], database=args["database"] or "default", secure=args["secure"])
            return ClickHouseConnection(self, client, masked, shared=False)
        except (BackendError, ConfigError):
            raise
        except Exception as exc:
            raise ConfigError(f"cannot connect to {masked}: {mask_text(str(exc).splitlines()[0], [url])}") from None

    def server_version(self, conn: Any) -> str:
        return str(conn.client.server_version)

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

    def table_exists(self, conn: Any, name: str) -> bool:
        return bool(conn.query("SELECT 1 FROM system.tables WHERE database = :d AND name = :n",
                               {"d": conn.database, "n": name}))

    # -- types --------------------------------------------------------------------------------------

    def canonical_type(self, spelled: str) -> str:
        text = collapse_spaces(spelled)
        base, paren, rest = text.partition("(")
        mapped = GENERIC_TYPES.get(base.upper().strip())
        if mapped is not None and (not paren or mapped == "Decimal"):
            return mapped + paren + rest
        return text

    # -- introspection ------------------------------------------------------------------------------

    def introspect(self, conn: Any, schemas: Sequence[str] | None = None) -> Snapshot:
        db = conn.database
        p = {"d": db}
        tables = conn.query("SELECT name, engine, engine_full, comment, as_select, create_table_query "
                            "FROM system.tables WHERE database = :d AND NOT is_temporary ORDER BY name", p)
        columns: dict[str, list[tuple[Any, ...]]] = {}
        for row in conn.query("SELECT table, name, type, default_kind, default_expression, comment, compression_codec "
                              "FROM system.columns WHERE database = :d ORDER BY table, position", p):
            columns.setdefault(row[0], []).append(row[1:])
        indexes: dict[str, list[Index]] = {}
        for table, name, type_full, expr, granularity in conn.query(
                "SELECT table, name, type_full, expr, granularity FROM system.data_skipping_indices "
                f"WHERE database = :d AND NOT ({self._implicit_index(conn)}) ORDER BY table, name", p):
            indexes.setdefault(table, []).append(Index(name, (IndexElement(expression=doubled_quotes(expr)),),
                                                       options={"type": type_full, "granularity": int(granularity)}))
        projections: dict[str, dict[str, str]] = {}
        for table, name, query in conn.query("SELECT table, name, query FROM system.projections WHERE database = :d "
                                             "ORDER BY table, name", p):
            projections.setdefault(table, {})[name] = doubled_quotes(query)
        unmanaged: dict[str, list[str]] = {"function": [name for (name,) in conn.query(UDF_QUERY)]}
        out_tables, views = [], []
        for name, engine, engine_full, comment, as_select, create in tables:
            # the server prints 'it\'s': written 'it''s' (one spelling, and migration files split right)
            engine_full, as_select, create = doubled_quotes(engine_full), doubled_quotes(as_select), doubled_quotes(create)
            if name in self.internal_tables or name.startswith(".inner"):  # an inner table belongs to its view
                continue
            kind = "dictionary" if create.startswith("CREATE DICTIONARY ") else (
                "view" if engine in ("View", "MaterializedView") else "table")
            reason = self._not_managed(kind, engine, create)
            if reason is None and kind == "dictionary":
                try:
                    out_tables.append(parse_dictionary(create, name, comment))
                except ValueError:  # printed otherwise than this server version does: listed, never a failure
                    reason = kind, "dbwarden cannot read its definition"
            elif reason is None and kind == "view":
                views.append(self._view(db, name, engine, as_select, create, comment))
            elif reason is None:
                ttls = parse_column_ttls(create)
                opts = parse_engine_full(engine_full) if engine_full else {"engine": engine}
                if name in projections:
                    opts["projections"] = projections[name]
                out_tables.append(Table(name, None, tuple(self._column(r, ttls.get(r[0])) for r in columns.get(name, [])),
                                        indexes=tuple(indexes.get(name, ())), comment=comment or None, options=opts))
                unmanaged.setdefault("constraint", []).extend(f"{c} on {name}" for c in constraint_names(create))
            if reason is not None:
                unmanaged.setdefault(reason[0], []).append(f"{name} ({reason[1]})")
        return Snapshot.of(self.name, out_tables, views, server_version=self.server_version(conn),
                           unmanaged={k: tuple(v) for k, v in unmanaged.items()})

    @staticmethod
    def _not_managed(kind: str, engine: str, create: str) -> tuple[str, str] | None:
        """(kind, why) for an object the snapshot cannot carry faithfully, else None."""
        if hides_a_credential(create):
            return kind, "the server hides a credential of its definition"
        if engine == "MaterializedView" and not _materialized_target(create):
            return "materialized view", "its rows are kept in an inner table"
        return None

    def _implicit_index(self, conn: Any) -> str:
        """The condition that tells the skip indexes ClickHouse made itself (``add_minmax_index_for_*_columns``)
        from declared ones: the ``creation`` column where the server has it, else the names it reserves for them."""
        version = tuple(int(p) for p in re.findall(r"\d+", self.server_version(conn))[:2])
        return "creation = 'Implicit'" if version >= (26, 1) else "startsWith(name, 'auto_minmax_index_')"

    def _column(self, row: tuple[Any, ...], ttl: str | None) -> Column:
        name, spelled, kind, expr, comment, codec = row
        spelled, expr, codec = doubled_quotes(spelled), doubled_quotes(expr), doubled_quotes(codec)
        type_, nullable = split_nullable(spelled)
        opts: dict[str, Any] = {}
        if codec:
            opts["codec"] = _unwrap(codec, "CODEC") or codec
        if ttl:
            opts["ttl"] = ttl
        default, computed = None, None
        if kind == "DEFAULT":
            default = expr
        elif kind == "MATERIALIZED":
            computed = Computed(expr, True)
        elif kind == "ALIAS":
            computed = Computed(expr, False)
        elif kind == "EPHEMERAL":
            default = expr or None
            opts["default_kind"] = "EPHEMERAL"
        return Column(name, type_, nullable, default, computed=computed, comment=comment or None, options=opts)

    def _view(self, db: str, name: str, engine: str, as_select: str, create: str, comment: str) -> View:
        opts: dict[str, Any] = {}
        definition = self._unqualify(db, as_select)
        target = _materialized_target(create) if engine == "MaterializedView" else None
        if target:
            opts["to"] = unquote_name(self._unqualify(db, target))
        return View(name, definition, None, engine == "MaterializedView", comment or None, opts)

    @staticmethod
    def _unqualify(db: str, text: str) -> str:
        return re.sub(rf"(?<![\w.`])`?{re.escape(db)}`?\.", "", text)

    # -- models -------------------------------------------------------------------------------------

    def extract_models(self, tables: Sequence[Any], conn: Any = None, metadata: Sequence[Any] = ()) -> Snapshot:
        from ...models.extract import Extractor, is_view

        ex = Extractor(self, None)
        return Snapshot.of(self.name, [model_dictionary(self, ex, t) if declares_dictionary(t) else self._model_table(ex, t)
                                       for t in tables if not is_view(t)],
                           [ex.view(t) for t in tables if is_view(t)])

    def _model_table(self, ex: Any, table: Any) -> Table:
        info = dict(table.info.get("dbwarden") or {})
        engine = getattr(table, "engine", None) or table.kwargs.get("clickhousedb_engine") or table.kwargs.get("clickhouse_engine")
        if engine is None:
            raise BackendError(f"table {table.name}: a ClickHouse table needs an engine, e.g. "
                               "MergeTree(order_by='id') from clickhouse_connect.cc_sqlalchemy.ddl.tableengine")
        opts = parse_engine_full(engine.compile().removeprefix("Engine "))
        if info.get("projections"):
            opts["projections"] = dict(info["projections"])
        indexes = []
        for ix in table.indexes:
            ixinfo = dict(ix.info.get("dbwarden") or {})
            if "type" not in ixinfo:
                raise BackendError(f"index {ix.name} of table {table.name}: a ClickHouse skip index needs "
                                   "info={'dbwarden': {'type': 'minmax', 'granularity': 1}}")
            exprs = [self.column_reference(c.name) if hasattr(c, "table") and getattr(c, "name", None) in table.c
                     else ex.expression(c) for c in ix.expressions]
            expr = exprs[0] if len(exprs) == 1 else f"({', '.join(exprs)})"
            indexes.append(Index(ix.name, (IndexElement(expression=expr),),
                                 options={"type": ixinfo["type"], "granularity": int(ixinfo.get("granularity", 1))}))
        return Table(table.name, None, tuple(self._model_column(ex, table, c) for c in table.columns),
                     indexes=tuple(indexes), comment=table.comment, options=opts)

    def _model_column(self, ex: Any, table: Any, col: Any) -> Column:
        spelled = ex.type(col)
        if re.fullmatch(r"(VARCHAR|CHAR|NVARCHAR|NCHAR)\(\d+\)", spelled):
            raise BackendError(f"column {table.name}.{col.name}: {spelled} has no ClickHouse meaning (String has no "
                               "length); declare String() or FixedString(n) instead of dropping the width")
        type_, nullable = split_nullable(spelled)
        nullable = nullable or col._user_defined_nullable is True
        kw = col.dialect_options["clickhousedb"] if "clickhousedb" in col.dialect_options else {}
        info = dict(col.info.get("dbwarden") or {})
        opts: dict[str, Any] = {}
        codec = kw.get("codec")
        if codec is not None:
            opts["codec"] = codec if isinstance(codec, str) else ", ".join(str(c) for c in codec)
        if kw.get("ttl") is not None:
            opts["ttl"] = kw["ttl"] if isinstance(kw["ttl"], str) else ex.expression(kw["ttl"])
        default, computed = None, None
        if col.server_default is not None and col.computed is None:
            raw = ex.ddl.get_column_default_string(col)
            default = self.canonical_expression(raw) if raw is not None else None
        if info.get("ephemeral"):
            opts["default_kind"] = "EPHEMERAL"
        if col.computed is not None:
            computed = Computed(ex.expression(col.computed.sqltext), col.computed.persisted is not False)
        for key, stored in (("materialized", True), ("alias", False)):
            if kw.get(key) is not None:
                value = kw[key]
                computed = Computed(value if isinstance(value, str) else ex.expression(value), stored)
        return Column(col.name, type_, nullable, default, computed=computed, comment=col.comment, options=opts)

    def normalize_models(self, raw: Snapshot, conn: Any) -> Snapshot:
        """The models as the server spells them: created in a scratch database, read back, dropped."""
        if conn is None or (not raw.tables and not raw.views):
            return raw
        scratch = f"dbwarden_scratch_{uuid.uuid4().hex[:12]}"
        conn.execute(f"CREATE DATABASE {self.quote(scratch)}")
        try:
            with conn.use(scratch):
                plain = ClickHouseBackend()
                for table in raw.tables.values():
                    sql = dictionary_sql(plain, table) if is_dictionary(table) else plain.render_create_table_sql(table)
                    self._scratch_run(conn, sql, table.key)
                for view in _views_in_order(raw):
                    self._scratch_run(conn, plain.render_create_view_sql(view), view.key)
                snap = self.introspect(conn)
        finally:
            conn.execute(f"DROP DATABASE IF EXISTS {self.quote(scratch)} SYNC")
        refused = [f"{kind} {name}" for kind, names in snap.unmanaged.items() if kind != "function" for name in names]
        if refused:  # the server would not show it as declared, so it could never be compared or written back
            raise BackendError(f"the models declare {refused[0]}, which dbwarden cannot manage: keep credentials in a "
                               "named collection (SOURCE(CLICKHOUSE(NAME …)), ENGINE = MySQL(collection, …)) and give "
                               "a materialized view a TO table")
        return snap.replace(server_version=None, unmanaged={})

    @staticmethod
    def _scratch_run(conn: Any, sql: str, what: str) -> None:
        try:
            conn.execute(sql)
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(f"the server rejects the model of {what}: {reason[:300]}") from None

    # -- rendering ----------------------------------------------------------------------------------

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

    def render_create_table_sql(self, t: Table) -> str:
        items = [self.column_sql(c) for c in t.columns] + [self.index_sql(i) for i in t.indexes]
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

    def literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"  # '' rather than \': see quote()

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

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """ClickHouse's ALTER rules: columns appended to (or removed from the end of) ORDER BY are added or
        dropped in the ORDER BY statement itself; projections that change are dropped before the column
        changes of their table (a projection blocks ALTERs of the columns it reads) and added after them."""
        ops = self._fold_rebuilds(fold_dictionaries(list(plan), old, new), old, new, plan.rebuild)
        folded: set[tuple[str, str]] = set()
        for op in ops:
            if isinstance(op, AlterTable) and op.old.options.get("order_by") != op.new.options.get("order_by"):
                keys = set(_keys(op.old.options.get("order_by") or "")) | set(_keys(op.new.options.get("order_by") or ""))
                folded |= {(op.table, k.strip("`")) for k in keys}
        out: list[Operation] = []
        for op in ops:
            if isinstance(op, (AddColumn, DropColumn)) and (op.table, op.column.name) in folded:
                continue
            if isinstance(op, AlterTable):
                pa, pb = op.old.options.get("projections") or {}, op.new.options.get("projections") or {}
                stale = {n for n in pa if pb.get(n) != pa[n]}
                if stale:
                    kept = {k: v for k, v in pa.items() if k not in stale}
                    mid_opts = {k: v for k, v in op.old.options.items() if k != "projections"}
                    if kept:
                        mid_opts["projections"] = kept
                    mid = op.old.replace(options=mid_opts)
                    at = next((i for i, o in enumerate(out) if o.table == op.table), len(out))
                    out.insert(at, AlterTable(op.old, mid))
                    op = AlterTable(mid, op.new)
            out.append(op)
        return Plan(tuple(self._rebuild_projections(out, old)), plan.suggestions)

    @staticmethod
    def _fold_rebuilds(ops: list[Operation], old: Snapshot, new: Snapshot, allowed: Sequence[str]) -> list[Operation]:
        """Every step on a table the user allowed to be rebuilt (``make-migrations --rebuild TABLE``) becomes
        one rebuild that copies the rows, in place of the first of those steps."""
        from ...operations import RebuildTable

        tables = {op.table for op in ops if op.table in allowed and op.table in old.tables and op.table in new.tables
                  and not is_dictionary(old.tables[op.table]) and not is_dictionary(new.tables[op.table])}
        out: list[Operation] = []
        for op in ops:
            if op.table not in tables or op.kind in ("create_table", "drop_table", "rename_table"):
                out.append(op)
            elif not any(isinstance(o, RebuildTable) and o.table == op.table for o in out):
                out.append(RebuildTable(old.tables[op.table], new.tables[op.table], reasons=("rebuild requested",)))
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
            f"RENAME TABLE {self.quote(op.old.name)} TO {self.quote(old_name)}, "
            f"{self.quote(new_name)} TO {self.quote(op.new.name)}{self._on_cluster()}",
            f"DROP TABLE {self.quote(old_name)}{self._on_cluster()} SYNC",
        ]

    @staticmethod
    def _rebuild_projections(ops: list[Operation], old: Snapshot) -> list[Operation]:
        """Unchanged projections that read an altered, renamed or dropped column are dropped before the
        change and added again after it (the server refuses to ALTER a column a projection reads)."""
        touched: dict[str, set[str]] = {}
        dropped: dict[str, set[str]] = {}
        for op in ops:
            if isinstance(op, (AlterColumn, RenameColumn)):
                touched.setdefault(op.table, set()).add(op.old.name)
            elif isinstance(op, DropColumn):
                touched.setdefault(op.table, set()).add(op.column.name)
            elif isinstance(op, AlterTable):
                pa, pb = op.old.options.get("projections") or {}, op.new.options.get("projections") or {}
                dropped.setdefault(op.table, set()).update(n for n in pa if pb.get(n) != pa[n])
        for key, columns in touched.items():
            table = old.tables.get(key)
            projections = dict((table.options.get("projections") or {}) if table is not None else {})
            stale = {n for n, q in projections.items() if n not in dropped.get(key, set())
                     and columns & set(re.findall(r"\w+", q))}
            if not stale:
                continue
            assert table is not None
            kept = {n: q for n, q in projections.items() if n not in stale}
            mid = table.replace(options={**{k: v for k, v in table.options.items() if k != "projections"},
                                         **({"projections": kept} if kept else {})})
            first = next(i for i, o in enumerate(ops) if o.table == key)
            last = max(i for i, o in enumerate(ops) if o.table == key)
            ops = ops[:first] + [AlterTable(table, mid)] + ops[first:last + 1] + [AlterTable(mid, table)] + ops[last + 1:]
        return ops

    # -- history and lock ---------------------------------------------------------------------------

    def history_ddl(self) -> list[str]:
        return [f"CREATE TABLE IF NOT EXISTS {self.quote(table)}{self._on_cluster()} (version Int32, "
                "description String, filename String, checksum String, status String, statements_completed Int32, "
                "applied_at String, duration_ms Int64, target Nullable(String)) ENGINE = MergeTree ORDER BY version"
                for table in (self.history_table, self.log_table)]

    def lock_ddl(self) -> list[str]:
        return [f"CREATE TABLE IF NOT EXISTS {self.quote(self.lock_table)}{self._on_cluster()} (name String, owner String, "
                "token UInt64, acquired_at Float64, expires_at Float64) ENGINE = MergeTree ORDER BY (name, token)"]

    transactional_history: ClassVar[bool] = False

    def lock(self, conn: Any) -> Lock:
        return ClickHouseLeaseLock(conn)

    def failure(self, exc: BaseException, sql: str) -> MigrationError:
        text = str(exc).strip()
        m = re.search(r"Code: (\d+)\. DB::Exception: (.*?)(?: \(\w+\))?(?:\n|$)", text)
        reason = m.group(2) if m else (text.splitlines()[0] if text else type(exc).__name__)
        first = sql.strip().splitlines()[0] if sql.strip() else sql
        if m and m.group(1) == MUTATION_FAILED:  # the ALTER changed the table's definition, then its mutation failed
            return FailedAfterEffect(f"{reason[:300]} (in: {first[:120]}); the table's definition changed, but the "
                                     "mutation that rewrites its rows failed and is left pending (system.mutations)")
        return MigrationError(f"{reason[:300]} (in: {first[:120]})")

    # -- code generation ----------------------------------------------------------------------------

    nullable_from_annotation: ClassVar[bool] = False

    def type_candidates(self, spelled: str) -> list[str]:
        return [f"sqla_type_from_name({spelled!r})"]

    def codegen_namespace(self) -> dict[str, Any]:
        from clickhouse_connect.cc_sqlalchemy.datatypes.base import sqla_type_from_name

        return {"sqla_type_from_name": sqla_type_from_name}

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        if "sqla_type_from_name" in code:  # every table has a typed column: its engine import rides along
            return [("clickhouse_connect.cc_sqlalchemy.datatypes.base", "sqla_type_from_name"),
                    ("clickhouse_connect.cc_sqlalchemy.ddl.tableengine", "build_engine")]
        return []

    def python_type(self, spelled: str) -> str:
        spelled = re.sub(r"^(?:LowCardinality|Nullable)\((.*)\)$", r"\1", spelled)
        base, _, inner = spelled.partition("(")
        if base in ("Array", "Map"):
            args = [self.python_type(a) for a in _split_top(inner[:-1])]
            return f"list[{args[0]}]" if base == "Array" else f"dict[{args[0]}, {args[-1]}]"
        if base in ("Nullable", "LowCardinality"):
            return self.python_type(inner[:-1])
        if re.fullmatch(r"U?Int\d+", base):
            return "int"
        return CH_PYTHON_TYPES.get(base, "float" if base.startswith("Float") else "Any")

    def column_kwargs(self, table: Any, column: Column) -> dict[str, str]:
        out = {}
        if column.options.get("codec"):
            out["clickhousedb_codec"] = repr(column.options["codec"])
        if column.options.get("ttl"):
            out["clickhousedb_ttl"] = repr(column.options["ttl"])
        return out

    def column_info(self, column: Column) -> dict[str, Any]:
        if column.options.get("default_kind") == "EPHEMERAL":
            return {"ephemeral": True}
        return {k: column.options[k] for k in ATTRIBUTE_OPTIONS if k in column.options}  # a dictionary attribute's

    def table_kwargs(self, table: Table) -> dict[str, str]:
        if is_dictionary(table):  # no engine: its definition is its info
            return {}
        o = table.options
        engine_full = o["engine"] + "".join(f" {w} {o[w.lower().replace(' ', '_')]}" for w in ENGINE_CLAUSES[:-1]
                                            if o.get(w.lower().replace(" ", "_")))
        if o.get("settings"):
            engine_full += " SETTINGS " + ", ".join(f"{k} = {v}" for k, v in o["settings"].items())
        return {"clickhousedb_engine": f"build_engine({engine_full!r})"}

    def table_info(self, table: Table) -> dict[str, Any]:
        if is_dictionary(table):
            return {DICTIONARY: dict(table.options[DICTIONARY])}
        return {"projections": dict(table.options["projections"])} if table.options.get("projections") else {}

    def index_kwargs(self, index: Index) -> dict[str, str]:
        return {"info": repr({"dbwarden": dict(index.options)})}


def _rebuild_hint(table: str) -> str:
    return f"pass make-migrations --rebuild {table} to rebuild the table (a new table, the rows copied)"


def _keys(expr: str) -> list[str]:
    """The elements of a sorting key: ``(a, b)`` → [a, b]; ``a`` → [a]; ``tuple()`` → []."""
    expr = expr.strip()
    if expr in ("", "tuple()"):
        return []
    inner = expr[1:-1] if expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]) else expr
    return _split_top(inner)


def _views_in_order(snap: Snapshot) -> list[View]:
    from ...differ import view_dependency_order

    return view_dependency_order(list(snap.views.values()))
