"""The sqldef corpus on PostgreSQL: every case of ``../shared/corpus/sqldef/psqldef/*.yml``.

One test per corpus file, on the session's PostgreSQL server (``postgresql_server``). Each case runs on
two databases A and B (see tests/corpus.py for what is checked), compared over every schema the two
databases hold, by their snapshots and by ``pg_dump --schema-only`` (tests/dumps.py), after the setup sqldef's own tests give it (``prepare``: the default schema of a case's
``user``, the schemas ``current`` created). The cases are spread over a few worker threads
(``DBWARDEN_CORPUS_WORKERS``, default 4), each with a database pair created once and dropped at the end;
before each case the pair is emptied (user schemas dropped with CASCADE, ``public`` recreated, leftover
extensions and event triggers dropped), ~20 ms where CREATE + DROP DATABASE costs ~0.2 s per database.
All cases run when the first test of the module runs; each test then judges its file.

The backend is young, so some cases fail today. ``tests/corpus_known_failures/psqldef.txt`` lists them
(``file::case  # reason``). A file's test fails when a case NOT in that list fails, and when a case IN
that list passes now or no longer exists (the entry is stale: remove it), so the list can only shrink;
a listed case this server skips (version, flavor) is just reported. The terminal summary prints, per
file, the pass/skip/known-fail/fail counts, then every skipped case with its reason, the known failures
with their current reason, the unexpected failures and the stale entries.

Environment, for debugging: ``DBWARDEN_CORPUS_CASES=Rename*,Index`` runs only matching cases (fnmatch),
``DBWARDEN_CORPUS_VERBOSE=1`` adds each failing case's plan and SQL to the failure message (unexpected
failures only; ``=all`` also for the known ones), ``DBWARDEN_CORPUS_WRITE_KNOWN=1`` rewrites the list
from this run (every corpus file must have run; existing comments are kept for cases still failing),
``DBWARDEN_CORPUS_WORKERS=1`` runs the cases one by one.
"""

from __future__ import annotations

import fnmatch
import os
import queue
import re
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `corpus`, `servers` stay importable under any --import-mode
from corpus import (
    FAIL,
    PASS,
    SKIP,
    CaseResult,
    FileReport,
    Target,
    corpus_files,
    corpus_missing,
    load_cases,
    run_case,
    statements,
)
from dumps import engine_dump

CORPUS = Path(__file__).parents[1] / ".." / "shared" / "corpus"
PG_CASES = CORPUS / "sqldef" / "psqldef"
KNOWN_FAILURES = Path(__file__).parent / "corpus_known_failures" / "psqldef.txt"
MISSING = "<psqldef corpus missing>"

FILES = [p.name for p in corpus_files(PG_CASES)] if PG_CASES.is_dir() else []

# Schemas every PostgreSQL database has that no case owns.
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
USER_SCHEMAS = (
    "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(:system) "
    "AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%' ORDER BY nspname"
)


# -------------------------------------------------------------------------------------------------
# The list of known failures
# -------------------------------------------------------------------------------------------------


