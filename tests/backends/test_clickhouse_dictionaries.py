"""ClickHouse dictionaries declared in models: read back from the server, round-tripped through the five steps of
SPEC.md while they are created, replaced (CREATE OR REPLACE) and dropped together with the table they read, and the
declarations dbwarden refuses, each in one line."""

from __future__ import annotations

import pytest
from projects import ProjectDir
from roundtrip import round_trip

from dbwarden_nb.backends.clickhouse import ClickHouseBackend
from dbwarden_nb.backends.clickhouse.dictionary import (
    CreateDictionary,
    DropDictionary,
    ReplaceDictionary,
    fold_dictionaries,
    parse_dictionary,
)
from dbwarden_nb.differ import diff
from dbwarden_nb.operations import RenameTable
from dbwarden_nb.schema import Column, PrimaryKey, Snapshot, Table

pytest.importorskip("clickhouse_connect")

HEAD = """
        from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
        from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines

        class Region(Base):
            __tablename__ = "regions"
            __table_args__ = (engines.MergeTree(order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            parent: Mapped[int] = mapped_column(ch.UInt64)
            name: Mapped[str] = mapped_column(ch.String)
"""

NAMES = """
        class RegionName(Base):
            __tablename__ = "region_names"
            __table_args__ = ({"comment": "names", "info": {"dbwarden": {"dictionary": {
                "source": "CLICKHOUSE(TABLE 'regions')", "layout": "HASHED()", "lifetime": "{lifetime}"}}}},)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
            parent: Mapped[int] = mapped_column(ch.UInt64, server_default=sa.text("0"),
                                                info={"dbwarden": {"hierarchical": True}})
            name: Mapped[str] = mapped_column(ch.String, server_default=sa.text("'?'"))
"""

VERSIONS = [
    HEAD + NAMES.replace("{lifetime}", "300") + """
        v_report = sa.Table("report", Base.metadata, info={"dbwarden": {
            "view": "SELECT id, dictGet('region_names', 'name', id) AS name FROM regions"}})
    """,
    # the dictionary changes (lifetime, an attribute with an expression), a second one reads a query by a two-part key
    HEAD + NAMES.replace("{lifetime}", "MIN 10 MAX 600").replace(
        'server_default=sa.text("\'?\'"))', 'server_default=sa.text("\'?\'"))\n'
        '            upper: Mapped[str] = mapped_column(ch.String, info={"dbwarden": {"expression": "upper(name)"}})') + """
        v_report = sa.Table("report", Base.metadata, info={"dbwarden": {
            "view": "SELECT id, dictGet('region_names', 'name', id) AS name FROM regions"}})

        class ByName(Base):
            __tablename__ = "by_name"
            __table_args__ = (sa.PrimaryKeyConstraint("name", "id"), {"info": {"dbwarden": {"dictionary": {
                "source": "CLICKHOUSE(QUERY 'SELECT id, name FROM regions WHERE name != ''''')",
                "layout": "COMPLEX_KEY_HASHED()", "lifetime": "0", "settings": {"format_csv_allow_single_quotes": 0}}}}})
            id: Mapped[int] = mapped_column(ch.UInt64)
            name: Mapped[str] = mapped_column(ch.String)
    """,
    # the source table goes with every dictionary that reads it (the server refuses to drop it before them)
    """
        from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
        from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines

        class Other(Base):
            __tablename__ = "other"
            __table_args__ = (engines.MergeTree(order_by="id"),)
            id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
    """,
]


def test_dictionaries_round_trip(tmp_path, clickhouse_url):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    snapshots = round_trip(project, VERSIONS)
    names = snapshots[1].tables["region_names"]
    assert names.options == {"dictionary": {"source": "CLICKHOUSE(TABLE 'regions')", "layout": "HASHED()",
                                            "lifetime": "MIN 0 MAX 300"}}
    assert names.primary_key == PrimaryKey(None, ("id",)) and names.column("parent").options == {"hierarchical": True}
    assert snapshots[2].tables["by_name"].primary_key.columns == ("name", "id")
    files = [f.read_text() for f in project.migration_files()]
    upgrade, rollback = files[1].split("-- rollback")
    assert "CREATE OR REPLACE DICTIONARY `region_names`" in upgrade and "CREATE OR REPLACE DICTIONARY `region_names`" in rollback
    assert "DROP VIEW" not in upgrade  # replaced in place: the view that reads it stays
    upgrade = files[2].split("-- rollback")[0]
    assert upgrade.index("DROP DICTIONARY `region_names`") < upgrade.index("DROP TABLE `regions`")


