"""The model side: SQLAlchemy tables to snapshot facts in the server's spelling, and normalization through a scratch database."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from ...schema import PrimaryKey, SchemaObject, Snapshot, Table
from ..base import Connection, Mixin
from ..base.options import model_options
from .codegen import INTEGER_TYPES
from .options import NOT_CREATE_OPTIONS, PREFIXES, TABLE_OPTIONS

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import sqlalchemy as sa

# SQLAlchemy's compiled type names → the server's COLUMN_TYPE base names (the offline path; online the
# server decides). Parameters the server fills in when they are left out.
TYPE_NAMES = {
    "INTEGER": "int", "INT": "int", "BOOL": "tinyint", "BOOLEAN": "tinyint", "NUMERIC": "decimal", "DEC": "decimal",
    "FIXED": "decimal", "REAL": "double", "DOUBLE PRECISION": "double", "NATIONAL CHAR": "char", "NCHAR": "char",
    "NATIONAL VARCHAR": "varchar", "NVARCHAR": "varchar", "CHARACTER": "char", "CHARACTER VARYING": "varchar",
}
DEFAULT_PARAMS = {"decimal": "10,0", "bit": "1", "char": "1", "binary": "1"}
DEFAULT_WIDTHS = {"tinyint": (4, 3), "smallint": (6, 5), "mediumint": (9, 8), "int": (11, 10), "bigint": (20, 20)}  # (signed, unsigned)
_SPELLED = re.compile(r"^(?P<base>[A-Za-z][A-Za-z ]*?)\s*(?:\((?P<params>.*)\))?(?P<flags>(?:\s+(?:UNSIGNED|SIGNED|ZEROFILL))*)"
                      r"(?P<tail>(?:\s+(?:CHARACTER SET|CHARSET|COLLATE)\s+\S+|\s+BINARY|\s+ASCII|\s+UNICODE)*)\s*$", re.IGNORECASE | re.DOTALL)
_TIMESTAMP_WORDS = re.compile(r"^(current_timestamp|now|localtime|localtimestamp)(\(\s*(\d*)\s*\))?$", re.IGNORECASE)

class MySQLModel(Mixin):
    """The model side: SQLAlchemy tables to snapshot facts in the server's spelling, and normalization through a scratch database."""

    sequence_owns_counter: ClassVar[bool]  # the backend class's (MySQL's and MariaDB's differ)

    if TYPE_CHECKING:  # from MySQLBackend
        def scratch_database(self, conn: Connection, prefix: str, snapshot: Snapshot) -> AbstractContextManager[str]: ...

    def canonical_type(self, spelled: str) -> str:
        """SQLAlchemy's spelling → the server's COLUMN_TYPE (offline; online the server decides)."""
        m = _SPELLED.match(" ".join(spelled.strip().split()))
        if m is None:
            return spelled.strip()
        base = m.group("base").strip().upper()
        params = m.group("params")
        flags = m.group("flags").upper().split()
        name = TYPE_NAMES.get(base, base.lower())
        if base in ("BOOL", "BOOLEAN"):
            params = "1"
        if name in ("enum", "set"):
            return f"{name}({params})"
        params = params.replace(" ", "") if params is not None else None
        unsigned, zerofill = "UNSIGNED" in flags or "ZEROFILL" in flags, "ZEROFILL" in flags
        if name == "decimal" and params is not None and "," not in params:
            params += ",0"
        if name == "float" and params is not None and "," not in params:
            name, params = ("float" if int(params or 0) <= 24 else "double"), None
        if name in ("text", "blob") and params:  # the smallest type that holds it (text: utf8mb4, 4 bytes a character)
            size = int(params) * (4 if name == "text" else 1)
            prefix = "tiny" if size < 256 else "" if size < 65536 else "medium" if size < 16777216 else "long"
            name, params = prefix + name, None
        if name in INTEGER_TYPES:
            params = self.integer_width(name, params, unsigned, zerofill)
        elif params is None:
            params = DEFAULT_PARAMS.get(name)
        if name == "year":
            params = self.year_width(params)
        out = name + (f"({params})" if params else "")
        return out + (" unsigned" if unsigned else "") + (" zerofill" if zerofill else "")

    def integer_width(self, name: str, width: str | None, unsigned: bool, zerofill: bool) -> str | None:
        """MySQL ≥ 8.0.19 prints no display width for integers, except tinyint(1) and with ZEROFILL."""
        if zerofill and width is None:
            return str(DEFAULT_WIDTHS[name][1 if unsigned else 0])
        if zerofill or (name == "tinyint" and width == "1"):
            return width
        return None

    def year_width(self, width: str | None) -> str | None:
        return None

    def canonical_default(self, text: str) -> str:
        text = self.canonical_expression(text)
        m = _TIMESTAMP_WORDS.match(text)
        if m:  # now() and friends are CURRENT_TIMESTAMP; the server prints that
            return "CURRENT_TIMESTAMP" + (f"({m.group(3)})" if m.group(3) else "")
        return text

    def column_options(self, column: sa.Column[Any]) -> dict[str, Any]:
        info = dict(column.info.get("dbwarden") or {})
        options: dict[str, Any] = {k: info[k] for k in ("invisible", "srid") if k in info}
        onupdate = column.server_onupdate
        text = getattr(getattr(onupdate, "arg", None), "text", None) or getattr(onupdate, "arg", None)
        if isinstance(text, str):
            options["on_update"] = self.canonical_default(text)
        elif "on_update" in info:
            options["on_update"] = info["on_update"]
        if column.autoincrement is True or self._sa_autoincrement(column):
            options["auto_increment"] = True
        return options

    def _sa_autoincrement(self, column: sa.Column[Any]) -> bool:
        """Whether SQLAlchemy's MySQL DDL would print AUTO_INCREMENT for the column."""
        import sqlalchemy as sa

        table = column.table
        if table is None or table._autoincrement_column is not column:
            return False
        if column.server_default is not None and not isinstance(column.server_default, sa.Identity):
            return False
        return not (isinstance(column.default, sa.Sequence) and self.sequence_owns_counter
                    and not column.default.optional)

    def computed_stored(self, computed: Any) -> bool:
        return computed.persisted is True  # unspecified is VIRTUAL here

    def table_options(self, table: sa.Table) -> dict[str, Any]:
        options, rest = model_options(TABLE_OPTIONS, table.kwargs, table.info.get("dbwarden") or {}, PREFIXES)
        create = {k: str(v) for k, v in rest.items() if k not in NOT_CREATE_OPTIONS}
        if create:
            options["create_options"] = create
        return options

    def index_options(self, index: sa.Index) -> dict[str, Any]:
        kw = {k.partition("_")[2]: v for k, v in index.kwargs.items() if k.startswith(("mysql_", "mariadb_")) and v is not None}
        info = dict(index.info.get("dbwarden") or {})
        options: dict[str, Any] = {}
        if kw.get("prefix"):
            options["prefix"] = str(kw["prefix"]).upper()
        if kw.get("using") and str(kw["using"]).upper() != "BTREE":
            options["using"] = str(kw["using"]).upper()
        length = kw.get("length")
        if length is not None:
            names = [getattr(e, "name", None) for e in index.expressions]
            lengths = dict(length) if isinstance(length, dict) else {n: length for n in names if n}
            if options.get("prefix") != "SPATIAL":
                options["length"] = {str(k): int(v) for k, v in lengths.items()}
        for key in ("invisible", "ignored", "comment"):
            if info.get(key):
                options[key] = info[key]
        return options

    def check_options(self, constraint: sa.CheckConstraint) -> dict[str, Any]:
        info = dict(constraint.info.get("dbwarden") or {})
        return {k: True for k in ("not_enforced", "column") if info.get(k)}

    def foreign_key_options(self, constraint: sa.ForeignKeyConstraint) -> dict[str, Any]:
        info = dict(constraint.info.get("dbwarden") or {})
        return {"index": str(info["index"])} if info.get("index") else {}

    def normalize_model_table(self, table: Table) -> Table:
        pk = table.primary_key
        return table.replace(primary_key=PrimaryKey(None, pk.columns)) if pk and pk.name else table

    def model_extras(self, tables: Sequence[Any], default_schema: str | None, metadata: Sequence[Any] = ()) -> dict[str, Any]:
        return {}

    def normalize_models(self, raw: Snapshot, conn: Connection | None) -> Snapshot:
        """Create the models in a scratch database on the same server and read them back."""
        if conn is None:
            return raw
        with self.scratch_database(conn, "dbwarden_scratch", raw) as scratch:
            snap = self.introspect(conn, [scratch])
        return snap.replace(server_version=raw.server_version, objects=_starts_as_declared(snap.objects, raw.objects))


def _starts_as_declared(objects: Mapping[str, SchemaObject], declared: Mapping[str, SchemaObject]) -> dict[str, SchemaObject]:
    """The normalized objects, an event declared without a STARTS time without the one the scratch database gave
    it: its creation time (or, for ``STARTS CURRENT_TIMESTAMP + INTERVAL …``, a time computed from it), which would
    change each time the models are normalized (differ.same_object compares without it)."""
    from ...differ import without_starts

    def starts(obj: SchemaObject | None) -> bool:
        return obj is None or re.search(r"\bSTARTS\s*'", re.split(r"\bDO\b", obj.definition, maxsplit=1, flags=re.IGNORECASE)[0],
                                        re.IGNORECASE) is not None

    return {k: o if o.kind != "event" or starts(declared.get(k)) else replace(o, definition=without_starts(o.definition))
            for k, o in objects.items()}
