"""Tests of the migration file format: splitter, parser, renderer, directory reader."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dbwarden_nb.errors import MigrationFileError
from dbwarden_nb.migrations.files import (
    MigrationFile,
    Statement,
    migration_filename,
    parse_migration,
    read_migrations,
    slugify,
    split_statements,
)

BASE = "sha256:" + "a" * 64
TARGET = "sha256:" + "b" * 64

EXAMPLE = f"""\
-- dbwarden migration 0003: add order indexes
-- backend: postgresql
-- base: {BASE}
-- target: {TARGET}
-- severity: INFO
-- upgrade
CREATE INDEX ix_orders_created ON orders (created_at);
-- rollback
DROP INDEX ix_orders_created;
-- dev-upgrade: sqlite
CREATE INDEX ix_orders_created ON orders (created_at);
-- dev-rollback: sqlite
DROP INDEX ix_orders_created;
"""


def sqls(text: str) -> list[str]:
    return [s.sql for s in split_statements(text)]


def migration(upgrade: str = "SELECT 1;", rollback: str = "", header: str = "") -> str:
    return f"-- dbwarden migration 0001: test\n{header}-- upgrade\n{upgrade}\n-- rollback\n{rollback}\n"


def error_of(text: str, path: Path | None = None) -> str:
    with pytest.raises(MigrationFileError) as info:
        parse_migration(text, path)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- splitter ---------------------------------------------------------------------------------------------


class TestSplitter:
    def test_simple_statements_are_stripped_and_lose_their_semicolon(self) -> None:
        assert split_statements("  SELECT 1 ;\n\n  SELECT 2;  ") == [Statement("SELECT 1"), Statement("SELECT 2")]

    def test_last_statement_without_semicolon(self) -> None:
        assert sqls("SELECT 1; SELECT 2\n") == ["SELECT 1", "SELECT 2"]

    def test_empty_and_blank_input(self) -> None:
        assert split_statements("") == []
        assert split_statements(" \n\t\n") == []
        assert split_statements(";;\n;") == []

    def test_standalone_comments_are_not_statements(self) -> None:
        text = "-- leading\nSELECT 1; -- after\n/* between\n; */\n-- trailing ; comment\n"
        assert sqls(text) == ["SELECT 1"]

    def test_comments_before_and_after_a_statement_are_dropped_inside_are_kept(self) -> None:
        text = "-- why\n/* note */ SELECT a, -- the a\n  b /* inline; */ FROM t -- tail\n;"
        assert sqls(text) == ["SELECT a, -- the a\n  b /* inline; */ FROM t"]

    def test_single_quoted_strings(self) -> None:
        assert sqls("INSERT INTO t VALUES ('a;b'); SELECT 'x'") == ["INSERT INTO t VALUES ('a;b')", "SELECT 'x'"]

    def test_doubled_quote_escape(self) -> None:
        assert sqls("SELECT 'it''s; fine', ''''; SELECT 2") == ["SELECT 'it''s; fine', ''''", "SELECT 2"]

    def test_comment_markers_inside_strings(self) -> None:
        assert sqls("SELECT '-- no', '/* no'; SELECT 2") == ["SELECT '-- no', '/* no'", "SELECT 2"]

    def test_multiline_string(self) -> None:
        assert sqls("SELECT 'a;\n-- b\n;c'; SELECT 2") == ["SELECT 'a;\n-- b\n;c'", "SELECT 2"]

    def test_postgres_escape_string_backslash(self) -> None:
        assert sqls(r"SELECT E'it\'s; ok', e'\\'; SELECT 2") == [r"SELECT E'it\'s; ok', e'\\'", "SELECT 2"]

    def test_backslash_in_plain_string_is_not_an_escape(self) -> None:
        assert sqls("SELECT 'C:\\'; SELECT 2") == ["SELECT 'C:\\'", "SELECT 2"]

    def test_double_quoted_identifiers(self) -> None:
        assert sqls('CREATE TABLE "a;b" ("x""; y" int); SELECT 2') == ['CREATE TABLE "a;b" ("x""; y" int)', "SELECT 2"]

    def test_backtick_identifiers(self) -> None:
        assert sqls("CREATE TABLE `a;b` (`x``;` int); SELECT 2") == ["CREATE TABLE `a;b` (`x``;` int)", "SELECT 2"]

    def test_block_comment_with_semicolon_and_quote(self) -> None:
        assert sqls("SELECT /* ; ' \" */ 1; SELECT 2") == ["SELECT /* ; ' \" */ 1", "SELECT 2"]

    def test_line_comment_with_semicolon_and_quote(self) -> None:
        assert sqls("SELECT 1 -- don't; stop\n+ 1; SELECT 2") == ["SELECT 1 -- don't; stop\n+ 1", "SELECT 2"]

    def test_dollar_quotes(self) -> None:
        text = (
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n"
            "CREATE FUNCTION g() RETURNS trigger AS $body$\nBEGIN\n  x := 'a'; -- ;\n  RETURN $$;$$;\nEND;\n"
            "$body$ LANGUAGE plpgsql;\nSELECT 3"
        )
        assert sqls(text) == [
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
            ("CREATE FUNCTION g() RETURNS trigger AS $body$\nBEGIN\n  x := 'a'; -- ;\n  RETURN $$;$$;\nEND;\n"
             "$body$ LANGUAGE plpgsql"),
            "SELECT 3",
        ]

    def test_dollar_that_is_not_a_quote(self) -> None:
        assert sqls("SELECT $1, a$b$c FROM t; SELECT 2") == ["SELECT $1, a$b$c FROM t", "SELECT 2"]

    def test_sqlite_trigger(self) -> None:
        trigger = (
            "CREATE TRIGGER trg AFTER INSERT ON orders\nBEGIN\n"
            "  UPDATE stats SET n = n + 1;\n"
            "  UPDATE t SET kind = CASE WHEN NEW.x THEN 'a;' ELSE 'b' END WHERE id = NEW.id;\n"
            "END"
        )
        assert sqls(f"{trigger};\nSELECT 2;") == [trigger, "SELECT 2"]

    def test_sqlite_temp_trigger_lowercase(self) -> None:
        trigger = "create temp trigger if not exists trg after delete on t begin delete from u; end"
        assert sqls(f"{trigger}; select 1") == [trigger, "select 1"]

    def test_mysql_procedure_with_nested_blocks(self) -> None:
        procedure = (
            "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN x INT)\nBEGIN\n"
            "  DECLARE n INT;\n"
            "  IF x > 0 THEN SET n = 1; ELSE SET n = 2; END IF;\n"
            "  CASE x WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\n"
            "  lbl: LOOP LEAVE lbl; END LOOP lbl;\n"
            "  WHILE n < 3 DO SET n = n + 1; END WHILE;\n"
            "  REPEAT SET n = n - 1; UNTIL n = 0 END REPEAT;\n"
            "  BEGIN SELECT 'inner;'; END;\n"
            "END"
        )
        assert sqls(f"{procedure};\nCALL p(1);") == [procedure, "CALL p(1)"]

    def test_postgres_begin_atomic(self) -> None:
        function = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END"
        assert sqls(f"{function}; SELECT 3") == [function, "SELECT 3"]

    def test_transaction_begin_and_end_are_ordinary_statements(self) -> None:
        text = "BEGIN; INSERT INTO t VALUES (1); END; BEGIN TRANSACTION; COMMIT;"
        assert sqls(text) == ["BEGIN", "INSERT INTO t VALUES (1)", "END", "BEGIN TRANSACTION", "COMMIT"]

    def test_begin_and_end_as_column_names(self) -> None:
        text = "CREATE TABLE periods (begin date, \"end\" date, case_no int); SELECT t.begin, t.end FROM t; SELECT 2"
        assert sqls(text) == [
            "CREATE TABLE periods (begin date, \"end\" date, case_no int)",
            "SELECT t.begin, t.end FROM t",
            "SELECT 2",
        ]

    def test_routine_keyword_as_table_name_does_not_open_a_block(self) -> None:
        assert sqls("CREATE TABLE event (begin int); SELECT 2") == ["CREATE TABLE event (begin int)", "SELECT 2"]

    def test_crlf_is_normalised(self) -> None:
        assert sqls("SELECT 1\r\n  + 1;\r\nSELECT 2;\r\n") == ["SELECT 1\n  + 1", "SELECT 2"]

    def test_section_markers_are_plain_comments_in_a_fragment(self) -> None:
        assert sqls("SELECT 1\n-- rollback\n+ 1;") == ["SELECT 1\n-- rollback\n+ 1"]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("SELECT 1;\nSELECT 'abc;\n", "line 2: unterminated string literal"),
            ('SELECT "abc', "line 1: unterminated quoted identifier"),
            ("SELECT `abc", "line 1: unterminated quoted identifier"),
            ("SELECT E'abc\\'", "line 1: unterminated string literal"),
            ("\n\nSELECT /* abc", "line 3: unterminated block comment"),
            ("SELECT $$ abc", "line 1: unterminated dollar-quoted string $$"),
            ("SELECT 1;\nSELECT $tag$ abc $$ $tag", "line 2: unterminated dollar-quoted string $tag$"),
            ("CREATE TRIGGER t AFTER INSERT ON x\nBEGIN SELECT 1;", "line 2: unterminated BEGIN ... END block"),
        ],
    )
    def test_unterminated_constructs(self, text: str, message: str) -> None:
        with pytest.raises(MigrationFileError) as info:
            split_statements(text)
        assert str(info.value) == message


class TestDirectives:
    def test_no_transaction_applies_to_next_statement_only(self) -> None:
        text = "SELECT 1;\n-- dbwarden: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 2;"
        assert split_statements(text) == [
            Statement("SELECT 1"),
            Statement("CREATE INDEX CONCURRENTLY i ON t (a)", transactional=False),
            Statement("SELECT 2"),
        ]

    def test_irreversible_with_reason(self) -> None:
        text = "-- dbwarden:   irreversible   the dropped rows are gone  \nCREATE TABLE t (a int);"
        assert split_statements(text) == [Statement("CREATE TABLE t (a int)", irreversible="the dropped rows are gone")]

    def test_both_directives_and_comments_between(self) -> None:
        text = "-- dbwarden: irreversible data lost\n-- a note\n-- dbwarden: no-transaction\n\nDROP INDEX i;"
        assert split_statements(text) == [Statement("DROP INDEX i", transactional=False, irreversible="data lost")]

    def test_directive_survives_an_empty_statement(self) -> None:
        assert split_statements("-- dbwarden: no-transaction\n;\nSELECT 1;") == [Statement("SELECT 1", False)]

    def test_directive_text_inside_string_is_not_a_directive(self) -> None:
        assert sqls("SELECT '\n-- dbwarden: foo\n';") == ["SELECT '\n-- dbwarden: foo\n'"]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("-- dbwarden: foo\nSELECT 1;", "line 1: unknown directive '-- dbwarden: foo'"),
            ("-- dbwarden: no-transaction please\nSELECT 1;", "line 1: unknown directive '-- dbwarden: no-transaction please'"),
            ("-- dbwarden: irreversible\nSELECT 1;", "line 1: '-- dbwarden: irreversible' needs a reason"),
            ("SELECT 1;\n-- dbwarden: no-transaction\n", "line 2: '-- dbwarden: no-transaction' is not followed by a statement"),
            (
                "-- dbwarden: no-transaction\n-- dbwarden: no-transaction\nSELECT 1;",
                "line 2: duplicate directive '-- dbwarden: no-transaction'",
            ),
            (
                "-- dbwarden: irreversible a\n-- dbwarden: irreversible b\nSELECT 1;",
                "line 2: duplicate directive '-- dbwarden: irreversible b'",
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON t (a); -- dbwarden: no-transaction\nSELECT 1;",
                "line 1: '-- dbwarden: no-transaction' must be on its own line before the statement it applies to",
            ),
            (
                "CREATE INDEX i\n-- dbwarden: no-transaction\nON t (a);",
                "line 2: '-- dbwarden: no-transaction' must be on its own line before the statement it applies to",
            ),
        ],
    )
    def test_directive_errors(self, text: str, message: str) -> None:
        with pytest.raises(MigrationFileError) as info:
            split_statements(text)
        assert str(info.value) == message

    def test_undoes_names_the_upgrade_statements_a_rollback_statement_undoes(self) -> None:
        text = migration("A;\nB;\nC;", "-- dbwarden: undoes 3\nZ;\n-- dbwarden:  undoes 1 - 2\nY;")
        m = parse_migration(text)
        assert m.rollback == (Statement("Z", undoes=(3, 3)), Statement("Y", undoes=(1, 2)))
        assert "-- dbwarden: undoes 3\nZ;\n-- dbwarden: undoes 1-2\nY;" in m.render()
        assert parse_migration(m.render()) == m
        assert m.checksum == parse_migration(migration("A;\nB;\nC;", "Z;\nY;")).checksum  # not part of the checksum

    @pytest.mark.parametrize(("upgrade", "rollback", "message"), [
        ("A;", "-- dbwarden: undoes 0\nZ;", "line 5: expected '-- dbwarden: undoes N' or 'undoes N-M'"),
        ("A;\nB;", "-- dbwarden: undoes 2-1\nZ;", "line 6: expected '-- dbwarden: undoes N' or 'undoes N-M'"),
        ("A;", "-- dbwarden: undoes 2\nZ;", ("line 6: '-- dbwarden: undoes' names upgrade statement 2, but the "
                                             "'-- upgrade' section has 1")),
        ("-- dbwarden: undoes 1\nA;", "Z;", "line 4: '-- dbwarden: undoes' belongs in a rollback section"),
        ("A;", "-- dbwarden: undoes 1\n-- dbwarden: undoes 1\nZ;", "line 6: duplicate directive"),
    ])
    def test_undoes_errors(self, upgrade: str, rollback: str, message: str) -> None:
        assert message in error_of(migration(upgrade, rollback))


# --- parsing ----------------------------------------------------------------------------------------------


class TestParse:
    def test_full_example(self) -> None:
        m = parse_migration(EXAMPLE, Path("migrations/primary/0003_add_order_indexes.sql"))
        statement = Statement("CREATE INDEX ix_orders_created ON orders (created_at)")
        drop = Statement("DROP INDEX ix_orders_created")
        assert m == MigrationFile(
            version=3,
            description="add order indexes",
            upgrade=(statement,),
            rollback=(drop,),
            backend="postgresql",
            base=BASE,
            target=TARGET,
            severity="INFO",
            dev_backend="sqlite",
            dev_upgrade=(statement,),
            dev_rollback=(drop,),
        )
        assert m.path == Path("migrations/primary/0003_add_order_indexes.sql")
        assert m.filename == "0003_add_order_indexes.sql"
        assert not m.is_manual
        assert m.irreversible == ()

    def test_render_gives_exactly_the_example(self) -> None:
        assert parse_migration(EXAMPLE).render() == EXAMPLE

    def test_manual_migration_defaults(self) -> None:
        m = parse_migration("-- dbwarden migration 0001: add users\n-- upgrade\n-- rollback\n")
        assert m == MigrationFile(1, "add users", (), ())
        assert m.is_manual
        assert m.severity == "INFO"
        assert m.dev_upgrade is None and m.dev_rollback is None and m.dev_backend is None

    def test_empty_description(self) -> None:
        m = parse_migration("-- dbwarden migration 0002:\n-- upgrade\n-- rollback\n")
        assert m.description == ""
        assert m.render().startswith("-- dbwarden migration 0002:\n")

    def test_irreversible_rollback(self) -> None:
        text = migration(
            "DROP TABLE t;",
            "-- dbwarden: irreversible rows of t are lost\nCREATE TABLE t (a int);\nSELECT 1;",
            header="-- severity: CRITICAL\n",
        )
        m = parse_migration(text)
        assert m.irreversible == ("rows of t are lost",)
        assert m.severity == "CRITICAL"
        assert m.rollback[1] == Statement("SELECT 1")

    def test_missing_semicolon_before_section_marker(self) -> None:
        m = parse_migration(migration("CREATE TABLE t (a int)", "DROP TABLE t"))
        assert m.upgrade == (Statement("CREATE TABLE t (a int)"),)
        assert m.rollback == (Statement("DROP TABLE t"),)

    def test_markers_inside_strings_and_dollar_quotes_are_content(self) -> None:
        upgrade = "SELECT '\n-- rollback\n';\nSELECT $$\n-- rollback\n$$;\nSELECT /*\n-- rollback\n*/ 1;"
        m = parse_migration(migration(upgrade, "SELECT 4;"))
        assert [s.sql for s in m.upgrade] == ["SELECT '\n-- rollback\n'", "SELECT $$\n-- rollback\n$$", "SELECT /*\n-- rollback\n*/ 1"]
        assert m.rollback == (Statement("SELECT 4"),)

    def test_marker_ends_a_statement_even_mid_way(self) -> None:
        m = parse_migration("-- dbwarden migration 0001: x\n-- upgrade\nSELECT 1 +\n-- rollback\n2;\n")
        assert (m.upgrade, m.rollback) == ((Statement("SELECT 1 +"),), (Statement("2"),))

    def test_marker_not_at_line_start_is_a_comment(self) -> None:
        m = parse_migration(migration("DROP TABLE x; -- rollback\nSELECT 1;"))
        assert [s.sql for s in m.upgrade] == ["DROP TABLE x", "SELECT 1"]

    def test_sections_in_any_order_and_free_comments(self) -> None:
        text = (
            "-- dbwarden migration 0007: x\n\n-- a free comment: with a colon\n-- severity: WARN\n\n"
            "-- rollback\nSELECT 2;\n-- upgrade\n-- explain the upgrade\nSELECT 1;\n"
        )
        m = parse_migration(text)
        assert (m.version, m.severity, m.upgrade, m.rollback) == (7, "WARN", (Statement("SELECT 1"),), (Statement("SELECT 2"),))

    def test_header_whitespace_is_lenient(self) -> None:
        text = f"  --dbwarden migration 0012 :  spaced out  \n--backend:sqlite\n--   target:  {TARGET}\n--upgrade\n--rollback\n"
        m = parse_migration(text)
        assert (m.version, m.description, m.backend, m.target) == (12, "spaced out", "sqlite", TARGET)

    def test_crlf_and_bom(self) -> None:
        m = parse_migration("\ufeff" + EXAMPLE.replace("\n", "\r\n"))
        assert m == parse_migration(EXAMPLE)

    def test_large_version_numbers(self) -> None:
        m = parse_migration("-- dbwarden migration 12345: big\n-- upgrade\n-- rollback\n")
        assert m.version == 12345
        assert m.filename == "12345_big.sql"

    def test_dev_sections_can_be_empty(self) -> None:
        m = parse_migration(migration(rollback="SELECT 2;\n-- dev-upgrade: sqlite\n-- dev-rollback: sqlite"))
        assert (m.dev_backend, m.dev_upgrade, m.dev_rollback) == ("sqlite", (), ())

    def test_no_transaction_in_rollback(self) -> None:
        m = parse_migration(migration(rollback="-- dbwarden: no-transaction\nDROP INDEX CONCURRENTLY i;"))
        assert m.rollback == (Statement("DROP INDEX CONCURRENTLY i", transactional=False),)


P = Path("migrations/primary/0002_x.sql")


class TestParseErrors:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "0002_x.sql:1: first line must be '-- dbwarden migration NNNN: description'"),
            ("SELECT 1;", ":1: first line must be '-- dbwarden migration NNNN: description'"),
            ("-- dbwarden migration 2: x\n-- upgrade\n-- rollback\n", ":1: first line must be"),
            ("-- dbwarden migration 0002 x\n-- upgrade\n-- rollback\n", ":1: first line must be"),
            ("-- dbwarden migration 0000: x\n-- upgrade\n-- rollback\n", ":1: migration numbers start at 0001"),
            ("\n-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n", ":1: first line must be"),
            ("-- dbwarden migration 0002: x\n", "0002_x.sql: missing '-- upgrade' section"),
            ("-- dbwarden migration 0002: x\n-- rollback\nSELECT 1;", "0002_x.sql: missing '-- upgrade' section"),
            ("-- dbwarden migration 0002: x\n-- upgrade\nSELECT 1;", "0002_x.sql: missing '-- rollback' section"),
            ("-- dbwarden migration 0002: x\nSELECT 1;\n-- upgrade\n-- rollback\n", ":2: SQL before the '-- upgrade' section"),
            ("-- dbwarden migration 0002: x\n/* hi */\n-- upgrade\n-- rollback\n", ":2: SQL before the '-- upgrade' section"),
            ("-- dbwarden migration 0002: x\n-- severity: HIGH\n-- upgrade\n-- rollback\n", ":2: unknown severity 'HIGH'"),
            ("-- dbwarden migration 0002: x\n-- severity: info\n-- upgrade\n-- rollback\n", ":2: unknown severity 'info'"),
            ("-- dbwarden migration 0002: x\n-- backend: my sql\n-- upgrade\n-- rollback\n", ":2: invalid backend name 'my sql'"),
            ("-- dbwarden migration 0002: x\n-- base: abc\n-- upgrade\n-- rollback\n", ":2: base must be 'sha256:'"),
            ("-- dbwarden migration 0002: x\n-- target: sha256:ABC\n-- upgrade\n-- rollback\n", ":2: target must be 'sha256:'"),
            (
                "-- dbwarden migration 0002: x\n-- severity: WARN\n-- severity: INFO\n-- upgrade\n-- rollback\n",
                ":3: duplicate '-- severity:' header",
            ),
            (
                "-- dbwarden migration 0002: x\n-- dbwarden: no-transaction\n-- upgrade\n-- rollback\n",
                ":2: '-- dbwarden:' directives belong inside a section",
            ),
            ("-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n-- upgrade\n", ":4: duplicate '-- upgrade' section"),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\nSELECT 1;\n\nSELECT 'oops;\n-- rollback\n",
                "0002_x.sql:5: unterminated string literal",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\nSELECT $tag$ x;\n-- rollback\n",
                "0002_x.sql:3: unterminated dollar-quoted string $tag$",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- dbwarden: foo\nSELECT 1;\n-- rollback\n",
                ":3: unknown directive '-- dbwarden: foo'",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- dbwarden: no-transaction\n-- rollback\n",
                ":3: '-- dbwarden: no-transaction' is not followed by a statement",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- dbwarden: irreversible gone\nDROP TABLE t;\n-- rollback\n",
                ":4: '-- dbwarden: irreversible' belongs in a rollback section",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n-- dev-upgrade: sqlite\n",
                ":4: '-- dev-upgrade' without a '-- dev-rollback' section",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n-- dev-rollback: sqlite\n",
                ":4: '-- dev-rollback' without a '-- dev-upgrade' section",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n-- dev-upgrade: sqlite\n-- dev-rollback: mysql\n",
                ":5: dev-rollback backend 'mysql' does not match dev-upgrade backend 'sqlite'",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n-- dev-upgrade\n",
                ":4: expected '-- dev-upgrade: <backend>', got '-- dev-upgrade'",
            ),
            (
                "-- dbwarden migration 0002: x\n-- upgrade\nCREATE TRIGGER t AFTER INSERT ON x BEGIN\nSELECT 1;\n-- rollback\n",
                ":3: unterminated BEGIN ... END block",
            ),
            (
                "-- dbwarden migration 0003: x\n-- upgrade\n-- rollback\n",
                "migrations/primary/0002_x.sql: file name 0002_x.sql does not match its header version 0003",
            ),
        ],
    )
    def test_message(self, text: str, message: str) -> None:
        got = error_of(text, P)
        assert got.startswith("migrations/primary/0002_x.sql:")
        assert message in got

    def test_without_path_errors_name_the_line(self) -> None:
        assert error_of("nope") == "line 1: first line must be '-- dbwarden migration NNNN: description'"
        assert error_of("-- dbwarden migration 0001: x\n") == "missing '-- upgrade' section"

    def test_huge_version_number_is_a_clean_error(self) -> None:
        assert "first line must be" in error_of("-- dbwarden migration " + "9" * 5000 + ": x\n-- upgrade\n-- rollback\n")


# --- names ------------------------------------------------------------------------------------------------


class TestNames:
    @pytest.mark.parametrize(
        ("name", "slug"),
        [
            ("add order indexes", "add_order_indexes"),
            ("Add Order-Indexes!!", "add_order_indexes"),
            ("  --weird__name--  ", "weird__name"),
            ("Café crème", "cafe_creme"),
            ("", "migration"),
            ("!!!", "migration"),
            ("日本", "migration"),
            ("v2.1 users", "v2_1_users"),
        ],
    )
    def test_slugify(self, name: str, slug: str) -> None:
        assert slugify(name) == slug

    def test_slug_is_capped_without_trailing_underscore(self) -> None:
        assert slugify("a" * 100) == "a" * 60
        assert slugify("a" * 59 + " b") == "a" * 59

    @given(st.text())
    def test_slug_shape(self, name: str) -> None:
        assert re.fullmatch(r"[a-z0-9](?:[a-z0-9_]{0,58}[a-z0-9])?", slugify(name))

    def test_migration_filename(self) -> None:
        assert migration_filename(3, "Add order indexes") == "0003_add_order_indexes.sql"
        assert migration_filename(10000, "") == "10000_migration.sql"
        with pytest.raises(ValueError):
            migration_filename(0, "x")


# --- checksum ---------------------------------------------------------------------------------------------


class TestChecksum:
    def test_format_and_stability(self) -> None:
        m = parse_migration(EXAMPLE)
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", m.checksum)
        assert m.checksum == parse_migration(EXAMPLE).checksum

    def test_blind_to_line_end_whitespace_blank_lines_and_other_sections(self) -> None:
        """The checksum is of the upgrade section's lines (computed without splitting the file): line ends,
        whitespace at them and blank lines aside. The first kind, of the split statements, was also blind to
        comments and spaces between statements; a database that recorded it keeps verifying (``matches``)."""
        base = parse_migration(migration("SELECT 1\n  + 2;\nSELECT 3;", "SELECT 4;"))
        spaced = parse_migration(migration("\n\nSELECT 1   \n  + 2;   \n\n\nSELECT 3;\t\n\n", "SELECT 5;").replace("\n", "\r\n"))
        assert spaced.checksum == base.checksum
        noisy = parse_migration(
            migration("\n\n-- a comment\nSELECT 1   \n  + 2 ;   \n\n\n/* x */ SELECT 3\t;\n\n", "SELECT 5;").replace("\n", "\r\n")
        )
        assert noisy.checksum != base.checksum  # a note or a space inside a line is text of the section now
        assert noisy.legacy_checksums[0] == base.legacy_checksums[0]
        assert noisy.matches(base.legacy_checksums[0]) and not noisy.matches(base.checksum)
        dev = parse_migration(migration("SELECT 1\n  + 2;\nSELECT 3;", "-- dev-upgrade: sqlite\nSELECT 9;\n-- dev-rollback: sqlite"))
        assert dev.checksum == base.checksum

    @pytest.mark.parametrize(
        "upgrade",
        [
            "SELECT 1\n  + 3;\nSELECT 3;",  # edited text
            "SELECT 1\n    + 2;\nSELECT 3;",  # changed indentation
            "SELECT 1\n  + 2;",  # dropped statement
            "SELECT 3;\nSELECT 1\n  + 2;",  # reordered
            "SELECT 1\n  + 2\nSELECT 3;",  # merged
            "SELECT 1\n  + 2;\n-- dbwarden: no-transaction\nSELECT 3;",  # directive added
            "SELECT 1\n  + 2;\nSELECT 3;\nSELECT 3;",  # duplicated
        ],
    )
    def test_sensitive_to_upgrade_edits(self, upgrade: str) -> None:
        base = parse_migration(migration("SELECT 1\n  + 2;\nSELECT 3;"))
        assert parse_migration(migration(upgrade)).checksum != base.checksum

    def test_lone_surrogates_do_not_break_it(self) -> None:
        assert MigrationFile(1, "x", (Statement("SELECT '\udc80'"),), ()).checksum.startswith("sha256:")


# --- rendering --------------------------------------------------------------------------------------------


class TestRender:
    def test_render_manual(self) -> None:
        m = MigrationFile(
            1,
            "add users",
            (Statement("CREATE TABLE users (id int)"), Statement("CREATE INDEX CONCURRENTLY i ON users (id)", False)),
            (Statement("DROP TABLE users", irreversible="rows are lost"),),
        )
        assert m.render() == (
            "-- dbwarden migration 0001: add users\n-- severity: INFO\n-- upgrade\nCREATE TABLE users (id int);\n"
            "-- dbwarden: no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n"
            "-- rollback\n-- dbwarden: irreversible rows are lost\nDROP TABLE users;\n"
        )

    @pytest.mark.parametrize(
        "m",
        [
            MigrationFile(1, "x", (Statement("SELECT 1;"),), ()),
            MigrationFile(1, "x", (Statement("SELECT 1; SELECT 2"),), ()),
            MigrationFile(1, "x", (Statement("SELECT 'open"),), ()),
            MigrationFile(1, "x", (Statement("  SELECT 1"),), ()),
            MigrationFile(1, "x", (Statement("SELECT 1 -- trailing comment"),), ()),
            MigrationFile(1, "x", (Statement(""),), ()),
            MigrationFile(1, "two\nlines", (), ()),
            MigrationFile(1, "x", (), (), severity="HIGH"),
            MigrationFile(1, "x", (), (), base="nope"),
            MigrationFile(1, "x", (Statement("DROP TABLE t", irreversible="reason"),), ()),
            MigrationFile(1, "x", (), (Statement("DROP TABLE t", irreversible=""),)),
            MigrationFile(1, "x", (), (), dev_upgrade=(Statement("SELECT 1"),)),
            MigrationFile(0, "x", (), ()),
        ],
    )
    def test_unrepresentable_migrations_refuse_to_render(self, m: MigrationFile) -> None:
        with pytest.raises(ValueError):
            m.render()

    def test_path_is_not_part_of_equality(self) -> None:
        a = MigrationFile(1, "x", (), (), path=Path("a.sql"))
        assert a == MigrationFile(1, "x", (), ())
        assert hash(a) == hash(MigrationFile(1, "x", (), ()))


# --- directory --------------------------------------------------------------------------------------------


def write(directory: Path, name: str, version: int | None = None, body: str = "SELECT 1;") -> Path:
    number = version if version is not None else int(name.split("_")[0])
    path = directory / name
    path.write_text(f"-- dbwarden migration {number:04d}: {name}\n-- upgrade\n{body}\n-- rollback\n", encoding="utf-8")
    return path


class TestReadMigrations:
    def test_missing_directory(self, tmp_path: Path) -> None:
        assert read_migrations(tmp_path / "nope") == []

    def test_not_a_directory(self, tmp_path: Path) -> None:
        (tmp_path / "f").write_text("")
        with pytest.raises(MigrationFileError, match="not a directory"):
            read_migrations(tmp_path / "f")

    def test_sorted_and_filtered(self, tmp_path: Path) -> None:
        write(tmp_path, "0010_ten.sql")
        write(tmp_path, "0002_two.sql")
        write(tmp_path, "0001_one.sql")
        (tmp_path / "README.md").write_text("hello")
        (tmp_path / "0003_draft.sql.bak").write_text("junk")
        (tmp_path / ".#0004_lock.sql").write_text("junk")
        (tmp_path / "0005_dir.sql").mkdir()
        found = read_migrations(tmp_path)
        assert [m.version for m in found] == [1, 2, 10]
        assert [m.path for m in found] == [tmp_path / "0001_one.sql", tmp_path / "0002_two.sql", tmp_path / "0010_ten.sql"]

    @pytest.mark.parametrize("name", ["2_x.sql", "abcd.sql", "0002.sql", "00002_x.sql", "0000_x.sql", "0002-x.sql"])
    def test_bad_file_names(self, tmp_path: Path, name: str) -> None:
        (tmp_path / name).write_text("-- dbwarden migration 0002: x\n-- upgrade\n-- rollback\n")
        with pytest.raises(MigrationFileError) as info:
            read_migrations(tmp_path)
        assert str(info.value) == (
            f"{tmp_path / name}: bad migration file name '{name}'; expected NNNN_name.sql, e.g. 0001_create_users.sql"
        )

    def test_duplicate_numbers(self, tmp_path: Path) -> None:
        write(tmp_path, "0001_one.sql")
        write(tmp_path, "0002_b.sql")
        write(tmp_path, "0002_a.sql")
        with pytest.raises(MigrationFileError) as info:
            read_migrations(tmp_path)
        assert str(info.value) == (f"{tmp_path}: two migration files with number 0002: 0002_a.sql, 0002_b.sql (two "
                                   "branches merged?): run 'dbwarden rebase' to renumber and re-plan them")
        assert [f.path.name for f in read_migrations(tmp_path, shared_numbers=True)] == [
            "0001_one.sql", "0002_a.sql", "0002_b.sql"]

    def test_header_must_match_file_name(self, tmp_path: Path) -> None:
        write(tmp_path, "0002_x.sql", version=3)
        with pytest.raises(MigrationFileError) as info:
            read_migrations(tmp_path)
        assert str(info.value) == f"{tmp_path / '0002_x.sql'}: file name 0002_x.sql does not match its header version 0003"

    def test_parse_errors_name_the_file(self, tmp_path: Path) -> None:
        write(tmp_path, "0001_x.sql", body="SELECT 1;\nSELECT 'oops;")
        with pytest.raises(MigrationFileError) as info:
            read_migrations(tmp_path)
        assert str(info.value) == f"{tmp_path / '0001_x.sql'}:4: unterminated string literal"

    def test_not_utf8(self, tmp_path: Path) -> None:
        (tmp_path / "0001_x.sql").write_bytes(b"-- dbwarden migration 0001: x\n-- upgrade\nSELECT '\xff';\n-- rollback\n")
        with pytest.raises(MigrationFileError) as info:
            read_migrations(tmp_path)
        assert str(info.value) == f"{tmp_path / '0001_x.sql'}:3: not valid UTF-8 (byte 0xff)"

    def test_round_trip_through_disk(self, tmp_path: Path) -> None:
        m = parse_migration(EXAMPLE)
        (tmp_path / m.filename).write_text(m.render(), encoding="utf-8")
        assert read_migrations(tmp_path) == [m]


# --- properties -------------------------------------------------------------------------------------------

# Free text for literals and comments; '\r' is excluded because files normalise it to '\n'.
free_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=30)
line_text = free_text.map(lambda s: s.replace("\n", " "))
words = st.sampled_from(["users", "orders", "id", "begin_date", "end_at", "case_no", "naïve", "a$b", "x1", "NEW.id", "t.end"])
operators = st.sampled_from(["=", "(", ")", ",", "+", "-", "/", "*", "<>", ".", "::", "@", "%"])


def quoted(quote: str, body: str) -> str:
    return quote + body.replace(quote, quote * 2) + quote


@st.composite
def dollar_quoted(draw: st.DrawFn) -> str:
    tag = "$" + draw(st.sampled_from(["", "body", "x_1", "ü"])) + "$"
    body = draw(free_text.filter(lambda b: tag not in b and not (b + tag).startswith(tag[1:]) and not b.endswith("$")))
    return tag + body + tag


atoms = st.one_of(
    words,
    operators,
    st.integers(0, 10**6).map(str),
    free_text.map(lambda s: quoted("'", s)),
    free_text.map(lambda s: quoted('"', s)),
    free_text.map(lambda s: quoted("`", s)),
    free_text.map(lambda s: "E'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    dollar_quoted(),
)
# Comments only ever sit inside a statement; "note" keeps them from reading as markers or directives.
inner_atoms = st.one_of(
    atoms,
    line_text.map(lambda s: "-- note " + s + "\n"),
    free_text.filter(lambda s: "*/" not in s and not s.endswith("*")).map(lambda s: "/* " + s + " */"),
)
separators = st.sampled_from([" ", "\n", "\t", "  \n  ", "\n\n"])


@st.composite
def plain_sql(draw: st.DrawFn, first: list[str] | None = None) -> str:
    lead = draw(st.sampled_from(first or ["SELECT", "INSERT INTO", "UPDATE", "CREATE TABLE", "DROP TABLE", "ALTER TABLE", "BEGIN", "END", "COMMIT"]))
    parts = [lead, *draw(st.lists(inner_atoms, max_size=6)), draw(atoms)]
    out = parts[0]
    for part in parts[1:]:
        out += draw(separators) + part
    return out


@st.composite
def routine_sql(draw: st.DrawFn) -> str:
    inner = st.lists(plain_sql(["SELECT", "UPDATE", "INSERT INTO", "DELETE FROM"]), min_size=1, max_size=3)
    body = " ".join(s + ";" for s in draw(inner))
    nested = draw(
        st.sampled_from(
            [
                "",
                "SELECT CASE WHEN a THEN 1 ELSE 2 END;",
                "IF x THEN SELECT 1; END IF;",
                "CASE y WHEN 1 THEN SELECT 2; END CASE;",
                "BEGIN SELECT 3; END;",
                "WHILE n DO SET n = 0; END WHILE;",
            ]
        )
    )
    head = draw(st.sampled_from(["CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW", "CREATE PROCEDURE p()", "create temp trigger t after delete on u"]))
    return f"{head}\nBEGIN\n  {body}\n  {nested}\nEND"


sql_text = st.one_of(plain_sql(), routine_sql())
reasons = line_text.map(str.strip).filter(bool)


def whole_in(sql: str, backend: str | None) -> bool:
    """Whether ``backend`` reads ``sql`` (drawn with every dialect's quotes) as the one statement it is."""
    try:
        return [s.sql for s in split_statements(sql, backend)] == [sql]
    except MigrationFileError:
        return False


@st.composite
def statements(draw: st.DrawFn, rollback: bool, backend: str | None = None) -> tuple[Statement, ...]:
    out = []
    for sql in draw(st.lists(sql_text.filter(lambda sql: whole_in(sql, backend)), max_size=4)):
        irreversible = draw(st.none() | reasons) if rollback else None
        out.append(Statement(sql, draw(st.booleans()), irreversible))
    return tuple(out)


checksums = st.binary(max_size=8).map(lambda b: "sha256:" + hashlib.sha256(b).hexdigest())
backends = st.sampled_from(["postgresql", "sqlite", "mysql", "clickhouse"])


@st.composite
def migrations(draw: st.DrawFn) -> MigrationFile:
    dev_backend = draw(st.none() | backends)
    backend = draw(st.none() | backends)
    return MigrationFile(
        version=draw(st.integers(1, 10**6)),
        description=draw(line_text.map(str.strip)),
        upgrade=draw(statements(False, backend)),
        rollback=draw(statements(True, backend)),
        backend=backend,
        base=draw(st.none() | checksums),
        target=draw(st.none() | checksums),
        severity=draw(st.sampled_from(["INFO", "WARN", "CRITICAL"])),
        dev_backend=dev_backend,
        dev_upgrade=None if dev_backend is None else draw(statements(False, dev_backend)),
        dev_rollback=None if dev_backend is None else draw(statements(True, dev_backend)),
    )


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestProperties:
    @PROPERTY
    @given(migrations())
    def test_render_parse_round_trip(self, m: MigrationFile) -> None:
        text = m.render()
        assert parse_migration(text) == m
        assert parse_migration(text).render() == text

    @PROPERTY
    @given(sql_text)
    def test_splitter_keeps_a_statement_whole(self, sql: str) -> None:
        assert split_statements(sql + ";\n" + sql) == [Statement(sql), Statement(sql)]

    @PROPERTY
    @given(migrations(), st.data())
    def test_checksum_ignores_line_end_whitespace_and_blank_lines(self, m: MigrationFile, data: st.DataObject) -> None:
        lines = [f"-- dbwarden migration {m.version:04d}: x", "-- upgrade"]
        for statement in m.upgrade:
            lines += [data.draw(st.sampled_from(["", "  ", "\t"])) for _ in range(data.draw(st.integers(0, 2)))]
            if not statement.transactional:
                lines.append("-- dbwarden: no-transaction")
            lines += [line + data.draw(st.sampled_from(["", " ", "\t  "])) for line in (statement.sql + ";").split("\n")]
        lines.append("-- rollback")
        noisy = parse_migration("\n".join(lines))
        assert noisy.checksum == m.checksum
        noted = parse_migration("\n".join(lines).replace("\n-- rollback", "\n-- a note\n-- rollback"))
        assert noted.legacy_checksums == noisy.legacy_checksums and noted.checksum != m.checksum
        assert noisy.checksum == parse_migration("\r\n".join(lines)).checksum

    @PROPERTY
    @given(migrations(), sql_text)
    def test_checksum_changes_with_any_upgrade_edit(self, m: MigrationFile, sql: str) -> None:
        edited = [
            MigrationFile(m.version, m.description, (*m.upgrade, Statement(sql)), m.rollback),
            MigrationFile(m.version, m.description, (Statement(sql, False), *m.upgrade), m.rollback),
        ]
        if m.upgrade:
            first = m.upgrade[0]
            edited.append(MigrationFile(m.version, m.description, (Statement(first.sql + " x", first.transactional), *m.upgrade[1:]), ()))
            edited.append(MigrationFile(m.version, m.description, (Statement(first.sql, not first.transactional), *m.upgrade[1:]), ()))
        for other in edited:
            assert other.checksum != m.checksum

    @PROPERTY
    @given(st.text())
    @example("-- dbwarden migration " + "9" * 5000 + ": x")
    @example("\ufeff\r\r")
    def test_arbitrary_text_only_raises_migration_file_error(self, text: str) -> None:
        for candidate in (text, "-- dbwarden migration 0001: x\n" + text, migration(text, text)):
            try:
                parse_migration(candidate, Path("0001_x.sql"))
            except MigrationFileError as err:
                assert "\n" not in str(err)
            try:
                split_statements(candidate)
            except MigrationFileError as err:
                assert "\n" not in str(err)

    @PROPERTY
    @given(
        migrations(),
        st.lists(
            st.tuples(
                st.floats(0, 1),
                st.integers(0, 8),
                st.sampled_from(
                    [
                        "'", '"', "`", "$$", "$a$", "/*", "*/", "--", ";", "\n", " BEGIN ", " END ", " CASE ", "E'\\",
                        "-- upgrade\n", "\n-- rollback\n", "\n-- dev-upgrade: sqlite\n", "\n-- dev-rollback: mysql\n",
                        "\n-- dev-upgrade\n", "\n-- dbwarden: no-transaction\n", "\n-- dbwarden: irreversible\n",
                        "\n-- dbwarden: bogus\n", "\n-- severity: HIGH\n", "\n-- base: x\n", "\r", "\ufeff", "\x00",
                        "99999999999", "\nCREATE TRIGGER t BEGIN ", "",
                    ]
                ),
            ),
            max_size=5,
        ),
    )
    def test_mutated_files_only_raise_migration_file_error(
        self, m: MigrationFile, mutations: list[tuple[float, int, str]]
    ) -> None:
        text = m.render()
        for where, delete, insert in mutations:
            at = int(where * len(text))
            text = text[:at] + insert + text[at + delete :]
        try:
            parsed = parse_migration(text, Path("0001_x.sql"))
        except MigrationFileError as err:
            assert "\n" not in str(err)
        else:
            assert isinstance(parsed, MigrationFile)
