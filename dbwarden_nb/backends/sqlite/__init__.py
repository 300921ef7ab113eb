"""SQLite: the embedded default and the fast dev database.

Introspection is five catalog queries whatever the table count (pragma table-valued functions joined
to ``sqlite_master``), plus the stored DDL text for what only the text carries. What ``ALTER TABLE``
cannot do becomes a table rebuild that keeps the rows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Mapping, Sequence

from ...errors import BackendError, MigrationError
from ...operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterTable,
    CreateIndex,
    CreateObject,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropObject,
    Operation,
    Plan,
    RebuildTable,
    RenameColumn,
    ReplaceObject,
)
from ...schema import (
    Check,
    Column,
    Computed,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    SchemaObject,
    Snapshot,
    Table,
    Unique,
    View,
)
from . import ddl as sqlite_ddl
from ...models.codegen import sql_text
from ..base import Backend, Connection

if TYPE_CHECKING:
    import sqlalchemy as sa

_LITERAL = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|'([^']|'')*'|[xX]'[0-9a-fA-F]*'|NULL|TRUE|FALSE)$", re.I)
_FK_ACTIONS = {"NO ACTION": None, "": None}


PROGRESS_STEPS = 20_000  # SQLite virtual machine steps between two calls of _let_signals_in


def _let_signals_in() -> int:
    """SQLite's progress handler: doing nothing in Python lets a pending signal be raised (0: go on)."""
    return 0


