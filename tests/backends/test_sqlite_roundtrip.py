"""SQLite round trips: schemas that together use every object kind of the snapshot, each through the
five steps of SPEC.md, plus one schema made by hand-written DDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import ProjectDir
from roundtrip import round_trip, round_trip_from_ddl

SCHEMAS: dict[str, list[str]] = {
    "types and defaults": ["""
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(20), server_default="new")
            qty: Mapped[int] = mapped_column(sa.SmallInteger, server_default=sa.text("0"))
            big: Mapped[int | None] = mapped_column(sa.BigInteger)
            price: Mapped[float] = mapped_column(sa.Numeric(12, 3), server_default=sa.text("-1.5"))
            ratio: Mapped[float | None] = mapped_column(sa.Float)
            flag: Mapped[bool] = mapped_column(server_default=sa.text("1"))
            born: Mapped[str | None] = mapped_column(sa.Date)
            at: Mapped[str | None] = mapped_column(sa.DateTime, server_default=sa.func.current_timestamp())
            stamp: Mapped[str | None] = mapped_column(sa.Text, server_default=sa.text("(datetime('now', 'localtime'))"))
            blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
            doc: Mapped[dict | None] = mapped_column(sa.JSON)
        """, """
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(40), server_default="old")
            qty: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("1"))
            price: Mapped[float] = mapped_column(sa.Numeric(12, 3), nullable=True)
            ratio: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0.5"))
            flag: Mapped[bool] = mapped_column(server_default=sa.text("0"))
            born: Mapped[str | None] = mapped_column(sa.Date)
            note: Mapped[str | None] = mapped_column(sa.Text, server_default="it's")
        """],
    "composite and named keys": ["""
        class Membership(Base):
            __tablename__ = "memberships"
            __table_args__ = (sa.PrimaryKeyConstraint("org", "member", name="pk_memberships"),
                              sa.UniqueConstraint("member", "since", name="uq_member_since"))
            member: Mapped[str] = mapped_column(sa.String(50))
            org: Mapped[str] = mapped_column(sa.String(50))
            since: Mapped[int]
        """, """
        class Membership(Base):
            __tablename__ = "memberships"
            __table_args__ = (sa.PrimaryKeyConstraint("member", "org"),)
            member: Mapped[str] = mapped_column(sa.String(50))
            org: Mapped[str] = mapped_column(sa.String(50))
            since: Mapped[int]
        """],
    "foreign keys and actions": ["""
        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            referrer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"))

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE", onupdate="CASCADE"))
            status: Mapped[int] = mapped_column(sa.ForeignKey("statuses.code", ondelete="RESTRICT", name="fk_order_status"),
                                                server_default=sa.text("0"))

        class Status(Base):
            __tablename__ = "statuses"
            code: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
            last_order: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET DEFAULT"))
        """, """
        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            referrer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"))
        """],
    "checks": ["""
        class Account(Base):
            __tablename__ = "accounts"
            __table_args__ = (sa.CheckConstraint("balance >= 0", name="ck_balance"),
                              sa.CheckConstraint("kind IN ('a', 'b') AND length(kind) = 1"))
            id: Mapped[int] = mapped_column(primary_key=True)
            balance: Mapped[int]
            kind: Mapped[str] = mapped_column(sa.String(1))
        """, """
        class Account(Base):
            __tablename__ = "accounts"
            __table_args__ = (sa.CheckConstraint("balance >= -100", name="ck_balance"),)
            id: Mapped[int] = mapped_column(primary_key=True)
            balance: Mapped[int]
            kind: Mapped[str] = mapped_column(sa.String(1))
        """],
    "unique constraints": ["""
        class User(Base):
            __tablename__ = "users"
            __table_args__ = (sa.UniqueConstraint("first", "last"), sa.UniqueConstraint("nick", name="uq_nick"))
            id: Mapped[int] = mapped_column(primary_key=True)
            email: Mapped[str] = mapped_column(sa.String(100), unique=True)
            first: Mapped[str] = mapped_column(sa.String(40))
            last: Mapped[str] = mapped_column(sa.String(40))
            nick: Mapped[str | None] = mapped_column(sa.String(40))
        """, """
        class User(Base):
            __tablename__ = "users"
            __table_args__ = (sa.UniqueConstraint("last", "first"),)
            id: Mapped[int] = mapped_column(primary_key=True)
            email: Mapped[str] = mapped_column(sa.String(100))
            first: Mapped[str] = mapped_column(sa.String(40))
            last: Mapped[str] = mapped_column(sa.String(40))
            nick: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
        """],
    "indexes": ["""
        class Event(Base):
            __tablename__ = "events"
            __table_args__ = (
                sa.Index("ix_events_kind_at", "kind", sa.desc("at")),
                sa.Index("ix_events_open", "at", sqlite_where=sa.text("closed = 0")),
                sa.Index("ux_events_lower_name", sa.text("lower(name)"), unique=True),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            kind: Mapped[str] = mapped_column(sa.String(10), index=True)
            name: Mapped[str] = mapped_column(sa.Text)
            at: Mapped[int]
            closed: Mapped[int] = mapped_column(server_default=sa.text("0"))
        """, """
        class Event(Base):
            __tablename__ = "events"
            __table_args__ = (
                sa.Index("ix_events_kind_at", "kind", "at"),
                sa.Index("ix_events_open", "at", "kind", sqlite_where=sa.text("closed = 0 AND kind <> 'x'")),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            kind: Mapped[str] = mapped_column(sa.String(10))
            name: Mapped[str] = mapped_column(sa.Text, index=True)
            at: Mapped[int]
            closed: Mapped[int] = mapped_column(server_default=sa.text("0"))
        """],
    "generated columns": ["""
        class Box(Base):
            __tablename__ = "boxes"
            id: Mapped[int] = mapped_column(primary_key=True)
            w: Mapped[int]
            h: Mapped[int]
            area: Mapped[int] = mapped_column(sa.Computed("w * h", persisted=True))
            label: Mapped[str] = mapped_column(sa.Text, sa.Computed("'box ' || id"))
        """, """
        class Box(Base):
            __tablename__ = "boxes"
            id: Mapped[int] = mapped_column(primary_key=True)
            w: Mapped[int]
            h: Mapped[int]
            area: Mapped[int] = mapped_column(sa.Computed("w * h * 2", persisted=True))
            perimeter: Mapped[int] = mapped_column(sa.Computed("2 * (w + h)", persisted=False))
        """],
    "collations": ["""
        class Tag(Base):
            __tablename__ = "tags"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(30, collation="NOCASE"), unique=True)
            slug: Mapped[str] = mapped_column(sa.Text(collation="RTRIM"))
        """, """
        class Tag(Base):
            __tablename__ = "tags"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(30), unique=True)
            slug: Mapped[str] = mapped_column(sa.Text(collation="NOCASE"))
        """],
    "without rowid and strict": ["""
        class Setting(Base):
            __tablename__ = "settings"
            __table_args__ = {"sqlite_with_rowid": False}
            key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
            value: Mapped[str | None] = mapped_column(sa.Text)

        class Reading(Base):
            __tablename__ = "readings"
            __table_args__ = {"sqlite_strict": True}
            id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
            value: Mapped[float] = mapped_column(sa.REAL)
            raw: Mapped[bytes | None] = mapped_column(sa.BLOB)
        """, """
        class Setting(Base):
            __tablename__ = "settings"
            key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
            value: Mapped[str | None] = mapped_column(sa.Text)

        class Reading(Base):
            __tablename__ = "readings"
            __table_args__ = {"sqlite_strict": True, "sqlite_with_rowid": False}
            id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
            value: Mapped[float] = mapped_column(sa.REAL)
        """],
    "autoincrement": ["""
        class Ticket(Base):
            __tablename__ = "tickets"
            __table_args__ = {"sqlite_autoincrement": True}
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.Text)
        """, """
        class Ticket(Base):
            __tablename__ = "tickets"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.Text)
        """],
    "views": ["""
        class Person(Base):
            __tablename__ = "people"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.Text)
            age: Mapped[int]

        adults = sa.Table("adults", Base.metadata, info={"dbwarden": {"view": "SELECT id, name FROM people WHERE age >= 18"}})
        """, """
        class Person(Base):
            __tablename__ = "people"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.Text)
            age: Mapped[int]
            email: Mapped[str | None] = mapped_column(sa.Text)

        adults = sa.Table("adults", Base.metadata, info={"dbwarden": {"view": "SELECT id, name, email FROM people WHERE age >= 21"}})
        """],
    "odd names": ['''
        class Odd(Base):
            __tablename__ = "select"
            __table_args__ = (sa.Index("ix \\"quoted\\"", "from"), sa.CheckConstraint('"from" <> \\'--;\\'', name="ck; drop"))
            id: Mapped[int] = mapped_column(primary_key=True)
            from_: Mapped[str] = mapped_column("from", sa.Text)
            spaced: Mapped[str | None] = mapped_column("a column", sa.Text, server_default="O'Reilly -- </script>")
            unicode: Mapped[str | None] = mapped_column("naïve_名前", sa.Text)

        class Table2(Base):
            __tablename__ = "order by"
            id: Mapped[int] = mapped_column(primary_key=True)
            odd_id: Mapped[int] = mapped_column(sa.ForeignKey("select.id"))
        ''', '''
        class Odd(Base):
            __tablename__ = "select"
            id: Mapped[int] = mapped_column(primary_key=True)
            from_: Mapped[str] = mapped_column("from", sa.Text, index=True)
            unicode: Mapped[str | None] = mapped_column("naïve_名前", sa.String(10))
        '''],
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_round_trip(name: str, tmp_path: Path, sqlite_url: str) -> None:
    round_trip(ProjectDir(tmp_path / "proj", sqlite_url), SCHEMAS[name])


HAND_WRITTEN = [
    """CREATE TABLE authors (
        id integer primary key,
        name varchar(100) not null collate nocase,
        born int check (born > 1000),
        bio text default 'n/a',
        created timestamp default current_timestamp,
        unique (name, born)
    )""",
    """CREATE TABLE "book shelf" (
        isbn char(13) not null primary key,
        author_id integer references authors on delete cascade,
        title text not null,
        pages int,
        heavy int generated always as (pages > 500) virtual,
        constraint pages_positive check (pages > 0)
    ) without rowid""",
    "CREATE INDEX books_by_title ON \"book shelf\" (title collate nocase, pages desc)",
    "CREATE UNIQUE INDEX authors_lower ON authors (lower(name)) WHERE born IS NOT NULL",
    "CREATE TABLE log (msg, level)",
    "CREATE VIEW prolific AS SELECT a.name, count(*) AS n FROM authors a JOIN \"book shelf\" b ON b.author_id = a.id GROUP BY a.name",
]


def test_round_trip_from_hand_written_ddl(tmp_path: Path, sqlite_url: str) -> None:
    snap = round_trip_from_ddl(ProjectDir(tmp_path / "proj", sqlite_url), HAND_WRITTEN)
    assert set(snap.tables) == {"authors", "book shelf", "log"} and set(snap.views) == {"prolific"}
