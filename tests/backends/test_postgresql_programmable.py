"""Functions, triggers, aggregates and extensions declared beside the models, on a real PostgreSQL, through the CLI:
each change is one operation, applied in place where the engine can (``CREATE OR REPLACE``), and its rollback
restores the previous definition, judged by what the server prints (``pg_get_functiondef``, ``pg_get_triggerdef``)
and by what the objects do to the rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from projects import ProjectDir

FILM = """
    from dbwarden_nb.entities import Aggregate, Extension, Function, Trigger

    class Film(Base):
        __tablename__ = "film"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        title: Mapped[str] = mapped_column(sa.Text)
        stamp: Mapped[str | None] = mapped_column(sa.Text)

    Extension("pg_trgm", metadata=Base.metadata)
    Function("twice", "(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT x * {factor} $$",
             comment={comment!r}, metadata=Base.metadata)
    Aggregate("concat_all", "(text) (SFUNC = textcat, STYPE = text, INITCOND = '')", metadata=Base.metadata)
"""
MARKING = """
    Function("mark", "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.stamp := {mark!r}; RETURN NEW; END $$",
             metadata=Base.metadata)
    Trigger("film_mark", "BEFORE {timing} ON film FOR EACH ROW EXECUTE FUNCTION mark()", table="film",
            metadata=Base.metadata)
