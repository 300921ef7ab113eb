"""Model sources for SQL translation (tests/test_translate.py and the CLI's ``--dev`` end-to-end tests).

``MODELS[backend]`` is the body of a models module (put after tests/projects.py's MODEL_HEADER, e.g. with
``ProjectDir.models(MODELS[backend])``) that uses every type the backend translates specially.
``ROWS[backend][table]`` is one sample row per table (column → Python value) that the translated SQLite
schema must store and give back.
"""

from __future__ import annotations

POSTGRESQL = """
import datetime
import decimal
import uuid

mood = sa.Enum("happy", "sad", "it's ok", name="mood", schema="app")
positive = pg.DOMAIN("positive_int", sa.Integer, check="VALUE > 0", not_null=True)
email = pg.DOMAIN("email", sa.Text, check=sa.text("VALUE ~ '@'"))
order_seq = sa.Sequence("order_numbers", metadata=Base.metadata)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = {"schema": "app", "comment": "people we know", "postgresql_with": {"fillfactor": 70}}
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True, comment="the key")
    feeling: Mapped[str | None] = mapped_column(mood)
    shoe: Mapped[int | None] = mapped_column(positive)
    mail: Mapped[str | None] = mapped_column(email)
    name: Mapped[str] = mapped_column(sa.String(40), server_default="nobody")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        sa.CheckConstraint("qty >= 0", name="ck_qty"),
        sa.CheckConstraint("code ~ '^[A-Z]'", name="ck_code_pattern"),
        sa.CheckConstraint("status IN ('new', 'done')", name="ck_status"),
        sa.Index("ix_items_lower_code", sa.func.lower(sa.column("code")), unique=True),
        sa.Index("ix_items_open", "created", postgresql_where=sa.text("NOT flag")),
        sa.Index("ix_items_doc", "doc", postgresql_using="gin"),
        sa.Index("ix_items_md5", sa.func.md5(sa.column("code"))),
        pg.ExcludeConstraint((sa.column("during"), "&&"), using="gist", name="no_overlap"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app.people.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(20), server_default="NEW")
    status: Mapped[str] = mapped_column(sa.String(10), server_default="new")
    qty: Mapped[int] = mapped_column(sa.SmallInteger, server_default=sa.text("0"))
    price: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 3), server_default=sa.text("-1.5"))
    ratio: Mapped[float | None] = mapped_column(sa.Float)
    weight: Mapped[float | None] = mapped_column(sa.REAL)
    flag: Mapped[bool] = mapped_column(server_default=sa.true())
    born: Mapped[datetime.date | None] = mapped_column(sa.Date, server_default=sa.text("CURRENT_DATE"))
    created: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    local: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, server_default=sa.text("LOCALTIMESTAMP"))
    t3: Mapped[datetime.datetime | None] = mapped_column(pg.TIMESTAMP(precision=3))
    at_time: Mapped[datetime.time | None] = mapped_column(sa.Time)
    blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    doc: Mapped[dict | None] = mapped_column(pg.JSONB, server_default=sa.text("'{}'::jsonb"))
    data: Mapped[dict | None] = mapped_column(sa.JSON)
    uid: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, server_default=sa.text("gen_random_uuid()"))
    tags: Mapped[list | None] = mapped_column(pg.ARRAY(sa.Text), server_default=sa.text("'{}'::text[]"))
    grid: Mapped[list | None] = mapped_column(pg.ARRAY(sa.Integer, dimensions=2))
    span: Mapped[datetime.timedelta | None] = mapped_column(sa.Interval)
    ip: Mapped[str | None] = mapped_column(pg.INET)
    net: Mapped[str | None] = mapped_column(pg.CIDR)
    mac: Mapped[str | None] = mapped_column(pg.MACADDR)
    during: Mapped[str | None] = mapped_column(pg.TSTZRANGE)
    seats: Mapped[str | None] = mapped_column(pg.INT4RANGE)
    number: Mapped[int | None] = mapped_column(sa.Integer, server_default=sa.text("nextval('order_numbers')"))
    label: Mapped[str | None] = mapped_column(sa.Text, sa.Computed("upper(code)"))
    digest: Mapped[str | None] = mapped_column(sa.Text, sa.Computed("md5(code)"))
    big: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), unique=True)


class Serial(Base):
    __tablename__ = "serials"
    __table_args__ = (sa.UniqueConstraint("note", name="uq_serials_note", postgresql_nulls_not_distinct=True),)
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    note: Mapped[str | None] = mapped_column(sa.Text, sa.CheckConstraint("note <> ''"))


open_items = sa.Table("open_items", Base.metadata, info={"dbwarden": {
    "view": "SELECT id, code, qty::numeric / 2 AS half FROM items WHERE NOT flag"}})
first_tags = sa.Table("first_tags", Base.metadata, info={"dbwarden": {"view": "SELECT id, tags[1] AS first_tag FROM items"}})
"""

