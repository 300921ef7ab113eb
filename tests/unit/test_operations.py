"""Every operation kind of ``dbwarden_nb.operations`` knows its inverse: ``op.reverse().reverse() == op``. The kinds
are enumerated from the module, so a new kind without a representative or without a reverse fails here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dbwarden_nb.operations import Plan, RebuildTable, RecreateEnum
from dbwarden_nb.schema import Column
from unit.changes import representative
from unit.samples import operation_classes, table


def _sample(kind: str):
    # PostgreSQL's spelling: the one backend whose snapshots hold every kind but the adapted rebuild
    return representative("postgresql", kind)[0]


def _rich() -> list[object]:
    """Operations whose inverse has more to carry than old ↔ new: renames, what is lost, enum usages."""
    before = table("sqlite", "t", Column("a", "INTEGER"), Column("b", "TEXT"))
    after = table("sqlite", "t", Column("aa", "INTEGER"), Column("c", "TEXT", nullable=False))
    return [
        RebuildTable(before, after, (("a", "aa"),), ("rename a", "drop b"), ("values of b",), ("values of c",)),
        RecreateEnum("mood", ("a", "b"), ("b", "a"), (("t", "m", "'a'", "'b'", False), ("u", "ms", None, None, True))),
    ]


@pytest.mark.parametrize("kind", sorted(operation_classes()))
def test_reverse_of_reverse_is_the_operation(kind: str) -> None:
    op = _sample(kind)
    back = op.reverse()
    assert back.kind in operation_classes()
    assert back.reverse() == op
    if kind != "rename_table":  # a rename's key is the name it gives
        assert back.table == op.table  # a rollback step touches what its upgrade touched
    assert op.describe() and back.describe()


@pytest.mark.parametrize("op", _rich(), ids=lambda op: op.kind)
def test_reverse_keeps_what_the_inverse_carries(op) -> None:
    assert op.reverse().reverse() == op
    assert op.reverse() != op


def test_fills_belong_to_one_direction_of_a_rebuild() -> None:
    """By design, ``reverse()`` drops a rebuild's ``fills`` (literals for a NOT NULL column the copy has no value
    for): they are computed for one direction only, by the rollback (``api.rollback_plan``) from the table the copy
    goes into, so the inverse of a filled rebuild is the plain rebuild, and reversing it again gives no fills."""
    plain = _rich()[0]
    filled = replace(plain, fills=(("c", "''"),))
    assert filled.reverse() == plain.reverse() and filled.reverse().fills == ()
    assert filled.reverse().reverse() == plain


def test_plan_reverse_reverses_order_and_steps() -> None:
    ops = tuple(_sample(k) for k in ("create_table", "add_column", "create_index"))
    plan = Plan(ops)
    assert plan.reverse().reverse() == plan
    assert [op.kind for op in plan.reverse()] == ["drop_index", "drop_column", "drop_table"]


@pytest.mark.parametrize("kind", sorted(operation_classes()))
def test_to_json_names_the_kind_and_its_severity(kind: str) -> None:
    doc = _sample(kind).to_json()
    assert doc["kind"] == kind and doc["severity"] in ("INFO", "WARN", "CRITICAL")
