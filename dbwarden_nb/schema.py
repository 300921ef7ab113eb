"""Snapshots: the canonical, backend-neutral picture of a schema.

Every source of schema (SQLAlchemy models, a live database, a stored JSON file) becomes these frozen
dataclasses. Two snapshots are equal exactly when the diff between them is empty, so equality ignores
what never produces an operation: the server version and the order of columns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from json.encoder import encode_basestring as _json_string  # ensure_ascii=False's string encoder (C)
from typing import Any

from .errors import SnapshotError
from .session import view

FORMAT = "dbwarden-snapshot/1"

Options = Mapping[str, Any]


def _options(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(sorted(value.items())) if value else {}


@dataclass(frozen=True)
class Identity:
    always: bool = False
    start: int | None = None
    increment: int | None = None
    minvalue: int | None = None
    maxvalue: int | None = None
    cache: int | None = None
    cycle: bool | None = None

    def to_json(self) -> dict[str, Any]:
        doc = {"always": self.always, "start": self.start, "increment": self.increment}
        doc.update({f.name: getattr(self, f.name) for f in fields(self)[3:] if getattr(self, f.name) is not None})
        return doc


@dataclass(frozen=True)
class Computed:
    expression: str
    stored: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"expression": self.expression, "stored": self.stored}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: Identity | None = None
    computed: Computed | None = None
    collation: str | None = None
    comment: str | None = None
    options: Options = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "default": self.default,
            "identity": self.identity.to_json() if self.identity else None,
            "computed": self.computed.to_json() if self.computed else None,
            "collation": self.collation,
            "comment": self.comment,
            "options": _options(self.options),
        }

    def line(self) -> str:
        """``name type NOT NULL DEFAULT … GENERATED (…) IDENTITY``: the column in text listings."""
        extra = "" if self.nullable else " NOT NULL"
        extra += f" DEFAULT {self.default}" if self.default is not None else ""
        extra += f" GENERATED ({self.computed.expression})" if self.computed else ""
        extra += " IDENTITY" if self.identity else ""
        return f"{self.name} {self.type}{extra}"


@dataclass(frozen=True)
class PrimaryKey:
    name: str | None
    columns: tuple[str, ...]
    options: Options = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "columns": list(self.columns)}
        if self.options:  # rare (a comment): left out when empty, so most snapshots stay as they were
            doc["options"] = _options(self.options)
        return doc


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str  # snapshot key of the referenced table
    ref_columns: tuple[str, ...]
    on_delete: str | None = None  # canonical upper-case action; None means NO ACTION
    on_update: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None
    options: Options = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "ref_table": self.ref_table,
            "ref_columns": list(self.ref_columns),
            "on_delete": self.on_delete,
            "on_update": self.on_update,
            "deferrable": self.deferrable,
            "initially": self.initially,
            "match": self.match,
            "options": _options(self.options),
        }


@dataclass(frozen=True)
class Unique:
    name: str | None
    columns: tuple[str, ...]
    options: Options = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "columns": list(self.columns), "options": _options(self.options)}


@dataclass(frozen=True)
class Check:
    name: str | None
    expression: str
    options: Options = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "expression": self.expression, "options": _options(self.options)}


@dataclass(frozen=True)
class IndexElement:
    """One key of an index: a column (``column``) or an expression (``expression``)."""

    column: str | None = None
    expression: str | None = None
    descending: bool = False
    nulls: str | None = None  # "first" / "last" when not the backend's default
    opclass: str | None = None
    collation: str | None = None

    @property
    def column_name(self) -> str:
        """The column of a key that names one (``expression`` None)."""
        assert self.column is not None, "an index key is a column or an expression"
        return self.column

    @property
    def is_plain(self) -> bool:
        return self.expression is None and not self.descending and not (self.nulls or self.opclass or self.collation)

    def to_json(self) -> Any:
        if self.is_plain:
            return self.column
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, False)}

    @classmethod
    def from_json(cls, doc: Any) -> IndexElement:
        if isinstance(doc, str):
            return cls(column=doc)
        return cls(**doc)

    @property
    def label(self) -> str:
        text = self.column_name if self.expression is None else f"({self.expression})"
        return text + (" DESC" if self.descending else "")


@dataclass(frozen=True)
class Index:
    name: str | None
    elements: tuple[IndexElement, ...]
    unique: bool = False
    where: str | None = None
    options: Options = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(e.column for e in self.elements if e.column is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": [e.to_json() for e in self.elements],
            "unique": self.unique,
            "where": self.where,
            "options": _options(self.options),
        }


def _by_name(items: Iterable[Any]) -> tuple[Any, ...]:
    """Sort named objects; unnamed ones (matched by structure) by their canonical JSON."""
    items = tuple(items)
    names = [o.name or "" for o in items]
    if len(set(names)) == len(names):  # the usual case: the name alone orders them, no JSON needed
        return tuple(sorted(items, key=lambda o: o.name or ""))
    return tuple(sorted(items, key=lambda o: (o.name or "", json.dumps(o.to_json(), sort_keys=True))))


@dataclass(frozen=True, eq=False)
class Table:
    name: str
    schema: str | None = None
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    indexes: tuple[Index, ...] = ()
    comment: str | None = None
    options: Options = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("foreign_keys", "uniques", "checks", "indexes"):
            object.__setattr__(self, name, _by_name(getattr(self, name)))
        object.__setattr__(self, "columns", tuple(self.columns))

    @property
    def key(self) -> str:
        return table_key(self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def replace(self, **changes: Any) -> Table:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "columns": [c.to_json() for c in self.columns],
            "primary_key": self.primary_key.to_json() if self.primary_key else None,
            "foreign_keys": [f.to_json() for f in self.foreign_keys],
            "uniques": [u.to_json() for u in self.uniques],
            "checks": [c.to_json() for c in self.checks],
            "indexes": [i.to_json() for i in self.indexes],
            "comment": self.comment,
            "options": _options(self.options),
        }

    # -- display: views the notebook layer registers (session.view) ---------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return view("mimebundle", self)

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per column."""
        return view("frame", self)

    def erd(self) -> Any:
        """A Mermaid entity-relationship diagram of this table and the tables it references."""
        return view("erd", self)

    def _comparable(self) -> dict[str, Any]:
        doc = self.to_json()
        doc["columns"] = sorted(doc["columns"], key=lambda c: c["name"])  # column order never makes an operation
        return doc

    @cached_property  # tables are immutable: computed once, for equality and the snapshot's checksum
    def _canonical(self) -> str:
        return _canonical_json(self._comparable())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return self is other or self._canonical == other._canonical

    def __hash__(self) -> int:
        return hash(self.key)