"""


def models(mark: str = "v1", factor: int = 2, comment: str = "doubles", timing: str = "INSERT",
           marking: bool = True) -> str:
    return (FILM + MARKING * marking).format(mark=mark, factor=factor, comment=comment, timing=timing)


class Db:
    def __init__(self, url: str):
        self.engine = sa.create_engine("postgresql+psycopg://" + url.split("://", 1)[1], poolclass=sa.pool.NullPool)

    def one(self, sql: str):
        with self.engine.begin() as conn:
            return conn.execute(sa.text(sql)).scalar()

    def run(self, sql: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(sql))

    def definitions(self) -> tuple:
        return (self.one("SELECT pg_get_functiondef('mark'::regproc)"), self.one("SELECT pg_get_functiondef('twice'::regproc)"),
                self.one("SELECT obj_description('twice'::regproc, 'pg_proc')"),
                self.one("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'film_mark'"))


@pytest.fixture
def applied(pg_url, tmp_path):
    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    project.models(models())
    project.ok("make-migrations", "film")
    project.ok("migrate")
    db = Db(pg_url)
    db.run("INSERT INTO film (id, title) VALUES (1, 'a'), (2, 'b')")
    yield project, db
    db.engine.dispose()


def _step(project: ProjectDir, name: str, body: str) -> str:
    project.models(body)
    out = project.ok("make-migrations", name).out
    assert "(1 operation(s)" in out, out
    return project.migration_files()[-1].read_text()


def test_what_the_objects_do_and_the_round_trip(applied):
    project, db = applied
    assert [db.one("SELECT stamp FROM film WHERE id = 1"), db.one("SELECT twice(21)")] == ["v1", 42]
    assert db.one("SELECT concat_all(title ORDER BY title) FROM film") == "ab"
    assert project.cli("diff", "--check").code == 0
    assert "nothing written" in project.ok("make-migrations", "again").out


def test_a_changed_function_body_is_replaced_in_place_and_rolled_back(applied):
    project, db = applied
    before = db.definitions()
    text = _step(project, "mark v2", models(mark="v2"))
    assert 'CREATE OR REPLACE FUNCTION "mark"()' in text and "DROP FUNCTION" not in text, text
    assert "used by trigger film_mark on film: they run the new definition" in project.cli("check").out
    project.ok("migrate", "--force")
    db.run("INSERT INTO film (id, title) VALUES (3, 'c')")
    assert db.one("SELECT stamp FROM film WHERE id = 3") == "v2"
    project.ok("rollback", "--force")
    assert db.definitions() == before
    db.run("INSERT INTO film (id, title) VALUES (4, 'd')")
    assert db.one("SELECT stamp FROM film WHERE id = 4") == "v1"


def test_a_comment_alone_is_one_comment_statement(applied):
    project, db = applied
    text = _step(project, "recomment", models(comment="times two"))
    upgrade = text.split("-- upgrade\n")[1].split("-- rollback")[0].strip()
    assert upgrade == """COMMENT ON FUNCTION "twice"(x integer) IS 'times two';""", text
    project.ok("migrate")
    assert db.one("SELECT obj_description('twice'::regproc, 'pg_proc')") == "times two"
    project.ok("rollback")
    assert db.one("SELECT obj_description('twice'::regproc, 'pg_proc')") == "doubles"


def test_a_trigger_timing_change_is_one_step_and_rolled_back(applied):
    project, db = applied
    before = db.definitions()
    text = _step(project, "on update too", models(timing="INSERT OR UPDATE"))
    assert 'DROP TRIGGER "film_mark" ON "film";' in text and "BEFORE INSERT OR UPDATE ON film" in text, text
    project.ok("migrate")
    db.run("UPDATE film SET stamp = NULL, title = 'z' WHERE id = 2")
    assert db.one("SELECT stamp FROM film WHERE id = 2") == "v1"  # the trigger fires on UPDATE now
    project.ok("rollback")
    assert db.definitions() == before
    db.run("UPDATE film SET stamp = NULL WHERE id = 2")
    assert db.one("SELECT stamp FROM film WHERE id = 2") is None


def test_a_return_type_change_drops_and_creates(applied):
    project, db = applied
    body = models().replace("(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$",
                            "(x integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT x::bigint * 2 $$")
    text = _step(project, "bigger", body)
    upgrade = text.split("-- upgrade\n")[1].split("-- rollback")[0]
    assert upgrade.index('DROP FUNCTION "twice"(x integer)') < upgrade.index('CREATE FUNCTION "twice"(x integer)'), text
    project.ok("migrate")
    assert db.one("SELECT pg_get_function_result('twice'::regproc)") == "bigint"
    project.ok("rollback")
    assert db.one("SELECT pg_get_function_result('twice'::regproc)") == "integer"


def test_dropping_a_trigger_or_function_is_warn_and_needs_force(applied):
    project, db = applied
    project.models(models(marking=False))
    out = project.ok("make-migrations", "no marking").out
    assert "severity WARN" in out, out
    check = project.cli("check")
    assert check.code == 2 and "what it did on each change stops happening" in check.out, check.out
    refused = project.cli("migrate")
    assert refused.code == 1 and "--force" in refused.err
    project.ok("migrate", "--force")
    db.run("INSERT INTO film (id, title) VALUES (5, 'e')")
    assert db.one("SELECT stamp FROM film WHERE id = 5") is None
    project.ok("rollback")  # creating them again loses nothing
    db.run("INSERT INTO film (id, title) VALUES (6, 'f')")
    assert db.one("SELECT stamp FROM film WHERE id = 6") == "v1"


def test_an_extension_the_server_does_not_have_is_one_line(pg_url, tmp_path):
    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    project.models('from dbwarden_nb.entities import Extension\nExtension("no_such_ext", metadata=Base.metadata)\n')
    failed = project.cli("make-migrations", "x")
    assert failed.code == 1 and failed.err.strip().endswith(
        "extension no_such_ext is not available on this server (pg_available_extensions)"), failed.err
    assert "Traceback" not in failed.err and not project.migration_files()


def test_generated_entities_import_and_pass_ruff(applied):
    """generate-models writes the entities (long definitions one argument per line, multi-line bodies as written):
    the package passes ruff and gives zero operations."""
    from roundtrip import generated_config
    from test_codegen_kept import ruff

    project, _ = applied
    project.ok("generate-models", "--output", "generated")
    checked = ruff(project.root / "generated")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    code = (project.root / "generated" / "base.py").read_text()
    assert "Trigger(" in code and "Aggregate(" in code and "Extension(" in code
    config = generated_config(project)
    assert project.cli("--config", config, "diff", "--check").code == 0


POLICED = """
    from dbwarden_nb.entities import Policy, RowLevelSecurity, Rule

    class Doc(Base):
        __tablename__ = "doc"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        secret: Mapped[bool]

    class Gone(Base):
        __tablename__ = "gone"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)

    RowLevelSecurity("doc", forced=True, metadata=Base.metadata)
    Policy("doc_read", "FOR SELECT USING ({using})", table="doc", metadata=Base.metadata)
    Policy("doc_write", "FOR INSERT WITH CHECK (true)", table="doc", metadata=Base.metadata)
    Rule("doc_log", "AS ON DELETE TO doc DO ALSO INSERT INTO gone (id) VALUES (old.id)", table="doc",
         metadata=Base.metadata)
