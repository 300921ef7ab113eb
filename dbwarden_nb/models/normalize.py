"""Server normalization of model snapshots, one table at a time.

Normalizing through the server costs a CREATE per object, so a model set of hundreds of tables costs
seconds. Most runs change a table or two: each normalized table is cached under the hash of everything
its server spelling can depend on (its own model-side definition, the tables it inherits from or is a
partition of, and the enums, domains and sequences), so only changed tables go back to the server,
together with stand-ins of the tables they reference or inherit from, in chunks of at most ``CHUNK``
tables (stand-ins included) so that a large model set fits a default server's lock table. A stand-in has
no foreign keys, so it needs only its own parents, never what it references: a chunk's size does not grow
with the length of a chain of references. Views, functions and triggers read whole tables: a model set with
any of them is normalized whole.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..schema import Snapshot, Table, _table_from_json

if TYPE_CHECKING:
    from ..backends.base import Backend, Connection


CHUNK = 250  # tables normalized in one rolled-back transaction
READ_TABLES = ("function", "procedure", "aggregate", "trigger", "rule", "policy", "row security", "grant")


class TableCache:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.known: dict[str, dict] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}

    def normalize(self, backend: Backend, raw: Snapshot, conn: Connection) -> Snapshot:
        body = raw._body(with_tables=False)  # not to_dict(): that builds every table's JSON, for three keys
        types = json.dumps([body[k] for k in ("enums", "domains", "sequences")], sort_keys=True)

        def key(table: Table, seen: frozenset[str] = frozenset()) -> str:
            # a referenced table does not change how the server spells this one; a parent (inherited,
            # partitioned) gives it its columns, so it is part of the key
            parts = [types, json.dumps(table.to_json(), sort_keys=True)]
            parts += [key(raw.tables[ref], seen | {table.key}) for ref in sorted(set(_parents(table)))
                      if ref in raw.tables and ref not in seen and ref != table.key]
            return hashlib.sha256("\n".join(parts).encode()).hexdigest()

        keys = {k: key(t) for k, t in raw.tables.items()}
        missing = [k for k in raw.tables if keys[k] not in self.known]
        if raw.views or not raw.tables or any(o.kind in READ_TABLES for o in raw.objects.values()):
            result = backend.normalize_models(raw, conn)
            self.store({keys[k]: t.to_json() for k, t in result.tables.items()})
            return result
        done: dict[str, Table] = {}
        for chunk, stand_ins in _chunks(raw, missing) or [([], set())]:
            created = {**{k: raw.tables[k] for k in chunk}, **{k: _stand_in(raw.tables[k]) for k in stand_ins}}
            partial = backend.normalize_models(raw.replace(tables=created), conn)
            done.update((k, partial.tables[k]) for k in chunk)
        tables = {k: done[k] if k in done else _table_from_json(k, self.known[keys[k]]) for k in raw.tables}
        self.store({keys[k]: done[k].to_json() for k in missing})
        return partial.replace(tables=tables)

    def store(self, entries: dict[str, dict]) -> None:
        self.known.update(entries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.known, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


def _parents(table: Table) -> list[str]:
    """The tables ``table`` inherits from or is a partition of: they give it columns and must exist first."""
    parent = table.options.get("partition_of")
    return [*(table.options.get("inherits") or ()), *([parent] if parent else [])]


def _stand_in(table: Table) -> Table:
    """What a referenced table must be for its referrers to be created: its columns and keys (the targets of
    their foreign keys), without foreign keys, indexes or checks of its own."""
    return table.replace(foreign_keys=(), indexes=(), checks=())


def _chunks(raw: Snapshot, missing: list[str]) -> list[tuple[list[str], set[str]]]:
    """``missing`` cut into chunks of at most ``CHUNK`` tables to create each (a table that needs more gets a
    chunk of its own), each with the stand-ins it needs: the tables its members reference or inherit from
    that are not members, and the parents of those. Tables keep their order (by name), so neighbours that
    reference each other share a chunk."""
    from ..differ import depends_on

    def needs(key: str) -> set[str]:
        out: set[str] = set()
        pending = [ref for ref in depends_on(raw.tables[key]) if ref in raw.tables and ref != key]
        while pending:  # a stand-in has no foreign keys: only its parents are followed
            ref = pending.pop()
            if ref not in out:
                out.add(ref)
                pending += [p for p in _parents(raw.tables[ref]) if p in raw.tables]
        return out

    chunks: list[tuple[list[str], set[str]]] = []
    members: dict[str, None] = {}  # ordered
    stand_ins: set[str] = set()
    for key in missing:
        wanted = needs(key) - {key}
        grown = (stand_ins - {key}) | (wanted - members.keys())
        if members and len(members) + 1 + len(grown) > CHUNK:
            chunks.append((list(members), stand_ins))
            members, grown = {}, wanted
        members[key] = None
        stand_ins = grown
    if members:
        chunks.append((list(members), stand_ins))
    return chunks
