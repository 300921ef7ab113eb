"""Rich display of every engine object: escaped HTML, deterministic text, Markdown where it helps, DataFrames.

``mimebundle(obj)`` is what the engine objects' ``_repr_mimebundle_`` delegate to; ``to_frame(obj)`` backs
their ``.to_frame()``. Renderers are found through class-keyed tables (walking the MRO), never if-chains.

- HTML: semantic ``<table>``s, every value passed through :func:`html.escape` (``quote=True``), no JavaScript.
  Each render is a ``<div class="dbw dbw-<kind>" id="dbw-<id>">`` holding its own ``<style>``, every selector
  prefixed with that id (``theme.css``, package data). Colours come from JupyterLab's ``--jp-*`` variables
  with VS Code and plain fallbacks. Large schemas collapse per table (``<details>``).
- ``text/plain``: deterministic, for nbval. No timestamps, durations, ports, URLs, temp paths or object ids:
  the CLI's ``to_text()`` is reused only where it is already stable.
- Ids are random per render, or ``dbw-0001``, ``dbw-0002``… under :func:`fixed_ids` / :func:`use_fixed_ids`
  or with ``DBWARDEN_NB_FIXED_IDS=1`` in the environment (tests, reproducible notebooks).
- Passwords never appear: URLs are masked again here (:func:`~dbwarden_nb.config.mask_url`), free text goes
  through :func:`~dbwarden_nb.config.mask_text`.
"""

from __future__ import annotations

import html
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import PurePath
from typing import Any

from ..config import mask_text, mask_url
from ..listing import constraints, counts, snapshot_lines, table_lines
from ..migrations.files import MigrationFile, Statement
from ..operations import Operation, Plan, ReplaceObject
from ..rebase import RebaseReport
from ..reports import (
    CheckReport,
    DiffReport,
    EnvironmentStatusReport,
    HistoryReport,
    LockReport,
    MakeMigrationsReport,
    MultiReport,
    Report,
    RunReport,
    StatusReport,
    TextReport,
    plan_lines,
    translation_warnings,
)
from ..schema import Column, SchemaObject, Snapshot, Table, View
from ..seeds import SeedStatusReport
from .highlight import highlight_sql
from .timeline import timeline_svg

__all__ = ["Options", "fixed_ids", "mimebundle", "options", "render_html", "to_frame", "use_fixed_ids"]


@dataclass
class Options:
    """Display settings, module-wide (``dbwarden_nb.notebook.display.options``)."""

    group_by: str = "table"  # how plans group their operations: "table" or "kind"
    open_limit: int = 5  # snapshots with at most this many tables render expanded
    text_table_limit: int = 50  # tables listed in a snapshot's text/plain before "… N more"
    bucket_size: int = 100  # a schema with more tables shows them in collapsed runs of this many
    max_tables: int = 5000  # HTML shows at most this many tables (≈1 kB each); to_frame() has them all


options = Options()

SEVERITY_GLYPHS = {"INFO": "\u25cf", "WARN": "\u25b2", "CRITICAL": "\u2716"}  # ● ▲ ✖
CHANGE_GLYPHS = {"added": "+", "changed": "~", "removed": "\u2212"}  # + ~ −
_CHANGE_OF_VERB = {"create": "added", "add": "added", "drop": "removed", "remove": "removed"}
_STATUS_CHANGE = {"applied": "added", "pending": "changed", "partial": "changed", "failed": "removed",
                  "rolled_back": "removed", "rolling_back": "changed", "repaired": "changed",
                  "unreachable": "removed"}
_STATUS_CHANGE.update({"changed": "changed", "missing": "removed"})
_STATUS_GLYPHS = {"applied": "\u2713", "pending": "\u2026", "partial": "\u25d0", "running": "\u25d4",
                  "failed": "\u2717", "rolled_back": "\u21a9", "rolling_back": "\u25d1",
                  "repaired": "\u2692", "unreachable": "\u26a0"}  # ✓ … ◐ ◔ ✗ ↩ ◑ ⚒ ⚠

# -------------------------------------------------------------------------------------------------- ids


_ids: dict[str, Any] = {"fixed": False, "counter": 0}


def use_fixed_ids(enabled: bool = True) -> None:
    """Number render ids ``dbw-0001``, ``dbw-0002``… from now on (restarting at 1), or go back to random."""
    _ids["fixed"], _ids["counter"] = enabled, 0


@contextmanager
def fixed_ids() -> Iterator[None]:
    """Deterministic render ids inside the block, counting from ``dbw-0001``; the previous mode after it."""
    saved = dict(_ids)
    use_fixed_ids(True)
    try:
        yield
    finally:
        _ids.update(saved)


def _new_id() -> str:
    if _ids["fixed"] or os.environ.get("DBWARDEN_NB_FIXED_IDS", "") not in ("", "0"):
        _ids["counter"] += 1
        return f"dbw-{_ids['counter']:04d}"
    return f"dbw-{secrets.token_hex(5)}"


# -------------------------------------------------------------------------------------------------- css


_PLACEHOLDER = "#__dbw_id__"


@lru_cache(maxsize=1)
def _css_template() -> str:
    """theme.css with every selector prefixed by a placeholder id, minified; compiled once per process."""
    source = resources.files(__package__).joinpath("theme.css").read_text(encoding="utf-8")
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    rules = []
    for block in source.split("}"):
        if "{" not in block:
            continue
        selectors, body = block.split("{", 1)
        scoped = []
        for selector in selectors.split(","):
            selector = " ".join(selector.split())
            scoped.append(_PLACEHOLDER + selector[5:] if selector.startswith(":host") else f"{_PLACEHOLDER} {selector}")
        declarations = ";".join(" ".join(d.split()) for d in body.split(";") if d.strip())
        rules.append(f"{','.join(scoped)}{{{declarations}}}")
    return "".join(rules)


