"""Snapshot × Snapshot → Plan: the ordered operations that turn ``old`` into ``new``.

Comparators only emit operations; ordering is a separate, foreign-key-aware pass. Renames happen only
when the user names them; likely renames are returned as suggestions and never applied silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from .errors import UsageError
from .operations import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    AlterDomain,
    AlterSequence,
    AlterTable,
    CreateDomain,
    CreateEnum,
    CreateIndex,
    CreateObject,
    CreateSequence,
    CreateTable,
    CreateView,
    DropColumn,
    DropConstraint,
    DropDomain,
    DropEnum,
    DropIndex,
    DropObject,
    DropSequence,
    DropTable,
    DropView,
    Operation,
    Plan,
    RecreateEnum,
    RenameColumn,
    RenameTable,
    ReplaceObject,
)
from .schema import ForeignKey, SchemaObject, Snapshot, Table, View, schemas_of, table_key

T = TypeVar("T")


@dataclass(frozen=True)
class Renames:
    """Explicit renames: ``tables`` maps old key → new key, ``columns`` maps (new table key, old) → new."""

    tables: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def parse(cls, rename: Sequence[str] = (), rename_table: Sequence[str] = ()) -> Renames:
        """Parse ``--rename TABLE.OLD:NEW`` and ``--rename-table OLD:NEW``.

        The column form splits on the LAST ``.`` before the LAST ``:``, so schema-qualified tables work
        (``app.orders.total:amount``); names containing ``:`` or ``.`` in those positions cannot be renamed
        from the command line (use the Python API with a ``Renames`` object).
        """
        tables: dict[str, str] = {}
        for spec in rename_table:
            old, sep, new = spec.rpartition(":")
            if not sep or not old or not new:
                raise UsageError(f"--rename-table expects OLD:NEW, got {spec!r}")
            tables[old] = new
        columns: dict[tuple[str, str], str] = {}
        for spec in rename:
            left, sep, new = spec.rpartition(":")
            table, dot, old = left.rpartition(".")
            if not sep or not dot or not table or not old or not new:
                raise UsageError(f"--rename expects TABLE.OLD:NEW, got {spec!r}")
            columns[(tables.get(table, table), old)] = new
        return cls(tables, columns)

    def __bool__(self) -> bool:
        return bool(self.tables or self.columns)

    def to_header(self) -> str:
        """One line of JSON for a migration file's ``-- renames:`` header (:meth:`from_header` reads it)."""
        doc = {"tables": dict(self.tables), "columns": [[t, old, new] for (t, old), new in self.columns.items()]}
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_header(cls, text: str | None) -> Renames:
        if not text:
            return cls()
        doc = json.loads(text)
        return cls(dict(doc.get("tables") or {}), {(t, old): new for t, old, new in doc.get("columns") or ()})


def match(old: Iterable[T], new: Iterable[T]) -> tuple[list[T], list[T], list[tuple[T, T]]]:
    """Pair objects of two collections: equal ones, then changed ones of the same name.

    Returns (removed, added, changed pairs); equal pairs are dropped. Unnamed objects only match an equal
    one, so ``diff`` is empty exactly when the snapshots are equal (backends give model-side objects the
    names their server would give, before this runs).
    """
    removed, added = list(old), list(new)
    for obj in list(added):
        if obj in removed:
            removed.remove(obj)
            added.remove(obj)
    changed: list[tuple[T, T]] = []
    for obj in list(added):
        name = getattr(obj, "name", None)
        twin = next((o for o in removed if name is not None and getattr(o, "name", None) == name), None)
        if twin is not None:
            removed.remove(twin)
            added.remove(obj)
            changed.append((twin, obj))
    return removed, added, changed


