"""Hostile names on every backend: tables, columns, indexes, constraints, comments and defaults whose names hold
quotes, backticks, semicolons, comment markers, markup, backslashes, format and bind markers, unicode, edge
spaces and reserved words go through the five round-trip steps of SPEC.md (tests/roundtrip.py), render as
inert HTML, and inject nothing: a table named ``x"; DROP TABLE victim; --`` leaves the unmanaged ``victim``
table and its row alone. What a backend cannot hold (length limits, MySQL's trailing spaces and characters
outside the BMP) is refused with one line naming the object, before anything is written.

One table set per backend (the same names everywhere, minus what the backend refuses):

- ``order``: key column ``select``, then one column per hostile name, each with that name as its comment and a
  string default holding it, an index and a check named after it (version 2 drops, re-defaults and re-comments
  some of them, so ALTER statements and SQLite's table rebuilds carry the names too);
- the injection tables, holding a foreign key, a unique constraint and a comment with every hostile text;
- one small table named by each hostile name (version 2 drops some and adds a column to others).

Per backend: 35 names on SQLite, PostgreSQL and ClickHouse (ClickHouse: every name as a column, index and comment,
a quarter of them as table names too), 33 on MySQL and MariaDB. Refused, each with one line naming the object:
PostgreSQL names over 63 bytes (3 cases); MySQL and MariaDB names over 64 characters or ending with a space, and an
emoji in a name, comment, default or check (6 cases); ClickHouse a table name over its file-name limit (1 case).
SQLite holds every name here, so it has no refusal case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from backend_params import backends
from projects import ProjectDir
from roundtrip import round_trip

import dbwarden_nb as dw
from dbwarden_nb.schema import Snapshot

INJECTION = 'x"; DROP TABLE victim; --'
NAMES: dict[str, str] = {
    "single quote": "it's",
    "double quote": 'say "hi"',
    "backtick": "back`tick",
    "semicolon": "semi;colon",
    "line comment": "dash -- comment",
    "block comment": "/* block */ end",
    "script": "</script><script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "backslash": "back\\slash\\",
    "percent s": "pct %s",
    "pyformat": "pct %(x)s",
    "braces": "brace {0} {}",
    "bind colon": ":name",
    "accents": "naïve café",
    "cjk": "表名",
    "emoji": "emoji 🎉",
    "rtl": "RTL שלום",
    "bidi override": "evil\u202etxt.exe",
    "leading space": " lead",
    "trailing space": "trail ",
    "select": "select",
    "order": "order",
    "group": "group",
    "table": "table",
    "user": "user",
    "python keyword": "class",
    "python None": "None",
    "python dunder": "__init__",
    "not an identifier start": "·dot",
    "declarative attribute": "metadata",
    "dot": "sch.tbl",
    "newline and section marker": "two\n-- rollback\nlines",
    "injection double quote": INJECTION,
    "injection single quote": "x'); DROP TABLE victim; --",
    "injection backtick": "x`; DROP TABLE victim; --",
}
MAIN = "order"  # the wide table; its key column is "select"
KEY = "select"


@dataclass(frozen=True)
class Dialect:
    """How one backend's models are written, and which hostile names it cannot hold (label → why)."""

    kind: str
    quote_char: str  # of identifiers in hand-written check expressions
    key_type: str
    text_type: str
    int_type: str
    backslash_escapes: bool = False  # string literals read \\ as an escape (MySQL, ClickHouse)
    comments: bool = True
    foreign_keys: bool = True
    uniques: bool = True
    checks: bool = True
    head: str = ""
    index_info: str = ""  # extra Index arguments (ClickHouse skip indexes)
    table_kw: str = ""  # extra Table arguments
    json_type: str | None = None  # MariaDB's JSON is a longtext with a check naming the column
    main_extra: tuple[str, ...] = ()  # more items of the wide table
    # one table per hostile name, and version 2 changes, for every ``step``-th name: ClickHouse's history costs
    # a lightweight DELETE per statement (~0.2 s on chDB), so there a quarter of the names get them
    step: int = 1
    refused: dict[str, str] = field(default_factory=dict)

    def names(self) -> dict[str, str]:
        return {label: name for label, name in NAMES.items() if label not in self.refused}

    def all_text(self) -> str:
        """Every hostile text this backend holds, at once: comments."""
        return " | ".join(self.names().values())

    def ident(self, name: str) -> str:
        q = self.quote_char
        if self.kind == "clickhouse":  # backslash escapes inside backticks too
            return q + name.replace("\\", "\\\\").replace(q, "\\" + q) + q
        return q + name.replace(q, q + q) + q

    def literal(self, text: str) -> str:
        if self.backslash_escapes:
            text = text.replace("\\", "\\\\")
        return "'" + text.replace("'", "''") + "'"

    def table_args(self, order_by: str) -> str:
        if self.kind != "clickhouse":
            return self.table_kw
        return f"engines.MergeTree(order_by={self.ident(order_by)!r}),"


