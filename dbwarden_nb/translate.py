"""Cross-backend translation: a PostgreSQL, MySQL/MariaDB or ClickHouse snapshot as SQLite can hold it (``--dev``).

Types go through one lookup table per source backend, and expressions (defaults, checks, generated columns,
index expressions and predicates, views) are rewritten token by token (both in translate_rules.py), then
tried on an in-memory SQLite database holding the translated tables: what SQLite rejects is dropped and
reported, never guessed at.
The result is the snapshot SQLite itself reads back after the sqlite backend's DDL for it has run, so a
migration made from it converges. Tables and columns are never left out: whatever cannot be translated
exactly keeps its place with a fallback, and every decision is a row of the :class:`TranslationReport`.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .backends.sqlite.ddl import Token, join
from .entities import PROCEDURAL
from .errors import TranslationError
from .reports import Report
from .schema import Check, Column, ForeignKey, Index, IndexElement, Snapshot, Table, View
from .session import view
from .translate_rules import NOTHING, Expressions, TypeResult, Types, Untranslatable, literal, one_line, quote

ACTIONS = ("kept", "converted", "fallback", "dropped")
WARNING_ACTIONS = ("fallback", "dropped")

# -------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Decision:
    database: str
    table: str | None  # table or view name (bare, as in SQLite); the object's name for enums, domains, sequences
    column: str | None  # None for table-level and object-level rows
    kind: str  # "type", "default", "check", "index", "view", "enum", "table option", …
    source: str
    result: str
    action: str  # kept | converted | fallback | dropped
    reason: str

    @property
    def label(self) -> str:
        return ".".join(p for p in (self.table, self.column) if p) or self.database

    @property
    def is_warning(self) -> bool:
        return self.action in WARNING_ACTIONS

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "table": self.table, "column": self.column, "kind": self.kind,
                "source": self.source, "result": self.result, "action": self.action, "reason": self.reason}

    def line(self) -> str:
        """``table.column: kind (source → result)``, the unit of strict mode's error message."""
        result = "dropped" if self.action == "dropped" else self.result
        return f"{self.label}: {self.kind} ({one_line(self.source)} \u2192 {one_line(result)})"


