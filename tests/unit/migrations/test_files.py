"""The migration file format and its statement splitter (``dbwarden_nb.migrations.files``): each dialect's lexical
features split right, the header and sections parse back to what was rendered, checksums see statements and nothing
else, and every malformed file is one ``MigrationFileError`` line naming where."""

from __future__ import annotations

import pytest

from dbwarden_nb.errors import MigrationFileError
from dbwarden_nb.migrations.files import (
    MigrationFile,
    Statement,
    migration_filename,
    parse_migration,
    read_migrations,
    split_statements,
)

SHA = "sha256:" + "ab" * 32


def sqls(text: str, dialect: str | None = None) -> list[str]:
    return [s.sql for s in split_statements(text, dialect)]


# -- the splitter, by lexical feature ------------------------------------------------------------------------

TRIGGER = ("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN IF NEW.a THEN BEGIN SET NEW.b = 1; END; END IF; "
           "CASE WHEN 1 THEN SET @a = 1; END CASE; END")


@pytest.mark.parametrize(("text", "expected"), [
    # PostgreSQL: dollar quotes, tagged or not, hold semicolons and other tags
    ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2",
     ["CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"]),
    ("SELECT $body$ ; $$ ; $body$; SELECT 3", ["SELECT $body$ ; $$ ; $body$", "SELECT 3"]),
    ("SELECT $1 + $2; SELECT 4", ["SELECT $1 + $2", "SELECT 4"]),  # parameters are no dollar quote
    # PostgreSQL: E'...' is where a backslash escapes a quote; elsewhere quotes are doubled
    ("SELECT E'a\\';b'; SELECT 5", ["SELECT E'a\\';b'", "SELECT 5"]),
    ("SELECT 'it''s; fine'; SELECT 6", ["SELECT 'it''s; fine'", "SELECT 6"]),
    ('SELECT "a;""b" FROM t; SELECT `c;d`', ['SELECT "a;""b" FROM t', "SELECT `c;d`"]),
    # comments: between statements dropped, inside kept, and a ';' in them splits nothing
    ("-- note; here\nSELECT 1 /* ; */ + 1; /* tail; */", ["SELECT 1 /* ; */ + 1"]),
    ("SELECT 1 -- one; two\n+ 2;", ["SELECT 1 -- one; two\n+ 2"]),
    # MySQL / SQLite: routine and trigger bodies in BEGIN ... END, nested, with END IF / END CASE
    (TRIGGER + "; SELECT 7", [TRIGGER, "SELECT 7"]),
    ("CREATE PROCEDURE p() BEGIN WHILE 1 DO SELECT 1; END WHILE; END; SELECT 8",
     ["CREATE PROCEDURE p() BEGIN WHILE 1 DO SELECT 1; END WHILE; END", "SELECT 8"]),
    # BEGIN opens no block outside a routine: a transaction, a column named begin, t.end
    ("BEGIN; SELECT 1; COMMIT", ["BEGIN", "SELECT 1", "COMMIT"]),
    ("CREATE TABLE t (begin INT, x INT); SELECT t.end FROM t", ["CREATE TABLE t (begin INT, x INT)", "SELECT t.end FROM t"]),
    ("SELECT CASE WHEN a THEN 1 END FROM t; SELECT 9", ["SELECT CASE WHEN a THEN 1 END FROM t", "SELECT 9"]),
    ("", []),
    ("-- only a comment\n/* and another */", []),
])
def test_splitter(text: str, expected: list[str]) -> None:
    assert sqls(text) == expected


@pytest.mark.parametrize("dialect", ["mysql", "mariadb", "clickhouse"])
def test_splitter_honours_backslash_escapes_of_mysql_strings(dialect: str) -> None:
    assert sqls("SELECT 'a\\';b'; SELECT 1", dialect) == ["SELECT 'a\\';b'", "SELECT 1"]
    # PostgreSQL and SQLite strings end at the quote after a backslash: the rest is another string, unterminated
    for other in ("postgresql", "sqlite", None):
        with pytest.raises(MigrationFileError, match="unterminated string literal"):
            sqls("SELECT 'a\\';b'; SELECT 1", other)


@pytest.mark.parametrize("dialect", [None, "postgresql", "sqlite", "clickhouse", "mysql", "mariadb"])
def test_delimiter_directive_is_honoured_or_refused(dialect: str | None) -> None:
    text = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\nSELECT 2;"
    try:
        out = sqls(text, dialect)
    except MigrationFileError as err:
        assert dialect not in ("mysql", "mariadb")  # the mysql client's command: honoured in their files
        assert str(err).startswith("line 1: 'DELIMITER'")
        return
    assert out == ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"]


