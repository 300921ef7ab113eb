"""The newcomer's path (issue 18): the traps a new user falls into, each stopped with one clear line, on real
servers through the CLI."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from projects import ProjectDir
from test_bad_input import one_line

from dbwarden_nb.config import sqlalchemy_url

AUTHORS = """
class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
"""
BOOKS = """
class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("author.id"))
"""


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def tables(url: str) -> list[str]:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# -- 1. adoption ------------------------------------------------------------------------------------------


def test_first_make_migrations_on_a_database_with_tables_names_the_two_ways(tmp_path: Path, pg_url: str,
                                                                            fresh_url) -> None:
    execute(pg_url, "CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL)")
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS + BOOKS)
    for args in (["make-migrations", "add book"], ["make-migrations", "add book", "--dry-run"]):
        msg = one_line(project.cli(*args), 2)
        assert msg.startswith("primary: the database already holds tables (author) and migrations/primary has no "
                              "migration yet: run 'dbwarden baseline'"), msg
        assert "'dbwarden make-migrations --from-empty NAME'" in msg
    assert not project.migration_files() and not (project.root / ".dbwarden" / "primary" / "snapshots").exists()

    # --from-empty: a chain that builds everything, for a fresh database
    project.ok("make-migrations", "initial", "--from-empty")
    (first,) = project.migration_files()
    assert 'CREATE TABLE "author"' in first.read_text() and 'CREATE TABLE "book"' in first.read_text()
    msg = one_line(project.cli("make-migrations", "again", "--from-empty"), 2)
    assert msg == ("--from-empty starts the first migration of a chain, but migrations/primary already has 1 "
                   "(latest 0001); drop the flag")
    fresh = fresh_url(pg_url)
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace(pg_url, fresh))
    project.ok("migrate")
    assert {"author", "book"} <= set(tables(fresh))
    assert project.ok("diff", "--check").code == 0


def test_baseline_then_first_change_writes_only_the_change(tmp_path: Path, pg_url: str) -> None:
    execute(pg_url, "CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL)",
            "INSERT INTO author VALUES (1, 'Le Guin')")
    project = ProjectDir.initialized(tmp_path / "proj", pg_url, "postgresql")
    project.ok("generate-models", "--output", "models")
    project.ok("baseline")
    assert project.ok("diff", "--check").code == 0
    assert "no changes" in project.ok("make-migrations", "nothing").out.lower() or not project.migration_files()
    (project.root / "models" / "book.py").write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom .base import Base\n\n"
        + BOOKS.replace("class Book", "\nclass Book"))
    init = project.root / "models" / "__init__.py"
    init.write_text(init.read_text() + "from .book import Book  # noqa: F401\n")
    project.ok("make-migrations", "add book")
    (first,) = project.migration_files()
    assert 'CREATE TABLE "book"' in first.read_text() and 'CREATE TABLE "author"' not in first.read_text()
    project.ok("migrate")
    assert project.ok("diff", "--check").code == 0


def test_an_empty_database_needs_no_choice(tmp_path: Path, pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", pg_url, "postgresql")
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    project.ok("migrate")
    assert project.ok("diff", "--check").code == 0


# -- 2. backend guard -------------------------------------------------------------------------------------


def test_a_chain_of_another_backend_is_refused_with_one_line(tmp_path: Path, sqlite_url: str, pg_url: str) -> None:
    project = ProjectDir(tmp_path / "proj", sqlite_url)
    project.models(AUTHORS)
    project.ok("make-migrations", "initial")
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace("'sqlite'", "'postgresql'").replace(sqlite_url, pg_url))
    for args in (["status"], ["check"], ["migrate"], ["migrate", "--sql"], ["make-migrations", "next"], ["rollback"]):
        msg = one_line(project.cli(*args))
        assert msg == ("migrations/primary/0001_initial.sql was written for sqlite (-- backend: sqlite), but database "
                       "'primary' is postgresql: a chain runs only on the backend it was made for (README: 'From "
                       "SQLite to PostgreSQL' says how to move)"), (args, msg)
    assert tables(pg_url) == []
    assert project.ok("history").out.strip() == "primary: no migrations applied"

    # and the other way round: a PostgreSQL file never runs on SQLite
    config.write_text(config.read_text().replace("'postgresql'", "'sqlite'").replace(pg_url, sqlite_url))
    first = project.migration_files()[0]
    first.write_text(first.read_text().replace("-- backend: sqlite", "-- backend: postgresql"))
    msg = one_line(project.cli("migrate"))
    assert msg.startswith("migrations/primary/0001_initial.sql was written for postgresql (-- backend: postgresql), "
                          "but database 'primary' is sqlite")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists() or tables(sqlite_url) == []
