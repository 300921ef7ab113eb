"""ClickHouse round trips on the embedded chDB engine: schemas that together use the column types,
defaults, codecs, TTLs, engines, skip indexes, projections and views the backend promises, each through
the five steps of SPEC.md, plus a schema made by hand-written DDL."""

from __future__ import annotations

import pytest
from projects import ProjectDir
from roundtrip import round_trip, round_trip_from_ddl

HEAD = """
        from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
        from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines
"""

SCHEMAS: dict[str, list[str]] = {
    "mergetree: types, defaults, codecs, ttl, indexes, projections": [HEAD + """
        import enum

        class Color(enum.Enum):
            red = 1
            green = 2

        class Event(Base):
            __tablename__ = "events"
            __table_args__ = (
                engines.MergeTree(order_by=("id", "intHash32(id)"), partition_by="toYYYYMM(at)",
                                  sample_by="intHash32(id)", ttl="toDateTime(at) + INTERVAL 1 YEAR",
                                  settings={"index_granularity": 4096, "merge_with_ttl_timeout": 3600}),
                sa.Index("ix_kind", "kind", info={"dbwarden": {"type": "set(100)", "granularity": 2}}),
                sa.Index("ix_note", sa.text("lower(note)"), info={"dbwarden": {"type": "bloom_filter(0.01)"}}),
                sa.CheckConstraint("amount >= 0", name="ck_amount"),
                sa.CheckConstraint("kind != 'it''s' AND length(code) = 3", name="ck kind"),
                {"comment": "all events",
                 "info": {"dbwarden": {"projections": {"p_kind": "SELECT kind, count() GROUP BY kind"}}}},
            )
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            at: Mapped[str] = mapped_column(ch.DateTime64(3, "UTC"), server_default=sa.text("now64(3)"), comment="when",
                                            clickhousedb_codec="Delta, ZSTD(1)")
            kind: Mapped[str] = mapped_column(ch.LowCardinality(ch.String))
            kind2: Mapped[str | None] = mapped_column(ch.LowCardinality(ch.Nullable(ch.String)))
            note: Mapped[str | None] = mapped_column(ch.String, nullable=True,
                                                     clickhousedb_ttl="toDateTime(at) + INTERVAL 1 DAY")
            amount: Mapped[float] = mapped_column(ch.Decimal(10, 2), server_default=sa.text("0"))
            color: Mapped[str] = mapped_column(ch.Enum8(Color))
            code: Mapped[str] = mapped_column(ch.FixedString(3), clickhousedb_codec="LZ4HC(9)")
            uid: Mapped[str] = mapped_column(ch.UUID, server_default=sa.text("generateUUIDv4()"))
            tags: Mapped[list] = mapped_column(ch.Array(ch.String))
            attrs: Mapped[dict] = mapped_column(ch.Map(ch.String, ch.UInt64))
            pair: Mapped[tuple] = mapped_column(ch.Tuple(ch.String, ch.Nullable(ch.Int32)))
            maybe: Mapped[int | None] = mapped_column(ch.Nullable(ch.Int64))
            plain: Mapped[int] = mapped_column(sa.Integer)  # generic type, implicit nullability: NOT Nullable
            twice: Mapped[int] = mapped_column(ch.UInt64, sa.Computed("id * 2"))
            label: Mapped[str] = mapped_column(ch.String, sa.Computed("toString(id)", persisted=False))
            raw: Mapped[str] = mapped_column(ch.String, server_default=sa.text("'x'"),
                                             info={"dbwarden": {"ephemeral": True}})
        """, HEAD + """
        class Event(Base):
            __tablename__ = "events"
            __table_args__ = (
                engines.MergeTree(order_by=("id", "intHash32(id)"), partition_by="toYYYYMM(at)",
                                  sample_by="intHash32(id)", ttl="toDateTime(at) + INTERVAL 2 YEAR",
                                  settings={"index_granularity": 4096, "merge_with_ttl_timeout": 7200}),
                sa.Index("ix_kind", "kind", info={"dbwarden": {"type": "set(200)", "granularity": 2}}),
                sa.Index("ix_amount", "amount", info={"dbwarden": {"type": "minmax", "granularity": 1}}),
                {"comment": "events v2",
                 "info": {"dbwarden": {"projections": {"p_at": "SELECT at, id ORDER BY at"}}}},
            )
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            at: Mapped[str] = mapped_column(ch.DateTime64(3, "UTC"), server_default=sa.text("now64(3)"),
                                            clickhousedb_codec="ZSTD(3)")
            kind: Mapped[str | None] = mapped_column(ch.LowCardinality(ch.String), nullable=True)
            note: Mapped[str | None] = mapped_column(ch.String, nullable=True, comment="free text")
            amount: Mapped[float] = mapped_column(ch.Decimal(18, 2), server_default=sa.text("1"))
            plain: Mapped[int] = mapped_column(ch.Int64)
            twice: Mapped[int] = mapped_column(ch.UInt64, sa.Computed("id * 3"))
            added: Mapped[str] = mapped_column(ch.String, server_default=sa.text("'new'"))
        """],
    "engines": [HEAD + """
        class Replacing(Base):
            __tablename__ = "replacing"
            __table_args__ = (engines.ReplacingMergeTree(version="ver", order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            ver: Mapped[int] = mapped_column(ch.UInt32)

        class Summing(Base):
            __tablename__ = "summing"
            __table_args__ = (engines.SummingMergeTree(columns=("total",), order_by="key", primary_key="key"),)
            key: Mapped[str] = mapped_column(ch.String, primary_key=True)
            total: Mapped[int] = mapped_column(ch.UInt64)

        class Aggregating(Base):
            __tablename__ = "aggregating"
            __table_args__ = (engines.AggregatingMergeTree(order_by="key"),)
            key: Mapped[str] = mapped_column(ch.String, primary_key=True)
            hits: Mapped[int] = mapped_column(ch.UInt64)

        class Collapsing(Base):
            __tablename__ = "collapsing"
            __table_args__ = (engines.CollapsingMergeTree(sign="sign", order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            sign: Mapped[int] = mapped_column(ch.Int8)

        class Versioned(Base):
            __tablename__ = "versioned"
            __table_args__ = (engines.VersionedCollapsingMergeTree(sign="sign", version="ver", order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            sign: Mapped[int] = mapped_column(ch.Int8)
            ver: Mapped[int] = mapped_column(ch.UInt8)

        class Small(Base):
            __tablename__ = "small_log"
            __table_args__ = (engines.Log(),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)

        class Tiny(Base):
            __tablename__ = "tiny_log"
            __table_args__ = (engines.TinyLog(),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)

        class Stripe(Base):
            __tablename__ = "stripe_log"
            __table_args__ = (engines.StripeLog(),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)

        class Mem(Base):
            __tablename__ = "mem"
            __table_args__ = (engines.Memory(),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)

        class Sink(Base):
            __tablename__ = "sink"
            __table_args__ = (engines.Null(),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
        """],
    "views and materialized views": [HEAD + """
        class Hit(Base):
            __tablename__ = "hits"
            __table_args__ = (engines.MergeTree(order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            url: Mapped[str] = mapped_column(ch.String)

        class Count(Base):
            __tablename__ = "hit_counts"
            __table_args__ = (engines.SummingMergeTree(order_by="url"),)
            url: Mapped[str] = mapped_column(ch.String, primary_key=True)
            n: Mapped[int] = mapped_column(ch.UInt64)

        v_long = sa.Table("long_hits", Base.metadata,
                          info={"dbwarden": {"view": "SELECT id, url FROM hits WHERE length(url) > 10"}})
        mv_counts = sa.Table("hit_counts_mv", Base.metadata, info={"dbwarden": {
            "view": "SELECT url, count() AS n FROM hits GROUP BY url", "materialized": True, "to": "hit_counts"}})
        """, HEAD + """
        class Hit(Base):
            __tablename__ = "hits"
            __table_args__ = (engines.MergeTree(order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            url: Mapped[str] = mapped_column(ch.String)

        class Count(Base):
            __tablename__ = "hit_counts"
            __table_args__ = (engines.SummingMergeTree(order_by="url"),)
            url: Mapped[str] = mapped_column(ch.String, primary_key=True)
            n: Mapped[int] = mapped_column(ch.UInt64)

        v_long = sa.Table("long_hits", Base.metadata,
                          info={"dbwarden": {"view": "SELECT id, url FROM hits WHERE length(url) > 20"}})
        """],
}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_round_trip(tmp_path, clickhouse_url, name):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    round_trip(project, SCHEMAS[name])


