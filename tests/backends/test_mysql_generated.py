"""MySQL and MariaDB: a column that becomes generated, stops being generated or changes storage, through the CLI.

Both servers alter a plain column into a STORED generated one (and back, and a generated expression) in place,
which keeps the table's rows and works while other generated columns use the column; nothing turns a column
into or out of VIRTUAL in place, so that step drops and adds the column again: CRITICAL, irreversible, and the
reason is in the migration and in ``check``."""

from __future__ import annotations

import pytest
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.config import sqlalchemy_url

SERVERS = ["mysql", "mariadb"]

MODELS = """
    class Line(Base):
        __tablename__ = "line"
        id: Mapped[int] = mapped_column(primary_key=True)
        price: Mapped[int] = mapped_column()
        qty: Mapped[int] = mapped_column()
        total: Mapped[int | None] = mapped_column({total})
        label: Mapped[str | None] = mapped_column(sa.String(40), sa.Computed("concat('total ', total)"))
        __table_args__ = (sa.Index("ix_total", "total"),)
    """
PLAIN = "sa.Integer"
STORED = 'sa.Computed("price * qty", persisted=True)'
VIRTUAL = 'sa.Computed("price * qty", persisted=False)'


@pytest.fixture(params=SERVERS)
def project(request: pytest.FixtureRequest, tmp_path) -> ProjectDir:
    url = request.getfixturevalue(f"{request.param}_url")
    project = ProjectDir(tmp_path / "proj", url, database_type=request.param)
    project.models(MODELS.format(total=PLAIN))
    project.ok("make-migrations", "plain total")
    project.ok("migrate")
    rows("INSERT INTO line (id, price, qty, total) VALUES (1, 3, 4, 99)", project)
    return project


def rows(sql: str, project: ProjectDir) -> list[tuple]:
    backend = dw.project(project.root / "dbwarden.py").database().backend
    with backend.connect(sqlalchemy_url(project.url)) as conn:
        out = conn.query(sql) if sql.startswith("SELECT") else conn.execute(sql)
        conn.commit()
    return out


def test_plain_to_stored_is_altered_in_place(project: ProjectDir) -> None:
    project.models(MODELS.format(total=STORED))
    project.ok("make-migrations", "stored total")
    text = project.migration_files()[-1].read_text()
    upgrade, rollback = text.split("-- rollback")
    assert "MODIFY COLUMN `total` int" in upgrade and "GENERATED ALWAYS AS (" in upgrade
    assert "DROP COLUMN" not in text
    assert "-- severity: CRITICAL" in text  # the values the column held are replaced by the computed ones
    assert "-- dbwarden: irreversible the values column line.total held before it became generated" in rollback
    project.ok("migrate", "--force")  # the generated label uses total: a drop would have failed
    assert rows("SELECT id, total, label FROM line", project) == [(1, 12, "total 12")]
    assert project.cli("diff", "--check").code == 0
    project.ok("rollback", "--force")  # back to plain, in place: the rows and the computed values stay
    assert rows("SELECT id, total FROM line", project) == [(1, 12)]
    assert project.cli("diff", "--check").code == 2  # the models say STORED, the database is plain again


def test_to_virtual_drops_and_adds_the_column_and_says_so(project: ProjectDir) -> None:
    project.models(MODELS.format(total=VIRTUAL).replace("label: Mapped[str | None] = mapped_column(sa.String(40), "
                                                         "sa.Computed(\"concat('total ', total)\"))", ""))
    project.ok("make-migrations", "virtual total")
    text = project.migration_files()[-1].read_text()
    upgrade, rollback = text.split("-- rollback")
    assert "-- severity: CRITICAL" in text
    # the index over the column is dropped with it and made again
    assert upgrade.index("DROP INDEX `ix_total`") < upgrade.index("DROP COLUMN `total`") < upgrade.index(
        "ADD COLUMN `total` int") < upgrade.index("CREATE INDEX `ix_total`")
    assert "-- dbwarden: irreversible the values of column line.total are not restored (dropped and added again" in rollback
    check = project.cli("check")
    assert check.code == 2 and "plain to VIRTUAL generated has no in-place form" in check.out
    refused = project.cli("migrate")
    assert refused.code == 1 and "--force" in refused.err
    project.ok("migrate", "--force")
    assert rows("SELECT id, total FROM line", project) == [(1, 12)]
    assert project.cli("diff", "--check").code == 0
