"""``dbwarden rebase`` after a git merge of two branches that each added migration 0002: through the CLI and real
git, on SQLite and PostgreSQL; a developer's dev database (one branch applied), a fresh database and a production
database that applied the other branch first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.projects import ProjectDir

USERS = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
"""
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(120))\n"
NICK_A = "    nickname: Mapped[str | None] = mapped_column(sa.String(30))\n"
NICK_B = "    nickname: Mapped[str | None] = mapped_column(sa.String(80))\n"
ORDERS = """
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
"""


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          capture_output=True, text=True, check=check)


def use_url(project: ProjectDir, url: str) -> None:
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace(repr(project.url), repr(url)))
    project.url = url


def commit(project: ProjectDir, message: str) -> None:
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", message)


def branches(project: ProjectDir, a: str, b: str) -> None:
    """main with users (0001); branch a adds ``a`` as 0002, branch b adds ``b`` as 0002; b is checked out."""
    (project.root / ".gitignore").write_text("*.db\n__pycache__/\n.dbwarden/*/cache/\n")
    git(project.root, "init", "-q", "-b", "main")
    project.models(USERS)
    project.ok("make-migrations", "users")
    commit(project, "users")
    for branch, body in (("a", a), ("b", b)):
        git(project.root, "checkout", "-q", "-b", branch, "main")
        project.models(body)
        project.ok("make-migrations", f"branch {branch}")
        commit(project, branch)


def merge_a_into_b(project: ProjectDir, merged_models: str) -> None:
    """What a user does: merge, write the merged models, keep either side of the conflicting stored snapshot."""
    git(project.root, "checkout", "-q", "b")
    assert git(project.root, "merge", "-q", "a", check=False).returncode != 0  # models and snapshot 0002 conflict
    project.models(merged_models)
    git(project.root, "checkout", "--theirs", ".dbwarden/primary/snapshots/0002.json")
    commit(project, "merge a")


def one_line(result) -> bool:
    """A failure says one line (notes, such as the model cache's, aside)."""
    lines = [line for line in result.err.splitlines() if not line.startswith("dbwarden: note:")]
    return len(lines) == 1 and lines[0].startswith("dbwarden: error: ")


def names(project: ProjectDir) -> list[str]:
    return [p.name for p in project.migration_files()]


