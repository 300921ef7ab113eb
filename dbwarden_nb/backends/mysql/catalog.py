"""MySQL and MariaDB catalog reading: a fixed handful of information_schema queries for any number of tables.

Every query reads all rows of one kind for the database at once; the rows are assembled into snapshot
objects in Python. What the server reports (COLUMN_TYPE, COLUMN_DEFAULT, CHECK_CLAUSE, VIEW_DEFINITION…)
is the canonical spelling, on both the live and the model side; the few rewrites here (charset
introducers, escaped quotes, the database's own name in view bodies, implicit foreign-key indexes,
MariaDB's JSON columns) give one spelling per meaning. MariaDB's differences override this reader in
``mariadb.py`` (``MariaDBCatalogReader``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from ...errors import SnapshotError
from ...schema import (
    Check,
    Column,
    Computed,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    SchemaObject,
    Snapshot,
    Table,
    Unique,
    View,
)
from ..base import Connection, Mixin
from ..base.sqltext import collapse_spaces

if TYPE_CHECKING:
    from ..base import Connection

SCHEMA = """
SELECT DEFAULT_COLLATION_NAME, @@default_storage_engine FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :schema
"""

TABLES = """
SELECT TABLE_NAME, TABLE_TYPE, ENGINE, AUTO_INCREMENT, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = :schema
"""

COLUMNS = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT, c.EXTRA, c.GENERATION_EXPRESSION,
       c.COLLATION_NAME, c.COLUMN_COMMENT, c.DATA_TYPE, {srid}
  FROM information_schema.COLUMNS c
 WHERE c.TABLE_SCHEMA = :schema
 ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
"""  # views' columns too: read() takes the columns of base tables only (joining TABLES here costs MariaDB 25×)

STATISTICS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, COLLATION, INDEX_TYPE, INDEX_COMMENT,
       {visible}, {expression}, {ignored}
  FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = :schema
 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

FOREIGN_KEYS = """
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
       k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
  FROM information_schema.KEY_COLUMN_USAGE k
  JOIN information_schema.REFERENTIAL_CONSTRAINTS r
    ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
 WHERE k.TABLE_SCHEMA = :schema AND k.REFERENCED_TABLE_NAME IS NOT NULL
 ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""

MYSQL_CHECKS = """
SELECT t.TABLE_NAME, t.CONSTRAINT_NAME, c.CHECK_CLAUSE, t.ENFORCED, 'Table'
  FROM information_schema.TABLE_CONSTRAINTS t
  JOIN information_schema.CHECK_CONSTRAINTS c
    ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
 WHERE t.TABLE_SCHEMA = :schema AND t.CONSTRAINT_TYPE = 'CHECK'
"""

VIEWS = """
SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :schema
"""

PARTITIONS = """
SELECT TABLE_NAME, PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_DESCRIPTION
  FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = :schema AND PARTITION_NAME IS NOT NULL
 ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION
"""

# What the database holds that a snapshot does not carry, as (kind, name): listed by snapshot and generate-models.
# Grants are per table and grantee (one row per privilege in the catalog).
UNMANAGED = """
SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES
 WHERE ROUTINE_SCHEMA = :schema AND ROUTINE_TYPE NOT IN ('FUNCTION', 'PROCEDURE')
UNION ALL SELECT DISTINCT 'table grant', CONCAT(GRANTEE, ' on ', TABLE_NAME) FROM information_schema.TABLE_PRIVILEGES
 WHERE TABLE_SCHEMA = :schema
"""

# Triggers, functions, procedures and events (their text is read with SHOW CREATE: CatalogReader.programmable)
# and the parameter types that tell routines apart in their keys
TRIGGERS = """
SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :schema
 ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER
"""
ROUTINES = """
SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES
 WHERE ROUTINE_SCHEMA = :schema AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE')
