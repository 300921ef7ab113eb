"""Introspection: system tables and the CREATE statements the server prints, read into a snapshot."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ...schema import Check, Column, Computed, Index, IndexElement, Snapshot, Table, View
from ..base import Mixin
from ..base.sqltext import doubled_quotes
from .dictionary import (
    hides_a_credential,
    parse_dictionary,
)
from .engine import (
    _materialized_target,
    _unwrap,
    parse_column_ttls,
    parse_engine_full,
    split_nullable,
    table_constraints,
    unquote_name,
)

# user-defined SQL functions: global to the server, listed as not managed in every database's snapshot
UDF_QUERY = "SELECT name FROM system.functions WHERE origin = 'SQLUserDefined' ORDER BY name"


class ClickHouseCatalog(Mixin):
    """Introspection: system tables and the CREATE statements the server prints, read into a snapshot."""

    def introspect(self, conn: Any, schemas: Sequence[str] | None = None) -> Snapshot:
        db = conn.database
        p = {"d": db}
        tables = conn.query("SELECT name, engine, engine_full, comment, as_select, create_table_query "
                            "FROM system.tables WHERE database = :d AND NOT is_temporary ORDER BY name", p)
        columns: dict[str, list[tuple[Any, ...]]] = {}
        for row in conn.query("SELECT table, name, type, default_kind, default_expression, comment, compression_codec "
                              "FROM system.columns WHERE database = :d ORDER BY table, position", p):
            columns.setdefault(row[0], []).append(row[1:])
        indexes: dict[str, list[Index]] = {}
        for table, name, type_full, expr, granularity in conn.query(
                "SELECT table, name, type_full, expr, granularity FROM system.data_skipping_indices "
                f"WHERE database = :d AND NOT ({self._implicit_index(conn)}) ORDER BY table, name", p):
            indexes.setdefault(table, []).append(Index(name, (IndexElement(expression=doubled_quotes(expr)),),
                                                       options={"type": type_full, "granularity": int(granularity)}))
        projections: dict[str, dict[str, str]] = {}
        for table, name, query in conn.query("SELECT table, name, query FROM system.projections WHERE database = :d "
                                             "ORDER BY table, name", p):
            projections.setdefault(table, {})[name] = doubled_quotes(query)
        unmanaged: dict[str, list[str]] = {"function": [name for (name,) in conn.query(UDF_QUERY)]}
        out_tables, views = [], []
        for name, engine, engine_full, comment, as_select, create in tables:
            # the server prints 'it\'s': written 'it''s' (one spelling, and migration files split right)
            engine_full, as_select, create = doubled_quotes(engine_full), doubled_quotes(as_select), doubled_quotes(create)
            if name in self.internal_tables or name.startswith(".inner"):  # an inner table belongs to its view
                continue
            kind = "dictionary" if create.startswith("CREATE DICTIONARY ") else (
                "view" if engine in ("View", "MaterializedView") else "table")
            reason = self._not_managed(kind, engine, create)
            if reason is None and kind == "dictionary":
                try:
                    out_tables.append(parse_dictionary(create, name, comment))
                except ValueError:  # printed otherwise than this server version does: listed, never a failure
                    reason = kind, "dbwarden cannot read its definition"
            elif reason is None and kind == "view":
                views.append(self._view(db, name, engine, as_select, create, comment))
            elif reason is None:
                ttls = parse_column_ttls(create)
                opts = parse_engine_full(engine_full) if engine_full else {"engine": engine}
                if name in projections:
                    opts["projections"] = projections[name]
                constraints = table_constraints(create)
                checks = tuple(Check(c, expr) for c, kind, expr in constraints if kind == "CHECK")
                out_tables.append(Table(name, None, tuple(self._column(r, ttls.get(r[0])) for r in columns.get(name, [])),
                                        indexes=tuple(indexes.get(name, ())), checks=checks, comment=comment or None,
                                        options=opts))
                # an ASSUME is a hint to the optimizer, which no model can declare: listed, never dropped
                unmanaged.setdefault("constraint", []).extend(f"{c} on {name}" for c, kind, _ in constraints
                                                               if kind != "CHECK")
            if reason is not None:
                unmanaged.setdefault(reason[0], []).append(f"{name} ({reason[1]})")
        return Snapshot.of(self.name, out_tables, views, server_version=self.server_version(conn),
                           unmanaged={k: tuple(v) for k, v in unmanaged.items()})

    @staticmethod
    def _not_managed(kind: str, engine: str, create: str) -> tuple[str, str] | None:
        """(kind, why) for an object the snapshot cannot carry faithfully, else None."""
        if hides_a_credential(create):
            return kind, "the server hides a credential of its definition"
        if engine == "MaterializedView" and not _materialized_target(create):
            return "materialized view", "its rows are kept in an inner table"
        return None

    def _implicit_index(self, conn: Any) -> str:
        """The condition that tells the skip indexes ClickHouse made itself (``add_minmax_index_for_*_columns``)
        from declared ones: the ``creation`` column where the server has it, else the names it reserves for them."""
        version = tuple(int(p) for p in re.findall(r"\d+", self.server_version(conn))[:2])
        return "creation = 'Implicit'" if version >= (26, 1) else "startsWith(name, 'auto_minmax_index_')"

    def _column(self, row: tuple[Any, ...], ttl: str | None) -> Column:
        name, spelled, kind, expr, comment, codec = row
        spelled, expr, codec = doubled_quotes(spelled), doubled_quotes(expr), doubled_quotes(codec)
        type_, nullable = split_nullable(spelled)
        opts: dict[str, Any] = {}
        if codec:
            opts["codec"] = _unwrap(codec, "CODEC") or codec
        if ttl:
            opts["ttl"] = ttl
        default, computed = None, None
        if kind == "DEFAULT":
            default = expr
        elif kind == "MATERIALIZED":
            computed = Computed(expr, True)
        elif kind == "ALIAS":
            computed = Computed(expr, False)
        elif kind == "EPHEMERAL":
            default = expr or None
            opts["default_kind"] = "EPHEMERAL"
        return Column(name, type_, nullable, default, computed=computed, comment=comment or None, options=opts)

    def _view(self, db: str, name: str, engine: str, as_select: str, create: str, comment: str) -> View:
        opts: dict[str, Any] = {}
        definition = self._unqualify(db, as_select)
        target = _materialized_target(create) if engine == "MaterializedView" else None
        if target:
            opts["to"] = unquote_name(self._unqualify(db, target))
        return View(name, definition, None, engine == "MaterializedView", comment or None, opts)

    @staticmethod
    def _unqualify(db: str, text: str) -> str:
        return re.sub(rf"(?<![\w.`])`?{re.escape(db)}`?\.", "", text)
