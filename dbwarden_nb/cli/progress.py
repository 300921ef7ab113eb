"""Terminal progress of ``migrate``, ``rollback`` and ``downgrade``: one line per migration on stderr.

The runner calls a progress callback as ``progress(event, file, step, total)`` (``migrations.runner.Progress``;
the events are listed in ``notebook/progress.py``, which also picks this callback in a terminal IPython). The
lines are written when stderr is a terminal, or always with ``DBWARDEN_PROGRESS=text``; so logs, pipes and tests
see the error line alone (``=none`` silences them on a terminal too), while stdout keeps the final summary.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..migrations.files import MigrationFile

ENV = "DBWARDEN_PROGRESS"


class TerminalProgress:
    """One line per migration on a stream (default: ``sys.stderr`` at the time of the call), when it is a
    terminal or ``$DBWARDEN_PROGRESS`` is ``text``."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def __call__(self, event: str, file: MigrationFile | None, step: int, total: int) -> None:
        stream = self.stream or sys.stderr
        if event not in ("start", "wait") or not _shows_lines(stream):
            return
        if file is None:
            stream.write("dbwarden: waiting for the migration lock\n")
            stream.flush()
            return
        resumed = f", resuming after statement {step}" if step else ""
        stream.write(f"dbwarden: {where(file)}: {total} statement(s){resumed}\n")
        stream.flush()


def _shows_lines(stream: TextIO) -> bool:
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("text", "none"):
        return forced == "text"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def where(file: MigrationFile) -> str:
    """The file as the user knows it: relative to the working directory when it is below it."""
    if file.path is None:
        return file.filename
    rel = os.path.relpath(file.path)
    return file.path.as_posix() if rel.startswith("..") else rel.replace(os.sep, "/")