MYSQL_REFUSED = {
    "trailing space": "MySQL and MariaDB reject names ending with a space",
    "emoji": "MySQL and MariaDB identifiers hold only Basic Multilingual Plane characters",
}
DIALECTS: dict[str, Dialect] = {
    "sqlite": Dialect("sqlite", '"', "sa.Integer", "sa.Text", "sa.Integer", comments=False),
    "postgresql": Dialect("postgresql", '"', "sa.Integer", "sa.Text", "sa.Integer", json_type="sa.JSON"),
    # unicode text needs a unicode table (the throwaway MariaDB server's default is latin1)
    "mysql": Dialect("mysql", "`", "sa.Integer", "sa.String(200)", "sa.Integer", backslash_escapes=True,
                     table_kw="mysql_charset='utf8mb4',", json_type="sa.JSON", refused=MYSQL_REFUSED),
    "mariadb": Dialect("mariadb", "`", "sa.Integer", "sa.String(200)", "sa.Integer", backslash_escapes=True,
                       table_kw="mysql_charset='utf8mb4',", json_type="sa.JSON", refused=MYSQL_REFUSED),
    "clickhouse": Dialect(
        "clickhouse", "`", "ch.UInt64", "ch.String", "ch.Int64", backslash_escapes=True, foreign_keys=False,
        uniques=False, checks=False,  # ClickHouse has no foreign keys or unique constraints; checks: see README
        head="from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch\n"
             "from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines\n",
        index_info=", info={'dbwarden': {'type': 'bloom_filter(0.01)', 'granularity': 1}}", step=4,
        # a column TTL (read back from the table's DDL) on a column named with quotes, over another one
        main_extra=("sa.Column(\"when `it's`\", ch.DateTime, nullable=False),",
                    "sa.Column('ttl `x`', ch.String, clickhousedb_ttl=\"`when ``it's``` + INTERVAL 1 DAY\"),")),
}


def model_source(d: Dialect, version: int) -> str:
    """The models of one version: ``sa.Table`` objects whose every name and text is written with repr()."""
    names = list(d.names().values())
    some = names[::d.step]  # what gets a table of its own and what version 2 changes
    third = len(some) // 3
    dropped = set(some[:third]) if version == 2 else set()  # columns, indexes and tables version 2 drops
    redefaulted = set(some[third:2 * third]) if version == 2 else set()
    suffix = " v2" if version == 2 else ""
    out = [d.head]

    def table(name: str, key: str, items: list[str], comment: str | None) -> None:
        """A module-level ``sa.Table`` (the loader finds tables bound to module names)."""
        kw = [d.table_args(key)] if d.table_args(key) else []
        if comment is not None and d.comments:
            kw.append(f"comment={comment!r},")
        body = "".join(f"\n    {i}" for i in items + kw)
        var = "main" if name == MAIN else f"t_{len(out)}"
        out.append(f"{var} = sa.Table(\n    {name!r},\n    Base.metadata,{body}\n)")

    # the wide table
    items = [f"sa.Column({KEY!r}, {d.key_type}, primary_key=True, autoincrement=False),"]
    for n in names:
        if n == KEY or n in dropped:
            continue
        text = n + (suffix if n in redefaulted else "")
        comment = f", comment={text!r}" if d.comments else ""
        items.append(f"sa.Column({n!r}, {d.text_type}, nullable=True, server_default={text!r}{comment}),")
    for i, n in enumerate(names):
        if n == KEY or n in dropped:
            continue
        if d.checks and not (version == 2 and n in some and i % 2):
            # SQL text in a model: a colon is written \\: (else sa.text() reads :name as a bind parameter)
            check = (d.ident(n) + " <> " + d.literal(n + "!")).replace(":", "\\:")
            items.append(f"sa.CheckConstraint({check!r}, name={'ck ' + n!r}),")
        if not (version == 2 and n in some[::3]):
            items.append(f"sa.Index({'ix ' + n!r}, {n!r}{d.index_info}),")
    table(MAIN, KEY, items + list(d.main_extra), d.all_text() + suffix)

    # the injection tables: a foreign key, a unique constraint and every hostile text as a comment
    for inj in [n for n in names if "DROP TABLE victim" in n]:
        items = [f"sa.Column('group', {d.key_type}, primary_key=True, autoincrement=False),",
                 f"sa.Column('user', {d.int_type}, nullable=True, comment={d.all_text()!r}),"]
        if d.json_type:
            items.append(f"sa.Column({inj!r}, {d.json_type}, nullable=True),")
        if d.foreign_keys:
            items.append(f"sa.ForeignKeyConstraint(['user'], [main.c[{KEY!r}]], name={'fk ' + inj!r}),")
        if d.uniques:
            items.append(f"sa.UniqueConstraint('user', name={'uq ' + inj!r}),")
        table(inj, "group", items, d.all_text())

    # one table per hostile name (prefixed: the plain reserved words and injections are taken above)
    for n in some:
        if n in dropped:
            continue
        items = [f"sa.Column({n!r}, {d.key_type}, primary_key=True, autoincrement=False),"]
        if version == 2 and n in redefaulted:
            items.append(f"sa.Column({'new ' + n!r}, {d.int_type}, nullable=True, server_default=sa.text('7')),")
        table("t " + n, n, items, n + (suffix if n in redefaulted else ""))
    return "\n".join(out) + "\n"


