"""SQLAlchemy tables → canonical Snapshot, through the backend's own dialect and normalization hooks."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import BackendError
from ..schema import (
    Check,
    Column,
    Computed,
    ForeignKey,
    Identity,
    Index,
    IndexElement,
    PrimaryKey,
    SchemaObject,
    Snapshot,
    Table,
    Unique,
    View,
    table_key,
    with_empty_schemas,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..backends.base import Backend


class Extractor:
    """Compiles model-side types and expressions with the backend's SQLAlchemy dialect."""

    def __init__(self, backend: Backend, default_schema: str | None = None):
        self.backend = backend
        self.dialect = backend.dialect()
        self.ddl = self.dialect.ddl_compiler(self.dialect, None)  # type: ignore[arg-type]  # no statement: only its visit_* are used
        self.default_schema = default_schema
        self._types: dict[str, str] = {}  # spelled → canonical: a model set repeats a handful of types

    def key(self, schema: str | None, name: str) -> str:
        return table_key(None if schema == self.default_schema else schema, name)

    def expression(self, clause: Any) -> str:
        text = self.ddl.sql_compiler.process(clause, include_table=False, literal_binds=True)
        return self.backend.canonical_expression(str(text))

    def type(self, column: sa.Column[Any]) -> str:
        sa_type = column.type
        if getattr(sa_type, "collation", None) is not None:  # collation is its own field of the snapshot
            sa_type = copy.copy(sa_type)
            sa_type.collation = None  # type: ignore[attr-defined]
        try:
            spelled = sa_type.compile(dialect=self.dialect)
        except Exception as exc:  # noqa: BLE001  an unknown or unsupported type names the column at fault
            _refuse_unresolved_foreign_key(column)
            raise BackendError(
                f"column {column.table.name}.{column.name}: type {column.type!r} has no {self.backend.name} spelling ({exc})"
            ) from None
        canonical = self._types.get(spelled)
        if canonical is None:
            canonical = self._types[spelled] = self.backend.canonical_type(spelled)
        return canonical

    def column(self, col: sa.Column[Any]) -> Column:
        default = None
        if col.server_default is not None and not col.computed and not col.identity:
            raw = self.ddl.get_column_default_string(col)
            default = self.backend.canonical_default(raw) if raw is not None else None
        identity = None
        if col.identity is not None:
            ident = col.identity
            identity = Identity(
                always=bool(ident.always), start=ident.start, increment=ident.increment,
                minvalue=ident.minvalue, maxvalue=ident.maxvalue, cache=ident.cache, cycle=ident.cycle,
            )
        computed = None
        if col.computed is not None:
            computed = Computed(self.expression(col.computed.sqltext), self.backend.computed_stored(col.computed))
        return Column(
            name=col.name,
            type=self.type(col),
            nullable=bool(col.nullable),
            default=default,
            identity=identity,
            computed=computed,
            collation=getattr(col.type, "collation", None),
            comment=col.comment if self.backend.supports_comments else None,
            options=self.backend.column_options(col),
        )

    def table(self, table: sa.Table) -> Table:
        import sqlalchemy as sa

        pk = None
        if table.primary_key.columns:
            pk = PrimaryKey(_name(table.primary_key), tuple(c.name for c in table.primary_key.columns),
                            self.backend.primary_key_options(table.primary_key))
        fks, uniques, checks = [], [], []
        # a CheckConstraint given to a Column lives on the column, not in table.constraints; the backend spells it
        # (MariaDB names it after its column)
        checks += [self.backend.column_check(col, c, self.expression(c.sqltext)) for col in table.columns
                   for c in col.constraints if c not in table.constraints and isinstance(c, sa.CheckConstraint)]
        for cons in sorted(table.constraints, key=lambda c: (type(c).__name__, _name(c) or "")):
            if isinstance(cons, sa.ForeignKeyConstraint):
                fks.append(self.foreign_key(cons))
            elif isinstance(cons, sa.UniqueConstraint):
                uniques.append(Unique(_name(cons), tuple(c.name for c in cons.columns), self.backend.unique_options(cons)))
            elif isinstance(cons, sa.CheckConstraint):
                checks.append(Check(_name(cons), self.expression(cons.sqltext), self.backend.check_options(cons)))
        checks += self.backend.extra_checks(table)
        indexes = [self.index(table, ix) for ix in table.indexes]
        return Table(
            name=table.name,
            schema=None if table.schema == self.default_schema else table.schema,
            columns=tuple(self.column(c) for c in table.columns),
            primary_key=pk,
            foreign_keys=tuple(fks),
            uniques=tuple(uniques),
            checks=tuple(checks),
            indexes=tuple(indexes),
            comment=table.comment if self.backend.supports_comments else None,
            options=self.backend.table_options(table),
        )

    def foreign_key(self, fk: sa.ForeignKeyConstraint) -> ForeignKey:
        from sqlalchemy.exc import NoReferencedColumnError, NoReferencedTableError

        try:
            ref = fk.elements[0].column.table
            ref_table, ref_columns = self.key(ref.schema, ref.name), tuple(e.column.name for e in fk.elements)
        except NoReferencedColumnError as exc:  # a table of these models without that column: a typo
            raise BackendError(f"table {fk.table.name}: ForeignKey({fk.elements[0].target_fullname!r}): table "
                               f"{exc.table_name} has no column {exc.column_name!r}") from None
        except NoReferencedTableError:  # a table outside these models: trust the spelling
            spec = fk.elements[0].target_fullname
            table, _, _ = spec.rpartition(".")
            schema, _, name = table.rpartition(".")
            ref_table = self.key(schema or None, name)
            ref_columns = tuple(e.target_fullname.rpartition(".")[2] for e in fk.elements)
        return ForeignKey(
            name=_name(fk),
            columns=tuple(fk.column_keys if not fk.columns else (c.name for c in fk.columns)),
            ref_table=ref_table,
            ref_columns=ref_columns,
            on_delete=self.backend.canonical_fk_action(fk.ondelete),
            on_update=self.backend.canonical_fk_action(fk.onupdate),
            deferrable=fk.deferrable,
            initially=fk.initially.upper() if fk.initially else None,
            match=fk.match.upper() if fk.match else None,
            options=self.backend.foreign_key_options(fk),
        )

    def index(self, table: sa.Table, index: sa.Index) -> Index:
        from sqlalchemy.sql import operators
        from sqlalchemy.sql.elements import BinaryExpression, ColumnClause, UnaryExpression

        elements = []
        for expr in index.expressions:
            descending, collation, nulls_first = False, None, None
            if isinstance(expr, UnaryExpression) and expr.modifier in (operators.nulls_first_op, operators.nulls_last_op):
                nulls_first = expr.modifier is operators.nulls_first_op
                expr = expr.element
            if isinstance(expr, UnaryExpression) and expr.modifier in (operators.desc_op, operators.asc_op):
                descending = expr.modifier is operators.desc_op
                expr = expr.element
            if isinstance(expr, BinaryExpression) and expr.operator is operators.collate:
                collation = expr.right.collation
                expr = expr.left
            column = None
            if isinstance(expr, ColumnClause) and getattr(expr, "table", None) in (None, table):
                # a materialized view is declared without columns: sa.column("x") names one of its columns
                column = table.c.get(expr.name) if table.c else expr
            elif type(expr).__name__ == "_textual_label_reference":  # sa.desc("name"): a name given as a string
                column = table.c.get(expr.element)  # type: ignore[union-attr]  # a private SQLAlchemy class
            # only a NULLS placement other than the default (last ascending, first descending) is a fact
            nulls = None if nulls_first is None or nulls_first == descending else ("first" if nulls_first else "last")
            if column is not None:
                opclass = self.backend.index_opclass(index, column.name)
                elements.append(IndexElement(column=column.name, descending=descending, nulls=nulls, opclass=opclass,
                                             collation=collation))
            else:
                text = self.expression(expr)
                elements.append(IndexElement(expression=text, descending=descending, nulls=nulls,
                                             opclass=self.backend.index_opclass(index, text), collation=collation))
        where_clause = index.dialect_options[self.backend.dialect_name].get("where") if self.backend.dialect_name else None
        return Index(
            name=_name(index),
            elements=tuple(elements),
            unique=bool(index.unique),
            where=self.expression(where_clause) if where_clause is not None else None,
            options=self.backend.index_options(index),
        )


    def view(self, table: sa.Table) -> View:
        info = dict(table.info["dbwarden"])
        definition = info.pop("view")
        materialized = bool(info.pop("materialized", False))
        return View(
            name=table.name,
            schema=None if table.schema == self.default_schema else table.schema,
            definition=self.backend.canonical_view(definition),
            materialized=materialized,
            comment=table.comment if self.backend.supports_comments else None,
            options=info,
            indexes=tuple(self.index(table, ix) for ix in table.indexes),
        )


