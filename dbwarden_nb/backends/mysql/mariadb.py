"""MariaDB: the MySQL backend where the two servers differ.

MariaDB prints integer display widths (``int(11)``), defaults as SQL (``'x'``, ``current_timestamp()``),
keeps JSON as LONGTEXT with a ``json_valid`` column check (spelled ``json`` in snapshots), has column-level
checks that live in the column definition, sequences, system-versioned tables and ignored indexes, and
no functional indexes, invisible indexes or SRID attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from ...operations import AlterSequence, CreateSequence, DropSequence
from ...schema import Check, Column
from ..base.render import SEQUENCE_KINDS, Unsupported
from . import LOCK_WAITS, MySQLBackend
from .catalog import CatalogReader
from .model import DEFAULT_WIDTHS

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Dialect

MARIADB_CHECKS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, 'YES', LEVEL
  FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = :schema
"""

# sequence parameters and their words, in the order CREATE and ALTER SEQUENCE write them
_SEQUENCE_WORDS = (("start", "START WITH"), ("increment", "INCREMENT BY"), ("minvalue", "MINVALUE"),
                   ("maxvalue", "MAXVALUE"), ("cache", "CACHE"))


class MariaDBCatalogReader(CatalogReader):
    """MySQL's reader where MariaDB's information_schema differs: no SRIDs, invisible or functional indexes,
    checks of its own table (with their level), text as stored (no escaping, no latin1 round trip), defaults
    already SQL, ignored indexes from 10.6, JSON as a checked LONGTEXT."""

    srid_column: ClassVar[str] = "NULL"
    visible_column: ClassVar[str] = "'YES'"
    expression_column: ClassVar[str] = "NULL"
    checks_query: ClassVar[str] = MARIADB_CHECKS

    def unescape(self, text: str) -> str:
        return text

    def dictionary_text(self, text: str) -> str:
        return text

    def default(self, raw: str | None, extra: str, data_type: str, binary_charset: bool) -> str | None:
        if raw is None:
            return None
        return None if raw == "NULL" else self.expression(raw)  # already SQL: 'x', 0, current_timestamp(), b'1', NULL

    def ignored_column(self) -> str:
        return "IGNORED" if self.version >= (10, 6) else "'NO'"

    def json_columns(self, rows: list[tuple[Any, ...]], columns: list[Column], checks: list[Check]) -> tuple[list[Column], list[Check]]:
        """MariaDB's JSON is LONGTEXT utf8mb4_bin with a column check ``json_valid(col)``: spelled ``json`` here."""
        raw_collation = {r[1]: r[7] for r in rows}
        out = []
        for col in columns:
            check = next((k for k in checks if k.name == col.name and k.options.get("column")
                          and k.expression == "json_valid(`" + col.name.replace("`", "``") + "`)"), None)
            if check is not None and col.type == "longtext" and raw_collation.get(col.name) == "utf8mb4_bin":
                checks = [k for k in checks if k is not check]
                col = replace(col, type="json", collation=None)
            out.append(col)
        return out, checks