@dataclass(repr=False)
class TranslationReport(Report):
    database: str
    source_backend: str
    decisions: tuple[Decision, ...] = ()

    @property
    def warnings(self) -> list[Decision]:
        """The fallback and dropped decisions: what strict mode refuses."""
        return [d for d in self.decisions if d.is_warning]

    def counts(self) -> dict[str, int]:
        return {a: n for a in ACTIONS if (n := sum(d.action == a for d in self.decisions))}

    def summary(self) -> str:
        counts = ", ".join(f"{n} {a}" for a, n in self.counts().items()) or "nothing to translate"
        return f"{self.database}: {self.source_backend} \u2192 sqlite, {counts}"

    def to_text(self) -> str:
        """Every row but the kept ones (counted in the summary), in snapshot order."""
        lines = [self.summary()]
        for d in self.decisions:
            if d.action != "kept":
                mark = "!" if d.is_warning else " "
                lines.append(f"  {mark} {d.action:<9} {d.line()}" + (f": {d.reason}" if d.reason else ""))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "source_backend": self.source_backend, "target_backend": "sqlite",
                "counts": self.counts(), "warnings": len(self.warnings),
                "decisions": [d.to_json() for d in self.decisions]}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per decision."""
        return view("frame", self)


# ------------------------------------------------------------------------------------------ validation


class _Scratch:
    """An in-memory SQLite database holding the translated tables as plain columns; expressions are tried here.

    A statement SQLite refuses gives its error message; a constraint that fails on the trial row still
    proves the expression compiles and runs.
    """

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.columns: dict[str, list[tuple[str, str]]] = {}

    def close(self) -> None:
        self.db.close()

    def add_table(self, name: str, columns: list[tuple[str, str]]) -> None:
        self.columns[name] = columns
        try:
            self.db.execute(f"CREATE TABLE {quote(name)} ({self._defs(name)})")
        except sqlite3.Error as exc:  # a name SQLite reserves (sqlite_…): nothing may go missing quietly
            raise TranslationError(f"SQLite refuses table {name}: {exc}") from None

    def _defs(self, table: str, skip: str | None = None) -> str:
        return ", ".join(f"{quote(n)} {t}" for n, t in self.columns[table] if n != skip)

    def _try(self, statements: Sequence[str], cleanup: str | None = None) -> str | None:
        try:
            for sql in statements:
                self.db.execute(sql).fetchall()
        except sqlite3.IntegrityError:
            pass
        except sqlite3.Error as exc:
            return str(exc)
        finally:
            if cleanup:
                self.db.execute(cleanup)
        return None

    def default(self, sqlite_type: str, expr: str) -> str | None:
        return self._try([f"CREATE TEMP TABLE _dbw_default (v {sqlite_type} DEFAULT ({expr}))",
                          "INSERT INTO temp._dbw_default DEFAULT VALUES"], "DROP TABLE IF EXISTS temp._dbw_default")

    def check(self, table: str, expr: str) -> str | None:
        # a temporary twin of the table shadows it, so table-qualified column names resolve too
        return self._try([f"CREATE TEMP TABLE {quote(table)} ({self._defs(table)}, CHECK ({expr}))",
                          f"INSERT INTO temp.{quote(table)} DEFAULT VALUES"], f"DROP TABLE IF EXISTS temp.{quote(table)}")

    def generated(self, table: str, column: str, sqlite_type: str, expr: str, stored: bool) -> str | None:
        kind = "STORED" if stored else "VIRTUAL"
        defs = ", ".join(p for p in (self._defs(table, skip=column),
                                     f"{quote(column)} {sqlite_type} GENERATED ALWAYS AS ({expr}) {kind}") if p)
        return self._try([f"CREATE TEMP TABLE {quote(table)} ({defs})", f"INSERT INTO temp.{quote(table)} DEFAULT VALUES",
                          f"SELECT {quote(column)} FROM temp.{quote(table)}"], f"DROP TABLE IF EXISTS temp.{quote(table)}")

    def index(self, table: str, elements: str, where: str | None) -> str | None:
        tail = f" WHERE {where}" if where else ""
        return self._try([f"CREATE INDEX _dbw_index ON {quote(table)} ({elements}){tail}"], "DROP INDEX IF EXISTS _dbw_index")

    def view(self, name: str, definition: str) -> str | None:
        error = self._try([f"CREATE VIEW {quote(name)} AS {definition}", f"SELECT * FROM {quote(name)} LIMIT 0"])
        if error:
            self.db.execute(f"DROP VIEW IF EXISTS {quote(name)}")
        return error


class _StdlibConnection:
    """What the sqlite backend's introspection asks of a connection, over a stdlib sqlite3 one."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.db.execute(sql, dict(params or {})).fetchall()]


def read_back(draft: Snapshot) -> Snapshot:
    """What SQLite reports after the sqlite backend's DDL for ``draft`` ran on an empty database."""
    from .backends import get_backend
    from .differ import diff

    backend = get_backend("sqlite")
    empty = backend.empty()
    plan = backend.adapt(diff(empty, draft), empty, draft)
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for statement in backend.render_plan(plan):
            try:
                db.execute(statement.sql)
            except sqlite3.Error as exc:
                first = statement.sql.strip().splitlines()[0][:120]
                raise TranslationError(f"SQLite refuses the translated schema: {exc} (in: {first})") from None
        return backend.introspect(_StdlibConnection(db))  # type: ignore[arg-type]
    finally:
        db.close()


# ------------------------------------------------------------------------------------------ translation

STORAGE_REASON = "storage, layout or documentation only: the stored values are unaffected"
_SKIP_INDEX = "type"  # a ClickHouse data-skipping index carries its kind in options["type"]


def translate(snapshot: Snapshot, database: str, strict: bool = False) -> tuple[Snapshot, TranslationReport]:
    """``snapshot`` as a SQLite snapshot, and a report with one row per decision.

    ``strict``: any fallback or dropped item raises one :class:`TranslationError` that lists them all.
    Two tables, views or indexes that SQLite would give the same name raise in both modes.
    """
    if snapshot.backend == "sqlite":
        rows = tuple(Decision(database, t.name, c.name, "type", c.type, c.type, "kept", "")
                     for t in snapshot.tables.values() for c in t.columns)
        return snapshot, TranslationReport(database, "sqlite", rows)
    translator = _Translator(snapshot, database)
    try:
        translated = translator.run()
    finally:
        translator.scratch.close()
    report = TranslationReport(database, snapshot.backend, tuple(translator.decisions))
    if strict and report.warnings:
        items = "; ".join(d.line() for d in report.warnings)
        raise TranslationError(f"strict translation of {database} ({snapshot.backend} \u2192 sqlite) refuses "
                               f"{len(report.warnings)} item(s): {items}; nothing written")
    return translated, report


