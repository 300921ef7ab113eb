"""Translation to SQLite (dbwarden_nb.translate): what each backend's ``translation.py`` declares about its own
spellings — its type table and the type shapes only it has — and the rules they share."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class TypeRule:
    sqlite: str  # the SQLite type; "{args}" stands for the source's parenthesized arguments
    reason: str = ""
    fallback: bool = False  # lossy: operations or constraints of the source type are lost


def rules(names: str, rule: TypeRule) -> dict[str, TypeRule]:
    return dict.fromkeys(names.split(","), rule)


INTEGER = TypeRule("INTEGER")
UNSIGNED = "the unsigned range is not enforced"
BIG_UNSIGNED = "SQLite integers are signed 64-bit: values above 9223372036854775807 do not fit"
REAL = TypeRule("REAL", "stored as an 8-byte IEEE float")
NUMERIC = TypeRule("NUMERIC{args}", "stored as INTEGER or REAL: digits beyond 15 significant ones are rounded")
VARCHAR = TypeRule("VARCHAR{args}", "the length is not enforced")
CHAR = TypeRule("CHAR{args}", "the length and blank padding are not enforced")
TEXT = TypeRule("TEXT")
BLOB = TypeRule("BLOB")
DATETIME = TypeRule("DATETIME", "stored as ISO-8601 text")
DATETIME_TZ = TypeRule("DATETIME", "stored as ISO-8601 text: the time zone is not kept (store UTC)")
TIME = TypeRule("TIME", "stored as ISO-8601 text")
UUID = TypeRule("TEXT", "the UUID's text form")
JSON = TypeRule("TEXT", "the JSON document as text (SQLite's JSON functions read it)")


def lossy(what: str) -> TypeRule:
    return TypeRule("TEXT", f"{what}: stored as text", fallback=True)


@dataclass(frozen=True)
class TypeResult:
    sqlite: str
    action: str
    reason: str
    values: tuple[str, ...] | None = None  # an enum's values: kept by a CHECK … IN (…)
    not_null: bool = False  # a NOT NULL domain
    checks: tuple[str, ...] = ()  # a domain's checks, VALUE standing for the column


_STRING = re.compile(r"'((?:[^'\\]|''|\\.)*)'", re.DOTALL)


def string_values(text: str, backslash: bool) -> tuple[str, ...]:
    return tuple(unquote(m.group(1), backslash) for m in _STRING.finditer(text))


def unquote(body: str, backslash: bool) -> str:
    body = body.replace("''", "'")
    if backslash:
        body = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(m.group(1), m.group(1)), body)
    return body


class TranslationRules:
    """A source backend's rules: its type table, whether a backslash escapes in its strings, and hooks for the
    type shapes only it has. A backend's ``translation.py`` subclasses this; its Backend names the instance."""

    types: ClassVar[Mapping[str, TypeRule]] = {}
    backslash_strings: ClassVar[bool] = False  # a backslash escapes inside '…'
    keeps_sql: ClassVar[bool] = False  # the source is SQLite: types and expressions stay as written

    def type_shape(self, name: str, args: str | None,
                   translate: Callable[[str], TypeResult]) -> tuple[str, TypeResult | None]:
        """The name the type table knows, and the result where the type's own shape decides it (an
        ``enum('a', 'b')`` keeps its values by a CHECK); ``translate`` translates an inner type."""
        name = name.lower()
        if name == "enum" and args is not None:
            return name, TypeResult("TEXT", "converted", "enum: its values are kept by a CHECK",
                                    string_values(args, self.backslash_strings))
        return name, None

    def type_rule(self, name: str, args: str | None, rule: TypeRule) -> TypeRule:
        """The table's rule for ``name`` where its arguments change it."""
        return rule

    def type_arguments(self, name: str, args: str | None, spelled: str) -> str:
        """The SQLite type's parenthesized arguments (``spelled``: the source's, as written)."""
        return spelled
