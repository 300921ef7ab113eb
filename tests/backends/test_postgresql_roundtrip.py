"""PostgreSQL round trips on a real server: schemas that together use every kind of metadata the seed
promises, each through the five steps of SPEC.md, plus a schema made by hand-written DDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import ProjectDir
from roundtrip import round_trip, round_trip_from_ddl

SCHEMAS: dict[str, list[str]] = {
    "types, defaults, serial": ["""
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(20), server_default="new")
            qty: Mapped[int] = mapped_column(sa.SmallInteger, server_default=sa.text("0"))
            price: Mapped[float] = mapped_column(sa.Numeric(12, 3), server_default=sa.text("-1.5"))
            ratio: Mapped[float | None] = mapped_column(sa.Float)
            flag: Mapped[bool] = mapped_column(server_default=sa.true())
            born: Mapped[str | None] = mapped_column(sa.Date, server_default=sa.text("CURRENT_DATE"))
            at: Mapped[str | None] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
            at2: Mapped[str | None] = mapped_column(sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP"))
            blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
            doc: Mapped[dict | None] = mapped_column(pg.JSONB, server_default=sa.text("'{}'::jsonb"))
            uid: Mapped[str | None] = mapped_column(sa.Uuid, server_default=sa.text("gen_random_uuid()"))
            tags: Mapped[list | None] = mapped_column(pg.ARRAY(sa.Text), server_default=sa.text("'{}'::text[]"))
            grid: Mapped[list | None] = mapped_column(pg.ARRAY(sa.Integer, dimensions=2))
            span: Mapped[str | None] = mapped_column(sa.Interval)
            ip: Mapped[str | None] = mapped_column(pg.INET)
            during: Mapped[str | None] = mapped_column(pg.TSTZRANGE)
            t3: Mapped[str | None] = mapped_column(pg.TIMESTAMP(precision=3))
            big: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), unique=True)
        """, """
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(40), server_default="old")
            qty: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("1"))
            price: Mapped[float] = mapped_column(sa.Numeric(14, 3), nullable=True)
            flag: Mapped[bool] = mapped_column(server_default=sa.false())
            doc: Mapped[dict | None] = mapped_column(pg.JSONB)
            note: Mapped[str | None] = mapped_column(sa.Text, server_default="it's")
        """],
    "identity and generated": ["""
        class Counter(Base):
            __tablename__ = "counters"
            id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True, start=100, increment=5, cycle=True,
                                                                       minvalue=1, maxvalue=10000, cache=3), primary_key=True)
            w: Mapped[int]
            h: Mapped[int]
            area: Mapped[int] = mapped_column(sa.Computed("w * h"))
        """, """
        class Counter(Base):
            __tablename__ = "counters"
            id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=False), primary_key=True)
            w: Mapped[int]
            h: Mapped[int]
            area: Mapped[int] = mapped_column(sa.Computed("w * h * 2"))
        """],
    "schemas, comments, enums, domains": ["""
        mood = sa.Enum("happy", "sad", name="mood", schema="app")
        positive = pg.DOMAIN("positive_int", sa.Integer, check="VALUE > 0", not_null=True)

        class Person(Base):
            __tablename__ = "people"
            __table_args__ = {"schema": "app", "comment": "people we know"}
            id: Mapped[int] = mapped_column(primary_key=True, comment="the key")
            feeling: Mapped[str | None] = mapped_column(mood)
            shoe: Mapped[int | None] = mapped_column(positive)

        class Pet(Base):
            __tablename__ = "pets"
            id: Mapped[int] = mapped_column(primary_key=True)
            owner_id: Mapped[int] = mapped_column(sa.ForeignKey("app.people.id"))
        """, """
        mood = sa.Enum("happy", "meh", "sad", "ecstatic", name="mood", schema="app")
        positive = pg.DOMAIN("positive_int", sa.Integer, check="VALUE > 0", not_null=True)

        class Person(Base):
            __tablename__ = "people"
            __table_args__ = {"schema": "app", "comment": "people we know well"}
            id: Mapped[int] = mapped_column(primary_key=True, comment="the primary key")
            feeling: Mapped[str | None] = mapped_column(mood)
            shoe: Mapped[int | None] = mapped_column(positive)
        """],
    "constraints": ["""
        class Room(Base):
            __tablename__ = "rooms"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(10))
            __table_args__ = (sa.UniqueConstraint("code", postgresql_nulls_not_distinct=True, name="uq_room_code"),)

        class Booking(Base):
            __tablename__ = "bookings"
            __table_args__ = (
                sa.CheckConstraint("seats > 0", name="ck_seats", info={"dbwarden": {"comment": "at least one seat"}}),
                sa.PrimaryKeyConstraint("id", info={"dbwarden": {"comment": "the booking's key"}}),
                sa.CheckConstraint("seats < 100", name="ck_seats_max", info={"dbwarden": {"no_inherit": True}}),
                sa.CheckConstraint("note <> ''", name="ck_note", postgresql_not_valid=True),
                sa.UniqueConstraint("room_id", "day", name="uq_room_day", deferrable=True, initially="DEFERRED",
                                    postgresql_include=["seats"]),
                sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name="fk_room", ondelete="CASCADE", onupdate="SET NULL",
                                        match="FULL", deferrable=True, initially="DEFERRED"),
                pg.ExcludeConstraint((sa.column("during"), "&&"), using="gist", name="no_overlap", where=sa.text("seats > 2")),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            room_id: Mapped[int | None]
            day: Mapped[str] = mapped_column(sa.Date)
            seats: Mapped[int]
            note: Mapped[str | None] = mapped_column(sa.Text)
            during: Mapped[str] = mapped_column(pg.TSRANGE)
        """, """
        class Room(Base):
            __tablename__ = "rooms"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(10), unique=True)

        class Booking(Base):
            __tablename__ = "bookings"
            __table_args__ = (
                sa.CheckConstraint("seats > 1", name="ck_seats"),
                sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name="fk_room"),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            room_id: Mapped[int | None]
            day: Mapped[str] = mapped_column(sa.Date)
            seats: Mapped[int]
            during: Mapped[str] = mapped_column(pg.TSRANGE)
        """],
    "indexes": ["""
        class Doc(Base):
            __tablename__ = "docs"
            __table_args__ = (
                sa.Index("ix_docs_title_lower", sa.func.lower(sa.column("title")), unique=True),
                sa.Index("ix_docs_open", "created", postgresql_where=sa.text("NOT closed"),
                         info={"dbwarden": {"comment": "documents still open"}}),
                sa.Index("ix_docs_cover", "author", postgresql_include=["title"], postgresql_with={"fillfactor": 60}),
                sa.Index("ix_docs_body", "body", postgresql_using="gin"),
                sa.Index("ix_docs_ordering", sa.desc("created").nulls_last(), sa.asc("author").nulls_first()),
                sa.Index("ix_docs_pattern", "title", postgresql_ops={"title": "text_pattern_ops"}),
                sa.Index("ix_docs_nnd", "author", "slug", unique=True, postgresql_nulls_not_distinct=True),
                sa.Index("ix_docs_coll", sa.collate(sa.column("slug"), "C")),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.Text)
            slug: Mapped[str | None] = mapped_column(sa.Text)
            author: Mapped[int | None]
            created: Mapped[str | None] = mapped_column(sa.DateTime)
            closed: Mapped[bool] = mapped_column(server_default=sa.false())
            body: Mapped[dict | None] = mapped_column(pg.JSONB)
        """, """
        class Doc(Base):
            __tablename__ = "docs"
            __table_args__ = (
                sa.Index("ix_docs_title_lower", sa.func.lower(sa.column("title"))),
                sa.Index("ix_docs_open", "created", "author", postgresql_where=sa.text("NOT closed AND author IS NOT NULL")),
                sa.Index("ix_docs_body", "body", postgresql_using="gin", postgresql_ops={"body": "jsonb_path_ops"}),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.Text)
            slug: Mapped[str | None] = mapped_column(sa.Text)
            author: Mapped[int | None]
            created: Mapped[str | None] = mapped_column(sa.DateTime)
            closed: Mapped[bool] = mapped_column(server_default=sa.false())
            body: Mapped[dict | None] = mapped_column(pg.JSONB)
        """],
    "table options, storage, collation": ["""
        class Log(Base):
            __tablename__ = "logs"
            __table_args__ = {"postgresql_with": {"fillfactor": 70, "autovacuum_enabled": "false"}, "prefixes": ["UNLOGGED"]}
            id: Mapped[int] = mapped_column(primary_key=True)
            line: Mapped[str] = mapped_column(sa.Text, info={"dbwarden": {"storage": "external", "compression": "pglz"}})
            name: Mapped[str] = mapped_column(sa.String(50, collation="C"))
        """, """
        class Log(Base):
            __tablename__ = "logs"
            __table_args__ = {"postgresql_with": {"fillfactor": 90}}
            id: Mapped[int] = mapped_column(primary_key=True)
            line: Mapped[str] = mapped_column(sa.Text, info={"dbwarden": {"storage": "main"}})
            name: Mapped[str] = mapped_column(sa.String(50, collation="POSIX"))
        """],
    "inheritance and partitions": ["""
        class City(Base):
            __tablename__ = "cities"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.Text)

        capitals = sa.Table("capitals", Base.metadata,
                            sa.Column("id", sa.Integer, nullable=False), sa.Column("name", sa.Text, nullable=False),
                            sa.Column("state", sa.String(2)), postgresql_inherits="cities")

        measurements = sa.Table("measurements", Base.metadata,
                                sa.Column("city_id", sa.Integer, nullable=False), sa.Column("logdate", sa.Date, nullable=False),
                                sa.Column("peak", sa.Integer), postgresql_partition_by="RANGE (logdate)")
        m2024 = sa.Table("measurements_2024", Base.metadata,
                         sa.Column("city_id", sa.Integer, nullable=False), sa.Column("logdate", sa.Date, nullable=False),
                         sa.Column("peak", sa.Integer),
                         info={"dbwarden": {"partition_of": "measurements",
                                            "partition_bound": "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"}})
        """],
    "views": ["""
        class Person(Base):
            __tablename__ = "people"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.Text)
            age: Mapped[int]

        adults = sa.Table("adults", Base.metadata, info={"dbwarden": {"view": "SELECT id, name FROM people WHERE age >= 18"}})
        seniors = sa.Table("seniors", Base.metadata, info={"dbwarden": {"view": "SELECT id FROM adults WHERE id > 65"}})
        stats = sa.Table("age_stats", Base.metadata,
                         info={"dbwarden": {"view": "SELECT age, count(*) AS n FROM people GROUP BY age", "materialized": True}})
        """, """
        class Person(Base):
            __tablename__ = "people"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.Text)
            age: Mapped[int]

        adults = sa.Table("adults", Base.metadata, info={"dbwarden": {"view": "SELECT id, name, age FROM people WHERE age >= 21"}})
        """],
    "sequences and odd names": ['''
        invoice_seq = sa.Sequence("invoice_numbers", start=1000, increment=10)

        class Invoice(Base):
            __tablename__ = "Invoice Table"
            id: Mapped[int] = mapped_column(primary_key=True)
            number: Mapped[int] = mapped_column(sa.BigInteger, invoice_seq, server_default=invoice_seq.next_value())
            select_: Mapped[str | None] = mapped_column("select", sa.Text, server_default="O'Reilly -- </script>")
            odd: Mapped[str | None] = mapped_column('we"ird col', sa.Text, comment="it's <b>bold</b>")
            __table_args__ = (sa.Index('ix "quoted"', "select"), sa.CheckConstraint('"select" <> \\'--;\\'', name="ck; drop"))
        '''],
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_round_trip(name: str, tmp_path: Path, pg_url: str) -> None:
    round_trip(ProjectDir(tmp_path / "proj", pg_url, database_type="postgresql"), SCHEMAS[name])


HAND_WRITTEN = [
    "CREATE TYPE status AS ENUM ('new', 'paid', 'shipped')",
    "CREATE DOMAIN email AS text CHECK (VALUE ~ '@')",
    """CREATE TABLE customers (
        id bigserial PRIMARY KEY,
        email email NOT NULL UNIQUE,
        name varchar(100) COLLATE "C",
        created timestamptz NOT NULL DEFAULT now(),
        score numeric(5,2) DEFAULT 0 CHECK (score >= 0)
    ) WITH (fillfactor = 80)""",
    """CREATE TABLE orders (
        id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        customer_id bigint REFERENCES customers ON DELETE CASCADE DEFERRABLE,
        status status NOT NULL DEFAULT 'new',
        total numeric(10,2),
        tax numeric(10,2) GENERATED ALWAYS AS (total * 0.2) STORED,
        tags text[] DEFAULT '{}'
    )""",
    "CREATE INDEX orders_open ON orders (customer_id) WHERE status <> 'shipped'",
    "CREATE INDEX orders_tags ON orders USING gin (tags)",
    "COMMENT ON TABLE orders IS 'customer orders'",
    "COMMENT ON COLUMN orders.total IS 'before tax'",
    "CREATE VIEW big_orders AS SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100",
    "CREATE MATERIALIZED VIEW order_counts AS SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id",
    "CREATE TABLE audit (at timestamp(0) without time zone, who text, what jsonb)",
    "CREATE SEQUENCE ticket_seq START 500",
]


def test_round_trip_from_hand_written_ddl(tmp_path: Path, pg_url: str) -> None:
    snap = round_trip_from_ddl(ProjectDir(tmp_path / "proj", pg_url, database_type="postgresql"), HAND_WRITTEN)
    assert set(snap.tables) == {"customers", "orders", "audit"}
    assert set(snap.views) == {"big_orders", "order_counts"}
    assert snap.enums == {"status": ("new", "paid", "shipped")} and "email" in snap.domains and "ticket_seq" in snap.sequences


def test_round_trip_with_tablespaces(tmp_path: Path, pg_url: str) -> None:
    """Tables, indexes and unique constraints in a tablespace other than the default one."""
    import os
    import pwd
    import shutil
    import tempfile
    import uuid

    import sqlalchemy as sa

    from dbwarden_nb.config import sqlalchemy_url

    name = f"dbw_ts_{uuid.uuid4().hex[:8]}"
    location = Path(tempfile.mkdtemp(prefix=name))  # the server must reach it: not under pytest's private tmp
    owner = pwd.getpwnam("postgres")
    os.chown(location, owner.pw_uid, owner.pw_gid)
    engine = sa.create_engine(sqlalchemy_url(pg_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TABLESPACE {name} LOCATION '{location}'")
    try:
        round_trip(ProjectDir(tmp_path / "proj", pg_url, database_type="postgresql"), [f"""
            class Archive(Base):
                __tablename__ = "archive"
                __table_args__ = (sa.Index("ix_archive_at", "at", postgresql_tablespace="{name}"),
                                  {{"postgresql_tablespace": "{name}"}})
                id: Mapped[int] = mapped_column(primary_key=True)
                at: Mapped[int]
            """, """
            class Archive(Base):
                __tablename__ = "archive"
                __table_args__ = (sa.Index("ix_archive_at", "at"),)
                id: Mapped[int] = mapped_column(primary_key=True)
                at: Mapped[int]
            """])
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP TABLESPACE IF EXISTS {name}")
        engine.dispose()
        shutil.rmtree(location, ignore_errors=True)