class _Translator:
    def __init__(self, snapshot: Snapshot, database: str):
        self.src = snapshot
        self.database = database
        self.decisions: list[Decision] = []
        self.types = Types(snapshot)
        self.names, self.index_names = _bare_names(snapshot)
        relations: list[Table | View] = [*snapshot.tables.values(), *snapshot.views.values()]
        moved = {(o.schema, o.name): o.name for o in relations if o.schema}
        self.expressions = Expressions(snapshot, self.types, moved)
        self.scratch = _Scratch()

    def note(self, table: str | None, column: str | None, kind: str, source: str, result: str, action: str,
             reason: str = "") -> None:
        self.decisions.append(Decision(self.database, table, column, kind, source, result, action, reason))

    def run(self) -> Snapshot:
        self.objects()
        column_types = {key: [(c, self.types.translate(c.type)) for c in t.columns] for key, t in self.src.tables.items()}
        for key, typed in column_types.items():
            self.scratch.add_table(self.names[key], [(c.name, r.sqlite) for c, r in typed])
        tables = [self.table(t, column_types[key]) for key, t in self.src.tables.items()]
        draft = Snapshot.of("sqlite", tables, self.views())
        translated = read_back(draft)
        self.check_nothing_lost(translated)
        return translated

    def check_nothing_lost(self, translated: Snapshot) -> None:
        """The promise of translation, checked on what SQLite reports: every table and column is there."""
        for key, t in self.src.tables.items():
            got = translated.tables.get(self.names[key])
            missing = [c.name for c in t.columns if got is None or got.column(c.name) is None]
            if missing:
                raise TranslationError(f"translation of {key} lost column(s) {', '.join(missing)}")

    # -- objects outside tables -------------------------------------------------------------------

    def objects(self) -> None:
        relations: list[tuple[str, Table | View]] = [*self.src.tables.items(), *self.src.views.items()]
        for key, rel in relations:
            if rel.schema:
                self.note(rel.name, None, "schema", key, rel.name, "converted", "SQLite has one schema: the bare name")
        for key, values in self.src.enums.items():
            self.note(key, None, "enum", f"{key} ({', '.join(values)})", "TEXT + CHECK (… IN (…))", "converted",
                      "each column of the enum type keeps its values in a CHECK")
        for key, domain in self.src.domains.items():
            self.note(key, None, "domain", f"{key} ({domain.get('type')})", "base type + CHECK", "converted",
                      "each column of the domain gets the base type and the domain's translatable checks")
        for key in self.src.sequences:
            self.note(key, None, "sequence", key, NOTHING, "dropped",
                      "SQLite has no sequences: nextval() defaults are dropped too")
        for key, obj in self.src.objects.items():
            if obj.kind == "schema":
                continue
            procedural = obj.kind in PROCEDURAL
            self.note(obj.options.get("table"), None, obj.kind, key, NOTHING, "dropped",
                      "procedural code: written for the production engine, it does not run on SQLite" if procedural
                      else f"SQLite has no {obj.kind}s")

    # -- tables -----------------------------------------------------------------------------------

    def table(self, t: Table, typed: list[tuple[Column, TypeResult]]) -> Table:
        name = self.names[t.key]
        storage: list[str] = [f"{k}={_short(v)}" for k, v in t.options.items()]
        storage += [f"comment {t.comment!r}"] if t.comment else []
        checks: list[Check] = []
        columns = [self.column(t, name, c, result, checks, storage) for c, result in typed]
        for ck in t.checks:
            if ck.options.get("type") == "exclude":
                self.note(name, None, "exclusion constraint", _constraint(ck), NOTHING, "dropped",
                          "SQLite has no exclusion constraints")
                continue
            if ck.options.get("not_enforced"):
                self.note(name, None, "check", _constraint(ck), NOTHING, "dropped", "not enforced on the source")
                continue
            storage += [f"check {ck.name}: {k}={v}" for k, v in ck.options.items()]
            text = self.expression(name, None, "check", _constraint(ck), ck.expression,
                                   lambda e: self.scratch.check(name, e))
            if text is not None:
                checks.append(Check(ck.name, text))
        pk = t.primary_key
        storage += [f"primary key: {k}={v}" for k, v in (pk.options if pk else {}).items()]
        for u in t.uniques:
            self.nulls_distinct(name, f"UNIQUE {u.name or ''} ({', '.join(u.columns)})", u.options)
            storage += [f"unique {u.name or ', '.join(u.columns)}: {k}={v}" for k, v in u.options.items()]
        foreign_keys = [self.foreign_key(fk, storage) for fk in t.foreign_keys]
        indexes = [ix for ix in (self.index(name, ix, storage, self.index_names.get((t.key, ix.name or ""))) for ix in t.indexes)
                   if ix is not None]
        if storage:
            self.note(name, None, "table option", "; ".join(storage), NOTHING, "converted", STORAGE_REASON)
        return Table(
            name=name, columns=tuple(columns), primary_key=replace(pk, options={}) if pk else None,
            foreign_keys=tuple(foreign_keys), uniques=tuple(replace(u, options={}) for u in t.uniques),
            checks=tuple(checks), indexes=tuple(indexes),
        )

    def column(self, t: Table, name: str, c: Column, typed: TypeResult, checks: list[Check], storage: list[str]) -> Column:
        self.note(name, c.name, "type", c.type, typed.sqlite, typed.action, typed.reason)
        if typed.values is not None:
            checks.append(Check(None, f"{quote(c.name)} IN ({', '.join(literal(v) for v in typed.values)})"))
        for expr in typed.checks:  # a domain's: VALUE is the column
            toks = [Token("qid", quote(c.name)) if tok.upper == "VALUE" else tok for tok in self.expressions.tokens(expr)]
            text = self.expression(name, c.name, "check", f"DOMAIN {c.type}: CHECK ({expr})", join(toks),
                                   lambda e: self.scratch.check(name, e), rewritten=f"VALUE \u2192 {quote(c.name)}")
            if text is not None:
                checks.append(Check(None, text))
        default = c.default
        if self.generates_values(t, c):
            pk = t.primary_key.columns if t.primary_key else ()
            source = _generator(c)
            if pk == (c.name,) and typed.sqlite == "INTEGER":
                self.note(name, c.name, "identity", source, "INTEGER PRIMARY KEY", "converted",
                          "SQLite numbers the rows of a single INTEGER PRIMARY KEY itself")
            else:
                self.note(name, c.name, "identity", source, NOTHING, "dropped",
                          "SQLite generates values only for a single INTEGER PRIMARY KEY")
            if default is not None and "nextval" in default.lower():
                default = None
        if default is not None:
            default = self.expression(name, c.name, "default", c.default or "", default,
                                      lambda e: self.scratch.default(typed.sqlite, e))
        computed, nullable = c.computed, c.nullable and not typed.not_null
        if computed is not None:
            stored = computed.stored
            text = self.expression(name, c.name, "generated", computed.expression, computed.expression,
                                   lambda e: self.scratch.generated(name, c.name, typed.sqlite, e, stored),
                                   failed="fallback", failed_result="plain nullable column")
            computed = None if text is None else replace(computed, expression=text)
            nullable = nullable or computed is None  # inserts never gave it a value: as a plain column it may be NULL
        collation = self.collation(name, c)
        for key, value in c.options.items():
            if key in ("serial", "auto_increment"):
                continue
            if key == "on_update":
                self.note(name, c.name, "on update", f"ON UPDATE {value}", NOTHING, "dropped",
                          "SQLite has no ON UPDATE for columns")
            elif key == "ephemeral":
                self.note(name, c.name, "column option", "EPHEMERAL", "stored column", "fallback",
                          "SQLite stores the column's values")
            else:
                storage.append(f"{c.name}: {key}={_short(value)}")
        storage += [f"{c.name}: comment {c.comment!r}"] if c.comment else []
        return Column(name=c.name, type=typed.sqlite, nullable=nullable, default=default,
                      computed=computed, collation=collation)

    @staticmethod
    def generates_values(t: Table, c: Column) -> bool:
        return bool(c.identity is not None or c.options.get("serial") or c.options.get("auto_increment")
                    or (c.default and "nextval(" in c.default.lower()))

    def collation(self, name: str, c: Column) -> str | None:
        if not c.collation:
            return None
        folded = c.collation.lower()
        if folded.endswith("_ci") or "_ci_" in folded or folded == "nocase":
            self.note(name, c.name, "collation", c.collation, "NOCASE", "converted",
                      "case-insensitive: NOCASE folds ASCII letters only")
            return "NOCASE"
        self.note(name, c.name, "collation", c.collation, "BINARY", "converted",
                  "SQLite compares bytes: the sort order may differ")
        return None

    def expression(self, table: str, column: str | None, kind: str, source: str, text: str,
                   validate: Callable[[str], str | None], failed: str = "dropped",
                   failed_result: str = NOTHING, rewritten: str = "") -> str | None:
        """``text`` translated and accepted by SQLite, or None (noted as ``failed``); ``rewritten``: how ``text``
        already differs from ``source``."""
        try:
            expr = self.expressions.translate(text)
        except Untranslatable as exc:
            self.note(table, column, kind, source, failed_result, failed, str(exc))
            return None
        error = validate(expr.text)
        if error:
            self.note(table, column, kind, source, failed_result, failed, f"SQLite rejects {expr.text}: {error}")
            return None
        same = one_line(expr.text) == one_line(text) and not rewritten
        self.note(table, column, kind, source, expr.text, "kept" if same else "converted",
                  "; ".join(filter(None, (rewritten, *expr.notes))))
        return expr.text

    def nulls_distinct(self, table: str, label: str, options: Mapping[str, Any]) -> None:
        if options.get("nulls_not_distinct"):  # unlike the other options, this one changes what is accepted
            self.note(table, None, "unique", f"{label} NULLS NOT DISTINCT", "NULLS DISTINCT", "fallback",
                      "SQLite treats NULLs as distinct: several rows may hold NULL")

    def foreign_key(self, fk: ForeignKey, storage: list[str]) -> ForeignKey:
        label = fk.name or ", ".join(fk.columns)
        extras = {"match": fk.match, "deferrable": fk.deferrable, "initially": fk.initially, **fk.options}
        storage += [f"foreign key {label}: {k}={v}" for k, v in extras.items() if v is not None]
        ref = self.names.get(fk.ref_table) or fk.ref_table.rsplit(".", 1)[-1]
        return ForeignKey(fk.name, fk.columns, ref, fk.ref_columns, on_delete=fk.on_delete, on_update=fk.on_update)

    def index(self, table: str, ix: Index, storage: list[str], renamed: str | None = None) -> Index | None:
        """``ix`` as SQLite has it, or None (dropped); ``renamed``: its SQLite name when its own is taken."""
        label = f"{ix.name} ({', '.join(e.label for e in ix.elements)})" + (f" WHERE {ix.where}" if ix.where else "")
        if _SKIP_INDEX in ix.options:
            storage.append(f"skip index {label}: {_options_text(ix.options)}")
            return None
        if renamed is not None:
            self.note(table, None, "index name", ix.name or "", renamed, "converted",
                      "SQLite has one namespace for tables, views and indexes: another table or view uses the name too")
            ix = replace(ix, name=renamed)
        self.nulls_distinct(table, label, ix.options)
        storage += [f"index {ix.name}: {_options_text(ix.options)}"] if ix.options else []
        elements: list[IndexElement] = []
        notes: list[str] = []
        try:
            for e in ix.elements:
                if e.opclass or e.nulls:
                    storage.append(f"index {ix.name}: {e.label} {' '.join(filter(None, (e.opclass, e.nulls and 'nulls ' + e.nulls)))}")
                collation = "NOCASE" if e.collation and e.collation.lower().endswith("_ci") else None
                if e.expression is None:
                    elements.append(IndexElement(column=e.column, descending=e.descending, collation=collation))
                    continue
                expr = self.expressions.translate(e.expression)
                notes += expr.notes
                elements.append(IndexElement(expression=expr.text, descending=e.descending, collation=collation))
            where = self.expressions.translate(ix.where) if ix.where else None
        except Untranslatable as exc:
            self.note(table, None, "index", label, NOTHING, "dropped", str(exc))
            return None
        notes += where.notes if where else []
        new = Index(ix.name, tuple(elements), ix.unique, where.text if where else None)
        keys = ", ".join(quote(e.column_name) if e.expression is None else e.expression for e in elements)
        error = self.scratch.index(table, keys, new.where)
        if error:
            self.note(table, None, "index", label, NOTHING, "dropped", f"SQLite rejects it: {error}")
            return None
        result = f"{ix.name} ({', '.join(e.label for e in elements)})" + (f" WHERE {new.where}" if new.where else "")
        self.note(table, None, "index", label, result, "converted" if result != label else "kept",
                  "; ".join(dict.fromkeys(notes)))
        return new

    # -- views ------------------------------------------------------------------------------------

    def views(self) -> list[View]:
        """Views SQLite accepts, tried until none more succeeds (a view may read another)."""
        pending: dict[str, tuple[View, str]] = {}
        kept: list[View] = []
        for key, v in self.src.views.items():
            name = self.names[key]
            if v.options or v.comment or v.materialized:
                facts = [f"{k}={_short(val)}" for k, val in v.options.items()]
                facts += [f"comment {v.comment!r}"] if v.comment else []
                facts += ["materialized: becomes a plain view, computed when read"] if v.materialized else []
                self.note(name, None, "view option", "; ".join(facts), NOTHING, "converted", STORAGE_REASON)
            try:
                expr = self.expressions.translate(v.definition)
            except Untranslatable as exc:
                self.note(name, None, "view", v.definition, NOTHING, "dropped", str(exc))
                continue
            pending[name] = (v, expr.text)
        errors: dict[str, str] = {}
        progress = True
        while pending and progress:
            progress = False
            for name, (v, text) in list(pending.items()):
                error = self.scratch.view(name, text)
                if error:
                    errors[name] = error
                    continue
                progress = True
                del pending[name]
                same = one_line(text) == one_line(v.definition)
                self.note(name, None, "view", v.definition, text, "kept" if same else "converted",
                          "; ".join(self.expressions.translate(v.definition).notes))
                kept.append(View(name=name, definition=text))
        for name, (v, text) in pending.items():
            self.note(name, None, "view", v.definition, NOTHING, "dropped", f"SQLite rejects {text}: {errors[name]}")
        return kept


