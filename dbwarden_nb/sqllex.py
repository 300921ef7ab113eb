"""One SQL lexer for every dialect: where strings, quoted names, dollar quotes and comments start and end.

Each backend declares its :class:`Lexical` flags (its registry line, ``backends/__init__.py``); the statement
splitter and the section scan of migration files, the SQLite DDL reader and the translation read SQL through it.
Scanning is regex-driven: one search finds the next lexical token, one match reads it whole, so text between
tokens (most of an INSERT) costs no Python step per character.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

_WORDISH = re.compile(r"[\w$]")

__all__ = ["ANSI", "CLICKHOUSE", "MYSQL", "POSTGRESQL", "SQLITE", "Lexical", "Unterminated"]


class Unterminated(ValueError):
    """A string, quoted name, dollar quote or block comment without its end; ``at`` is where it opens."""

    def __init__(self, what: str, at: int) -> None:
        super().__init__(f"unterminated {what}")
        self.what, self.at = what, at


@dataclass(frozen=True)
class Lexical:
    """A dialect's lexical rules."""

    name: str
    strings: str = "'"  # quote characters that open string literals
    identifiers: str = '"`'  # quote characters that open quoted names
    backslash: str = ""  # quotes inside which a backslash escapes the next character
    e_strings: bool = False  # E'…' (PostgreSQL): a backslash escapes inside it
    dollar_quotes: bool = False  # $$…$$, $tag$…$tag$
    brackets: bool = False  # [name] (SQLite, SQL Server)
    hash_comments: bool = False  # # to the end of the line (MySQL)
    delimiter: bool = False  # the mysql client's DELIMITER command is honoured (else refused by the splitter)
    _cache: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False, repr=False, hash=False)

    # -- the regular expressions, built once per dialect ------------------------------------------------------

    def _body(self, quote: str, backslash: bool) -> re.Pattern[str]:
        q = re.escape(quote)
        if backslash:  # unrolled: runs of plain characters, then a doubled quote or an escape
            return re.compile(rf"[^{q}\\]*(?:(?:{q}{q}|\\.)[^{q}\\]*)*{q}", re.DOTALL)
        return re.compile(rf"[^{q}]*(?:{q}{q}[^{q}]*)*{q}")

    @cached_property
    def _bodies(self) -> dict[str, re.Pattern[str]]:
        bodies = {q: self._body(q, q in self.backslash) for q in self.strings + self.identifiers}
        bodies["E"] = self._body("'", True)
        return bodies

    def _starts(self, stops: str) -> str:
        parts = [f"({stops})"] if stops else []
        parts += ["--", r"/\*"]
        if self.hash_comments:
            parts.append("#")
        parts.append("[" + re.escape(self.strings + self.identifiers) + "]")
        if self.dollar_quotes:
            # Every alternative starts with a literal character, so the search skips plain text fast.
            parts.append(r"\$(?<![\w$]\$)(?:[^\W\d]\w*)?\$")
        if self.brackets:
            parts.append(r"\[")
        return "|".join(parts)

    def pattern(self, stops: str = "") -> re.Pattern[str]:
        """Finds the next token that opens a string, quoted name, dollar quote or comment, or one of ``stops``
        (a regular expression, tried first)."""
        found = self._cache.get(stops)
        if found is None:
            found = self._cache[stops] = re.compile(self._starts(stops))
        return found

    def expression_pattern(self) -> re.Pattern[str]:
        """Every token of an expression, by kind (the group names): ``ws`` (whitespace and comments), ``bits``
        (b'01'), ``blob`` (x'ff'), ``estr`` (E'…'), ``str``, ``qid`` (quoted names: every quote that is not ' is
        read as one), ``word``, ``num``, ``op``. An unterminated string, name or comment runs to the end."""
        found = self._cache.get("expression")
        if found is not None:
            return found

        def body(quote: str) -> str:
            q = re.escape(quote)
            return rf"(?:[^{q}\\]|{q}{q}|\\.)" if quote in self.backslash else rf"(?:[^{q}]|{q}{q})"

        quotes = (self.strings + self.identifiers).replace("'", "")
        names = [rf"{re.escape(q)}{body(q)}*{re.escape(q)}?" for q in quotes]
        if self.brackets:
            names.append(r"\[[^\]]*\]?")
        parts = [r"(?P<ws>\s+|--[^\n]*|/\*.*?(?:\*/|\Z)" + (r"|\#[^\n]*)" if self.hash_comments else ")"),
                 r"(?P<bits>[bB]'[01]*')", r"(?P<blob>[xX]'[0-9a-fA-F]*')"]
        if self.e_strings:
            parts.append(r"(?P<estr>[eE]'(?:[^'\\]|''|\\.)*'?)")
        parts += [rf"(?P<str>[nN]?'{body(chr(39))}*'?)", f"(?P<qid>{'|'.join(names)})",
                  r"(?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)",
                  r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
                  r"(?P<op>::|\|\||<=>|<<|>>|<=|>=|==|!=|<>|->>|->|.)"]
        found = self._cache["expression"] = re.compile("|".join(parts), re.DOTALL)
        return found

    def expression_tokens(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, text) of every token of ``text`` but whitespace and comments (see :meth:`expression_pattern`)."""
        for m in self.expression_pattern().finditer(text):
            if m.lastgroup != "ws":
                yield m.lastgroup or "op", m.group()

    # -- reading tokens -------------------------------------------------------------------------------------

    def token_end(self, text: str, at: int, token: str) -> int:
        """The offset just after the string, quoted name, dollar quote or comment whose opening ``token`` (as
        :meth:`pattern` found it) is at ``at``; raises :class:`Unterminated`."""
        first = token[0]
        if token == "--" or first == "#":
            end = text.find("\n", at)
            return len(text) if end == -1 else end
        if token == "/*":
            # Not nested: SQLite and MySQL end a comment at the first */ (PostgreSQL would nest).
            end = text.find("*/", at + 2)
            if end == -1:
                raise Unterminated("block comment", at)
            return end + 2
        if first == "$":
            end = text.find(token, at + len(token))
            if end == -1:
                raise Unterminated(f"dollar-quoted string {token}", at)
            return end + len(token)
        if first == "[":
            end = text.find("]", at + 1)
            if end == -1:
                raise Unterminated("quoted identifier", at)
            return end + 1
        quote = token
        # E'...' (the word before the quote is E alone) is where a backslash escapes a quote in PostgreSQL.
        e_string = (self.e_strings and quote == "'" and at and text[at - 1] in "Ee"
                    and (at < 2 or not _WORDISH.match(text, at - 2)))
        body = self._bodies["E" if e_string else quote].match(text, at + 1)
        if body is None:
            raise Unterminated("string literal" if quote in self.strings else "quoted identifier", at)
        return body.end()

    def tokens(self, text: str, pos: int = 0, stops: str = "") -> Iterator[tuple[int, int, str]]:
        """(start, end, token) of every string, quoted name, dollar quote, comment and stop from ``pos``; the
        text between them is plain SQL (words, numbers, operators, whitespace)."""
        search = self.pattern(stops).search
        while (found := search(text, pos)) is not None:
            at, token = found.start(), found.group()
            pos = found.end() if found.lastindex == 1 and stops else self.token_end(text, at, token)
            yield at, pos, token


# ANSI: what the splitter read before dialects were known (a file without a '-- backend:' header): every quote
# doubled, E'…' and dollar quotes (PostgreSQL), "…" and `…` names.
ANSI = Lexical("ansi", e_strings=True, dollar_quotes=True)
POSTGRESQL = Lexical("postgresql", identifiers='"', e_strings=True, dollar_quotes=True)
MYSQL = Lexical("mysql", strings="'\"", identifiers="`", backslash="'\"", hash_comments=True, delimiter=True)
# ClickHouse: backslash escapes in strings and both kinds of quoted names; heredocs ($$…$$) read as dollar quotes.
CLICKHOUSE = Lexical("clickhouse", backslash="'\"`", dollar_quotes=True)
SQLITE = Lexical("sqlite", brackets=True)