@dataclass(frozen=True)
class View:
    name: str
    definition: str
    schema: str | None = None
    materialized: bool = False
    comment: str | None = None
    options: Options = field(default_factory=dict)
    indexes: tuple[Index, ...] = ()  # a materialized view's

    def __post_init__(self) -> None:
        object.__setattr__(self, "indexes", _by_name(self.indexes))

    @property
    def key(self) -> str:
        return table_key(self.schema, self.name)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema": self.schema,
            "name": self.name,
            "definition": self.definition,
            "materialized": self.materialized,
            "comment": self.comment,
            "options": _options(self.options),
        }
        if self.indexes:  # left out when empty, so snapshots without them keep their checksums
            doc["indexes"] = [i.to_json() for i in self.indexes]
        return doc


def plural(kind: str, count: int) -> str:
    """``1 function``, ``15 triggers``, ``2 policies``: a count of objects of one kind."""
    if count == 1:
        return f"1 {kind}"
    word = kind[:-1] + "ies" if kind.endswith("y") and kind[-2:-1] not in "aeiou" else kind + ("es" if kind.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{count} {word}"


@dataclass(frozen=True)
class SchemaObject:
    """A schema object other than a table, view, enum, domain or sequence: a schema, a collation (and, per backend,
    what else it manages). ``definition`` is what follows ``CREATE <KIND> <name>``, as the server prints it."""

    kind: str
    name: str
    schema: str | None = None
    definition: str = ""
    options: Options = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``kind schema.name``; a routine's arguments follow (overloads share a name), a trigger's table too."""
        from .entities import ROUTINES, argument_list

        key = f"{self.kind} {table_key(self.schema, self.name)}"
        if "arguments" in self.options:
            key += f"({self.options['arguments']})"
        elif self.kind in ROUTINES:
            key += argument_list(self.definition)
        return key + (f" on {self.options['table']}" if "table" in self.options else "")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "schema": self.schema, "name": self.name, "definition": self.definition,
                "options": _options(self.options)}


def schemas_of(snap: Snapshot) -> set[str]:
    """Every schema other than the default one that ``snap`` holds: those of its objects and the empty ones."""
    keyed = [*snap.enums, *snap.domains, *snap.sequences]
    named: list[Table | View | SchemaObject] = [*snap.tables.values(), *snap.views.values(), *snap.objects.values()]
    found = {o.schema for o in named if o.schema}
    found |= {o.name for o in snap.objects.values() if o.kind == "schema"}
    return found | {k.partition(".")[0] for k in keyed if "." in k}


def with_empty_schemas(snap: Snapshot, schemas: Iterable[str]) -> Snapshot:
    """``snap`` with a ``schema`` object for each of ``schemas`` that holds nothing else of it (a schema that holds
    a table is implied by the table), and without those that do: one spelling for both sides of a diff."""
    bare = snap.replace(objects={k: o for k, o in snap.objects.items() if o.kind != "schema"})
    implied = schemas_of(bare)
    empty = {f"schema {s}": SchemaObject("schema", s) for s in schemas if s not in implied}
    return bare.replace(objects={**bare.objects, **empty}) if empty or len(bare.objects) != len(snap.objects) else snap


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Unusual(Exception):
    """A value ``_indented_json`` leaves to the standard library (a key that is not a string, NaN, a subclass)."""


def _indented_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)``, the same text about twice as fast: the
    standard library's encoder is pure Python when it indents (0.6 s of a 2,000-table snapshot's file form)."""
    out: list[str] = []
    try:
        _write_json(value, "", out)
    except (_Unusual, RecursionError):
        return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)
    return "".join(out)


