"""Every registered backend × every operation kind: the backend renders it (offline, through its own ``adapt``),
or the pair is in GAPS with the reason. A new kind, or a new backend, enters this table by itself: a pair it
cannot render is a failure here, never a user's ``<backend> cannot …`` at make-migrations time."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from dbwarden_nb.backends import get_backend
from dbwarden_nb.differ import Differ, Renames
from dbwarden_nb.errors import BackendError
from dbwarden_nb.operations import Operation, Plan, RebuildTable
from dbwarden_nb.schema import Check, Column, Index, IndexElement, SchemaObject, Snapshot, Unique, View
from unit.samples import operation_classes, registered, shop, spelling, table

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
    "rename column": lambda b: (lambda old, new: (old, new, Renames(columns={("customers", "name"): "full_name"})))(
        *_edit(b, customers=lambda t: replace(t, columns=tuple(
            replace(c, name="full_name") if c.name == "name" else c for c in t.columns)))[:2]),
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

NO_ENUM_TYPES = "enums are column types here (MySQL, MariaDB: ENUM(...)) or absent: no schema-level enum"
NO_SEQUENCES = "no CREATE SEQUENCE on this engine"
NO_DOMAINS = "domains are PostgreSQL's"
NO_REBUILDS = "tables are altered in place: only SQLite's and ClickHouse's adapt() plans rebuilds"
# What a backend cannot render today, with why. "unsupported": the engine has no such thing, and the backend
# should say so at planning time in its own table (issue 16: a backend ``unsupported`` table the differ consults),
# then these entries move there. "bug": the engine can do it and the backend should render it. A pair listed
# here that starts to render fails (strict), so the table never holds a stale entry.
GAPS: dict[tuple[str, str], tuple[str, str]] = {
    **{(b, k): ("unsupported", NO_ENUM_TYPES) for b in ("sqlite", "mysql", "mariadb", "clickhouse")
       for k in ("create_enum", "drop_enum", "add_enum_value", "remove_enum_value", "recreate_enum")},
    **{(b, k): ("unsupported", NO_SEQUENCES) for b in ("sqlite", "mysql", "clickhouse")
       for k in ("create_sequence", "drop_sequence", "alter_sequence")},
    **{(b, k): ("unsupported", NO_DOMAINS) for b in ("sqlite", "mysql", "mariadb", "clickhouse")
       for k in ("create_domain", "drop_domain", "alter_domain")},
    **{(b, "rebuild_table"): ("unsupported", NO_REBUILDS) for b in ("postgresql", "mysql", "mariadb")},
    ("mariadb", "alter_sequence"): ("bug", "MariaDB has ALTER SEQUENCE, but the backend has no render_alter_sequence: "
                                           "'mariadb cannot alter sequence ticket_seq: increment' (issue 16)"),
    **{("clickhouse", k): ("unsupported", "ClickHouse has no triggers or routines dbwarden manages")
       for k in ("create_object", "drop_object", "replace_object")},
    **{("clickhouse", k): ("unsupported", "ClickHouse snapshots hold no constraints (its CHECK and ASSUME are not "
                                          "introspected): a model's CheckConstraint has nowhere to go")
       for k in ("add_constraint", "drop_constraint")},
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


def _cases() -> list[object]:
    cases = []
    for backend in registered():
        for kind in operation_classes():
            gap = GAPS.get((backend, kind))
            marks = [pytest.mark.xfail(strict=True, raises=BackendError, reason=f"{gap[0]}: {gap[1]}")] if gap else []
            cases.append(pytest.param(backend, kind, marks=marks, id=f"{backend}-{kind}"))
    return cases


@pytest.mark.parametrize(("backend", "kind"), _cases())
def test_backend_renders_operation(backend: str, kind: str) -> None:
    op, old, new = representative(backend, kind)
    engine = get_backend(backend)
    adapted = engine.adapt(Plan((op,)), old, new)  # SQLite turns an added constraint into a rebuild, …
    statements = [s for step in adapted for s in engine.render(step)]
    if kind != "remove_enum_value":  # the one step that renders nothing: a value cannot be removed
        assert statements, f"{backend} renders {op.describe()} as nothing"
    assert all(s.sql.strip() for s in statements)


def test_every_kind_has_a_representative() -> None:
    assert set(KINDS) == set(operation_classes()), "a new operation kind needs a change in KINDS (and its renderers)"


def test_gaps_name_registered_backends_and_real_kinds() -> None:
    stale = {pair for pair in GAPS if pair[0] not in registered() or pair[1] not in operation_classes()}
    assert not stale


@pytest.mark.parametrize("backend", registered())
def test_whole_plans_render_both_ways(backend: str) -> None:
    """Each change as make-migrations plans it on the backend (``plan``: diff, adapt, assess), upgrade and
    rollback: beyond single steps, what ordering and adaptation put together renders too."""
    engine = get_backend(backend)
    unrenderable = {KINDS[k][0] for (b, k) in GAPS if b == backend}
    for name, change in CHANGES.items():
        if name in unrenderable:
            continue
        old, new, renames = change(backend)
        plan = engine.plan(old, new, renames)
        assert plan, name
        back = engine.adapt(plan.reverse(), new, old)
        for step in (*plan, *back):
            engine.render(step)
