"""The notebook display layer, without a notebook or a database: every renderer, HTML snapshots, escaping,
password masking, deterministic text/plain, DataFrames, ERDs and a 2,000-table snapshot.

HTML snapshots live in ``tests/notebook/snapshots/<name>.html`` (rendered with fixed ids; the shared ``<style>``
is checked once, in ``_style.css``) next to ``<name>.txt`` (the text/plain). Regenerate them with
``DBWARDEN_UPDATE_SNAPSHOTS=1 python -m pytest tests/notebook``; otherwise they are compared.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import samples

from dbwarden_nb.backends import get_backend
from dbwarden_nb.notebook import display
from dbwarden_nb.notebook.erd import ERD, erd
from dbwarden_nb.reports import MultiReport, Report, StatusReport, TextReport

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("DBWARDEN_UPDATE_SNAPSHOTS", "") not in ("", "0")
OBJECTS = samples.engine_objects()
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def bundle(obj: object) -> dict[str, str]:
    with display.fixed_ids():
        return display.mimebundle(obj)


OWN_SVG = re.compile(r'<svg class="dbw-timeline" role="img" aria-label="[^"<>]*" width="\d+" height="\d+" '
                     r'viewBox="0 0 \d+ \d+" xmlns="http://www\.w3\.org/2000/svg">')  # timeline.py's, none other


def unescaped_markup(text: str) -> list[str]:
    """Live tags an attacker could use, after HTML parsing."""
    text = OWN_SVG.sub("", text)
    found = re.findall(r"<\s*(?:script|img|iframe|object|embed|svg|math|link|meta|base|form)\b", text, re.IGNORECASE)
    found += re.findall(r"<[^>]*\son[a-z]+\s*=", text, re.IGNORECASE)
    found += re.findall(r"javascript:", text, re.IGNORECASE)
    return found


def outside_fences(markdown: str) -> str:
    return re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", markdown, flags=re.DOTALL | re.MULTILINE)


# ---------------------------------------------------------------------------------------- every renderer


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_every_object_renders_scoped_escaped_html(name: str) -> None:
    b = bundle(OBJECTS[name])
    assert set(b) >= {"text/plain", "text/html"}
    html_ = b["text/html"]
    wrapper = re.match(r'<div class="dbw dbw-[a-z-]+" id="(dbw-\d{4})"><style>', html_)
    assert wrapper, html_[:120]
    assert html_.endswith("</div>")
    assert html_.count("<style>") == 1
    rules = [r for r in STYLE.search(html_).group(1).split("}") if r]
    for rule in rules:  # every selector is scoped to this render
        for selector in rule.split("{")[0].split(","):
            assert selector == f"#{wrapper.group(1)}" or selector.startswith(f"#{wrapper.group(1)} "), selector
    assert unescaped_markup(html_) == [] and "<script" not in html_.lower()
    prose = outside_fences(b.get("text/markdown", ""))  # fenced code is shown as text by Markdown renderers
    assert unescaped_markup(prose) == [] and "<script" not in prose.lower()


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_html_and_text_snapshots(name: str) -> None:
    b = bundle(OBJECTS[name])
    body = STYLE.sub("<style>…</style>", b["text/html"])
    files = {SNAPSHOTS / f"{name}.html": body + "\n", SNAPSHOTS / f"{name}.txt": b["text/plain"] + "\n"}
    if "text/markdown" in b:
        files[SNAPSHOTS / f"{name}.md"] = b["text/markdown"] + "\n"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
        return
    for path, text in files.items():
        assert path.exists(), f"missing {path}; run with DBWARDEN_UPDATE_SNAPSHOTS=1 to create it"
        assert path.read_text(encoding="utf-8") == text, f"{path.name} changed (DBWARDEN_UPDATE_SNAPSHOTS=1 to accept)"


def test_style_snapshot() -> None:
    with display.fixed_ids():
        css = STYLE.search(display.render_html(samples.snapshot())).group(1)
    path = SNAPSHOTS / "_style.css"
    text = css.replace("}", "}\n")
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text
    for variable in ("--jp-ui-font-color1", "--jp-border-color2", "--jp-success-color1", "--jp-warn-color1",
                     "--jp-error-color1", "--jp-code-font-family", "--vscode-editor-foreground"):
        assert f"var({variable}" in css
    assert "url(" not in css and "expression(" not in css and "@import" not in css


def test_engine_objects_delegate_their_display() -> None:
    for name in ("snapshot", "table", "plan", "migration_file", "diff", "status", "history", "lock_held", "multi"):
        obj = OBJECTS[name]
        with display.fixed_ids():
            own = obj._repr_mimebundle_()  # type: ignore[attr-defined]
        assert own == bundle(obj), name


def test_unknown_objects_are_refused() -> None:
    with pytest.raises(TypeError, match="no renderer for int"):
        display.mimebundle(3)


def test_other_reports_fall_back_to_escaped_text() -> None:
    class Odd(Report):
        def to_text(self) -> str:
            return "odd <script>x</script> postgresql://u:pw1234@h/db"

    b = bundle(Odd())
    assert "&lt;script&gt;" in b["text/html"] and "pw1234" not in b["text/html"] + b["text/plain"]


# --------------------------------------------------------------------------------------------- escaping


def test_hostile_names_and_comments_are_escaped() -> None:
    html_ = bundle(OBJECTS["snapshot_hostile"])["text/html"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html_
    assert "&quot;quoted&quot; &amp; &#x27;single&#x27; &lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in html_
    assert "&lt;/table&gt;&lt;/details&gt;" in html_  # cannot close our own elements either
    assert "naïve ✓ 表" in html_  # unicode passes through untouched
    assert "&#x27;&lt;b&gt;&amp;amp;&lt;/b&gt;&#x27;" in html_  # a default holding markup and an entity
    # the table count is what the engine built: nothing was closed early
    assert html_.count("<details") == html_.count("</details>") == 4
    assert html_.count("<table") == html_.count("</table>")


def test_what_is_not_managed_is_shown_escaped() -> None:
    snap = samples.snapshot().replace(unmanaged={"function": ("<script>window.__pwned=3</script>()", "f()"),
                                                 "trigger": ("t on x",)})
    got = bundle(snap)
    line = "not managed: 2 functions, 1 trigger (dbwarden does not create or drop them)"
    assert line in got["text/plain"] and line in got["text/html"]
    assert "&lt;script&gt;window.__pwned=3&lt;/script&gt;()" in got["text/html"]
    assert unescaped_markup(got["text/html"]) == []
    assert snap == samples.snapshot()  # what is not managed is not part of equality


def test_attributes_are_escaped_too() -> None:
    snap = samples.snapshot()
    hostile_checksum = '"><script>window.__pwned=9</script>'
    html_ = display._kv([("x", hostile_checksum)]) + display._badge("t", "c", hostile_checksum)
    assert unescaped_markup(html_) == [] and 'title="&quot;&gt;&lt;script&gt;' in html_
    assert "title=\"sha256:" in bundle(snap)["text/html"]


def test_markdown_escapes_markup_and_table_syntax() -> None:
    md = bundle(OBJECTS["plan"])["text/markdown"]
    assert "&lt;script&gt;" in md and "<script" not in md
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 4 for line in rows)  # no cell's | broke the table
    assert display._fence("a ``` b", "sql").startswith("````sql\n")


# --------------------------------------------------------------------------------------------- passwords


def test_passwords_never_appear() -> None:
    for name, obj in OBJECTS.items():
        for mime, text in bundle(obj).items():
            assert samples.PASSWORD not in text, (name, mime)
    status = bundle(OBJECTS["status"])
    assert "postgresql://admin:***@db.example.com:5432/shop" in status["text/html"]
    assert "***" in bundle(OBJECTS["text"])["text/html"]


def test_an_unmasked_url_handed_to_a_report_is_masked_on_display() -> None:
    report = StatusReport("primary", "mysql://root:hunter2@localhost:3306/app?password=hunter3", "mysql", [], [])
    b = bundle(report)
    assert "hunter2" not in str(b) and "hunter3" not in str(b)
    assert "mysql://root:***@localhost:3306/app?password=***" in b["text/html"]


# ------------------------------------------------------------------------------------------ determinism

VOLATILE = [
    (re.compile(r"\d{2}:\d{2}:\d{2}"), "a time of day"),
    (re.compile(r"\b\d+ ?ms\b"), "a duration"),
    (re.compile(r":\d{2,5}/"), "a port"),
    (re.compile(r"/tmp/|pytest-of-"), "a temp path"),
    (re.compile(r"0x[0-9a-f]{6,}"), "an object id"),
    (re.compile(r"dbw-[0-9a-f]{4,}"), "a render id"),
    (re.compile(r"host:\d+:"), "a lock owner (host, pid)"),
    (re.compile(r"://"), "a URL"),
]


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_text_plain_is_deterministic(name: str) -> None:
    first = display.mimebundle(OBJECTS[name])  # random ids
    second = display.mimebundle(OBJECTS[name])
    assert first["text/plain"] == second["text/plain"]
    assert first.get("text/markdown") == second.get("text/markdown")
    if name != "text":  # a TextReport's text is the user's (its config path is made relative)
        for pattern, what in VOLATILE:
            assert not pattern.search(first["text/plain"]), f"{name}: text/plain holds {what}"


def test_text_plain_leaves_out_what_the_cli_prints() -> None:
    history = OBJECTS["history"]
    assert "2026-01-02T03:04:05Z" in history.to_text()  # the CLI shows when…
    text = bundle(history)["text/plain"]
    assert "2026-01" not in text  # …the notebook's stable twin does not
    assert "0001 applied  sha256:aaaaaaaaaaaa…  create users" in text
    status = OBJECTS["status"]
    assert "db.example.com" in status.to_text()
    assert bundle(status)["text/plain"].splitlines()[0] == "primary (postgresql)"
    script = bundle(OBJECTS["run_script"])["text/plain"]
    assert "'<applied_at>'" in script and "2026-05-09" not in script
    assert bundle(OBJECTS["text"])["text/plain"].startswith("config: dbwarden.py\n")
    assert bundle(OBJECTS["lock_held"])["text/plain"] == "primary: migration lock: held (lease)"


def test_ids_random_by_default_fixed_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBWARDEN_NB_FIXED_IDS", raising=False)
    ids = {re.search(r'id="(dbw-[^"]+)"', display.render_html(OBJECTS["plan"])).group(1) for _ in range(5)}
    assert len(ids) == 5 and all(re.fullmatch(r"dbw-[0-9a-f]{10}", i) for i in ids)
    with display.fixed_ids():
        first = [display.render_html(OBJECTS["plan"]) for _ in range(2)]
    with display.fixed_ids():
        again = display.render_html(OBJECTS["plan"])
    assert 'id="dbw-0001"' in first[0] and 'id="dbw-0002"' in first[1] and again == first[0]
    display.use_fixed_ids()
    try:
        assert 'id="dbw-0001"' in display.render_html(OBJECTS["plan"])
    finally:
        display.use_fixed_ids(False)
    monkeypatch.setenv("DBWARDEN_NB_FIXED_IDS", "1")
    assert re.search(r'id="dbw-\d{4}"', display.render_html(OBJECTS["plan"]))


# ------------------------------------------------------------------------------------------ structure


def test_severity_is_shown_by_glyph_and_colour() -> None:
    html_ = bundle(OBJECTS["plan"])["text/html"]
    for level, glyph in display.SEVERITY_GLYPHS.items():
        if level in ("WARN", "CRITICAL", "INFO"):
            assert f'class="dbw-badge dbw-sev-{level}" title="severity {level}">{glyph} {level}</span>' in html_
    for change, glyph in display.CHANGE_GLYPHS.items():
        assert f'dbw-chg-{change}" title="{change}">{glyph} ' in html_
        assert f'<tr class="dbw-row-{change}">' in html_


def test_plans_group_by_table_or_kind() -> None:
    plan = OBJECTS["plan"]
    by_table = bundle(plan)["text/html"]
    assert by_table.count('class="dbw-group"') == len({op.table for op in plan})
    display.options.group_by = "kind"
    try:
        by_kind = bundle(plan)["text/html"]
    finally:
        display.options.group_by = "table"
    assert by_kind.count('class="dbw-group"') == len({op.kind for op in plan})
    assert '<span class="dbw-name">drop table</span>' in by_kind


def test_diff_shows_its_sql_in_a_pre() -> None:
    html_ = bundle(OBJECTS["diff"])["text/html"]
    assert ('<summary>SQL (8 statements)</summary><pre class="dbw-sql"><span class="dbw-sql-keyword">DROP</span> '
            '<span class="dbw-sql-keyword">TABLE</span> <span class="dbw-sql-name">&quot;&lt;script&gt;') in html_
    md = bundle(OBJECTS["diff"])["text/markdown"]
    assert "```sql\nDROP TABLE \"<script>window.__pwned=1</script>\";" in md  # literal inside a code fence


def test_diff_out_sql_and_json_show_the_sql_and_the_document() -> None:
    sql, doc = bundle(OBJECTS["diff_sql"]), bundle(OBJECTS["diff_json"])
    assert sql["text/plain"] == OBJECTS["diff_sql"].to_text() and sql["text/plain"].startswith('DROP TABLE "<script>')
    assert "<table" not in sql["text/html"] and sql["text/html"].count("<pre") == 1
    assert '<span class="dbw-sql-keyword">CREATE</span> <span class="dbw-sql-keyword">TABLE</span>' in sql["text/html"]
    assert sql["text/markdown"].startswith("```sql\nDROP TABLE")
    assert json.loads(doc["text/plain"]) == OBJECTS["diff_json"].to_json() and "<table" not in doc["text/html"]
    empty = bundle(replace(OBJECTS["diff_empty"], out="sql"))
    assert empty["text/plain"] == "-- no differences" and "no differences between the models and live database" in empty["text/html"]


def test_sql_highlighting_escapes_every_token() -> None:
    from dbwarden_nb.notebook.highlight import highlight_sql

    sql = ("CREATE TABLE \"a\"\"<b>\" (t TEXT DEFAULT 'it''s </pre><script>x</script>', n INT DEFAULT 42) "
           "-- a <i>comment</i>\n/* <b> */ SELECT $$ <s> ; $$, $fn$ <u> $fn$, c2, 'open <script>")
    out = highlight_sql(sql)
    assert html.unescape(re.sub(r"</?span[^>]*>", "", out)) == sql  # nothing lost, nothing added but the spans
    assert re.findall(r'<span class="dbw-sql-(\w+)">', out) == [
        "keyword", "keyword", "name", "keyword", "string", "keyword", "number", "comment", "comment", "keyword",
        "string", "string", "string"]
    assert unescaped_markup(re.sub(r'</?span( class="dbw-sql-\w+")?>', "", out)) == [] and "<script" not in out
    assert highlight_sql("select_x from_t") == "select_x from_t"  # a word that starts like a keyword is a name


def test_history_timeline_marks_each_row_escaped() -> None:
    from dbwarden_nb.migrations.history import HistoryRow
    from dbwarden_nb.notebook.timeline import timeline_svg

    html_ = bundle(OBJECTS["history"])["text/html"]
    svg = re.search(r"<svg .*?</svg>", html_, re.DOTALL).group()
    assert OWN_SVG.match(svg) and unescaped_markup(svg) == []
    assert re.findall(r'<circle class="dbw-tl-(\w+)"', svg) == ["ok", "warn"]  # applied, partial
    assert "<title>0002 add &lt;script&gt;window.__pwned=1&lt;/script&gt;: partial, applied 2026-01-03T10:11:12Z" in svg
    assert ">add &lt;script&gt;w\u2026</text>" in svg  # the label is cut, the tooltip has it all
    assert timeline_svg([]) == "" and "<svg" not in bundle(OBJECTS["history_empty"])["text/html"]
    rows = [HistoryRow(0, "baseline", "(baseline)", "sha256:0", "applied", 0, "2026-01-01T00:00:00Z", 0)] + [
        HistoryRow(v, f"step {v}", f"{v:04d}_s.sql", "sha256:1", "failed" if v == 70 else "applied", 1,
                   f"2026-01-{1 + v // 30:02d}T00:00:00Z", 1) for v in range(1, 71)]
    many = timeline_svg(list(reversed(rows)), limit=60)  # any order in: version order out
    versions = re.findall(r'class="dbw-tl-version"[^>]*>(\d{4})<', many)
    assert versions == [f"{v:04d}" for v in range(11, 71)] and ">+11</text>" in many
    assert many.count('class="dbw-tl-date"') == 3  # the day under the first marker and where it changes
    assert '<circle class="dbw-tl-err" cx' in many and '<rect class="dbw-tl-ok"' in timeline_svg(rows[:2])


def test_migration_file_sections_and_directives() -> None:
    b = bundle(OBJECTS["migration_file"])
    assert "-- dbwarden: irreversible the rows of table &lt;script&gt;x&lt;/script&gt; are not restored" in b["text/html"]
    assert "<summary>dev-upgrade: sqlite (8 statements)</summary>" in b["text/html"]  # collapsed
    assert b["text/plain"].startswith("migration 0003: add audit <script>window.__pwned=1</script> [CRITICAL]\n-- upgrade\n")


def test_real_sqlite_database_renders(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    db = sqlite3.connect(path)
    db.executescript(f"""
        CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
        CREATE TABLE "{samples.HOSTILE_NAME}" (id INTEGER PRIMARY KEY,
            user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, "a&b" TEXT DEFAULT '<i>x</i>');
        CREATE INDEX ix_h ON "{samples.HOSTILE_NAME}" (user_id);
    """)
    db.close()
    backend = get_backend("sqlite")
    conn = backend.connect(f"sqlite:///{path}")
    try:
        snap = backend.introspect(conn)
    finally:
        conn.close()
    b = bundle(snap)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in b["text/html"] and unescaped_markup(b["text/html"]) == []
    assert str(tmp_path) not in b["text/plain"] + b["text/html"]
    plan, sql = samples.sqlite_plan_and_sql()  # the real differ and renderer feed the same display
    assert "<pre class=\"dbw-sql\">" in bundle(samples.reports()["diff"].__class__("db", "a", "b", plan, sql))["text/html"]
    frame = snap.to_frame()
    assert list(frame["table"]) == ["users", "users"] + [samples.HOSTILE_NAME] * 3 or set(frame["table"]) == {
        "users", samples.HOSTILE_NAME}


def test_the_engine_and_html_never_import_ipython_or_pandas() -> None:
    code = (
        f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); import samples;"
        "from dbwarden_nb.notebook import display;"
        "[display.mimebundle(o) for o in samples.engine_objects().values()];"
        "samples.snapshot().erd()._repr_mimebundle_();"
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------- frames


def test_to_frame() -> None:
    pytest.importorskip("pandas")
    snap = samples.snapshot()
    cols = snap.to_frame()
    assert len(cols) == 6 and list(cols.columns) == display._COLUMN_FRAME
    assert cols.loc[cols["column"] == "user_id", "foreign_key"].item() == "users.id"
    assert bool(cols.loc[(cols["table"] == "users") & (cols["column"] == "id"), "primary_key"].item())
    tables = snap.to_frame(by="table")
    assert list(tables["table"]) == ["orders", "users", "big_orders"] and list(tables["kind"])[-1] == "view"
    with pytest.raises(ValueError):
        snap.to_frame(by="index")
    assert len(samples.ORDERS.to_frame()) == 3
    plan = OBJECTS["plan"]
    ops = plan.to_frame()
    assert len(ops) == len(plan) and list(ops["change"][:3]) == ["removed", "added", "added"]
    assert len(OBJECTS["diff"].to_frame()) == len(plan) and set(OBJECTS["diff"].to_frame()["database"]) == {"primary"}
    assert len(OBJECTS["make_migrations"].to_frame()) == len(plan)
    assert list(OBJECTS["status"].to_frame()["state"]) == ["applied", "partial", "pending"]
    history = OBJECTS["history"].to_frame()
    assert list(history["version"]) == [1, 2] and "applied_at" in history.columns
    assert list(OBJECTS["run"].to_frame()["state"]) == ["done", "done"]
    assert list(OBJECTS["run_dry"].to_frame()["state"]) == ["planned"]
    check = OBJECTS["check"].to_frame()
    assert len(check) == 3 and check["risk"].isna().sum() == 1
    multi = OBJECTS["multi"].to_frame()
    assert list(multi["database"]) == ["primary", "primary", "analytics"]
    assert len(MultiReport([]).to_frame()) == 0


# --------------------------------------------------------------------------------------------- ERD

_MERMAID_LINE = re.compile(
    r'erDiagram'
    r'|    "[\w.\- $]+"( \{)?'
    r'|        [A-Za-z_][A-Za-z0-9_()\[\]-]* [A-Za-z_*][A-Za-z0-9_()\[\]-]*( (PK|FK|UK)(, (PK|FK|UK))*)?( "[^"%<>&]*")?'
    r'|    \}'
    r'|    "[\w.\- $]+" (\|o|\}o)(--|\.\.)(\|\||o\|) "[\w.\- $]+" : "[^"%<>&]*"'
)


def test_erd_is_valid_sanitised_mermaid() -> None:
    diagram = samples.hostile_snapshot().erd()
    assert isinstance(diagram, ERD) and repr(diagram) == "<ERD: 3 table(s), 2 relationship(s)>"
    lines = diagram.source.splitlines()
    assert lines[0] == "erDiagram"
    for line in lines:
        assert _MERMAID_LINE.fullmatch(line), line
    source = diagram.source
    assert '"orders" {' in source and "        INTEGER id PK" in source
    assert '    "orders" }o..|| "users" : "fk_orders_user"' in source  # not part of the PK: dashed
    assert '"_script_window.__pwned_1__script_"' in source  # the hostile table, made safe
    assert "        NUMERIC(10__2) total\n" in source
    b = diagram._repr_mimebundle_()
    assert set(b) == {"text/plain", "text/vnd.mermaid", "text/markdown"}
    assert b["text/markdown"] == f"```mermaid\n{source}\n```" and b["text/vnd.mermaid"] == source
    assert samples.ORDERS.erd().source.count("{") == 1  # one entity; the referenced table appears by name


def test_erd_pins_no_theme() -> None:
    """JupyterLab draws Mermaid in its current theme (light: "default", dark: "dark"); a theme or colours set in
    the diagram would override that, so the source carries none: each render follows the notebook's theme."""
    for obj in (samples.snapshot(), samples.schemas_snapshot(), samples.ORDERS):
        source = obj.erd().source
        assert source.startswith("erDiagram\n") and "%%{" not in source and "init" not in source.split("\n")[0]
        assert not re.search(r"\b(theme|themeVariables|classDef|style|fill)\b", source), source