"""


def test_a_policy_expression_change_is_one_step_and_rolled_back(pg_url, tmp_path):
    """Rows a policy hides are not seen by a role without BYPASSRLS (superusers see every row); a changed USING is
    one step (drop + create), and its rollback brings the old one back; the rule logs what is deleted."""
    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    project.models(POLICED.format(using="NOT secret"))
    project.ok("make-migrations", "doc")
    project.ok("migrate")
    db = Db(pg_url)
    reader = "reader_" + pg_url.rsplit("/", 1)[1]
    db.run(f"CREATE ROLE {reader}")
    db.run(f"GRANT SELECT, INSERT, DELETE ON doc, gone TO {reader}")

    def seen() -> int:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"SET LOCAL ROLE {reader}"))
            return conn.execute(sa.text("SELECT count(*) FROM doc")).scalar()

    try:
        db.run("INSERT INTO doc VALUES (1, false), (2, true)")
        assert (seen(), db.one("SELECT count(*) FROM doc")) == (1, 2)
        db.run("DELETE FROM doc WHERE id = 1")  # the rule logs it
        assert db.one("SELECT count(*) FROM gone") == 1
        db.run("INSERT INTO doc VALUES (1, false)")
        text = _step(project, "show all", POLICED.format(using="true"))
        assert 'DROP POLICY "doc_read" ON "doc"' in text and "USING (true)" in text, text
        project.ok("migrate")
        assert seen() == 2
        project.ok("rollback")
        assert seen() == 1
        assert db.one("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polname = 'doc_read'") == "(NOT secret)"
        assert project.cli("diff", "--check").code == 2  # the models say USING (true) again
    finally:
        db.run(f"DROP OWNED BY {reader}")
        db.run(f"DROP ROLE {reader}")
        db.engine.dispose()


def test_grants_round_trip_when_managed(pg_url, fresh_url, tmp_path):
    """With manage_grants=True, privileges on tables, views and sequences to existing roles (and PUBLIC) are read,
    generated, created in a fresh database (equal by pg_dump, which prints them) and revoked by a rollback;
    without it they are listed as not managed."""
    import shutil

    from dumps import assert_same_schema, load_ddl

    reader = "grantee_" + pg_url.rsplit("/", 1)[1]
    db = Db(pg_url)
    db.run(f"CREATE ROLE {reader}")
    try:
        load_ddl(pg_url, f"""
            CREATE TABLE film (id serial PRIMARY KEY, title text);
            CREATE VIEW titles AS SELECT title FROM film;
            GRANT SELECT, INSERT ON film TO {reader};
            GRANT UPDATE ON film TO {reader} WITH GRANT OPTION;
            GRANT SELECT ON titles TO PUBLIC;
            GRANT USAGE ON SEQUENCE film_id_seq TO {reader};
        """)
        plain = ProjectDir.initialized(tmp_path / "plain", pg_url, "postgresql")
        assert "3 grants" in plain.ok("snapshot").out
        project = ProjectDir(tmp_path / "p", pg_url, "postgresql", extra_config="manage_grants=True,")
        snap = project.ok("--json", "snapshot", "--out", "json").json()
        assert sorted(o["definition"] for o in snap["objects"].values() if o["kind"] == "grant") == [
            "INSERT, SELECT, UPDATE WITH GRANT OPTION", "SELECT", "USAGE"]
        assert "grant" not in snap.get("unmanaged", {})
        project.ok("generate-models", "--output", "generated")
        config = (project.root / "dbwarden.py").read_text().replace(repr(project.module), "'generated'")
        (project.root / "dbwarden.py").write_text(config)
        assert project.cli("diff", "--check").code == 0
        fresh = fresh_url(pg_url)
        rebuilt = ProjectDir(tmp_path / "rebuilt", fresh, "postgresql", extra_config="manage_grants=True,")
        shutil.copytree(project.root / "generated", rebuilt.root / "generated")
        (rebuilt.root / "dbwarden.py").write_text((rebuilt.root / "dbwarden.py").read_text().replace(
            repr(rebuilt.module), "'generated'"))
        rebuilt.ok("make-migrations", "from generated")
        text = rebuilt.migration_files()[0].read_text()
        assert f'GRANT UPDATE ON "film" TO "{reader}" WITH GRANT OPTION;' in text, text
        rebuilt.ok("migrate")
        assert_same_schema(pg_url, fresh)
        rebuilt.ok("rollback", "--force")
        gone = Db(fresh)
        assert gone.one("SELECT count(*) FROM pg_class WHERE relname IN ('film', 'titles')") == 0
        assert gone.one(f"SELECT count(*) FROM pg_roles WHERE rolname = '{reader}'") == 1  # roles stay outside
        gone.engine.dispose()
    finally:
        db.run(f"DROP OWNED BY {reader}")
        db.run(f"DROP ROLE IF EXISTS {reader}")
        db.engine.dispose()


USED = """
    from dbwarden_nb.entities import Function, Policy, RowLevelSecurity, Trigger

    Function("twice", "(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT x * {factor} $$",
             metadata=Base.metadata)
    {mark}
    class Item(Base):
        __tablename__ = "item"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        code: Mapped[int] = mapped_column(server_default=sa.text("twice(7)"))
        __table_args__ = (sa.CheckConstraint("twice(id) >= 0", name="item_even"),
                          sa.Index("item_twice", sa.text("twice(code)")))

    doubled = sa.Table("doubled", Base.metadata, info={{"dbwarden": {{"view": "SELECT id, twice(id) AS double FROM item"}}}})

    RowLevelSecurity("item", metadata=Base.metadata)
    Policy("item_small", "FOR SELECT USING (twice(id) < 100)", table="item", metadata=Base.metadata)
    Trigger("item_mark", "BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION mark()", table="item",
            metadata=Base.metadata)