class Differ:
    """Compares two snapshots. ``forward_references``: the backend accepts foreign keys to tables created later."""

    def __init__(self, old: Snapshot, new: Snapshot, renames: Renames | None = None, forward_references: bool = False,
                 case_insensitive_tables: bool = False, case_insensitive_columns: bool = False,
                 views_pin_columns: bool = False):
        self.old, self.new = old, new
        self.renames = renames or Renames()
        self.forward_references = forward_references
        if case_insensitive_tables:  # names that differ only in case are the same object: rename, never drop + create
            self.renames = Renames({**_case_renames(old.tables, new.tables), **self.renames.tables},
                                   dict(self.renames.columns))
        self.case_insensitive_columns = case_insensitive_columns
        self.views_pin_columns = views_pin_columns  # a view blocks changing the type of, or dropping, a column it reads
        self.suggestions: list[str] = []

    def plan(self) -> Plan:
        old_tables = dict(self.old.tables)
        drops: list[Operation] = []
        creates: list[Operation] = []
        alters: list[Operation] = []
        renames: list[Operation] = []
        for old_key, new_key in self.renames.tables.items():
            if old_key not in old_tables:
                raise UsageError(f"--rename-table: no table {old_key!r} in the current schema")
            if new_key not in self.new.tables:
                raise UsageError(f"--rename-table: no table {new_key!r} in the models")
            source = old_tables.pop(old_key)
            target = self.new.tables[new_key]
            moved = replace(source, name=target.name, schema=target.schema)
            renames.append(RenameTable(source, moved))
            old_tables[new_key] = moved

        for (table, column), new_name in self.renames.columns.items():  # a typo must never turn into a drop
            if table not in self.new.tables:
                raise UsageError(f"--rename {table}.{column}:{new_name}: no table {table!r} in the models")
            if table not in old_tables:
                raise UsageError(f"--rename {table}.{column}:{new_name}: no table {table!r} in the current schema "
                                 "(a new table has no column to rename)")
        for key in old_tables.keys() - self.new.tables.keys():
            drops.append(DropTable(old_tables[key]))
        for key in self.new.tables.keys() - old_tables.keys():
            creates.append(CreateTable(self.new.tables[key]))
        for key in sorted(old_tables.keys() & self.new.tables.keys()):
            alters.extend(self.compare_table(old_tables[key], self.new.tables[key]))
        self.suggest_table_renames(drops, creates)

        view_removed, view_added, view_changed = match(self.old.views.values(), self.new.views.values())
        # a materialized view whose indexes alone changed keeps its rows: its indexes are dropped and created
        reindexed = [(o, n) for o, n in view_changed if replace(o, indexes=n.indexes) == n]
        view_changed = [pair for pair in view_changed if pair not in reindexed]
        view_indexes = [op for o, n in reindexed for op in self.compare_indexes(o, n)]
        pinned = self.pinned_views(alters, drops, {o.key for o, _ in view_changed} | {v.key for v in view_removed})
        view_changed += pinned
        view_changed += dependents(self.old.views, self.new.views, [o for o, _ in view_changed] + view_removed,
                                   already={o.key for o, _ in view_changed})
        dropped = view_dependency_order(view_removed + [o for o, _ in view_changed])
        view_drops = [DropView(v) for v in reversed(dropped)]
        view_creates = [CreateView(v) for v in view_dependency_order([n for _, n in view_changed] + view_added)]
        type_creates, type_drops = self.compare_types()
        objects = self.compare_objects(frozenset(v.key for v in dropped))
        # routines come after the types their signatures use, but before the domains whose checks call them
        calling = _calling(type_creates, objects.creates["routine"])
        type_creates = (objects.creates["early"] + [op for op in type_creates if op not in calling]
                        + objects.creates["routine"] + calling)
        calling = _calling(type_drops, objects.drops["routine"])
        type_drops = (calling + objects.drops["routine"] + [op for op in type_drops if op not in calling]
                      + objects.drops["early"])
        released, owned = self.compare_ownership()
        return Plan(
            tuple(released + objects.drops["late"] + view_drops + type_creates
                  + order(renames, drops, creates, alters, self.forward_references)
                  + owned + type_drops + view_creates + view_indexes + objects.creates["late"]),
            tuple(self.suggestions),
        )

    def pinned_views(self, alters: list[Operation], drops: list[Operation], changing: set[str]) -> list[tuple[View, View]]:
        """Unchanged views that read a column whose type changes or that is dropped (or a dropped table): dropped
        before the change and created again after it, where the server refuses the change under a view."""
        if not self.views_pin_columns:
            return []
        touched: dict[str, set[str]] = {}
        for op in alters:
            if isinstance(op, DropColumn) or isinstance(op, AlterColumn) and {"type", "collation", "computed"} & set(op.changes):
                column = op.column if isinstance(op, DropColumn) else op.old
                touched.setdefault(op.parent.name, set()).add(column.name)
        for op in drops:
            if isinstance(op, DropTable):
                touched.setdefault(op.old.name, set()).add(op.old.name)
        out = []
        for key, view in self.old.views.items():
            if key in changing or key not in self.new.views:
                continue
            words = set(re.findall(r"\w+", view.definition))
            if any(table in words and columns & words for table, columns in touched.items()):
                out.append((view, self.new.views[key]))
        return out

    def compare_objects(self, recreated_views: frozenset[str] = frozenset()) -> _ObjectOps:
        """Schemas (every one the snapshots hold, empty or not) and other schema objects, by phase: schemas,
        extensions and collations before the types and tables that live in or use them (dropped after);
        functions, procedures and aggregates after the types their signatures use and before the tables, views,
        defaults and checks that call them (dropped after those); triggers after their tables and views (dropped
        before anything). A trigger, rule or grant on a view the plan drops and creates again is created again after it."""
        ops = _ObjectOps()
        before, after = schemas_of(self.old), schemas_of(self.new)
        ops.creates["early"] += [CreateObject(SchemaObject("schema", s)) for s in sorted(after - before)]
        schema_drops: list[Operation] = [DropObject(SchemaObject("schema", s)) for s in sorted(before - after, reverse=True)]
        old = {k: o for k, o in self.old.objects.items() if o.kind != "schema"}
        new = {k: o for k, o in self.new.objects.items() if o.kind != "schema"}
        rank = {kind: n for n, kind in enumerate(OBJECT_ORDER)}
        by_rank = lambda k: (rank.get((new.get(k) or old[k]).kind, len(rank)), k)
        for k in sorted(new.keys() - old.keys(), key=by_rank):
            ops.creates[_phase(new[k])].append(CreateObject(new[k]))
        for k in sorted(new.keys() & old.keys(), key=by_rank):
            if new[k].kind in ON_VIEWS and table_key(new[k].schema, new[k].options["table"]) in recreated_views:
                ops.drops["late"].append(DropObject(old[k]))
                ops.creates["late"].append(CreateObject(new[k]))
            elif not same_object(old[k], new[k]):
                recommented = _uncommented(old[k]) == _uncommented(new[k])
                users = () if recommented else users_of(self.old, self.new, old[k])
                ops.creates[_phase(new[k])].append(ReplaceObject(old[k], new[k], users))
        for k in sorted(old.keys() - new.keys(), key=by_rank, reverse=True):
            ops.drops[_phase(old[k])].append(DropObject(old[k], users_of(self.old, self.new, old[k])))
        ops.drops["early"] += schema_drops
        return ops

    def compare_ownership(self) -> tuple[list[Operation], list[Operation]]:
        """A sequence owned by a column (``owned_by``) is dropped with it: ownership is released before any table
        or column is dropped, and given after every table and column exists."""
        released: list[Operation] = []
        owned: list[Operation] = []
        before, after = self.old.sequences, self.new.sequences
        for name in sorted(before.keys() | after.keys()):
            old_owner = (before.get(name) or {}).get("owned_by")
            new_owner = (after.get(name) or {}).get("owned_by")
            if old_owner == new_owner:
                continue
            if old_owner:
                released.append(AlterSequence(name, {"owned_by": old_owner}, {}))
            if new_owner:
                owned.append(AlterSequence(name, {}, {"owned_by": new_owner}))
        return released, owned

    def compare_types(self) -> tuple[list[Operation], list[Operation]]:
        """Enums, domains and sequences: created before the tables that use them, dropped after."""
        creates: list[Operation] = []
        drops: list[Operation] = []
        old, new = self.old, self.new
        for name in sorted(new.enums.keys() - old.enums.keys()):
            creates.append(CreateEnum(name, new.enums[name]))
        for name in sorted(old.enums.keys() - new.enums.keys()):
            drops.append(DropEnum(name, old.enums[name]))
        for name in sorted(old.enums.keys() & new.enums.keys()):
            before, after = list(old.enums[name]), list(new.enums[name])
            if before == after:
                continue
            if [v for v in after if v in before] != before:  # removed, renamed or reordered: a new type
                creates.append(RecreateEnum(name, tuple(before), tuple(after), enum_usages(name, old, new)))
                continue
            for i, value in enumerate(after):
                if value not in before:
                    following = next((v for v in after[i + 1:] if v in before), None)
                    creates.append(AddEnumValue(name, value, following))
        for kind, create, drop, alter in (("domains", CreateDomain, DropDomain, AlterDomain),
                                          ("sequences", CreateSequence, DropSequence, AlterSequence)):
            before_map, after_map = (getattr(snap, kind) for snap in (old, new))
            if kind == "sequences":  # ownership is compared on its own (compare_ownership)
                before_map, after_map = (_unowned(m) for m in (before_map, after_map))
            for name in sorted(after_map):
                if name not in before_map:
                    creates.append(create(name, after_map[name]))
                elif before_map[name] != after_map[name]:
                    creates.append(alter(name, before_map[name], after_map[name]))
            drops += [drop(name, before_map[name]) for name in sorted(before_map.keys() - after_map.keys())]
        return creates, drops

    def compare_table(self, old: Table, new: Table) -> list[Operation]:
        ops: list[Operation] = []
        old_cols = {c.name: c for c in old.columns}
        new_cols = {c.name: c for c in new.columns}
        column_renames = dict(self.renames.columns)
        if self.case_insensitive_columns:
            for source, target in _case_renames(old_cols, new_cols).items():
                column_renames.setdefault((new.key, source), target)
        for (table, source), target in column_renames.items():
            if table != new.key:
                continue
            if source not in old_cols:
                raise UsageError(f"--rename {table}.{source}:{target}: no column {source!r} in table {table} of the "
                                 "current schema")
            if target not in new_cols:
                raise UsageError(f"--rename {table}.{source}:{target}: no column {target!r} in table {table} of the "
                                 "models")
            before = old_cols.pop(source)
            ops.append(RenameColumn(new, before, replace(before, name=target)))
            old_cols[target] = replace(before, name=target)
        for name, col in new_cols.items():
            if name not in old_cols:
                ops.append(AddColumn(new, col))
            elif old_cols[name] != col:
                ops.append(AlterColumn(new, old_cols[name], col))
        for name, col in old_cols.items():
            if name not in new_cols:
                ops.append(DropColumn(old, col))
        self.suggest_column_renames(new, ops)

        if old.primary_key != new.primary_key:
            if old.primary_key is not None:
                ops.append(DropConstraint(old, old.primary_key))
            if new.primary_key is not None:
                ops.append(AddConstraint(new, new.primary_key))
        for kind in ("uniques", "checks", "foreign_keys"):
            removed, added, changed = match(getattr(old, kind), getattr(new, kind))
            ops += [DropConstraint(old, c) for c in removed] + [DropConstraint(old, o) for o, _ in changed]
            ops += [AddConstraint(new, n) for _, n in changed] + [AddConstraint(new, c) for c in added]
        ops += self.compare_indexes(old, new)
        if (old.comment, old.options) != (new.comment, new.options):
            ops.append(AlterTable(old, new))
        return ops

    @staticmethod
    def compare_indexes(old: Any, new: Any) -> list[Operation]:
        """The indexes of a table (or materialized view) dropped, then created."""
        removed, added, changed = match(old.indexes, new.indexes)
        ops: list[Operation] = [*(DropIndex(old, i) for i in removed), *(DropIndex(old, o) for o, _ in changed)]
        return ops + [CreateIndex(new, n) for _, n in changed] + [CreateIndex(new, i) for i in added]

    def suggest_table_renames(self, drops: list[Operation], creates: list[Operation]) -> None:
        def columns(table: Table) -> str:
            return json.dumps([c.to_json() for c in table.columns], sort_keys=True)

        if not drops or not creates:
            return
        by_columns: dict[str, list[CreateTable]] = {}
        for create in creates:  # grouped once: linear in the tables, not drops × creates
            assert isinstance(create, CreateTable)
            by_columns.setdefault(columns(create.new), []).append(create)
        for drop in drops:
            assert isinstance(drop, DropTable)
            for create in by_columns.get(columns(drop.old), []):
                self.suggestions.append(
                    f"table {drop.old.key} is dropped and {create.new.key} created with the same columns: "
                    f"if it is a rename, pass --rename-table {drop.old.key}:{create.new.key}"
                )

    def suggest_column_renames(self, table: Table, ops: list[Operation]) -> None:
        added = [op.column for op in ops if isinstance(op, AddColumn)]
        dropped = [op.column for op in ops if isinstance(op, DropColumn)]
        for gone in dropped:
            for new in added:
                if replace(gone, name=new.name) == new:
                    self.suggestions.append(
                        f"column {table.key}.{gone.name} is dropped and {new.name} added with the same definition: "
                        f"if it is a rename, pass --rename {table.key}.{gone.name}:{new.name}"
                    )


