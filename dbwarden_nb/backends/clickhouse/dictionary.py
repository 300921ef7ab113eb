"""ClickHouse dictionaries (``CREATE DICTIONARY``): read from the server's DDL, declared in models, and created,
dropped or replaced whole.

In a snapshot a dictionary is a ``Table`` whose options hold ``{"dictionary": {...}}``: ``source``, ``layout``,
``lifetime`` and ``range`` as the server prints the inside of ``SOURCE(…)``, ``LAYOUT(…)``, ``LIFETIME(…)`` and
``RANGE(…)``, and ``settings`` (name → value) from ``SETTINGS(…)``. Its attributes are the columns: type and
``Nullable`` as in tables, ``DEFAULT`` the column default, ``EXPRESSION`` the column option ``expression``, and the
flags ``HIERARCHICAL``, ``BIDIRECTIONAL``, ``INJECTIVE`` and ``IS_OBJECT_ID`` column options set to ``True``. Its
``PRIMARY KEY`` is the primary key, in key order.

Models declare one as a ``Table`` with typed columns, its key as ``primary_key=True`` (or a
``PrimaryKeyConstraint`` for another order), ``info={"dbwarden": {"dictionary": {"source": "CLICKHOUSE(TABLE
'src')", "layout": "HASHED()", "lifetime": "MIN 0 MAX 300"}}}``, and attribute options in each column's
``info={"dbwarden": {...}}``.

A dictionary holds no rows of its own (it loads them from its source), so dropping or replacing it loses nothing.
A definition the server shows with a credential masked (``PASSWORD '[HIDDEN]'``) cannot be written back, so such
dictionaries are listed as not managed, and models that declare a password are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ...errors import BackendError
from ...operations import CreateTable, DropTable, Operation, RenameTable
from ...schema import Column, PrimaryKey, Snapshot, Table
from ..base.sqltext import split_top_level, top_level_words
from .engine import column_list, full_type, split_column_name, split_nullable, unquote_name

if TYPE_CHECKING:
    from .model import ClickHouseModel
    from .render import ClickHouseRendering

# clickhouse.py imports this module: the helpers taken from it are imported where they are used

DICTIONARY = "dictionary"  # the table option (and model info key) that makes a table a dictionary
DEFINITION_KEYS = ("source", "layout", "lifetime", "range", "settings")
CLAUSES = ("PRIMARY KEY", "SOURCE", "LIFETIME", "LAYOUT", "RANGE", "SETTINGS", "COMMENT")  # the server's order
FLAGS = ("HIERARCHICAL", "BIDIRECTIONAL", "INJECTIVE", "IS_OBJECT_ID")
ATTRIBUTE_OPTIONS = ("expression", *(flag.lower() for flag in FLAGS))  # column options of an attribute
HIDDEN = "'[HIDDEN]'"  # how the server prints a credential it will not show


def is_dictionary(table: Table | None) -> bool:
    return table is not None and DICTIONARY in table.options


def declares_dictionary(table: Any) -> bool:
    """A model ``Table`` declared as a dictionary (``info={"dbwarden": {"dictionary": {...}}}``)."""
    return DICTIONARY in (table.info.get("dbwarden") or {})


# -- reading the server's DDL ---------------------------------------------------------------------


def parse_dictionary(create_query: str, name: str, comment: str | None) -> Table:
    """The dictionary of ``create_query`` (``system.tables.create_table_query``, quotes doubled); ValueError when
    the text is not what the server prints for one."""
    listed = column_list(create_query)
    if listed is None:
        raise ValueError("no attribute list")
    attributes, tail = listed
    columns = []
    for part in split_top_level(attributes, backslash=True):
        named = split_column_name(part)
        if named is None:
            raise ValueError(f"attribute {part[:100]!r}")
        columns.append(_attribute(*named))
    clauses = _clauses(tail)
    definition: dict[str, Any] = {}
    for word in ("SOURCE", "LIFETIME", "LAYOUT", "RANGE"):
        if word in clauses:
            definition[word.lower()] = _inside(clauses[word])
    if "SETTINGS" in clauses:
        pairs = (p.partition("=") for p in split_top_level(_inside(clauses["SETTINGS"]), backslash=True))
        definition["settings"] = {k.strip(): v.strip() for k, _, v in pairs}
    key = tuple(unquote_name(k) for k in split_top_level(clauses.get("PRIMARY KEY", ""), backslash=True))
    return Table(name, None, tuple(columns), primary_key=PrimaryKey(None, key) if key else None,
                 comment=comment or None, options={DICTIONARY: definition})


def _attribute(name: str, rest: str) -> Column:
    """``UInt64 DEFAULT 0 EXPRESSION id + 1 HIERARCHICAL`` → the attribute's column. The server prints names bare
    even where they read as keywords (``EXPRESSION INJECTIVE INJECTIVE``: the column INJECTIVE, then the flag), so a
    flag is never the word right after DEFAULT or EXPRESSION (neither is ever empty), and a DEFAULT is a literal."""
    options: dict[str, Any] = {}
    words = rest.split(" ")
    while len(words) > 1 and words[-1] in FLAGS and words[-2] not in ("DEFAULT", "EXPRESSION"):
        options[words.pop().lower()] = True
    rest = " ".join(words)
    marks = top_level_words(rest, ("DEFAULT", "EXPRESSION"), backslash=True)
    default_at = marks[0][0] if marks and marks[0][1] == "DEFAULT" else None
    expression_at = next((at for at, word in marks if word == "EXPRESSION"), None)
    ends = [at for at in (default_at, expression_at) if at is not None]
    type_, nullable = split_nullable(rest[: min(ends)].strip() if ends else rest)
    default = rest[default_at + len("DEFAULT"):expression_at].strip() if default_at is not None else None
    if expression_at is not None:
        options["expression"] = rest[expression_at + len("EXPRESSION"):].strip()
    return Column(name, type_, nullable, default, options=options)


def _clauses(text: str) -> dict[str, str]:
    """The clauses after the attribute list; ``SOURCE(`` and the like only with their parenthesis, since a key
    column may be named SOURCE (printed bare: ``PRIMARY KEY SOURCE SOURCE(NULL())``)."""
    marks = [(at, word) for at, word in top_level_words(text, CLAUSES, backslash=True)
             if word in ("PRIMARY KEY", "COMMENT") or text.startswith("(", at + len(word))]
    return {word: text[at + len(word):(marks[n + 1][0] if n + 1 < len(marks) else len(text))].strip()
            for n, (at, word) in enumerate(marks)}


def _inside(text: str) -> str:
    """``(MIN 0 MAX 300)`` → ``MIN 0 MAX 300``."""
    text = text.strip()
    return text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text


def hides_a_credential(create_query: str) -> bool:
    return HIDDEN in create_query


# -- models -----------------------------------------------------------------------------------------


def model_dictionary(backend: ClickHouseModel, ex: Any, table: Any) -> Table:
    """The dictionary a model ``Table`` declares, as SQLAlchemy spells it (the server normalizes it after)."""
    declared = table.info["dbwarden"][DICTIONARY] or {}
    where = f"dictionary {table.name}"
    if not isinstance(declared, Mapping) or not isinstance(declared.get("settings") or {}, Mapping):
        raise BackendError(f"{where}: info['dbwarden']['dictionary'] is a dict: {{'source': …, 'layout': …, "
                           "'lifetime': …, 'range': …, 'settings': {name: value}}")
    unknown = sorted(set(declared) - set(DEFINITION_KEYS))
    if unknown:
        raise BackendError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} in info['dbwarden']['dictionary'] "
                           f"(known: {', '.join(DEFINITION_KEYS)})")
    for required, example in (("source", "CLICKHOUSE(TABLE 'src')"), ("layout", "HASHED()")):
        if not declared.get(required):
            raise BackendError(f"{where}: info['dbwarden']['dictionary'] needs {required!r}, e.g. {example!r}")
    if _names_a_password(str(declared["source"])):
        raise BackendError(f"{where}: its source holds a PASSWORD, which the server shows as '[HIDDEN]', so it could "
                           "not be read back; keep the credentials in a named collection: SOURCE(CLICKHOUSE(NAME …))")
    if not table.primary_key.columns:
        raise BackendError(f"{where}: a dictionary needs a key: primary_key=True on its key column(s)")
    definition: dict[str, Any] = {k: str(declared[k]) for k in ("source", "layout", "lifetime", "range") if declared.get(k)}
    if declared.get("settings"):
        definition["settings"] = {str(k): str(v) for k, v in declared["settings"].items()}
    columns = tuple(_model_attribute(backend, ex, table, c) for c in table.columns)
    return Table(table.name, None, columns, primary_key=PrimaryKey(None, tuple(c.name for c in table.primary_key.columns)),
                 comment=table.comment, options={DICTIONARY: definition})


def _model_attribute(backend: ClickHouseModel, ex: Any, table: Any, col: Any) -> Column:
    column = backend._model_column(ex, table, col)
    if column.computed is not None or column.comment or column.options:
        raise BackendError(f"attribute {col.name} of dictionary {table.name}: a dictionary attribute has a type, a "
                           "server_default and info={'dbwarden': {'expression': …, 'hierarchical': True, …}} only "
                           "(no codec, TTL, comment or computed value)")
    info = dict(col.info.get("dbwarden") or {})
    unknown = sorted(set(info) - set(ATTRIBUTE_OPTIONS))
    if unknown:
        raise BackendError(f"attribute {col.name} of dictionary {table.name}: unknown key(s) "
                           f"{', '.join(map(repr, unknown))} in info['dbwarden'] (known: {', '.join(ATTRIBUTE_OPTIONS)})")
    options: dict[str, Any] = {k.lower(): True for k in ATTRIBUTE_OPTIONS[1:] if info.get(k)}
    if info.get("expression"):
        options["expression"] = str(info["expression"])
    return Column(column.name, column.type, column.nullable, column.default, options=options)


def _names_a_password(source: str) -> bool:
    bare = re.sub(r"'(?:[^'\\]|\\.|'')*'", "''", source)  # the word in a string literal is no parameter
    return re.search(r"\bPASSWORD\b", bare, re.IGNORECASE) is not None


# -- rendering --------------------------------------------------------------------------------------


def dictionary_sql(backend: ClickHouseRendering, d: Table, replace: bool = False) -> str:
    definition = d.options[DICTIONARY]
    attributes = []
    for c in d.columns:
        parts = [backend.quote(c.name), full_type(c)]
        parts += [f"DEFAULT {c.default}"] if c.default is not None else []
        parts += [f"EXPRESSION {c.options['expression']}"] if c.options.get("expression") else []
        parts += [flag for flag in FLAGS if c.options.get(flag.lower())]
        attributes.append(" ".join(parts))
    head = "CREATE OR REPLACE DICTIONARY" if replace else "CREATE DICTIONARY"
    lines = [f"{head} {backend.quote(d.name)}{backend._on_cluster()} (\n    " + ",\n    ".join(attributes) + "\n)"]
    if d.primary_key is not None:
        lines.append("PRIMARY KEY " + ", ".join(backend.quote(k) for k in d.primary_key.columns))
    lines += [f"{word}({definition[word.lower()]})" for word in ("SOURCE", "LIFETIME", "LAYOUT", "RANGE")
              if definition.get(word.lower())]
    if definition.get("settings"):
        lines.append("SETTINGS(" + ", ".join(f"{k} = {v}" for k, v in definition["settings"].items()) + ")")
    if d.comment:
        lines.append(f"COMMENT {backend.literal(d.comment)}")
    return "\n".join(lines)


# -- operations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateDictionary(Operation):
    kind: ClassVar[str] = "create_dictionary"
    new: Table

    @property
    def table(self) -> str:
        return self.new.key

    def reverse(self) -> Operation:
        return DropDictionary(self.new)

    def describe(self) -> str:
        return f"create dictionary {self.table} ({len(self.new.columns)} attributes)"


@dataclass(frozen=True)
class DropDictionary(Operation):
    kind: ClassVar[str] = "drop_dictionary"
    old: Table

    @property
    def table(self) -> str:
        return self.old.key

    def reverse(self) -> Operation:
        return CreateDictionary(self.old)

    def describe(self) -> str:
        return f"drop dictionary {self.table}"


@dataclass(frozen=True)
class ReplaceDictionary(Operation):
    """A changed dictionary, replaced in one statement (``CREATE OR REPLACE DICTIONARY``): what reads it never
    finds it missing."""

    kind: ClassVar[str] = "replace_dictionary"
    old: Table
    new: Table

    @property
    def table(self) -> str:
        return self.new.key

    def reverse(self) -> Operation:
        return ReplaceDictionary(self.new, self.old)

    def describe(self) -> str:
        a, b = self.old.options[DICTIONARY], self.new.options[DICTIONARY]
        changed = [k for k in DEFINITION_KEYS if a.get(k) != b.get(k)]
        changed += ["attributes"] if {c.name: c for c in self.old.columns} != {c.name: c for c in self.new.columns} else []
        changed += ["key"] if self.old.primary_key != self.new.primary_key else []
        changed += ["comment"] if self.old.comment != self.new.comment else []
        return f"replace dictionary {self.table}: {', '.join(changed) or 'definition'}"


def fold_dictionaries(ops: Sequence[Operation], old: Snapshot, new: Snapshot) -> list[Operation]:
    """Every step on a dictionary becomes one: it is created, dropped or replaced whole (a table that becomes a
    dictionary, or the reverse, is dropped and created). Drops and replaces go first, before any table changes (the
    server refuses to drop a table a dictionary reads); creates go last, before the views (a view's ``dictGet``
    needs its dictionary)."""
    moved = {op.new.key: op.new for op in ops if isinstance(op, RenameTable)}
    front: list[Operation] = []
    middle: list[Operation] = []
    back: list[Operation] = []
    done: set[str] = set()
    for op in ops:
        if isinstance(op, (DropDictionary, ReplaceDictionary)):
            front.append(op)
            continue
        if isinstance(op, CreateDictionary):
            back.append(op)
            continue
        before, after = moved.get(op.table) or old.tables.get(op.table), new.tables.get(op.table)
        if isinstance(op, RenameTable) or not (is_dictionary(before) or is_dictionary(after)):
            middle.append(op)
            continue
        if op.table in done:
            continue
        done.add(op.table)
        if op.kind == "drop_table":  # the key is gone from the new schema (or was renamed away)
            after = None
        elif op.kind == "create_table":
            before = None
        if is_dictionary(before) and is_dictionary(after):
            front.append(ReplaceDictionary(before, after))  # type: ignore[arg-type]
            continue
        if is_dictionary(before):
            front.append(DropDictionary(before))  # type: ignore[arg-type]
        elif before is not None:
            middle.append(DropTable(before))
        if is_dictionary(after):
            back.append(CreateDictionary(after))  # type: ignore[arg-type]
        elif after is not None:
            middle.append(CreateTable(after))
    lead = 0
    while lead < len(middle) and middle[lead].kind == "drop_view":
        lead += 1
    trail = len(middle)
    while trail > lead and middle[trail - 1].kind == "create_view":
        trail -= 1
    return middle[:lead] + front + middle[lead:trail] + back + middle[trail:]
