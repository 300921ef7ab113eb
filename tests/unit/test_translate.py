"""Translation to SQLite (``dbwarden_nb.translate``) on hand-made snapshots, offline: every table and column is
kept, each decision is reported, and the result converges (SQLite in memory, built from it, reads back the same)."""

from __future__ import annotations

import pytest

from dbwarden_nb.backends import get_backend
from dbwarden_nb.differ import diff
from dbwarden_nb.errors import TranslationError
from dbwarden_nb.schema import Check, Column, Snapshot, View
from dbwarden_nb.translate import translate
from unit.samples import table

SOURCES = {
    "postgresql": [Column("uid", "UUID", nullable=False), Column("doc", "JSONB"), Column("at", "TIMESTAMP WITH TIME ZONE"),
                   Column("mood", "mood"), Column("tags", "TEXT[]"), Column("price", "NUMERIC(10, 2)", default="0")],
    "mysql": [Column("flag", "TINYINT(1)"), Column("body", "LONGTEXT"), Column("kind", "ENUM('a','b')"),
              Column("price", "DECIMAL(10,2)", default="0.00")],
    "clickhouse": [Column("n", "UInt64"), Column("s", "LowCardinality(String)"), Column("d", "DateTime64(3)"),
                   Column("m", "Map(String, Int32)")],
}


def source(backend: str) -> Snapshot:
    items = table(backend, "items", *SOURCES[backend])
    if backend != "clickhouse":
        items = items.replace(checks=(Check("ck_items_id", "id > 0"),))
    return Snapshot.of(backend, [items], [View("ids", "SELECT id FROM items")],
                       enums={"mood": ("happy", "sad")} if backend == "postgresql" else {})


def built(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` created on an in-memory SQLite database by the sqlite backend, and read back."""
    sqlite = get_backend("sqlite")
    plan = sqlite.adapt(diff(sqlite.empty(), snapshot), sqlite.empty(), snapshot)
    with sqlite.connect("sqlite://") as conn:
        with conn.transaction():
            for statement in sqlite.render_plan(plan):
                conn.execute(statement.sql)
        return sqlite.introspect(conn)


@pytest.mark.parametrize("backend", sorted(SOURCES))
def test_translation_keeps_every_column_and_converges(backend: str) -> None:
    snap = source(backend)
    translated, report = translate(snap, "primary")
    assert translated.backend == "sqlite"
    assert [c.name for c in translated.tables["items"].columns] == [c.name for c in snap.tables["items"].columns]
    assert {(d.table, d.column) for d in report.decisions if d.kind == "type"} >= {
        ("items", c.name) for c in snap.tables["items"].columns}
    assert all(d.action in ("kept", "converted", "fallback", "dropped") for d in report.decisions)
    assert built(translated) == translated  # a migration made from it leaves nothing to do


def test_a_sqlite_snapshot_is_its_own_translation() -> None:
    snap = Snapshot.of("sqlite", [table("sqlite", "t", Column("a", "TEXT"))])
    translated, report = translate(snap, "primary")
    assert translated is snap and {d.action for d in report.decisions} == {"kept"}


def test_strict_refuses_what_falls_back_in_one_line() -> None:
    snap = Snapshot.of("postgresql", [table("postgresql", "t", Column("shape", "POLYGON"))])
    _, report = translate(snap, "primary")
    if not report.warnings:
        pytest.fail(f"POLYGON translated without a fallback: {[d.line() for d in report.decisions]}")
    with pytest.raises(TranslationError) as err:
        translate(snap, "primary", strict=True)
    assert str(err.value).startswith("strict translation of primary (postgresql \u2192 sqlite) refuses")
    assert "\n" not in str(err.value)
