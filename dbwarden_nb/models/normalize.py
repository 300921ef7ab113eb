"""Server normalization of model snapshots, one table at a time.

Normalizing through the server costs a CREATE per object, so a model set of hundreds of tables costs
seconds. Most runs change a table or two: each normalized table is cached under the hash of everything
its server spelling can depend on (its own model-side definition, the tables it inherits from or is a
partition of, and the enums, domains and sequences), so only changed tables go back to the server,
together with stand-ins of the tables they reference or inherit from, in chunks of ``CHUNK`` tables so
that a large model set fits a default server's lock table. Views, functions and triggers read whole
tables: a model set with any of them is normalized whole.
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
READ_TABLES = ("function", "procedure", "aggregate", "trigger")  # kinds whose server spelling reads the tables


class TableCache:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.known: dict[str, dict] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}

    def normalize(self, backend: Backend, raw: Snapshot, conn: Connection) -> Snapshot:
        types = json.dumps([raw.to_dict()[k] for k in ("enums", "domains", "sequences")], sort_keys=True)

        def key(table: Table, seen: frozenset[str] = frozenset()) -> str:
            # a referenced table does not change how the server spells this one; a parent (inherited,
            # partitioned) gives it its columns, so it is part of the key
            parents = [*(table.options.get("inherits") or ()), *([table.options["partition_of"]] if table.options.get("partition_of") else [])]
            parts = [types, json.dumps(table.to_json(), sort_keys=True)]
            parts += [key(raw.tables[ref], seen | {table.key}) for ref in sorted(set(parents))
                      if ref in raw.tables and ref not in seen and ref != table.key]
            return hashlib.sha256("\n".join(parts).encode()).hexdigest()

        keys = {k: key(t) for k, t in raw.tables.items()}
        missing = [k for k in raw.tables if keys[k] not in self.known]
        if raw.views or not raw.tables or any(o.kind in READ_TABLES for o in raw.objects.values()):
            result = backend.normalize_models(raw, conn)
            self.store({keys[k]: t.to_json() for k, t in result.tables.items()})
            return result
        # chunks, so that one rolled-back transaction never holds more locks than a default server has room
        # for (max_locks_per_transaction: ~7 locks a table with its keys, indexes and sequence)
        chunks = [missing[i:i + CHUNK] for i in range(0, len(missing), CHUNK)] or [[]]
        done: dict[str, Table] = {}
        for chunk in chunks:
            partial = backend.normalize_models(raw.replace(tables=self._with_stand_ins(raw, chunk)), conn)
            done.update((k, partial.tables[k]) for k in chunk)
        tables = {k: done[k] if k in done else _table_from_json(k, self.known[keys[k]]) for k in raw.tables}
        self.store({keys[k]: done[k].to_json() for k in missing})
        return partial.replace(tables=tables)

    @staticmethod
    def _with_stand_ins(raw: Snapshot, chunk: list[str]) -> dict[str, Table]:
        """The tables of ``chunk`` and stand-ins (no keys, indexes or checks) of what they reference or inherit from."""
        from ..differ import depends_on

        wanted = set(chunk)
        needed: set[str] = set()
        pending = list(chunk)
        while pending:
            for ref in depends_on(raw.tables[pending.pop()]):
                if ref in raw.tables and ref not in needed and ref not in wanted:
                    needed.add(ref)
                    pending.append(ref)
        stand_ins = {k: raw.tables[k].replace(foreign_keys=(), indexes=(), checks=()) for k in needed}
        return {**{k: raw.tables[k] for k in chunk}, **stand_ins}

    def store(self, entries: dict[str, dict]) -> None:
        self.known.update(entries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.known, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)
