"""The ``relationship()`` attributes generate-models writes, inferred from a snapshot's foreign keys.

Plain data, no code text: :func:`infer` reads the foreign keys between the tables that become classes and returns,
per table key, the relationships of its class, with collision-free attribute names. Relationships are ORM-only, so
they never change the snapshot the models extract to.

The rules (our own; sqlacodegen's were read for the shapes, not copied):

- **many-to-one** on the class holding the foreign key, named after its column without ``_id`` (``customer_id`` →
  ``customer``); where the column has no such suffix, after the referenced table (``shipments``), or, when several
  foreign keys join the same two tables, after the columns and the table (``sold_by_employees``).
- **one-to-many** on the referenced class, named after the referencing table (``orders``), or ``<table>_<many-to-one>``
  when several foreign keys join the two tables or the key references its own table (``employees_manager``).
- **one-to-one** where the referencing columns are unique (a unique constraint or index, or the primary key): the
  referenced side is ``Mapped[Child | None]``.
- **self-referential**: the many-to-one side gets ``remote_side`` (the referenced columns).
- **many-to-many** through a *pure association table*: exactly two foreign keys, to two other classes, whose columns
  are all of the table's columns; both ends get ``secondary=``, and the association class gets no relationship of
  its own (two writers of the same columns would conflict).
- Where several foreign keys join two tables, both sides name theirs with ``foreign_keys``.
- A foreign key SQLAlchemy could not read unaided (:func:`usable`) gets no relationship: the code must always map.

Names are snake case, unique in their class (beside the column attributes), and never a class name of the module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..schema import ForeignKey, Snapshot, Table


@dataclass(frozen=True)
class Relationship:
    owner: str  # the key of the table whose class holds the attribute
    name: str
    target: str  # the key of the related class's table
    kind: str  # many_to_one | one_to_many | one_to_one | many_to_many
    back_populates: str
    optional: bool = False  # a many-to-one whose columns may be NULL: ``Mapped[Parent | None]``
    foreign_keys: tuple[str, ...] = ()  # (table key, column) pairs flattened as "key\0column", when needed
    remote_side: tuple[str, ...] = ()  # self-referential many-to-one: the referenced columns
    secondary: str | None = None  # many-to-many: the association table's key
    columns: tuple[str, ...] = ()  # many-to-one: the owner's foreign key columns (the relationship sets them)

    @property
    def collection(self) -> bool:
        return self.kind in ("one_to_many", "many_to_many")


_ID_SUFFIX = re.compile(r"(?:_[iI][dD]|(?<=[a-z0-9])I[dD])$")  # customer_id, customerId, CustomerID; not "paid"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def is_association(table: Table, classes: set[str], key: str) -> bool:
    """Two foreign keys to two other classes, covering every column of the table, and nothing else."""
    fks = table.foreign_keys
    if len(fks) != 2 or any(fk.ref_table not in classes or fk.ref_table == key for fk in fks):
        return False
    a, b = (set(fk.columns) for fk in fks)
    return not a & b and a | b == {c.name for c in table.columns} and fks[0].ref_table != fks[1].ref_table


def unique_columns(table: Table, columns: tuple[str, ...]) -> bool:
    wanted = set(columns)
    # a unique index makes the columns unique only on every row (no WHERE) and on the columns themselves (an
    # expression element, lower(t), makes (a_id, t) unique, never a_id)
    keys = [set(u.columns) for u in table.uniques] + [
        {e.column for e in ix.elements} for ix in table.indexes
        if ix.unique and not ix.options and not ix.where and all(e.expression is None for e in ix.elements)]
    if table.primary_key is not None:
        keys.append(set(table.primary_key.columns))
    return any(k and k == wanted for k in keys)


def usable(key: str, table: Table, fk: ForeignKey, parent: Table) -> bool:
    """Whether SQLAlchemy can tell the direction and the writer of the foreign key's columns unaided: left out are a
    key sharing columns with another key of the table (two writers of one column), a self-reference whose columns are
    among those it references, and a column that references the other table and is referenced back by it."""
    mine = set(fk.columns)
    if any("." in c for c in fk.ref_columns):  # "table.column" misreads it (a known bug): no join to derive
        return False
    if any(other is not fk and mine & set(other.columns) for other in table.foreign_keys):
        return False
    if fk.ref_table == key and mine & set(fk.ref_columns):
        return False
    return not any(back.ref_table == key and mine & set(back.ref_columns) for back in parent.foreign_keys)


def infer(snapshot: Snapshot, classes: Iterable[str], taken: dict[str, set[str]],
          name_for: Callable[[str, set[str]], str]) -> dict[str, list[Relationship]]:
    """The relationships of each class (by table key). ``taken``: the attribute names each class uses already (it
    grows); ``name_for(base, taken)``: the module's helper that makes a name valid and unused."""
    classes = set(classes)
    tables = {k: snapshot.tables[k] for k in sorted(classes)}
    associations = {k for k, t in tables.items() if is_association(t, classes, k)}
    paths = Counter(frozenset((k, fk.ref_table)) for k, t in tables.items() if k not in associations
                    for fk in t.foreign_keys if fk.ref_table in classes)
    out: dict[str, list[Relationship]] = {k: [] for k in tables}

    def pair(a: Relationship, b: Relationship) -> None:
        out[a.owner].append(a)
        out[b.owner].append(b)

    for key, table in tables.items():
        if key in associations:
            left, right = (fk.ref_table for fk in table.foreign_keys)
            n_left = name_for(snake(tables[right].name), taken[left])
            n_right = name_for(snake(tables[left].name), taken[right])
            pair(Relationship(left, n_left, right, "many_to_many", n_right, secondary=key),
                 Relationship(right, n_right, left, "many_to_many", n_left, secondary=key))
            continue
        for fk in table.foreign_keys:
            if fk.ref_table in classes and usable(key, table, fk, tables[fk.ref_table]):
                pair(*_foreign_key_pair(key, table, fk, tables[fk.ref_table], paths, taken, name_for))
    return {k: sorted(v, key=lambda r: r.name) for k, v in out.items()}


def _foreign_key_pair(key: str, table: Table, fk: ForeignKey, parent: Table, paths: Counter[frozenset[str]],
                      taken: dict[str, set[str]],
                      name_for: Callable[[str, set[str]], str]) -> tuple[Relationship, Relationship]:
    self_ref = fk.ref_table == key
    several = paths[frozenset((key, fk.ref_table))] > 1
    stripped = _ID_SUFFIX.sub("", fk.columns[0]) if len(fk.columns) == 1 and _ID_SUFFIX.search(fk.columns[0]) else ""
    if stripped:
        base = stripped
    elif not several and not self_ref:
        base = parent.name
    else:
        base = "_".join(fk.columns + (parent.name,))
    one = name_for(snake(base), taken[key])
    many_base = table.name if not several and not self_ref else f"{table.name}_{one}"
    many = name_for(snake(many_base), taken[fk.ref_table])
    columns = {c.name: c for c in table.columns}
    optional = any(columns[c].nullable for c in fk.columns if c in columns)
    foreign = tuple(f"{key}\0{c}" for c in fk.columns) if several else ()
    remote = fk.ref_columns if self_ref else ()
    kind = "one_to_one" if unique_columns(table, fk.columns) and not self_ref else "one_to_many"
    return (Relationship(key, one, fk.ref_table, "many_to_one", many, optional, foreign, remote, columns=fk.columns),
            Relationship(fk.ref_table, many, key, kind, one, foreign_keys=foreign))
