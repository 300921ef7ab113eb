"""The SQL lexer (``dbwarden_nb.sqllex``): each dialect's strings, quoted names, dollar quotes and comments end
where its server ends them, and an unterminated one says what and where it opens."""

from __future__ import annotations

import pytest

from dbwarden_nb import sqllex
from dbwarden_nb.backends import BACKENDS, lexical
from dbwarden_nb.sqllex import ANSI, CLICKHOUSE, MYSQL, POSTGRESQL, SQLITE, Lexical


def tokens(lex: Lexical, text: str, stops: str = "") -> list[str]:
    return [text[at:end] for at, end, _ in lex.tokens(text, stops=stops)]


@pytest.mark.parametrize(("lex", "text", "expected"), [
    (POSTGRESQL, "SELECT 'it''s', \"a\"\"b\", x", ["'it''s'", '"a""b"']),
    (POSTGRESQL, "SELECT E'a\\'b', e'\\\\', 'c\\'", ["'a\\'b'", "'\\\\'", "'c\\'"]),  # E'' alone escapes
    (POSTGRESQL, "SELECT xE'a\\', $1, a$$b, $t$ ' $$ $t$", ["'a\\'", "$t$ ' $$ $t$"]),
    (POSTGRESQL, "SELECT `a` -- note\n/* x ' */", ["-- note", "/* x ' */"]),  # ` is no quote in PostgreSQL
    (MYSQL, "SELECT 'a\\'b', \"c\\\"d\", `e\\`, x # it's\n", ["'a\\'b'", '"c\\"d"', "`e\\`", "# it's"]),
    (MYSQL, "SELECT $$ 'x' $$", ["'x'"]),  # no dollar quotes: $$ is a name
    (CLICKHOUSE, "SELECT 'a\\'b', `c\\`d`, \"e\\\"f\", $$ ' $$", ["'a\\'b'", "`c\\`d`", '"e\\"f"', "$$ ' $$"]),
    (SQLITE, "SELECT [a;'b], 'c\\', `d`, \"e\", $$", ["[a;'b]", "'c\\'", "`d`", '"e"']),
    (ANSI, "SELECT 'a', \"b\", `c`, [d], $$e$$, E'\\''", ["'a'", '"b"', "`c`", "$$e$$", "'\\''"]),
])
def test_tokens_end_where_the_dialect_ends_them(lex: Lexical, text: str, expected: list[str]) -> None:
    assert tokens(lex, text) == expected


@pytest.mark.parametrize(("lex", "text", "expected"), [
    (SQLITE, "x'0f' || [a b] -- c\n", [("blob", "x'0f'"), ("op", "||"), ("qid", "[a b]")]),
    (POSTGRESQL, "E'a\\'b'::text << 2", [("estr", "E'a\\'b'"), ("op", "::"), ("word", "text"),
                                                  ("op", "<<"), ("num", "2")]),
    (MYSQL, "'a\\'b' # c\n<=> \"d\\\"\" `e`", [("str", "'a\\'b'"), ("op", "<=>"), ("qid", '"d\\""'), ("qid", "`e`")]),
    (CLICKHOUSE, "E'x' `a\\`b`", [("word", "E"), ("str", "'x'"), ("qid", "`a\\`b`")]),
])
def test_expression_tokens_by_kind(lex: Lexical, text: str, expected: list[tuple[str, str]]) -> None:
    assert list(lex.expression_tokens(text)) == expected


def test_stops_are_found_outside_tokens_only() -> None:
    text = "a; 'b;'; -- c;\n d // e"
    assert tokens(MYSQL, text, ";") == [";", "'b;'", ";", "-- c;"]
    assert tokens(MYSQL, text, "//") == ["'b;'", "-- c;", "//"]


@pytest.mark.parametrize(("lex", "text", "what", "at"), [
    (POSTGRESQL, "SELECT 1, 'open", "string literal", 10),
    (POSTGRESQL, 'SELECT "open', "quoted identifier", 7),
    (POSTGRESQL, "SELECT $x$ open $y$", "dollar-quoted string $x$", 7),
    (MYSQL, "SELECT 'a\\'", "string literal", 7),
    (MYSQL, 'SELECT "a', "string literal", 7),  # a MySQL "…" is a string
    (SQLITE, "SELECT [open", "quoted identifier", 7),
    (SQLITE, "SELECT 1 /* open", "block comment", 9),
])
def test_unterminated_says_what_and_where(lex: Lexical, text: str, what: str, at: int) -> None:
    with pytest.raises(sqllex.Unterminated) as err:
        tokens(lex, text)
    assert (str(err.value), err.value.at) == (f"unterminated {what}", at)


def test_every_backend_declares_its_lexical_rules() -> None:
    assert {name: lexical(name) for name in BACKENDS} == {
        "postgresql": POSTGRESQL, "mysql": MYSQL, "mariadb": MYSQL, "clickhouse": CLICKHOUSE, "sqlite": SQLITE}
    assert lexical(None) is ANSI and lexical("oracle") is ANSI
