"""Entity-relationship diagrams as Mermaid ``erDiagram`` source.

``Snapshot.erd()`` / ``Table.erd()`` return an :class:`ERD`. It displays as ``text/vnd.mermaid`` (JupyterLab 4.1+
renders it), with a ```` ```mermaid ```` Markdown block as fallback (GitHub, JupyterLab's Markdown, VS Code with
a Mermaid extension) and the source itself as ``text/plain``. No HTML and no JavaScript.

Names are made safe for Mermaid's grammar: entities are double-quoted with anything outside word characters,
``.``, ``-``, ``$`` and spaces replaced by ``_`` (and made unique); attribute types and names keep to
Mermaid's ``[A-Za-z0-9_()[\\]-]`` alphabet, the original name going into the attribute's comment when it changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..schema import ForeignKey, Snapshot, Table

__all__ = ["ERD", "erd"]

_ENTITY_UNSAFE = re.compile(r"[^\w.\- $]")
_WORD_UNSAFE = re.compile(r"[^A-Za-z0-9_()\[\]-]", re.ASCII)
_TEXT_UNSAFE = re.compile(r"[^\w \-.,:;()/+=*'#@!?$]")


@dataclass(frozen=True)
class ERD:
    """A Mermaid ``erDiagram``; ``source`` is the diagram text."""

    source: str
    tables: int = 0
    relationships: int = 0

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"<ERD: {self.tables} table(s), {self.relationships} relationship(s)>"

    def to_markdown(self) -> str:
        return f"```mermaid\n{self.source}\n```"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return {"text/plain": self.source, "text/vnd.mermaid": self.source, "text/markdown": self.to_markdown()}


def _word(text: str, fallback: str) -> str:
    """An attribute type or name in Mermaid's alphabet, starting with a letter or ``_``."""
    word = _WORD_UNSAFE.sub("_", "_".join(text.split()))
    if not word or not (word[0].isalpha() or word[0] == "_"):
        word = f"{fallback}_{word}"
    return word


def _text(text: str) -> str:
    """Free text (comments, labels) for a double-quoted Mermaid string: no quotes, ``%``, markup or newlines."""
    return _TEXT_UNSAFE.sub("_", " ".join(text.split()))


class _Names:
    """Snapshot keys → unique, quoted Mermaid entity names."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.used: set[str] = set()

    def __call__(self, key: str) -> str:
        if key not in self.names:
            base = _ENTITY_UNSAFE.sub("_", key).strip() or "_"
            name, n = base, 1
            while name in self.used:
                n += 1
                name = f"{base}_{n}"
            self.used.add(name)
            self.names[key] = f'"{name}"'
        return self.names[key]


def _attributes(t: Table) -> list[str]:
    pk = set(t.primary_key.columns) if t.primary_key else set()
    fk = {c for f in t.foreign_keys for c in f.columns}
    uq = {c for u in t.uniques if len(u.columns) == 1 for c in u.columns}
    lines = []
    for c in t.columns:
        keys = [k for k, cols in (("PK", pk), ("FK", fk), ("UK", uq)) if c.name in cols]
        name = _word(c.name, "c")
        notes = [] if name == c.name else [c.name]
        notes += [c.comment] if c.comment else []
        comment = f' "{_text(" - ".join(notes))}"' if notes else ""
        lines.append(f"        {_word(c.type, 't')} {name}{' ' + ', '.join(keys) if keys else ''}{comment}")
    return lines


def _relationship(t: Table, fk: ForeignKey, names: _Names) -> str:
    pk = set(t.primary_key.columns) if t.primary_key else set()
    cols = set(fk.columns)
    unique = cols == pk or any(cols == set(u.columns) for u in t.uniques)
    required = all(not (t.column(c) and t.column(c).nullable) for c in fk.columns)  # type: ignore[union-attr]
    child = "|o" if unique else "}o"
    parent = "||" if required else "o|"
    line = "--" if cols <= pk else ".."
    label = _text(fk.name or ", ".join(fk.columns)) or "fk"
    return f'    {names(t.key)} {child}{line}{parent} {names(fk.ref_table)} : "{label}"'


def erd(obj: Snapshot | Table | Iterable[Table]) -> ERD:
    """The diagram of a snapshot, a table, or any tables."""
    tables = list(obj.tables.values()) if isinstance(obj, Snapshot) else [obj] if isinstance(obj, Table) else list(obj)
    names = _Names()
    lines = ["erDiagram"]
    for t in tables:
        attrs = _attributes(t)
        lines += [f"    {names(t.key)} {{", *attrs, "    }"] if attrs else [f"    {names(t.key)}"]
    relationships = [_relationship(t, fk, names) for t in tables for fk in t.foreign_keys]
    return ERD("\n".join(lines + relationships), len(tables), len(relationships))