MYSQL = """
import datetime
import decimal

from sqlalchemy.dialects import mysql


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                      "mysql_row_format": "DYNAMIC", "comment": "who buys"}
    id: Mapped[int] = mapped_column(mysql.BIGINT(unsigned=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40, collation="utf8mb4_general_ci"), server_default="it's me")
    code: Mapped[str | None] = mapped_column(sa.String(20), comment="case matters")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint("qty >= 0", name="ck_qty"),
        sa.CheckConstraint("note REGEXP '^[a-z]'", name="ck_note_pattern"),
        sa.Index("ix_orders_mood_size", "mood", "size"),
        sa.Index("ix_orders_made", "made"),
        {"mysql_engine": "InnoDB"},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(mysql.BIGINT(unsigned=True), sa.ForeignKey("customers.id"))
    mood: Mapped[str] = mapped_column(mysql.ENUM("happy", "sad", "it's ok"), server_default="sad")
    size: Mapped[str | None] = mapped_column(sa.Enum("S", "M", "L", name="size"))
    colors: Mapped[set | None] = mapped_column(mysql.SET("red", "green", "blue"), server_default="red,blue")
    bits: Mapped[int | None] = mapped_column(mysql.BIT(5), server_default=sa.text("b'101'"))
    made: Mapped[int | None] = mapped_column(mysql.YEAR, server_default=sa.text("2001"))
    flag: Mapped[bool] = mapped_column(server_default=sa.true())
    tiny: Mapped[int | None] = mapped_column(mysql.TINYINT(unsigned=True), server_default=sa.text("7"))
    medium: Mapped[int | None] = mapped_column(mysql.MEDIUMINT)
    qty: Mapped[int] = mapped_column(mysql.INTEGER(unsigned=True), server_default=sa.text("0"))
    price: Mapped[decimal.Decimal] = mapped_column(mysql.DECIMAL(12, 2, unsigned=True), server_default=sa.text("-0"))
    ratio: Mapped[float | None] = mapped_column(sa.Float)
    exact: Mapped[float | None] = mapped_column(sa.Double, server_default=sa.text("2.5"))
    doc: Mapped[dict | None] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    big_text: Mapped[str | None] = mapped_column(mysql.LONGTEXT)
    blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    raw: Mapped[bytes | None] = mapped_column(sa.VARBINARY(16))
    born: Mapped[datetime.date | None] = mapped_column(sa.Date)
    at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, server_default=sa.func.now())
    changed: Mapped[datetime.datetime | None] = mapped_column(
        mysql.TIMESTAMP(fsp=3), server_default=sa.text("CURRENT_TIMESTAMP(3)"),
        server_onupdate=sa.text("CURRENT_TIMESTAMP(3)"))
    dur: Mapped[datetime.time | None] = mapped_column(mysql.TIME(fsp=2))
    uid: Mapped[str | None] = mapped_column(sa.String(36), server_default=sa.text("(uuid())"))
    area: Mapped[int | None] = mapped_column(sa.Computed("qty * 2"))
    shout: Mapped[str | None] = mapped_column(sa.String(80), sa.Computed("concat(upper(note), '!')"))


big_orders = sa.Table("big_orders", Base.metadata, info={"dbwarden": {
    "view": "SELECT id, qty FROM orders WHERE qty > 10"}})
shouting = sa.Table("shouting", Base.metadata, info={"dbwarden": {
    "view": "SELECT id, concat(note, '!') AS loud FROM orders"}})
"""