def test_erd_names_stay_unique_and_keys_are_marked() -> None:
    from dbwarden_nb.schema import Column, ForeignKey, PrimaryKey, Table

    a = Table("a b", columns=(Column("id", "INTEGER", nullable=False),), primary_key=PrimaryKey(None, ("id",)))
    b = Table("a<b", columns=(Column("id", "INTEGER", nullable=False), Column("1st col", "int4")),
              primary_key=PrimaryKey(None, ("id",)),
              foreign_keys=(ForeignKey(None, ("id",), "a b", ("id",)),))
    source = erd([a, b]).source
    assert '"a b" {' in source and '"a_b" {' in source
    assert '        int4 c_1st_col "1st col"' in source
    assert "        INTEGER id PK, FK" in source
    assert '"a_b" |o--|| "a b" : "id"' in source  # one-to-one, identifying (the FK is the PK)


# ----------------------------------------------------------------------------------- large snapshots


def test_two_thousand_tables_render_small_and_collapsed() -> None:
    snap = samples.big_snapshot(2000, columns=8)
    started = time.perf_counter()
    b = bundle(snap)
    seconds = time.perf_counter() - started
    html_ = b["text/html"]
    size = len(html_.encode())
    print(f"\n2,000-table snapshot (16,000 columns): {seconds * 1000:.0f} ms, text/html {size / 1e6:.2f} MB "
          f"({size / 2000:.0f} bytes/table), text/plain {len(b['text/plain'])} chars")
    assert seconds < 20  # generous: the measured figure is printed above, not asserted
    assert size < 2_500_000
    assert html_.count("<details><summary><b>table_") == 2000  # one collapsed section per table
    assert "<details open" not in html_
    assert html_.count('<details class="dbw-s">') == 20  # in runs of 100
    assert "<summary>table_0000 … table_0099 (100)</summary>" in html_
    assert html_.count("<style>") == 1
    assert b["text/plain"].endswith("… 1950 more table(s) (snapshot.to_text() lists them all)")
    assert len(b["text/plain"]) < 50_000


