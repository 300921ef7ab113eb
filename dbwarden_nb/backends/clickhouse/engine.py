"""ClickHouse's table text: the engine clauses (engine_full) and the CREATE statement the server prints, parsed into
snapshot facts, and the engine clauses written back; names and types as the server spells them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ...schema import Column
from ..base.sqltext import (
    collapse_spaces,
    doubled_quotes,
    split_top_level,
    top_level_words,
)

ENGINE_CLAUSES = ("PARTITION BY", "PRIMARY KEY", "ORDER BY", "SAMPLE BY", "TTL", "SETTINGS")
IMPLICIT_SETTINGS = {"index_granularity": "8192"}


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


def table_constraints(create_query: str) -> list[tuple[str, str, str]]:
    """A table's constraints as the server prints them in its CREATE statement: (name, ``CHECK`` or ``ASSUME``,
    expression) for each ``CONSTRAINT c CHECK …`` / ``CONSTRAINT c ASSUME …``."""
    listed = column_list(create_query)
    parts = _split_top(listed[0]) if listed else []
    named = [split_column_name(p.removeprefix("CONSTRAINT ")) for p in parts if p.startswith("CONSTRAINT ")]
    out = []
    for name, rest in (n for n in named if n is not None):
        kind, _, expression = rest.partition(" ")
        out.append((name, kind.upper(), expression.strip()))
    return out


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


def _keys(expr: str) -> list[str]:
    """The elements of a sorting key: ``(a, b)`` → [a, b]; ``a`` → [a]; ``tuple()`` → []."""
    expr = expr.strip()
    if expr in ("", "tuple()"):
        return []
    inner = expr[1:-1] if expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]) else expr
    return _split_top(inner)
