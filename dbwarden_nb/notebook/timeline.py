"""The history of a database as a timeline: a small inline SVG, no dependency, no script.

One marker per history row, left to right in version order, on one axis: its version above, its description
below (cut to fit; the whole row is the marker's tooltip), the day it was applied under that when it changed
since the previous marker. The baseline is a square, every migration a circle, filled with the colour of its
status (applied, partial, failed) like the status badges of the tables. Colours and text come from the
display's theme variables (theme.css: ``.dbw-tl-*``), so the chart follows the notebook's theme; every string
is escaped. At most ``limit`` markers: the latest ones, the others counted at the left end.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..migrations.history import APPLIED, FAILED, PARTIAL, RUNNING, HistoryRow

__all__ = ["timeline_svg"]

STEP, LEFT, AXIS, HEIGHT, LABEL_CHARS = 96, 48, 30, 86, 14
STATUS_CLASSES = {APPLIED: "ok", PARTIAL: "warn", RUNNING: "warn", FAILED: "err"}  # any other status: "other"
BASELINE = 0


def timeline_svg(rows: Sequence[HistoryRow], limit: int = 60) -> str:
    """The SVG of ``rows`` (a database's history); empty for no rows."""
    rows = sorted(rows, key=lambda r: r.version)
    if not rows:
        return ""
    hidden, rows = rows[:-limit] if len(rows) > limit else [], rows[-limit:]
    width = 2 * LEFT + STEP * (len(rows) - 1)
    label = f"migration timeline: {len(rows) + len(hidden)} history row(s), versions {rows[0].version:04d} to {rows[-1].version:04d}"
    parts = [(f'<svg class="dbw-timeline" role="img" aria-label="{_e(label)}" width="{width}" height="{HEIGHT}" '
              f'viewBox="0 0 {width} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'),
             f'<line class="dbw-tl-axis" x1="{LEFT}" y1="{AXIS}" x2="{width - LEFT}" y2="{AXIS}"/>']
    if hidden:
        parts.append(f'<text class="dbw-tl-more" x="2" y="{AXIS + 4}">+{len(hidden)}</text>')
    day = None
    for n, row in enumerate(rows):
        x = LEFT + STEP * n
        status = STATUS_CLASSES.get(row.status, "other")
        shape = (f'<rect class="dbw-tl-{status}" x="{x - 6}" y="{AXIS - 6}" width="12" height="12"/>'
                 if row.version == BASELINE else f'<circle class="dbw-tl-{status}" cx="{x}" cy="{AXIS}" r="6"/>')
        tip = f"{row.version:04d} {row.description}: {row.status}, applied {row.applied_at} in {row.duration_ms} ms"
        text = [f'<text class="dbw-tl-version" x="{x}" y="{AXIS - 12}">{row.version:04d}</text>',
                f'<text class="dbw-tl-label" x="{x}" y="{AXIS + 22}">{_e(_cut(row.description))}</text>']
        if row.applied_at[:10] != day:
            day = row.applied_at[:10]
            text.append(f'<text class="dbw-tl-date" x="{x}" y="{AXIS + 38}">{_e(day)}</text>')
        parts.append(f"<g><title>{_e(tip)}</title>{shape}{''.join(text)}</g>")
    parts.append("</svg>")
    return "".join(parts)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "\u2026"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
