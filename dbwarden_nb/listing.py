"""The text listing of a snapshot: each table with its columns, keys, constraints (foreign keys with their
actions: ``ON DELETE CASCADE``, ``DEFERRABLE``…) and indexes, then views, enums, objects and what is not managed.

Deterministic (snapshot order, no ids, no clock), so the CLI prints it for ``dbwarden snapshot`` and the notebook
shows it as the ``text/plain`` of a snapshot (display.py, with a table limit) and of a table: one listing, one
spelling. Plain data to text: no IPython, no database.
"""

from __future__ import annotations

from collections.abc import Iterable

from .schema import Snapshot, Table

__all__ = ["constraints", "counts", "snapshot_lines", "table_lines"]


def constraints(t: Table) -> list[tuple[str, str, str]]:
    """``(kind, name, definition)`` of every key, constraint and index, in snapshot order."""
    found = []
    if t.primary_key:
        found.append(("primary key", t.primary_key.name or "", f"({', '.join(t.primary_key.columns)})"))
    for u in t.uniques:
        found.append(("unique", u.name or "", f"({', '.join(u.columns)})"))
    for fk in t.foreign_keys:
        text = f"({', '.join(fk.columns)}) \u2192 {fk.ref_table} ({', '.join(fk.ref_columns)})"
        for label, value in (("ON DELETE", fk.on_delete), ("ON UPDATE", fk.on_update), ("MATCH", fk.match)):
            text += f" {label} {value}" if value else ""
        text += " DEFERRABLE" if fk.deferrable else ""
        text += f" INITIALLY {fk.initially}" if fk.initially else ""
        found.append(("foreign key", fk.name or "", text))
    for ck in t.checks:
        found.append(("check", ck.name or "", f"({ck.expression})"))
    for ix in t.indexes:
        text = f"({', '.join(e.label for e in ix.elements)})" + (f" WHERE {ix.where}" if ix.where else "")
        found.append(("unique index" if ix.unique else "index", ix.name or "", text))
    return found


def table_lines(t: Table) -> list[str]:
    lines = [f"  {t.key}" + (f"  -- {t.comment}" if t.comment else "")]
    lines += [f"    {c.line()}" for c in t.columns]
    lines += [f"    {kind} {name + ' ' if name else ''}{definition}" for kind, name, definition in constraints(t)]
    return lines


def counts(s: Snapshot) -> str:
    """``2 tables, 1 view, 1 enum``: what the snapshot holds."""
    found = [_plural(len(s.tables), "table"), _plural(len(s.views), "view")]
    for label, items in (("enum", s.enums), ("sequence", s.sequences), ("domain", s.domains)):
        if items:
            found.append(_plural(len(items), label))
    return ", ".join(found)


def snapshot_lines(s: Snapshot, limit: int | None = None, more: str = "") -> list[str]:
    """The listing; past ``limit`` tables, one line saying how many more (followed by ``more``)."""
    tables: Iterable[Table] = list(s.tables.values())[:limit] if limit is not None else s.tables.values()
    lines = [f"{s.backend} snapshot: {counts(s)}"]
    for t in tables:
        lines += table_lines(t)
    if limit is not None and len(s.tables) > limit:
        lines.append(f"  \u2026 {len(s.tables) - limit} more table(s){more}")
    lines += [f"  view {k}" for k in s.views]
    lines += [f"  enum {k} ({', '.join(v)})" for k, v in s.enums.items()]
    lines += [f"  {k}" for k in s.objects]
    lines += [s.unmanaged_line()] if s.unmanaged else []
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
