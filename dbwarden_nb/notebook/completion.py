"""Tab completion of ``%dbwarden`` and ``%%dbwarden``: commands, flags, database names, table names, versions.

What is offered comes from the one command table (commands.py: ``COMMANDS`` and ``GLOBAL_ARGS``; an argument's
``choices`` and its ``completes`` say what its value can be) and from the project, found like the CLI: its
configured databases; the tables and views of the latest stored snapshot and of the models; its migration
versions. Never the live database: a completion must not wait on a server. A project that cannot be read
completes no value, silently (the command itself will say what is wrong).

:func:`register` adds :func:`dbwarden_matcher` to IPython's completion matchers (``IPCompleter.custom_matchers``,
the completer hook that sees the whole cell), so a ``%dbwarden`` anywhere in a line (``x = %dbwarden diff -``)
and every line of a ``%%dbwarden`` cell complete alike. :func:`complete` is the part without IPython.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from IPython.core.completer import CompletionContext, SimpleCompletion, context_matcher

from ..commands import BY_NAME, COMMANDS, GLOBAL_ARGS, Arg

__all__ = ["ProjectValues", "complete", "dbwarden_matcher", "register"]

_LINE_MAGIC = re.compile(r"(?<!%)%dbwarden(?:\s+(.*))?$")  # the last %dbwarden of the text before the cursor
_CELL_MAGIC = re.compile(r"\s*%%dbwarden\b(.*)$")
_EXTRA_GLOBAL_FLAGS = ("--version", "--help")


@dataclass
class ProjectValues:
    """The values a project offers, read once per completion; ``config`` is ``--config`` when given."""

    config: str | None = None
    _project: Any = field(default=None, init=False)
    _failed: bool = field(default=False, init=False)

    def project(self) -> Any:
        if self._project is None and not self._failed:
            from ..api import Project

            try:
                self._project = Project.load(self.config)
            except Exception:  # noqa: BLE001  no dbwarden.py here, or a broken one: nothing to offer
                self._failed = True
        return self._project

    def databases(self) -> list[str]:
        project = self.project()
        return list(project.config.databases) if project is not None else []

    def environments(self) -> list[str]:
        project = self.project()
        databases = project.config.databases.values() if project is not None else ()
        return sorted({name for db in databases for name in db.environment_names})

    def tables(self, database: str | None) -> list[str]:
        return sorted({key for snap in self._snapshots(database) for key in (*snap.tables, *snap.views)})

    def columns(self, database: str | None, table: str) -> list[str]:
        """The columns ``table`` has in the base of the next migration (a rename's old name is one of them)."""
        base = self._snapshots(database, models=False)
        return [c.name for snap in base if table in snap.tables for c in snap.tables[table].columns]

    def versions(self, database: str | None) -> list[str]:
        db = self._database(database)
        return [f"{f.version:04d}" for f in _quietly(db.files, [])] if db is not None else []

    def _database(self, name: str | None) -> Any:
        project = self.project()
        return _quietly(lambda: project.database(name), None) if project is not None else None

    def _snapshots(self, database: str | None, models: bool = True) -> list[Any]:
        db = self._database(database)
        if db is None:
            return []
        found = [_quietly(lambda: db.base_snapshot(None)[0], None)]
        if models:
            found.append(_quietly(lambda: db.production_models(None), None))
        return [snap for snap in found if snap is not None]


def complete(words: Sequence[str], partial: str, values: ProjectValues) -> list[tuple[str, str]] | None:
    """``(text, kind)`` completions of ``partial``, the word being typed after ``words`` (the words after
    ``%dbwarden``), each starting with ``partial``; None where the value is free text (a path, a URL), which
    IPython's own completers may know better."""
    spec: Sequence[Arg] = GLOBAL_ARGS
    command, pending, database = None, None, None
    used: set[tuple[str, ...]] = set()  # the flags of the arguments already given
    for word in words:
        if pending is not None:
            database = word if pending.completes == "database" else database
            pending = None
            continue
        flag, _, value = word.partition("=")
        found = _flag(spec, flag)
        if found is not None:
            used.add(found.flags)
            if found.completes == "database" and value:
                database = value
            pending = found if found.takes_value and not value and "=" not in word else None
            continue
        if command is None and word in BY_NAME:
            command = BY_NAME[word]
            spec = command.args
    if pending is None and partial.startswith("-") and "=" in partial:  # --database=pri
        flag, _, partial = partial.partition("=")
        pending = _flag(spec, flag)
        if pending is None or not pending.takes_value:
            return []
    if pending is not None and "choices" not in pending.options and pending.completes is None:
        return None
    if pending is not None:
        offered = _values(pending, database, partial, values)
    elif command is None and not partial.startswith("-"):
        offered = [(c.name, "command") for c in COMMANDS]
    else:
        repeatable = lambda a: a.options.get("action") == "append"
        offered = [(flag, "flag") for a in spec if not a.positional and (a.flags not in used or repeatable(a))
                   for flag in a.flags]
        offered += [(flag, "flag") for flag in (_EXTRA_GLOBAL_FLAGS if command is None else ("--help",))]
    return [(text, kind) for text, kind in offered if text.startswith(partial)]


def _values(a: Arg, database: str | None, partial: str, values: ProjectValues) -> list[tuple[str, str]]:
    if "choices" in a.options:
        return [(str(choice), "choice") for choice in a.options["choices"]]
    if a.completes == "database":
        return [(name, "database") for name in values.databases()]
    if a.completes == "table":
        return [(name, "table") for name in values.tables(database)]
    if a.completes == "column":  # TABLE.OLD:NEW: the table, then the old column of that table
        tables = values.tables(database)
        found = [(f"{t}.", "table") for t in tables if t.startswith(partial)]
        table = partial.rpartition(".")[0]
        return found + [(f"{table}.{c}:", "column") for c in values.columns(database, table)] if table else found
    if a.completes == "version":
        return [(v, "version") for v in values.versions(database)]
    if a.completes == "environment":
        return [(name, "environment") for name in values.environments()]
    if a.completes == "backend":
        from ..backends import BACKENDS

        return [(name, "backend") for name in BACKENDS]
    return []


def _flag(spec: Sequence[Arg], word: str) -> Arg | None:
    return next((a for a in spec if word in a.flags and not a.positional), None)


def _quietly(read: Callable[[], Any], default: Any) -> Any:
    try:
        return read()
    except Exception:  # noqa: BLE001  completion never fails; the command will show the error when it runs
        return default


def _split(text: str) -> tuple[list[str], str]:
    """The finished words of ``text`` and the one being typed (empty after a space)."""
    try:
        words = shlex.split(text)
    except ValueError:  # an open quote: the word being typed
        words = text.split()
    if text and not text[-1].isspace() and words:
        return words[:-1], words[-1]
    return words, ""


def words_before_cursor(full_text: str, cursor_line: int, before_cursor: str) -> list[str] | None:
    """The text of a dbwarden command before the cursor (global prefix of a cell included), or None when
    the cursor is in no ``%dbwarden`` line nor ``%%dbwarden`` cell."""
    cell = _CELL_MAGIC.match(full_text.split("\n", 1)[0])
    if cell is not None:
        if cursor_line == 0:  # the cell's own line: its global flags
            head = _CELL_MAGIC.match(before_cursor)
            return None if head is None else [head.group(1)]
        return [cell.group(1), before_cursor]
    line = _LINE_MAGIC.search(before_cursor)
    return None if line is None else [line.group(1) or ""]


@context_matcher()
def dbwarden_matcher(context: CompletionContext) -> dict[str, Any]:
    """IPython's matcher for dbwarden lines: their completions, and no others."""
    parts = words_before_cursor(context.full_text, context.cursor_line, context.text_until_cursor)
    if parts is None:
        return {"completions": []}
    *prefix, current = parts
    words, partial = _split(current)
    words = [w for text in prefix for w in _split(text + " ")[0]] + words
    config = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "--config"), None)
    found = _quietly(lambda: complete(words, partial, ProjectValues(config)), [])
    if found is None:  # a path or a URL: the file completer's turn
        return {"completions": []}
    token = context.token
    completions = [SimpleCompletion(text, type=kind) for text, kind in found if text.startswith(token)]
    return {"completions": completions, "suppress": True}  # a dbwarden line: Python names would only mislead



def register(ipython: Any) -> None:
    """Add :func:`dbwarden_matcher` to ``ipython``'s completer (once)."""
    completer = getattr(ipython, "Completer", None)
    matchers = getattr(completer, "custom_matchers", None)
    if matchers is not None and dbwarden_matcher not in matchers:
        matchers.append(dbwarden_matcher)
