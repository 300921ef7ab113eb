"""Introspection: PRAGMA results and the stored CREATE statements (ddl.py) read back into a snapshot."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

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
from ..base import Connection, Mixin
from . import ddl

_FK_ACTIONS = {"NO ACTION": None, "": None}


def _view_body(sql: str) -> str:
    tokens = ddl.tokenize(sql)
    at = next(i for i, t in enumerate(tokens) if t.upper == "AS")
    return ddl.join(tokens[at + 1 :])


_TRIGGER_HEAD = re.compile(r'CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?'
                           r'(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|\'(?:[^\']|\'\')*\'|[^\s(]+)\s*', re.IGNORECASE)


def _trigger_definition(sql: str) -> str:
    """What follows ``CREATE TRIGGER name`` in the statement SQLite keeps (as written: SQLite stores the text)."""
    head = _TRIGGER_HEAD.match(sql.strip())
    return sql.strip()[head.end():] if head else sql.strip()


class SQLiteCatalog(Mixin):
    """Introspection: PRAGMA results and the stored CREATE statements (ddl.py) read back into a snapshot."""

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
            facts = ddl.parse_create_table(sql or "")
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
        facts: ddl.TableFacts,
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
            cf = facts.columns.get(cname) or ddl.ColumnFacts(cname)
            if pk:
                pk_cols.append((pk, cname))
            autoincrement = autoincrement or cf.autoincrement
            computed = Computed(cf.generated, cf.stored) if cf.generated is not None and hidden in (2, 3) else None
            columns.append(
                Column(
                    name=cname,
                    type=self.canonical_type(ctype or ""),
                    nullable=not notnull,
                    default=ddl.normalize_sql(dflt) if dflt is not None else None,
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
                where = ddl.parse_create_index(sql_of[("index", iname)]).where if partial else None
                indexes.append(Index(iname, elements, bool(unique), where))
        foreign_keys = []
        named_fks = list(facts.foreign_keys) + [
            (cf.fk_name, (cf.name,)) for cf in facts.columns.values() if cf.fk_name is not None
        ]
        # a column's own REFERENCES clause says its deferral; the others leave the table's FOREIGN KEY clauses theirs
        deferrals: dict[tuple[str, ...], tuple[bool | None, str | None]] = {**facts.deferrals, **{(cf.name,): cf.fk_deferral for cf in facts.columns.values()
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
    def _rowid_not_null(col: Column, pk: tuple[str, ...], facts: ddl.TableFacts) -> Column:
        # an INTEGER PRIMARY KEY is the rowid and can never be NULL, whatever the pragma says
        if pk == (col.name,) and col.type == "INTEGER" and not facts.without_rowid and col.nullable:
            return Column(**{**col.__dict__, "nullable": False})
        return col

    def _index_elements(self, name: str, rows: list[tuple[Any, ...]], sql: str | None) -> tuple[IndexElement, ...]:
        written = ddl.parse_create_index(sql).elements if sql else ()
        elements = []
        for pos, (_i, _seq, cname, desc, coll, _key) in enumerate(rows):
            collation = coll if coll and coll.upper() != "BINARY" else None
            if cname is None:  # an expression: its text is only in the DDL
                text = written[pos] if pos < len(written) else ""
                text = re.sub(r"\s+(ASC|DESC)$", "", re.sub(r"\s+COLLATE\s+\S+", "", text, flags=re.IGNORECASE), flags=re.IGNORECASE)
                elements.append(IndexElement(expression=text, descending=bool(desc), collation=collation))
            else:
                elements.append(IndexElement(column=cname, descending=bool(desc), collation=collation))
        return tuple(elements)
