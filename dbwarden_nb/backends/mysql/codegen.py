"""Code generation hooks: SQLAlchemy spellings, imports and keyword arguments for MySQL's snapshot facts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ...schema import Check, Column, ForeignKey, Index, Table
from ..base import Mixin
from ..base.options import option_info, option_kwargs
from .options import TABLE_OPTIONS

INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "bigint")
_COLUMN_TYPE = re.compile(r"^(?P<base>[a-z]+)(?:\((?P<params>.*)\))?(?P<unsigned> unsigned)?(?P<zerofill> zerofill)?$", re.DOTALL)


def split_values(params: str) -> list[str]:
    """``'a','b''c'`` → ['a', "b'c"] (ENUM and SET values as COLUMN_TYPE prints them)."""
    return [v.replace("''", "'").replace("\\\\", "\\") for v in re.findall(r"'((?:[^'\\]|''|\\.)*)'", params)]


class MySQLCodegen(Mixin):
    """Code generation hooks: SQLAlchemy spellings, imports and keyword arguments for MySQL's snapshot facts."""

    def type_candidates(self, spelled: str) -> list[str]:
        m = _COLUMN_TYPE.match(spelled)
        if not m:
            return []
        base, params = m.group("base"), m.group("params")
        if base in ("enum", "set"):
            return [f"mysql.{base.upper()}({', '.join(repr(v) for v in split_values(params or ''))})"]
        unsigned, zerofill = bool(m.group("unsigned")), bool(m.group("zerofill"))
        if base == "tinyint" and params == "1" and not unsigned:
            return ["sa.Boolean()", "mysql.TINYINT(1)"]
        values = [p.strip() for p in (params or "").split(",") if p.strip()]
        out = [code.format(*values) for code in self.type_candidates_table.get(base, ()) if code.count("{") == len(values)]
        if unsigned or zerofill or (base in INTEGER_TYPES and values):
            cls = {"int": "INTEGER", "decimal": "DECIMAL"}.get(base, base.upper())
            args = []
            if base in INTEGER_TYPES and values:
                args.append(f"display_width={values[0]}")
            elif values:
                args += values
            args += ["unsigned=True"] if unsigned else []
            args += ["zerofill=True"] if zerofill else []
            out.append(f"mysql.{cls}({', '.join(args)})")
            if base in INTEGER_TYPES and values:  # the server's own default width
                out.insert(0, f"mysql.{cls}({', '.join(args[1:])})")
        return out

    def codegen_namespace(self) -> dict[str, Any]:
        from sqlalchemy.dialects import mysql

        return {"mysql": mysql}

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        return [("sqlalchemy.dialects", "mysql")] if "mysql." in code else []

    def inline_enum_values(self, spelled: str) -> tuple[str, ...] | None:
        m = _COLUMN_TYPE.match(spelled)
        return tuple(split_values(m.group("params") or "")) if m and m.group("base") == "enum" else None

    def enum_class_type(self, arguments: str) -> str:
        return f"mysql.ENUM({arguments})"

    def python_type(self, spelled: str) -> str:
        m = _COLUMN_TYPE.match(spelled)
        if m is None:
            return "Any"
        if m.group("base") == "tinyint" and m.group("params") == "1" and not m.group("unsigned"):
            return "bool"
        return self.python_types.get(m.group("base"), "Any")

    @staticmethod
    def _sa_picks(table: Table, column: Column) -> bool:
        """Whether SQLAlchemy makes the column AUTO_INCREMENT by default: a lone integer primary key
        without server default or foreign key."""
        pk = table.primary_key.columns if table.primary_key else ()
        return (pk == (column.name,) and column.type.split("(")[0].split()[0] in INTEGER_TYPES
                and column.default is None and not any(column.name in fk.columns for fk in table.foreign_keys))

    def autoincrement_kwarg(self, table: Table, column: Column) -> str | None:
        # the other way round (AUTO_INCREMENT SQLAlchemy would not pick) is column_kwargs': it applies off the key too
        return "False" if self._sa_picks(table, column) and not column.options.get("auto_increment") else None

    def implicit_constraint_name(self, table: Table, kind: str, columns: Sequence[str]) -> str | None:
        if kind == "unique" and columns:
            taken = {ix.name for ix in table.indexes} | {fk.options.get("index") for fk in table.foreign_keys}
            return columns[0] if columns[0] not in taken and columns[0] != "PRIMARY" else None
        return None

    def column_kwargs(self, table: Table, column: Column) -> dict[str, str]:
        """Keyword arguments of ``mapped_column``/``Column`` that the generic generator does not write."""
        kwargs: dict[str, str] = {}
        if column.options.get("on_update"):
            kwargs["server_onupdate"] = f"sa.text({column.options['on_update']!r})"
        if column.options.get("auto_increment") and not self._sa_picks(table, column):
            kwargs["autoincrement"] = "True"
        return kwargs

    def column_info(self, column: Column) -> dict[str, Any]:
        return {k: column.options[k] for k in ("invisible", "srid") if k in column.options}

    def table_info(self, table: Table) -> dict[str, Any]:
        return option_info(TABLE_OPTIONS, table.options)

    def table_kwargs(self, table: Table) -> dict[str, str]:
        o = table.options
        kwargs = option_kwargs(TABLE_OPTIONS, o, "mysql")
        for key, value in sorted((o.get("create_options") or {}).items()):
            kwargs[f"mysql_{key}"] = repr(value)
        return kwargs

    def constraint_kwargs(self, constraint: Any) -> dict[str, str]:
        info: dict[str, Any] = {}
        if isinstance(constraint, Check):
            info = {k: True for k in ("not_enforced", "column") if constraint.options.get(k)}
        elif isinstance(constraint, ForeignKey) and constraint.options.get("index") not in (None, constraint.name):
            info = {"index": constraint.options["index"]}  # the server would name it after the key
        return {"info": repr({"dbwarden": info})} if info else {}

    def index_kwargs(self, index: Index) -> dict[str, str]:
        o = index.options
        kwargs: dict[str, str] = {}
        if o.get("length"):
            kwargs["mysql_length"] = repr(dict(o["length"]))
        if o.get("prefix"):
            kwargs["mysql_prefix"] = repr(o["prefix"])
        if o.get("using"):
            kwargs["mysql_using"] = repr(o["using"].lower())
        info = {k: o[k] for k in ("invisible", "ignored", "comment") if o.get(k)}
        if info:
            kwargs["info"] = repr({"dbwarden": info})
        return kwargs