def _css(render_id: str) -> str:
    return _css_template().replace(_PLACEHOLDER, "#" + render_id)


# ---------------------------------------------------------------------------------------------- helpers


def _e(value: Any) -> str:
    """Every value that reaches HTML goes through here."""
    return html.escape(str(value), quote=True)


def _badge(text: str, cls: str, title: str | None = None) -> str:
    tip = f' title="{_e(title)}"' if title else ""
    return f'<span class="dbw-badge {cls}"{tip}>{_e(text)}</span>'


def _severity(level: str) -> str:
    level = level if level in SEVERITY_GLYPHS else "INFO"
    return _badge(f"{SEVERITY_GLYPHS[level]} {level}", f"dbw-sev-{level}", f"severity {level}")


def change_of(op: Operation) -> str:
    """``added``, ``changed`` or ``removed``: how an operation shows in a diff."""
    return _CHANGE_OF_VERB.get(op.kind.split("_", 1)[0], "changed")


def _status(status: str) -> str:
    change = _STATUS_CHANGE.get(status, "changed")
    return _badge(f"{_STATUS_GLYPHS.get(status, '?')} {status}", f"dbw-chg-{change}")


def _grid(headers: Sequence[str], rows: Iterable[str], caption: str | None = None, cls: str = "") -> str:
    """A table; ``rows`` are finished ``<tr>`` strings (their cells already escaped)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f'<table class="dbw-grid {cls}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _kv(pairs: Iterable[tuple[str, str]], cls: str = "", mono: bool = False) -> str:
    """A two-column key/value table (no header row); empty values are left out."""
    td = '<td class="dbw-mono">' if mono else "<td>"
    rows = "".join(f'<tr><th scope="row">{_e(k)}</th>{td}{_e(v)}</td></tr>' for k, v in pairs if v)
    return f'<table class="dbw-grid dbw-kv {cls}"><tbody>{rows}</tbody></table>'


def _tr(cells: Iterable[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _group_row(label: str, meta: str, span: int, badge: str = "") -> str:
    return (f'<tr><th class="dbw-group" colspan="{span}" scope="rowgroup"><span class="dbw-name">{_e(label)}</span>'
            f'<span class="dbw-meta">{_e(meta)}</span>{" " + badge if badge else ""}</th></tr>')


def _pre(text: str) -> str:
    return f'<pre class="dbw-sql">{_e(text)}</pre>'


def _sql(text: str) -> str:
    """SQL in a ``<pre>``, its tokens highlighted (escaped like any text: highlight.py)."""
    return f'<pre class="dbw-sql">{highlight_sql(text)}</pre>'


def _section(summary: str, body: str, open_: bool = True) -> str:
    return f'<details class="dbw-s"{" open" if open_ else ""}><summary>{_e(summary)}</summary>{body}</details>'


def _note(text: str, level: str | None = None) -> str:
    cls = f" dbw-sev-{level}" if level else ""
    glyph = f"{SEVERITY_GLYPHS[level]} " if level else ""
    return f'<div class="dbw-note{cls}">{_e(glyph + text)}</div>'


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _md(value: Any) -> str:
    """Text for a Markdown table cell: Markdown punctuation backslash-escaped, HTML escaped, one line."""
    text = " ".join(str(value).split())
    return html.escape(re.sub(r"([\\`*_\[\]|~#])", r"\\\1", text), quote=True)


def _fence(text: str, info: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _short(checksum: str | None) -> str:
    return "" if not checksum else checksum[:19] + "\u2026"


# --------------------------------------------------------------------------------------------- dispatch


@dataclass(frozen=True)
class Rendered:
    kind: str  # wrapper class suffix: dbw-<kind>
    text: str
    html: str  # the body, without wrapper and style
    markdown: str | None = None


Renderer = Callable[[Any], Rendered]
_RENDERERS: dict[type, Renderer] = {}
_FRAMES: dict[type, Callable[..., tuple[list[tuple[Any, ...]], list[str]]]] = {}


def _renders(cls: type) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        _RENDERERS[cls] = fn
        return fn
    return register


def _frames(cls: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _FRAMES[cls] = fn
        return fn
    return register


def _lookup(table: Mapping[type, Any], obj: Any) -> Any:
    for cls in type(obj).__mro__:
        if cls in table:
            return table[cls]
    raise TypeError(f"dbwarden_nb.notebook.display: no renderer for {type(obj).__name__}")


def render(obj: Any) -> Rendered:
    return _lookup(_RENDERERS, obj)(obj)


def _wrap(r: Rendered) -> str:
    render_id = _new_id()
    return (f'<div class="dbw dbw-{r.kind}" id="{render_id}"><style>{_css(render_id)}</style>'
            f"{r.html}</div>")


def render_html(obj: Any) -> str:
    """The ``text/html`` of an engine object: a scoped, escaped, script-free fragment."""
    return _wrap(render(obj))


def mimebundle(obj: Any) -> dict[str, str]:
    """``text/plain`` + ``text/html`` (+ ``text/markdown`` where useful) for any engine object."""
    r = render(obj)
    bundle = {"text/plain": r.text, "text/html": _wrap(r)}
    if r.markdown is not None:
        bundle["text/markdown"] = r.markdown
    return bundle


def to_frame(obj: Any, **kw: Any) -> Any:
    """A pandas DataFrame of a tabular engine object (pandas is imported here, never by the engine)."""
    import pandas as pd

    rows, columns = _lookup(_FRAMES, obj)(obj, **kw)
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------- schemas


def _column_extras(c: Column) -> str:
    if c.identity is not None:
        return f"GENERATED {'ALWAYS' if c.identity.always else 'BY DEFAULT'} AS IDENTITY"
    if c.computed is not None:
        return f"GENERATED ({c.computed.expression}){' STORED' if c.computed.stored else ''}"
    return "" if c.default is None else c.default


def _type_label(c: Column) -> str:
    text = c.type + (f" COLLATE {c.collation}" if c.collation else "")
    if c.options:
        text += " " + " ".join(f"{k}={v}" for k, v in sorted(c.options.items()))
    return text


def _keys(t: Table) -> dict[str, list[str]]:
    marks: dict[str, list[str]] = {}
    for name in t.primary_key.columns if t.primary_key else ():
        marks.setdefault(name, []).append("PK")
    for fk in t.foreign_keys:
        for name in fk.columns:
            if "FK" not in marks.setdefault(name, []):
                marks[name].append("FK")
    for u in t.uniques:
        for name in u.columns:
            if "UQ" not in marks.setdefault(name, []):
                marks[name].append("UQ")
    return marks


def _options_text(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items()))


_COLUMN_HEADERS = ("column", "type", "null", "default", "key", "comment")


def _table_body(t: Table) -> str:
    """The columns grid (only the headers some column fills), then the constraints as a compact list.

    Markup is kept lean on purpose: a 2,000-table snapshot repeats this 2,000 times.
    """
    keys = _keys(t)
    cells = [(c.name, _type_label(c), "" if c.nullable else "NOT NULL", _column_extras(c),
              " ".join(keys.get(c.name, ())), c.comment or "") for c in t.columns]
    shown = [i for i in range(6) if i < 2 or any(row[i] for row in cells)]
    head = "".join(f"<th>{_COLUMN_HEADERS[i]}</th>" for i in shown)
    rows = "".join("<tr>" + "".join(f"<td>{_e(row[i])}</td>" for i in shown) + "</tr>" for row in cells)
    parts = [f'<table class="dbw-grid"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>']
    cons = constraints(t)
    if cons:
        items = "".join(f"<li><i>{k}</i> {_e(n + ' ' if n else '')}{_e(d)}</li>" for k, n, d in cons)
        parts.append(f'<ul class="dbw-cons">{items}</ul>')
    if t.options:
        parts.append(f'<div class="dbw-muted">options: {_e(_options_text(t.options))}</div>')
    return "".join(parts)


def _table_summary(t: Table) -> str:
    meta = [_plural(len(t.columns), "column")]
    if t.foreign_keys:
        meta.append(_plural(len(t.foreign_keys), "foreign key"))
    if t.indexes:
        meta.append(_plural(len(t.indexes), "index", "indexes"))
    text = " · ".join(meta) + (f" \u2014 {t.comment}" if t.comment else "")
    return f"<b>{_e(t.key)}</b> <small>{_e(text)}</small>"


def _table_details(t: Table, open_: bool) -> str:
    return f'<details{" open" if open_ else ""}><summary>{_table_summary(t)}</summary>{_table_body(t)}</details>'


def _view_details(v: View, open_: bool) -> str:
    meta = "materialized view" if v.materialized else "view"
    meta += f" \u2014 {v.comment}" if v.comment else ""
    opts = f'<div class="dbw-muted">options: {_e(_options_text(v.options))}</div>' if v.options else ""
    return (f'<details{" open" if open_ else ""}><summary><b>{_e(v.key)}</b> <small>{_e(meta)}</small></summary>'
            f"{_sql(v.definition)}{opts}</details>")


def _bucketed(items: list[tuple[str, str]], open_: bool) -> str:
    """Entries ``(key, html)``; past twice ``options.bucket_size`` they go into collapsed runs of that many."""
    size = options.bucket_size
    if len(items) <= 2 * size:
        return "".join(h for _, h in items)
    return "".join(
        _section(f"{chunk[0][0]} \u2026 {chunk[-1][0]} ({len(chunk)})", "".join(h for _, h in chunk), open_)
        for chunk in (items[i : i + size] for i in range(0, len(items), size))
    )


@_renders(Snapshot)
def _snapshot(s: Snapshot) -> Rendered:
    n = len(s.tables) + len(s.views)
    open_ = n <= options.open_limit
    checksum = s.checksum  # not cached by the engine: computed once here
    head = (f'<div class="dbw-head"><b>{_e(s.backend)} snapshot</b><span class="dbw-meta">{_e(counts(s))}'
            f'{" · server " + _e(s.server_version) if s.server_version else ""} · '
            f'<code title="{_e(checksum)}">{_e(_short(checksum))}</code></span></div>')
    groups: dict[str | None, list[tuple[str, str]]] = {}
    tables = list(s.tables.values())
    for t in tables[: options.max_tables]:
        groups.setdefault(t.schema, []).append((t.key, _table_details(t, open_)))
    for v in s.views.values():
        groups.setdefault(v.schema, []).append((v.key, _view_details(v, open_)))
    if len(groups) > 1:  # several schemas: one collapsible section each
        body = "".join(_section(f"schema {name or '(default)'} ({len(items)})", _bucketed(items, open_), open_)
                       for name, items in sorted(groups.items(), key=lambda kv: kv[0] or ""))
    else:
        body = _bucketed(next(iter(groups.values()), []), open_)
    extras = []
    if s.enums:
        extras.append(_grid(("enum", "values"), (_tr((_e(k), _e(", ".join(v)))) for k, v in s.enums.items())))
    for label, items in (("sequence", s.sequences), ("domain", s.domains)):
        if items:
            extras.append(_grid((label, "options"), (_tr((_e(k), _e(_options_text(v)))) for k, v in items.items())))
    if s.objects:
        extras.append(_grid(("object", "definition"), (_tr((_e(k), _definition(o))) for k, o in s.objects.items())))
    if s.unmanaged:  # never silent: what the snapshot does not carry, kind by kind, the names folded
        extras.append(_note(s.unmanaged_line(), "WARN") + _section(
            "not managed", _grid(("kind", "names"), (_tr((_e(k), _e(", ".join(v)))) for k, v in s.unmanaged.items())),
            False))
    if not n:
        body = '<div class="dbw-empty dbw-muted">no tables</div>'
    if len(tables) > options.max_tables:
        body += _note(f"{len(tables) - options.max_tables} more table(s) not shown (display options.max_tables); "
                      "snapshot.to_frame() lists them all", "WARN")
    lines = snapshot_lines(s, options.text_table_limit, " (snapshot.to_text() lists them all)")
    return Rendered("snapshot", "\n".join(lines), head + body + "".join(extras))


@_renders(Table)
def _table(t: Table) -> Rendered:
    text = "table " + "\n".join(table_lines(t)).lstrip()
    return Rendered("table", text, _table_details(t, True))


@_renders(View)
def _view(v: View) -> Rendered:
    text = f"{'materialized view' if v.materialized else 'view'} {v.key}\n{v.definition}"
    return Rendered("view", text, _view_details(v, True))


@_frames(Snapshot)
def _snapshot_frame(s: Snapshot, by: str = "column") -> tuple[list[tuple[Any, ...]], list[str]]:
    if by == "table":
        cols = ["table", "schema", "name", "kind", "columns", "primary_key", "foreign_keys", "indexes", "comment"]
        rows: list[tuple[Any, ...]] = [
            (t.key, t.schema, t.name, "table", len(t.columns),
             ", ".join(t.primary_key.columns) if t.primary_key else None, len(t.foreign_keys), len(t.indexes),
             t.comment)
            for t in s.tables.values()
        ]
        rows += [(v.key, v.schema, v.name, "materialized view" if v.materialized else "view", None, None, 0, 0,
                  v.comment) for v in s.views.values()]
        return rows, cols
    if by != "column":
        raise ValueError(f"to_frame(by={by!r}): use 'column' or 'table'")
    rows = [row for t in s.tables.values() for row in _column_rows(t)]
    return rows, _COLUMN_FRAME


_COLUMN_FRAME = ["table", "column", "position", "type", "nullable", "default", "primary_key", "foreign_key",
                 "identity", "computed", "collation", "comment"]


def _column_rows(t: Table) -> list[tuple[Any, ...]]:
    pk = set(t.primary_key.columns) if t.primary_key else set()
    refs = {c: f"{fk.ref_table}.{rc}" for fk in t.foreign_keys for c, rc in zip(fk.columns, fk.ref_columns)}
    return [(t.key, c.name, i, c.type, c.nullable, c.default, c.name in pk, refs.get(c.name),
             c.identity is not None, c.computed.expression if c.computed else None, c.collation, c.comment)
            for i, c in enumerate(t.columns, 1)]


@_frames(Table)
def _table_frame(t: Table) -> tuple[list[tuple[Any, ...]], list[str]]:
    return _column_rows(t), _COLUMN_FRAME


# ----------------------------------------------------------------------------------------------- plans


def _op_risk(op: Operation) -> str:
    bits = [op.risk] if op.risk else []
    if op.irreversible:
        bits.append(f"irreversible: {op.irreversible}")
    return "; ".join(bits)


def _definition_diff(old: SchemaObject, new: SchemaObject) -> str:
    """A changed definition, line by line (folded): what a function body, trigger or policy was and becomes."""
    import difflib

    def lines(o: SchemaObject) -> list[str]:  # a mapping option (a text-search configuration's) one line a key
        return o.definition.split("\n") + [f"-- {k} {kk}: {vv}" if isinstance(v, dict) else f"-- {k}: {v}"
                                           for k, v in sorted(o.options.items())
                                           for kk, vv in (v.items() if isinstance(v, dict) else [(None, v)])]

    diff = list(difflib.unified_diff(lines(old), lines(new), "before", "after", lineterm="", n=2))[2:]
    body = "\n".join(f'<span class="dbw-{"add" if d[:1] == "+" else "del" if d[:1] == "-" else "ctx"}">{_e(d)}</span>'
                     for d in diff)
    return f'<details class="dbw-s"><summary>definition</summary><pre class="dbw-ddiff">{body}</pre></details>'


def _definition(o: SchemaObject) -> str:
    """A definition, its first line shown and the rest folded when it has several (a text-search configuration's
    mappings follow it, one a line)."""
    text = o.definition + "".join(f"\nMAPPING FOR {token} WITH {dicts}"
                                  for token, dicts in (o.options.get("mappings") or {}).items())
    first, _, rest = text.partition("\n")
    if not rest:
        return _e(first)
    return f'<details class="dbw-s"><summary class="dbw-mono">{_e(first)} …</summary><pre>{_e(text)}</pre></details>'


def _plan_table(plan: Plan, group_by: str | None = None) -> str:
    by_kind = (group_by or options.group_by) == "kind"
    groups: dict[str, list[Operation]] = {}
    for op in plan:  # first appearance orders the groups; each keeps the plan's order
        groups.setdefault(op.kind.replace("_", " ") if by_kind else op.table, []).append(op)
    rows = []
    for label, ops in groups.items():
        rows.append(_group_row(label, _plural(len(ops), "operation"), 4))
        for op in ops:
            change = change_of(op)
            badge = _badge(f"{CHANGE_GLYPHS[change]} {op.kind.replace('_', ' ')}", f"dbw-chg-{change}", change)
            what = _e(op.describe()) + (_definition_diff(op.old, op.new) if isinstance(op, ReplaceObject) else "")
            rows.append(_tr((badge, what, _severity(op.severity), _e(_op_risk(op))), f"dbw-row-{change}"))
    table = _grid(("change", "operation", "severity", "risk"), rows, cls="dbw-plan")
    hints = "".join(_note(f"? {hint}") for hint in plan.suggestions)
    return table + hints


def _plan_markdown(plan: Plan) -> str:
    lines = ["| change | table | operation | severity | risk |", "|---|---|---|---|---|"]
    for op in plan:
        change = change_of(op)
        lines.append(f"| {_md(CHANGE_GLYPHS[change] + ' ' + change)} | {_md(op.table)} | {_md(op.describe())} | "
                     f"{_md(SEVERITY_GLYPHS[op.severity] + ' ' + op.severity)} | {_md(_op_risk(op))} |")
    lines += [f"\n\\? {_md(hint)}" for hint in plan.suggestions]
    return "\n".join(lines)


def _plan_head(plan: Plan) -> str:
    if plan.is_empty:
        return "no operations"
    return f"{_plural(len(plan), 'operation')}, severity {plan.severity}"


@_renders(Plan)
def _plan(plan: Plan) -> Rendered:
    text = "\n".join([f"plan: {_plan_head(plan)}"] + plan_lines(plan))
    head = f'<div class="dbw-head"><b>plan</b><span class="dbw-meta">{_e(_plan_head(plan))}</span>'
    head += f" {_severity(plan.severity)}</div>" if plan else "</div>"
    body = _plan_table(plan) if plan else "".join(_note(f"? {h}") for h in plan.suggestions)
    md = f"**plan**: {_md(_plan_head(plan))}\n\n" + (_plan_markdown(plan) if plan else "")
    return Rendered("plan", text, head + body, md)


_PLAN_FRAME = ["position", "change", "kind", "table", "severity", "description", "risk", "irreversible"]


def _plan_rows(plan: Plan, *prefix: Any) -> list[tuple[Any, ...]]:
    return [(*prefix, i, change_of(op), op.kind, op.table, op.severity, op.describe(), op.risk or None, op.irreversible)
            for i, op in enumerate(plan, 1)]


@_frames(Plan)
def _plan_frame(plan: Plan) -> tuple[list[tuple[Any, ...]], list[str]]:
    return _plan_rows(plan), _PLAN_FRAME


# ----------------------------------------------------------------------------------------------- files


def _statements_text(statements: Sequence[Statement]) -> str:
    lines = []
    for s in statements:
        lines += [] if s.transactional else ["-- dbwarden: no-transaction"]
        lines += [] if s.irreversible is None else [f"-- dbwarden: irreversible {s.irreversible}"]
        lines.append(s.sql + ";")
    return "\n".join(lines) if lines else "-- (no statements)"


def _file_sections(f: MigrationFile) -> list[tuple[str, Sequence[Statement]]]:
    sections: list[tuple[str, Sequence[Statement]]] = [("upgrade", f.upgrade), ("rollback", f.rollback)]
    if f.dev_backend is not None:
        sections += [(f"dev-upgrade: {f.dev_backend}", f.dev_upgrade or ()),
                     (f"dev-rollback: {f.dev_backend}", f.dev_rollback or ())]
    return sections


def _file_body(f: MigrationFile) -> str:
    parts = [_section(f"{name} ({_plural(len(stmts), 'statement')})", _sql(_statements_text(stmts)),
                      open_=not name.startswith("dev-"))
             for name, stmts in _file_sections(f)]
    parts += [_note(f"irreversible rollback: {why}", "CRITICAL") for why in f.irreversible]
    return "".join(parts)


def _file_text(f: MigrationFile) -> str:
    lines = [f"migration {f.version:04d}: {f.description} [{f.severity}]"]
    for name, stmts in _file_sections(f):
        lines += [f"-- {name}", _statements_text(stmts)]
    return "\n".join(lines)


@_renders(MigrationFile)
def _migration_file(f: MigrationFile) -> Rendered:
    head = (f'<div class="dbw-head"><b>migration {f.version:04d}</b>: {_e(f.description)} '
            f"{_severity(f.severity)}</div>")
    meta = [("file", f.filename), ("backend", f.backend or ""), ("base", _short(f.base)),
            ("target", _short(f.target) or "(manual migration)"), ("checksum", _short(f.checksum))]
    grid = _kv(meta, mono=True)
    md = [f"**migration {f.version:04d}**: {_md(f.description)} ({_md(f.severity)})"]
    md += [f"\n{_md(name)}\n\n{_fence(_statements_text(stmts), 'sql')}" for name, stmts in _file_sections(f)]
    return Rendered("migration", _file_text(f), head + grid + _file_body(f), "\n".join(md))


# --------------------------------------------------------------------------------------------- reports


def _head(database: str, text: str, badge: str = "") -> str:
    return f'<div class="dbw-head"><b>{_e(database)}</b><span class="dbw-meta">{_e(text)}</span> {badge}</div>'


def _sql_section(statements: Sequence[str]) -> str:
    if not statements:
        return ""
    sql = "\n".join(s + ";" for s in statements)
    return _section(f"SQL ({_plural(len(statements), 'statement')})", _sql(sql))


@_renders(DiffReport)
def _diff(r: DiffReport) -> Rendered:
    if r.out in _DIFF_FORMS:
        return _DIFF_FORMS[r.out](r)
    plan = r.plan
    if r.empty:
        head = _head(r.database, f"no differences between {r.target} and {r.source}")
        body = "".join(_note(f"? {h}") for h in plan.suggestions)
        md = f"**{_md(r.database)}**: no differences between {_md(r.target)} and {_md(r.source)}"
    else:
        what = f"{_plural(len(plan), 'difference')}, {r.target} vs {r.source}"
        head = _head(r.database, what, _severity(plan.severity))
        body = _plan_table(plan) + _sql_section(r.statements)
        md = f"**{_md(r.database)}**: {_md(what)}, severity {_md(plan.severity)}\n\n{_plan_markdown(plan)}"
        if r.statements:
            md += "\n\n" + _fence("\n".join(s + ";" for s in r.statements), "sql")
    return Rendered("diff", mask_text(r.to_text()), head + body, md)


def _diff_sql(r: DiffReport) -> Rendered:
    """``diff --out sql``: the statements alone, highlighted."""
    what = f"SQL of {_plural(len(r.plan), 'difference')}, {r.target} vs {r.source}" if r.statements \
        else f"no differences between {r.target} and {r.source}"
    text = r.to_text()
    return Rendered("diff-sql", text, _head(r.database, what) + _sql(text), _fence(text, "sql"))


def _diff_json(r: DiffReport) -> Rendered:
    """``diff --out json``: the JSON document (``%dbwarden`` returns it as a dict)."""
    text = r.to_text()
    return Rendered("diff-json", text, _head(r.database, "diff as JSON") + _pre(text), _fence(text, "json"))


_DIFF_FORMS: dict[str, Renderer] = {"sql": _diff_sql, "json": _diff_json}


@_frames(DiffReport)
def _diff_frame(r: DiffReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    return _plan_rows(r.plan, r.database), ["database"] + _PLAN_FRAME


@_renders(MakeMigrationsReport)
def _make_migrations(r: MakeMigrationsReport) -> Rendered:
    plan = r.plan
    if plan.is_empty or r.file is None:
        head = _head(r.database, "no changes; nothing written")
        body = "".join(_note(f"? {h}") for h in plan.suggestions)
        return Rendered("make-migrations", mask_text(r.to_text()), head + body)
    f = r.file
    what = ("dry run, nothing written: " if r.dry_run else f"wrote {r.path}: ") + \
        f"migration {f.version:04d} {f.description} ({_plural(len(plan), 'operation')})"
    head = _head(r.database, what, _severity(f.severity))
    try:
        text = r.to_text()
    except ValueError:  # a file that cannot be rendered still displays
        text = f"{r.database}: {what}\n" + _file_text(f)
    md = f"**{_md(r.database)}**: {_md(what)}\n\n{_plan_markdown(plan)}\n\n" + \
        _fence(_statements_text(f.upgrade), "sql")
    warnings = "".join(_note(line.strip(), "WARN") for line in translation_warnings(r.translation))
    return Rendered("make-migrations", mask_text(text), head + _plan_table(plan) + warnings + _file_body(f), md)


@_frames(MakeMigrationsReport)
def _make_migrations_frame(r: MakeMigrationsReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    return _plan_rows(r.plan, r.database), ["database"] + _PLAN_FRAME


def _status_text(r: StatusReport) -> str:
    lines = [f"{r.database} ({r.backend})"]
    latest = r.applied[-1] if r.applied else None
    lines.append(f"  applied: {len(r.applied)}"
                 + (f", latest {latest.version:04d} {latest.description}" if latest else ""))
    lines.append(f"  pending: {len(r.pending)}")
    lines += [f"    {f.version:04d} {f.description} [{f.severity}]" for f in r.pending]
    lines += [f"  {row.status}: {row.version:04d} {row.description} ({row.statements_completed} statement(s) ran)"
              for row in r.partial]
    lines += [f"  error: {p}" for p in r.problems]
    return mask_text("\n".join(lines))


@_renders(StatusReport)
def _status_report(r: StatusReport) -> Rendered:
    latest = r.applied[-1] if r.applied else None
    summary = f"{r.backend} · {len(r.applied)} applied · {len(r.pending)} pending"
    head = (f'<div class="dbw-head"><b>{_e(r.database)}</b><span class="dbw-meta">{_e(summary)}</span>'
            f'<div class="dbw-muted"><code>{_e(mask_url(r.url))}</code></div></div>')
    parts = [head]
    parts += [_note(f"error: {mask_text(p)}", "CRITICAL") for p in r.problems]
    rows = []
    if latest is not None:
        rows.append(_tr((_status("applied"), f"{latest.version:04d}", _e(latest.description), "latest applied")))
    rows += [_tr((_status(row.status), f"{row.version:04d}", _e(row.description),
                  _e(f"{row.statements_completed} statement(s) ran"))) for row in r.partial]
    rows += [_tr((_status("pending"), f"{f.version:04d}", _e(f.description), _severity(f.severity))) for f in r.pending]
    if rows:
        parts.append(_grid(("state", "version", "description", ""), rows, cls="dbw-status"))
    else:
        parts.append('<div class="dbw-empty dbw-muted">no migrations</div>')
    return Rendered("status", _status_text(r), "".join(parts))


@_renders(EnvironmentStatusReport)
def _environment_status(r: EnvironmentStatusReport) -> Rendered:
    summary = f"{r.backend} · {_plural(len(r.migrations), 'migration')} · {_plural(len(r.columns), 'environment')}"
    head = (f'<div class="dbw-head"><b>{_e(r.database)}</b><span class="dbw-meta">{_e(summary)}</span>'
            '<div class="dbw-muted">where each migration is applied; <code>default</code> is database_url</div></div>')
    headers = ("version", "description", *(c.name for c in r.columns))
    rows = [_tr((f"{v:04d}", _e(d), *(_status(c.cell(v)) for c in r.columns))) for v, d in r.migrations]
    urls = _tr(("", "URL", *(f"<code>{_e(mask_url(c.url))}</code>" for c in r.columns)), "dbw-muted")
    parts = [head, _grid(headers, [urls, *rows], cls="dbw-status dbw-environments")]
    parts += [_note(mask_text(n), "CRITICAL") for n in r.notes()]
    return Rendered("status", mask_text(r.to_text(reasons=False)), "".join(parts))


@_renders(SeedStatusReport)
def _seed_status(r: SeedStatusReport) -> Rendered:
    head = (f'<div class="dbw-head"><b>{_e(r.database)}</b><span class="dbw-meta">{_e(_plural(len(r.lines), "seed"))}'
            f'</span><div class="dbw-muted"><code>{_e(r.folder)}</code></div></div>')
    rows = [_tr((f"{s.version:04d}", _e(s.filename), _status(s.state.partition(" ")[0]), _e(s.state.partition(" ")[2])))
            for s in r.lines]
    body = _grid(("version", "file", "state", ""), rows, cls="dbw-status") if rows else \
        '<div class="dbw-empty dbw-muted">no seeds</div>'
    return Rendered("status", mask_text(r.to_text()), head + body + "".join(_note(f"error: {p}", "CRITICAL")
                                                                           for p in r.problems))


@_frames(EnvironmentStatusReport)
def _environment_status_frame(r: EnvironmentStatusReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    rows = [(r.database, v, d, *(c.cell(v) for c in r.columns)) for v, d in r.migrations]
    return rows, ["database", "version", "description", *(c.name for c in r.columns)]


@_frames(StatusReport)
def _status_frame(r: StatusReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    rows: list[tuple[Any, ...]] = [(r.database, row.version, row.description, row.status, None, row.checksum)
                                   for row in r.applied]
    rows += [(r.database, row.version, row.description, row.status, None, row.checksum) for row in r.partial]
    rows += [(r.database, f.version, f.description, "pending", f.severity, f.checksum) for f in r.pending]
    return rows, ["database", "version", "description", "state", "severity", "checksum"]


@_renders(HistoryReport)
def _history(r: HistoryReport) -> Rendered:
    if not r.rows and not r.events:
        return Rendered("history", f"{r.database}: no migrations applied",
                        _head(r.database, "no migrations applied"))
    trail = r.trail
    lines = [f"{r.database}: {len(r.rows)} migration(s)"]
    width = max(8, *(len(row.status) for row in trail))
    lines += [f"  {row.version:04d} {row.status:<{width}} {_short(row.checksum)}  {row.description}" for row in trail]
    rows = [
        f"<tr><td>{row.version:04d}</td><td>{_status(row.status)}</td><td>{_e(row.description)}</td>"
        f'<td class="dbw-mono" title="{_e(row.checksum)}">{_e(_short(row.checksum))}</td>'
        f'<td>{_e(row.applied_at)}</td><td class="dbw-n">{_e(row.duration_ms)} ms</td></tr>'
        for row in trail
    ]
    body = timeline_svg(r.rows) + _grid(("version", "status", "description", "checksum", "applied at", "duration"),
                                         rows, cls="dbw-history")
    return Rendered("history", "\n".join(lines), _head(r.database, _plural(len(r.rows), "migration")) + body)


@_frames(HistoryReport)
def _history_frame(r: HistoryReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    cols = ["version", "description", "filename", "checksum", "status", "statements_completed", "applied_at",
            "duration_ms", "target"]
    return [(r.database, *(getattr(row, c) for c in cols)) for row in r.rows], ["database"] + cols


_HISTORY_INSERT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


def _stable_script(script: str) -> str:
    """``migrate --sql`` output without the clock: history rows' timestamps become ``<applied_at>``."""
    return "\n".join(_HISTORY_INSERT.sub("<applied_at>", line) if "dbwarden_migrations" in line or "dbwarden_log" in line else line
                     for line in script.split("\n"))