@dataclass
class KnownFailures:
    """``file::case  # reason`` lines; ``#`` lines and blank lines are comments."""

    entries: dict[str, str] = field(default_factory=dict)  # "file::case" -> reason comment
    header: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> KnownFailures:
        known = cls()
        if not path.exists():
            return known
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                if not known.entries:
                    known.header.append(line)
                continue
            key, _, reason = text.partition(" #")
            known.entries[key.strip()] = reason.strip()
        return known

    def of_file(self, file: str) -> dict[str, str]:
        prefix = f"{file}::"
        return {k[len(prefix):]: v for k, v in self.entries.items() if k.startswith(prefix)}

    def write(self, path: Path, failing: dict[str, str]) -> None:
        """Rewrite the list as ``failing`` ("file::case" -> runner reason), keeping existing comments."""
        lines = list(self.header) or [
            "# Cases of ../shared/corpus/sqldef/psqldef that fail today (see tests/test_corpus_postgresql.py).",
            "# One `file::case  # reason` per line. A case failing that is not listed fails the test; a listed",
            "# case that no longer fails fails it too (remove its line).",
        ]
        for key in sorted(failing):
            reason = self.entries.get(key) or " ".join(failing[key].split())[:160]
            lines.append(f"{key}  # {reason}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -------------------------------------------------------------------------------------------------
# Per-file outcome against the list
# -------------------------------------------------------------------------------------------------

KNOWN = "known-fail"


@dataclass
class Verdict:
    report: FileReport
    known: dict[str, str]  # the list's entries for this file (case -> comment)

    @property
    def known_failing(self) -> list[Any]:
        return [r for r in self.report.failures if r.case in self.known]

    @property
    def unexpected(self) -> list[Any]:
        return [r for r in self.report.failures if r.case not in self.known]

    @property
    def stale(self) -> list[tuple[str, str]]:
        """Listed cases that pass now, or that the corpus file no longer has."""
        ran = {r.case: r for r in self.report.results}
        out = []
        for case in self.known:
            r = ran.get(case)
            if r is None:
                if not _selection():
                    out.append((case, "no such case in the corpus file"))
            elif r.outcome == PASS:
                out.append((case, "passes now"))
        return out

    @property
    def known_skipped(self) -> list[Any]:
        """Listed cases this server skips: not stale (another server may run them), just reported."""
        return [r for r in self.report.of(SKIP) if r.case in self.known]

    def counts_line(self) -> str:
        c = self.report.counts
        k = len(self.known_failing)
        return (f"{self.report.file}: {len(self.report.results)} cases, {c[PASS]} pass, {c[SKIP]} skip, "
                f"{k} {KNOWN}, {c[FAIL] - k} fail")


_verdicts: list[Verdict] = []


def format_verdicts(verdicts: list[Verdict]) -> list[str]:
    verdicts = sorted(verdicts, key=lambda v: v.report.file)
    lines = [v.counts_line() for v in verdicts]
    if len(verdicts) > 1:
        total = FileReport("total", [r for v in verdicts for r in v.report.results])
        c, k = total.counts, sum(len(v.known_failing) for v in verdicts)
        lines.append(f"total: {len(total.results)} cases, {c[PASS]} pass, {c[SKIP]} skip, {k} {KNOWN}, {c[FAIL] - k} fail")
    skipped = [(v.report.file, r) for v in verdicts for r in v.report.of(SKIP)]
    if skipped:
        lines.append("skipped:")
        lines += [f"  {file}::{r.case}: {r.reason}" for file, r in skipped]
    known = [(v.report.file, r) for v in verdicts for r in v.known_failing]
    if known:
        lines.append(f"known failures ({KNOWN_FAILURES.name}):")
        lines += [f"  {file}::{r.case}: {r.reason}" for file, r in known]
    known_skipped = [(v.report.file, r) for v in verdicts for r in v.known_skipped]
    if known_skipped:
        lines.append(f"listed in {KNOWN_FAILURES.name} but skipped on this server (not run, kept):")
        lines += [f"  {file}::{r.case}" for file, r in known_skipped]
    unexpected = [(v.report.file, r) for v in verdicts for r in v.unexpected]
    if unexpected:
        lines.append(f"failed, not in {KNOWN_FAILURES.name}:")
        lines += [f"  {file}::{r.case}: {r.reason}" for file, r in unexpected]
    stale = [(v.report.file, case, why) for v in verdicts for case, why in v.stale]
    if stale:
        lines.append(f"no longer failing, remove from {KNOWN_FAILURES}:")
        lines += [f"  {file}::{case}  ({why})" for file, case, why in stale]
    return lines


class _CorpusSummary:
    """Registered as a plugin for the session: prints the counts in pytest's terminal summary."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not _verdicts:
            return
        terminalreporter.write_sep("-", f"sqldef corpus on postgresql ({PG_CASES.resolve()})")
        for line in format_verdicts(_verdicts):
            terminalreporter.write_line(line)


def _selection() -> list[str] | None:
    raw = os.environ.get("DBWARDEN_CORPUS_CASES", "").strip()
    return [p.strip() for p in raw.split(",") if p.strip()] or None


def _selected(case: str) -> bool:
    patterns = _selection()
    return patterns is None or any(fnmatch.fnmatchcase(case, p) for p in patterns)


# -------------------------------------------------------------------------------------------------
# Databases: one pair per worker, emptied before each case
# -------------------------------------------------------------------------------------------------


class DatabasePair:
    """Two databases on the server, reset to empty (in a few ms) before each case."""

    def __init__(self, server: Any):
        from dbwarden_nb.backends import get_backend

        self.server = server
        self.backend = get_backend("postgresql")
        self.names: list[str] = []
        self.admin: list[Any] = []  # one connection per database, used only to empty it
        for _ in range(2):
            name = server.create_database()
            self.names.append(name)
            conn = self.backend.connect(server.database_url(name))
            self.admin.append(conn)
            # throwaway databases: no commit waits for its WAL flush (the cases commit a lot of DDL)
            conn.execute(f"ALTER DATABASE {conn.backend.quote(name)} SET synchronous_commit = off")
            conn.execute("SET synchronous_commit = off")

    @property
    def urls(self) -> tuple[str, str]:
        a, b = (self.server.database_url(n) for n in self.names)
        return a, b

    def reset(self) -> None:
        for conn in self.admin:
            reset_database(conn)

    def close(self) -> None:
        for conn in self.admin:
            conn.close()
        for name in self.names:
            self.server.drop_database(name)

    @contextmanager
    def fresh(self, case: str) -> Iterator[tuple[str, str]]:
        self.reset()
        yield self.urls

    def flavors(self) -> frozenset[str]:
        rows = self.admin[0].query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        return frozenset({"pgvector"}) if rows else frozenset()


def user_schemas(conn: Any) -> list[str]:
    return [r[0] for r in conn.query(USER_SCHEMAS, {"system": list(SYSTEM_SCHEMAS)})]


def reset_database(conn: Any) -> None:
    """Drop everything a case may have created: extensions, event triggers, every user schema."""
    quote = conn.backend.quote
    with conn.transaction():
        for (name,) in conn.query("SELECT evtname FROM pg_event_trigger"):
            conn.execute(f"DROP EVENT TRIGGER IF EXISTS {quote(name)} CASCADE")
        for (name,) in conn.query("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"):
            conn.execute(f"DROP EXTENSION IF EXISTS {quote(name)} CASCADE")
        for name in user_schemas(conn):
            conn.execute(f"DROP SCHEMA {quote(name)} CASCADE")
        # public as a new database has it (PostgreSQL 15: owned by pg_database_owner, usable by everyone)
        conn.execute("CREATE SCHEMA public")
        if conn.query("SELECT 1 FROM pg_roles WHERE rolname = 'pg_database_owner'"):
            conn.execute("ALTER SCHEMA public OWNER TO pg_database_owner")
        conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
        conn.execute("COMMENT ON SCHEMA public IS 'standard public schema'")
    left = user_schemas(conn)
    if left != ["public"]:
        raise RuntimeError(f"cannot empty database for the next corpus case: schemas {left} remain")


# -------------------------------------------------------------------------------------------------
# What sqldef's own test setup gives a case (cmd/psqldef/psqldef_test.go)
# -------------------------------------------------------------------------------------------------

# ``user: psqldef_user``: sqldef runs the case as a role whose search_path is ``foo, public`` and that owns
# a schema ``foo``; the case's default schema is foo. No role is created here: the same search_path and
# schema give the connection the same default schema.
USER_SCHEMA = "foo"

_CREATE_SCHEMA = re.compile(r'^CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[^\s;"(]+)', re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def declared_schemas(ddl: str) -> set[str]:
    """The schemas a case's DDL creates (names as the server stores them)."""
    found = set()
    for sql in statements(ddl):
        m = _CREATE_SCHEMA.match(_COMMENTS.sub(" ", sql).strip())
        if m and m.group(1).upper() != "AUTHORIZATION":
            name = m.group(1)
            found.add(name[1:-1].replace('""', '"') if name.startswith('"') else name.lower())
    return found


def prepare(case: Mapping[str, Any], conn: Any, which: str) -> None:
    """Before the case's DDL: its user's default schema, and on B the schemas ``current`` created.

    sqldef applies ``desired`` to the database ``current`` built and never drops a schema, so a desired
    schema may use a schema only ``current`` declares (``CREATE SCHEMA test`` in current, ``CREATE TABLE
    test.t`` in desired). Schemas only ``desired`` declares are not created on A: creating them is the
    migration's job."""
    own = declared_schemas(case.get(which) or "")
    wanted = {USER_SCHEMA} if case.get("user") else set()
    if which == "desired":
        wanted |= declared_schemas(case.get("current") or "")
    for name in sorted(wanted - own):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {conn.backend.quote(name)}")
    if case.get("user"):
        conn.execute(f"SET search_path TO {conn.backend.quote(USER_SCHEMA)}, public")


def _workers() -> int:
    raw = os.environ.get("DBWARDEN_CORPUS_WORKERS", "").strip()
    return max(1, int(raw)) if raw else 4


def _files_to_run(request: pytest.FixtureRequest) -> list[str]:
    """The corpus files whose tests this session collected (all of them, unless ``-k`` or a node id chose)."""
    chosen = set()
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if getattr(item, "module", None) is request.module and params.get("corpus_file") in FILES:
            chosen.add(params["corpus_file"])
    return sorted(chosen)


def run_corpus(server: Any, files: list[str], workers: int) -> dict[str, FileReport]:
    """Every selected case of ``files``, spread over ``workers`` threads, each with a database pair of its
    own (the time goes to the server: catalog reads and DDL, not Python)."""
    jobs = [(file, name, case) for file in files for name, case in load_cases(PG_CASES / file).items()
            if _selected(name)]
    pairs: queue.SimpleQueue[DatabasePair] = queue.SimpleQueue()
    made: list[DatabasePair] = []
    try:
        for _ in range(max(1, min(workers, len(jobs)))):
            made.append(DatabasePair(server))
            pairs.put(made[-1])
        probe = made[0].admin[0]
        version, flavors = probe.backend.server_version(probe), made[0].flavors()

        def run(job: tuple[str, str, Mapping[str, Any]]) -> CaseResult:
            _, name, case = job
            pair = pairs.get()
            try:
                target = Target("postgresql", pair.fresh, flavors=flavors, server_version=version,
                                schemas=user_schemas, prepare=prepare, dump=engine_dump,
                                manages=frozenset({"triggers", "functions and procedures", "extensions",
                                                  "row-level security policies"}))
                return run_case(name, case, target)
            finally:
                pairs.put(pair)

        with ThreadPoolExecutor(len(made)) as pool:
            results = list(pool.map(run, jobs))
    finally:
        for pair in made:
            pair.close()
    reports = {file: FileReport(file) for file in files}
    for (file, _, _), result in zip(jobs, results):
        reports[file].results.append(result)
    return reports


@pytest.fixture(scope="module")
def pg_reports(postgresql_server, request: pytest.FixtureRequest) -> dict[str, FileReport]:
    """The reports of every corpus file this session runs, computed once, on the first test."""
    return run_corpus(postgresql_server, _files_to_run(request), _workers())


@pytest.fixture(scope="module", autouse=True)
def _corpus_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    name = "dbwarden-corpus-postgresql-summary"
    if request.config.pluginmanager.get_plugin(name) is None:
        request.config.pluginmanager.register(_CorpusSummary(), name)
    yield
    if os.environ.get("DBWARDEN_CORPUS_WRITE_KNOWN"):
        _write_known()


def _write_known() -> None:
    done = {v.report.file for v in _verdicts}
    if _selection() or set(FILES) - done:
        raise RuntimeError("DBWARDEN_CORPUS_WRITE_KNOWN needs a run of every case of every corpus file")
    failing = {f"{v.report.file}::{r.case}": r.reason for v in _verdicts for r in v.report.failures}
    KnownFailures.read(KNOWN_FAILURES).write(KNOWN_FAILURES, failing)


# -------------------------------------------------------------------------------------------------
# The test
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus_file", FILES or [MISSING])
def test_sqldef_corpus(corpus_file: str, request: pytest.FixtureRequest) -> None:
    if corpus_file == MISSING:
        corpus_missing(PG_CASES)
    report = request.getfixturevalue("pg_reports")[corpus_file]
    verdict = Verdict(report, KnownFailures.read(KNOWN_FAILURES).of_file(corpus_file))
    _verdicts.append(verdict)
    unexpected, stale = verdict.unexpected, verdict.stale
    if not unexpected and not stale:
        return
    verbose = os.environ.get("DBWARDEN_CORPUS_VERBOSE", "")
    lines = [verdict.counts_line()]
    if unexpected:
        lines.append(f"{len(unexpected)} case(s) failed that {KNOWN_FAILURES.name} does not list:")
        for r in unexpected:
            lines.append(f"  {r.case}: {r.reason}")
            if verbose and r.detail:
                lines += [f"      {line}" for line in r.detail.splitlines()]
    if stale:
        lines.append(f"{len(stale)} case(s) listed in {KNOWN_FAILURES} no longer fail; remove these lines:")
        lines += [f"  {corpus_file}::{case}  ({why})" for case, why in stale]
    if verbose == "all":
        for r in verdict.known_failing:
            lines.append(f"  (known) {r.case}: {r.reason}")
            lines += [f"      {line}" for line in r.detail.splitlines()]
    pytest.fail("\n".join(lines), pytrace=False)
