"""Live progress of ``migrate``, ``rollback`` and ``downgrade``.

The runner calls a progress callback as ``progress(event, file, step, total)``: ``"begin"`` (no file; ``total``
= the migrations the run applies), then per migration ``"start"`` before its first statement (``step`` =
statements an earlier partial run already completed), ``"statement"`` as each statement starts (``step`` = its
index; a callback with a ``running(sql)`` method is handed its SQL first), ``"step"`` after each committed chunk
(on PostgreSQL a whole migration is one chunk), ``"done"`` at its end; and ``"wait"`` (no file) once when the
migration lock is busy and the run starts waiting for it. This module holds the widget callback (the terminal's
is the CLI's, ``cli/progress.py``) and the rule that picks one; the result of a run is always the one summary
object the command returns, whatever shows here.

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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..cli.progress import ENV, TerminalProgress
from ..cli.progress import where as _where
from ..config import mask_text
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..migrations.files import MigrationFile
    from ..migrations.runner import Progress

MODES = ("widget", "text", "none")


class WidgetProgress:
    """A bar and a label saying what runs now: the file, which migration of the run it is, which of its
    statements, how long that statement has been running and its SQL; a ticker thread refreshes the time every
    ``tick`` seconds while a statement runs (None: no ticker). Shown on the first event and replaced by an empty
    output on :meth:`close`; with ``show=False`` it never displays itself (``box`` goes into another widget)."""

    def __init__(self, show: bool = True, tick: float | None = 0.5, clock: Callable[[], float] = time.monotonic):
        import ipywidgets as w

        self.bar = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="40%"))
        self.label = w.HTML("")
        self.box = w.HBox([self.bar, self.label])
        self.done = 0
        self.migrations = 0  # in this run ("begin"); 0 until the runner says
        self.current = 0  # the 1-based number of the migration running
        self._show, self._tick, self._clock = show, tick, clock
        self._handle: Any = None
        self._file: MigrationFile | None = None
        self._statement: tuple[int, int] | None = None  # (number, of) of the statement running
        self._since: float | None = None  # when it started
        self._sql: str | None = None
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def running(self, sql: str) -> None:
        """The SQL of the statement about to run (the runner calls this before its "statement" event)."""
        self._sql = sql

    def __call__(self, event: str, file: MigrationFile | None, step: int, total: int) -> None:
        if event == "begin":
            self.migrations = total
        if file is None:  # "begin", or waiting for the lock: nothing to show yet
            return
        if self._show and self._handle is None:
            from IPython.display import display

            self._handle = display(self.box, display_id=True)
        if event == "start":
            self.current += 1
            self._file, self._statement, self._since, self._sql = file, None, None, None
            self.bar.max, self.bar.value = max(total, 1), step
        elif event == "statement":
            self.bar.value = step
            self._statement, self._since = (step + 1, total), self._clock()
            self._start_ticker()
        elif event == "step":
            self.bar.value = step
        elif event == "done":
            self.bar.value = self.bar.max
            self.done += 1
            self._statement = self._since = self._sql = None
        self.render()

    def render(self) -> None:
        """Put the current state into the label (also called by the ticker)."""
        self.label.value = self.label_html()

    def label_html(self) -> str:
        parts = [f"<code>{html.escape(_where(self._file))}</code>"] if self._file is not None else []
        of = f" of {self.migrations}" if self.migrations else ""
        statement, since, sql = self._statement, self._since, self._sql
        if statement is not None and since is not None:
            seconds = max(self._clock() - since, 0.0)
            parts.append(f"migration {self.current}{of}, statement {statement[0]} of {statement[1]}, "
                         f"running for {seconds:.1f} s")
            if sql:
                parts.append(f"<code>{html.escape(_one_line(mask_text(sql)))}</code>")
        elif self.done:
            parts.append(f"{self.done}{of} migration(s) done")
        return " &middot; ".join(parts)

    def close(self) -> None:
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._handle is not None:  # an empty bundle: nbval compares nothing, a saved notebook keeps nothing
            self._handle.update({}, raw=True)
        for widget in (self.bar, self.label, self.box):
            for model in (widget, widget.layout, getattr(widget, "style", None)):
                if model is not None:
                    model.close()

    def _start_ticker(self) -> None:
        if self._tick is None or self._ticker is not None:
            return

        def tick() -> None:  # ipykernel sends widget updates from any thread
            while not self._stopped.wait(self._tick):
                if self._since is not None:
                    self.render()

        self._ticker = threading.Thread(target=tick, name="dbwarden-progress", daemon=True)
        self._ticker.start()


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


def _one_line(sql: str, limit: int = 120) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _shell() -> Any:
    if "IPython" not in sys.modules:  # never import IPython just to learn we are not in it
        return None
    from IPython import get_ipython

    return get_ipython()


def _has_ipywidgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None