@_renders(RunReport)
def _run(r: RunReport) -> Rendered:
    text = mask_text(r.to_text())
    res = r.result
    verb = "migrate" if res.direction == "upgrade" else "rollback"
    if r.script is not None:
        html_ = _head(r.database, f"{verb} script (nothing ran)") + _sql(_stable_script(r.script))
        return Rendered("run", _stable_script(text), html_, _fence(_stable_script(r.script), "sql"))
    if res.dry_run:
        would = "apply" if res.direction == "upgrade" else "roll back"
        head = _head(r.database, f"{verb} (dry run) would {would} {_plural(len(res.planned), 'migration')}"
                     if res.planned else f"{verb} (dry run): nothing to do")
        rows = [_tr((f"{f.version:04d}", _e(f.description), _severity(f.severity)
                     + (_e(f" resumes at statement {res.resumes[f.version][0] + 1}") if f.version in res.resumes else "")))
                for f in res.planned]
        body = _grid(("version", "description", "severity"), rows, cls="dbw-run") if rows else ""
        return Rendered("run", text, head + body)
    done = "applied" if res.direction == "upgrade" else "rolled back"
    head = _head(r.database, f"{done} {_plural(len(res.applied), 'migration')}" if res.applied
                 else f"up to date; nothing to {verb}")
    change = "added" if res.direction == "upgrade" else "removed"
    rows = [
        f"<tr><td>{a.version:04d}</td><td>{_badge(CHANGE_GLYPHS[change] + ' ' + done, 'dbw-chg-' + change)}</td>"
        f'<td>{_e(a.description)}</td><td class="dbw-n">{a.statements}</td>'
        f'<td class="dbw-n">{a.duration_ms} ms</td></tr>'
        for a in res.applied
    ]
    body = _grid(("version", "", "description", "statements", "duration"), rows, cls="dbw-run") if rows else ""
    body += "".join(_note(f"warning: {mask_text(d)}", "WARN") for d in r.drift)
    body += "".join(_note(f"error: {mask_text(h)}", "CRITICAL") for h in r.hook_errors)
    return Rendered("run", text, head + body)