def _bare_names(snapshot: Snapshot) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Snapshot key → SQLite name, and (table key, index) → the SQLite name of each index that must yield its name.

    SQLite has one namespace for tables, views and indexes. Two tables or views it would name alike
    (case-insensitively) raise. An index whose name another table's index or a table or view also has (MySQL and
    MariaDB name indexes per table) becomes ``<table>_<index>`` (``_2``, ``_3``… while that is taken too): every
    holder of a shared name is renamed, so the result does not depend on which table came first."""
    holders: dict[str, str] = {}
    names: dict[str, str] = {}

    def claim(name: str, holder: str) -> None:
        other = holders.setdefault(name.lower(), holder)
        if other != holder:
            raise TranslationError(f"SQLite has one namespace for tables, views and indexes: {other} and {holder} "
                                   f"would both be named {name!r}")

    for kind, objects in (("table", snapshot.tables), ("view", snapshot.views)):
        for key, obj in objects.items():
            claim(obj.name, f"{kind} {key}")
            names[key] = obj.name
    for key, t in snapshot.tables.items():
        seen: dict[str, str] = {}
        for c in t.columns:
            other = seen.setdefault(c.name.lower(), c.name)
            if other != c.name:
                raise TranslationError(f"SQLite column names ignore case: {key}.{other} and {key}.{c.name} would collide")
    indexes = [(key, ix.name) for key, t in snapshot.tables.items() for ix in t.indexes
               if ix.name and _SKIP_INDEX not in ix.options]
    tables_of: dict[str, set[str]] = defaultdict(set)
    for key, name in indexes:
        tables_of[name.lower()].add(key)
    shared = {(key, name) for key, name in indexes if len(tables_of[name.lower()]) > 1 or name.lower() in holders}
    taken = set(holders) | {name.lower() for key, name in indexes if (key, name) not in shared}
    renamed: dict[tuple[str, str], str] = {}
    for key, name in sorted(shared):
        base = f"{names[key]}_{name}"
        new, n = base, 1
        while new.lower() in taken:
            n += 1
            new = f"{base}_{n}"
        taken.add(new.lower())
        renamed[(key, name)] = new
    return names, renamed


def _constraint(ck: Check) -> str:
    return (f"CONSTRAINT {ck.name} " if ck.name else "") + f"CHECK ({ck.expression})"


def _generator(c: Column) -> str:
    if c.identity is not None:
        return f"GENERATED {'ALWAYS' if c.identity.always else 'BY DEFAULT'} AS IDENTITY"
    if c.options.get("serial"):
        return f"{c.type} serial"
    if c.options.get("auto_increment"):
        return "AUTO_INCREMENT"
    return f"DEFAULT {c.default}"


def _short(value: Any) -> str:
    return _options_text(value) if isinstance(value, Mapping) else str(value)


def _options_text(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in sorted(options.items()))