class MariaDBBackend(MySQLBackend):
    name: ClassVar[str] = "mariadb"
    dialect_name: ClassVar[str] = "mariadb"
    catalog_reader: ClassVar[type[CatalogReader]] = MariaDBCatalogReader
    sequence_owns_counter: ClassVar[bool] = True
    unsupported: ClassVar[Unsupported] = {k: v for k, v in MySQLBackend.unsupported.items() if k not in SEQUENCE_KINDS}
    timeout_variables: ClassVar[Mapping[str, tuple[tuple[str, str], ...]]] = {
        "lock_timeout": LOCK_WAITS, "statement_timeout": (("max_statement_time", "s"),)}  # DDL included
    drop_check: ClassVar[str] = "CONSTRAINT"
    # ALTER of a system-versioned table keeps its history instead of refusing
    session_init: ClassVar[str] = "SET SESSION system_versioning_alter_history = KEEP"
    # a key written without an action reports RESTRICT (as does RESTRICT written out); NO ACTION only when written
    default_fk_action: ClassVar[str] = "RESTRICT"
    # a unique key over a long column is a hash over a hidden virtual column, which no index build can add in place
    online_index_kinds: ClassVar[tuple[str, ...]] = ("",)

    def dialect(self) -> Dialect:
        from sqlalchemy.dialects.mysql.mariadb import MariaDBDialect

        return MariaDBDialect(paramstyle="named")  # run verbatim: no doubled % (see Backend.dialect)

    # -- model side ---------------------------------------------------------------------------------

    def integer_width(self, name: str, width: str | None, unsigned: bool, zerofill: bool) -> str | None:
        """MariaDB prints a display width for every integer: the given one, else the type's default."""
        return width if width is not None else str(DEFAULT_WIDTHS[name][1 if unsigned else 0])

    def year_width(self, width: str | None) -> str | None:
        return "4"

    def canonical_default(self, text: str) -> str:
        out = super().canonical_default(text)
        return out.lower() + ("()" if "(" not in out else "") if out.upper().startswith("CURRENT_TIMESTAMP") else out

    def column_check(self, column: sa.Column[Any], constraint: sa.CheckConstraint, expression: str) -> Check:
        """A check in a column's arguments is a column-level check: MariaDB names it after the column."""
        return Check(column.name, expression, {**self.check_options(constraint), "column": True})

    def model_extras(self, tables: Sequence[Any], default_schema: str | None, metadata: Sequence[Any] = ()) -> dict[str, Any]:
        """Sequences the models declare (``sa.Sequence`` attached to the metadata or a column)."""
        import sqlalchemy as sa

        from .catalog import sequence_options

        sequences: dict[str, dict[str, Any]] = {}
        found = [s for md in metadata for s in md._sequences.values()]
        found += [c.default for t in tables for c in t.columns if isinstance(c.default, sa.Sequence)]
        for seq in found:
            increment = seq.increment if seq.increment is not None else 1
            up = increment > 0
            minvalue = seq.minvalue if seq.minvalue is not None else (1 if up else -9223372036854775807)
            maxvalue = seq.maxvalue if seq.maxvalue is not None else (9223372036854775806 if up else -1)
            start = seq.start if seq.start is not None else (minvalue if up else maxvalue)
            cache = seq.cache if seq.cache is not None else 1000
            sequences[seq.name] = sequence_options(start, increment, minvalue, maxvalue, cache, bool(seq.cycle))
        return {"sequences": sequences}

    # -- rendering ----------------------------------------------------------------------------------

    def versioning_sql(self, options: Mapping[str, Any]) -> str:
        return " WITH SYSTEM VERSIONING" if options.get("system_versioning") else ""

    def alter_versioning(self, table: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
        if bool(old.get("system_versioning")) == bool(new.get("system_versioning")):
            return []
        return [f"ALTER TABLE {table} {'ADD' if new.get('system_versioning') else 'DROP'} SYSTEM VERSIONING"]

    def render_create_sequence(self, op: CreateSequence) -> list[str]:
        o = op.options
        sql = f"CREATE SEQUENCE {self.qkey(op.name)}"
        for key, word in _SEQUENCE_WORDS:
            if key in o:
                sql += f" {word} {int(o[key])}"
        return [sql + (" CYCLE" if o.get("cycle") else "")]

    def render_alter_sequence(self, op: AlterSequence) -> list[str]:
        """ALTER SEQUENCE with each parameter that changes (one left out of the snapshot is the server's default
        for the sequence's direction); START WITH sets where a RESTART would begin, not the next value."""
        from .catalog import sequence_values

        old, new = sequence_values(op.old), sequence_values(op.new)
        parts = [f"{word} {int(new[key])}" for key, word in _SEQUENCE_WORDS if old[key] != new[key]]
        if old["cycle"] != new["cycle"]:
            parts.append("CYCLE" if new["cycle"] else "NOCYCLE")
        return [f"ALTER SEQUENCE {self.qkey(op.name)} {' '.join(parts)}"] if parts else []

    def render_drop_sequence(self, op: DropSequence) -> list[str]:
        return [f"DROP SEQUENCE {self.qkey(op.name)}"]
