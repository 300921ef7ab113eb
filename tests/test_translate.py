"""SQL translation (``--dev``): production snapshots from real servers become SQLite snapshots that SQLite
itself reads back after the migration made from them, keeping every table and column, reporting each decision."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from projects import ProjectDir
from translation_models import MODELS, ROWS

import dbwarden_nb as dw
from dbwarden_nb.backends import get_backend
from dbwarden_nb.differ import diff
from dbwarden_nb.errors import TranslationError
from dbwarden_nb.schema import Check, Column, Index, IndexElement, Snapshot, Table, View
from dbwarden_nb.translate import TranslationReport, translate

URL_FIXTURES = {"postgresql": "pg_url", "mysql": "mysql_url", "mariadb": "mariadb_url", "clickhouse": "clickhouse_url"}
SOURCES = sorted(URL_FIXTURES)
_PRODUCTION: dict[str, Snapshot] = {}


def production(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Snapshot:
    """The models of ``kind`` as its real server spells them (what make-migrations starts from), once per run."""
    if kind not in _PRODUCTION:
        project = ProjectDir(tmp_path / f"{kind}-project", request.getfixturevalue(URL_FIXTURES[kind]), kind)
        project.models(MODELS[kind])
        _PRODUCTION[kind] = dw.project(project.root / "dbwarden.py").models()
    return _PRODUCTION[kind]


def apply_to_sqlite_file(snapshot: Snapshot, path: Path) -> Snapshot:
    """Render ``diff(empty, snapshot)`` with the sqlite backend, run it on a new file, introspect the file."""
    backend = get_backend("sqlite")
    empty = backend.empty()
    plan = backend.adapt(diff(empty, snapshot), empty, snapshot)
    with backend.connect(f"sqlite:///{path}") as conn:
        with conn.transaction():
            for statement in backend.render_plan(plan):
                conn.execute(statement.sql)
        return backend.introspect(conn)


def names(snapshot: Snapshot) -> dict[str, list[str]]:
    """Table name (without schema) → sorted column names."""
    return {t.name: sorted(c.name for c in t.columns) for t in snapshot.tables.values()}


def rows_of(report: TranslationReport) -> set[tuple[str | None, str | None, str, str, str, str]]:
    return {(d.table, d.column, d.kind, d.source, d.result, d.action) for d in report.decisions}


def only(snapshot: Snapshot, key: str, columns: tuple[str, ...], **parts: object) -> Snapshot:
    """One table of ``snapshot`` cut down to ``columns`` and the given parts (checks, indexes …), no views."""
    table = snapshot.tables[key]
    pk = table.primary_key if table.primary_key and set(table.primary_key.columns) <= set(columns) else None
    cut = Table(name=table.name, schema=table.schema, columns=tuple(c for c in table.columns if c.name in columns),
                **{"primary_key": pk, **parts})  # type: ignore[arg-type]
    return Snapshot.of(snapshot.backend, [cut], domains=snapshot.domains, enums=snapshot.enums)


# ------------------------------------------------------------------------------- the key property


@pytest.mark.parametrize("kind", SOURCES)
def test_translated_snapshot_is_what_sqlite_reads_back(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production(kind, request, tmp_path)
    translated, report = translate(source, "primary")
    assert translated.backend == "sqlite" and report.source_backend == kind
    assert apply_to_sqlite_file(translated, tmp_path / "dev.db") == translated

    db = sqlite3.connect(tmp_path / "dev.db")
    for table, row in ROWS[kind].items():
        cols = ", ".join(f'"{c}"' for c in row)
        db.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})', list(row.values()))
        got = db.execute(f'SELECT {cols} FROM "{table}"').fetchone()
        assert dict(zip(row, got)) == row, table
    db.close()


@pytest.mark.parametrize("kind", SOURCES)
def test_no_table_or_column_is_ever_left_out(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production(kind, request, tmp_path)
    translated, report = translate(source, "primary")
    assert names(translated) == names(source)
    assert sorted(t.name for t in translated.tables.values()) == sorted(t.name for t in source.tables.values())
    typed = {(d.table, d.column) for d in report.decisions if d.kind == "type"}
    assert typed == {(t.name, c.name) for t in source.tables.values() for c in t.columns}


def test_sqlite_translates_to_itself(tmp_path: Path) -> None:
    snap = Snapshot.of("sqlite", [Table("t", columns=(Column("id", "INTEGER", False), Column("x", "TEXT")))])
    translated, report = translate(snap, "primary")
    assert translated == snap
    assert {d.action for d in report.decisions} == {"kept"} and len(report.decisions) == 2
    assert report.to_text() == "primary: sqlite \u2192 sqlite, 2 kept"


# --------------------------------------------------------------------------- the report, row by row

D = "\u2014"
EXPECTED: dict[str, set[tuple[str | None, str | None, str, str, str, str]]] = {
    "postgresql": {
        ("people", None, "schema", "app.people", "people", "converted"),
        ("app.mood", None, "enum", "app.mood (happy, sad, it's ok)", "TEXT + CHECK (\u2026 IN (\u2026))", "converted"),
        ("order_numbers", None, "sequence", "order_numbers", D, "dropped"),
        ("people", "id", "identity", "GENERATED BY DEFAULT AS IDENTITY", "INTEGER PRIMARY KEY", "converted"),
        ("people", "feeling", "type", "app.mood", "TEXT", "converted"),
        ("people", "shoe", "type", "positive_int", "INTEGER", "converted"),
        ("people", "shoe", "check", "DOMAIN positive_int: CHECK (VALUE > 0)", '"shoe" > 0', "converted"),
        ("people", "mail", "check", "DOMAIN email: CHECK (VALUE ~ '@'::text)", D, "dropped"),
        ("people", None, "table option", "with=fillfactor=70; comment 'people we know'; id: comment 'the key'", D,
         "converted"),
        ("items", "id", "identity", "integer serial", "INTEGER PRIMARY KEY", "converted"),
        ("items", "code", "type", "character varying(20)", "VARCHAR(20)", "converted"),
        ("items", "code", "default", "'NEW'::character varying", "'NEW'", "converted"),
        ("items", "price", "type", "numeric(12,3)", "NUMERIC(12, 3)", "kept"),
        ("items", "price", "default", "'-1.5'::numeric", "-1.5", "converted"),
        ("items", "flag", "default", "true", "1", "converted"),
        ("items", "born", "default", "CURRENT_DATE", "CURRENT_DATE", "kept"),
        ("items", "created", "type", "timestamp with time zone", "DATETIME", "converted"),
        ("items", "created", "default", "now()", "CURRENT_TIMESTAMP", "converted"),
        ("items", "local", "default", "LOCALTIMESTAMP", "CURRENT_TIMESTAMP", "converted"),
        ("items", "t3", "type", "timestamp(3) without time zone", "DATETIME", "converted"),
        ("items", "doc", "type", "jsonb", "TEXT", "converted"),
        ("items", "doc", "default", "'{}'::jsonb", "'{}'", "converted"),
        ("items", "data", "type", "json", "TEXT", "converted"),
        ("items", "uid", "type", "uuid", "TEXT", "converted"),
        ("items", "uid", "default", "gen_random_uuid()", D, "dropped"),
        ("items", "tags", "type", "text[]", "TEXT", "fallback"),
        ("items", "grid", "type", "integer[]", "TEXT", "fallback"),
        ("items", "span", "type", "interval", "TEXT", "fallback"),
        ("items", "ip", "type", "inet", "TEXT", "fallback"),
        ("items", "net", "type", "cidr", "TEXT", "fallback"),
        ("items", "mac", "type", "macaddr", "TEXT", "fallback"),
        ("items", "during", "type", "tstzrange", "TEXT", "fallback"),
        ("items", "seats", "type", "int4range", "TEXT", "fallback"),
        ("items", "number", "identity", "DEFAULT nextval('order_numbers'::regclass)", D, "dropped"),
        ("items", "label", "generated", "upper((code)::text)", "upper((code))", "converted"),
        ("items", "digest", "generated", "md5((code)::text)", "plain nullable column", "fallback"),
        ("items", "big", "identity", "GENERATED BY DEFAULT AS IDENTITY", D, "dropped"),
        ("items", None, "check", "CONSTRAINT ck_qty CHECK (qty >= 0)", "qty >= 0", "kept"),
        ("items", None, "check", "CONSTRAINT ck_code_pattern CHECK (code::text ~ '^[A-Z]'::text)", D, "dropped"),
        ("items", None, "check",
         "CONSTRAINT ck_status CHECK (status::text = ANY (ARRAY['new'::character varying, 'done'::character varying]::text[]))",
         "status IN ('new', 'done')", "converted"),
        ("items", None, "exclusion constraint", "CONSTRAINT no_overlap CHECK (EXCLUDE USING gist (during WITH &&))", D,
         "dropped"),
        ("items", None, "index", "ix_items_lower_code ((lower(code::text)))", "ix_items_lower_code ((lower(code)))",
         "converted"),
        ("items", None, "index", "ix_items_open (created) WHERE NOT flag", "ix_items_open (created) WHERE NOT flag", "kept"),
        ("items", None, "index", "ix_items_md5 ((md5(code::text)))", D, "dropped"),
        ("items", None, "table option", "index ix_items_doc: using=gin", D, "converted"),
        ("serials", "id", "identity", "bigint serial", "INTEGER PRIMARY KEY", "converted"),
        ("serials", None, "unique", "UNIQUE uq_serials_note (note) NULLS NOT DISTINCT", "NULLS DISTINCT", "fallback"),
        ("serials", None, "check", "CONSTRAINT serials_note_check CHECK (note <> ''::text)", "note <> ''", "converted"),
        ("open_items", None, "view",
         "SELECT items.id,\n    items.code,\n    items.qty::numeric / 2::numeric AS half\n   FROM items\n  WHERE NOT items.flag",
         "SELECT items.id, items.code, CAST(items.qty AS NUMERIC) / 2 AS half FROM items WHERE NOT items.flag",
         "converted"),
        ("first_tags", None, "view", "SELECT items.id,\n    items.tags[1] AS first_tag\n   FROM items", D, "dropped"),
    },
    "mariadb": {
        ("customers", "id", "type", "bigint(20) unsigned", "INTEGER", "converted"),
        ("customers", "id", "identity", "AUTO_INCREMENT", "INTEGER PRIMARY KEY", "converted"),
        ("customers", "name", "collation", "utf8mb4_general_ci", "NOCASE", "converted"),
        ("customers", "name", "default", "'it''s me'", "'it''s me'", "kept"),
        ("orders", "mood", "type", "enum('happy','sad','it''s ok')", "TEXT", "converted"),
        ("orders", "colors", "type", "set('red','green','blue')", "TEXT", "fallback"),
        ("orders", "bits", "type", "bit(5)", "INTEGER", "converted"),
        ("orders", "bits", "default", "b'101'", "5", "converted"),
        ("orders", "made", "type", "year(4)", "INTEGER", "converted"),
        ("orders", "flag", "type", "tinyint(1)", "BOOLEAN", "converted"),
        ("orders", "qty", "type", "int(10) unsigned", "INTEGER", "converted"),
        ("orders", "price", "type", "decimal(12,2) unsigned", "NUMERIC(12, 2)", "converted"),
        ("orders", "doc", "type", "json", "TEXT", "converted"),
        ("orders", "big_text", "type", "longtext", "TEXT", "converted"),
        ("orders", "at", "default", "current_timestamp()", "CURRENT_TIMESTAMP", "converted"),
        ("orders", "changed", "default", "current_timestamp(3)", "CURRENT_TIMESTAMP", "converted"),
        ("orders", "changed", "on update", "ON UPDATE current_timestamp(3)", D, "dropped"),
        ("orders", "uid", "default", "uuid()", D, "dropped"),
        ("orders", "shout", "generated", "concat(ucase(`note`),'!')", "(upper(\"note\") || '!')", "converted"),
        ("orders", None, "check", "CONSTRAINT ck_note_pattern CHECK (`note` regexp '^[a-z]')", D, "dropped"),
        ("orders", None, "check", "CONSTRAINT ck_qty CHECK (`qty` >= 0)", '"qty" >= 0', "converted"),
        ("shouting", None, "view", "select `orders`.`id` AS `id`,concat(`orders`.`note`,'!') AS `loud` from `orders`",
         "select \"orders\".\"id\" AS \"id\", (\"orders\".\"note\" || '!') AS \"loud\" from \"orders\"", "converted"),
    },
    "mysql": {
        ("customers", "id", "type", "bigint unsigned", "INTEGER", "converted"),
        ("customers", "id", "identity", "AUTO_INCREMENT", "INTEGER PRIMARY KEY", "converted"),
        ("customers", "name", "collation", "utf8mb4_general_ci", "NOCASE", "converted"),
        ("orders", "mood", "type", "enum('happy','sad','it''s ok')", "TEXT", "converted"),
        ("orders", "colors", "type", "set('red','green','blue')", "TEXT", "fallback"),
        ("orders", "flag", "type", "tinyint(1)", "BOOLEAN", "converted"),
        ("orders", "made", "type", "year", "INTEGER", "converted"),
        ("orders", "uid", "default", "(uuid())", D, "dropped"),
        ("orders", None, "check", "CONSTRAINT ck_note_pattern CHECK (regexp_like(`note`,'^[a-z]'))", D, "dropped"),
    },
    "clickhouse": {
        ("events", "id", "type", "UInt64", "INTEGER", "converted"),
        ("events", "at", "type", "DateTime64(3, 'UTC')", "DATETIME", "converted"),
        ("events", "at", "default", "now64(3)", "CURRENT_TIMESTAMP", "converted"),
        ("events", "day", "default", "today()", "CURRENT_DATE", "converted"),
        ("events", "seen", "type", "DateTime", "DATETIME", "kept"),
        ("events", "kind", "type", "LowCardinality(String)", "TEXT", "converted"),
        ("events", "amount", "type", "Decimal(10, 2)", "NUMERIC(10, 2)", "converted"),
        ("events", "level", "type", "Enum8('low' = 1, 'high' = 5)", "TEXT", "converted"),
        ("events", "code", "type", "FixedString(3)", "BLOB", "converted"),
        ("events", "uid", "type", "UUID", "TEXT", "converted"),
        ("events", "uid", "default", "generateUUIDv4()", D, "dropped"),
        ("events", "tags", "type", "Array(String)", "TEXT", "fallback"),
        ("events", "attrs", "type", "Map(String, UInt64)", "TEXT", "fallback"),
        ("events", "pair", "type", "Tuple(String, Nullable(Int32))", "TEXT", "fallback"),
        ("events", "count", "type", "UInt64", "INTEGER", "converted"),
        ("events", "score", "type", "Float64", "REAL", "converted"),
        ("events", "ok", "default", "true", "1", "converted"),
        ("events", "twice", "generated", "id * 2", "id * 2", "kept"),
        ("events", "label", "generated", "toString(id)", "plain nullable column", "fallback"),
        ("totals", None, "table option", "engine=SummingMergeTree((total)); order_by=key", D, "converted"),
        ("recent", None, "view", "SELECT id, kind FROM events WHERE id > 10", "SELECT id, kind FROM events WHERE id > 10",
         "kept"),
        ("labelled", None, "view", "SELECT id, toString(id) AS s FROM events", D, "dropped"),
    },
}


@pytest.mark.parametrize("kind", SOURCES)
def test_report_rows(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    translated, report = translate(production(kind, request, tmp_path), "primary")
    missing = EXPECTED[kind] - rows_of(report)
    assert not missing, "\n".join(map(repr, sorted(missing, key=repr)))
    assert report.warnings == [d for d in report.decisions if d.action in ("fallback", "dropped")]
    assert all(d.database == "primary" for d in report.decisions)
    people_checks = {c.expression for t in translated.tables.values() for c in t.checks}
    enum_checks = {"postgresql": "\"feeling\" IN ('happy', 'sad', 'it''s ok')",
                   "clickhouse": "\"level\" IN ('low', 'high')"}
    enum_checks["mysql"] = enum_checks["mariadb"] = "\"mood\" IN ('happy', 'sad', 'it''s ok')"
    assert enum_checks[kind] in people_checks
    assert translate(production(kind, request, tmp_path), "primary")[1].to_text() == report.to_text()


def test_clickhouse_skip_indexes_and_engines_are_storage_facts(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production("clickhouse", request, tmp_path)
    translated, report = translate(source, "primary")
    events = [d for d in report.decisions if d.table == "events" and d.kind == "table option"]
    assert len(events) == 1 and "skip index ix_kind_set" in events[0].source and "engine=MergeTree" in events[0].source
    assert translated.tables["events"].indexes == ()
    strict, _ = translate(only(source, "totals", ("key", "total", "hits")), "primary", strict=True)
    assert strict.tables["totals"].options == {}


@pytest.mark.parametrize("backend, spelled, expected", [
    ("clickhouse", "'it\\'s'", "'it''s'"),
    ("mysql", "_utf8mb4'it\\'s'", "'it''s'"),
    ("mysql", "`a` <=> `b`", '"a" IS "b"'),
    ("postgresql", "E'a\\'b'", "'a''b'"),
    ("postgresql", "'2001-01-01'::date", "'2001-01-01'"),
    ("postgresql", "(x)::integer + 1", "CAST((x) AS INTEGER) + 1"),
    ("postgresql", "x <> ALL (ARRAY['a'::text, 'b'::text])", "x NOT IN ('a', 'b')"),
    ("postgresql", "CURRENT_TIMESTAMP(3)", "CURRENT_TIMESTAMP"),
    ("mysql", "curdate()", "CURRENT_DATE"),
])
def test_expression_conversions(backend: str, spelled: str, expected: str) -> None:
    """Token rewrites on their own (the tables above show them on server-made snapshots)."""
    table = Table("t", columns=(Column("x", "integer"), Column("a", "text"), Column("b", "text")),
                  checks=(Check("c", spelled),))
    _, report = translate(Snapshot.of(backend, [table]), "primary")
    (row,) = [d for d in report.decisions if d.kind == "check"]
    assert row.result == expected, row


# ---------------------------------------------------------------------------------------- strict mode


def strict_error(snapshot: Snapshot) -> str:
    with pytest.raises(TranslationError) as raised:
        translate(snapshot, "primary", strict=True)
    message = str(raised.value)
    assert "\n" not in message and message.endswith("; nothing written")
    return message


def test_strict_lossy_types(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production("postgresql", request, tmp_path)
    message = strict_error(only(source, "items", ("id", "tags", "grid", "seats", "ip", "data")))
    assert "refuses 4 item(s)" in message
    for item in ("items.tags: type (text[] \u2192 TEXT)", "items.grid: type (integer[] \u2192 TEXT)",
                 "items.seats: type (int4range \u2192 TEXT)", "items.ip: type (inet \u2192 TEXT)"):
        assert item in message
    assert "items.data" not in message  # JSON → TEXT is exact


def test_strict_dropped_defaults(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production("postgresql", request, tmp_path)
    message = strict_error(only(source, "items", ("id", "uid", "number", "created")))
    assert "items.uid: default (gen_random_uuid() \u2192 dropped)" in message
    assert "items.number: identity (DEFAULT nextval('order_numbers'::regclass) \u2192 dropped)" in message
    assert "items.created" not in message  # now() → CURRENT_TIMESTAMP is a conversion


def test_strict_dropped_checks(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production("postgresql", request, tmp_path)
    items = source.tables["items"]
    message = strict_error(only(source, "items", ("id", "code", "qty", "status", "during"), checks=items.checks))
    assert "items: check (CONSTRAINT ck_code_pattern CHECK (code::text ~ '^[A-Z]'::text) \u2192 dropped)" in message
    assert "items: exclusion constraint (CONSTRAINT no_overlap" in message
    assert "ck_qty" not in message and "ck_status" not in message


def test_strict_dropped_views(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for kind, dropped in (("postgresql", "first_tags: view (SELECT items.id, items.tags[1] AS first_tag FROM items"),
                          ("clickhouse", "labelled: view (SELECT id, toString(id) AS s FROM events \u2192 dropped)")):
        source = production(kind, request, tmp_path)
        table = next(iter(source.tables))
        cut = only(source, "items" if kind == "postgresql" else "events", ("id", "code", "flag", "qty", "tags", "kind"))
        message = strict_error(cut.replace(views=source.views))
        assert dropped in message, (table, message)


def test_strict_generated_columns_and_several_columns_in_one_message(request: pytest.FixtureRequest,
                                                                     tmp_path: Path) -> None:
    source = production("postgresql", request, tmp_path)
    message = strict_error(only(source, "items", ("id", "code", "label", "digest", "uid", "tags")))
    assert "items.digest: generated (md5((code)::text) \u2192 plain nullable column)" in message
    assert "items.uid: default" in message and "items.tags: type" in message
    assert "items.label" not in message
    assert message.index("items.uid") < message.index("items.tags") < message.index("items.digest")


def test_strict_mode_passes_what_translates_exactly(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production("mariadb", request, tmp_path)
    translated, report = translate(only(source, "customers", ("id", "name", "code"), primary_key=source.tables["customers"].primary_key),
                                   "primary", strict=True)
    assert not report.warnings and any(d.kind == "table option" for d in report.decisions)
    assert translated.tables["customers"].column("name").collation == "NOCASE"


# ------------------------------------------------------------------------------------- name collisions


def test_tables_from_two_schemas_collide(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = production("postgresql", request, tmp_path)
    clash = source.tables["serials"].replace(name="People")
    snapshot = source.replace(tables={**source.tables, "People": clash})
    for strict in (False, True):
        with pytest.raises(TranslationError, match=r"table People and table app\.people would both be named 'people'"):
            translate(snapshot, "primary", strict=strict)


def test_index_names_two_tables_share_are_renamed(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """MySQL and MariaDB name indexes per table, SQLite in one namespace with tables and views: each index of a
    shared name becomes ``<table>_<index>`` (collision-free), and each renaming is a converted row."""
    source = production("mariadb", request, tmp_path)
    customers = source.tables["customers"]
    taken = Table("customers_ix_orders_made", columns=(Column("id", "int(11)", False),))  # the first choice is taken
    twin = customers.replace(indexes=(Index("ix_orders_made", (IndexElement(column="name"),)),
                                      Index("big_orders", (IndexElement(column="code"),))))  # a view's name
    snapshot = source.replace(tables={**source.tables, "customers": twin, taken.key: taken})
    translated, report = translate(snapshot, "primary")
    assert [i.name for i in translated.tables["customers"].indexes] == ["customers_big_orders", "customers_ix_orders_made_2"]
    assert [i.name for i in translated.tables["orders"].indexes if "made" in i.name] == ["orders_ix_orders_made"]
    renamed = {(d.table, d.source, d.result) for d in report.decisions if d.kind == "index name"}
    assert renamed == {("customers", "ix_orders_made", "customers_ix_orders_made_2"),
                       ("customers", "big_orders", "customers_big_orders"),
                       ("orders", "ix_orders_made", "orders_ix_orders_made")}
    assert all(d.action == "converted" and not d.is_warning for d in report.decisions if d.kind == "index name")
    assert translate(snapshot, "primary")[0] == translated  # deterministic


def test_column_names_that_differ_only_in_case_collide() -> None:
    table = Table("t", columns=(Column("Name", "text"), Column("name", "text")))
    with pytest.raises(TranslationError, match=r"t\.Name and t\.name would collide"):
        translate(Snapshot.of("postgresql", [table]), "primary")


def test_materialized_view_and_collation() -> None:
    """Hand-made PostgreSQL facts the model sets above do not use: a materialized view, a column collation."""
    table = Table("t", columns=(Column("id", "integer", False), Column("code", "text", collation="C")))
    view = View("totals", "SELECT count(*) AS n FROM t", materialized=True)
    translated, report = translate(Snapshot.of("postgresql", [table], [view]), "primary", strict=True)
    assert translated.views["totals"].materialized is False
    assert ("totals", None, "view", "SELECT count(*) AS n FROM t", "SELECT count(*) AS n FROM t", "kept") in rows_of(report)
    assert ("t", "code", "collation", "C", "BINARY", "converted") in rows_of(report)


# -------------------------------------------------------------------------------------------- display


def test_html_escapes_hostile_strings() -> None:
    hostile = "<script>alert('x')</script>"
    table = Table("t<b>", columns=(
        Column("id", "integer", False),
        Column("note", "text", default=f"'{hostile}'::text", comment=hostile),
        Column("odd", "<img src=x onerror=alert(1)>"),
    ))
    _, report = translate(Snapshot.of("postgresql", [table]), "db<script>")
    bundle = report._repr_mimebundle_()
    html = bundle["text/html"]
    assert "<script>" not in html and "<img" not in html and "t<b>" not in html and "t&lt;b&gt;" in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert bundle["text/plain"] == report.to_text()
    frame = report.to_frame()
    assert list(frame.columns) == ["database", "table", "column", "kind", "source", "result", "action", "reason"]
    assert len(frame) == len(report.decisions)
    assert report.to_json()["decisions"][0]["database"] == "db<script>"
