"""Seed data through the CLI on real servers: ``seed new``, ``seed apply``, ``seed status``; each seed recorded with
its checksum in dbwarden_seeds (never the migrations' history), a changed seed applied again only when repeatable."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from backend_params import NO_SEEDS, backends, url_fixture
from projects import ProjectDir

from dbwarden_nb.config import sqlalchemy_url

ROLES = """
class Role(Base):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
"""


def _rows(project: ProjectDir, sql: str) -> list[tuple]:
    engine = sa.create_engine(sqlalchemy_url(project.url, root=project.root))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _write(path: Path, *statements: str, header: str = "") -> None:
    """The seed's statements, replacing what it held (its first line, ``-- dbwarden seed NNNN: name``, kept)."""
    path.write_text(path.read_text().splitlines()[0] + "\n" + header + "\n".join(statements) + "\n")


@pytest.mark.parametrize("kind", backends(NO_SEEDS))
def test_seeds_apply_once_in_order(tmp_path: Path, kind: str, request) -> None:
    url = request.getfixturevalue(url_fixture(kind))
    project = ProjectDir(tmp_path, url, kind)
    project.models(ROLES)
    project.ok("make-migrations", "create roles")
    project.ok("migrate")

    assert project.ok("seed", "new", "admin role").out == "primary: wrote seeds/primary/0001_admin_role.sql (add its statements)\n"
    project.ok("seed", "new", "more roles")
    first, second = sorted((tmp_path / "seeds" / "primary").glob("*.sql"))
    _write(first, "INSERT INTO roles (id, name) VALUES (1, 'admin');")
    _write(second, "INSERT INTO roles (id, name) VALUES (2, 'editor');",
           "INSERT INTO roles (id, name) VALUES (3, 'viewer');")
    assert project.ok("seed", "status").out.splitlines()[1:] == ["  0001 0001_admin_role.sql  pending",
                                                                 "  0002 0002_more_roles.sql  pending"]
    assert "would apply 2 seed(s) (dry run)" in project.ok("seed", "apply", "--dry-run").out
    assert _rows(project, "SELECT id FROM roles") == []
    applied = project.ok("seed", "apply").out
    assert applied.splitlines() == ["primary: applied 2 seed(s)", "  0001 0001_admin_role.sql (1 statement(s))",
                                    "  0002 0002_more_roles.sql (2 statement(s))"]
    assert project.ok("seed", "apply").out == "primary: seeds up to date; nothing to apply\n"  # idempotent
    assert _rows(project, "SELECT id, name FROM roles ORDER BY id") == [(1, "admin"), (2, "editor"), (3, "viewer")]
    assert [r[0] for r in _rows(project, "SELECT version FROM dbwarden_seeds ORDER BY version")] == [1, 2]
    assert [r[0] for r in _rows(project, "SELECT version FROM dbwarden_migrations")] == [1]  # its own table
    assert project.ok("diff", "--check").code == 0  # dbwarden_seeds is internal: no diff sees it

    # a changed seed that is not repeatable: an error naming it, nothing applied
    _write(second, "INSERT INTO roles (id, name) VALUES (4, 'auditor');")
    changed = project.cli("seed", "apply")
    assert changed.code == 1 and changed.err.count("\n") == 1 and "Traceback" not in changed.err
    assert "seeds/primary/0002_more_roles.sql was applied as sha256:" in changed.err
    assert "declare this one repeatable with a line '-- dbwarden: repeatable'" in changed.err
    assert project.cli("seed", "status").code == 1
    assert _rows(project, "SELECT count(*) FROM roles") == [(3,)]

    # declared repeatable: applied again (its SQL is idempotent), its checksum re-recorded
    _write(second, "DELETE FROM roles WHERE id >= 2;", "INSERT INTO roles (id, name) VALUES (2, 'auditor');",
           header="-- dbwarden: repeatable\n")
    assert "changed (repeatable: seed apply applies it again)" in project.ok("seed", "status").out
    assert "0002_more_roles.sql (2 statement(s), re-applied: changed and repeatable)" in project.ok("seed", "apply").out
    assert _rows(project, "SELECT id, name FROM roles ORDER BY id") == [(1, "admin"), (2, "auditor")]
    assert project.ok("seed", "status").out.splitlines()[2] == "  0002 0002_more_roles.sql  applied"


def test_failing_seed_is_one_line_and_not_recorded(tmp_path: Path, pg_url: str) -> None:
    project = ProjectDir(tmp_path, pg_url, "postgresql")
    project.models(ROLES)
    project.ok("make-migrations", "create roles")
    project.ok("migrate")
    project.ok("seed", "new", "roles")
    (seed,) = (tmp_path / "seeds" / "primary").glob("*.sql")
    _write(seed, "INSERT INTO roles (id, name) VALUES (1, 'admin');", "INSERT INTO no_such_table VALUES (1);")
    failed = project.cli("seed", "apply")
    assert failed.code == 1 and failed.err.count("\n") == 1 and "Traceback" not in failed.err
    assert "seeds/primary/0001_roles.sql: statement 2 failed: " in failed.err and "no_such_table" in failed.err
    assert _rows(project, "SELECT count(*) FROM roles") == [(0,)]  # one transaction: the first insert undone
    assert "0001 0001_roles.sql  pending" in project.ok("seed", "status").out


def test_seed_usage_errors(tmp_path: Path, sqlite_url: str) -> None:
    project = ProjectDir(tmp_path, sqlite_url)
    for args, code, says in ((("seed", "new"), 2, "give the seed's name"),
                             (("seed", "apply", "x"), 2, "takes no name"),
                             (("seed", "plant"), 2, "invalid choice: 'plant'")):
        result = project.cli(*args)
        assert result.code == code and says in result.err and result.err.count("\n") == 1, (args, result.err)
    (tmp_path / "seeds" / "primary").mkdir(parents=True)
    (tmp_path / "seeds" / "primary" / "roles.sql").write_text("SELECT 1;")
    bad = project.cli("seed", "status")
    assert bad.code == 1 and "seeds/primary/roles.sql: a seed file is named NNNN_<name>.sql" in bad.err


def test_seeds_are_refused_where_unsupported(tmp_path: Path, clickhouse_url: str) -> None:
    project = ProjectDir(tmp_path, clickhouse_url, "clickhouse")
    result = project.cli("seed", "status")
    assert result.code == 1 and result.err == "dbwarden: error: database 'primary': seeds are not supported on clickhouse\n"