"""


MARK_FN = """Function("mark", "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.code := twice(NEW.id); RETURN NEW; END $$",
             metadata=Base.metadata)
"""


def test_replacing_or_dropping_a_used_function_is_warn_naming_its_users(pg_url, tmp_path):
    """A function that a view, another function, a default, a check, an index and a policy use: changing its body
    is WARN naming each of them (and needs --force); dropping a trigger's function is WARN naming the trigger."""
    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    project.models(USED.format(factor=2, mark=MARK_FN))
    project.ok("make-migrations", "item")
    project.ok("migrate")
    project.models(USED.format(factor=3, mark=MARK_FN))
    out = project.ok("make-migrations", "triple").out
    line = next(x for x in out.splitlines() if "replace function twice(x integer)" in x)
    for user in ("view doubled", "function mark()", "default of item.code", "check item_even on item",
                 "index item_twice on item", "policy item_small on item"):
        assert user in line, line
    assert "[WARN: used by" in line and "trigger item_mark" not in line, line
    refused = project.cli("migrate")
    assert refused.code == 1 and "--force" in refused.err, refused.err
    project.ok("migrate", "--force")
    check = project.cli("check")
    assert check.code == 0, check.out
    project.models(USED.format(factor=3, mark=""))
    out = project.cli("diff").out
    line = next(x for x in out.splitlines() if "drop function mark()" in x)
    assert "used by trigger item_mark on item: code that calls it" in line, line
    # a new result type is DROP + CREATE, which PostgreSQL refuses while they use it: said before anything runs
    project.models(USED.format(factor=3, mark=MARK_FN).replace("RETURNS integer", "RETURNS bigint"))
    out = project.cli("diff").out
    line = next(x for x in out.splitlines() if "replace function twice(x integer)" in x)
    assert "[CRITICAL: used by view doubled" in line and "PostgreSQL refuses to drop it" in line, line


TEXT_SEARCH = """
    CREATE TEXT SEARCH DICTIONARY english_nostop (TEMPLATE = snowball, language = 'english');
    CREATE TEXT SEARCH CONFIGURATION english_nostop (COPY = english);
    ALTER TEXT SEARCH CONFIGURATION english_nostop ALTER MAPPING FOR asciiword, word WITH english_nostop;
    COMMENT ON TEXT SEARCH CONFIGURATION english_nostop IS 'no stop words';
    CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default);
    ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR asciiword WITH simple, english_stem;
    CREATE TABLE doc (id int PRIMARY KEY, body text,
                      tsv tsvector GENERATED ALWAYS AS (to_tsvector('english_nostop', body)) STORED);
    CREATE INDEX doc_fts ON doc USING gin (to_tsvector('plain'::regconfig, body));
"""


