"""Snapshot → SQLAlchemy model source (``generate-models``).

The output is ordinary SQLAlchemy 2 code: declarative classes for tables with a primary key, ``Table``
objects for the rest, dialect keyword arguments for backend options, and ``info={"dbwarden": …}`` only
for what SQLAlchemy cannot say. It is byte-stable (sorted tables, constraints and imports) and
re-extracts to exactly the snapshot it came from: ``extract(codegen(S)) == S``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from ..schema import Column, Index, Snapshot, Table, View

if TYPE_CHECKING:
    from ..backends.base import Backend

RAW_TYPE = '''

class RawType(sa.types.UserDefinedType):
    """A column type spelled exactly as the database declares it (no SQLAlchemy type spells it so)."""

    cache_ok = True

    def __init__(self, spec: str, collation: str | None = None) -> None:
        self.spec = spec
        self.collation = collation

    def get_col_spec(self, **kw: object) -> str:
        return self.spec
'''

RESERVED_ATTRIBUTES = {"metadata", "registry", "query", "type_annotation_map"}



@dataclass
class Imports:
    """``from module import name`` lines, grouped and sorted so the output is byte-stable."""

    names: dict[str, set[str]] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)

    def add(self, module: str, name: str | None = None) -> None:
        if name is None:
            self.modules.add(module)
        else:
            self.names.setdefault(module, set()).add(name)

    def render(self) -> str:
        stdlib = {"datetime", "decimal", "uuid", "typing", "__future__"}
        groups: list[list[str]] = [[], [], []]
        for module in sorted(self.modules):
            groups[1 if module.split(".")[0] in stdlib else 2].append(f"import {module}" if module != "sqlalchemy" else "import sqlalchemy as sa")
        for module, names in sorted(self.names.items()):
            line = f"from {module} import {', '.join(sorted(names))}"
            groups[0 if module == "__future__" else 1 if module.split(".")[0] in stdlib else 2].append(line)
        return "\n\n".join("\n".join(sorted(g, key=lambda l: (l.startswith("from"), l))) for g in groups if g)


def identifier(name: str, taken: set[str], reserved: Iterable[str] = ()) -> str:
    """A valid, unused Python identifier for ``name`` (one helper for every name the code needs)."""
    base = re.sub(r"\W", "_", name, flags=re.ASCII)
    if not base or base[0].isdigit():
        base = "_" + base
    if keyword.iskeyword(base) or base in reserved:
        base += "_"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def class_name(table: str, taken: set[str]) -> str:
    parts = [p for p in re.split(r"[^0-9a-zA-Z]+", table) if p]
    return identifier("".join(p[:1].upper() + p[1:] for p in parts) or "Table", taken)


class CodeGenerator:
    def __init__(self, backend: Backend, snapshot: Snapshot):
        self.backend = backend
        self.snapshot = snapshot
        self.imports = Imports()
        self.needs_raw_type = False
        self.dialect = backend.dialect()

    # -- values -----------------------------------------------------------------------------------

    def type_code(self, spelled: str, collation: str | None) -> str:
        """A SQLAlchemy type expression that compiles to exactly ``spelled`` on this backend."""
        for code in self.backend.type_candidates(spelled):
            obj = eval(code, {"sa": _sa(), **self.backend.codegen_namespace()})  # candidates are our own literals
            if self.backend.canonical_type(obj.compile(dialect=self.dialect)) == spelled:
                if collation is not None:
                    if not hasattr(obj, "collation"):
                        break
                    code = code[:-1] + (", " if not code.endswith("()") else "") + f"collation={collation!r})"
                self._import_type(code)
                return code
        self.needs_raw_type = True
        return f"RawType({spelled!r}" + (f", collation={collation!r})" if collation else ")")

    def _import_type(self, code: str) -> None:
        self.imports.add("sqlalchemy")
        for module, name in self.backend.codegen_imports(code):
            self.imports.add(module, name)

    def column_args(self, col: Column, table: Table, with_name: bool) -> list[str]:
        args = [repr(col.name)] if with_name else []
        args.append(self.type_code(col.type, col.collation))
        if col.computed is not None:
            persisted = "" if col.computed.stored is None else f", persisted={col.computed.stored}"
            args.append(f"sa.Computed({col.computed.expression!r}{persisted})")
        if col.identity is not None:
            i = col.identity
            opts = [f"always={i.always}"] + [f"{k}={getattr(i, k)!r}" for k in ("start", "increment", "minvalue", "maxvalue", "cache", "cycle") if getattr(i, k) is not None]
            args.append(f"sa.Identity({', '.join(opts)})")
        pk = table.primary_key.columns if table.primary_key else ()
        if col.name in pk and self._inline_pk(table):
            args.append("primary_key=True")
            if col.nullable:
                args.append("nullable=True")
            if not self.backend.autoincrement_default(table, col):
                args.append("autoincrement=False")
        else:
            args.append(f"nullable={col.nullable}")
        if col.default is not None:
            args.append(f"server_default=sa.text({col.default!r})")
        if col.comment is not None:
            args.append(f"comment={col.comment!r}")
        info = self.backend.column_info(col)
        if info:
            args.append(f"info={{'dbwarden': {info!r}}}")
        return args

    def _inline_pk(self, table: Table) -> bool:
        pk = table.primary_key
        if pk is None or pk.name is not None:
            return False
        order = [c.name for c in table.columns if c.name in pk.columns]
        return order == list(pk.columns)

    def table_args(self, table: Table) -> list[str]:
        """Constraints, indexes and options, in a fixed order."""
        out = []
        pk = table.primary_key
        if pk is not None and not self._inline_pk(table):
            name = f", name={pk.name!r}" if pk.name else ""
            out.append(f"sa.PrimaryKeyConstraint({', '.join(map(repr, pk.columns))}{name})")
        for fk in table.foreign_keys:
            refs = [f"{fk.ref_table}.{c}" for c in fk.ref_columns]
            opts = "".join(f", {k}={v!r}" for k, v in (("name", fk.name), ("ondelete", fk.on_delete), ("onupdate", fk.on_update),
                                                      ("deferrable", fk.deferrable), ("initially", fk.initially), ("match", fk.match)) if v is not None)
            out.append(f"sa.ForeignKeyConstraint({list(fk.columns)!r}, {refs!r}{opts})")
        for u in table.uniques:
            name = f", name={u.name!r}" if u.name else ""
            out.append(f"sa.UniqueConstraint({', '.join(map(repr, u.columns))}{name})")
        for c in table.checks:
            name = f", name={c.name!r}" if c.name else ""
            out.append(f"sa.CheckConstraint({c.expression!r}{name})")
        for ix in table.indexes:
            out.append(self.index_code(ix))
        return out

    def index_code(self, ix: Index) -> str:
        elements = []
        for e in ix.elements:
            code = repr(e.column) if e.expression is None else f"sa.text({e.expression!r})"
            if e.descending:
                code = f"sa.desc(sa.column({e.column!r}))" if e.expression is None else f"sa.text({(e.expression + ' DESC')!r})"
            elements.append(code)
        opts = ", unique=True" if ix.unique else ""
        opts += "".join(f", {k}={v}" for k, v in self.backend.index_kwargs(ix).items())
        return f"sa.Index({ix.name!r}, {', '.join(elements)}{opts})"

    # -- tables -----------------------------------------------------------------------------------

    def render_class(self, table: Table, taken: set[str]) -> str:
        name = class_name(table.name, taken)
        lines = [f"class {name}(Base):", f"    __tablename__ = {table.name!r}"]
        args = self.table_args(table)
        kwargs = self.table_kwargs(table)
        if args or kwargs:
            kw = "{" + ", ".join(f"{k!r}: {v}" for k, v in kwargs.items()) + "}"
            items = args + ([kw] if kwargs else [])
            lines.append("    __table_args__ = (" + "".join(f"\n        {a}," for a in items) + "\n    )")
        lines.append("")
        attrs: set[str] = set()
        for col in table.columns:
            attr = identifier(col.name, attrs, RESERVED_ATTRIBUTES)
            args = self.column_args(col, table, with_name=attr != col.name)
            pytype = self.python_type(col)
            annotation = f"Optional[{pytype}]" if col.nullable else pytype
            if col.nullable:
                self.imports.add("typing", "Optional")
            lines.append(f"    {attr}: Mapped[{annotation}] = mapped_column({', '.join(args)})")
        return "\n".join(lines)

    def render_table(self, table: Table, taken: set[str]) -> str:
        var = identifier(f"t_{table.name}", taken)
        items = [repr(table.name), "Base.metadata"]
        items += [f"sa.Column({', '.join(self.column_args(c, table, with_name=True))})" for c in table.columns]
        items += self.table_args(table)
        items += [f"{k}={v}" for k, v in self.table_kwargs(table).items() if k.isidentifier()]
        return f"{var} = sa.Table(" + "".join(f"\n    {i}," for i in items) + "\n)"

    def table_kwargs(self, table: Table) -> dict[str, str]:
        kwargs = dict(self.backend.table_kwargs(table))
        if table.schema:
            kwargs["schema"] = repr(table.schema)
        if table.comment is not None:
            kwargs["comment"] = repr(table.comment)
        info = self.backend.table_info(table)
        if info:
            kwargs["info"] = repr({"dbwarden": info})
        return kwargs

    def render_view(self, view: View, taken: set[str]) -> str:
        var = identifier(f"v_{view.name}", taken)
        info: dict[str, Any] = {"view": view.definition}
        if view.materialized:
            info["materialized"] = True
        info.update(view.options)
        schema = f"\n    schema={view.schema!r}," if view.schema else ""
        comment = f"\n    comment={view.comment!r}," if view.comment is not None else ""
        return f"{var} = sa.Table(\n    {view.name!r},\n    Base.metadata,{schema}{comment}\n    info={{'dbwarden': {info!r}}},\n)"

    def python_type(self, col: Column) -> str:
        name = self.backend.python_type(col.type)
        module, _, short = name.rpartition(".")
        if module:
            self.imports.add(module)
        if name == "Any":
            self.imports.add("typing", "Any")
        return name

    # -- the module -------------------------------------------------------------------------------

    def body(self, key: str, taken: set[str]) -> str:
        if key in self.snapshot.views:
            return self.render_view(self.snapshot.views[key], taken)
        table = self.snapshot.tables[key]
        return self.render_class(table, taken) if table.primary_key else self.render_table(table, taken)

    def header(self) -> str:
        return f'"""SQLAlchemy models generated by dbwarden generate-models from a {self.backend.name} database."""'

    def generate(self, keys: Iterable[str]) -> str:
        """One module with every table and view of ``keys``."""
        taken = set(TAKEN)
        bodies = [self.body(k, taken) for k in sorted(keys)]
        self.imports.names.setdefault("sqlalchemy.orm", set()).update({"DeclarativeBase", "Mapped", "mapped_column"})
        parts = [self.header(), self._imports(self.imports)]
        if self.needs_raw_type:
            parts.append(RAW_TYPE.strip("\n"))
        parts.append(BASE_CLASS)
        return "\n\n\n".join(parts + bodies) + "\n"

    def generate_package(self, keys: Iterable[str]) -> dict[str, str]:
        """A package: ``base.py`` with Base, one module per table or view, ``__init__.py`` importing them all."""
        files: dict[str, str] = {}
        modules: set[str] = {"base", "__init__"}
        any_raw = False
        for key in sorted(keys):
            self.imports, self.needs_raw_type = Imports(), False
            body = self.body(key, set(TAKEN))
            module = identifier(key.replace(".", "_").lower(), modules)
            self.imports.add("sqlalchemy.orm", "Mapped") if "Mapped[" in body else None
            self.imports.add("sqlalchemy.orm", "mapped_column") if "mapped_column(" in body else None
            local = ".base import Base" + (", RawType" if self.needs_raw_type else "")
            any_raw |= self.needs_raw_type
            files[f"{module}.py"] = "\n\n\n".join([self.header(), self._imports(self.imports) + f"\n\nfrom {local}", body]) + "\n"
        base_imports = Imports()
        base_imports.add("sqlalchemy.orm", "DeclarativeBase")
        parts = [self.header(), self._imports(base_imports)]
        if any_raw:
            parts.append(RAW_TYPE.strip("\n"))
        files["base.py"] = "\n\n\n".join(parts + [BASE_CLASS]) + "\n"
        names = sorted(n[:-3] for n in files if n not in ("base.py",))
        files["__init__.py"] = self.header() + "\n\nfrom . import " + ", ".join(["base"] + names) + "  # noqa: F401\n"
        return files

    def _imports(self, imports: Imports) -> str:
        imports.add("__future__", "annotations")
        imports.add("sqlalchemy")
        return imports.render()


TAKEN = frozenset({"Base", "RawType", "sa", "Optional", "Any", "Mapped", "mapped_column", "DeclarativeBase"})
BASE_CLASS = "class Base(DeclarativeBase):\n    pass"


def _sa() -> Any:
    import sqlalchemy

    return sqlalchemy


def generate_models(backend: Backend, snapshot: Snapshot, keys: Iterable[str] | None = None) -> str:
    """One module of model code for the tables and views ``keys`` (default: all) of ``snapshot``."""
    return CodeGenerator(backend, snapshot).generate(all_keys(snapshot) if keys is None else keys)


def all_keys(snapshot: Snapshot) -> list[str]:
    return list(snapshot.tables) + list(snapshot.views)
