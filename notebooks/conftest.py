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

A notebook whose server cannot be had here stops at its first cell with ``ServerUnavailable``
(notebooks/_support.py: no MariaDB installed, no root for the MySQL chroot, e.g. on Binder); that cell and the
rest of that notebook are then skipped, with its message as the reason. Never in CI (``$CI`` set): there
_support.py raises the provisioning error itself, and this hook would not turn it into a skip either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

COMPARED = frozenset({
    "data", "text/plain",  # display_data and execute_result: the plain-text form only
    "stdout",  # print()
    "ename", "evalue",  # an error (its traceback holds colours and paths: nbval never compares it)
})
KERNEL_ENV = {"DBWARDEN_PROGRESS": "none"}
UNAVAILABLE = "ServerUnavailable"  # the ename of notebooks/_support.py's exception


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A cell that stopped with ServerUnavailable, outside CI, is skipped, and so is the rest of its notebook."""
    reason = getattr(item.parent, "server_unavailable", None)
    if reason:
        pytest.skip(reason)
    try:
        return (yield)
    except Exception:
        reason = _server_unavailable(item)
        if reason is None:
            raise
        item.parent.server_unavailable = reason
        pytest.skip(reason)


def _server_unavailable(item) -> str | None:
    if os.environ.get("CI"):
        return None
    for output in getattr(item, "test_outputs", None) or ():  # what nbval received from the cell
        if output.get("output_type") == "error" and output.get("ename") == UNAVAILABLE:
            return f"{output.get('evalue')} (outside CI: skipped; in CI it fails)"
    return None


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
