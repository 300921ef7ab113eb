"""The sqldef MySQL corpus (``../shared/corpus/sqldef/mysqldef/*.yml``) on MySQL and on MariaDB.

One test per corpus file and server. Each case runs on two fresh databases A and B of that server (see
tests/corpus.py for what is checked); sqldef's ``flavor`` keys pick the server (``mysql`` / ``mariadb``).

Cases that fail today are listed per server in ``tests/corpus_known_failures/mysqldef-<server>.txt``
(``file::case  # reason``). A file's test fails when a case NOT in the list fails, and when a case IN the
list no longer fails (remove its line), so the lists can only shrink. The terminal summary prints, per
file and server, the pass/skip/known-fail/fail counts, then the unexpected failures and stale entries.

Environment, for debugging: ``DBWARDEN_CORPUS_CASES=Rename*,Index`` runs only matching cases (fnmatch),
``DBWARDEN_CORPUS_VERBOSE=1`` adds each unexpected failure's plan and SQL to the failure message,
``DBWARDEN_CORPUS_WRITE_KNOWN=1`` rewrites the lists from this run (every file must have run).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `corpus` stays importable under any --import-mode
from corpus import FAIL, PASS, SKIP, FileReport, Target, corpus_files, corpus_missing, run_file

CORPUS = Path(__file__).parents[1] / ".." / "shared" / "corpus"
CASES = CORPUS / "sqldef" / "mysqldef"
KNOWN_DIR = Path(__file__).parent / "corpus_known_failures"
SERVERS = ("mysql", "mariadb")
MISSING = "<mysqldef corpus missing>"

FILES = [p.name for p in corpus_files(CASES)] if CASES.is_dir() else []

_reports: dict[str, list[FileReport]] = {kind: [] for kind in SERVERS}


def known_path(kind: str) -> Path:
    return KNOWN_DIR / f"mysqldef-{kind}.txt"


def read_known(kind: str) -> dict[str, str]:
    """``file::case`` → reason, from the server's list (``#`` lines and blank lines are comments)."""
    path = known_path(kind)
    entries: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and not text.startswith("#"):
                key, _, reason = text.partition(" #")
                entries[key.strip()] = reason.strip()
    return entries


def _selection() -> list[str] | None:
    raw = os.environ.get("DBWARDEN_CORPUS_CASES", "").strip()
    return [p.strip() for p in raw.split(",") if p.strip()] or None


def verdict(report: FileReport, known: dict[str, str]) -> tuple[list[Any], list[str]]:
    """(unexpected failures, stale list entries) of one file's report."""
    prefix = f"{report.file}::"
    listed = {k[len(prefix):] for k in known if k.startswith(prefix)}
    unexpected = [r for r in report.failures if r.case not in listed]
    ran = {r.case: r for r in report.results}
    stale = []
    for case in sorted(listed):
        r = ran.get(case)
        if r is None and not _selection():
            stale.append(f"{case}  (no such case in the corpus file)")
        elif r is not None and r.outcome != FAIL:
            stale.append(f"{case}  ({'passes now' if r.outcome == PASS else 'skipped now: ' + r.reason})")
    return unexpected, stale


def counts_line(report: FileReport, known: dict[str, str]) -> str:
    c = report.counts
    k = sum(1 for r in report.failures if f"{report.file}::{r.case}" in known)
    return f"{report.file}: {len(report.results)} cases, {c[PASS]} pass, {c[SKIP]} skip, {k} known-fail, {c[FAIL] - k} fail"


