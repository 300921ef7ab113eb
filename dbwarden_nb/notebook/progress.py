"""Live progress of ``migrate``, ``rollback`` and ``downgrade``.

The runner calls a progress callback as ``progress(event, file, step, total)``: ``"start"`` before a
migration's first statement (``step`` = statements an earlier partial run already completed), ``"step"``
after each committed chunk, ``"done"`` at its end; and ``"wait"`` (with no file) once when the migration lock is
busy and the run starts waiting for it. This module holds the two callbacks and the rule that
picks one; the result of a run is always the one summary object the command returns, whatever shows here.

Where progress shows (:func:`progress_mode`):

- ``$DBWARDEN_PROGRESS`` = ``widget`` | ``text`` | ``none`` decides when set;
- in a Jupyter kernel executing a request that allows stdin (a person at a frontend that can answer
  ``input()``: JupyterLab, Notebook, VS Code): ``widget``, an ipywidgets bar that is replaced by nothing when
  the run ends, so a saved notebook keeps only the summary;
- in a kernel executing without stdin (nbval, ``jupyter nbconvert --execute``, papermill, nbclient: nobody can
  answer ``input()``): ``none``, so the outputs are the same on every run;
- outside a kernel (the ``dbwarden`` CLI, terminal IPython): ``text``, one line per migration on stderr,
  while stdout keeps the final summary. The lines are written when stderr is a terminal, or always with
  ``DBWARDEN_PROGRESS=text``; so logs, pipes and tests see the error line alone, as before (``=none`` silences
  them on a terminal too).

Nothing here imports IPython or ipywidgets until a widget is actually shown.
"""

from __future__ import annotations

import html
import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, TextIO

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..migrations.files import MigrationFile
    from ..migrations.runner import Progress

MODES = ("widget", "text", "none")
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
        stream.write(f"dbwarden: {_where(file)}: {total} statement(s){resumed}\n")
        stream.flush()


class WidgetProgress:
    """A bar and a label, shown on the first event and replaced by an empty output on :meth:`close`."""

    def __init__(self) -> None:
        import ipywidgets as w

        self.bar = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="40%"))
        self.label = w.HTML("")
        self.box = w.HBox([self.bar, self.label])
        self.done = 0
        self._handle: Any = None

    def __call__(self, event: str, file: MigrationFile | None, step: int, total: int) -> None:
        if file is None:  # waiting for the lock: nothing to show yet
            return
        if self._handle is None:
            from IPython.display import display

            self._handle = display(self.box, display_id=True)
        if event == "start":
            self.bar.max, self.bar.value = max(total, 1), step
        elif event == "step":
            self.bar.value = step
        elif event == "done":
            self.bar.value = self.bar.max
            self.done += 1
        finished = f" &middot; {self.done} migration(s) done" if self.done else ""
        self.label.value = (f"<code>{html.escape(_where(file))}</code>: statement {min(step, total)} of {total}"
                            f"{finished}")

    def close(self) -> None:
        if self._handle is not None:  # an empty bundle: nbval compares nothing, a saved notebook keeps nothing
            self._handle.update({}, raw=True)
        for widget in (self.bar, self.label, self.box):
            for model in (widget, widget.layout, getattr(widget, "style", None)):
                if model is not None:
                    model.close()


def progress_mode() -> str:
    """``widget``, ``text`` or ``none``: see the module docstring."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced:
        if forced not in MODES:
            raise ConfigError(f"${ENV} is {forced!r}; expected one of {', '.join(MODES)}")
        return forced
    kernel = getattr(_shell(), "kernel", None)
    if kernel is None:
        return "text"
    if not getattr(kernel, "_allow_stdin", False):  # set per execute request by ipykernel
        return "none"
    return "widget" if _has_ipywidgets() else "none"


@contextmanager
def notebook_progress(mode: str | None = None) -> Iterator[Progress | None]:
    """The callback for ``mode`` (default: :func:`progress_mode`), closed when the run ends or fails."""
    mode = mode or progress_mode()
    if mode == "widget":
        bar = WidgetProgress()
        try:
            yield bar
        finally:
            bar.close()
    elif mode == "text":
        yield TerminalProgress()
    else:
        yield None


def _shows_lines(stream: TextIO) -> bool:
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("text", "none"):
        return forced == "text"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _where(file: MigrationFile) -> str:
    """The file as the user knows it: relative to the working directory when it is below it."""
    if file.path is None:
        return file.filename
    rel = os.path.relpath(file.path)
    return file.path.as_posix() if rel.startswith("..") else rel.replace(os.sep, "/")


def _shell() -> Any:
    if "IPython" not in sys.modules:  # never import IPython just to learn we are not in it
        return None
    from IPython import get_ipython

    return get_ipython()


def _has_ipywidgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None
