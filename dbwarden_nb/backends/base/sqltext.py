"""Scanning SQL text the servers print: which characters stand outside quotes and brackets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def top_level(text: str, backslash: bool = False, brackets: str = "([") -> Iterator[int]:
    """Indexes of the characters of ``text`` outside quotes ('…', "…", `…`) and brackets; ``backslash``:
    a backslash escapes the next character inside quotes (ClickHouse, MySQL); ``brackets``: the opening ones
    (Python source: ``"([{"``)."""
    closing = "".join({"(": ")", "[": "]", "{": "}"}[b] for b in brackets)
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if backslash and ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in brackets:
            depth += 1
        elif ch in closing:
            depth -= 1
        elif depth == 0:
            yield i
        i += 1


def split_top_level(text: str, sep: str = ",", backslash: bool = False, brackets: str = "([") -> list[str]:
    """``text`` split on ``sep`` outside quotes and brackets, parts stripped, empty ones dropped."""
    parts, start = [], 0
    for i in top_level(text, backslash, brackets):
        if text[i] == sep:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def top_level_words(text: str, words: Sequence[str], backslash: bool = False) -> list[tuple[int, str]]:
    """Positions of ``words`` (upper case) outside quotes and brackets, each at the start or after a space,
    and followed by the end, a space or an opening parenthesis."""
    upper, found = text.upper(), []
    for i in top_level(text, backslash):
        if i and text[i - 1] != " ":
            continue
        for word in words:
            end = i + len(word)
            if upper.startswith(word, i) and (end == len(text) or text[end] in " ("):
                found.append((i, word))
                break
    return found


def doubled_quotes(text: str) -> str:
    """``text`` with every backslash-escaped quote inside quotes (``'it\\'s'``, ```a\\`b```, ``"a\\"b"``) written
    doubled instead (``'it''s'``): servers that print backslash escapes (ClickHouse) then have one spelling per
    meaning, and migration files a splitter without backslash rules reads right. Other escapes stay."""
    if not text:
        return text
    out, quote, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if quote and ch == "\\" and i + 1 < len(text):
            out.append(quote * 2 if text[i + 1] == quote else text[i:i + 2])
            i += 2
            continue
        if quote and ch == quote and text.startswith(quote, i + 1):
            out.append(quote * 2)
            i += 2
            continue
        if ch == quote:
            quote = ""
        elif not quote and ch in "'\"`":
            quote = ch
        out.append(ch)
        i += 1
    return "".join(out)


def collapse_spaces(text: str) -> str:
    """``text`` stripped, each run of whitespace outside quotes ('…', "…", `…`) made one space; names and string
    literals keep theirs (a column named ``a  b`` or a default ``'two\\nlines'`` is not another one). Quotes are
    doubled, never backslash-escaped (``doubled_quotes`` first where a server prints ``\\'``)."""
    text = text.strip()
    out, quote, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if not quote and ch.isspace():
            while i < len(text) and text[i].isspace():
                i += 1
            out.append(" ")
            continue
        if ch == quote:
            quote = ""  # a doubled quote closes and opens again: the same
        elif not quote and ch in "'\"`":
            quote = ch
        out.append(ch)
        i += 1
    return "".join(out)
