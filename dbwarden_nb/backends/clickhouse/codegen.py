"""Code generation hooks: clickhouse-connect's SQLAlchemy types and engines, and the keyword arguments ClickHouse's facts need."""

from __future__ import annotations

import re
from typing import Any

from ...schema import Column, Index, Table
from ..base import Mixin
from .dictionary import (
    ATTRIBUTE_OPTIONS,
    DICTIONARY,
    is_dictionary,
)
from .engine import ENGINE_CLAUSES, _split_top

CH_PYTHON_TYPES = {
    "String": "str", "FixedString": "str", "Enum8": "str", "Enum16": "str", "Bool": "bool", "UUID": "uuid.UUID",
    "Date": "datetime.date", "Date32": "datetime.date", "DateTime": "datetime.datetime", "DateTime64": "datetime.datetime",
    "Decimal": "decimal.Decimal", "IPv4": "ipaddress.IPv4Address", "IPv6": "ipaddress.IPv6Address", "JSON": "dict[str, Any]",
}


class ClickHouseCodegen(Mixin):
    """Code generation hooks: clickhouse-connect's SQLAlchemy types and engines, and the keyword arguments ClickHouse's facts need."""

    def type_candidates(self, spelled: str) -> list[str]:
        return [f"sqla_type_from_name({spelled!r})"]

    def codegen_namespace(self) -> dict[str, Any]:
        from clickhouse_connect.cc_sqlalchemy.datatypes.base import sqla_type_from_name

        return {"sqla_type_from_name": sqla_type_from_name}

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        if "sqla_type_from_name" in code:  # every table has a typed column: its engine import rides along
            return [("clickhouse_connect.cc_sqlalchemy.datatypes.base", "sqla_type_from_name"),
                    ("clickhouse_connect.cc_sqlalchemy.ddl.tableengine", "build_engine")]
        return []

    def python_type(self, spelled: str) -> str:
        spelled = re.sub(r"^(?:LowCardinality|Nullable)\((.*)\)$", r"\1", spelled)
        base, _, inner = spelled.partition("(")
        if base in ("Array", "Map"):
            args = [self.python_type(a) for a in _split_top(inner[:-1])]
            return f"list[{args[0]}]" if base == "Array" else f"dict[{args[0]}, {args[-1]}]"
        if base in ("Nullable", "LowCardinality"):
            return self.python_type(inner[:-1])
        if re.fullmatch(r"U?Int\d+", base):
            return "int"
        return CH_PYTHON_TYPES.get(base, "float" if base.startswith("Float") else "Any")

    def column_kwargs(self, table: Any, column: Column) -> dict[str, str]:
        out = {}
        if column.options.get("codec"):
            out["clickhousedb_codec"] = repr(column.options["codec"])
        if column.options.get("ttl"):
            out["clickhousedb_ttl"] = repr(column.options["ttl"])
        return out

    def column_info(self, column: Column) -> dict[str, Any]:
        if column.options.get("default_kind") == "EPHEMERAL":
            return {"ephemeral": True}
        return {k: column.options[k] for k in ATTRIBUTE_OPTIONS if k in column.options}  # a dictionary attribute's

    def table_kwargs(self, table: Table) -> dict[str, str]:
        if is_dictionary(table):  # no engine: its definition is its info
            return {}
        o = table.options
        engine_full = o["engine"] + "".join(f" {w} {o[w.lower().replace(' ', '_')]}" for w in ENGINE_CLAUSES[:-1]
                                            if o.get(w.lower().replace(" ", "_")))
        if o.get("settings"):
            engine_full += " SETTINGS " + ", ".join(f"{k} = {v}" for k, v in o["settings"].items())
        return {"clickhousedb_engine": f"build_engine({engine_full!r})"}

    def table_info(self, table: Table) -> dict[str, Any]:
        if is_dictionary(table):
            return {DICTIONARY: dict(table.options[DICTIONARY])}
        return {"projections": dict(table.options["projections"])} if table.options.get("projections") else {}

    def index_kwargs(self, index: Index) -> dict[str, str]:
        return {"info": repr({"dbwarden": dict(index.options)})}