def order(
    renames: list[Operation],
    drops: list[Operation],
    creates: list[Operation],
    alters: list[Operation],
    forward_references: bool,
) -> list[Operation]:
    """Foreign-key-aware ordering: drop what depends first, create what is depended on first."""
    rank = {DropConstraint: 0, DropIndex: 1, RenameColumn: 2, AddColumn: 3, AlterColumn: 4, DropColumn: 5,
            AlterTable: 6, AddConstraint: 7, CreateIndex: 8}

    def alter_rank(op: Operation) -> tuple[int, int]:
        # foreign keys are dropped before any other constraint and added after all of them
        is_fk = isinstance(getattr(op, "constraint", None), ForeignKey)
        if isinstance(op, DropConstraint):
            return (0, 0 if is_fk else 1)
        if isinstance(op, AddConstraint):
            return (9 if is_fk else 7, 0)
        return (rank[type(op)], 0)

    dropped_tables = [op.old for op in drops if isinstance(op, DropTable)]
    created_tables = [op.new for op in creates if isinstance(op, CreateTable)]

    result: list[Operation] = []
    fk_first = [op for op in alters if isinstance(op, DropConstraint) and isinstance(op.constraint, ForeignKey)]
    result += fk_first
    first = {id(op) for op in fk_first}  # by identity: linear, and equal operations stay distinct
    pending_alters = [op for op in alters if id(op) not in first]
    result += renames
    # tables dropped in reverse dependency order; a foreign key to a table dropped before its own (a cycle) is
    # dropped first, so that the rollback creates both tables and then adds it
    dropped_so_far: set[str] = set()
    table_drops: list[Operation] = []
    for table in reversed(topological(dropped_tables)):
        cyclic = [fk for fk in table.foreign_keys if fk.ref_table != table.key and fk.ref_table in dropped_so_far]
        dropped_so_far.add(table.key)
        if cyclic:
            result += [DropConstraint(table, fk) for fk in cyclic]
            table = replace(table, foreign_keys=tuple(fk for fk in table.foreign_keys if fk not in cyclic))
        table_drops.append(DropTable(table))
    result += table_drops

    deferred: list[Operation] = []
    creating = {t.key for t in created_tables}
    altered = {op.table for op in pending_alters if isinstance(op, (AddColumn, AlterColumn, AddConstraint))}
    created_so_far: set[str] = set()
    for table in topological(created_tables):
        if forward_references:
            result.append(CreateTable(table))
            continue
        # a key to a table created later (a cycle), or to one whose columns or keys this plan changes, is added
        # once everything else is in place
        later = [fk for fk in table.foreign_keys if fk.ref_table != table.key and fk.ref_table not in created_so_far
                 and (fk.ref_table in creating or fk.ref_table in altered)]
        if later:  # a cycle: create without those keys, add them once every table exists
            table = replace(table, foreign_keys=tuple(fk for fk in table.foreign_keys if fk not in later))
            deferred += [AddConstraint(table, fk) for fk in later]
        result.append(CreateTable(table))
        created_so_far.add(table.key)
    result += sorted(pending_alters, key=alter_rank)  # stable: per-table order kept within a rank
    result += deferred
    return result


