"""Migration files and stored snapshots are parsed once per content (dbwarden_nb/parsed.py): a cached parse is
never stale, whatever changed (the content, with the same size and date; the file's name), and a file that
does not parse fails every time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

import dbwarden_nb as dw
from dbwarden_nb.backends import get_backend
from dbwarden_nb.errors import DbwardenError
from dbwarden_nb.migrations.files import MigrationFile, read_migrations, split_statements


def write(path: Path, text: str, like: Path | None = None) -> None:
    """Write ``text``; with ``like``, give the file that file's old modification time (an edit a stamp misses)."""
    stat = like.stat() if like is not None else None
    path.write_text(text, encoding="utf-8")
    if stat is not None:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def migration(version: int, sql: str) -> str:
    return MigrationFile(version, "add things", tuple(split_statements(sql)), tuple(split_statements("DROP TABLE a;")),
                         backend="sqlite").render()


def test_a_migration_file_is_parsed_once_and_never_served_stale(tmp_path: Path) -> None:
    folder, cache = tmp_path / "migrations", tmp_path / "cache"
    folder.mkdir()
    first = folder / "0001_add_things.sql"
    write(first, migration(1, "CREATE TABLE a (x INTEGER);"))
    parsed = read_migrations(folder, cache)
    assert read_migrations(folder, cache) == parsed == read_migrations(folder)
    assert len(list(cache.glob("migration-*.pickle"))) == 1

    write(first, migration(1, "CREATE TABLE a (y INTEGER);"), like=first)  # same size and date
    (again,) = read_migrations(folder, cache)
    assert "(y INTEGER)" in again.upgrade[0].sql
    assert len(list(cache.glob("migration-*.pickle"))) == 1  # one entry per file

    first.rename(folder / "0002_add_things.sql")  # the name no longer matches the header: an error, as uncached
    for _ in range(2):
        with pytest.raises(DbwardenError, match="does not match its header version"):
            read_migrations(folder, cache)
    (folder / "0002_add_things.sql").unlink()
    write(first, "-- not a migration\n")
    for _ in range(2):
        with pytest.raises(DbwardenError, match="first line"):
            read_migrations(folder, cache)


def test_a_stored_snapshot_is_parsed_once_and_never_served_stale(tmp_path: Path) -> None:
    (tmp_path / "dbwarden.py").write_text(
        'from dbwarden_nb import database_config\n'
        'database_config(database_name="primary", default=True, database_type="sqlite", '
        'database_url="sqlite:///app.db", model_paths=[])\n')
    db = dw.project(tmp_path / "dbwarden.py").database()

    def snapshot(column: str):
        md = sa.MetaData()
        return get_backend("sqlite").extract_models([sa.Table("a", md, sa.Column(column, sa.Integer))], None)

    db.store_snapshot(1, snapshot("x"))
    assert db.stored_snapshot(1) == db.stored_snapshot(1) == snapshot("x")
    path = db.snapshot_path(1)
    write(path, snapshot("y").to_json(), like=path)
    assert db.stored_snapshot(1) == snapshot("y")
    path.write_bytes(b"\xff")
    for _ in range(2):
        with pytest.raises(DbwardenError, match="not UTF-8"):
            db.stored_snapshot(1)
