"""Code generation hooks: SQLAlchemy spellings, imports and keyword arguments for PostgreSQL's snapshot facts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...errors import BackendError
from ...models.codegen import sql_text
from ...schema import Column, Index, PrimaryKey, Table, Unique
from ..base import Mixin
from ..base.sqltext import split_top_level
from .catalog import SERIALS, implicit_name

_PG_TYPE = re.compile(r"^(?P<base>[a-z][a-z0-9_ ]*?)(?:\((?P<params>[0-9, ]+)\))?(?P<tail>( with(out)? time zone)?)(?P<array>(\[\])*)$")


class PostgreSQLCodegen(Mixin):
    """Code generation hooks: SQLAlchemy spellings, imports and keyword arguments for PostgreSQL's snapshot facts."""

    if TYPE_CHECKING:  # from PostgreSQLConnecting
        def regclass(self, schema: str | None, name: str) -> str: ...

    def type_candidates(self, spelled: str) -> list[str]:
        m = _PG_TYPE.match(spelled)
        if not m:
            return []
        base = m.group("base") + (m.group("tail") or "")
        params = [p.strip() for p in (m.group("params") or "").split(",") if p.strip()]
        dims = len(m.group("array") or "") // 2
        out = []
        for code in self.type_candidates_table.get(base, ()):
            if code.count("{") == len(params):
                text = code.format(*params)
                out.append(f"postgresql.ARRAY({text}, dimensions={dims})" if dims > 1 else f"postgresql.ARRAY({text})" if dims else text)
        return out

    def array_type_code(self, element: str) -> str:
        return f"postgresql.ARRAY({element})"

    def domain_type_code(self, arguments: str) -> str:
        return f"postgresql.DOMAIN({arguments})"

    def codegen_namespace(self) -> dict[str, Any]:
        from sqlalchemy.dialects import postgresql

        return {"postgresql": postgresql}

    def codegen_imports(self, code: str) -> list[tuple[str, str | None]]:
        return [("sqlalchemy.dialects", "postgresql")] if "postgresql." in code else []

    def python_type(self, spelled: str) -> str:
        m = _PG_TYPE.match(spelled)
        if m is None:
            return "Any"
        dims = len(m.group("array") or "") // 2
        return "list[" * dims + self.python_types.get(m.group("base") + (m.group("tail") or ""), "Any") + "]" * dims

    @staticmethod
    def _serial_key(table: Table) -> str | None:
        """The key column SQLAlchemy makes SERIAL when told ``autoincrement=True`` (one per table at most)."""
        pk = table.primary_key.columns if table.primary_key else ()
        return next((c.name for c in table.columns if c.name in pk and c.options.get("serial")), None)

    def autoincrement_kwarg(self, table: Table, column: Column) -> str | None:
        pk = table.primary_key.columns if table.primary_key else ()
        # SQLAlchemy's "auto": a lone integer key column without default, identity or foreign key is SERIAL
        picked = (pk == (column.name,) and column.type in SERIALS and column.default is None and column.identity is None
                  and not any(column.name in fk.columns for fk in table.foreign_keys))
        serial = self._serial_key(table) == column.name
        return None if picked == serial else str(serial)

    def implied_sequence(self, table: Table, column: Column) -> tuple[str, dict[str, Any], str] | None:
        if not column.options.get("serial") or self._serial_key(table) == column.name:
            return None
        name = implicit_name(table.name, column.name, "seq")
        key = f"{table.schema}.{name}" if table.schema else name
        return key, {"type": column.type}, f"nextval({self.literal(self.regclass(table.schema, name))}::regclass)"

    def column_info(self, column: Column) -> dict[str, Any]:
        return {k: column.options[k] for k in ("storage", "compression", "inherited") if k in column.options}

    def table_info(self, table: Table) -> dict[str, Any]:
        return {k: table.options[k] for k in ("partition_of", "partition_bound") if k in table.options}

    def table_kwargs(self, table: Table) -> dict[str, str]:
        o = table.options
        kwargs: dict[str, str] = {}
        if o.get("with"):
            kwargs["postgresql_with"] = repr(dict(o["with"]))
        if o.get("tablespace"):
            kwargs["postgresql_tablespace"] = repr(o["tablespace"])
        if o.get("partition_by"):
            kwargs["postgresql_partition_by"] = repr(o["partition_by"])
        if o.get("inherits"):
            kwargs["postgresql_inherits"] = repr(tuple(o["inherits"]) if len(o["inherits"]) > 1 else o["inherits"][0])
        if o.get("unlogged"):
            kwargs["prefixes"] = "['UNLOGGED']"
        return kwargs

    def constraint_kwargs(self, constraint: Any) -> dict[str, str]:
        o = constraint.options
        kwargs: dict[str, str] = {}
        if o.get("not_valid"):
            kwargs["postgresql_not_valid"] = "True"
        info = {k: o[k] for k in ("no_inherit", "comment") if k in o}
        if info:
            kwargs["info"] = repr({"dbwarden": info})
        if isinstance(constraint, Unique):
            if o.get("nulls_not_distinct"):
                kwargs["postgresql_nulls_not_distinct"] = "True"
            if o.get("include"):
                kwargs["postgresql_include"] = repr(list(o["include"]))
        if isinstance(constraint, (Unique, PrimaryKey)):
            if o.get("deferrable"):
                kwargs["deferrable"] = "True"
            if o.get("initially"):
                kwargs["initially"] = repr(o["initially"])
        return kwargs

    def check_code(self, check: Any) -> str | None:
        """Exclusion constraints as ``postgresql.ExcludeConstraint`` with the server's elements."""
        if check.options.get("type") != "exclude":
            return None
        m = re.match(r"EXCLUDE USING (\w+) \((.*?)\)( WHERE \((.*)\))?$", check.expression, re.DOTALL)
        if m is None:
            raise BackendError(f"exclusion constraint {check.name}: cannot read {check.expression!r}")
        elements = []
        for part in split_top_level(m.group(2)):
            expr, _, operator = part.rpartition(" WITH ")
            elements.append(f"({sql_text(expr.strip())}, {operator.strip()!r})")
        args = elements + [f"using={m.group(1)!r}"]
        if check.name:
            args.append(f"name={check.name!r}")
        if m.group(4):
            args.append(f"where={sql_text(m.group(4))}")
        return f"postgresql.ExcludeConstraint({', '.join(args)})"

    def index_kwargs(self, index: Index) -> dict[str, str]:
        o = index.options
        kwargs: dict[str, str] = {}
        if o.get("using"):
            kwargs["postgresql_using"] = repr(o["using"])
        if o.get("include"):
            kwargs["postgresql_include"] = repr(list(o["include"]))
        if o.get("with"):
            kwargs["postgresql_with"] = repr(dict(o["with"]))
        if o.get("tablespace"):
            kwargs["postgresql_tablespace"] = repr(o["tablespace"])
        if o.get("nulls_not_distinct"):
            kwargs["postgresql_nulls_not_distinct"] = "True"
        ops = {e.column or e.expression: e.opclass for e in index.elements if e.opclass}
        if ops:
            kwargs["postgresql_ops"] = repr(ops)
        if index.where:
            kwargs["postgresql_where"] = sql_text(index.where)
        if "comment" in o:
            kwargs["info"] = repr({"dbwarden": {"comment": o["comment"]}})
        return kwargs