OBJECT_ORDER = ("extension", "collation", "text search dictionary", "text search configuration", "function", "procedure", "aggregate", "row security", "policy", "rule",
                "trigger", "event", "grant")  # creation order
_PHASES = {"function": "routine", "procedure": "routine", "aggregate": "routine", "trigger": "late", "rule": "late",
           "policy": "late", "row security": "late", "grant": "late", "event": "late"}


def _calling(types: list[Operation], routines: list[Operation]) -> list[Operation]:
    """The domain steps among ``types`` whose check or default calls one of ``routines`` (``CHECK (is_email(VALUE))``):
    created after the routines, dropped before them."""
    names = {obj.name for op in routines if (obj := getattr(op, "object", None) or getattr(op, "new", None))}
    if not names:
        return []
    pattern = re.compile(r"(?<![\w$])(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\s*\(")
    return [op for op in types if "domain" in op.kind and pattern.search(json.dumps(getattr(op, "options", {}), default=str))]


# An event created without STARTS starts when it is created, and the server prints that time in its STARTS: where
# one side gives none (a model that left it to the server), the other's is left out of the comparison, else a model
# would differ from every database it built, by the time it was built (generate-models writes the server's STARTS,
# so a rebuilt database is equal by the dump). Written as the server prints it: EVERY n UNIT STARTS '…'.
_STARTS = re.compile(r"^(ON SCHEDULE EVERY (?:'[^']*'|\S+) \w+) STARTS '[^']*'", re.IGNORECASE)


