"""ClickHouse's rules for translation to SQLite: the type table, Nullable / LowCardinality wrappers, enums with
their names, time zones on DateTime, and Decimal32..256(S) as Decimal(P, S)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import ClassVar

from ..base.translation import (
    BIG_UNSIGNED,
    DATETIME,
    DATETIME_TZ,
    INTEGER,
    JSON,
    NUMERIC,
    REAL,
    TEXT,
    UUID,
    TranslationRules,
    TypeResult,
    TypeRule,
    lossy,
    rules,
    string_values,
)

TYPES: dict[str, TypeRule] = {
    **rules("Int8,Int16,Int32,Int64,UInt8,UInt16,UInt32", INTEGER),
    "UInt64": TypeRule("INTEGER", BIG_UNSIGNED),
    **rules("Int128,Int256,UInt128,UInt256", lossy("integers wider than 64 bits")),
    **rules("Float32,Float64,BFloat16", REAL),
    **rules("Decimal,Decimal32,Decimal64,Decimal128,Decimal256", NUMERIC),
    "Bool": TypeRule("BOOLEAN", "stored as 0/1"),
    "String": TEXT,
    "FixedString": TypeRule("BLOB", "the bytes; the fixed length is not enforced"),
    **rules("Date,Date32", TypeRule("DATE", "stored as ISO-8601 text")),
    **rules("DateTime,DateTime64", DATETIME),
    "UUID": UUID, "JSON": JSON,
    **rules("IPv4,IPv6", lossy("network address: validation and functions are lost")),
    **rules("Array,Map,Tuple,Nested,Variant,Dynamic,Object", lossy("nested value: structure and functions are lost")),
    **rules("AggregateFunction,SimpleAggregateFunction", lossy("aggregate state")),
}

DECIMAL_DIGITS = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}


class ClickHouseTranslation(TranslationRules):
    types: ClassVar[Mapping[str, TypeRule]] = TYPES
    backslash_strings: ClassVar[bool] = True

    def type_shape(self, name: str, args: str | None,
                   translate: Callable[[str], TypeResult]) -> tuple[str, TypeResult | None]:
        """Names keep their case here (``DateTime``, ``UInt64``)."""
        if name in ("Nullable", "LowCardinality") and args:
            inner = translate(args)
            why = "dictionary encoding is storage only" if name == "LowCardinality" else "nullable"
            return name, replace(inner, action="converted", reason="; ".join(p for p in (why, inner.reason) if p))
        if name in ("Enum8", "Enum16", "Enum") and args:
            return name, TypeResult("TEXT", "converted", "enum: its names are kept by a CHECK", string_values(args, True))
        return name, None

    def type_rule(self, name: str, args: str | None, rule: TypeRule) -> TypeRule:
        if name in ("DateTime", "DateTime64") and "'" in (args or ""):
            return DATETIME_TZ  # a DateTime with a time zone
        return rule

    def type_arguments(self, name: str, args: str | None, spelled: str) -> str:
        if name.startswith("Decimal") and name != "Decimal" and args:
            return f"({DECIMAL_DIGITS[name]}, {args.strip()})"  # Decimal64(S) is Decimal(18, S)
        return spelled
