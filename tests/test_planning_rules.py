"""Rules every plan keeps, whatever the backend (no database: operations rendered to text).

A column dropped and added again under the same name loses its values: where a backend has no in-place form for a
change, the operation must say so (CRITICAL, which ``migrate`` refuses without ``--force``), never pass as INFO.
"""

from __future__ import annotations

import itertools
import re

import pytest

from dbwarden_nb.backends import BACKENDS, get_backend
from dbwarden_nb.errors import BackendError
from dbwarden_nb.operations import AlterColumn, Plan
from dbwarden_nb.schema import Column, Computed, Identity, PrimaryKey, Snapshot, Table

INTEGER = {"postgresql": "integer", "mysql": "int", "mariadb": "int(11)", "sqlite": "INTEGER", "clickhouse": "Int32"}
BIGINT = {"postgresql": "bigint", "mysql": "bigint", "mariadb": "bigint(20)", "sqlite": "BIGINT", "clickhouse": "Int64"}

# the shapes a column of a table with rows can take; every pair of them is a change a model edit can make
SHAPES = {
    "plain": {},
    "not null": {"nullable": False},
    "default": {"default": "7"},
    "generated": {"computed": Computed("a + 1")},
    "generated otherwise": {"computed": Computed("a + 2")},
    "identity": {"identity": Identity(always=False), "nullable": False},
    "identity always": {"identity": Identity(always=True, increment=5), "nullable": False},
    "serial": {"options": {"serial": True}, "nullable": False},
    "auto_increment": {"options": {"auto_increment": True}, "nullable": False},
    "wider": {"type": BIGINT},
}


def _column(backend: str, shape: str) -> Column:
    spec = dict(SHAPES[shape])
    type_ = spec.pop("type", INTEGER)[backend]
    return Column("c", type_, **spec)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_no_column_is_dropped_and_added_without_saying_so(backend):
    b = get_backend(backend)
    checked = 0
    for before, after in itertools.permutations(SHAPES, 2):
        old_col, new_col = _column(backend, before), _column(backend, after)
        key = Column("id", INTEGER[backend], nullable=False)

        def snapshot(col: Column) -> Snapshot:
            table = Table("t", columns=(key, Column("a", INTEGER[backend]), col), primary_key=PrimaryKey(None, ("id",)))  # noqa: B023  called at once
            return Snapshot.of(backend, [table])

        old, new = snapshot(old_col), snapshot(new_col)
        try:
            plan = b.adapt(Plan((AlterColumn(new.tables["t"], old_col, new_col),)), old, new)
            sql = " ".join(s.sql for s in b.render_plan(plan)).upper()
        except BackendError:
            continue  # refused at planning time, with its reason: not a silent loss
        checked += 1
        if re.search(rf"DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?{re.escape(b.quote('c').upper())}(?!\w)", sql):
            assert plan.severity == "CRITICAL", f"{backend}: {before} -> {after} drops the column at {plan.severity}: {sql}"
    assert checked, f"{backend}: no change could be planned at all"
