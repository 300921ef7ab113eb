"""The model side: SQLAlchemy tables (clickhouse-connect's types and engines) to snapshot facts, normalized through a scratch database."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import BackendError
from ...schema import Check, Column, Computed, Index, IndexElement, Snapshot, Table, View
from ..base import Mixin
from ..base.sqltext import collapse_spaces
from .dictionary import (
    declares_dictionary,
    dictionary_sql,
    is_dictionary,
    model_dictionary,
)
from .engine import parse_engine_full, split_nullable

# generic SQLAlchemy spellings → ClickHouse types (the server reads them as these aliases)
GENERIC_TYPES = {
    "INTEGER": "Int32", "INT": "Int32", "BIGINT": "Int64", "SMALLINT": "Int16", "VARCHAR": "String", "TEXT": "String",
    "CLOB": "String", "DATETIME": "DateTime", "TIMESTAMP": "DateTime", "DATE": "Date", "BOOLEAN": "Bool",
    "FLOAT": "Float32", "REAL": "Float32", "DOUBLE": "Float64", "DOUBLE PRECISION": "Float64", "NUMERIC": "Decimal",
    "DECIMAL": "Decimal", "UUID": "UUID", "JSON": "JSON",
}


def _views_in_order(snap: Snapshot) -> list[View]:
    from ...differ import view_dependency_order

    return view_dependency_order(list(snap.views.values()))


class ClickHouseModel(Mixin):
    """The model side: SQLAlchemy tables (clickhouse-connect's types and engines) to snapshot facts, normalized through a scratch database."""

    if TYPE_CHECKING:  # from ClickHouseRendering
        def column_reference(self, name: str) -> str: ...

    def canonical_type(self, spelled: str) -> str:
        text = collapse_spaces(spelled)
        base, paren, rest = text.partition("(")
        mapped = GENERIC_TYPES.get(base.upper().strip())
        if mapped is not None and (not paren or mapped == "Decimal"):
            return mapped + paren + rest
        return text

    def extract_models(self, tables: Sequence[Any], conn: Any = None, metadata: Sequence[Any] = ()) -> Snapshot:
        from ...models.extract import Extractor, is_view

        ex = Extractor(self, None)
        return Snapshot.of(self.name, [model_dictionary(self, ex, t) if declares_dictionary(t) else self._model_table(ex, t)
                                       for t in tables if not is_view(t)],
                           [ex.view(t) for t in tables if is_view(t)])

    def _model_table(self, ex: Any, table: Any) -> Table:
        info = dict(table.info.get("dbwarden") or {})
        engine = getattr(table, "engine", None) or table.kwargs.get("clickhousedb_engine") or table.kwargs.get("clickhouse_engine")
        if engine is None:
            raise BackendError(f"table {table.name}: a ClickHouse table needs an engine, e.g. "
                               "MergeTree(order_by='id') from clickhouse_connect.cc_sqlalchemy.ddl.tableengine")
        opts = parse_engine_full(engine.compile().removeprefix("Engine "))
        if info.get("projections"):
            opts["projections"] = dict(info["projections"])
        indexes = []
        for ix in table.indexes:
            ixinfo = dict(ix.info.get("dbwarden") or {})
            if "type" not in ixinfo:
                raise BackendError(f"index {ix.name} of table {table.name}: a ClickHouse skip index needs "
                                   "info={'dbwarden': {'type': 'minmax', 'granularity': 1}}")
            exprs = [self.column_reference(c.name) if hasattr(c, "table") and getattr(c, "name", None) in table.c
                     else ex.expression(c) for c in ix.expressions]
            expr = exprs[0] if len(exprs) == 1 else f"({', '.join(exprs)})"
            indexes.append(Index(ix.name, (IndexElement(expression=expr),),
                                 options={"type": ixinfo["type"], "granularity": int(ixinfo.get("granularity", 1))}))
        return Table(table.name, None, tuple(self._model_column(ex, table, c) for c in table.columns),
                     indexes=tuple(indexes), checks=self._model_checks(ex, table), comment=table.comment, options=opts)

    @staticmethod
    def _model_checks(ex: Any, table: Any) -> tuple[Check, ...]:
        """The table's CheckConstraints, a column's included (ClickHouse has table constraints only); each needs a
        name, which ClickHouse requires and dbwarden drops it by."""
        import sqlalchemy as sa

        found = [c for c in table.constraints if isinstance(c, sa.CheckConstraint)]
        found += [c for col in table.columns for c in col.constraints
                  if isinstance(c, sa.CheckConstraint) and c not in table.constraints]
        checks = []
        for c in found:
            if not isinstance(c.name, str) or not c.name:
                raise BackendError(f"check constraint {ex.expression(c.sqltext)!r} of table {table.name}: a ClickHouse "
                                   "constraint needs a name: sa.CheckConstraint(..., name='...')")
            checks.append(Check(c.name, ex.expression(c.sqltext)))
        return tuple(checks)

    def _model_column(self, ex: Any, table: Any, col: Any) -> Column:
        spelled = ex.type(col)
        if re.fullmatch(r"(VARCHAR|CHAR|NVARCHAR|NCHAR)\(\d+\)", spelled):
            raise BackendError(f"column {table.name}.{col.name}: {spelled} has no ClickHouse meaning (String has no "
                               "length); declare String() or FixedString(n) instead of dropping the width")
        type_, nullable = split_nullable(spelled)
        nullable = nullable or col._user_defined_nullable is True
        kw = col.dialect_options.get("clickhousedb", {})
        info = dict(col.info.get("dbwarden") or {})
        opts: dict[str, Any] = {}
        codec = kw.get("codec")
        if codec is not None:
            opts["codec"] = codec if isinstance(codec, str) else ", ".join(str(c) for c in codec)
        if kw.get("ttl") is not None:
            opts["ttl"] = kw["ttl"] if isinstance(kw["ttl"], str) else ex.expression(kw["ttl"])
        default, computed = None, None
        if col.server_default is not None and col.computed is None:
            raw = ex.ddl.get_column_default_string(col)
            default = self.canonical_expression(raw) if raw is not None else None
        if info.get("ephemeral"):
            opts["default_kind"] = "EPHEMERAL"
        if col.computed is not None:
            computed = Computed(ex.expression(col.computed.sqltext), col.computed.persisted is not False)
        for key, stored in (("materialized", True), ("alias", False)):
            if kw.get(key) is not None:
                value = kw[key]
                computed = Computed(value if isinstance(value, str) else ex.expression(value), stored)
        return Column(col.name, type_, nullable, default, computed=computed, comment=col.comment, options=opts)

    def normalize_models(self, raw: Snapshot, conn: Any) -> Snapshot:
        """The models as the server spells them: created in a scratch database, read back, dropped."""
        if conn is None or (not raw.tables and not raw.views):
            return raw
        from . import ClickHouseBackend

        scratch = f"dbwarden_scratch_{uuid.uuid4().hex[:12]}"
        conn.execute(f"CREATE DATABASE {self.quote(scratch)}")
        try:
            with conn.use(scratch):
                plain = ClickHouseBackend()
                for table in raw.tables.values():
                    sql = dictionary_sql(plain, table) if is_dictionary(table) else plain.render_create_table_sql(table)
                    self._scratch_run(conn, sql, table.key)
                for view in _views_in_order(raw):
                    self._scratch_run(conn, plain.render_create_view_sql(view), view.key)
                snap = self.introspect(conn)
        finally:
            conn.execute(f"DROP DATABASE IF EXISTS {self.quote(scratch)} SYNC")
        refused = [f"{kind} {name}" for kind, names in snap.unmanaged.items() if kind != "function" for name in names]
        if refused:  # the server would not show it as declared, so it could never be compared or written back
            raise BackendError(f"the models declare {refused[0]}, which dbwarden cannot manage: keep credentials in a "
                               "named collection (SOURCE(CLICKHOUSE(NAME …)), ENGINE = MySQL(collection, …)) and give "
                               "a materialized view a TO table")
        return snap.replace(server_version=None, unmanaged={})

    @staticmethod
    def _scratch_run(conn: Any, sql: str, what: str) -> None:
        try:
            conn.execute(sql)
        except Exception as exc:  # noqa: BLE001  the server's error, as one line
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(f"the server rejects the model of {what}: {reason[:300]}") from None