def _json_scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if value is None or value is True or value is False:
        return "null" if value is None else "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and -_INF < value < _INF:
        return float.__repr__(value)
    raise _Unusual


def _write_json(value: Any, pad: str, out: list[str]) -> None:
    kind = type(value)
    if kind is not dict and kind is not list and kind is not tuple:
        out.append(_json_scalar(value))
        return
    if not value:
        out.append("{}" if kind is dict else "[]")
        return
    inner = pad + "  "
    sep = ",\n" + inner
    if kind is dict:
        if any(type(k) is not str for k in value):
            raise _Unusual
        head = "{\n" + inner
        for key in sorted(value):
            item = value[key]
            if type(item) in _CONTAINERS:
                out.append(head + _json_string(key) + ": ")
                _write_json(item, inner, out)
            else:
                out.append(head + _json_string(key) + ": " + _json_scalar(item))
            head = sep
        out.append("\n" + pad + "}")
        return
    if all(type(item) is str for item in value):  # column lists: one join
        out.append("[\n" + inner + sep.join(map(_json_string, value)) + "\n" + pad + "]")
        return
    head = "[\n" + inner
    for item in value:
        out.append(head)
        _write_json(item, inner, out)
        head = sep
    out.append("\n" + pad + "]")


_CONTAINERS = (dict, list, tuple)
_INF = float("inf")


