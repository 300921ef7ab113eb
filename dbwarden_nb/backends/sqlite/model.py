"""The model side: SQLAlchemy tables to snapshot facts in SQLite's spelling (defaults, expressions, views, table options)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...schema import (
    Column,
    Table,
)
from ..base import Mixin
from . import ddl

if TYPE_CHECKING:
    import sqlalchemy as sa


class SQLiteModel(Mixin):
    """The model side: SQLAlchemy tables to snapshot facts in SQLite's spelling (defaults, expressions, views, table options)."""

    if TYPE_CHECKING:  # from SQLiteCatalog
        @staticmethod
        def _rowid_not_null(col: Column, pk: tuple[str, ...], facts: ddl.TableFacts) -> Column: ...

    def canonical_default(self, text: str) -> str:
        # rendering always wraps the default in one pair of parentheses, which SQLite strips again
        # when it reports it: the text itself is the canonical form
        return ddl.normalize_sql(text)

    def canonical_expression(self, text: str) -> str:
        return ddl.normalize_sql(text)

    def canonical_view(self, definition: str) -> str:
        return ddl.normalize_sql(definition).rstrip(";").rstrip()

    def table_options(self, table: sa.Table) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if table.dialect_options["sqlite"].get("with_rowid") is False:
            options["without_rowid"] = True
        if table.dialect_options["sqlite"].get("strict"):
            options["strict"] = True
        if table.dialect_options["sqlite"].get("autoincrement"):
            options["autoincrement"] = True
        return options

    def normalize_model_table(self, table: Table) -> Table:
        pk = table.primary_key.columns if table.primary_key else ()
        facts = ddl.TableFacts(without_rowid=bool(table.options.get("without_rowid")))
        # NOT DEFERRABLE and INITIALLY IMMEDIATE are what no clause says (see ddl.deferral)
        fks = tuple(replace(fk, deferrable=fk.deferrable or None, initially=fk.initially if fk.deferrable and
                            fk.initially == "DEFERRED" else None) for fk in table.foreign_keys)
        # SQLite has no names for primary keys of single INTEGER rowid columns it can report reliably
        return table.replace(columns=tuple(self._rowid_not_null(c, pk, facts) for c in table.columns), foreign_keys=fks)
