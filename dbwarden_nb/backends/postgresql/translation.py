"""PostgreSQL's rules for translation to SQLite: its type table (enums and domains come from the snapshot)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..base.translation import (
    BLOB,
    CHAR,
    DATETIME,
    DATETIME_TZ,
    INTEGER,
    JSON,
    NUMERIC,
    REAL,
    TEXT,
    TIME,
    UUID,
    VARCHAR,
    TranslationRules,
    TypeRule,
    lossy,
    rules,
)

TYPES: dict[str, TypeRule] = {
    **rules("smallint,integer,bigint,int2,int4,int8,smallserial,serial,bigserial", INTEGER),
    **rules("real,double precision,float4,float8", REAL),
    **rules("numeric,decimal", NUMERIC),
    **rules("character varying,varchar", VARCHAR),
    **rules("character,char,bpchar", CHAR),
    **rules("text,name", TEXT),
    "citext": lossy("case-insensitive text: comparisons become case-sensitive"),
    "boolean": TypeRule("BOOLEAN", "stored as 0/1"),
    "date": TypeRule("DATE", "stored as ISO-8601 text"),
    **rules("timestamp,timestamp without time zone", DATETIME),
    "timestamp with time zone": DATETIME_TZ,
    **rules("time,time without time zone", TIME),
    "time with time zone": TypeRule("TIME", "stored as text: the time zone is not kept"),
    "bytea": BLOB,
    "uuid": UUID,
    **rules("json,jsonb", JSON),
    "interval": lossy("interval arithmetic is lost"),
    **rules("inet,cidr,macaddr,macaddr8", lossy("network address: validation and operators are lost")),
    **rules("int4range,int8range,numrange,tsrange,tstzrange,daterange,int4multirange,int8multirange,"
             "nummultirange,tsmultirange,tstzmultirange,datemultirange", lossy("range: bounds and operators are lost")),
    "money": lossy("money: locale formatting and arithmetic are lost"),
}


class PostgreSQLTranslation(TranslationRules):
    types: ClassVar[Mapping[str, TypeRule]] = TYPES
