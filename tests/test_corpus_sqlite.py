"""The sqldef corpus on SQLite: every case of ``../shared/corpus/sqldef/sqlite3def/*.yml``.

One test per corpus file. Each case runs on two fresh SQLite files (see tests/corpus.py for what is
checked). The per-file pass/skip/fail counts and every skipped case with its reason are printed in the
terminal summary; a test fails when any case of its file fails, listing those cases.

Environment, for debugging: ``DBWARDEN_CORPUS_CASES=Rename*,Index`` runs only matching cases (fnmatch),
``DBWARDEN_CORPUS_VERBOSE=1`` adds each failing case's plan and SQL to the failure message.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `corpus` stays importable under any --import-mode
from corpus import FileReport, Target, corpus_files, corpus_missing, format_reports, run_file

CORPUS = Path(__file__).parents[1] / ".." / "shared" / "corpus"
SQLITE_CASES = CORPUS / "sqldef" / "sqlite3def"
MISSING = "<sqlite3def corpus missing>"

FILES = [p.name for p in corpus_files(SQLITE_CASES)] if SQLITE_CASES.is_dir() else []

_reports: list[FileReport] = []


class _CorpusSummary:
    """Registered as a plugin for the session: prints the counts in pytest's terminal summary."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not _reports:
            return
        terminalreporter.write_sep("-", f"sqldef corpus on sqlite ({SQLITE_CASES.resolve()})")
        for line in format_reports(sorted(_reports, key=lambda r: r.file), failed=False).splitlines():
            terminalreporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def _corpus_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    name = "dbwarden-corpus-sqlite-summary"
    if request.config.pluginmanager.get_plugin(name) is None:
        request.config.pluginmanager.register(_CorpusSummary(), name)
    yield


def _selection() -> list[str] | None:
    raw = os.environ.get("DBWARDEN_CORPUS_CASES", "").strip()
    return [p.strip() for p in raw.split(",") if p.strip()] or None


def sqlite_target(root: Path) -> Target:
    counter = itertools.count()

    @contextmanager
    def fresh_databases(case: str) -> Iterator[tuple[str, str]]:
        folder = root / f"{next(counter):03d}"
        folder.mkdir()
        yield f"sqlite:///{folder / 'a.db'}", f"sqlite:///{folder / 'b.db'}"

    return Target("sqlite", fresh_databases, manages=frozenset({"triggers"}))


@pytest.mark.parametrize("corpus_file", FILES or [MISSING])
def test_sqldef_corpus(corpus_file: str, tmp_path: Path) -> None:
    if corpus_file == MISSING:
        corpus_missing(SQLITE_CASES)
    report = run_file(SQLITE_CASES / corpus_file, sqlite_target(tmp_path), select=_selection())
    _reports.append(report)
    failures = report.failures
    if failures:
        verbose = bool(os.environ.get("DBWARDEN_CORPUS_VERBOSE"))
        lines = [f"{len(failures)} of {len(report.results)} cases failed ({report.counts_line()}):"]
        for r in failures:
            lines.append(f"  {r.case}: {r.reason}")
            if verbose and r.detail:
                lines += [f"      {line}" for line in r.detail.splitlines()]
        pytest.fail("\n".join(lines), pytrace=False)