def without_starts(definition: str) -> str:
    """An event's definition without the STARTS of its schedule."""
    return _STARTS.sub(r"\1", definition, count=1)


def same_object(a: SchemaObject, b: SchemaObject) -> bool:
    if a.kind == b.kind == "event" and (_STARTS.match(a.definition) is None) != (_STARTS.match(b.definition) is None):
        return replace(a, definition=without_starts(a.definition)) == replace(b, definition=without_starts(b.definition))
    return a == b


def _uncommented(obj: SchemaObject) -> SchemaObject:
    return replace(obj, options={k: v for k, v in obj.options.items() if k != "comment"})


def _uses(obj: SchemaObject) -> re.Pattern[str] | None:
    """How a definition names ``obj`` where the server records a dependency on it: a routine called by name (or
    an aggregate's support function, ``SFUNC = name``), a text-search configuration as a ``'name'::regconfig``
    constant; None for other kinds."""
    from .entities import ROUTINES

    name = re.escape(obj.name)
    if obj.kind in ROUTINES:
        return re.compile(rf'(?<![\w$])"?{name}"?\s*\(|FUNC\s*=\s*(?:[\w"]+\.)?"?{name}"?(?![\w$])', re.IGNORECASE)
    if obj.kind == "text search configuration":
        return re.compile(rf"'(?:[\w\"]+\.)?\"?{name}\"?'::regconfig")
    return None


