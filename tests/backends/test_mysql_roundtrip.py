"""MySQL round trips on a real server: schemas that together use every kind of metadata the backend reads
(tests/backends/mysql_schemas.py), each through the five steps of SPEC.md, plus a schema made by
hand-written DDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from mysql_schemas import COMMON, HAND_WRITTEN_COMMON, MYSQL_ONLY, with_spatial
from projects import ProjectDir
from roundtrip import round_trip, round_trip_from_ddl

SCHEMAS = {**COMMON, **MYSQL_ONLY}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_round_trip(name: str, tmp_path: Path, mysql_url: str) -> None:
    round_trip(ProjectDir(tmp_path / "proj", mysql_url, database_type="mysql"), [with_spatial(s) for s in SCHEMAS[name]])


HAND_WRITTEN = HAND_WRITTEN_COMMON + [
    ("CREATE TABLE places (id int PRIMARY KEY, spot point NOT NULL SRID 4326, SPATIAL KEY sp (spot), "
     "KEY ix_expr ((lower(id)), id DESC) INVISIBLE, CONSTRAINT ck_id CHECK (id > 0) NOT ENFORCED)"),
]


def test_round_trip_from_hand_written_ddl(tmp_path: Path, mysql_url: str) -> None:
    snap = round_trip_from_ddl(ProjectDir(tmp_path / "proj", mysql_url, database_type="mysql"), HAND_WRITTEN)
    assert set(snap.tables) == {"customers", "orders", "audit", "places"}
    assert set(snap.views) == {"big_orders"}
    orders = snap.tables["orders"]
    assert orders.foreign_keys[0].options == {"index": "customer_id"} and not [i for i in orders.indexes if i.name == "customer_id"]
    assert snap.tables["customers"].options["auto_increment"] == 100
