"""Display of a :class:`~dbwarden_nb.translate.TranslationReport`: one grid row per decision, grouped by table.

Registered in display.py's renderer tables (imported at its end), so ``mimebundle`` and ``to_frame`` find it.
"""

from __future__ import annotations

from typing import Any

from ..config import mask_text
from ..translate import Decision, TranslationReport
from .display import Rendered, _badge, _e, _frames, _grid, _group_row, _head, _plural, _renders, _tr

# action → (severity level of the badge, why it is shown so)
_ACTION_LEVELS = {"kept": "INFO", "converted": "INFO", "fallback": "WARN", "dropped": "CRITICAL"}
_COLUMNS = ("column", "kind", "source", "result", "action", "reason")


def _row(d: Decision) -> str:
    level = _ACTION_LEVELS.get(d.action, "INFO")
    return _tr((_e(d.column or ""), _e(d.kind), f'<code>{_e(d.source)}</code>', f'<code>{_e(d.result)}</code>',
                _badge(d.action, f"dbw-sev-{level}"), _e(d.reason)))


@_renders(TranslationReport)
def _translation(r: TranslationReport) -> Rendered:
    warnings = r.warnings
    badge = _badge(f"{_plural(len(warnings), 'warning')}", "dbw-sev-WARN" if warnings else "dbw-sev-INFO")
    head = _head(r.database, f"{r.source_backend} \u2192 sqlite: {_plural(len(r.decisions), 'decision')}", badge)
    rows: list[str] = []
    group: str | None = None
    for d in r.decisions:
        if d.table != group:
            group = d.table
            rows.append(_group_row(group or r.database, "", len(_COLUMNS)))
        rows.append(_row(d))
    body = _grid(_COLUMNS, rows, cls="dbw-translation") if rows else '<div class="dbw-empty dbw-muted">nothing to translate</div>'
    return Rendered("translation", mask_text(r.to_text()), head + body)


@_frames(TranslationReport)
def _translation_frame(r: TranslationReport) -> tuple[list[tuple[Any, ...]], list[str]]:
    columns = ["database", "table", "column", "kind", "source", "result", "action", "reason"]
    return [tuple(d.to_json()[c] for c in columns) for d in r.decisions], columns