def table_key(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def split_key(key: str, tables: Mapping[str, Any] | None = None) -> tuple[str | None, str]:
    """Inverse of :func:`table_key`; a name containing dots is recognised through the owning table."""
    if tables is not None and key in tables:
        obj = tables[key]
        return getattr(obj, "schema", None), obj.name
    schema, dot, name = key.partition(".")
    return (schema, name) if dot else (None, key)


@dataclass(frozen=True, eq=False)
class Snapshot:
    backend: str
    tables: Mapping[str, Table] = field(default_factory=dict)
    views: Mapping[str, View] = field(default_factory=dict)
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sequences: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    domains: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    objects: Mapping[str, SchemaObject] = field(default_factory=dict)  # by SchemaObject.key
    server_version: str | None = None
    # What the database holds that dbwarden does not manage (functions, triggers, …): kind → names. Listed, so
    # that nobody believes a schema was carried whole when it was not; like server_version, not part of equality.
    unmanaged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", dict(sorted(self.tables.items())))
        object.__setattr__(self, "views", dict(sorted(self.views.items())))
        object.__setattr__(self, "enums", {k: tuple(v) for k, v in sorted(self.enums.items())})
        object.__setattr__(self, "sequences", dict(sorted(self.sequences.items())))
        object.__setattr__(self, "domains", dict(sorted(self.domains.items())))
        object.__setattr__(self, "objects", dict(sorted(self.objects.items())))
        object.__setattr__(self, "unmanaged", {k: tuple(sorted(v)) for k, v in sorted(self.unmanaged.items()) if v})

    @classmethod
    def of(cls, backend: str, tables: Iterable[Table] = (), views: Iterable[View] = (),
           objects: Iterable[SchemaObject] = (), **kw: Any) -> Snapshot:
        return cls(backend, {t.key: t for t in tables}, {v.key: v for v in views}, objects={o.key: o for o in objects}, **kw)

    def replace(self, **changes: Any) -> Snapshot:
        return replace(self, **changes)

    # -- canonical JSON ---------------------------------------------------------------------------

    def _body(self, with_tables: bool = True) -> dict[str, Any]:
        body = {
            "format": FORMAT,
            "backend": self.backend,
            **({"tables": {k: t.to_json() for k, t in self.tables.items()}} if with_tables else {}),
            "views": {k: v.to_json() for k, v in self.views.items()},
            "enums": {k: list(v) for k, v in self.enums.items()},
            "sequences": {k: _options(v) for k, v in self.sequences.items()},
            "domains": {k: _options(v) for k, v in self.domains.items()},
        }
        if self.objects:  # left out when empty, so snapshots without them keep their checksums
            body["objects"] = {k: o.to_json() for k, o in self.objects.items()}
        return body

    @cached_property  # snapshots are immutable; equality and display read this often
    def checksum(self) -> str:
        # the canonical JSON of the body, assembled from each table's own (cached) canonical JSON, in which
        # column order is not part of identity; the same text as json.dumps(body, sort_keys=True, …)
        body = self._body(with_tables=False)
        tables = ",".join(f"{_canonical_json(k)}:{t._canonical}" for k, t in self.tables.items())
        parts = [f"{_canonical_json(k)}:{'{' + tables + '}' if k == 'tables' else _canonical_json(body[k])}"
                 for k in sorted([*body, "tables"])]
        canonical = "{" + ",".join(parts) + "}"
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        doc = self._body()
        doc["server_version"] = self.server_version
        if self.unmanaged:
            doc["unmanaged"] = {k: list(v) for k, v in self.unmanaged.items()}
        doc["checksum"] = self.checksum
        return doc

    def to_json(self, indent: int | None = 2) -> str:
        return self._json if indent == 2 else self._dumps(indent)

    @cached_property  # the file form, written up to three times per run (normalization cache, model cache, snapshot)
    def _json(self) -> str:
        return self._dumps(2)

    def _dumps(self, indent: int | None) -> str:
        if indent == 2:
            return _indented_json(self.to_dict()) + "\n"
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, ensure_ascii=False) + ("\n" if indent else "")

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "snapshot") -> Snapshot:
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
            raise SnapshotError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_dict(doc, source=source)

    @classmethod
    def from_dict(cls, doc: Any, *, source: str = "snapshot") -> Snapshot:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise SnapshotError(f"{source}: not a {FORMAT} document")
        try:
            snap = cls(
                backend=str(doc["backend"]),
                tables={k: _table_from_json(k, t) for k, t in doc["tables"].items()},
                views={k: _view_from_json(k, v) for k, v in doc.get("views", {}).items()},
                enums={k: tuple(v) for k, v in doc.get("enums", {}).items()},
                sequences=dict(doc.get("sequences", {})),
                domains=dict(doc.get("domains", {})),
                objects={o.key: o for o in (_object_from_json(d) for d in dict(doc.get("objects") or {}).values())},
                server_version=doc.get("server_version"),
                unmanaged={str(k): tuple(map(str, _tuple(v))) for k, v in dict(doc.get("unmanaged") or {}).items()},
            )
            snap.checksum  # noqa: B018  computed here: it sorts columns by name, which fails on odd names
        except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
            detail = " ".join(str(exc).split())  # a key of the document may hold a newline
            raise SnapshotError(f"{source}: malformed snapshot ({type(exc).__name__}: {detail})") from None
        stored = doc.get("checksum")
        if stored is not None and stored != snap.checksum:
            raise SnapshotError(f"{source}: checksum mismatch (stored {stored}, content {snap.checksum})")
        return snap

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return self.checksum == other.checksum

    def __hash__(self) -> int:
        return hash(self.checksum)

    def __repr__(self) -> str:
        return f"<Snapshot {self.backend}: {len(self.tables)} tables, {len(self.views)} views>"

    def to_text(self) -> str:
        """A deterministic listing: tables with their columns, keys and indexes."""
        lines = [f"{self.backend} snapshot: {len(self.tables)} table(s), {len(self.views)} view(s)"]
        for key, t in self.tables.items():
            lines.append(f"  {key}" + (f"  -- {t.comment}" if t.comment else ""))
            lines += [f"    {c.line()}" for c in t.columns]
            if t.primary_key:
                lines.append(f"    primary key ({', '.join(t.primary_key.columns)})")
            for u in t.uniques:
                lines.append(f"    unique {u.name or ''}({', '.join(u.columns)})")
            for fk in t.foreign_keys:
                lines.append(f"    foreign key ({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)})")
            for ck in t.checks:
                lines.append(f"    check {ck.name or ''}({ck.expression})")
            for ix in t.indexes:
                kind = "unique index" if ix.unique else "index"
                lines.append(f"    {kind} {ix.name or ''}({', '.join(e.label for e in ix.elements)})")
        for key in self.views:
            lines.append(f"  view {key}")
        lines += [f"  {key}" for key in self.objects]
        if self.unmanaged:
            lines.append(self.unmanaged_line())
        return "\n".join(lines)

    def unmanaged_line(self) -> str:
        """``not managed: 8 functions, 15 triggers (…)``, or an empty string when everything is managed."""
        if not self.unmanaged:
            return ""
        counts = ", ".join(plural(kind, len(names)) for kind, names in self.unmanaged.items())
        return f"not managed: {counts} (dbwarden does not create or drop them)"

    # -- display: views the notebook layer registers (session.view) ---------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return view("mimebundle", self)

    def to_frame(self, by: str = "column") -> Any:
        """A pandas DataFrame: one row per column, or per table and view with ``by="table"``."""
        return view("frame", self, by=by)

    def erd(self) -> Any:
        """A Mermaid entity-relationship diagram: tables, columns and foreign keys."""
        return view("erd", self)


