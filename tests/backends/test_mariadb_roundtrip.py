"""MariaDB round trips on a real server: schemas that together use every kind of metadata the backend reads
(tests/backends/mysql_schemas.py), each through the five steps of SPEC.md, plus a schema made by
hand-written DDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from mysql_schemas import COMMON, HAND_WRITTEN_COMMON, MARIADB_ONLY, with_spatial
from projects import ProjectDir
from roundtrip import round_trip, round_trip_from_ddl

SCHEMAS = {**COMMON, **MARIADB_ONLY}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_round_trip(name: str, tmp_path: Path, mariadb_url: str) -> None:
    round_trip(ProjectDir(tmp_path / "proj", mariadb_url, database_type="mariadb"), [with_spatial(s) for s in SCHEMAS[name]])


HAND_WRITTEN = HAND_WRITTEN_COMMON + [
    "CREATE SEQUENCE invoice_seq START WITH 1000 INCREMENT BY 10",
    ("CREATE TABLE history (id int PRIMARY KEY, price int CHECK (price > 0), doc json DEFAULT '[]', "
     "KEY ix_price (price) IGNORED) WITH SYSTEM VERSIONING"),
]


def test_round_trip_from_hand_written_ddl(tmp_path: Path, mariadb_url: str) -> None:
    snap = round_trip_from_ddl(ProjectDir(tmp_path / "proj", mariadb_url, database_type="mariadb"), HAND_WRITTEN)
    assert set(snap.tables) == {"customers", "orders", "audit", "history"}
    assert set(snap.views) == {"big_orders"} and "invoice_seq" in snap.sequences
    history = snap.tables["history"]
    assert history.options["system_versioning"] is True
    assert history.column("doc").type == "json" and [c.name for c in history.checks] == ["price"]