def test_text_search_configurations_round_trip_by_pg_dump(pg_url, fresh_url, tmp_path):
    """A dictionary and two configurations (one copied and remapped, one from the parser), used by a generated
    column and an index: adopted, generated, and a fresh database built from the generated models equals the
    original by pg_dump (CREATE TEXT SEARCH … and each ADD MAPPING)."""
    from roundtrip import adopt

    project = adopt(tmp_path / "p", pg_url, "postgresql", TEXT_SEARCH, fresh_url(pg_url))
    snap = project.ok("--json", "snapshot", "--out", "json").json()
    kinds = sorted(o["kind"] + " " + o["name"] for o in snap["objects"].values() if o["kind"].startswith("text"))
    assert kinds == ["text search configuration english_nostop", "text search configuration plain",
                     "text search dictionary english_nostop"], kinds
    assert not [k for k in snap.get("unmanaged", {}) if k.startswith("text search")]
    plain = snap["objects"]["text search configuration plain"]
    assert plain["definition"] == '(PARSER = pg_catalog."default")'
    assert plain["options"]["mappings"] == {"asciiword": "simple, english_stem"}


TS_MODELS = """
    from dbwarden_nb.entities import TextSearchConfiguration, TextSearchDictionary

    TextSearchDictionary("english_nostop", "(TEMPLATE = snowball, language = {language!r})", metadata=Base.metadata)
    TextSearchConfiguration("english_nostop", "(COPY = english)", mappings={{"asciiword": "{dicts}"}},
                            metadata=Base.metadata)

    class Doc(Base):
        __tablename__ = "doc"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        body: Mapped[str]
        __table_args__ = (sa.Index("doc_fts", sa.text("to_tsvector('english_nostop'::regconfig, body)"),
                                   postgresql_using="gin"),)
"""


def test_a_changed_mapping_or_dictionary_option_is_altered_in_place_and_rolled_back(pg_url, tmp_path):
    """Declared with COPY: no diff after it is created; a new dictionary list for a token is one ALTER MAPPING
    (the index that uses the configuration stays, and is named: WARN), a dictionary's new option one ALTER (the
    configuration that maps to it named), both rolled back."""
    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    project.models(TS_MODELS.format(language="english", dicts="english_nostop"))
    project.ok("make-migrations", "doc")
    project.ok("migrate")
    db = Db(pg_url)
    try:
        mapped = "SELECT array_to_string(dictionaries, ',') FROM ts_debug('english_nostop', 'the')"
        assert project.cli("diff", "--check").code == 0
        assert "nothing written" in project.ok("make-migrations", "again").out
        text = _step(project, "simple", TS_MODELS.format(language="english", dicts="simple, english_nostop"))
        upgrade = text.split("-- upgrade\n")[1].split("-- rollback")[0].strip()
        assert upgrade == ('ALTER TEXT SEARCH CONFIGURATION "english_nostop" ALTER MAPPING FOR asciiword '
                           'WITH simple, english_nostop;'), text
        assert "used by index doc_fts on doc: they run the new definition" in project.cli("check").out
        project.ok("migrate", "--force")
        assert db.one(mapped) == "simple,english_nostop"
        project.ok("rollback", "--force")
        assert db.one(mapped) == "english_nostop"
        text = _step(project, "stop words", TS_MODELS.format(language="english", dicts="simple, english_nostop").replace(
            "language = {language!r}".format(language="english"), "language = 'english', stopwords = 'english'"))
        assert "ALTER TEXT SEARCH DICTIONARY \"english_nostop\" (stopwords = 'english')" in text, text
        assert "used by text search configuration english_nostop" in project.cli("check").out
        project.ok("migrate", "--force")  # the mapping again, then the option
        assert db.one("SELECT dictinitoption FROM pg_ts_dict WHERE dictname = 'english_nostop'") == \
            "language = 'english', stopwords = 'english'"
        project.ok("rollback", "--force")
        assert db.one("SELECT dictinitoption FROM pg_ts_dict WHERE dictname = 'english_nostop'") == "language = 'english'"
    finally:
        db.engine.dispose()