def _tuple(values: Any) -> tuple[Any, ...]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"expected a list, got {type(values).__name__}")
    return tuple(values)


def _table_from_json(key: str, doc: dict[str, Any]) -> Table:
    schema, name = split_key(key)
    if "name" in doc:
        schema, name = doc.get("schema"), doc["name"]
    pk = doc.get("primary_key")
    return Table(
        name=name,
        schema=schema,
        columns=tuple(_column_from_json(c) for c in _tuple(doc["columns"])),
        primary_key=PrimaryKey(pk["name"], _tuple(pk["columns"]), dict(pk.get("options", {}))) if pk else None,
        foreign_keys=tuple(
            ForeignKey(**{**f, "columns": _tuple(f["columns"]), "ref_columns": _tuple(f["ref_columns"])})
            for f in _tuple(doc.get("foreign_keys", []))
        ),
        uniques=tuple(Unique(u["name"], _tuple(u["columns"]), u.get("options", {})) for u in _tuple(doc.get("uniques", []))),
        checks=tuple(Check(c["name"], c["expression"], c.get("options", {})) for c in _tuple(doc.get("checks", []))),
        indexes=_indexes_from_json(doc),
        comment=doc.get("comment"),
        options=dict(doc.get("options", {})),
    )


def _indexes_from_json(doc: dict[str, Any]) -> tuple[Index, ...]:
    return tuple(
        Index(i["name"], tuple(IndexElement.from_json(e) for e in _tuple(i["columns"])), bool(i.get("unique", False)),
              i.get("where"), i.get("options", {}))
        for i in _tuple(doc.get("indexes", []))
    )


def _column_from_json(doc: dict[str, Any]) -> Column:
    identity = doc.get("identity")
    computed = doc.get("computed")
    return Column(
        name=doc["name"],
        type=doc["type"],
        nullable=bool(doc.get("nullable", True)),
        default=doc.get("default"),
        identity=Identity(**identity) if identity else None,
        computed=Computed(**computed) if computed else None,
        collation=doc.get("collation"),
        comment=doc.get("comment"),
        options=dict(doc.get("options", {})),
    )


def _object_from_json(doc: dict[str, Any]) -> SchemaObject:
    return SchemaObject(str(doc["kind"]), str(doc["name"]), doc.get("schema"), str(doc.get("definition", "")),
                        dict(doc.get("options") or {}))


def _view_from_json(key: str, doc: dict[str, Any]) -> View:
    schema, name = split_key(key)
    if "name" in doc:
        schema, name = doc.get("schema"), doc["name"]
    return View(
        name=name,
        schema=schema,
        definition=doc["definition"],
        materialized=bool(doc.get("materialized", False)),
        comment=doc.get("comment"),
        options=dict(doc.get("options", {})),
        indexes=_indexes_from_json(doc),
    )