def another(url: str, fresh_url, tmp_path: Path, name: str) -> str:
    """A new, empty database beside ``url`` (fresh_url gives one SQLite file per test, so SQLite's are named here)."""
    return f"sqlite:///{tmp_path / f'rebase_{name}.db'}" if url.startswith("sqlite") else fresh_url(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> tuple[str, str]:
    return request.param, request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def test_merge_rebase_migrate(backend, fresh_url, tmp_path: Path) -> None:
    kind, dev_url = backend
    project = ProjectDir(tmp_path / "proj", dev_url, kind)
    branches(project, USERS + ORDERS, USERS + EMAIL)
    prod_url = another(dev_url, fresh_url, tmp_path, "production")  # production deployed branch a first
    git(project.root, "checkout", "-q", "a")
    use_url(project, prod_url)
    project.ok("migrate")
    use_url(project, dev_url)
    git(project.root, "checkout", "-q", "b")
    project.ok("migrate")  # the developer's dev database: 0001 and branch b's 0002
    merge_a_into_b(project, USERS + EMAIL + ORDERS)
    assert names(project) == ["0001_users.sql", "0002_branch_a.sql", "0002_branch_b.sql"]

    for command in ("status", "check", "migrate"):
        result = project.cli(command)
        assert result.code == 1 and one_line(result), (command, result.err)
        assert "two migration files with number 0002" in result.err and "'dbwarden rebase'" in result.err

    plan = project.ok("rebase", "--dry-run").out
    assert "would rebase migrations/primary" in plan and "0002_branch_a.sql -> 0003_branch_a.sql" in plan
    assert "nothing written (--dry-run)" in plan
    assert names(project) == ["0001_users.sql", "0002_branch_a.sql", "0002_branch_b.sql"]

    generated_before = (project.root / "migrations/primary/0002_branch_a.sql").read_text()
    done = project.ok("rebase").out
    assert "0002_branch_b.sql  kept (applied here)" in done
    assert "0002_branch_a.sql -> 0003_branch_a.sql  renumbered, re-planned on the merged chain; statements kept" in done
    assert names(project) == ["0001_users.sql", "0002_branch_b.sql", "0003_branch_a.sql"]
    after = (project.root / "migrations/primary/0003_branch_a.sql").read_text()
    changed = [(x, y) for x, y in zip(generated_before.split("\n"), after.split("\n")) if x != y]
    assert [x.split(":")[0] for x, _ in changed] == ["-- dbwarden migration 0002", "-- base", "-- target"]
    assert "edited" not in project.ok("status").out
    snapshots = project.root / ".dbwarden/primary/snapshots"
    for path in project.migration_files():  # git kept branch a's 0002.json: each number's snapshot is its file's again
        target = next(line for line in path.read_text().split("\n") if line.startswith("-- target:")).split()[-1]
        assert json.loads((snapshots / f"{path.name[:4]}.json").read_text())["checksum"] == target
    assert "nothing to rebase" in project.ok("rebase").out

    # the dev database (branch b applied) and a fresh one both reach the merged models
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0
    use_url(project, another(dev_url, fresh_url, tmp_path, "fresh"))
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0
    assert "no changes; nothing written" in project.ok("make-migrations", "nothing").out

    # production applied branch a as 0002: refused with the facts
    use_url(project, prod_url)
    for command in ("migrate", "status"):
        result = project.cli(command)
        assert result.code == 1, (command, result.out, result.err)
        assert "applied in another order: migrations/primary/0002_branch_a.sql was applied here as 0002" in result.err
        assert "0003_branch_a.sql" in result.err
    result = project.cli("rebase")
    assert result.code == 1 and one_line(result), result.err
    assert "applied the migrations in another order (0001 0001_users.sql, 0002 0003_branch_a.sql)" in result.err
    assert "(0001 0001_users.sql, 0002 0002_branch_b.sql)" in result.err


def test_same_column_on_both_branches_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    branches(project, USERS + NICK_A, USERS + NICK_B)
    git(project.root, "checkout", "-q", "b")
    project.ok("migrate")
    merge_a_into_b(project, USERS + NICK_B)
    before = {p.name: p.read_text() for p in project.migration_files()}
    result = project.cli("rebase")
    assert result.code == 1 and one_line(result), result.err
    assert "0002_branch_a.sql (as 0003)" in result.err and "users.nickname (column)" in result.err
    assert "nothing rebased" in result.err
    assert {p.name: p.read_text() for p in project.migration_files()} == before


def test_different_columns_of_one_table_rebase(tmp_path: Path, sqlite_url: str, fresh_url) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    branches(project, USERS + NICK_A, USERS + EMAIL)
    merge_a_into_b(project, USERS + EMAIL + NICK_A)  # nothing applied: the numbers' order is kept
    out = project.ok("rebase").out
    assert names(project) == ["0001_users.sql", "0002_branch_a.sql", "0003_branch_b.sql"], out
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0
    assert project.ok("rollback", "--count", "2").code == 0
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0


def test_numbers_fixed_by_hand_leave_a_broken_chain(tmp_path: Path, sqlite_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    branches(project, USERS + ORDERS, USERS + EMAIL)
    merge_a_into_b(project, USERS + EMAIL + ORDERS)
    folder = project.root / "migrations/primary"
    text = (folder / "0002_branch_a.sql").read_text().replace("migration 0002:", "migration 0003:", 1)
    (folder / "0003_branch_a.sql").write_text(text)
    (folder / "0002_branch_a.sql").unlink()
    for command in ("status", "check", "migrate"):
        result = project.cli(command)
        assert result.code == 1 and one_line(result), (command, result.err)
        assert "broken chain: migrations/primary/0003_branch_a.sql starts from sha256:" in result.err
        assert "run 'dbwarden rebase'" in result.err

    plan = project.ok("--json", "rebase", "--dry-run").json()
    assert [(s["old"], s["new"], s["replanned"]) for s in plan["steps"]] == [
        ("0001_users.sql", "0001_users.sql", False), ("0002_branch_b.sql", "0002_branch_b.sql", False),
        ("0003_branch_a.sql", "0003_branch_a.sql", True)]
    project.ok("rebase")
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0
    assert "nothing to rebase" in project.ok("rebase").out


def test_rebase_without_migrations_and_unreachable(tmp_path: Path, sqlite_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    assert "migrations/primary is one chain; nothing to rebase" in project.ok("rebase").out
    branches(project, USERS + ORDERS, USERS + EMAIL)
    merge_a_into_b(project, USERS + EMAIL + ORDERS)
    use_url(project, f"sqlite:///{tmp_path}/no/such/folder/rebase.db")
    result = project.cli("rebase")
    assert result.code == 1 and one_line(result) and "Traceback" not in result.err, result.err
    assert "database 'primary'" in result.err


NAME_WIDER = USERS.replace("sa.String(50)", "sa.String(100)")


def test_dev_sections_are_translated_again(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL with a SQLite dev database: branch a widens users.name (SQLite rebuilds the table), branch b adds
    users.email. Kept, a's dev sections would rebuild users without email; the rebase translates them again."""
    dev = "\ndev_database_url='sqlite:///./rebase_dev.db',"
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql", extra_config=dev)
    branches(project, NAME_WIDER, USERS + EMAIL)
    git(project.root, "checkout", "-q", "b")
    project.ok("migrate")
    merge_a_into_b(project, NAME_WIDER.rstrip("\n") + "\n" + EMAIL)
    old_dev = (project.root / "migrations/primary/0002_branch_a.sql").read_text().partition("-- dev-upgrade")[2]
    done = project.ok("rebase").out
    assert "0002_branch_a.sql -> 0003_branch_a.sql" in done and "dev sections translated again" in done, done
    text = (project.root / "migrations/primary/0003_branch_a.sql").read_text()
    assert text.partition("-- dev-upgrade")[2] != old_dev and "email" in text.partition("-- dev-upgrade")[2]
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0
    project.ok("--dev", "migrate")
    assert project.cli("--dev", "diff", "--check").code == 0
