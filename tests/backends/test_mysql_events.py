"""MySQL/MariaDB events, on both servers: read with SHOW CREATE EVENT, generated, created, replaced and dropped with
their inverses, judged by ``mysqldump``/``mariadb-dump --no-data --routines --triggers --events``.

An event written without STARTS starts when it is created, and the server prints that time: generate-models writes
it (so a rebuilt database dumps the same), and an event the models declare without it is compared without it (no
diff against the database it built, none between two runs)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from dumps import engine_dump, load_ddl
from projects import ProjectDir
from roundtrip import adopt

SERVERS = ["mysql", "mariadb"]

EVENTS = """
    CREATE TABLE log (id INT PRIMARY KEY, at DATETIME, note VARCHAR(100));
    CREATE EVENT hourly ON SCHEDULE EVERY 1 HOUR DO DELETE FROM log WHERE note IS NULL;
    DELIMITER //
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2031-01-01 03:00:00' ENDS '2032-01-01 00:00:00'
      ON COMPLETION PRESERVE DISABLE COMMENT 'it''s nightly'
      DO BEGIN
        DELETE FROM log WHERE at < NOW() - INTERVAL 30 DAY;
        INSERT INTO log (id, at, note) VALUES (0, NOW(), 'cleaned');
      END//
    DELIMITER ;
    CREATE EVENT once ON SCHEDULE AT '2031-05-05 10:00:00' ON COMPLETION PRESERVE DO UPDATE log SET note = 'once';
"""


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param, request.getfixturevalue(f"{request.param}_url")


def _shown(url: str, name: str) -> str:
    engine = sa.create_engine("mysql+pymysql://" + url.split("://", 1)[1], poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SHOW CREATE EVENT `{name}`")).fetchone()[3]
    finally:
        engine.dispose()


def test_events_round_trip_by_the_dump(server, fresh_url, tmp_path):
    """Three events (recurring without STARTS, recurring with STARTS, ENDS, PRESERVE, DISABLE, a comment and a
    compound body, and a one-time one) adopted: generated, no diff, and a fresh database built from the generated
    models equals the original by the engine's dump (STARTS included)."""
    kind, url = server
    project = adopt(tmp_path / "project", url, kind, EVENTS, fresh_url(url))
    doc = project.ok("--json", "snapshot", "--out", "json").json()
    assert sorted(k for k in doc["objects"] if k.startswith("event")) == ["event hourly", "event nightly", "event once"]
    assert "event" not in doc.get("unmanaged", {})
    code = (project.root / "models").read_text() if (project.root / "models").is_file() else "".join(
        p.read_text() for p in (project.root / "models").glob("*.py"))
    assert "Event(" in code and "STARTS '" in code
    assert "ON SCHEDULE EVERY 1 HOUR STARTS" in engine_dump(url).replace("\n", " ")


MODELS = """
    from dbwarden_nb.entities import Event

    class Log(Base):
        __tablename__ = "log"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        note: Mapped[str | None] = mapped_column(sa.String(100))

    Event("sweep", "ON SCHEDULE EVERY {every} DO DELETE FROM log WHERE note IS NULL", metadata=Base.metadata)
"""


def test_a_declared_event_without_starts_does_not_diff_and_rolls_back(server, tmp_path):
    """Declared without STARTS: created, then no diff against the database nor against the models read again;
    a new schedule is one step (drop + create) whose rollback restores what the server printed; dropping it is WARN."""
    kind, url = server
    project = ProjectDir(tmp_path / "p", url, kind)
    project.models(MODELS.format(every="1 HOUR"))
    project.ok("make-migrations", "log")
    project.ok("migrate")
    before = _shown(url, "sweep")
    assert " STARTS '" in before  # the server's
    assert project.cli("diff", "--check").code == 0
    assert "nothing written" in project.ok("make-migrations", "again").out
    project.models(MODELS.format(every="2 HOUR"))
    out = project.ok("make-migrations", "every two hours").out
    assert "(1 operation(s)" in out and "replace event sweep" in out, out
    text = project.migration_files()[-1].read_text()
    assert "DROP EVENT `sweep`" in text and "EVERY 2 HOUR" in text, text
    project.ok("migrate")
    assert "EVERY 2 HOUR" in _shown(url, "sweep")
    project.ok("rollback")
    unstarted = lambda text: re.sub(r" STARTS '[^']*'", "", text)
    assert unstarted(_shown(url, "sweep")) == unstarted(before)
    assert project.cli("diff", "--check").code == 2  # the models say every 2 hours
    # a STARTS computed from the time it is created is left to the server too
    project.models(MODELS.format(every="2 HOUR STARTS CURRENT_TIMESTAMP + INTERVAL 1 DAY"))
    assert "nothing written" in project.ok("make-migrations", "same schedule").out
    project.models(MODELS.format(every="1 HOUR").replace("    Event(", "    dict(name=").replace(
        '"sweep", "ON', '"sweep", d="ON'))
    dropped = project.ok("make-migrations", "no sweep").out
    assert "severity WARN" in dropped and "drop event sweep" in dropped, dropped


def test_the_dev_translation_reports_events_as_procedural(server, tmp_path):
    """--dev: an event is procedural code written for the production engine, a dropped row of the report."""
    from roundtrip import live

    from dbwarden_nb.translate import translate

    kind, url = server
    load_ddl(url, EVENTS)
    report = translate(live(ProjectDir(tmp_path / "p", url, kind)), "primary")[1]
    rows = [d for d in report.decisions if d.kind == "event"]
    assert len(rows) == 3 and all(d.action == "dropped" and "procedural code" in d.reason for d in rows), rows