def test_small_snapshots_render_open_and_very_large_ones_are_capped() -> None:
    assert "<details open>" in bundle(samples.snapshot())["text/html"]
    display.options.max_tables = 10
    try:
        html_ = bundle(samples.big_snapshot(30, columns=3))["text/html"]
    finally:
        display.options.max_tables = 5000
    assert html_.count("<details><summary><b>table_") == 10
    assert "20 more table(s) not shown" in html_


def test_json_of_the_bundle_is_plain_strings() -> None:
    for obj in OBJECTS.values():
        json.dumps(bundle(obj))  # what Jupyter stores in the .ipynb
    with display.fixed_ids():
        assert TextReport("x")._repr_mimebundle_()["text/html"].startswith('<div class="dbw dbw-text" id="dbw-0001">')


def test_a_changed_definition_shows_line_by_line_and_a_long_one_folds() -> None:
    """A replaced function's plan row folds a line diff of its definition (escaped: a body is user text); in a
    snapshot a definition of several lines shows its first line, the rest folded; the text twin is unchanged."""
    from dbwarden_nb.operations import Plan, ReplaceObject
    from dbwarden_nb.reports import DiffReport
    from dbwarden_nb.schema import SchemaObject, Snapshot

    old = SchemaObject("function", "f", None, "()\n RETURNS int\nAS $$ SELECT 1 $$", {"arguments": ""})
    new = SchemaObject("function", "f", None, "()\n RETURNS int\nAS $$ SELECT '<b>2</b>' $$", {"arguments": ""})
    report = DiffReport("primary", "live database", "the models", Plan((ReplaceObject(old, new),)), ())
    shown = bundle(report)
    assert '<span class="dbw-del">-AS $$ SELECT 1 $$</span>' in shown["text/html"]
    assert '<span class="dbw-add">+AS $$ SELECT &#x27;&lt;b&gt;2&lt;/b&gt;&#x27; $$</span>' in shown["text/html"]
    assert "<b>2</b>" not in shown["text/html"] and "replace function f()" in shown["text/plain"]
    snap = Snapshot.of("postgresql", [], [], [new])
    html_ = bundle(snap)["text/html"]
    assert '<summary class="dbw-mono">() …</summary><pre>()\n RETURNS int' in html_


def test_a_text_search_configuration_shows_its_mappings() -> None:
    """A configuration's mappings fold under its definition in a snapshot, and a changed one is a diff line of its own."""
    from dbwarden_nb.operations import Plan, ReplaceObject
    from dbwarden_nb.reports import DiffReport
    from dbwarden_nb.schema import SchemaObject, Snapshot

    old = SchemaObject("text search configuration", "en", None, '(PARSER = pg_catalog."default")',
                       {"mappings": {"asciiword": "simple", "word": "english_stem"}})
    new = SchemaObject("text search configuration", "en", None, old.definition,
                       {"mappings": {"asciiword": "simple, english_stem", "word": "english_stem"}})
    html_ = bundle(Snapshot.of("postgresql", [], [], [old]))["text/html"]
    assert "MAPPING FOR asciiword WITH simple\nMAPPING FOR word WITH english_stem</pre>" in html_
    shown = bundle(DiffReport("primary", "live database", "the models", Plan((ReplaceObject(old, new),)), ()))
    assert '<span class="dbw-add">+-- mappings asciiword: simple, english_stem</span>' in shown["text/html"]
    assert '<span class="dbw-ctx"> -- mappings word: english_stem</span>' in shown["text/html"]