"""
EVENTS = "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = :schema ORDER BY EVENT_NAME"
PARAMETERS = """
SELECT SPECIFIC_NAME, ROUTINE_TYPE, DTD_IDENTIFIER
  FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = :schema AND ORDINAL_POSITION > 0
 ORDER BY SPECIFIC_NAME, ORDINAL_POSITION
"""

NUMERIC_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double", "year", "bit"})
BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
_INTRODUCER = re.compile(r"(?<![\w`$])_(?!binary')[a-z][a-z0-9]*(?=')")
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "Z": "\x1a"}  # MySQL's string escapes
_HEX = re.compile(r"0x(?:[0-9A-Fa-f]{2})*")
_CURRENT_TIMESTAMP = re.compile(r"^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$", re.IGNORECASE)
_ON_UPDATE = re.compile(r"on update (\S+)", re.IGNORECASE)
_SEQ_DEFAULTS_UP = {"start": 1, "increment": 1, "minvalue": 1, "maxvalue": 9223372036854775806, "cache": 1000, "cycle": False}
# a descending sequence keeps its increment: left out, it would read as the ascending default
_SEQ_DEFAULTS_DOWN = {"start": -1, "increment": None, "minvalue": -9223372036854775807, "maxvalue": -1, "cache": 1000,
                      "cycle": False}


def requote(text: str) -> str:
    """String literals with ``''`` for a quote, never ``\\'`` (both servers print the backslash form in
    places; the migration file splitter, like standard SQL, knows only the doubled one)."""
    out, i, n = [], 0, len(text)
    quote = ""
    while i < n:
        ch = text[i]
        if quote == "'":
            if ch == "\\" and i + 1 < n:
                out.append("''" if text[i + 1] == "'" else text[i : i + 2])
                i += 2
                continue
            if ch == "'" and text.startswith("''", i):
                out.append("''")
                i += 2
                continue
            if ch == "'":
                quote = ""
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'`\"":
            quote = ch
        out.append(ch)
        i += 1
    return "".join(out)


def strip_introducers(text: str) -> str:
    """``_utf8mb4'x'`` → ``'x'`` (the charset introducer a server adds to literals; ``_binary`` stays)."""
    return _INTRODUCER.sub("", text)


def sequence_options(start: int, increment: int, minvalue: int, maxvalue: int, cache: int, cycle: int) -> dict[str, Any]:
    """MariaDB sequence parameters with the server's defaults left out."""
    defaults = _SEQ_DEFAULTS_UP if increment > 0 else _SEQ_DEFAULTS_DOWN
    opts = {"start": start, "increment": increment, "minvalue": minvalue, "maxvalue": maxvalue, "cache": cache,
            "cycle": bool(cycle)}
    return {k: v for k, v in opts.items() if v != defaults[k]}