class _CorpusSummary:
    """Registered as a plugin for the session: prints the per-server counts in pytest's terminal summary."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for kind in SERVERS:
            reports = sorted(_reports[kind], key=lambda r: r.file)
            if not reports:
                continue
            known = read_known(kind)
            terminalreporter.write_sep("-", f"sqldef corpus on {kind} ({CASES.resolve()})")
            for r in reports:
                terminalreporter.write_line(counts_line(r, known))
            if len(reports) > 1:
                terminalreporter.write_line(counts_line(FileReport("total", [x for r in reports for x in r.results]),
                                                        {f"total::{k.split('::', 1)[1]}": v for k, v in known.items()}))
            for r in reports:
                for res in r.of(SKIP):
                    terminalreporter.write_line(f"  skipped {r.file}::{res.case}: {res.reason}")


@pytest.fixture(scope="module", autouse=True)
def _corpus_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    name = "dbwarden-corpus-mysql-summary"
    if request.config.pluginmanager.get_plugin(name) is None:
        request.config.pluginmanager.register(_CorpusSummary(), name)
    yield
    if os.environ.get("DBWARDEN_CORPUS_WRITE_KNOWN"):
        for kind in SERVERS:
            if _selection() or {r.file for r in _reports[kind]} != set(FILES):
                continue
            old = read_known(kind)
            lines = [f"# Cases of ../shared/corpus/sqldef/mysqldef that fail on {kind} today (tests/test_corpus_mysql.py).",
                     "# One `file::case  # reason` per line: a failing case not listed fails the test, and so does a",
                     "# listed case that no longer fails (remove its line)."]
            for r in sorted(_reports[kind], key=lambda r: r.file):
                for res in r.failures:
                    key = f"{r.file}::{res.case}"
                    lines.append(f"{key}  # {old.get(key) or ' '.join(res.reason.split())[:200]}")
            known_path(kind).parent.mkdir(parents=True, exist_ok=True)
            known_path(kind).write_text("\n".join(lines) + "\n", encoding="utf-8")


class DatabasePair:
    """Two databases on the server for the module, emptied (every view, table and sequence dropped) before
    each case: cheaper than creating and dropping two databases per case."""

    def __init__(self, server: Any, kind: str):
        from dbwarden_nb.backends import get_backend

        self.server = server
        self.names = [server.create_database(), server.create_database()]
        self.admin = [get_backend(kind).connect(server.database_url(n)) for n in self.names]

    @contextmanager
    def fresh(self, case: str) -> Iterator[tuple[str, str]]:
        for conn in self.admin:
            empty_database(conn)
        a, b = (self.server.database_url(n) for n in self.names)
        yield a, b

    def close(self) -> None:
        for conn in self.admin:
            conn.close()
        for name in self.names:
            self.server.drop_database(name)


def empty_database(conn: Any) -> None:
    q = conn.backend.quote
    rows = conn.query("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
    kinds = {"VIEW": [], "SEQUENCE": [], "TABLE": []}
    for name, kind in rows:
        kinds[kind if kind in kinds else "TABLE"].append(q(name))
    conn.execute("SET SESSION foreign_key_checks = 0")
    for kind, names in kinds.items():
        if names:
            conn.execute(f"DROP {kind} {', '.join(names)}")
    conn.execute("SET SESSION foreign_key_checks = 1")


@contextmanager
def server_target(server: Any, kind: str) -> Iterator[Target]:
    pair = DatabasePair(server, kind)
    try:
        yield Target(kind, pair.fresh, flavors=frozenset({kind}), server_version=server.version,
                     manages=frozenset({"triggers", "functions and procedures"}))
    finally:
        pair.close()


@pytest.fixture(scope="module")
def mysql_target(mysql_server: Any) -> Iterator[Target]:
    with server_target(mysql_server, "mysql") as target:
        yield target


@pytest.fixture(scope="module")
def mariadb_target(mariadb_server: Any) -> Iterator[Target]:
    with server_target(mariadb_server, "mariadb") as target:
        yield target


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("corpus_file", FILES or [MISSING])
def test_sqldef_corpus(corpus_file: str, kind: str, request: pytest.FixtureRequest) -> None:
    if corpus_file == MISSING:
        corpus_missing(CASES)
    target = request.getfixturevalue(f"{kind}_target")
    report = run_file(CASES / corpus_file, target, select=_selection())
    _reports[kind].append(report)
    known = read_known(kind)
    unexpected, stale = verdict(report, known)
    if not unexpected and not stale:
        return
    verbose = bool(os.environ.get("DBWARDEN_CORPUS_VERBOSE"))
    lines = [f"{kind}: {counts_line(report, known)}"]
    if unexpected:
        lines.append(f"{len(unexpected)} case(s) failed that {known_path(kind).name} does not list:")
        for r in unexpected:
            lines.append(f"  {r.case}: {r.reason}")
            if verbose and r.detail:
                lines += [f"      {line}" for line in r.detail.splitlines()]
    if stale:
        lines.append(f"{len(stale)} case(s) listed in {known_path(kind)} no longer fail; remove these lines:")
        lines += [f"  {corpus_file}::{case}" for case in stale]
    pytest.fail("\n".join(lines), pytrace=False)