def test_round_trip_from_hand_written_ddl(tmp_path, clickhouse_url):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    snap = round_trip_from_ddl(project, [
        """CREATE TABLE visits (
            `id` UInt64 CODEC(DoubleDelta),
            `user` LowCardinality(Nullable(String)) COMMENT 'who',
            `at` DateTime('Europe/Berlin') DEFAULT now(),
            `amount` Nullable(Decimal(9, 3)),
            `day` Date MATERIALIZED toDate(at),
            `e16` Enum16('a' = 1, 'b' = 1000),
            `nested` Array(Map(String, Tuple(UInt8, Nullable(String)))),
            INDEX ix_user user TYPE bloom_filter GRANULARITY 3,
            CONSTRAINT `positive amount` CHECK amount > 0 OR amount IS NULL
        ) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(at) PRIMARY KEY id ORDER BY (id, at)
          TTL at + INTERVAL 90 DAY SETTINGS index_granularity = 1024 COMMENT 'by hand'""",
        "CREATE TABLE plain_log (msg String) ENGINE = Log",
        "CREATE VIEW recent AS SELECT id, at FROM visits WHERE at > now() - INTERVAL 1 DAY",
    ])
    visits = snap.tables["visits"]
    assert visits.options["primary_key"] == "id" and visits.options["order_by"] == "(id, at)"
    assert visits.column("user").nullable and visits.column("user").type == "LowCardinality(String)"
    assert visits.column("id").options["codec"] == "DoubleDelta"
    assert [i.options["type"] for i in visits.indexes] == ["bloom_filter"]
    assert [c.name for c in visits.checks] == ["positive amount"]
