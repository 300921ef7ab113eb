"""MariaDB sequences on a real server: a changed ``sa.Sequence`` is altered in place and converges (issue 16:
``increment=1`` → ``increment=5`` used to stop make-migrations with ``mariadb cannot alter sequence``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import ProjectDir

MODELS = """
    ticket_seq = sa.Sequence("ticket_seq", SEQUENCE, metadata=Base.metadata)


    class Ticket(Base):
        __tablename__ = "tickets"
        id: Mapped[int] = mapped_column(sa.Integer, ticket_seq, primary_key=True)
"""


def _sequence(project: ProjectDir) -> dict[str, object]:
    return project.ok("--json", "snapshot", "--out", "json").json()["sequences"]["ticket_seq"]


@pytest.mark.parametrize("before, after, expected", [
    ("increment=1", "increment=5", {"increment": 5}),
    ("start=1, increment=1", "start=10, increment=2, maxvalue=1000, cache=10, cycle=True",
     {"start": 10, "increment": 2, "maxvalue": 1000, "cache": 10, "cycle": True}),
    ("increment=-1", "increment=-3, minvalue=-500", {"increment": -3, "minvalue": -500}),
])
def test_a_changed_sequence_converges_and_rolls_back(tmp_path: Path, mariadb_url: str, before: str, after: str,
                                                     expected: dict[str, object]) -> None:
    project = ProjectDir(tmp_path / "proj", mariadb_url, database_type="mariadb")
    project.models(MODELS.replace("SEQUENCE", before))
    project.ok("make-migrations", "tickets")
    project.ok("migrate")
    original = _sequence(project)
    project.models(MODELS.replace("SEQUENCE", after))
    made = project.ok("make-migrations", "sequence step")
    step = project.migration_files()[-1].read_text(encoding="utf-8")
    assert "ALTER SEQUENCE `ticket_seq`" in step, made.out
    project.ok("migrate")
    assert {k: v for k, v in _sequence(project).items() if k in expected} == expected
    project.ok("diff", "--check")  # no differences left: the models and the server agree
    project.ok("rollback", "--force")
    assert _sequence(project) == original
    project.models(MODELS.replace("SEQUENCE", before))
    project.ok("diff", "--check")