def users_of(old: Snapshot, new: Snapshot, obj: SchemaObject) -> tuple[str, ...]:
    """What uses the routine (or text-search object) ``obj`` in ``old`` and is still there in ``new``: views,
    triggers, policies, rules, other routines, text-search configurations, domains, column defaults and generated
    columns, checks and indexes ("view film_titles", "default of film.code"). Read from the definitions as the
    server prints them, so a use by name counts (an overload of the same name too: naming one more than needed is
    safer than naming one less)."""
    if obj.kind == "text search dictionary":  # used by the configurations that map tokens to it
        word = re.compile(rf'(?<![\w$])"?{re.escape(obj.name)}"?(?![\w$])')
        return tuple(key for key, o in old.objects.items() if key in new.objects and o.kind == "text search configuration"
                     and any(word.search(dicts) for dicts in (o.options.get("mappings") or {}).values()))
    calls = _uses(obj)
    if calls is None:
        return ()
    found: list[str] = []
    for key, view in old.views.items():
        if key in new.views and calls.search(view.definition):
            found.append(f"{'materialized view' if view.materialized else 'view'} {key}")
    for key, other in old.objects.items():
        if key in new.objects and key != obj.key and other.kind != "grant" and calls.search(other.definition):
            found.append(other.key)
    for name_, domain in old.domains.items():
        if name_ in new.domains and calls.search(json.dumps(domain, default=str)):
            found.append(f"domain {name_}")
    for key, table in old.tables.items():
        kept = new.tables.get(key)
        if kept is None:
            continue
        for col in table.columns:
            if kept.column(col.name) is None:
                continue
            if col.default and calls.search(col.default):
                found.append(f"default of {key}.{col.name}")
            if col.computed and calls.search(col.computed.expression):
                found.append(f"generated column {key}.{col.name}")
        found += [f"check {c.name or c.expression} on {key}" for c in table.checks if calls.search(c.expression)]
        found += [f"index {ix.name} on {key}" for ix in table.indexes
                  if any(calls.search(e.expression or "") for e in ix.elements) or calls.search(ix.where or "")]
    return tuple(found)


