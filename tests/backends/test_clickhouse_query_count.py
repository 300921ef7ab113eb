"""ClickHouse introspection asks the server a fixed number of questions, whatever the number of tables (the
PostgreSQL, MySQL/MariaDB and SQLite counterparts live in their backends' test modules)."""

from __future__ import annotations

from typing import Any

import pytest

from dbwarden_nb.backends.clickhouse import ClickHouseBackend

pytest.importorskip("clickhouse_connect")


def _count_requests(conn: Any) -> tuple[int, Any]:
    """Every request the client sends while the schema is read (queries and commands alike)."""
    client = conn.client
    count = 0

    def counting(method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            return method(*args, **kwargs)
        return call

    client.query, client.command = counting(client.query), counting(client.command)
    try:
        snap = conn.backend.introspect(conn)
    finally:
        del client.query, client.command
    return count, snap


def test_introspection_request_count_is_constant(clickhouse_url: str) -> None:
    counts, sizes = [], []
    with ClickHouseBackend().connect(clickhouse_url) as conn:
        for i in range(40):
            conn.execute(f"CREATE TABLE t{i} (id UInt64, name String DEFAULT 'x' CODEC(ZSTD(1)), "
                         f"INDEX ix_{i} name TYPE bloom_filter GRANULARITY 1) ENGINE = MergeTree ORDER BY id "
                         "SETTINGS add_minmax_index_for_numeric_columns = 1")
            conn.execute(f"CREATE DICTIONARY d{i} (id UInt64, name String DEFAULT '') PRIMARY KEY id "
                         f"SOURCE(CLICKHOUSE(TABLE 't{i}')) LIFETIME(0) LAYOUT(FLAT())")
            if i + 1 in (3, 40):
                count, snap = _count_requests(conn)
                counts.append(count)
                sizes.append(len(snap.tables))
    assert sizes == [6, 80]  # tables and dictionaries
    assert counts[0] == counts[1], f"{counts[0]} requests for 3 tables, {counts[1]} for 40"
