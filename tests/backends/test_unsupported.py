"""A change the engine cannot make, declared in the backend's ``unsupported`` table, is refused when the plan is made:
``make-migrations`` and ``diff`` exit 1 with one line naming the object and the reason, and nothing is written."""

from __future__ import annotations

from pathlib import Path

from projects import ProjectDir

from dbwarden_nb.backends import get_backend

EVENTS = """
    events = sa.Table("events", Base.metadata, sa.Column("d", sa.Date), postgresql_partition_by="PARTITION")
"""


def test_a_partitioning_change_is_refused_when_planned(tmp_path: Path, pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", pg_url, database_type="postgresql")
    project.models(EVENTS.replace("PARTITION", "RANGE (d)"))
    project.ok("make-migrations", "events")
    project.ok("migrate")
    project.models(EVENTS.replace("PARTITION", "LIST (d)"))
    reason = get_backend("postgresql").unsupported[("alter_table", "partition_by")]
    for command in (("make-migrations", "repartition"), ("diff",), ("diff", "--offline")):
        result = project.cli(*command)
        assert result.code == 1, (command, result.err, result.out)
        assert result.err == f"dbwarden: error: postgresql cannot alter table events: options (partition_by): {reason}\n"
        assert "Traceback" not in result.err + result.out
    assert len(project.migration_files()) == 1  # nothing half-written