def test_dictionary_ddl_is_read_into_its_parts():
    d = parse_dictionary(
        "CREATE DICTIONARY db.`d``1` (`id` UInt64, `p` UInt64 DEFAULT 0 HIERARCHICAL BIDIRECTIONAL, "
        "`v` Nullable(String) DEFAULT NULL EXPRESSION lower(s) INJECTIVE, `s` Date, `e` Date) PRIMARY KEY id "
        "SOURCE(CLICKHOUSE(QUERY 'SELECT 1 AS ''(''')) LIFETIME(MIN 0 MAX 10) LAYOUT(RANGE_HASHED()) RANGE(MIN s MAX e) "
        "SETTINGS(a = 1, b = 'x') COMMENT 'c'", "d`1", "c")
    assert [c.name for c in d.columns] == ["id", "p", "v", "s", "e"]
    assert d.column("p") == Column("p", "UInt64", False, "0", options={"hierarchical": True, "bidirectional": True})
    assert d.column("v") == Column("v", "String", True, "NULL", options={"expression": "lower(s)", "injective": True})
    assert d.options == {"dictionary": {"source": "CLICKHOUSE(QUERY 'SELECT 1 AS ''(''')", "lifetime": "MIN 0 MAX 10",
                                        "layout": "RANGE_HASHED()", "range": "MIN s MAX e",
                                        "settings": {"a": "1", "b": "'x'"}}}
    assert d.primary_key == PrimaryKey(None, ("id",)) and d.comment == "c"
    # names the server prints bare although they read as keywords
    d = parse_dictionary("CREATE DICTIONARY db.SOURCE (`SOURCE` UInt64, `LAYOUT` Date DEFAULT 0, `DEFAULT` Date "
                         "EXPRESSION INJECTIVE INJECTIVE, `y` UInt64 EXPRESSION INJECTIVE) PRIMARY KEY SOURCE "
                         "SOURCE(NULL()) LIFETIME(MIN 0 MAX 0) LAYOUT(RANGE_HASHED()) RANGE(MIN DEFAULT MAX LAYOUT)",
                         "SOURCE", None)
    assert d.primary_key == PrimaryKey(None, ("SOURCE",)) and d.options["dictionary"]["source"] == "NULL()"
    assert d.column("DEFAULT").options == {"expression": "INJECTIVE", "injective": True}
    assert d.column("y").options == {"expression": "INJECTIVE"} and d.column("LAYOUT").default == "0"


def _dictionary(name: str, lifetime: str) -> Table:
    return Table(name, None, (Column("id", "UInt64", False),), primary_key=PrimaryKey(None, ("id",)),
                 options={"dictionary": {"source": "NULL()", "layout": "FLAT()", "lifetime": lifetime}})


def test_steps_on_a_dictionary_fold_into_one_and_are_ordered():
    table = Table("t", None, (Column("id", "UInt64", False),), options={"engine": "MergeTree", "order_by": "id"})
    old = Snapshot.of("clickhouse", [table, _dictionary("d", "0"), _dictionary("gone", "0")])
    changed = _dictionary("d", "10").replace(columns=(Column("id", "UInt64", False), Column("x", "String", False)))
    new = Snapshot.of("clickhouse", [changed, _dictionary("t", "0"), _dictionary("fresh", "0")])
    ops = fold_dictionaries(list(diff(old, new)), old, new)
    assert [type(op).__name__ for op in ops] == ["DropDictionary", "ReplaceDictionary", "DropTable",
                                                 "CreateDictionary", "CreateDictionary"]
    assert [op.table for op in ops] == ["gone", "d", "t", "fresh", "t"]
    be = ClickHouseBackend()
    assert be.render(ReplaceDictionary(old.tables["d"], changed))[0].sql.startswith("CREATE OR REPLACE DICTIONARY `d` (")
    assert be.render(DropDictionary(changed))[0].sql == "DROP DICTIONARY `d` SYNC"
    assert be.render(RenameTable(changed, changed.replace(name="e")))[0].sql == "RENAME DICTIONARY `d` TO `e`"
    assert ReplaceDictionary(old.tables["d"], changed).describe() == "replace dictionary d: lifetime, attributes"
    sql = be.with_cluster("c").render(CreateDictionary(changed))[0].sql
    assert sql == ("CREATE DICTIONARY `d` ON CLUSTER `c` (\n    `id` UInt64,\n    `x` String\n)\nPRIMARY KEY `id`\n"
                   "SOURCE(NULL())\nLIFETIME(10)\nLAYOUT(FLAT())")


DICTIONARY_MODEL = """
        from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch

        d = sa.Table("d", Base.metadata, sa.Column("id", ch.UInt64, primary_key=KEY), sa.Column("name", ch.String ATTRIBUTE),
                     info={"dbwarden": {"dictionary": {DEFINITION}}})
"""
GOOD = {"DEFINITION": """"source": "NULL()", "layout": "FLAT()", "lifetime": "0\"""", "KEY": "True", "ATTRIBUTE": ""}


