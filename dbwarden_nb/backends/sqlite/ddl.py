"""Reading SQLite's stored CREATE TABLE / CREATE INDEX text.

SQLite keeps the DDL as written and exposes only part of it through pragmas: check constraints,
constraint names, collations, generated-column expressions, AUTOINCREMENT, WITHOUT ROWID and STRICT
exist only in the text. This module tokenizes that text (quotes and comments aware) and reads those facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...sqllex import SQLITE


@dataclass(frozen=True)
class Token:
    kind: str  # word | qid | str | num | op
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def ident(self) -> str:
        """The identifier this token names (quotes removed)."""
        if self.kind == "qid":
            body, q = self.text[1:-1], self.text[0]
            return body if q == "[" else body.replace(q * 2, q)
        if self.kind == "str":  # SQLite accepts 'name' where an identifier is expected
            return self.text[1:-1].replace("''", "'")
        return self.text


def tokenize(sql: str) -> list[Token]:
    return [Token(kind, text) for kind, text in SQLITE.expression_tokens(sql)]


def join(tokens: list[Token]) -> str:
    """Tokens back to text with single spaces, and none inside parentheses or before commas."""
    out = ""
    for tok in tokens:
        glued = (
            out.endswith(("(", "."))
            or tok.text in (")", ",", ".")
            or (tok.text == "(" and (out[-1:].isalnum() or out[-1:] in "\"`]_") and not _is_keyword_before_paren(out))
        )
        if out and not glued:
            out += " "
        out += tok.text
    return out


_PAREN_KEYWORDS = ("AND", "OR", "NOT", "IN", "IS", "WHEN", "THEN", "ELSE", "CASE", "EXISTS", "AS", "ON")


def _is_keyword_before_paren(text: str) -> bool:
    word = re.search(r"(\w+)$", text)
    return word is not None and word.group(1).upper() in _PAREN_KEYWORDS


def normalize_sql(text: str) -> str:
    """Canonical spelling of an expression: comments gone, one space between tokens, case kept."""
    return join(tokenize(text))


def split_top(tokens: list[Token], sep: str = ",") -> list[list[Token]]:
    """Split on ``sep`` outside parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if depth == 0 and tok.kind == "op" and tok.text == sep:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def paren_group(tokens: list[Token], start: int) -> tuple[list[Token], int]:
    """The tokens inside the parenthesis opening at ``start`` and the index after its closing one."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].text == "(":
            depth += 1
        elif tokens[i].text == ")":
            depth -= 1
            if depth == 0:
                return tokens[start + 1 : i], i + 1
    return tokens[start + 1 :], len(tokens)


@dataclass
class ColumnFacts:
    name: str
    collation: str | None = None
    generated: str | None = None
    stored: bool = False
    autoincrement: bool = False
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    unique_name: str | None = None
    pk_name: str | None = None
    fk_name: str | None = None
    fk_deferral: tuple[bool | None, str | None] = (None, None)


@dataclass
class TableFacts:
    columns: dict[str, ColumnFacts] = field(default_factory=dict)
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    uniques: dict[tuple[str, ...], str | None] = field(default_factory=dict)  # columns → name
    pk_name: str | None = None
    foreign_keys: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)  # (name, columns)
    deferrals: dict[tuple[str, ...], tuple[bool | None, str | None]] = field(default_factory=dict)  # columns → deferral
    without_rowid: bool = False
    strict: bool = False


_COLUMN_CONSTRAINT_STARTS = {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE",
                             "REFERENCES", "GENERATED", "AS"}
_TABLE_CONSTRAINT_STARTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


def parse_create_table(sql: str) -> TableFacts:
    tokens = tokenize(sql)
    facts = TableFacts()
    open_at = next((i for i, t in enumerate(tokens) if t.text == "("), None)
    if open_at is None:  # CREATE TABLE ... AS SELECT: nothing beyond the pragmas
        return facts
    body, after = paren_group(tokens, open_at)
    tail = {t.upper for t in tokens[after:]}
    facts.without_rowid = "ROWID" in tail and "WITHOUT" in tail
    facts.strict = "STRICT" in tail
    for part in split_top(body):
        if part[0].upper in _TABLE_CONSTRAINT_STARTS and not (part[0].upper == "CONSTRAINT" and len(part) < 3):
            _table_constraint(part, facts)
        else:
            col = _column(part)
            facts.columns[col.name] = col
    return facts


def _constraint_name(part: list[Token], i: int) -> tuple[str | None, int]:
    if i < len(part) and part[i].upper == "CONSTRAINT" and i + 1 < len(part):
        return part[i + 1].ident, i + 2
    return None, i


def _idents(tokens: list[Token]) -> tuple[str, ...]:
    """Column names of an indexed-column list (ignoring COLLATE/ASC/DESC)."""
    return tuple(p[0].ident for p in split_top(tokens))


def _table_constraint(part: list[Token], facts: TableFacts) -> None:
    name, i = _constraint_name(part, 0)
    word = part[i].upper if i < len(part) else ""
    if word == "CHECK":
        inner, _ = paren_group(part, i + 1)
        facts.checks.append((name, join(inner)))
    elif word == "UNIQUE":
        inner, _ = paren_group(part, i + 1)
        facts.uniques[_idents(inner)] = name
    elif word == "PRIMARY":
        facts.pk_name = name
    elif word == "FOREIGN":
        inner, _ = paren_group(part, i + 2)
        facts.foreign_keys.append((name, _idents(inner)))
        facts.deferrals[_idents(inner)] = deferral(part[i:])


def _column(part: list[Token]) -> ColumnFacts:
    col = ColumnFacts(part[0].ident)
    i = 1
    while i < len(part) and part[i].upper not in _COLUMN_CONSTRAINT_STARTS:
        i = paren_group(part, i)[1] if part[i].text == "(" else i + 1
    pending_name: str | None = None
    while i < len(part):
        word = part[i].upper
        if word == "CONSTRAINT" and i + 1 < len(part):
            pending_name, i = part[i + 1].ident, i + 2
            continue
        if word == "CHECK":
            inner, i = paren_group(part, i + 1)
            col.checks.append((pending_name, join(inner)))
        elif word == "COLLATE" and i + 1 < len(part):
            col.collation, i = part[i + 1].ident, i + 2
        elif word in ("GENERATED", "AS"):
            while part[i].text != "(":
                i += 1
            inner, i = paren_group(part, i)
            col.generated = join(inner)
            if i < len(part) and part[i].upper in ("STORED", "VIRTUAL"):
                col.stored = part[i].upper == "STORED"
                i += 1
        elif word == "DEFAULT":
            i += 1
            if i < len(part) and part[i].text == "(":
                i = paren_group(part, i)[1]
            else:
                i += 2 if part[i].text in ("+", "-") else 1
        elif word == "UNIQUE":
            col.unique_name, i = pending_name, i + 1
        elif word == "PRIMARY":
            col.pk_name, i = pending_name, i + 1
        elif word == "AUTOINCREMENT":
            col.autoincrement, i = True, i + 1
        elif word == "REFERENCES":
            col.fk_name, col.fk_deferral, i = pending_name, deferral(part[i:]), i + 1
        else:
            i += 1
            continue
        pending_name = None
    return col


def deferral(clause: list[Token]) -> tuple[bool | None, str | None]:
    """``(deferrable, initially)`` of a foreign-key clause as written: ``DEFERRABLE`` → True, ``INITIALLY
    DEFERRED`` → "DEFERRED"; ``NOT DEFERRABLE`` and ``INITIALLY IMMEDIATE`` are what no clause says (None)."""
    words = [t.upper for t in clause]
    if "DEFERRABLE" not in words:
        return None, None
    at = words.index("DEFERRABLE")
    if at and words[at - 1] == "NOT":
        return None, None
    deferred = words[at + 1 : at + 3] == ["INITIALLY", "DEFERRED"]
    return True, "DEFERRED" if deferred else None


@dataclass(frozen=True)
class IndexFacts:
    where: str | None
    elements: tuple[str, ...]  # the text of each indexed term, as written


def parse_create_index(sql: str) -> IndexFacts:
    tokens = tokenize(sql)
    on = next(i for i, t in enumerate(tokens) if t.upper == "ON")
    open_at = next(i for i in range(on, len(tokens)) if tokens[i].text == "(")
    inner, after = paren_group(tokens, open_at)
    where = join(tokens[after + 1 :]) if after < len(tokens) and tokens[after].upper == "WHERE" else None
    if where is not None and where.endswith(";"):
        where = where[:-1].rstrip()
    return IndexFacts(where, tuple(join(p) for p in split_top(inner)))