def names_in(source: str, d: Dialect) -> int:
    return sum(1 for n in d.names().values() if repr(n) in source)


# -------------------------------------------------------------------------------------------------------- HTML


SAFE_TAGS = {"div", "style", "table", "thead", "tbody", "tr", "th", "td", "span", "details", "summary", "pre", "code",
             "caption", "ul", "li", "p", "b", "i", "small", "em", "strong", "br", "h3", "h4", "section", "colgroup",
             "col",
             "svg", "g", "title", "line", "circle", "rect", "text"}  # the history timeline (notebook/timeline.py)


class _Inspector(HTMLParser):
    """Every tag and attribute of a fragment, and its text (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)


def assert_inert(obj: object, texts: list[str], plain_texts: list[str] | None = None) -> None:
    """The object's HTML holds no live markup and shows every hostile text as text; text/plain holds them verbatim
    (or ``plain_texts``, where the text form is SQL: the quoted names)."""
    bundle = obj._repr_mimebundle_()  # type: ignore[attr-defined]
    page, plain = bundle["text/html"], bundle["text/plain"]
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", page, re.IGNORECASE), "an on* attribute in a tag"
    parser = _Inspector()
    parser.feed(page)
    parser.close()
    assert {tag for tag, _ in parser.tags} <= SAFE_TAGS, "a tag the renderer never writes: from a name?"
    for tag, attrs in parser.tags:
        for attr, value in attrs:
            assert not attr.lower().startswith("on") and attr.lower() not in ("src", "href"), f"<{tag} {attr}={value}>"
    shown = " ".join("".join(parser.text).split())
    for t in texts:
        assert " ".join(t.split()) in shown, f"{t!r} is not shown as text in the HTML"
    for t in texts if plain_texts is None else plain_texts:
        assert t in plain or " ".join(t.split()) in " ".join(plain.split()), f"{t!r} is not in text/plain"


def check_html(project: ProjectDir, before: Snapshot, after: Snapshot, d: Dialect) -> None:
    """A snapshot, a diff plan and a migration file (its SQL) holding every name render inert."""
    from dbwarden_nb.backends import get_backend
    from dbwarden_nb.migrations.files import parse_migration

    texts = [n for n in d.names().values() if n.strip()]
    assert_inert(after, texts)
    plan = dw.diff(before, after)
    assert_inert(plan, [t.name for t in after.tables.values()])
    first = project.migration_files()[0]
    migration = parse_migration(first.read_text(encoding="utf-8"), first)
    assert_inert(migration, [get_backend(d.kind).quote(n) for n in texts])


def check_reports(project: ProjectDir, d: Dialect) -> None:
    """The reports of make-migrations, migrate, history and rollback, for a migration named like an injection
    that goes from version 2 of the models back to version 1 (after the round trip rolled everything back)."""
    from dbwarden_nb.backends import get_backend

    project.models(model_source(d, 1))
    proj = dw.project(project.root / "dbwarden.py")
    description = "</script><img src=x onerror=alert(1)> x'); DROP TABLE victim; --"
    some = list(d.names().values())[::d.step]
    dropped = some[: len(some) // 3]  # what version 2 dropped: this migration creates it again
    quote = get_backend(d.kind).quote
    assert_inert(proj.make_migrations(description, dry_run=True), [description] + ["t " + n for n in dropped],
                 [description] + [quote("t " + n) for n in dropped])
    assert_inert(proj.make_migrations(description), ["t " + n for n in dropped])
    assert_inert(proj.migrate(force=True), [description])
    assert_inert(proj.history(), [description])
    assert_inert(proj.rollback(count=3, force=True), [description])


# -------------------------------------------------------------------------------------------------- round trip


def connect(kind: str, url: str):  # -> the backend's Connection
    from dbwarden_nb.backends import get_backend
    from dbwarden_nb.config import sqlalchemy_url

    return get_backend(kind).connect(sqlalchemy_url(url))


def make_victim(kind: str, url: str) -> None:
    """The table the injection names try to drop: unmanaged (``exclude_tables``), with one row."""
    ch = kind == "clickhouse"
    with connect(kind, url) as conn:
        conn.execute(f"CREATE TABLE victim (id {'UInt64' if ch else 'INTEGER PRIMARY KEY'}, "
                     f"note {'String' if ch else 'VARCHAR(20)'}){' ENGINE = MergeTree ORDER BY id' if ch else ''}")
        conn.execute("INSERT INTO victim (id, note) VALUES (1, 'alive')")
        conn.commit()


def victim_rows(kind: str, url: str) -> list[tuple]:
    with connect(kind, url) as conn:
        return conn.query("SELECT id, note FROM victim ORDER BY id")


def hostile_round_trip(tmp_path: Path, url: str, kind: str) -> int:
    d = DIALECTS[kind]
    project = ProjectDir(tmp_path / "proj", url, database_type=kind, extra_config='\n                exclude_tables=["victim"],')
    make_victim(kind, url)
    versions = [model_source(d, 1), model_source(d, 2)]
    snapshots = round_trip(project, versions)
    assert victim_rows(kind, url) == [(1, "alive")], "the victim table lost its row"
    v1 = snapshots[1]
    injections = [n for n in d.names().values() if "DROP TABLE victim" in n]
    assert len(v1.tables) == len(list(d.names())[::d.step]) + len(injections) + 1
    if d.main_extra:  # the column TTL is read back from the DDL under its quoted name
        assert "it's" in next(c for c in v1.tables[MAIN].columns if c.name == "ttl `x`").options.get("ttl", "")
    if d.json_type:  # MariaDB's JSON is read back as JSON, whatever the column's name
        assert {c.type.lower() for n in injections for c in v1.tables[n].columns if c.name == n} == {"json"}
    check_html(project, snapshots[0], v1, d)
    if kind == "sqlite":  # the reports are the same objects on every backend
        check_reports(project, d)
    assert victim_rows(kind, url) == [(1, "alive")], "the victim table lost its row"
    count = names_in(versions[0], d)
    assert count == len(d.names())
    print(f"\n{kind}: {count} hostile names round-tripped; refused: {', '.join(d.refused) or 'none'}")
    return count


def test_sqlite(tmp_path: Path, sqlite_url: str) -> None:
    hostile_round_trip(tmp_path, sqlite_url, "sqlite")


def test_postgresql(tmp_path: Path, pg_url: str) -> None:
    hostile_round_trip(tmp_path, pg_url, "postgresql")


def test_mariadb(tmp_path: Path, mariadb_url: str) -> None:
    hostile_round_trip(tmp_path, mariadb_url, "mariadb")


def test_mysql(tmp_path: Path, mysql_url: str) -> None:
    hostile_round_trip(tmp_path, mysql_url, "mysql")


def test_clickhouse(tmp_path: Path, clickhouse_url: str) -> None:
    hostile_round_trip(tmp_path, clickhouse_url, "clickhouse")


# ------------------------------------------------------------------------------------------------------ refusals

LONG_PG = "t" + "x" * 63  # 64 bytes
# kind -> [(what, model source, what the one-line error must name)]
REFUSALS: dict[str, list[tuple[str, str, str]]] = {
    "postgresql": [
        ("table name of 64 bytes", f"t = sa.Table({LONG_PG!r}, Base.metadata, sa.Column('id', sa.Integer, primary_key=True))",
         f"table {LONG_PG!r}"),
        ("column name of 64 bytes in 32 characters",
         "t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), sa.Column('é' * 32, sa.Text))",
         f"column {'é' * 32!r} of table 't'"),
        ("index name of 64 bytes",
         f"t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), sa.Index({LONG_PG!r}, 'id'))",
         f"index {LONG_PG!r} of table 't'"),
    ],
    "mysql": [
        ("table name of 65 characters",
         f"t = sa.Table({'t' * 65!r}, Base.metadata, sa.Column('id', sa.Integer, primary_key=True))", f"table {'t' * 65!r}"),
        ("column name ending with a space",
         "t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), sa.Column('trail ', sa.Integer))",
         "column 'trail ' of table 't'"),
        ("column name with an emoji",
         "t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), sa.Column('emoji 🎉', sa.Integer))",
         "column 'emoji 🎉' of table 't'"),
        ("comment with an emoji (stored as '?')",
         "t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), comment='party 🎉')",
         "comment of table 't'"),
        ("default with an emoji (stored as '?')",
         ("t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), "
          "sa.Column('a', sa.String(9), server_default='🎉'), mysql_charset='utf8mb4')"),
         "default of column 'a' of table 't'"),
        ("check with an emoji (MariaDB stores '????')",
         ("t = sa.Table('t', Base.metadata, sa.Column('id', sa.Integer, primary_key=True), "
          "sa.CheckConstraint(\"id <> '🎉'\", name='ck'), mysql_charset='utf8mb4')"),
         "check constraint 'ck' of table 't'"),
    ],
    "clickhouse": [
        ("table name of 250 characters (the server's file-name limit)",
         ("from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines\n"
          f"t = sa.Table({'t' * 250!r}, Base.metadata, sa.Column('id', sa.Integer), engines.MergeTree(order_by='id'))"),
         "t" * 250),
    ],
}
REFUSALS["mariadb"] = REFUSALS["mysql"]


def assert_refused(tmp_path: Path, url: str, kind: str) -> int:
    """Each unholdable name: make-migrations and diff fail with one line naming the object; nothing is written."""
    project = ProjectDir(tmp_path / "refused", url, database_type=kind)
    for what, source, named in REFUSALS.get(kind, []):
        project.models(source + "\n")
        for command in (["make-migrations", "too long"], ["diff"]):
            result = project.cli(*command)
            assert result.code == 1, f"{kind}: {what}: {command[0]} exited {result.code}: {result.out}{result.err}"
            line = result.err.strip()
            assert "\n" not in line and "Traceback" not in line, f"{kind}: {what}: not one line:\n{result.err}"
            assert named in line, f"{kind}: {what}: the error does not name {named!r}: {line}"
        assert project.migration_files() == [], f"{kind}: {what}: a migration was written"
    return len(REFUSALS.get(kind, []))


@pytest.mark.parametrize("kind", backends({"sqlite": "SQLite holds every name: nothing to refuse"}))
def test_unholdable_names_are_refused(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    fixture = {"postgresql": "pg_url", "mariadb": "mariadb_url", "mysql": "mysql_url",
               "clickhouse": "clickhouse_url"}[kind]
    url = request.getfixturevalue(fixture)
    refused = assert_refused(tmp_path, url, kind)
    print(f"\n{kind}: {refused} unholdable names refused")


def test_server_text_keeps_what_is_quoted() -> None:
    """The two rewrites of server-printed SQL the round trips above rely on, on their own (no database)."""
    from dbwarden_nb.backends.base.sqltext import collapse_spaces, doubled_quotes

    assert collapse_spaces(" a  >\n 'x  y'  AND `c\n  d` <> \"e\t f\" ") == "a > 'x  y' AND `c\n  d` <> \"e\t f\""
    assert doubled_quotes(r"`a\`b` != 'it\'s \\ x' AND `c``d`") == r"`a``b` != 'it''s \\ x' AND `c``d`"
