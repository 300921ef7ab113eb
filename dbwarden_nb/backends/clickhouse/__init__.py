"""ClickHouse through clickhouse-connect: a server over HTTP(S), or the embedded chDB engine (``chdb://``).

Canonical snapshot of a table (what introspection reports and model normalization produces):

- ``Column.type`` is the server's type without its outer ``Nullable(...)`` (kept inside ``LowCardinality``
  as ``LowCardinality(String)``); ``Column.nullable`` says whether it is wrapped. ``DEFAULT`` is
  ``Column.default``; ``MATERIALIZED`` / ``ALIAS`` are ``Computed(expr, stored=True / False)``;
  ``EPHEMERAL`` is ``default`` plus ``options["default_kind"] = "EPHEMERAL"``; ``options["codec"]`` is the
  codec list without ``CODEC(...)``, ``options["ttl"]`` the column TTL.
- ``Table.options``: ``engine`` (name and arguments, e.g. ``ReplacingMergeTree(ver)``), ``order_by``,
  ``primary_key`` (only when given apart from ORDER BY), ``partition_by``, ``sample_by``, ``ttl``,
  ``settings`` (explicit ones; the implicit ``index_granularity = 8192`` is left out) and ``projections``
  (name → query). Its one kind of constraint is a named ``CHECK`` (``Table.checks``, read from the CREATE statement
  the server prints): no primary key, foreign keys or uniques.
- Skip indexes are ``Index`` objects with one expression element and ``options`` ``type`` and ``granularity``; the
  ones the server makes itself (``add_minmax_index_for_*_columns`` settings) are implied by the setting, not listed.
- Dictionaries are tables with ``options["dictionary"]`` (see ``dictionary.py``).
- Not managed, and listed in ``Snapshot.unmanaged``: user-defined SQL functions (global to the server), table
  ``ASSUME`` constraints (optimizer hints), materialized views that keep their rows in an inner table, and whatever the server shows with a
  credential masked (``'[HIDDEN]'``), which could not be written back.

Models (documented in ``docs``/README): clickhouse-connect's SQLAlchemy types (``clickhouse_connect.
cc_sqlalchemy.datatypes.sqltypes``) and engines (``clickhouse_connect.cc_sqlalchemy.ddl.tableengine``,
given as a ``Table`` argument or ``clickhousedb_engine=``), column keyword arguments ``clickhousedb_codec``,
``clickhousedb_ttl``, ``clickhousedb_materialized``, ``clickhousedb_alias`` (or ``sa.Computed(expr,
persisted=False)`` for ALIAS), and ``info={"dbwarden": {...}}`` for the rest: on a column ``{"ephemeral":
True}`` (with ``server_default``); on a table ``{"projections": {name: query}}``; on an ``Index``
``{"type": "bloom_filter(0.01)", "granularity": 4}``; a dictionary is a ``Table`` with ``{"dictionary": {...}}``.
Nullability: ``Nullable(...)`` types or an explicit ``nullable=True`` give ``Nullable``; SQLAlchemy's implicit
default does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from ...errors import FailedAfterEffect, MigrationError
from ...operations import AddColumn, AlterColumn, AlterTable, DropColumn, Operation, Plan, RenameColumn
from ...schema import Snapshot
from ..base import Backend, TranslationRules
from ..base.render import DOMAIN_KINDS, ENUM_KINDS, NO_DOMAINS, OBJECT_KINDS, SEQUENCE_KINDS, Unsupported, refusing
from .catalog import ClickHouseCatalog
from .codegen import ClickHouseCodegen
from .connection import ClickHouseConnecting
from .dictionary import (
    ATTRIBUTE_OPTIONS,
    DICTIONARY,
    fold_dictionaries,
    is_dictionary,
)
from .engine import _keys
from .lock import ClickHouseLocking
from .model import ClickHouseModel
from .render import ClickHouseRendering
from .translation import ClickHouseTranslation

MUTATION_FAILED = "341"  # UNFINISHED: an ALTER's mutation failed after its definition change was made


class ClickHouseBackend(ClickHouseModel, ClickHouseCodegen, ClickHouseRendering, ClickHouseCatalog, ClickHouseConnecting, ClickHouseLocking, Backend):
    name: ClassVar[str] = "clickhouse"
    translation_rules: ClassVar[TranslationRules] = ClickHouseTranslation()
    dialect_name: ClassVar[str] = "clickhousedb"
    supports_comments: ClassVar[bool] = True
    new_not_null_fill: ClassVar[str | None] = "the default value of its type (0, an empty string, the epoch)"
    normalizes_on_server: ClassVar[bool] = True
    # what the engine has no statement for, refused when a plan is made (base/render.py); what ALTER TABLE cannot
    # change depends on the values (ORDER BY may grow by new columns) and is refused by render_alter_table
    unsupported: ClassVar[Unsupported] = {
        **refusing(ENUM_KINDS, "enums are column types here (Enum8('a' = 1)), not schema objects"),
        **refusing(SEQUENCE_KINDS, "ClickHouse has no sequences"),
        **refusing(DOMAIN_KINDS, NO_DOMAINS),
        **refusing(OBJECT_KINDS, "ClickHouse has no triggers or routines (SQL functions are global to the server, "
                                 "not managed)"),
    }
    option_keys: ClassVar[Sequence[str]] = ("ephemeral", "projections", "type", "granularity", DICTIONARY, *ATTRIBUTE_OPTIONS)

    def __init__(self, cluster: str | None = None):
        self.cluster = cluster

    def with_cluster(self, cluster: str | None) -> ClickHouseBackend:
        """This backend rendering ``ON CLUSTER <cluster>`` (``database_config(cluster=...)``)."""
        return ClickHouseBackend(cluster)

    def for_database(self, config: Any) -> ClickHouseBackend:
        return self.with_cluster(config.cluster) if config.cluster else self

    # -- connecting ---------------------------------------------------------------------------------

    def dialect(self) -> Any:
        import clickhouse_connect.cc_sqlalchemy  # noqa: F401  registers the dialect
        from clickhouse_connect.cc_sqlalchemy.dialect import ClickHouseDialect

        return ClickHouseDialect()

    def assessor(self, undoing: bool = False) -> Any:
        from .assess import ClickHouseAssessor

        return ClickHouseAssessor(self, undoing)

    # -- models -------------------------------------------------------------------------------------

    # -- rendering ----------------------------------------------------------------------------------

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """ClickHouse's ALTER rules: columns appended to (or removed from the end of) ORDER BY are added or
        dropped in the ORDER BY statement itself; projections that change are dropped before the column
        changes of their table (a projection blocks ALTERs of the columns it reads) and added after them."""
        ops = self._fold_rebuilds(fold_dictionaries(list(plan), old, new), old, new, plan.rebuild)
        folded: set[tuple[str, str]] = set()
        for op in ops:
            if isinstance(op, AlterTable) and op.old.options.get("order_by") != op.new.options.get("order_by"):
                keys = set(_keys(op.old.options.get("order_by") or "")) | set(_keys(op.new.options.get("order_by") or ""))
                folded |= {(op.table, k.strip("`")) for k in keys}
        out: list[Operation] = []
        for op in ops:
            if isinstance(op, (AddColumn, DropColumn)) and (op.table, op.column.name) in folded:
                continue
            if isinstance(op, AlterTable):
                pa, pb = op.old.options.get("projections") or {}, op.new.options.get("projections") or {}
                stale = {n for n in pa if pb.get(n) != pa[n]}
                if stale:
                    kept = {k: v for k, v in pa.items() if k not in stale}
                    mid_opts = {k: v for k, v in op.old.options.items() if k != "projections"}
                    if kept:
                        mid_opts["projections"] = kept
                    mid = op.old.replace(options=mid_opts)
                    at = next((i for i, o in enumerate(out) if o.table == op.table), len(out))
                    out.insert(at, AlterTable(op.old, mid))
                    op = AlterTable(mid, op.new)
            out.append(op)
        return Plan(tuple(self._rebuild_projections(out, old)), plan.suggestions)

    @staticmethod
    def _fold_rebuilds(ops: list[Operation], old: Snapshot, new: Snapshot, allowed: Sequence[str]) -> list[Operation]:
        """Every step on a table the user allowed to be rebuilt (``make-migrations --rebuild TABLE``) becomes
        one rebuild that copies the rows, in place of the first of those steps."""
        from ...operations import RebuildTable

        tables = {op.table for op in ops if op.table in allowed and op.table in old.tables and op.table in new.tables
                  and not is_dictionary(old.tables[op.table]) and not is_dictionary(new.tables[op.table])}
        out: list[Operation] = []
        for op in ops:
            if op.table not in tables or op.kind in ("create_table", "drop_table", "rename_table"):
                out.append(op)
            elif not any(isinstance(o, RebuildTable) and o.table == op.table for o in out):
                out.append(RebuildTable(old.tables[op.table], new.tables[op.table], reasons=("rebuild requested",)))
        return out

    @staticmethod
    def _rebuild_projections(ops: list[Operation], old: Snapshot) -> list[Operation]:
        """Unchanged projections that read an altered, renamed or dropped column are dropped before the
        change and added again after it (the server refuses to ALTER a column a projection reads)."""
        touched: dict[str, set[str]] = {}
        dropped: dict[str, set[str]] = {}
        for op in ops:
            if isinstance(op, (AlterColumn, RenameColumn)):
                touched.setdefault(op.table, set()).add(op.old.name)
            elif isinstance(op, DropColumn):
                touched.setdefault(op.table, set()).add(op.column.name)
            elif isinstance(op, AlterTable):
                pa, pb = op.old.options.get("projections") or {}, op.new.options.get("projections") or {}
                dropped.setdefault(op.table, set()).update(n for n in pa if pb.get(n) != pa[n])
        for key, columns in touched.items():
            table = old.tables.get(key)
            projections = dict((table.options.get("projections") or {}) if table is not None else {})
            stale = {n for n, q in projections.items() if n not in dropped.get(key, set())
                     and columns & set(re.findall(r"\w+", q))}
            if not stale:
                continue
            assert table is not None
            kept = {n: q for n, q in projections.items() if n not in stale}
            mid = table.replace(options={**{k: v for k, v in table.options.items() if k != "projections"},
                                         **({"projections": kept} if kept else {})})
            first = next(i for i, o in enumerate(ops) if o.table == key)
            last = max(i for i, o in enumerate(ops) if o.table == key)
            ops = ops[:first] + [AlterTable(table, mid)] + ops[first:last + 1] + [AlterTable(mid, table)] + ops[last + 1:]
        return ops

    # -- history and lock ---------------------------------------------------------------------------

    def history_ddl(self) -> list[str]:
        return [f"CREATE TABLE IF NOT EXISTS {self.quote(table)}{self._on_cluster()} (version Int32, "
                "description String, filename String, checksum String, status String, statements_completed Int32, "
                "applied_at String, duration_ms Int64, target Nullable(String)) ENGINE = MergeTree ORDER BY version"
                for table in (self.history_table, self.log_table)]

    transactional_history: ClassVar[bool] = False

    def failure(self, exc: BaseException, sql: str) -> MigrationError:
        text = str(exc).strip()
        m = re.search(r"Code: (\d+)\. DB::Exception: (.*?)(?: \(\w+\))?(?:\n|$)", text)
        reason = m.group(2) if m else (text.splitlines()[0] if text else type(exc).__name__)
        first = sql.strip().splitlines()[0] if sql.strip() else sql
        if m and m.group(1) == MUTATION_FAILED:  # the ALTER changed the table's definition, then its mutation failed
            return FailedAfterEffect(f"{reason[:300]} (in: {first[:120]}); the table's definition changed, but the "
                                     "mutation that rewrites its rows failed and is left pending (system.mutations)")
        return MigrationError(f"{reason[:300]} (in: {first[:120]})")

    # -- code generation ----------------------------------------------------------------------------

    nullable_from_annotation: ClassVar[bool] = False