def _refuse_unresolved_foreign_key(column: sa.Column[Any]) -> None:
    """A column without a type of its own takes it from the column its ForeignKey names; when no model defines
    that table (a misspelled name), say so rather than that the missing type has no spelling."""
    from sqlalchemy.exc import NoReferencedColumnError, NoReferencedTableError

    for fk in column.foreign_keys:
        try:
            fk.column  # noqa: B018  resolves the target
        except (NoReferencedTableError, NoReferencedColumnError):
            table = fk.target_fullname.rpartition(".")[0]
            raise BackendError(f"column {column.table.name}.{column.name}: ForeignKey({fk.target_fullname!r}) names "
                               f"table {table!r}, which no model defines (a typo?); a column without a type of its "
                               "own takes the type of the column it references") from None


def _name(obj: Any) -> str | None:
    name = getattr(obj, "name", None)
    return None if name is None or type(name).__name__ == "_NoneName" else str(name)


def is_view(table: sa.Table) -> bool:
    """Views are declared as column-less ``Table`` objects with ``info={"dbwarden": {"view": "<SELECT …>"}}``."""
    return "view" in (table.info.get("dbwarden") or {})


def extract(backend: Backend, tables: Sequence[sa.Table], default_schema: str | None = None,
            metadata: Sequence[sa.MetaData] = ()) -> Snapshot:
    """The snapshot of ``tables`` as ``backend`` would store them."""
    from ..entities import declared

    ex = Extractor(backend, default_schema)
    metadata = all_metadata(tables, metadata)
    entities = [e for md in metadata for e in declared(md)]
    snap = Snapshot.of(
        backend.name,
        [backend.normalize_model_table(ex.table(t)) for t in tables if not is_view(t)],
        [ex.view(t) for t in tables if is_view(t)],
        [SchemaObject(e.kind, e.name, None if e.schema == default_schema else e.schema, e.definition, e.options)
         for e in entities if e.kind != "schema"],
        **backend.model_extras(tables, default_schema, metadata),
    )
    return with_empty_schemas(snap, [e.name for e in entities if e.kind == "schema" and e.name != default_schema])


def all_metadata(tables: Sequence[sa.Table], metadata: Sequence[sa.MetaData] = ()) -> list[sa.MetaData]:
    """``metadata`` and the ``MetaData`` of every table, each once."""
    found = {id(md): md for md in metadata}
    found.update((id(t.metadata), t.metadata) for t in tables)
    return list(found.values())


def declared_types(metadata: Sequence[sa.MetaData]) -> list[Any]:
    """Types declared with ``metadata=`` (``sa.Enum(..., metadata=Base.metadata)``, ``DOMAIN(...)``): SQLAlchemy
    keeps no list of them, only the listener each registers to create itself with the metadata."""
    import sqlalchemy as sa

    found = {}
    for md in metadata:
        for listener in md.dispatch.before_create:
            owner = getattr(listener, "__self__", None)
            if isinstance(owner, sa.types.SchemaType):
                found[id(owner)] = owner
    return list(found.values())
