"""The differ's ordering, called directly: what is depended on is created first and dropped last, foreign-key
cycles are broken by keys added once every table exists, views follow the views they read, and programmable
objects sit where what they use exists (extensions → types → functions → tables → views → triggers)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dbwarden_nb.differ import (
    Differ,
    Renames,
    match,
    topological,
    view_dependency_order,
)
from dbwarden_nb.errors import UsageError
from dbwarden_nb.operations import AddConstraint, CreateTable, DropConstraint, DropTable
from dbwarden_nb.schema import Column, ForeignKey, SchemaObject, Snapshot, View
from unit.samples import linked, shop, table

EMPTY = Snapshot("postgresql")


def steps(plan) -> list[str]:
    """``kind key`` of each step, in plan order."""
    return [f"{op.kind} {op.table}" for op in plan]


def test_referenced_tables_are_created_first_and_dropped_last() -> None:
    chain = linked(("c", "b"), ("b", "a"))  # c → b → a
    assert steps(Differ(EMPTY, chain).plan()) == ["create_table a", "create_table b", "create_table c"]
    assert steps(Differ(chain, EMPTY).plan()) == ["drop_table c", "drop_table b", "drop_table a"]


def test_order_does_not_follow_the_names() -> None:
    chain = linked(("a", "z"))  # a → z: z first although "a" sorts first
    assert steps(Differ(EMPTY, chain).plan()) == ["create_table z", "create_table a"]


def test_self_reference_is_no_cycle() -> None:
    tree = linked(("node", "node"))
    plan = Differ(EMPTY, tree).plan()
    assert steps(plan) == ["create_table node"]
    assert plan.operations[0].new.foreign_keys  # kept inline


def test_a_cycle_is_broken_by_a_key_added_once_both_tables_exist() -> None:
    cycle = linked(("a", "b"), ("b", "a"))
    plan = Differ(EMPTY, cycle).plan()
    first, second, key = plan.operations
    assert isinstance(first, CreateTable) and isinstance(second, CreateTable) and isinstance(key, AddConstraint)
    assert not first.new.foreign_keys and second.new.foreign_keys  # the second's key names a table that exists
    assert key.table == first.table and key.constraint.ref_table == second.table


def test_a_cycle_is_dropped_key_first() -> None:
    cycle = linked(("a", "b"), ("b", "a"))
    plan = Differ(cycle, EMPTY).plan()
    assert [op.kind for op in plan] == ["drop_constraint", "drop_table", "drop_table"]
    # the rollback (the reversed plan) creates both tables and then adds the key back
    assert [op.kind for op in plan.reverse()] == ["create_table", "create_table", "add_constraint"]


def test_forward_references_create_tables_whole() -> None:
    cycle = linked(("a", "b"), ("b", "a"))
    plan = Differ(EMPTY, cycle, forward_references=True).plan()
    assert [op.kind for op in plan] == ["create_table", "create_table"]
    assert all(op.new.foreign_keys for op in plan)


def test_key_to_a_table_whose_columns_change_is_added_after_the_change() -> None:
    old = linked(("a", "a"))
    a = old.tables["a"]
    grown = replace(a, columns=(*a.columns, Column("code", "INTEGER")))
    ref = ForeignKey("fk_b_code", ("code",), "a", ("code",))
    new = Snapshot.of("postgresql", [grown, table("postgresql", "b", Column("code", "INTEGER"), fks=(ref,))])
    order = steps(Differ(old, new).plan())
    assert order.index("add_column a") < order.index("add_constraint b")
    assert order.index("create_table b") < order.index("add_constraint b")


def test_foreign_keys_drop_before_and_add_after_the_other_constraints() -> None:
    old = shop("postgresql")
    orders = old.tables["orders"]
    key = replace(orders.foreign_keys[0], on_delete="CASCADE")
    new = old.replace(tables={**old.tables, "orders": replace(orders, foreign_keys=(key,), primary_key=replace(
        orders.primary_key, name="pk_orders_2"))})
    plan = Differ(old, new).plan()
    kinds = [(op.kind, type(op.constraint).__name__) for op in plan]
    assert kinds == [("drop_constraint", "ForeignKey"), ("drop_constraint", "PrimaryKey"),
                     ("add_constraint", "PrimaryKey"), ("add_constraint", "ForeignKey")]
    assert isinstance(plan.operations[0], DropConstraint)


def test_views_follow_the_views_they_read() -> None:
    base = linked(("a", "a"))
    views = (View("v3", "SELECT * FROM v2"), View("v1", "SELECT * FROM a"), View("v2", "SELECT * FROM v1"))
    new = base.replace(views={v.key: v for v in views})
    assert steps(Differ(base, new).plan()) == ["create_view v1", "create_view v2", "create_view v3"]
    assert steps(Differ(new, base).plan()) == ["drop_view v3", "drop_view v2", "drop_view v1"]


def test_view_order_survives_a_cycle_of_names() -> None:
    views = [View("p", "SELECT * FROM q"), View("q", "SELECT * FROM p")]
    assert sorted(v.name for v in view_dependency_order(views)) == ["p", "q"]


def test_a_view_reading_a_changed_view_is_dropped_and_created_again() -> None:
    before = (View("v1", "SELECT 1 AS x"), View("v2", "SELECT x FROM v1"))
    after = (View("v1", "SELECT 2 AS x"), before[1])
    old, new = (linked(("a", "a")).replace(views={v.key: v for v in vs}) for vs in (before, after))
    assert steps(Differ(old, new).plan()) == ["drop_view v2", "drop_view v1", "create_view v1", "create_view v2"]


def _programmable() -> Snapshot:
    extension = SchemaObject("extension", "citext")
    function = SchemaObject("function", "touch", None, "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
    trigger = SchemaObject("trigger", "t_touch", None, "BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()",
                           {"table": "t"})
    return Snapshot.of("postgresql", [table("postgresql", "t", Column("m", "mood"))],
                       [View("tv", "SELECT m FROM t")], [extension, function, trigger], enums={"mood": ("a", "b")},
                       domains={"positive": {"type": "integer", "nullable": True}})


def test_programmable_objects_are_created_where_what_they_use_exists() -> None:
    kinds = [op.kind if op.kind not in ("create_object", "drop_object") else op.object.kind
             for op in Differ(EMPTY, _programmable()).plan()]
    assert kinds == ["extension", "create_enum", "create_domain", "function", "create_table", "create_view", "trigger"]


def test_programmable_objects_are_dropped_in_reverse() -> None:
    kinds = [op.kind if op.kind not in ("create_object", "drop_object") else op.object.kind
             for op in Differ(_programmable(), EMPTY).plan()]
    assert kinds == ["trigger", "drop_view", "drop_table", "function", "drop_enum", "drop_domain", "extension"]


def test_a_domain_calling_a_function_comes_after_it() -> None:
    check = SchemaObject("function", "is_even", None, "(integer) RETURNS boolean LANGUAGE sql AS $$ SELECT $1 % 2 = 0 $$")
    new = Snapshot.of("postgresql", objects=[check],
                      domains={"even": {"type": "integer", "checks": ["even_check CHECK (is_even(VALUE))"]}})
    assert [op.kind for op in Differ(EMPTY, new).plan()] == ["create_object", "create_domain"]
    assert [op.kind for op in Differ(new, EMPTY).plan()] == ["drop_domain", "drop_object"]


def test_topological_is_deterministic_and_complete() -> None:
    tables = list(linked(("d", "b"), ("c", "b"), ("b", "a"), ("e", "e")).tables.values())
    for order in (tables, tables[::-1]):
        assert [t.name for t in topological(order)] == ["a", "b", "c", "d", "e"]


def test_match_pairs_equal_then_same_name() -> None:
    a1, a2, b, c = (table("sqlite", "a"), table("sqlite", "a", Column("x", "TEXT")), table("sqlite", "b"),
                    table("sqlite", "c"))
    removed, added, changed = match([a1, b], [a2, b, c])
    assert (removed, added, changed) == ([], [c], [(a1, a2)])


def test_renames_are_only_the_ones_given() -> None:
    old = Snapshot.of("postgresql", [table("postgresql", "users", Column("name", "TEXT"))])
    new = Snapshot.of("postgresql", [table("postgresql", "people", Column("name", "TEXT"))])
    differ = Differ(old, new)
    assert steps(differ.plan()) == ["drop_table users", "create_table people"]
    assert differ.suggestions == [("table users is dropped and people created with the same columns: if it is a "
                                   "rename, pass --rename-table users:people")]
    renamed = steps(Differ(old, new, Renames({"users": "people"})).plan())
    assert renamed[0] == "rename_table people" and not {"drop_table users", "create_table people"} & set(renamed)


@pytest.mark.parametrize(("rename", "rename_table", "message"), [
    (["users.nme:full"], [], "--rename users.nme:full: no column 'nme' in table users of the current schema"),
    (["ghost.a:b"], [], "--rename ghost.a:b: no table 'ghost' in the models"),
    ([], ["ghost:users"], "--rename-table: no table 'ghost' in the current schema"),
    (["nodot:x"], [], "--rename expects TABLE.OLD:NEW, got 'nodot:x'"),
])
def test_a_mistyped_rename_is_one_clear_error(rename, rename_table, message) -> None:
    snap = Snapshot.of("postgresql", [table("postgresql", "users", Column("name", "TEXT"), Column("full", "TEXT"))])
    with pytest.raises(UsageError) as err:
        Differ(snap, snap, Renames.parse(rename, rename_table)).plan()
    assert str(err.value) == message


def test_renames_header_round_trip() -> None:
    renames = Renames.parse(["app.orders.total:amount"], ["app.old:app.orders"])
    assert Renames.from_header(renames.to_header()) == renames
    assert renames.columns == {("app.orders", "total"): "amount"}


def test_equal_snapshots_plan_nothing() -> None:
    snap = _programmable()
    assert Differ(snap, Snapshot.from_json(snap.to_json())).plan().is_empty


def test_drop_table_step_is_what_the_snapshot_held() -> None:
    old = linked(("a", "a"))
    (op,) = Differ(old, EMPTY).plan()
    assert isinstance(op, DropTable) and op.old == old.tables["a"]
