"""Large migration files (issue 18, point 9): status and check read a file's header and the checksum of its text
without splitting it into statements; history recorded with the first kind of checksum (of the split statements)
keeps verifying, and migrate records the new kind in its place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dbwarden_nb.errors import MigrationFileError
from dbwarden_nb.migrations.files import MigrationFile, parse_migration, read_migrations, split_statements
from tests.projects import ProjectDir

UPGRADE = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\n" + "".join(
    f"INSERT INTO items (id, name) VALUES ({i}, 'item ''{i}''; -- not a comment');\n" for i in range(1, 200))


def write_manual(project: ProjectDir, upgrade: str = UPGRADE, generated: str | None = None) -> Path:
    folder = project.root / "migrations" / "primary"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "0001_load_items.sql"
    header = f"-- generated: {generated}\n" if generated else ""
    path.write_text(f"-- dbwarden migration 0001: load items\n-- backend: sqlite\n-- severity: INFO\n{header}"
                    f"-- upgrade\n{upgrade}-- rollback\nDROP TABLE items;\n", encoding="utf-8")
    return path


def history_checksum(project: ProjectDir) -> str:
    return json.loads(project.ok("--json", "history").out)["history"][0]["checksum"]


def test_status_and_check_read_no_statement(tmp_path: Path) -> None:
    project = ProjectDir(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    path = write_manual(project)
    (f,) = read_migrations(path.parent)
    assert f.checksum == parse_migration(path.read_text(), path).checksum
    assert f.severity == "INFO" and f.is_manual
    assert "upgrade" not in f.__dict__  # the header and the checksum came without splitting
    assert len(f.upgrade) == 200 and f.upgrade[1].sql.endswith("'item ''1''; -- not a comment')")

    # a statement error the scan of strings cannot see is found when statements are read (migrate), never run
    broken = write_manual(project, UPGRADE + "CREATE TRIGGER t AFTER INSERT ON items BEGIN SELECT 1;\n")
    assert project.ok("status").out.count("0001 load items") == 1
    failed = project.cli("migrate")
    assert failed.code == 1 and "unterminated BEGIN ... END block" in failed.err and str(broken.name) in failed.err
    assert not project.ok("--json", "history").json()["history"]
    # an unterminated string is found by the scan: status says so
    write_manual(project, UPGRADE + "SELECT 'open;\n")
    refused = project.cli("status")
    assert refused.code == 1 and "unterminated string literal" in refused.err


def test_a_file_changed_between_its_header_and_its_statements_is_refused(tmp_path: Path) -> None:
    project = ProjectDir(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    path = write_manual(project)
    (f,) = read_migrations(path.parent)
    write_manual(project, UPGRADE.replace("item", "thing"))
    with pytest.raises(MigrationFileError, match="changed while it was being read"):
        f.upgrade  # noqa: B018


def test_history_of_the_first_kind_keeps_verifying_and_is_upgraded_by_migrate(tmp_path: Path) -> None:
    db_path = tmp_path / "app.db"
    project = ProjectDir(tmp_path, f"sqlite:///{db_path}")
    path = write_manual(project)
    project.ok("migrate")
    f = parse_migration(path.read_text(), path)
    assert history_checksum(project) == f.checksum
    legacy = f.legacy_checksums[0]
    assert legacy != f.checksum

    # a database migrated by an earlier dbwarden: its row holds the checksum of the split statements
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE dbwarden_migrations SET checksum = ?", (legacy,))
    # reformatted in ways the first kind is blind to: a note between statements, a space before a ';'
    path.write_text(path.read_text().replace("-- rollback\n", "-- a note\n-- rollback\n")
                    .replace("name TEXT);", "name TEXT) ;"))
    for command in ("status", "check"):
        result = project.cli(command)
        assert result.code == 0 and "mismatch" not in result.out + result.err, (command, result)
    assert history_checksum(project) == legacy  # read-only commands change nothing

    project.ok("migrate")  # nothing to apply; under the lock the row gets the checksum of the text
    assert history_checksum(project) == parse_migration(path.read_text(), path).checksum
    assert "mismatch" not in project.ok("status").out

    # an edit the first kind sees is still a mismatch, whichever kind the row holds
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE dbwarden_migrations SET checksum = ?", (legacy,))
    path.write_text(path.read_text().replace("'item ''7''", "'item ''8''"))
    for command in ("status", "migrate"):
        result = project.cli(command)
        assert "checksum mismatch" in result.out + result.err, (command, result)
    assert history_checksum(project) == legacy


def test_a_generated_header_of_either_kind_says_whether_the_file_was_edited(tmp_path: Path) -> None:
    m = MigrationFile(1, "x", tuple(split_statements("CREATE TABLE a (x INTEGER);")),
                      tuple(split_statements("DROP TABLE a;")), backend="sqlite")
    for generated in (m.content_checksum, m.legacy_checksums[1]):
        text = MigrationFile(1, "x", m.upgrade, m.rollback, backend="sqlite", generated=generated).render()
        assert not parse_migration(text).edited
        path = tmp_path / "0001_x.sql"
        path.write_text(text)
        (read,) = read_migrations(tmp_path)
        assert not read.edited
        path.write_text(text.replace("x INTEGER", "y INTEGER"))
        (read,) = read_migrations(tmp_path)
        assert read.edited