ON_VIEWS = ("trigger", "rule", "grant")  # what a view loses when it is dropped and created again


def _phase(obj: SchemaObject) -> str:
    return _PHASES.get(obj.kind, "early")


@dataclass
class _ObjectOps:
    """Schema objects' operations by phase of the plan: "early", "routine", "late"."""

    creates: dict[str, list[Operation]] = field(default_factory=lambda: {"early": [], "routine": [], "late": []})
    drops: dict[str, list[Operation]] = field(default_factory=lambda: {"early": [], "routine": [], "late": []})


def dependents(old: Mapping[str, View], new: Mapping[str, View], changed: list[View], already: set[str]) -> list[tuple[View, View]]:
    """Unchanged views that read a changed or dropped view: they are dropped and created again with it."""
    out: list[tuple[View, View]] = []
    names = {v.name for v in changed}
    grew = True
    while grew:
        grew = False
        for key, view in old.items():
            if key in already or key not in new:
                continue
            if names & set(re.findall(r"\w+", view.definition)):
                out.append((view, new[key]))
                already.add(key)
                names.add(view.name)
                grew = True
    return out


def view_dependency_order(views: list[View]) -> list[View]:
    """Views sorted so that a view comes after the views its definition names (by name among equals)."""
    by_name = {v.name: v for v in sorted(views, key=lambda v: v.key)}
    words = {v.name: set(re.findall(r"\w+", v.definition)) for v in views}
    done: dict[str, View] = {}

    def visit(name: str, path: frozenset[str]) -> None:
        if name in done or name in path:
            return
        for other in by_name:
            if other != name and other in words[name]:
                visit(other, path | {name})
        done[name] = by_name[name]

    for name in by_name:
        visit(name, frozenset())
    return list(done.values())


def enum_usages(name: str, old: Snapshot, new: Snapshot) -> tuple[tuple[str, str, str | None, str | None, bool], ...]:
    """Columns of type ``name`` (or an array of it) in both snapshots: (table, column, old default, new default, array)."""
    out = []
    for key, table in sorted(new.tables.items()):
        for col in table.columns:
            base = col.type.removesuffix("[]").replace('"', "")
            if base != name:
                continue
            before = old.tables[key].column(col.name) if key in old.tables else None
            out.append((key, col.name, before.default if before else None, col.default, col.type.endswith("[]")))
    return tuple(out)


def _unowned(sequences: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {k: {o: v for o, v in opts.items() if o != "owned_by"} if "owned_by" in opts else opts
            for k, opts in sequences.items()}


def _case_renames(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, str]:
    """Names present on both sides once case is ignored, but spelled differently: old → new."""
    gone = {k.lower(): k for k in old if k not in new}
    return {gone[k.lower()]: k for k in new if k not in old and k.lower() in gone}


def depends_on(table: Table) -> list[str]:
    """Keys of the tables that must exist before ``table``: referenced, inherited, partitioned."""
    refs = [fk.ref_table for fk in table.foreign_keys]
    refs += list(table.options.get("inherits") or ())
    return refs + ([table.options["partition_of"]] if table.options.get("partition_of") else [])


def topological(tables: list[Table]) -> list[Table]:
    """Tables sorted so that referenced tables come first (by name among equals; cycles broken by name)."""
    by_key = {t.key: t for t in sorted(tables, key=lambda t: t.key)}
    done: dict[str, Table] = {}
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in done or key in visiting:
            return
        visiting.add(key)
        for ref in depends_on(by_key[key]):
            if ref in by_key and ref != key:
                visit(ref)
        visiting.discard(key)
        done[key] = by_key[key]

    for key in by_key:
        visit(key)
    return list(done.values())


def diff(
    old: Snapshot,
    new: Snapshot,
    renames: Renames | None = None,
    *,
    forward_references: bool | None = None,
) -> Plan:
    """The plan from ``old`` to ``new``. Backend capabilities come from the backend registry unless given."""
    from .backends import get_backend

    backend = get_backend(new.backend)
    if forward_references is None:
        forward_references = backend.supports_forward_references
    return Differ(old, new, renames, forward_references, backend.case_insensitive_tables,
                  backend.case_insensitive_columns, backend.views_pin_columns).plan()

