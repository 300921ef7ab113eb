"""``pytest --nbval`` on the example notebooks compares ``text/plain`` and stdout only.

nbval compares every MIME type of every output by default, stderr included. Here it compares what the
display layer promises to keep stable (``text/plain``, deterministic by contract) and what the notebooks
print (stdout), plus errors; the rich forms (HTML, Markdown, widget views) carry durations, timestamps and
render ids, and are snapshot-tested by the renderer's own tests (tests/notebook/). stderr (warnings, log
lines) is not compared either. The notebooks store only these forms (scripts/execute_notebooks.py).

nbval reads ``IPyNbFile.skip_compare`` (the keys it leaves out) with ``key in skip_compare``; this hook
replaces it, per notebook, by the complement of the compared keys, the way nbval's documentation extends it
in a conftest.py (``pytest_collectstart``).

The kernel of each notebook starts with ``DBWARDEN_PROGRESS=none`` (as under scripts/execute_notebooks.py),
so no live progress widget can add an output, whatever the kernel concludes about who is executing it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

COMPARED = frozenset({
    "data", "text/plain",  # display_data and execute_result: the plain-text form only
    "stdout",  # print()
    "ename", "evalue",  # an error (its traceback holds colours and paths: nbval never compares it)
})
KERNEL_ENV = {"DBWARDEN_PROGRESS": "none"}


class CompareOnly(tuple):
    """nbval's ``skip_compare``: every key but the compared ones (a tuple, as nbval builds it)."""

    def __contains__(self, key: object) -> bool:
        return key not in COMPARED


def pytest_collectstart(collector):
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: no notebook is collected anyway
        return
    if not isinstance(collector, IPyNbFile):
        return
    collector.skip_compare = CompareOnly(collector.skip_compare)
    start_kernel = collector.setup

    def setup() -> None:
        with _environment(KERNEL_ENV):  # only while the kernel starts: tests in the same run keep theirs
            start_kernel()

    collector.setup = setup


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
