"""Changes of small snapshots, one for each operation kind: the representative operations that the unit tests
render, reverse and order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dbwarden_nb.differ import Differ, Renames
from dbwarden_nb.operations import Operation, RebuildTable
from dbwarden_nb.schema import (
    Check,
    Column,
    Index,
    IndexElement,
    SchemaObject,
    Snapshot,
    Unique,
    View,
)
from unit.samples import shop, spelling, table

# A change of two snapshots, as a backend spells them: (old, new, renames).
Change = tuple[Snapshot, Snapshot, Renames | None]


def _edit(backend: str, **tables: Callable[..., object]) -> Change:
    """``shop`` and a copy whose tables named in ``tables`` are rewritten by the functions given."""
    old = shop(backend)
    edited = {k: tables[t.name](t) if t.name in tables else t for k, t in old.tables.items()}
    return old, old.replace(tables=edited), None


def _with(backend: str, **fields: object) -> Change:
    """``shop`` before and after ``fields`` (views, enums, sequences, domains, objects) were added to it."""
    old = shop(backend)
    return old, old.replace(**fields), None


def _program(backend: str, body: str = "1") -> SchemaObject:
    """One programmable object the backend manages: a function on PostgreSQL, a trigger elsewhere."""
    if backend == "postgresql":
        return SchemaObject("function", "answer", None, f"() RETURNS integer LANGUAGE sql AS $$ SELECT {body} $$")
    return SchemaObject("trigger", "orders_touch", None,
                        f"AFTER INSERT ON orders FOR EACH ROW BEGIN SELECT {body}; END", {"table": "orders"})


def _index(backend: str) -> Index:
    if backend == "clickhouse":  # data-skipping indexes only
        return Index("ix_orders_customer", (IndexElement(expression="customer_id"),), options={"type": "minmax"})
    return Index("ix_orders_customer", (IndexElement("customer_id"),))


def _constraint(backend: str) -> object:
    return Check("ck_orders_customer", "customer_id > 0") if backend == "clickhouse" else Unique("uq_orders_customer", ("customer_id",))


ENUM = {"mood": ("happy", "sad")}
SEQUENCE = {"ticket_seq": {"start": 1, "increment": 1}}
DOMAIN = {"positive": {"type": "integer", "nullable": True, "checks": ["positive_check CHECK (VALUE > 0)"]}}

# Changes by name; each kind below is taken from one of them, in one direction.
CHANGES: dict[str, Callable[[str], Change]] = {
    "table": lambda b: (shop(b), shop(b).replace(tables={**shop(b).tables, "notes": table(b, "notes")}), None),
    "rename table": lambda b: (shop(b), Snapshot.of(b, [replace(t, name="clients") if t.name == "customers" else t
                                                        for t in shop(b).tables.values()]),
                               Renames({"customers": "clients"})),
    "comment": lambda b: _edit(b, customers=lambda t: replace(t, comment="who buys")),
    "column": lambda b: _edit(b, customers=lambda t: replace(t, columns=(*t.columns, Column("email", spelling(b).text)))),
    "column type": lambda b: _edit(b, customers=lambda t: replace(t, columns=tuple(
        replace(c, type=spelling(b).wider) if c.name == "name" else c for c in t.columns))),
    "rename column": lambda b: (*_edit(b, customers=lambda t: replace(t, columns=tuple(
        replace(c, name="full_name") if c.name == "name" else c for c in t.columns)))[:2],
        Renames(columns={("customers", "name"): "full_name"})),
    "index": lambda b: _edit(b, orders=lambda t: replace(t, indexes=(_index(b),))),
    "constraint": lambda b: _edit(b, orders=lambda t: replace(
        t, uniques=(*t.uniques, _constraint(b)) if isinstance(_constraint(b), Unique) else t.uniques,
        checks=(_constraint(b),) if isinstance(_constraint(b), Check) else t.checks)),
    "view": lambda b: _with(b, views={"named": View("named", "SELECT name FROM customers")}),
    "enum": lambda b: _with(b, enums=ENUM),
    "enum value": lambda b: (shop(b).replace(enums=ENUM), shop(b).replace(enums={"mood": ("happy", "sad", "meh")}), None),
    "enum reorder": lambda b: (shop(b).replace(enums=ENUM), shop(b).replace(enums={"mood": ("sad", "happy")}), None),
    "sequence": lambda b: _with(b, sequences=SEQUENCE),
    "sequence increment": lambda b: (shop(b).replace(sequences=SEQUENCE),
                                     shop(b).replace(sequences={"ticket_seq": {"start": 1, "increment": 5}}), None),
    "domain": lambda b: _with(b, domains=DOMAIN),
    "domain check": lambda b: (shop(b).replace(domains=DOMAIN), shop(b).replace(
        domains={"positive": {**DOMAIN["positive"], "checks": ["positive_check CHECK (VALUE >= 1)"]}}), None),
    "object": lambda b: _with(b, objects={_program(b).key: _program(b)}),
    "object body": lambda b: (shop(b).replace(objects={_program(b).key: _program(b)}),
                              shop(b).replace(objects={_program(b).key: _program(b, "2")}), None),
}

# kind → (change, direction): "up" plans old → new, "down" new → old, "rollback" is the reverse of "up"'s plan
# (what a migration's rollback section holds).
KINDS: dict[str, tuple[str, str]] = {
    "create_table": ("table", "up"), "drop_table": ("table", "down"), "rename_table": ("rename table", "up"),
    "alter_table": ("comment", "up"), "rebuild_table": ("column type", "up"),
    "add_column": ("column", "up"), "drop_column": ("column", "down"), "alter_column": ("column type", "up"),
    "rename_column": ("rename column", "up"),
    "create_index": ("index", "up"), "drop_index": ("index", "down"),
    "add_constraint": ("constraint", "up"), "drop_constraint": ("constraint", "down"),
    "create_view": ("view", "up"), "drop_view": ("view", "down"),
    "create_enum": ("enum", "up"), "drop_enum": ("enum", "down"), "add_enum_value": ("enum value", "up"),
    "remove_enum_value": ("enum value", "rollback"), "recreate_enum": ("enum reorder", "up"),
    "create_sequence": ("sequence", "up"), "drop_sequence": ("sequence", "down"),
    "alter_sequence": ("sequence increment", "up"),
    "create_domain": ("domain", "up"), "drop_domain": ("domain", "down"), "alter_domain": ("domain check", "up"),
    "create_object": ("object", "up"), "drop_object": ("object", "down"), "replace_object": ("object body", "up"),
}

def representative(backend: str, kind: str) -> tuple[Operation, Snapshot, Snapshot]:
    """An operation of ``kind`` from its change, as the neutral differ plans it, with the snapshots around it."""
    old, new, renames = CHANGES[KINDS[kind][0]](backend)
    direction = KINDS[kind][1]
    if direction == "down":
        old, new, renames = new, old, None
    plan = Differ(old, new, renames).plan()
    if direction == "rollback":
        plan, old, new = plan.reverse(), new, old
    if kind == "rebuild_table":  # made by adapt() alone: the rebuild of the table whose column changes type
        change = next(op for op in plan if op.kind == "alter_column")
        return RebuildTable(change.parent, change.parent, reasons=(change.describe(),)), old, new
    found = [op for op in plan if op.kind == kind]
    assert found, f"change {KINDS[kind][0]!r} ({direction}) plans no {kind}: {[op.kind for op in plan]}"
    return found[0], old, new
