"""MySQL's and MariaDB's rules for translation to SQLite: the type table, backslash escapes in strings, and
``tinyint(1)`` as MySQL's boolean."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from ..base.translation import (
    BLOB,
    CHAR,
    DATETIME,
    INTEGER,
    JSON,
    NUMERIC,
    REAL,
    TEXT,
    TIME,
    UUID,
    VARCHAR,
    TranslationRules,
    TypeResult,
    TypeRule,
    lossy,
    rules,
)

TYPES: dict[str, TypeRule] = {
    **rules("tinyint,smallint,mediumint,int,integer,bigint", INTEGER),
    "boolean": TypeRule("BOOLEAN", "stored as 0/1"),
    **rules("float,double,real,double precision", REAL),
    **rules("decimal,numeric,dec,fixed", NUMERIC),
    "varchar": VARCHAR, "char": CHAR,
    **rules("tinytext,text,mediumtext,longtext", TEXT),
    **rules("binary,varbinary,tinyblob,blob,mediumblob,longblob", BLOB),
    "date": TypeRule("DATE", "stored as ISO-8601 text"),
    **rules("datetime,timestamp", DATETIME),
    "time": TIME,
    "year": TypeRule("INTEGER", "the year range 1901–2155 is not enforced"),
    "bit": TypeRule("INTEGER", "the bits as an unsigned integer"),
    "json": JSON, "uuid": UUID,
    "set": lossy("SET: membership is not checked"),
    **rules("inet4,inet6", lossy("network address: validation is lost")),
}


class MySQLTranslation(TranslationRules):
    types: ClassVar[Mapping[str, TypeRule]] = TYPES
    backslash_strings: ClassVar[bool] = True

    def type_shape(self, name: str, args: str | None,
                   translate: Callable[[str], TypeResult]) -> tuple[str, TypeResult | None]:
        name, shaped = super().type_shape(name, args, translate)
        if shaped is None and name == "tinyint" and args == "1":
            return name, TypeResult("BOOLEAN", "converted", "MySQL's boolean: stored as 0/1")
        return name, shaped