CLICKHOUSE = """
import datetime
import decimal
import enum

from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_kind_set", "kind", info={"dbwarden": {"type": "set(50)", "granularity": 2}}),
        engines.MergeTree(order_by="id", partition_by="toYYYYMM(at)", ttl="toDateTime(at) + INTERVAL 1 YEAR"),
        {"comment": "every event", "info": {"dbwarden": {"projections": {"p_by_kind": "SELECT kind, count() GROUP BY kind"}}}},
    )
    id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
    day: Mapped[datetime.date] = mapped_column(ch.Date, server_default=sa.text("today()"))
    kind: Mapped[str] = mapped_column(ch.LowCardinality(ch.String))
    seen: Mapped[datetime.datetime | None] = mapped_column(ch.Nullable(ch.DateTime))
    at: Mapped[datetime.datetime] = mapped_column(ch.DateTime64(3, "UTC"), server_default=sa.text("now64(3)"),
                                                  clickhousedb_codec="Delta, ZSTD(1)")
    kind2: Mapped[str | None] = mapped_column(ch.LowCardinality(ch.Nullable(ch.String)))
    note: Mapped[str | None] = mapped_column(ch.String, nullable=True, server_default=sa.text("'it''s'"))
    amount: Mapped[decimal.Decimal] = mapped_column(ch.Decimal(10, 2), server_default=sa.text("0"))
    level: Mapped[str] = mapped_column(ch.Enum8(enum.Enum("Level", {"low": 1, "high": 5})))
    code: Mapped[bytes] = mapped_column(ch.FixedString(3))
    uid: Mapped[str] = mapped_column(ch.UUID, server_default=sa.text("generateUUIDv4()"))
    tags: Mapped[list] = mapped_column(ch.Array(ch.String))
    attrs: Mapped[dict] = mapped_column(ch.Map(ch.String, ch.UInt64))
    pair: Mapped[tuple] = mapped_column(ch.Tuple(ch.String, ch.Nullable(ch.Int32)))
    maybe: Mapped[int | None] = mapped_column(ch.Nullable(ch.Int64))
    count: Mapped[int | None] = mapped_column(ch.Nullable(ch.UInt64))
    score: Mapped[float | None] = mapped_column(ch.Nullable(ch.Float64))
    small: Mapped[int] = mapped_column(ch.UInt8, server_default=sa.text("1"))
    ok: Mapped[bool] = mapped_column(ch.Bool, server_default=sa.text("true"))
    doc: Mapped[str | None] = mapped_column(ch.Nullable(ch.String))
    twice: Mapped[int] = mapped_column(ch.UInt64, sa.Computed("id * 2"))
    label: Mapped[str] = mapped_column(ch.String, sa.Computed("toString(id)", persisted=False))


class Total(Base):
    __tablename__ = "totals"
    __table_args__ = (engines.SummingMergeTree(columns=("total",), order_by="key"),)
    key: Mapped[str] = mapped_column(ch.String, primary_key=True)
    total: Mapped[int] = mapped_column(ch.UInt64)
    hits: Mapped[int] = mapped_column(ch.UInt32, server_default=sa.text("0"))


recent = sa.Table("recent", Base.metadata, info={"dbwarden": {"view": "SELECT id, kind FROM events WHERE id > 10"}})
labelled = sa.Table("labelled", Base.metadata, info={"dbwarden": {"view": "SELECT id, toString(id) AS s FROM events"}})
"""

# One row per table, in foreign-key order; generated columns are left out (the server computes them).
# Values are what sqlite3 binds and gives back unchanged in the translated column.
ROWS: dict[str, dict[str, dict[str, object]]] = {
    "postgresql": {
        "people": {"id": 1, "feeling": "it's ok", "shoe": 3, "mail": "ann@example.com", "name": "Ann"},
        "items": {
            "id": 1, "owner_id": 1, "code": "ABC", "status": "done", "qty": 2, "price": 12.5, "ratio": 0.25,
            "weight": 1.5, "flag": 1, "born": "2024-01-02", "created": "2024-01-02 03:04:05",
            "local": "2024-01-02 03:04:05", "t3": "2024-01-02 03:04:05.123", "at_time": "12:30:00",
            "blob": b"\x00\x01", "doc": '{"a": 1}', "data": "[1, 2]", "uid": "0b9f6f55-2c6c-4a43-9d6a-1c7a1c1f0e11",
            "tags": "{a,b}", "grid": "{{1,2},{3,4}}", "span": "1 day", "ip": "10.0.0.1", "net": "10.0.0.0/8",
            "mac": "08:00:2b:01:02:03", "during": "[2024-01-01,2024-02-01)", "seats": "[1,5)", "number": 7, "big": 9,
        },
        "serials": {"id": 1, "note": "x"},
    },
    "mysql": {
        "customers": {"id": 1, "name": "Ann", "code": "A1"},
        "orders": {
            "id": 1, "customer_id": 1, "mood": "it's ok", "size": "M", "colors": "red,green", "bits": 5, "made": 2024,
            "flag": 1, "tiny": 200, "medium": -5, "qty": 3, "price": 12.5, "ratio": 0.5, "exact": 2.25,
            "doc": '{"a": [1, 2]}', "note": "hello", "big_text": "long", "blob": b"\xff", "raw": b"\x01\x02",
            "born": "2024-01-02", "at": "2024-01-02 03:04:05", "changed": "2024-01-02 03:04:05.123",
            "dur": "01:02:03.45", "uid": "6ccd780c-baba-1026-9564-5b8c656024db",
        },
    },
    "clickhouse": {
        "events": {
            "id": 1, "at": "2024-01-02 03:04:05.123", "day": "2024-01-02", "seen": None, "kind": "click",
            "kind2": None, "note": "it's", "amount": 10.25, "level": "high", "code": b"abc",
            "uid": "0b9f6f55-2c6c-4a43-9d6a-1c7a1c1f0e11", "tags": "['a','b']", "attrs": "{'k':1}",
            "pair": "('x',NULL)", "maybe": -3, "count": 9007199254740993, "score": 0.5, "small": 255, "ok": 1,
            "doc": '{"x": 1}',
        },
        "totals": {"key": "k", "total": 10, "hits": 2},
    },
}
ROWS["mariadb"] = ROWS["mysql"]

MODELS: dict[str, str] = {"postgresql": POSTGRESQL, "mysql": MYSQL, "mariadb": MYSQL, "clickhouse": CLICKHOUSE}
