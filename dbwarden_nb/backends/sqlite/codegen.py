"""Code generation hooks: the keyword arguments SQLite's tables and indexes need in model code."""

from __future__ import annotations

from ...models.codegen import sql_text
from ...schema import (
    Index,
    Table,
)
from ..base import Mixin


class SQLiteCodegen(Mixin):
    """Code generation hooks: the keyword arguments SQLite's tables and indexes need in model code."""

    def table_kwargs(self, table: Table) -> dict[str, str]:
        kwargs = {}
        if table.options.get("without_rowid"):
            kwargs["sqlite_with_rowid"] = "False"
        if table.options.get("strict"):
            kwargs["sqlite_strict"] = "True"
        if table.options.get("autoincrement"):
            kwargs["sqlite_autoincrement"] = "True"
        return kwargs

    def index_kwargs(self, index: Index) -> dict[str, str]:
        return {"sqlite_where": sql_text(index.where)} if index.where else {}
