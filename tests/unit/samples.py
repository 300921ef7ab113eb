"""Small snapshots for the unit tests, and what the package holds, enumerated from its modules (never listed by
hand, so that a new operation kind or a new backend enters the tests parametrized over them by itself)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from dbwarden_nb import operations
from dbwarden_nb.backends import BACKENDS
from dbwarden_nb.schema import (
    Column,
    ForeignKey,
    PrimaryKey,
    SchemaObject,
    Snapshot,
    Table,
    View,
)


def operation_classes() -> dict[str, type[operations.Operation]]:
    """Every concrete operation kind of ``dbwarden_nb.operations``: kind → class."""
    return {cls.kind: cls for cls in vars(operations).values()
            if inspect.isclass(cls) and issubclass(cls, operations.Operation) and "kind" in cls.__dict__
            and cls is not operations.Operation}


def registered() -> list[str]:
    """The registry's backend names."""
    return list(BACKENDS)


@dataclass(frozen=True)
class Spelling:
    """How one backend spells the few things the sample snapshots need."""

    integer: str = "INTEGER"
    text: str = "VARCHAR(50)"
    wider: str = "VARCHAR(100)"  # a type change of ``text`` that every engine can make in place
    table_options: tuple[tuple[str, str], ...] = ()


SPELLINGS = {"clickhouse": Spelling("Int32", "String", "Nullable(String)",
                                    (("engine", "MergeTree"), ("order_by", "id")))}


def spelling(backend: str) -> Spelling:
    return SPELLINGS.get(backend, Spelling())


def table(backend: str, name: str, *columns: Column, fks: tuple[ForeignKey, ...] = (), **kw: object) -> Table:
    """A table ``name`` with an ``id`` primary key and ``columns``, in ``backend``'s spelling."""
    s = spelling(backend)
    cols = (Column("id", s.integer, nullable=False), *columns)
    return Table(name, columns=cols, primary_key=PrimaryKey(f"pk_{name}", ("id",)), foreign_keys=fks,
                 options=dict(s.table_options), **kw)  # type: ignore[arg-type]


def shop(backend: str) -> Snapshot:
    """customers ← orders (a foreign key), as ``backend`` spells them."""
    s = spelling(backend)
    fk = ForeignKey("fk_orders_customer", ("customer_id",), "customers", ("id",))
    return Snapshot.of(backend, [
        table(backend, "customers", Column("name", s.text)),
        table(backend, "orders", Column("customer_id", s.integer), fks=(fk,) if backend != "clickhouse" else ()),
    ])


def fk(table_: str, column: str, ref: str) -> ForeignKey:
    return ForeignKey(f"fk_{table_}_{column}", (column,), ref, ("id",))


def linked(*edges: tuple[str, str], backend: str = "postgresql", views: tuple[View, ...] = (),
           objects: tuple[SchemaObject, ...] = ()) -> Snapshot:
    """Tables joined by foreign keys ``(from, to)``: each table gets a column ``<to>_id`` per edge."""
    names = sorted({n for edge in edges for n in edge})
    tables = []
    for name in names:
        refs = [to for src, to in edges if src == name]
        tables.append(table(backend, name, *(Column(f"{to}_id", "INTEGER") for to in refs),
                            fks=tuple(fk(name, f"{to}_id", to) for to in refs)))
    return Snapshot.of(backend, tables, views, objects)