class SQLiteBackend(Backend):
    name: ClassVar[str] = "sqlite"
    dialect_name: ClassVar[str] = "sqlite"
    transactional_ddl: ClassVar[bool] = True
    supports_forward_references: ClassVar[bool] = True
    supports_seeds: ClassVar[bool] = True
    case_insensitive_tables: ClassVar[bool] = True
    case_insensitive_columns: ClassVar[bool] = True
    option_keys: ClassVar[Sequence[str]] = ("without_rowid", "strict", "autoincrement")
    # declared types by affinity (SQLite enforces no length, so no change of these narrows anything it holds)
    type_families: ClassVar[Mapping[str, tuple[str, int | None]]] = {
        **dict.fromkeys(("integer", "int", "bigint", "smallint", "tinyint", "mediumint"), ("integer", None)),
        **dict.fromkeys(("text", "varchar", "char", "character", "clob", "nvarchar", "nchar", "string"), ("string", None)),
        **dict.fromkeys(("numeric", "decimal", "real", "double", "float"), ("decimal", None)),
    }

    # -- connecting ---------------------------------------------------------------------------------

    def create_engine(self, url: str) -> sa.Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

        # pysqlite commits DDL on its own; take transactions into our hands so a failed migration leaves no trace.
        @event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            # a long statement calls into Python now and then, where a pending Ctrl-C is raised: SQLite then stops
            # the statement ("interrupted", see interrupted()), instead of the signal waiting for its end
            dbapi_conn.set_progress_handler(_let_signals_in, PROGRESS_STEPS)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine

    def connect(self, url: str, masked_url: str | None = None) -> Connection:
        conn = super().connect(url, masked_url)
        try:
            conn.query("SELECT count(*) FROM sqlite_master")
        except Exception as exc:  # not a database file, unreadable path …
            conn.close()
            from ...errors import ConfigError

            raise ConfigError(f"cannot open {conn.masked_url}: {getattr(exc, 'orig', exc)}") from None
        conn.commit()
        return conn

    def interrupted(self, exc: BaseException) -> bool:
        import sqlite3

        return isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted"

    def server_version(self, conn: Connection) -> str:
        return str(conn.query("SELECT sqlite_version()")[0][0])

    # -- introspection ------------------------------------------------------------------------------

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        internal = tuple(self.internal_tables)
        skip = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT IN ({})".format(", ".join(f"'{t}'" for t in internal))
        objects = conn.query(f"SELECT m.type, m.name, m.tbl_name, m.sql FROM sqlite_master m WHERE {skip}")
        shadow = self.shadow_tables(conn)
        # a virtual table's pragmas need its module loaded: it is listed as not managed, never read
        skip += " AND m.sql NOT LIKE 'CREATE VIRTUAL %'"
        columns = conn.query(
            "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden "
            f"FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p WHERE m.type = 'table' AND {skip} ORDER BY m.name, p.cid"
        )
        index_list = conn.query(
            "SELECT m.name, il.name, il.\"unique\", il.origin, il.partial "
            f"FROM sqlite_master m JOIN pragma_index_list(m.name) il WHERE m.type = 'table' AND {skip}"
        )
        index_cols = conn.query(
            "SELECT il.name, ix.seqno, ix.name, ix.\"desc\", ix.coll, ix.key "
            "FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ix "
            f"WHERE m.type = 'table' AND {skip} AND ix.key = 1 ORDER BY il.name, ix.seqno"
        )
        fks = conn.query(
            "SELECT m.name, fk.id, fk.seq, fk.\"table\", fk.\"from\", fk.\"to\", fk.on_update, fk.on_delete, fk.match "
            f"FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) fk WHERE m.type = 'table' AND {skip} "
            "ORDER BY m.name, fk.id, fk.seq"
        )
        sql_of = {(kind, name): sql for kind, name, _tbl, sql in objects}
        cols_by_table: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in columns:
            cols_by_table[row[0]].append(row)
        idx_by_table: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in index_list:
            idx_by_table[row[0]].append(row)
        idx_cols: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in index_cols:
            idx_cols[row[0]].append(row)
        fks_by_table: dict[str, dict[int, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))
        for row in fks:
            fks_by_table[row[0]][row[1]].append(row)

        pk_of: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row in columns:
            if row[6]:
                pk_of[row[0]].append((row[6], row[2]))
        tables = []
        triggers = [SchemaObject("trigger", name, None, _trigger_definition(sql or ""), {"table": tbl})
                    for kind, name, tbl, sql in objects if kind == "trigger"]
        virtual = [name for kind, name, _tbl, sql in objects if kind == "table" and (sql or "").upper().startswith("CREATE VIRTUAL")]
        for kind, name, _tbl, sql in objects:
            if kind != "table" or name in shadow or name in virtual:
                continue
            facts = sqlite_ddl.parse_create_table(sql or "")
            tables.append(
                self._table(name, facts, cols_by_table[name], idx_by_table[name], idx_cols, fks_by_table[name], sql_of, pk_of)
            )
        views = [View(name=name, definition=self.canonical_view(_view_body(sql))) for kind, name, _tbl, sql in objects if kind == "view"]
        return Snapshot.of(self.name, tables, views, triggers, server_version=self.server_version(conn),
                           unmanaged={"virtual table": virtual})

    def shadow_tables(self, conn: Connection) -> set[str]:
        """The tables SQLite keeps for a virtual table's data (FTS5's ``<name>_data``…): part of it, not models.
        Only SQLite 3.37 and later tell them apart (``pragma_table_list``)."""
        import sqlite3  # the library the driver runs: its version is the database engine's

        if sqlite3.sqlite_version_info < (3, 37):
            return set()
        return {r[0] for r in conn.query("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")}

    def _table(
        self,
        name: str,
        facts: sqlite_ddl.TableFacts,
        col_rows: list[tuple[Any, ...]],
        idx_rows: list[tuple[Any, ...]],
        idx_cols: dict[str, list[tuple[Any, ...]]],
        fk_rows: dict[int, list[tuple[Any, ...]]],
        sql_of: dict[tuple[str, str], str],
        pk_of: dict[str, list[tuple[int, str]]],
    ) -> Table:
        columns = []
        pk_cols: list[tuple[int, str]] = []
        autoincrement = False
        for _t, _cid, cname, ctype, notnull, dflt, pk, hidden in col_rows:
            cf = facts.columns.get(cname) or sqlite_ddl.ColumnFacts(cname)
            if pk:
                pk_cols.append((pk, cname))
            autoincrement = autoincrement or cf.autoincrement
            computed = Computed(cf.generated, cf.stored) if cf.generated is not None and hidden in (2, 3) else None
            columns.append(
                Column(
                    name=cname,
                    type=self.canonical_type(ctype or ""),
                    nullable=not notnull,
                    default=sqlite_ddl.normalize_sql(dflt) if dflt is not None else None,
                    computed=computed,
                    collation=cf.collation,
                )
            )
        pk_names = tuple(n for _, n in sorted(pk_cols))
        pk_name = facts.pk_name or next((facts.columns[n].pk_name for n in pk_names if n in facts.columns), None)
        primary_key = PrimaryKey(pk_name, pk_names) if pk_names else None
        columns = [self._rowid_not_null(c, pk_names, facts) for c in columns]

        checks = list(facts.checks) + [chk for cf in facts.columns.values() for chk in cf.checks]
        uniques, indexes = [], []
        for _t, iname, unique, origin, partial in idx_rows:
            elements = self._index_elements(iname, idx_cols.get(iname, []), sql_of.get(("index", iname)))
            if origin == "u":
                cols = tuple(e.column or "" for e in elements)
                uname = facts.uniques.get(cols)
                if uname is None and len(cols) == 1 and cols[0] in facts.columns:
                    uname = facts.columns[cols[0]].unique_name
                uniques.append(Unique(uname, cols))
            elif origin == "c":
                where = sqlite_ddl.parse_create_index(sql_of[("index", iname)]).where if partial else None
                indexes.append(Index(iname, elements, bool(unique), where))
        foreign_keys = []
        named_fks = list(facts.foreign_keys) + [
            (cf.fk_name, (cf.name,)) for cf in facts.columns.values() if cf.fk_name is not None
        ]
        # a column's own REFERENCES clause says its deferral; the others leave the table's FOREIGN KEY clauses theirs
        deferrals = {**facts.deferrals, **{(cf.name,): cf.fk_deferral for cf in facts.columns.values()
                                           if cf.fk_deferral != (None, None)}}
        for rows in fk_rows.values():
            cols = tuple(r[4] for r in rows)
            ref_cols = tuple(r[5] for r in rows)
            fk_name = next((n for n, c in named_fks if c == cols), None)
            deferrable, initially = deferrals.get(cols, (None, None))
            if not all(ref_cols):  # REFERENCES parent with no columns means the parent's primary key
                ref_cols = tuple(n for _, n in sorted(pk_of.get(rows[0][3], ())))
            foreign_keys.append(
                ForeignKey(
                    fk_name, cols, rows[0][3], ref_cols,
                    on_delete=_FK_ACTIONS.get(rows[0][7], rows[0][7]),
                    on_update=_FK_ACTIONS.get(rows[0][6], rows[0][6]),
                    deferrable=deferrable, initially=initially,
                )
            )
        options: dict[str, Any] = {}
        if facts.without_rowid:
            options["without_rowid"] = True
        if facts.strict:
            options["strict"] = True
        if autoincrement:
            options["autoincrement"] = True
        return Table(
            name=name,
            columns=tuple(columns),
            primary_key=primary_key,
            foreign_keys=tuple(foreign_keys),
            uniques=tuple(uniques),
            checks=tuple(Check(n, e) for n, e in checks),
            indexes=tuple(indexes),
            options=options,
        )

    @staticmethod
    def _rowid_not_null(col: Column, pk: tuple[str, ...], facts: sqlite_ddl.TableFacts) -> Column:
        # an INTEGER PRIMARY KEY is the rowid and can never be NULL, whatever the pragma says
        if pk == (col.name,) and col.type == "INTEGER" and not facts.without_rowid and col.nullable:
            return Column(**{**col.__dict__, "nullable": False})
        return col

    def _index_elements(self, name: str, rows: list[tuple[Any, ...]], sql: str | None) -> tuple[IndexElement, ...]:
        written = sqlite_ddl.parse_create_index(sql).elements if sql else ()
        elements = []
        for pos, (_i, _seq, cname, desc, coll, _key) in enumerate(rows):
            collation = coll if coll and coll.upper() != "BINARY" else None
            if cname is None:  # an expression: its text is only in the DDL
                text = written[pos] if pos < len(written) else ""
                text = re.sub(r"\s+(ASC|DESC)$", "", re.sub(r"\s+COLLATE\s+\S+", "", text, flags=re.I), flags=re.I)
                elements.append(IndexElement(expression=text, descending=bool(desc), collation=collation))
            else:
                elements.append(IndexElement(column=cname, descending=bool(desc), collation=collation))
        return tuple(elements)

    # -- model side ---------------------------------------------------------------------------------

    def canonical_default(self, text: str) -> str:
        # rendering always wraps the default in one pair of parentheses, which SQLite strips again
        # when it reports it: the text itself is the canonical form
        return sqlite_ddl.normalize_sql(text)

    def canonical_expression(self, text: str) -> str:
        return sqlite_ddl.normalize_sql(text)

    def canonical_view(self, definition: str) -> str:
        return sqlite_ddl.normalize_sql(definition).rstrip(";").rstrip()

    def table_options(self, table: sa.Table) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if table.dialect_options["sqlite"].get("with_rowid") is False:
            options["without_rowid"] = True
        if table.dialect_options["sqlite"].get("strict"):
            options["strict"] = True
        if table.dialect_options["sqlite"].get("autoincrement"):
            options["autoincrement"] = True
        return options

    def normalize_model_table(self, table: Table) -> Table:
        pk = table.primary_key.columns if table.primary_key else ()
        facts = sqlite_ddl.TableFacts(without_rowid=bool(table.options.get("without_rowid")))
        # NOT DEFERRABLE and INITIALLY IMMEDIATE are what no clause says (see sqlite_ddl.deferral)
        fks = tuple(replace(fk, deferrable=fk.deferrable or None, initially=fk.initially if fk.deferrable and
                            fk.initially == "DEFERRED" else None) for fk in table.foreign_keys)
        # SQLite has no names for primary keys of single INTEGER rowid columns it can report reliably
        return table.replace(columns=tuple(self._rowid_not_null(c, pk, facts) for c in table.columns), foreign_keys=fks)

    # -- code generation --------------------------------------------------------------------------

    def table_kwargs(self, table: Table) -> dict[str, str]:
        kwargs = {}
        if table.options.get("without_rowid"):
            kwargs["sqlite_with_rowid"] = "False"
        if table.options.get("strict"):
            kwargs["sqlite_strict"] = "True"
        if table.options.get("autoincrement"):
            kwargs["sqlite_autoincrement"] = "True"
        return kwargs

    def index_kwargs(self, index: Index) -> dict[str, str]:
        return {"sqlite_where": sql_text(index.where)} if index.where else {}

    # -- rendering ----------------------------------------------------------------------------------

    def column_sql(self, col: Column, table: Table | None = None) -> str:
        parts = [self.quote(col.name), col.type]
        if table is not None and table.options.get("autoincrement") and table.primary_key and table.primary_key.columns == (col.name,):
            parts.append(f"{self._named(table.primary_key.name)}PRIMARY KEY AUTOINCREMENT")
        if not col.nullable:
            parts.append("NOT NULL")
        if col.default is not None:
            parts.append(f"DEFAULT ({col.default})")
        if col.collation:
            parts.append(f"COLLATE {self.quote(col.collation)}")
        if col.computed is not None:
            parts.append(f"GENERATED ALWAYS AS ({col.computed.expression}) {'STORED' if col.computed.stored else 'VIRTUAL'}")
        return " ".join(parts)

    def _named(self, name: str | None) -> str:
        return f"CONSTRAINT {self.quote(name)} " if name else ""

    def _columns(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(n) for n in names)

    def create_table_sql(self, table: Table, name: str | None = None) -> str:
        defs = [self.column_sql(c, table) for c in table.columns]
        pk = table.primary_key
        if pk and not (table.options.get("autoincrement") and len(pk.columns) == 1):
            defs.append(f"{self._named(pk.name)}PRIMARY KEY ({self._columns(pk.columns)})")
        for u in table.uniques:
            defs.append(f"{self._named(u.name)}UNIQUE ({self._columns(u.columns)})")
        for c in table.checks:
            defs.append(f"{self._named(c.name)}CHECK ({c.expression})")
        for fk in table.foreign_keys:
            defs.append(self.foreign_key_sql(fk))
        tail = [x for x, on in (("WITHOUT ROWID", table.options.get("without_rowid")), ("STRICT", table.options.get("strict"))) if on]
        body = ",\n    ".join(defs)
        return f"CREATE TABLE {self.quote(name or table.name)} (\n    {body}\n){' ' + ', '.join(tail) if tail else ''}"

    def foreign_key_sql(self, fk: ForeignKey) -> str:
        ref_cols = f" ({self._columns(fk.ref_columns)})" if fk.ref_columns else ""
        sql = f"{self._named(fk.name)}FOREIGN KEY ({self._columns(fk.columns)}) REFERENCES {self.quote(fk.ref_table)}{ref_cols}"
        if fk.on_delete:
            sql += f" ON DELETE {fk.on_delete}"
        if fk.on_update:
            sql += f" ON UPDATE {fk.on_update}"
        if fk.deferrable:
            sql += " DEFERRABLE" + (f" INITIALLY {fk.initially}" if fk.initially else "")
        return sql

    def create_index_sql(self, table: Table, index: Index) -> str:
        elements = []
        for e in index.elements:
            text = self.quote(e.column) if e.expression is None else e.expression
            if e.collation:
                text += f" COLLATE {self.quote(e.collation)}"
            elements.append(text + (" DESC" if e.descending else ""))
        where = f" WHERE {index.where}" if index.where else ""
        unique = "UNIQUE " if index.unique else ""
        return f"CREATE {unique}INDEX {self.quote(index.name or '')} ON {self.quote(table.name)} ({', '.join(elements)}){where}"

    def render_create_table(self, op: Any) -> list[str]:
        return [self.create_table_sql(op.new)] + [self.create_index_sql(op.new, i) for i in op.new.indexes]

    def render_drop_table(self, op: Any) -> list[str]:
        return [f"DROP TABLE {self.quote(op.old.name)}"]

    def render_rename_table(self, op: Any) -> list[str]:
        if op.old.name.lower() == op.new.name.lower():  # SQLite refuses a rename that changes only the case
            step = f"_dbwarden_rename_{op.new.name}"
            return [f"ALTER TABLE {self.quote(op.old.name)} RENAME TO {self.quote(step)}",
                    f"ALTER TABLE {self.quote(step)} RENAME TO {self.quote(op.new.name)}"]
        return [f"ALTER TABLE {self.quote(op.old.name)} RENAME TO {self.quote(op.new.name)}"]

    def render_add_column(self, op: AddColumn) -> list[str]:
        return [f"ALTER TABLE {self.quote(op.parent.name)} ADD COLUMN {self.column_sql(op.column)}"]

    def render_drop_column(self, op: DropColumn) -> list[str]:
        return [f"ALTER TABLE {self.quote(op.parent.name)} DROP COLUMN {self.quote(op.column.name)}"]

    def render_rename_column(self, op: RenameColumn) -> list[str]:
        return [f"ALTER TABLE {self.quote(op.parent.name)} RENAME COLUMN {self.quote(op.old.name)} TO {self.quote(op.new.name)}"]

    def render_create_index(self, op: CreateIndex) -> list[str]:
        return [self.create_index_sql(op.parent, op.index)]

    def render_drop_index(self, op: DropIndex) -> list[str]:
        return [f"DROP INDEX {self.quote(op.index.name or '')}"]

    def render_create_view(self, op: Any) -> list[str]:
        return [f"CREATE VIEW {self.quote(op.view.name)} AS {op.view.definition}"]

    def render_drop_view(self, op: Any) -> list[str]:
        return [f"DROP VIEW {self.quote(op.view.name)}"]

    def render_rebuild_table(self, op: RebuildTable) -> list[str]:
        """SQLite's twelve-step rebuild: new table, copy rows, drop old, rename, recreate indexes."""
        temp = f"_dbwarden_new_{op.new.name}"
        renamed = dict(op.renames)
        copied = [
            (src, dst.name)
            for dst in op.new.columns
            if dst.computed is None
            for src in [next((o for o, n in renamed.items() if n == dst.name), dst.name)]
            if (old_col := op.old.column(src)) is not None and old_col.computed is None
        ]
        targets = ", ".join([self.quote(d) for _, d in copied] + [self.quote(c) for c, _ in op.fills])
        sources = ", ".join([self.quote(s) for s, _ in copied] + [value for _, value in op.fills])
        statements = [self.create_table_sql(op.new, temp)]
        if copied:
            statements.append(f"INSERT INTO {self.quote(temp)} ({targets}) SELECT {sources} FROM {self.quote(op.old.name)}")
        # legacy renaming: views and triggers that name the table are neither checked nor rewritten
        # while it is briefly missing (the modern rename refuses, "error in view v: no such table")
        statements += [
            f"DROP TABLE {self.quote(op.old.name)}",
            "PRAGMA legacy_alter_table = ON",
            f"ALTER TABLE {self.quote(temp)} RENAME TO {self.quote(op.new.name)}",
            "PRAGMA legacy_alter_table = OFF",
        ]
        return statements + [self.create_index_sql(op.new, i) for i in op.new.indexes]

    # -- adapting a neutral plan ------------------------------------------------------------------

    def adapt(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        """Fold every step ALTER TABLE cannot do into one rebuild per table, in place of its steps; the triggers of
        a rebuilt table (which go with the table it drops) are dropped before it and created again after it."""
        return self._keep_triggers(self._fold(plan, old, new), old, new)

    def _keep_triggers(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        rebuilt = {op.table for op in plan if isinstance(op, RebuildTable)}
        if not rebuilt:
            return plan

        def on_rebuilt(obj: SchemaObject) -> bool:
            return obj.kind == "trigger" and obj.options.get("table") in rebuilt

        ops: list[Operation] = []
        for op in plan:
            if isinstance(op, (CreateObject, DropObject)) and on_rebuilt(op.object) \
                    or isinstance(op, ReplaceObject) and on_rebuilt(op.new):
                continue  # taken care of around the rebuild
            if isinstance(op, RebuildTable):
                ops += [DropObject(o) for o in old.objects.values() if on_rebuilt(o) and o.options["table"] == op.table]
                ops.append(op)
                ops += [CreateObject(o) for o in new.objects.values() if on_rebuilt(o) and o.options["table"] == op.table]
                continue
            ops.append(op)
        return plan.replace(operations=tuple(ops))

    def _fold(self, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
        rebuild: dict[str, list[str]] = defaultdict(list)
        for op in plan:
            reason = self._needs_rebuild(op)
            if reason:
                rebuild[op.table].append(reason)
        if not rebuild:
            return plan
        folded = (AddColumn, DropColumn, AlterColumn, RenameColumn, AddConstraint, DropConstraint, AlterTable,
                  CreateIndex, DropIndex)
        steps: dict[str, list[Operation]] = defaultdict(list)
        for op in plan:
            if op.table in rebuild and isinstance(op, folded):
                steps[op.table].append(op)
        ops: list[Operation] = []
        for op in plan:
            if op.table in steps and isinstance(op, folded):
                if op is steps[op.table][0]:
                    group = steps[op.table]
                    renames = tuple((o.old.name, o.new.name) for o in group if isinstance(o, RenameColumn))
                    ops.append(RebuildTable(
                        _table_before(plan, old, op.table), new.tables[op.table], renames,
                        tuple(dict.fromkeys(rebuild[op.table])),
                        tuple(r for o in group if (r := o.irreversible)),
                        tuple(r for o in group if (r := o.reverse().irreversible)),
                    ))
                continue
            ops.append(op)
        # the rebuild takes the place of the table's first step; constraints added later in the plan
        # (foreign keys go last) must not come before it, so keep steps of other tables where they were
        return plan.replace(operations=tuple(ops))

    # -- triggers ---------------------------------------------------------------------------------

    def render_create_object(self, op: CreateObject) -> list[str]:
        if op.object.kind != "trigger":
            raise BackendError(f"sqlite cannot create a {op.object.kind} ({op.object.key}): SQLite has triggers only")
        return [f"CREATE TRIGGER {self.quote(op.object.name)} {op.object.definition}"]

    def render_drop_object(self, op: DropObject) -> list[str]:
        return [f"DROP TRIGGER {self.quote(op.object.name)}"]

    def _needs_rebuild(self, op: Operation) -> str:
        if isinstance(op, (AlterColumn, AddConstraint, DropConstraint, AlterTable)):
            return op.describe()
        if isinstance(op, AddColumn):
            c = op.column
            if c.computed is not None and c.computed.stored:
                return f"add stored generated column {c.name}"
            if c.default is not None and not _LITERAL.match(c.default):
                return f"add column {c.name} with a non-constant default"
            if not c.nullable and c.default is None:
                return f"add NOT NULL column {c.name} without default"
            if op.parent.primary_key and c.name in op.parent.primary_key.columns:
                return f"add primary-key column {c.name}"
            if any(c.name in u.columns for u in op.parent.uniques) or any(c.name in fk.columns for fk in op.parent.foreign_keys):
                return f"add constrained column {c.name}"
        if isinstance(op, DropColumn):
            t, name = op.parent, op.column.name
            used = (
                (t.primary_key and name in t.primary_key.columns)
                or any(name in u.columns for u in t.uniques)
                or any(name in fk.columns for fk in t.foreign_keys)
                or any(name in i.columns or any(e.expression for e in i.elements) or i.where for i in t.indexes)
                or t.checks
                or any(c.computed for c in t.columns)
            )
            if used:
                return f"drop column {name} used by a constraint or index"
        return ""

    # -- running ----------------------------------------------------------------------------------

    @contextmanager
    def scratch_copy(self, url: str) -> Iterator[Connection]:
        """A copy of the database file in a temporary folder, made with SQLite's online backup."""
        import sqlite3
        import tempfile

        from sqlalchemy.engine import make_url

        source = make_url(url).database or ":memory:"
        with tempfile.TemporaryDirectory(prefix="dbwarden-verify-") as tmp:
            copy = f"{tmp}/scratch.db"
            src, dst = sqlite3.connect(source), sqlite3.connect(copy)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            conn = self.connect(f"sqlite:///{copy}", "a scratch copy")
            try:
                yield conn
            finally:
                conn.close()

    @contextmanager
    def scratch_empty(self, url: str) -> Iterator[Connection]:
        """A new database file in a temporary folder."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="dbwarden-scratch-") as tmp:
            conn = self.connect(f"sqlite:///{tmp}/scratch.db", "a scratch database")
            try:
                yield conn
            finally:
                conn.close()

    def before_migration(self, conn: Connection) -> None:
        # enforcement must be off before the transaction starts (the pragma is a no-op inside one),
        # so table rebuilds can drop and recreate referenced tables; checked before commit instead
        conn.rollback()
        conn.execute("PRAGMA foreign_keys = OFF")

    def before_commit(self, conn: Connection) -> None:
        problems = conn.query("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
        if problems:
            table, rowid, parent = problems[0]
            raise MigrationError(
                f"foreign key check failed: {len(problems)} row(s), first {table} rowid {rowid} references missing {parent}"
            )


def _table_before(plan: Plan, old: Snapshot, key: str) -> Table:
    """The table as it stands before its rebuild (after an earlier rename in the same plan)."""
    for op in plan:
        if op.kind == "rename_table" and op.table == key:
            return op.new  # type: ignore[attr-defined]
    return old.tables[key]


def _view_body(sql: str) -> str:
    tokens = sqlite_ddl.tokenize(sql)
    at = next(i for i, t in enumerate(tokens) if t.upper == "AS")
    return sqlite_ddl.join(tokens[at + 1 :])


_TRIGGER_HEAD = re.compile(r'CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?'
                           r'(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|\'(?:[^\']|\'\')*\'|[^\s(]+)\s*', re.I)


def _trigger_definition(sql: str) -> str:
    """What follows ``CREATE TRIGGER name`` in the statement SQLite keeps (as written: SQLite stores the text)."""
    head = _TRIGGER_HEAD.match(sql.strip())
    return sql.strip()[head.end():] if head else sql.strip()