@_frames(RunReport)
def _run_frame(r: RunReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    res = r.result
    cols = ["database", "version", "description", "direction", "state", "statements", "duration_ms"]
    if res.dry_run or r.script is not None:
        return [(r.database, f.version, f.description, res.direction, "planned", len(f.upgrade), None)
                for f in res.planned], cols
    return [(r.database, a.version, a.description, a.direction, "done", a.statements, a.duration_ms)
            for a in res.applied], cols


@_renders(CheckReport)
def _check(r: CheckReport) -> Rendered:
    if not r.findings:
        return Rendered("check", r.to_text(), _head(r.database, "no pending migrations to check"))
    worst = max((f.severity for f in r.findings), key=list(SEVERITY_GLYPHS).index)
    head = _head(r.database, f"{_plural(len(r.findings), 'pending migration')}", _severity(worst))
    rows = []
    for f in r.findings:
        rows.append(_group_row(f"{f.version:04d} {f.description}", "", 2, _severity(f.severity)))
        rows += [_tr((_severity(level), _e(text))) for level, text in f.risks] or \
            [_tr(("", '<span class="dbw-muted">no risks found</span>'))]
    return Rendered("check", r.to_text(), head + _grid(("severity", "risk"), rows, cls="dbw-check"))


@_frames(CheckReport)
def _check_frame(r: CheckReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    rows = [(r.database, f.version, f.description, f.severity, level, text)
            for f in r.findings for level, text in (f.risks or ((None, None),))]
    return rows, ["database", "version", "description", "severity", "risk_severity", "risk"]


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@_renders(LockReport)
def _lock(r: LockReport) -> Rendered:
    s = r.status
    state = "held" + (" (stale)" if s.stale else "") if s.held else "free"
    if r.released:
        text = f"{r.database}: " + ("released the migration lock" if s.held else "the migration lock was not held")
    else:
        text = f"{r.database}: migration lock: {state} ({s.kind})"
    level = "INFO" if not s.held else ("CRITICAL" if s.stale else "WARN")
    rows = [("state", state), ("kind", s.kind), ("owner", s.owner or ""), ("acquired", _when(s.acquired_at)),
            ("expires", _when(s.expires_at))]
    grid = _kv(rows)
    what = ("released the migration lock" if s.held else "the migration lock was not held") if r.released \
        else "migration lock"
    return Rendered("lock", text, _head(r.database, what, _badge(f"{SEVERITY_GLYPHS[level]} {state}",
                                                                    f"dbw-sev-{level}")) + grid)


def _stable_text(r: TextReport) -> str:
    text = mask_text(r.text)
    config = r.data.get("config") if isinstance(r.data, dict) else None
    if isinstance(config, str) and config:
        text = text.replace(config, PurePath(config).name)  # an absolute path differs per machine
    return text


@_renders(RebaseReport)
def _rebase(r: RebaseReport) -> Rendered:
    """``rebase`` (and its ``--dry-run`` plan): each file, what it becomes and why; no URL in either form."""
    where = "the configured database"
    head = _head(r.database, r.heading(where))
    if not r.changed:
        return Rendered("rebase", r.text(where), head)
    rows = [_tr([f'<span class="dbw-mono">{_e(s.old)}</span>',
                 f'<span class="dbw-mono">{_e(s.new) if s.new != s.old else ""}</span>', _e(s.action),
                 f'<span class="dbw-mono" title="{_e(s.base or "")}">{_e(_short(s.base)) if s.replanned else ""}</span>',
                 (f'<span class="dbw-mono" title="{_e(s.target or "")}">{_e(_short(s.target)) if s.replanned else ""}'
                  "</span>")], "dbw-chg-changed" if s.replanned or s.new != s.old else "")
            for s in r.steps]
    grid = _grid(("file", "becomes", "what", "new base", "new target"), rows, cls="dbw-rebase")
    last = _note("nothing written (--dry-run)" if r.dry_run else "next: dbwarden migrate")
    return Rendered("rebase", r.text(where), head + grid + last)


@_frames(RebaseReport)
def _rebase_frame(r: RebaseReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    cols = ["old", "new", "applied", "replanned", "base", "target"]
    return [(r.database, *(getattr(s, c) for c in cols)) for s in r.steps], ["database"] + cols


@_renders(TextReport)
def _text(r: TextReport) -> Rendered:
    return Rendered("text", _stable_text(r), _pre(mask_text(r.text)))


@_renders(MultiReport)
def _multi(r: MultiReport) -> Rendered:
    parts = [render(p) for p in r.parts]
    body = "".join(f'<div class="dbw-part dbw-{p.kind}">{p.html}</div>' for p in parts)
    md = [p.markdown for p in parts]
    markdown = "\n\n---\n\n".join(m if m is not None else _fence(p.text) for m, p in zip(md, parts)) \
        if any(m is not None for m in md) else None
    return Rendered("multi", "\n".join(p.text for p in parts), body, markdown)


@_frames(MultiReport)
def _multi_frame(r: MultiReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    rows: list[tuple[Any, ...]] = []
    columns: list[str] | None = None
    for part in r.parts:
        part_rows, part_columns = _lookup(_FRAMES, part)(part)
        if columns is not None and part_columns != columns:
            raise TypeError("to_frame(): the reports of a MultiReport have different shapes")
        columns = part_columns
        rows += part_rows
    return rows, columns or ["database"]


@_renders(Report)
def _report(r: Report) -> Rendered:  # any other report: its text, escaped
    text = mask_text(r.to_text())
    return Rendered("report", text, _pre(text))


from . import display_translation  # noqa: F401  (registers the TranslationReport renderer; imports this module)
