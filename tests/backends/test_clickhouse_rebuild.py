"""ClickHouse changes ALTER TABLE cannot make: refused with the reason, or, with make-migrations --rebuild,
a table rebuild that copies the rows and converges (and whose rollback rebuilds back)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from projects import ProjectDir

import dbwarden_nb as dw

HEAD = """
from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines
"""

MODEL = HEAD + """
class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (engines.{engine},)
    id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
    day: Mapped[str] = mapped_column(ch.Date)
    hits: Mapped[int] = mapped_column(ch.UInt32)
"""


def test_engine_change_is_refused_then_rebuilt_on_request(tmp_path: Path, clickhouse_url: str, clickhouse_client) -> None:
    project = ProjectDir(tmp_path / "proj", clickhouse_url, database_type="clickhouse")
    project.models(textwrap.dedent(MODEL.format(engine='MergeTree(order_by="id")')))
    project.ok("make-migrations", "visits")
    project.ok("migrate")
    clickhouse_client.command("INSERT INTO visits VALUES (1, '2026-01-01', 5), (2, '2026-01-02', 7)")
    before = dw.project(project.root / "dbwarden.py").snapshot()

    project.models(textwrap.dedent(MODEL.format(engine='ReplacingMergeTree(order_by="id", partition_by="toYYYYMM(day)")')))
    refused = project.cli("make-migrations", "replacing")
    assert refused.code == 1 and "--rebuild visits" in refused.err and refused.err.count("\n") == 1
    assert len(project.migration_files()) == 1

    project.ok("make-migrations", "replacing", "--rebuild", "visits")
    project.ok("migrate", "--force")
    assert project.cli("diff", "--check").code == 0
    after = dw.project(project.root / "dbwarden.py").snapshot()
    assert after.tables["visits"].options["engine"].startswith("ReplacingMergeTree")
    assert clickhouse_client.query("SELECT id, hits FROM visits ORDER BY id").result_rows == [(1, 5), (2, 7)]

    project.ok("rollback", "--force")
    assert dw.project(project.root / "dbwarden.py").snapshot() == before
    assert clickhouse_client.query("SELECT count() FROM visits").result_rows == [(2,)]
