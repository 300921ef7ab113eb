"""Adopting ClickHouse databases made by hand with a chDB client, as a newcomer does it (``init`` without models →
``snapshot`` → ``generate-models`` → ``baseline``), judged by ``SHOW CREATE`` of the original and of a fresh database
built from the generated models: plain MergeTree tables, dictionaries, automatic minmax indexes, and what the
snapshot does not manage (user-defined functions), which is listed."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from roundtrip import adopt

pytest.importorskip("clickhouse_connect")

SHAPES: dict[str, str] = {
    "plain MergeTree tables, before any model exists": """
        CREATE TABLE events (id UInt64, at DateTime64(3, 'UTC') DEFAULT now64(3), kind LowCardinality(String),
                             note Nullable(String) COMMENT 'free text', amount Decimal(10, 2) CODEC(ZSTD(1)),
                             INDEX ix_kind kind TYPE set(100) GRANULARITY 2)
            ENGINE = MergeTree PARTITION BY toYYYYMM(at) ORDER BY (id, at) TTL toDateTime(at) + INTERVAL 1 YEAR
            SETTINGS index_granularity = 4096 COMMENT 'all events';
        CREATE TABLE totals (kind String, n UInt64) ENGINE = SummingMergeTree ORDER BY kind;
        CREATE VIEW recent AS SELECT id, kind FROM events WHERE at > now() - INTERVAL 1 DAY;
    """,
    "dictionaries over a source table": """
        CREATE TABLE regions (id UInt64, parent UInt64, name String, population UInt64, since Date, until Date)
            ENGINE = MergeTree ORDER BY id;
        CREATE DICTIONARY region_names (id UInt64, parent UInt64 DEFAULT 0 HIERARCHICAL, name String DEFAULT 'unknown',
                                        doubled UInt64 EXPRESSION population * 2 INJECTIVE)
            PRIMARY KEY id SOURCE(CLICKHOUSE(TABLE 'regions')) LIFETIME(MIN 0 MAX 300) LAYOUT(HASHED())
            COMMENT 'names by region';
        CREATE DICTIONARY region_periods (id UInt64, since Date, until Date, name Nullable(String) DEFAULT NULL)
            PRIMARY KEY id SOURCE(CLICKHOUSE(QUERY 'SELECT id, since, until, name FROM regions WHERE name != ''x''')) 
            LIFETIME(600) LAYOUT(RANGE_HASHED(range_lookup_strategy 'max')) RANGE(MIN since MAX until)
            SETTINGS(format_csv_allow_single_quotes = 0);
        CREATE DICTIONARY by_name_and_id (name String, id UInt64, population UInt64)
            PRIMARY KEY id, name SOURCE(CLICKHOUSE(TABLE 'regions')) LIFETIME(0) LAYOUT(COMPLEX_KEY_HASHED());
        CREATE VIEW region_report AS SELECT id, dictGet('region_names', 'name', id) AS name FROM regions;
    """,
    "automatic minmax indexes": """
        CREATE TABLE readings (id UInt64, at DateTime, day Date, value Float64, label String,
                               INDEX ix_label label TYPE bloom_filter(0.01) GRANULARITY 1)
            ENGINE = MergeTree ORDER BY id
            SETTINGS add_minmax_index_for_temporal_columns = 1, add_minmax_index_for_numeric_columns = 1;
        CREATE TABLE strings (id UInt64, s String) ENGINE = ReplacingMergeTree ORDER BY id
            SETTINGS add_minmax_index_for_string_columns = true;
    """,
}


def _dictionaries(project, fresh, snapshot, code):
    names = snapshot["tables"]["region_names"]
    assert names["options"]["dictionary"] == {"source": "CLICKHOUSE(TABLE 'regions')", "layout": "HASHED()",
                                              "lifetime": "MIN 0 MAX 300"}
    assert [c["options"] for c in names["columns"]] == [{}, {"hierarchical": True}, {},
                                                       {"expression": "population * 2", "injective": True}]
    assert snapshot["tables"]["by_name_and_id"]["primary_key"]["columns"] == ["id", "name"]
    assert "'dictionary': {" in code and "build_engine(" not in code.split("class RegionNames")[1].split("\n\n\n")[0]


def _implicit(url: str) -> list[tuple[str, str]]:
    from dbwarden_nb.backends.clickhouse.chdb import get_chdb_client

    parts = urlsplit(url)
    client = get_chdb_client(unquote(parts.path), parse_qs(parts.query)["database"][0])
    return [tuple(r) for r in client.query("SELECT table, name FROM system.data_skipping_indices WHERE database = "
                                           "currentDatabase() AND creation = 'Implicit' ORDER BY table, name").result_rows]


def _implicit_indexes(project, fresh, snapshot, code):
    assert [ix["name"] for ix in snapshot["tables"]["readings"]["indexes"]] == ["ix_label"]
    assert snapshot["tables"]["strings"]["indexes"] == []
    assert "auto_minmax_index" not in code
    # the server made the implicit ones in the database rebuilt from the models too
    assert _implicit(project.url) == _implicit(fresh) == [
        ("readings", "auto_minmax_index_at"), ("readings", "auto_minmax_index_day"), ("readings", "auto_minmax_index_id"),
        ("readings", "auto_minmax_index_value"), ("strings", "auto_minmax_index_s")]


CHECKS = {"dictionaries over a source table": _dictionaries, "automatic minmax indexes": _implicit_indexes}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_adopting_a_real_shape(shape, clickhouse_url, fresh_url, tmp_path):
    fresh = fresh_url(clickhouse_url)
    project = adopt(tmp_path / "project", clickhouse_url, "clickhouse", SHAPES[shape], fresh)
    snapshot = project.ok("--json", "snapshot", "--out", "json").json()
    code = "\n".join(f.read_text() for f in sorted((project.root / "models").glob("*.py")))
    CHECKS.get(shape, lambda *_: None)(project, fresh, snapshot, code)


def test_user_defined_functions_are_listed_as_not_managed(clickhouse_url, fresh_url, tmp_path, clickhouse_client):
    name = f"twice_{uuid.uuid4().hex[:8]}"  # functions are global to the server: a name of this test's own
    try:
        project = adopt(tmp_path / "project", clickhouse_url, "clickhouse", f"""
            CREATE FUNCTION {name} AS (x) -> x * 2;
            CREATE TABLE t (id UInt64, doubled UInt64 DEFAULT {name}(id)) ENGINE = MergeTree ORDER BY id;
        """, fresh_url(clickhouse_url))
        line = "not managed: 1 function (dbwarden does not create or drop them)"
        assert line in project.ok("snapshot").out
        assert line in project.ok("generate-models", "--output", "models").out
        assert project.ok("--json", "snapshot", "--out", "json").json()["unmanaged"] == {"function": [name]}
        assert project.ok("--json", "generate-models").json()["unmanaged"] == {"function": [name]}
    finally:
        clickhouse_client.command(f"DROP FUNCTION IF EXISTS {name}")