def sequence_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of a MariaDB sequence, the ones ``sequence_options`` left out filled in with the defaults of
    its direction."""
    increment = options.get("increment", 1)
    return {**(_SEQ_DEFAULTS_UP if increment > 0 else _SEQ_DEFAULTS_DOWN), **options, "increment": increment}


class CatalogReader:
    """Reads one database (MySQL's schema) of a connection and builds the snapshot."""

    # what MySQL's information_schema has where MariaDB's differs (MariaDBCatalogReader overrides them)
    srid_column: ClassVar[str] = "c.SRS_ID"
    visible_column: ClassVar[str] = "IS_VISIBLE"
    expression_column: ClassVar[str] = "EXPRESSION"
    checks_query: ClassVar[str] = MYSQL_CHECKS

    def __init__(self, conn: Connection, schema: str, version: tuple[int, ...],
                 internal: frozenset[str] = frozenset(), fk_action: Callable[[str], str | None] = lambda rule: rule):
        self.conn = conn
        self.action = fk_action  # the backend's: the action a key gets when none is written is spelled None
        self.schema = schema
        self.version = version
        self.internal = internal  # the project's own tables, never part of a snapshot
        self.default_engine = "InnoDB"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.conn.query(sql, {"schema": self.schema})

    # -- expressions ------------------------------------------------------------------------------

    def expression(self, text: str) -> str:
        """A server-printed expression in one spelling: MySQL escapes quotes in information_schema."""
        text = requote(strip_introducers(self.unescape(text)))
        text = text.replace(f"`{self.schema}`.", "")
        return collapse_spaces(text)

    def unescape(self, text: str) -> str:
        return _BACKSLASH.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)  # `a\nb` is `a⏎b`

    def dictionary_text(self, text: str) -> str:
        """MySQL's CHECK_CLAUSE, GENERATION_EXPRESSION and STATISTICS.EXPRESSION are UTF-8 read as latin1 and
        encoded again (`é` shows as `Ã©`): decoded back. Text that is not so (a character above U+00FF, bytes
        that are no UTF-8) is left alone."""
        if text.isascii():
            return text
        try:
            return text.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return text

    def default(self, raw: str | None, extra: str, data_type: str, binary_charset: bool) -> str | None:
        if raw is None:
            return None
        if "DEFAULT_GENERATED" in extra:
            text = self.expression(raw)
            return text if _CURRENT_TIMESTAMP.match(text) else f"({text})"
        if data_type in NUMERIC_TYPES:
            return raw
        if binary_charset and _HEX.fullmatch(raw):
            return self.hex_default(raw, data_type)
        return "'" + raw.replace("\\", "\\\\").replace("'", "''") + "'"

    @staticmethod
    def hex_default(raw: str, data_type: str) -> str:
        """MySQL prints the default of a column in the binary charset as hex, cut at its first NUL byte: a
        ``BINARY(n) DEFAULT ''`` (n NUL bytes) shows as ``0x``, which is no SQL. That one is spelled ``''`` (what
        the server stores for it), the values of an ENUM/SET as the text they are, other bytes stay hex."""
        data = bytes.fromhex(raw[2:])
        if not data:
            return "''"
        if data_type in ("enum", "set"):
            return "'" + data.decode("utf-8").replace("\\", "\\\\").replace("'", "''") + "'"
        return raw

    # -- reading ----------------------------------------------------------------------------------

    def read(self, backend_name: str, server_version: str) -> Snapshot:
        schema_row = self.query(SCHEMA)
        self.default_engine = schema_row[0][1] if schema_row else "InnoDB"
        tables = self.query(TABLES)
        columns = self.query(COLUMNS.format(srid=self.srid_column))
        stats = self.query(STATISTICS.format(visible=self.visible_column, expression=self.expression_column,
                                             ignored=self.ignored_column()))
        fks = self.query(FOREIGN_KEYS)
        checks = self.query(self.checks_query)
        views = self.query(VIEWS)
        partitions = self.query(PARTITIONS)
        unmanaged: dict[str, list[str]] = defaultdict(list)
        for kind, name in self.query(UNMANAGED):
            unmanaged[str(kind)].append(str(name))
        objects = self.programmable(self.query(TRIGGERS), self.query(ROUTINES), self.query(PARAMETERS))
        objects += self.events([name for (name,) in self.query(EVENTS)])

        by_table: dict[str, dict[str, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))
        for kind, rows in (("columns", columns), ("stats", stats), ("fks", fks), ("checks", checks), ("parts", partitions)):
            for row in rows:
                by_table[row[0]][kind].append(row)
        out_tables, sequences = [], []
        for row in tables:
            name, table_type = row[0], row[1]
            if name in self.internal:
                continue
            if table_type == "SEQUENCE":
                sequences.append(name)
            elif table_type in ("BASE TABLE", "SYSTEM VERSIONED"):
                out_tables.append(self.table(row, by_table[name]))
        out_views = [self.view(r) for r in views if r[0] not in self.internal]
        return Snapshot.of(backend_name, out_tables, out_views, objects, sequences=self.sequences(sequences),
                           server_version=server_version, unmanaged=unmanaged)

    def ignored_column(self) -> str:
        return "'NO'"

    def programmable(self, triggers: list[tuple[Any, ...]], routines: list[tuple[Any, ...]],
                     parameters: list[tuple[Any, ...]]) -> list[SchemaObject]:
        """Triggers, functions and procedures as written (``SHOW CREATE``: the server keeps each statement's text,
        which is what its dumps print), from what follows the name on. One query per object: the catalog tables
        hold neither a parameter list nor a trigger as written."""
        q, where = _q, _q(self.schema)
        out = []
        for name, table in triggers:
            text = self.conn.query(f"SHOW CREATE TRIGGER {where}.{q(name)}")[0][2]
            out.append(SchemaObject("trigger", name, None, _after_name(text, "TRIGGER"), {"table": table}))
        params: dict[tuple[str, str], list[str]] = defaultdict(list)
        for routine, kind, dtd in parameters:
            params[(routine, kind)].append(str(dtd))
        for name, kind in routines:
            text = self.conn.query(f"SHOW CREATE {kind} {where}.{q(name)}")[0][2]
            if text is None:  # the statement is shown to its definer and to those who may read mysql.proc only
                raise SnapshotError(f"cannot read {kind.lower()} {name}: SHOW CREATE {kind} shows its text only to "
                                    "its definer or a user with SELECT on mysql.proc (MariaDB) / SHOW_ROUTINE (MySQL)")
            out.append(SchemaObject(kind.lower(), name, None, _after_name(text, kind),
                                    {"arguments": ", ".join(params[(name, kind)])}))
        return out

    def events(self, names: list[str]) -> list[SchemaObject]:
        """Events as the server prints them (``SHOW CREATE EVENT``, one query each as for routines): the schedule
        with the STARTS the server gave one created without it, completion, status, comment and body."""
        out = []
        for name in names:
            text = self.conn.query(f"SHOW CREATE EVENT {_q(self.schema)}.{_q(name)}")[0][3]
            out.append(SchemaObject("event", name, None, _after_name(text, "EVENT")))
        return out

    def sequences(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """MariaDB sequences: one UNION query over all of them (a sequence is a one-row table)."""
        if not names:
            return {}
        q = lambda n: "`" + n.replace("`", "``") + "`"
        lit = lambda n: "'" + n.replace("\\", "\\\\").replace("'", "''") + "'"
        sql = " UNION ALL ".join(
            f"SELECT {lit(n)}, start_value, increment, minimum_value, maximum_value, cache_size, cycle_option "
            f"FROM {q(self.schema)}.{q(n)}" for n in sorted(names))
        return {r[0]: sequence_options(*(int(v) for v in r[1:])) for r in self.conn.query(sql)}

    def table(self, row: tuple[Any, ...], rows: dict[str, list[tuple[Any, ...]]]) -> Table:
        name, table_type, engine, auto_increment, collation, create_options, comment = row
        options: dict[str, Any] = {"collation": collation}
        if engine and engine != self.default_engine:
            options["engine"] = engine
        if auto_increment is not None and int(auto_increment) > 1:
            options["auto_increment"] = int(auto_increment)
        extra: dict[str, str] = {}
        for opt in (create_options or "").split():
            key, eq, value = opt.partition("=")
            if not eq:
                continue
            if key.lower() == "row_format":
                options["row_format"] = value.upper()
            else:
                extra[key.lower()] = value
        if extra:
            options["create_options"] = extra
        if table_type == "SYSTEM VERSIONED":
            options["system_versioning"] = True
        options.update(self.partitioning(rows["parts"]))

        columns = [self.column(c, collation) for c in rows["columns"]]
        checks = [self.check(c) for c in rows["checks"]]
        columns, checks = self.json_columns(rows["columns"], columns, checks)
        fks = self.foreign_keys(rows["fks"])
        pk, uniques, indexes, fks = self.indexes(rows["stats"], fks)
        return Table(name=name, columns=tuple(columns), primary_key=pk, foreign_keys=tuple(fks), uniques=tuple(uniques),
                     checks=tuple(checks), indexes=tuple(indexes), comment=comment or None, options=options)

    def column(self, c: tuple[Any, ...], table_collation: str) -> Column:
        _t, name, type_, nullable, default, extra, generated, collation, comment, data_type, srid = c
        extra = extra or ""
        options: dict[str, Any] = {}
        computed = None
        if "GENERATED" in extra and generated:
            computed = Computed(self.expression(self.dictionary_text(generated)), "STORED" in extra or "PERSISTENT" in extra)
            default = None
        m = _ON_UPDATE.search(extra)
        if m:
            options["on_update"] = m.group(1)
        if "auto_increment" in extra.lower():
            options["auto_increment"] = True
        if "INVISIBLE" in extra.upper():
            options["invisible"] = True
        if srid is not None:
            options["srid"] = int(srid)
        return Column(
            name=name, type=type_, nullable=nullable == "YES",
            default=None if computed else self.default(default, extra, data_type, collation is None),
            computed=computed, collation=collation if collation and collation != table_collation else None,
            comment=comment or None, options=options,
        )

    def json_columns(self, rows: list[tuple[Any, ...]], columns: list[Column], checks: list[Check]) -> tuple[list[Column], list[Check]]:
        return columns, checks  # MySQL's JSON is a type of its own

    def check(self, c: tuple[Any, ...]) -> Check:
        _t, name, clause, enforced, level = c
        options: dict[str, Any] = {}
        if enforced == "NO":
            options["not_enforced"] = True
        if level == "Column":
            options["column"] = True
        return Check(name, self.expression(self.dictionary_text(clause)), options)

    def foreign_keys(self, rows: list[tuple[Any, ...]]) -> list[ForeignKey]:
        grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            grouped[r[1]].append(r)
        out = []
        for name, parts in grouped.items():
            first = parts[0]
            ref = first[4] if first[3] == self.schema else f"{first[3]}.{first[4]}"
            out.append(ForeignKey(name=name, columns=tuple(p[2] for p in parts), ref_table=ref,
                                  ref_columns=tuple(p[5] for p in parts), on_update=self.action(first[6]),
                                  on_delete=self.action(first[7])))
        return out

    def indexes(self, rows: list[tuple[Any, ...]], fks: list[ForeignKey]) -> tuple[Any, list[Unique], list[Index], list[ForeignKey]]:
        grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            grouped[r[1]].append(r)
        pk = None
        uniques: list[Unique] = []
        indexes: list[Index] = []
        for name, parts in grouped.items():
            if name == "PRIMARY":
                pk = PrimaryKey(None, tuple(p[4] for p in parts))
                continue
            first = parts[0]
            kind = first[7]
            elements, lengths = [], {}
            for p in parts:
                descending = p[6] == "D"
                if p[4] is None:
                    elements.append(IndexElement(expression=self.expression(self.dictionary_text(p[10] or "")),
                                                 descending=descending))
                else:
                    elements.append(IndexElement(column=p[4], descending=descending))
                    if p[5] is not None and kind != "SPATIAL":
                        lengths[p[4]] = int(p[5])
            options: dict[str, Any] = {}
            if kind in ("FULLTEXT", "SPATIAL"):
                options["prefix"] = kind
            elif kind not in ("BTREE", None):
                options["using"] = kind
            if lengths:
                options["length"] = lengths
            if first[8]:
                options["comment"] = first[8]
            if first[9] == "NO":
                options["invisible"] = True
            if first[11] == "YES":
                options["ignored"] = True
            unique = not first[2]
            if unique and not options and all(e.is_plain for e in elements):
                uniques.append(Unique(name, tuple(e.column_name for e in elements)))
            else:
                indexes.append(Index(name, tuple(elements), unique, None, options))
        indexes, fks = implicit_fk_indexes(indexes, fks)
        return pk, uniques, indexes, fks

    def partitioning(self, parts: list[tuple[Any, ...]]) -> dict[str, Any]:
        if not parts:
            return {}
        method, expression = parts[0][2], parts[0][3] or ""
        options: dict[str, Any] = {"partition_by": f"{method} ({self.expression(expression)})"}
        if "RANGE" in method or "LIST" in method:
            defs = []
            for p in parts:
                desc = p[4]
                if "RANGE" in method:
                    bound = "MAXVALUE" if desc == "MAXVALUE" else f"({desc})"
                    defs.append(f"PARTITION `{p[1]}` VALUES LESS THAN {bound}")
                else:
                    defs.append(f"PARTITION `{p[1]}` VALUES IN ({desc})")
            options["partition_definitions"] = ", ".join(defs)
        elif [p[1] for p in parts] == [f"p{i}" for i in range(len(parts))]:
            options["partitions"] = len(parts)
        else:
            options["partition_definitions"] = ", ".join(f"PARTITION `{p[1]}`" for p in parts)
        return options

    def view(self, r: tuple[Any, ...]) -> View:
        name, definition, check_option, security = r
        options: dict[str, Any] = {}
        if check_option and check_option != "NONE":
            options["check_option"] = check_option
        if security and security != "DEFINER":
            options["security"] = security
        return View(name=name, definition=self.expression(definition or ""), options=options)


def implicit_fk_indexes(indexes: list[Index], fks: list[ForeignKey]) -> tuple[list[Index], list[ForeignKey]]:
    """The index the server creates for a foreign key that has none is not a declared index: it is kept
    as the key's ``index`` option (its name: the key's, or its first column's), so dropping and re-adding
    the key restores it."""
    out_fks = []
    for fk in fks:
        found = next((ix for ix in indexes if not ix.unique and not ix.options and ix.columns == fk.columns
                      and all(e.is_plain for e in ix.elements)
                      and (ix.name == fk.name or re.fullmatch(re.escape(fk.columns[0]) + r"(_\d+)?", ix.name or ""))), None)
        if found is not None:
            indexes = [ix for ix in indexes if ix is not found]
            fk = replace(fk, options={**fk.options, "index": found.name})
        out_fks.append(fk)
    return indexes, out_fks


_HEAD = r"CREATE\s+(?:DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'[^']*'|\S+?)(?:@(?:`(?:[^`]|``)*`|'[^']*'|\S+))?\s+)?"
_NAME = r"\s+(?:`(?:[^`]|``)*`|[^\s(`]+)(?:\.(?:`(?:[^`]|``)*`|[^\s(`]+))?\s*"


def _q(name: Any) -> str:
    return "`" + str(name).replace("`", "``") + "`"


def _after_name(text: str, kind: str) -> str:
    """What follows ``CREATE [DEFINER=…] KIND name`` in a statement as the server shows it."""
    head = re.match(_HEAD + kind + _NAME, text, re.IGNORECASE)
    return text[head.end():] if head else text


class MySQLCatalog(Mixin):
    """Introspection: the catalog reader (MariaDB's subclass where the backend names it) over a live connection."""

    catalog_reader: ClassVar[type[CatalogReader]]  # the backend class's

    if TYPE_CHECKING:  # from MySQLConnecting
        def version_tuple(self, conn: Connection) -> tuple[int, ...]: ...

    def reader(self, conn: Connection, schema: str) -> CatalogReader:
        return self.catalog_reader(conn, schema, self.version_tuple(conn), self.internal_tables,
                                   self.canonical_fk_action)

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        schema = (schemas[0] if schemas else None) or self.default_schema(conn)
        return self.reader(conn, str(schema)).read(self.name, self.server_version(conn))