def test_delimiter_mode_reads_semicolons_as_content_and_names_bad_commands() -> None:
    text = "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = ';'; $$\nDELIMITER ;\nSELECT 1"
    assert sqls(text, "mysql") == ["CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = ';';", "SELECT 1"]
    for bad in ("SELECT 1;\nDELIMITER\n", "SELECT 1;\nDELIMITER // x\n", "SELECT 1;\nDELIMITER '\n"):
        with pytest.raises(MigrationFileError, match=r"^line 2: expected 'DELIMITER <delimiter>'"):
            sqls(bad, "mysql")


def test_a_file_is_split_by_its_backend_and_its_dev_sections_by_theirs() -> None:
    text = ("-- dbwarden migration 0001: x\n-- backend: mysql\n-- upgrade\nINSERT INTO t VALUES ('a\\';b');\n"
            "# a hash comment: it's read as one\n-- rollback\nDELETE FROM t;\n"
            "-- dev-upgrade: sqlite\nINSERT INTO t VALUES ('C:\\');\n-- dev-rollback: sqlite\nDELETE FROM [t;];\n")
    m = parse_migration(text)
    assert [s.sql for s in m.upgrade] == ["INSERT INTO t VALUES ('a\\';b')"]
    assert [s.sql for s in m.dev_upgrade or ()] == ["INSERT INTO t VALUES ('C:\\')"]
    assert [s.sql for s in m.dev_rollback or ()] == ["DELETE FROM [t;]"]
    assert parse_migration(m.render()) == m


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT 'open", "line 1: unterminated string literal"),
    ('SELECT "open', "line 1: unterminated quoted identifier"),
    ("SELECT 1;\n/* open", "line 2: unterminated block comment"),
    ("SELECT $$ open", "line 1: unterminated dollar-quoted string $$"),
    ("CREATE PROCEDURE p()\nBEGIN SELECT 1;", "line 2: unterminated BEGIN ... END block"),
])
def test_unterminated_is_one_error_with_its_line(text: str, message: str) -> None:
    with pytest.raises(MigrationFileError) as err:
        split_statements(text)
    assert str(err.value) == message


def test_directives_attach_to_the_next_statement() -> None:
    (a, b) = split_statements("-- dbwarden: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 1;")
    assert (a.transactional, b.transactional) == (False, True)


# -- the file format --------------------------------------------------------------------------------------------


def migration(**kw: object) -> MigrationFile:
    doc: dict[str, object] = {"version": 3, "description": "add order indexes",
                              "upgrade": tuple(split_statements("CREATE INDEX ix ON orders (created_at);")),
                              "rollback": tuple(split_statements("DROP INDEX ix;")), "backend": "postgresql",
                              "base": SHA, "target": SHA.replace("ab", "cd"), "severity": "WARN"}
    return MigrationFile(**{**doc, **kw})  # type: ignore[arg-type]


def test_render_parse_round_trip() -> None:
    m = migration(rollback=(Statement("DROP INDEX ix", irreversible="the index is gone", undoes=(1, 1)),),
                  rollback_severity="CRITICAL", renames='{"tables": {}}')
    text = m.render()
    assert text.splitlines()[:6] == ["-- dbwarden migration 0003: add order indexes", "-- backend: postgresql",
                                     f"-- base: {SHA}", f"-- target: {m.target}", "-- severity: WARN",
                                     "-- undo-severity: CRITICAL"]
    assert parse_migration(text) == m
    assert parse_migration(text).irreversible == ("the index is gone",)


def test_dev_sections_round_trip() -> None:
    m = migration(dev_backend="sqlite", dev_upgrade=(Statement("CREATE INDEX ix ON orders (created_at)"),),
                  dev_rollback=(Statement("DROP INDEX ix"),))
    assert "-- dev-upgrade: sqlite" in m.render()
    assert parse_migration(m.render()) == m


def test_checksum_is_of_the_section_text_up_to_blank_lines_and_line_ends() -> None:
    m = migration()
    text = m.render()
    spaced = text.replace("-- upgrade\n", "-- upgrade\n\n\n").replace(";", ";   ")
    assert parse_migration(spaced).checksum == m.checksum
    # a note inside an applied upgrade section is an edit of it (the checksum is read without splitting the file)
    assert parse_migration(text.replace("-- upgrade\n", "-- upgrade\n-- a note\n")).checksum != m.checksum
    assert parse_migration(text.replace("\n", "\r\n")).checksum == m.checksum  # a file saved on Windows
    assert parse_migration("\ufeff" + text).checksum == m.checksum
    assert parse_migration(text.replace("created_at", "id")).checksum != m.checksum
    # the rollback is outside the checksum, inside the content checksum (what tells a generated file was edited)
    edited = parse_migration(text.replace("DROP INDEX ix", "DROP INDEX IF EXISTS ix"))
    assert edited.checksum == m.checksum and edited.content_checksum != m.content_checksum


def test_generated_files_know_when_they_were_edited() -> None:
    m = migration()
    m = migration(generated=m.content_checksum)
    assert not parse_migration(m.render()).edited
    assert parse_migration(m.render().replace("created_at", "id")).edited