@pytest.mark.parametrize("change, message", [
    ({"DEFINITION": '"layout": "FLAT()"'}, "dictionary d: info['dbwarden']['dictionary'] needs 'source'"),
    ({"DEFINITION": GOOD["DEFINITION"] + ', "lifetme": 1'}, "dictionary d: unknown key(s) 'lifetme'"),
    ({"DEFINITION": """"source": "CLICKHOUSE(TABLE 't' USER 'u' PASSWORD 'secret')", "layout": "FLAT()\""""},
     "dictionary d: its source holds a PASSWORD, which the server shows as '[HIDDEN]'"),
    ({"KEY": "False"}, "dictionary d: a dictionary needs a key: primary_key=True on its key column(s)"),
    ({"ATTRIBUTE": ', clickhousedb_codec="ZSTD(1)"'}, "attribute name of dictionary d: a dictionary attribute has"),
    ({"ATTRIBUTE": ', info={"dbwarden": {"hierarchy": True}}'}, "attribute name of dictionary d: unknown key(s) 'hierarchy'"),
    ({"DEFINITION": '"source": "NULL()", "layout": "NO_SUCH_LAYOUT()", "lifetime": "0"'},
     "the server rejects the model of d: "),
])
def test_bad_dictionary_models_are_refused_in_one_line(tmp_path, clickhouse_url, change, message):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    source = DICTIONARY_MODEL
    for key, value in {**GOOD, **change}.items():
        source = source.replace(key, value)
    project.models(source)
    result = project.cli("diff")
    assert result.code == 1 and result.err.startswith(f"dbwarden: error: {message}"), result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_what_the_snapshot_cannot_carry_is_listed_not_managed(tmp_path, clickhouse_url, clickhouse_client):
    clickhouse_client.command("CREATE TABLE src (id UInt64, v String, CONSTRAINT positive CHECK id > 0, "
                              "CONSTRAINT `small id` ASSUME id < 100) ENGINE = MergeTree ORDER BY id")
    clickhouse_client.command("CREATE DICTIONARY secret_d (id UInt64, v String) PRIMARY KEY id "
                              "SOURCE(CLICKHOUSE(TABLE 'src' USER 'default' PASSWORD 'pw')) LIFETIME(0) LAYOUT(FLAT())")
    clickhouse_client.command("CREATE MATERIALIZED VIEW inner_mv ENGINE = MergeTree ORDER BY id AS SELECT id FROM src")
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    snap = project.ok("--json", "snapshot", "--out", "json").json()
    assert list(snap["tables"]) == ["src"] and snap["views"] == {}
    assert snap["tables"]["src"]["checks"] == [{"name": "positive", "expression": "id > 0", "options": {}}]  # managed
    assert snap["unmanaged"] == {"constraint": ["small id on src"],  # an ASSUME: an optimizer hint
                                 "dictionary": ["secret_d (the server hides a credential of its definition)"],
                                 "materialized view": ["inner_mv (its rows are kept in an inner table)"]}
    assert "not managed: 1 constraint, 1 dictionary, 1 materialized view" in project.ok("snapshot").out
    # never dropped by models that do not declare them; the CHECK is the models' to keep or drop
    project.models(HEAD.replace("class Region", "class Src").replace('"regions"', '"src"').replace("parent", "v")
                   .replace("ch.UInt64)\n            name: Mapped[str] = mapped_column(ch.String)", "ch.String)"))
    planned = project.ok("diff", "--out", "sql").out
    assert "ALTER TABLE `src` DROP CONSTRAINT `positive`" in planned and "small id" not in planned
    assert planned.count("DROP") == 1, planned


def test_models_the_server_would_show_otherwise_are_refused(tmp_path, clickhouse_url):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    project.models(HEAD + """
        mv = sa.Table("mv", Base.metadata, info={"dbwarden": {"view": "SELECT id FROM regions", "materialized": True}})
    """)
    result = project.cli("diff")
    assert result.code == 1 and "the models declare materialized view mv (its rows are kept in an inner table), " \
        "which dbwarden cannot manage" in result.err, result.err


def test_a_dictionary_becomes_a_plain_table_in_a_sqlite_dev_database():
    from dbwarden_nb.translate import translate

    d = parse_dictionary("CREATE DICTIONARY db.d (`id` UInt64, `name` String DEFAULT 'x' INJECTIVE) PRIMARY KEY id "
                         "SOURCE(CLICKHOUSE(TABLE 'src')) LIFETIME(MIN 0 MAX 300) LAYOUT(HASHED())", "d", None)
    dev, report = translate(Snapshot.of("clickhouse", [d]), "primary", strict=True)
    table = dev.tables["d"]
    assert [(c.name, c.type, c.default) for c in table.columns] == [("id", "INTEGER", None), ("name", "TEXT", "'x'")]
    assert table.primary_key.columns == ("id",)
    notes = [r for r in report.decisions if r.kind == "table option"]
    assert len(notes) == 1 and "dictionary=" in notes[0].source and "name: injective=True" in notes[0].source


@pytest.mark.parametrize("name", ["we`ird (d)", "it's", "ü名 select", "a\\b", "SOURCE"])
def test_hostile_names_survive_a_dictionary_round_trip(clickhouse_url, name):
    d = Table(name, None, (Column(name, "UInt64", False), Column(f"{name} 2", "String", False, "'it''s'")),
              primary_key=PrimaryKey(None, (name,)), comment=f"{name} -- note",
              options={"dictionary": {"source": "NULL()", "layout": "FLAT()", "lifetime": "MIN 0 MAX 0"}})
    with ClickHouseBackend().connect(clickhouse_url) as conn:
        for statement in ClickHouseBackend().render(CreateDictionary(d)):
            conn.execute(statement.sql)
        assert ClickHouseBackend().introspect(conn).tables == {name: d}
