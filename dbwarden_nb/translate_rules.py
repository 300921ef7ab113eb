"""The rules of SQL translation (dbwarden_nb.translate): source types → SQLite types, one lookup table per
backend, and source expressions → SQLite expressions, rewritten token by token (never a regex over whole SQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .backends import lexical as backend_lexical
from .backends.base.translation import BIG_UNSIGNED, UNSIGNED, TranslationRules, TypeResult, TypeRule, lossy, unquote
from .backends.sqlite.ddl import Token, join
from .schema import Snapshot

NOTHING = "\u2014"  # the result of a storage fact or a dropped item: nothing in SQLite


def one_line(text: str) -> str:
    return " ".join(text.split())

# ------------------------------------------------------------------------------------------------ types




_TYPE_SHAPE = re.compile(r"^\s*([A-Za-z_][\w. ]*?)\s*(\((.*)\))?\s*((?:unsigned|zerofill|signed|\s)*)$", re.DOTALL | re.IGNORECASE)


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def translation_rules(backend: str) -> TranslationRules:
    """The translation rules of the backend a snapshot comes from (its package's translation.py)."""
    from .backends import get_backend
    from .errors import ConfigError

    try:
        return get_backend(backend).translation_rules
    except ConfigError:  # a backend this version does not know: no table of its own
        return TranslationRules()


class Types:
    """Source type spellings → SQLite types, with the backend's enums and domains at hand."""

    def __init__(self, snapshot: Snapshot):
        self.backend = snapshot.backend
        self.rules = translation_rules(snapshot.backend)
        self.table = self.rules.types
        self.enums = snapshot.enums
        self.domains = snapshot.domains
        self.backslash = self.rules.backslash_strings

    def translate(self, spelled: str) -> TypeResult:
        text = _PG_PRECISION.sub(r"\1 \3", spelled.strip())  # timestamp(3) with time zone: SQLite keeps no precision
        if self.rules.keeps_sql:
            return TypeResult(text, "kept", "")
        if text in self.enums or _bare_type(text) in self.enums:
            values = self.enums.get(text) or self.enums[_bare_type(text)]
            return TypeResult("TEXT", "converted", "enum: its values are kept by a CHECK", tuple(values))
        if text in self.domains:
            return self._domain(text)
        if text.endswith("]"):
            return self._result(text, lossy("array: element type and operators are lost"))
        m = _TYPE_SHAPE.match(text)
        if not m:
            return self._result(text, lossy("no SQLite equivalent"))
        name, args, suffix = m.group(1).strip(), m.group(3), (m.group(4) or "").lower()
        name, shaped = self.rules.type_shape(name, args, self.translate)
        if shaped is not None:
            return shaped
        rule = self.table.get(name)
        if rule is None:
            return self._result(text, lossy(f"no SQLite equivalent for {name}"))
        rule = self.rules.type_rule(name, args, rule)
        reason = rule.reason
        if "unsigned" in suffix:
            reason = "; ".join(p for p in (BIG_UNSIGNED if name == "bigint" else UNSIGNED, reason) if p)
        sqlite_args = f"({args.replace(' ', '')})".replace(",", ", ") if args and "{args}" in rule.sqlite else ""
        sqlite_args = self.rules.type_arguments(name, args, sqlite_args)
        return self._result(text, replace(rule, sqlite=rule.sqlite.replace("{args}", sqlite_args), reason=reason))

    def _result(self, source: str, rule: TypeRule) -> TypeResult:
        if rule.fallback:
            return TypeResult(rule.sqlite, "fallback", rule.reason)
        action = "kept" if source.upper().replace(" ", "") == rule.sqlite.replace(" ", "") else "converted"
        return TypeResult(rule.sqlite, action, rule.reason)

    def _domain(self, name: str) -> TypeResult:
        domain = self.domains[name]
        base = self.translate(str(domain.get("type", "text")))
        checks = tuple(_domain_check(c) for c in domain.get("checks", ()))
        why = f"domain over {domain.get('type')}" + ("; its checks are kept as CHECKs" if checks else "")
        return replace(base, action="converted" if base.action != "fallback" else "fallback",
                       reason="; ".join(p for p in (why, base.reason) if p),
                       not_null=not domain.get("nullable", True), checks=checks)


_PG_PRECISION = re.compile(r"^(timestamp|time)\((\d+)\) (with|without)", re.IGNORECASE)


def _bare_type(text: str) -> str:
    return text.rsplit(".", 1)[-1].strip('"')


def _domain_check(text: str) -> str:
    """``name CHECK (expr)`` (as PostgreSQL reports a domain's constraint) → ``expr``."""
    m = re.search(r"(?:^|\s)CHECK\s*(?=\()", text, re.IGNORECASE)
    body = text[m.end():].strip() if m else text
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    return body


# ------------------------------------------------------------------------------------------ expressions

NOW = "CURRENT_TIMESTAMP"
# function or keyword (lower case) → SQLite spelling; a call's arguments are dropped with it
_SAME_MEANING: dict[str, str] = {
    **dict.fromkeys(("now", "current_timestamp", "localtimestamp", "transaction_timestamp", "statement_timestamp",
                     "now64", "sysdate", "utc_timestamp"), NOW),
    **dict.fromkeys(("current_date", "curdate", "today"), "CURRENT_DATE"),
    **dict.fromkeys(("current_time", "localtime", "curtime"), "CURRENT_TIME"),
}
_RENAMED_FUNCTIONS = {"ucase": "upper", "lcase": "lower", "char_length": "length", "character_length": "length"}
_KEYWORD_FUNCTIONS = frozenset({"current_timestamp", "localtimestamp", "current_date", "current_time", "localtime"})
_SERVER_GENERATED = {  # defaults whose values only the server can make
    "gen_random_uuid": "a random UUID", "uuid_generate_v4": "a random UUID", "uuid_generate_v1": "a UUID",
    "uuid": "a UUID", "generateuuidv4": "a random UUID", "generateuuidv7": "a UUID", "newid": "a UUID",
    "nextval": "the next value of a sequence", "uuid_short": "a server id",
}
_MULTIWORD_TYPE_WORDS = frozenset({"varying", "precision", "with", "without", "time", "zone"})
_TEXT_TYPES = frozenset({"TEXT", "VARCHAR", "CHAR"})
_NUMBER_TYPES = frozenset({"INTEGER", "REAL", "NUMERIC"})
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


Hit = tuple[list[Token], int] | None  # a rewrite rule's answer: replacement tokens and where to go on


class Untranslatable(Exception):
    """An expression with no SQLite meaning at all (a server-generated default)."""


@dataclass
class Expression:
    """A source expression rewritten for SQLite, with what changed on the way."""

    text: str
    notes: list[str] = field(default_factory=list)


class Expressions:
    def __init__(self, snapshot: Snapshot, types: Types, moved: Mapping[tuple[str, str], str]):
        self.backslash = translation_rules(snapshot.backend).backslash_strings
        self.lexical = backend_lexical(snapshot.backend)
        self.types = types
        self.moved = moved  # (schema, name) of tables and views outside the default schema → bare name
        self.sqlite = translation_rules(snapshot.backend).keeps_sql

    def tokens(self, text: str) -> list[Token]:
        return [Token(kind, token) for kind, token in self.lexical.expression_tokens(text)]

    def translate(self, text: str) -> Expression:
        if self.sqlite:
            return Expression(text)
        notes: list[str] = []
        toks = self.tokens(text)
        for step in (self._literals, self._names, self._casts, self._any_array, self._functions):
            toks = step(toks, notes)
        return Expression(join(toks), list(dict.fromkeys(notes)))

    # -- steps: each takes the tokens and returns new ones, noting what it changed -------------------

    def _literals(self, toks: list[Token], notes: list[str]) -> list[Token]:
        out: list[Token] = []
        for i, t in enumerate(toks):
            if t.kind == "word" and t.text.startswith("_") and i + 1 < len(toks) and toks[i + 1].kind == "str":
                notes.append("character set introducer removed")
                continue
            if t.kind == "bits":
                out.append(Token("num", str(int(t.text[2:-1] or "0", 2))))
                notes.append(f"{t.text} as an integer")
            elif t.kind in ("str", "estr"):
                body = t.text[1:] if t.text[0] in "eEnN" else t.text
                value = unquote(body[1:-1], self.backslash or t.text[0] in "eE")
                out.append(Token("str", literal(value)))
            elif t.kind == "word" and t.upper in ("TRUE", "FALSE") and not _call(toks, i):
                out.append(Token("num", "1" if t.upper == "TRUE" else "0"))
                notes.append(f"{t.text.lower()} \u2192 {out[-1].text}")
            elif t.kind == "qid" and t.text.startswith("`"):
                out.append(Token("qid", quote(t.text[1:-1].replace("``", "`"))))
            elif t.kind == "op" and t.text == "<=>":
                out.append(Token("word", "IS"))
                notes.append("<=> \u2192 IS")
            else:
                out.append(t)
        return out

    def _names(self, toks: list[Token], notes: list[str]) -> list[Token]:
        def rule(i: int, out: list[Token]) -> Hit:
            if i + 2 < len(toks) and toks[i + 1].text == "." and _is_name(toks[i]) and _is_name(toks[i + 2]) \
                    and (_ident(toks[i]), _ident(toks[i + 2])) in self.moved and (not out or out[-1].text != "."):
                notes.append(f"schema {_ident(toks[i])} removed")
                return [], i + 2
            return None
        return _rewrite(toks, rule)

    def _casts(self, toks: list[Token], notes: list[str]) -> list[Token]:
        toks = list(toks)
        while "::" in (t.text for t in toks):
            at = next(i for i, t in enumerate(toks) if t.text == "::")
            start = _operand_start(toks, at)
            end, type_text = _type_end(toks, at + 1)
            operand = toks[start:at]
            target = self.types.translate(type_text)
            plain = target.sqlite.split("(")[0]
            if len(operand) == 1 and operand[0].kind == "str" and plain in _NUMBER_TYPES \
                    and _NUMBER.match(operand[0].text[1:-1]):
                toks[start:end] = [Token("num", operand[0].text[1:-1])]  # '-1.5'::numeric
                notes.append("casts removed")
            elif (len(operand) == 1 and operand[0].kind in ("str", "num")) or plain in _TEXT_TYPES \
                    or target.values is not None or type_text.endswith("]") or target.action == "fallback":
                toks[start:end] = operand
                notes.append("casts removed")
            else:
                toks[start:end] = [Token("word", "CAST"), Token("op", "("), *operand, Token("word", "AS"),
                                   Token("word", target.sqlite), Token("op", ")")]
                notes.append(f"::{type_text} \u2192 CAST(… AS {target.sqlite})")
        return toks

    def _any_array(self, toks: list[Token], notes: list[str]) -> list[Token]:
        """``x = ANY (ARRAY[a, b])`` → ``x IN (a, b)``; ``x <> ALL (ARRAY[…])`` → ``x NOT IN (…)``."""
        def rule(i: int, out: list[Token]) -> Hit:
            if not (toks[i].text in ("=", "<>", "!=") and i + 2 < len(toks) and toks[i + 1].upper in ("ANY", "ALL")
                    and toks[i + 2].text == "("):
                return None
            close = _matching(toks, i + 2)
            inner = _unwrap(toks[i + 3:close])
            negated = toks[i].text != "="
            if not (inner and inner[0].upper == "ARRAY" and len(inner) > 1 and inner[1].text == "["
                    and _matching(inner, 1) == len(inner) - 1 and negated == (toks[i + 1].upper == "ALL")):
                return None
            notes.append("= ANY (ARRAY[…]) \u2192 IN (…)")
            return [*([Token("word", "NOT")] if negated else []), Token("word", "IN"), Token("op", "("),
                    *inner[2:-1], Token("op", ")")], close + 1
        return _rewrite(toks, rule)

    def _functions(self, toks: list[Token], notes: list[str]) -> list[Token]:
        def rule(i: int, out: list[Token]) -> Hit:
            t = toks[i]
            name = t.text.lower() if t.kind == "word" else ""
            called = _call(toks, i)
            if name in _SERVER_GENERATED and called:
                raise Untranslatable(f"{t.text}() makes {_SERVER_GENERATED[name]} on the server; SQLite has no equivalent")
            if name in _SAME_MEANING and (called or name in _KEYWORD_FUNCTIONS):
                new = _SAME_MEANING[name]
                spelled = t.text + ("(\u2026)" if called else "")
                notes.append(f"{spelled} \u2192 {new}" + (" (UTC in SQLite)" if new == NOW else ""))
                return [Token("word", new)], _matching(toks, i + 1) + 1 if called else i + 1
            if name in _RENAMED_FUNCTIONS and called:
                notes.append(f"{t.text}() \u2192 {_RENAMED_FUNCTIONS[name]}()")
                return [Token("word", _RENAMED_FUNCTIONS[name])], i + 1
            if name == "concat" and called:  # MySQL's concat() is NULL when an argument is, like ||
                close = _matching(toks, i + 1)
                joined: list[Token] = [Token("op", "(")]
                for n, arg in enumerate(_split_args(self._functions(toks[i + 2:close], notes))):
                    joined += ([Token("op", "||")] if n else []) + arg
                notes.append("concat() \u2192 ||")
                return joined + [Token("op", ")")], close + 1
            return None
        return _rewrite(toks, rule)


def _rewrite(toks: list[Token], rule: Callable[[int, list[Token]], Hit]) -> list[Token]:
    """``toks`` with each match of ``rule`` (tried at every position, given the output so far) replaced."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        hit = rule(i, out)
        if hit is None:
            out.append(toks[i])
            i += 1
        else:
            out += hit[0]
            i = hit[1]
    return out

def _is_name(t: Token) -> bool:
    return t.kind in ("word", "qid")


def _ident(t: Token) -> str:
    return t.text[1:-1].replace('""', '"') if t.kind == "qid" else t.text


def _call(toks: Sequence[Token], i: int) -> bool:
    return i + 1 < len(toks) and toks[i + 1].text == "("


_PAIRS = {"(": ")", "[": "]", ")": "(", "]": "["}


def _matching(toks: Sequence[Token], i: int) -> int:
    """Index of the bracket matching the one at ``i``: forward from an opener, backward from a closer."""
    here = toks[i].text
    step = 1 if here in "([" else -1
    depth, j = 0, i
    while 0 <= j < len(toks):
        if toks[j].kind == "op" and toks[j].text in (here, _PAIRS[here]):
            depth += 1 if toks[j].text == here else -1
            if depth == 0:
                return j
        j += step
    return len(toks) - 1 if step == 1 else 0  # unbalanced: the far end


def _operand_start(toks: Sequence[Token], at: int) -> int:
    """Where the operand of the ``::`` at ``at`` starts: a literal, a (qualified) name, a call or a group."""
    i = at - 1
    if i < 0:
        return at
    if toks[i].text in (")", "]"):
        i = _matching(toks, i)
        if i > 0 and toks[i - 1].kind == "word":  # a call, or ARRAY[…]
            i -= 1
    while i >= 2 and toks[i - 1].text == "." and _is_name(toks[i - 2]):
        i -= 2
    return i


def _type_end(toks: Sequence[Token], i: int) -> tuple[int, str]:
    """End (exclusive) and text of the type name starting at ``i``: words, dots, (args) and [] pairs."""
    j = i
    words: list[str] = []
    while j < len(toks) and (_is_name(toks[j]) or toks[j].text == "."):
        if toks[j].text != "." and words and words[-1] != "." and toks[j].text.lower() not in _MULTIWORD_TYPE_WORDS:
            break
        words.append(_ident(toks[j]) if toks[j].text != "." else ".")
        j += 1
    text = " ".join(words).replace(" . ", ".")
    if j < len(toks) and toks[j].text == "(":
        close = _matching(toks, j)
        text += "(" + "".join(t.text for t in toks[j + 1:close]) + ")"
        j = close + 1
    while j + 1 < len(toks) and toks[j].text == "[" and toks[j + 1].text == "]":
        text += "[]"
        j += 2
    return j, text


def _unwrap(toks: list[Token]) -> list[Token]:
    while len(toks) > 2 and toks[0].text == "(" and _matching(toks, 0) == len(toks) - 1:
        toks = toks[1:-1]
    return toks


def _split_args(toks: list[Token]) -> list[list[Token]]:
    args: list[list[Token]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "op" and t.text in "([":
            depth += 1
        elif t.kind == "op" and t.text in ")]":
            depth -= 1
        if depth == 0 and t.text == ",":
            args.append([])
        else:
            args[-1].append(t)
    return [a for a in args if a]