def test_a_statement_that_would_not_survive_the_file_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be rendered"):
        migration(upgrade=(Statement("SELECT 'open"),)).render()
    with pytest.raises(ValueError, match="round trip"):
        migration(upgrade=(Statement("SELECT 1; SELECT 2"),)).render()


GOOD = migration().render()


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT 1;", "line 1: first line must be '-- dbwarden migration NNNN: description'"),
    ("-- dbwarden migration 0000: x\n-- upgrade\n-- rollback\n", "line 1: migration numbers start at 0001"),
    ("-- dbwarden migration 0001: x\n-- severity: INFO\n", "missing '-- upgrade' section"),
    ("-- dbwarden migration 0001: x\n-- upgrade\nSELECT 1;\n", "missing '-- rollback' section"),
    ("-- dbwarden migration 0001: x\nSELECT 1;\n-- upgrade\n-- rollback\n", "line 2: SQL before the '-- upgrade' section"),
    (GOOD.replace("-- severity: WARN", "-- severity: WARN\n-- severity: INFO"), "line 6: duplicate '-- severity:' header"),
    (GOOD.replace("-- severity: WARN", "-- severity: LOUD"),
     "line 5: unknown severity 'LOUD'; use one of INFO, WARN, CRITICAL"),
    (GOOD.replace(f"-- base: {SHA}", "-- base: md5:0"),
     "line 3: base must be 'sha256:' and 64 lowercase hex digits, got 'md5:0'"),
    (GOOD.replace("-- backend: postgresql", "-- backend: post gres"), "line 2: invalid backend name 'post gres'"),
    (GOOD + "-- upgrade\nSELECT 1;\n", "line 10: duplicate '-- upgrade' section"),
    (GOOD.replace("-- upgrade\n", "-- upgrade\n-- dbwarden: irreversible gone\n"),
     "line 8: '-- dbwarden: irreversible' belongs in a rollback section"),
    (GOOD.replace("-- rollback\n", "-- rollback\n-- dbwarden: undoes 2\n"),
     "line 10: '-- dbwarden: undoes' names upgrade statement 2, but the '-- upgrade' section has 1"),
    (GOOD.replace("-- rollback\n", "-- rollback\n-- dbwarden: shout\n"), "line 9: unknown directive '-- dbwarden: shout'"),
    (GOOD.replace("DROP INDEX ix;", "DROP INDEX ix;\n-- dbwarden: no-transaction"),
     "line 10: '-- dbwarden: no-transaction' is not followed by a statement"),
    (GOOD + "-- dev-upgrade: sqlite\nSELECT 1;\n", "line 10: '-- dev-upgrade' without a '-- dev-rollback' section"),
    (GOOD.replace("DROP INDEX ix;", "DROP INDEX 'ix;"), "line 9: unterminated string literal"),
])
def test_malformed_file_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(MigrationFileError) as err:
        parse_migration(text)
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_errors_name_the_file(tmp_path) -> None:
    path = tmp_path / "0007_x.sql"
    with pytest.raises(MigrationFileError, match=r"0007_x\.sql:1: first line"):
        parse_migration("oops", path)
    with pytest.raises(MigrationFileError, match="file name 0007_x.sql does not match its header version 0003"):
        parse_migration(GOOD, path)


def test_read_migrations_sorts_and_refuses_bad_names(tmp_path) -> None:
    for version in (10, 2):
        (tmp_path / migration_filename(version, f"step {version}")).write_text(
            GOOD.replace("0003", f"{version:04d}"), encoding="utf-8")
    (tmp_path / ".#0002_step_2.sql").write_text("an editor's lock file")
    assert [m.version for m in read_migrations(tmp_path)] == [2, 10]
    (tmp_path / "2_short.sql").write_text(GOOD)
    with pytest.raises(MigrationFileError, match="bad migration file name '2_short.sql'"):
        read_migrations(tmp_path)


def test_two_files_with_one_number_are_refused(tmp_path) -> None:
    for name in ("0003_a.sql", "0003_b.sql"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    with pytest.raises(MigrationFileError, match="two migration files with number 0003: 0003_a.sql, 0003_b.sql"):
        read_migrations(tmp_path)
    assert len(read_migrations(tmp_path, shared_numbers=True)) == 2


def test_not_utf8_is_one_error(tmp_path) -> None:
    (tmp_path / "0003_x.sql").write_bytes(GOOD.encode() + b"\xff\n")
    with pytest.raises(MigrationFileError, match=r"0003_x\.sql:10: not valid UTF-8 \(byte 0xff\)"):
        read_migrations(tmp_path)


def test_filenames() -> None:
    assert migration_filename(3, "Add Order indexes!") == "0003_add_order_indexes.sql"
    assert migration_filename(12345, "Ünïcode") == "12345_unicode.sql"
    assert migration_filename(1, "!!!") == "0001_migration.sql"
    with pytest.raises(ValueError):
        migration_filename(0, "x")
