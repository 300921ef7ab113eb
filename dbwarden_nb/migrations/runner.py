"""Applying and reverting migration files under the lock, with history and integrity checks.

The runner knows files, statements, history and locks; it never diffs or generates code.
Transactional backends apply each migration whole or not at all; the others record progress per
statement, so a failure leaves a stated ``partial`` row that the next run continues from, or that
``rollback --force`` undoes by the rollback statements marked as undoing what ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends.base.connection import PipelineFailure
from ..errors import DbwardenError, FailedAfterEffect, IntegrityError, LockError, MigrationError, UsageError
from .classify import SEVERITIES, classify, first_line
from .files import MigrationFile, RowCheck, Statement, read_migrations, with_directives
from .history import (
    APPLIED,
    FAILED,
    HISTORY_FIELDS,
    PARTIAL,
    REPAIRED,
    ROLLED_BACK,
    ROLLING_BACK,
    RUNNING,
    History,
    HistoryRow,
    row_progress,
)

if TYPE_CHECKING:
    from ..backends.base import Backend, Connection
    from .lock import Lock

BASELINE = 0  # the row `baseline` writes: the adopted schema, never rolled back

Progress = Callable[[str, "MigrationFile | None", int, int], None]
# progress(event, file, step, total): "wait" (no file) once when the lock is busy; "begin" (no file; total: the
# migrations this run applies); per migration "start" (step: statements an earlier partial run completed), then
# "statement" before each statement runs (step: its index), "step" after each committed chunk, "done". A callback
# with a ``running(sql)`` method is also handed each statement's SQL, just before its "statement" event.


@dataclass(frozen=True)
class State:
    """Files on disk against rows in history."""

    files: tuple[MigrationFile, ...]
    rows: tuple[HistoryRow, ...]
    display_dir: str

    @property
    def applied(self) -> dict[int, HistoryRow]:
        return {r.version: r for r in self.rows if r.status == APPLIED}

    @property
    def partial(self) -> dict[int, HistoryRow]:
        """Migrations that stopped part-way, upgrading or (``rolling_back``) rolling back."""
        return {r.version: r for r in self.rows if r.status != APPLIED}

    @property
    def pending(self) -> list[MigrationFile]:
        applied = self.applied
        return [f for f in self.files if f.version not in applied]

    def path_of(self, f: MigrationFile | HistoryRow) -> str:
        return f"{self.display_dir}/{f.filename}"

    def problems(self) -> list[str]:
        """Every integrity problem, each one line: edited or deleted applied files, applied out of order."""
        by_version = {f.version: f for f in self.files}
        found = []
        for row in self.rows:
            if row.version == BASELINE:  # the adopted schema: a snapshot, no file
                continue
            f = by_version.get(row.version)
            if f is None:
                found.append(f"deleted migration: {self.display_dir}/{row.filename} was applied as {row.checksum} "
                             "and is missing from disk")
            elif f.matches(row.checksum):  # of either kind: a database migrated before holds the first kind
                continue
            elif (moved := self._moved(row)) is not None:
                found.append(f"applied in another order: {self.display_dir}/{row.filename} was applied here as "
                             f"{row.version:04d} ({row.checksum}), but the chain now numbers it {moved.filename} and "
                             f"has {f.filename} at {row.version:04d} (rebased for a database that applied them in "
                             "another order); migrating this database would skip or repeat them: roll it back to "
                             f"{row.version - 1:04d} first, or rebase against this database")
            else:
                way_out = (f"it stopped part-way: once the statement that failed is fixed, 'dbwarden repair "
                           f"{row.version:04d}' records the new checksum" if row.status != APPLIED else
                           "an applied migration must not change: restore the file as it was applied, e.g. with git, "
                           "and put the change in a new migration")
                found.append(f"checksum mismatch: {self.path_of(f)} was applied as {row.checksum} and now reads "
                             f"{f.checksum} ({way_out})")
        found += chain_breaks(self.files, self.display_dir)
        if self.rows:
            newest = max(r.version for r in self.rows)
            for f in self.files:
                if f.version < newest and f.version not in {r.version for r in self.rows}:
                    found.append(f"out of order: {self.path_of(f)} is older than applied migration {newest:04d} "
                                 "but was never applied")
        return found

    def _moved(self, row: HistoryRow) -> MigrationFile | None:
        """The file that now holds what ``row`` applied, under another number (a rebase reordered them)."""
        return next((f for f in self.files if f.version != row.version and f.matches(row.checksum)), None)

    def check(self) -> None:
        problems = self.problems()
        if problems:
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            raise IntegrityError(problems[0] + more)


def chain_breaks(files: Sequence[MigrationFile], display_dir: str) -> list[str]:
    """Generated files whose ``-- base:`` is not the previous generated file's ``-- target:`` (two branches' migrations
    merged one after the other): each one line naming ``dbwarden rebase``. Manual files (no snapshots) are skipped."""
    found = []
    for before, f in pairwise(files):
        if before.target is not None and f.base is not None and f.base != before.target:
            found.append(f"broken chain: {display_dir}/{f.filename} starts from {f.base}, but {before.filename} ends at "
                         f"{before.target} (two branches merged?): run 'dbwarden rebase' to re-plan it")
    return found


@dataclass
class Applied:
    """What one runner call did to one migration."""

    version: int
    description: str
    direction: str  # "upgrade" | "rollback"
    statements: int
    duration_ms: int = 0
    resumed_from: int = 0
    transactions: int = 0  # committed in this many transactions to stay within the server's lock table (0: one)
    lock_budget: int = 0  # the locks each of them was allowed

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description, "direction": self.direction,
                "statements": self.statements, "resumed_from": self.resumed_from,
                "transactions": self.transactions or 1}


@dataclass
class RunResult:
    direction: str
    applied: list[Applied] = field(default_factory=list)
    planned: list[MigrationFile] = field(default_factory=list)
    dry_run: bool = False
    script: str | None = None
    resumes: dict[int, tuple[int, int]] = field(default_factory=dict)  # version: (statements already run, of total)


class Runner:
    def __init__(
        self,
        backend: Backend,
        conn: Connection,
        migrations_dir: Path,
        display_dir: str,
        dev: bool = False,
        lock_timeout: float = 60.0,
        parsed_cache: Path | None = None,
    ):
        self.backend = backend
        self.parsed_cache = parsed_cache  # files parsed before are not parsed again (parsed.py)
        self.conn = conn
        self.dir = migrations_dir
        self.display_dir = display_dir
        self.dev = dev
        self.history = History(conn)
        self.lock_timeout = lock_timeout
        self.lock: Lock | None = None  # held while migrate/rollback run

    def state(self) -> State:
        return State(tuple(read_migrations(self.dir, self.parsed_cache)), tuple(self.history.rows()), self.display_dir)

    # -- choosing ---------------------------------------------------------------------------------

    def statements(self, f: MigrationFile, direction: str) -> Sequence[Statement]:
        """The statements ``migrate``/``rollback`` run (with --dev, the SQLite ones), built one at a time as they run
        (``MigrationFile.section``): a file of any size is never held as statement objects."""
        if not self.dev:
            return f.section(direction) or ()
        found = f.section(f"dev-{direction}")
        if found is None or f.section("dev-rollback" if direction == "upgrade" else "dev-upgrade") is None:
            raise MigrationError(
                f"{self.display_dir}/{f.filename} has no '-- dev-upgrade: sqlite' / '-- dev-rollback: sqlite' "
                "sections; run 'dbwarden translate --add-dev-sections' (or add SQLite versions of its statements) "
                "to run it with --dev"
            )
        return found

    def select(self, state: State, count: int | None, to_version: int | None) -> list[MigrationFile]:
        pending = state.pending
        if to_version is not None:
            if to_version not in {f.version for f in state.files}:
                raise UsageError(f"--to-version {to_version:04d}: no such migration in {self.display_dir}")
            pending = [f for f in pending if f.version <= to_version]
        if count is not None:
            if count < 1:
                raise UsageError("--count must be at least 1")
            pending = pending[:count]
        return pending

    def severity(self, f: MigrationFile, direction: str) -> tuple[str, str]:
        """(severity, why) of running ``f`` one way: as its header says while it is as make-migrations wrote it; a
        file written or edited by hand also by what its statements do (the higher of the two)."""
        header = f.severity if direction == "upgrade" else f.rollback_severity
        if f.generated is not None and not f.edited:
            return header, ""
        worst = max(((level, why) for level, why in map(classify, (s.sql for s in self.statements(f, direction)))),
                    key=lambda found: SEVERITIES.index(found[0]), default=("INFO", ""))
        return worst if SEVERITIES.index(worst[0]) > SEVERITIES.index(header) else (header, "")

    def guard(self, files: Iterable[MigrationFile], force: bool, direction: str = "upgrade") -> None:
        for f in files:
            if force:
                continue
            where = f"{self.display_dir}/{f.filename}"
            severity, why = self.severity(f, direction)
            if severity != "INFO":
                what = f"{where} is {severity}" if direction == "upgrade" else f"the rollback of {where} is {severity}"
                because = f" ({why})" if why else ""
                raise MigrationError(f"{what}{because} (see 'dbwarden check'); re-run with --force to "
                                     f"{'apply' if direction == 'upgrade' else 'roll back'} it")
            reason = next((s.irreversible for _, s in with_directives(f.section("rollback") or ()) if s.irreversible),
                          None)
            if reason is not None:
                if direction == "upgrade":
                    raise MigrationError(f"{where} cannot be rolled back ({reason}); re-run with --force to apply it")
                raise MigrationError(f"rollback of {where} is irreversible ({reason}); re-run with --force")

    def script(self, files: Sequence[MigrationFile]) -> str:
        """The full SQL a migrate would run, history writes included, for review (``migrate --sql``)."""
        if not files:
            return "-- nothing to migrate"
        lit = self.backend.literal
        q = self.backend.quote
        lines: list[str] = [sql + ";" for sql in self.backend.history_ddl()] + [""]
        for f in files:
            statements = self.statements(f, "upgrade")
            lines.append(f"-- {self.display_dir}/{f.filename}")
            lines += [sql + ";" for sql in self.backend.timeout_statements()]  # what before_migration sets
            wrap = self.backend.transactional_ddl and all(s.transactional for s in statements)
            lines += ["BEGIN;"] if wrap else []
            for stmt in statements:
                lines += [] if stmt.transactional else ["-- dbwarden: no-transaction"]
                lines.append(stmt.sql + ";")
            values = [str(f.version), lit(f.description), lit(f.filename), lit(f.checksum), lit(APPLIED),
                      str(len(statements)), lit(datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")), "0",
                      lit(f.target) if f.target else "NULL"]
            cols = ", ".join(q(c) for c in HISTORY_FIELDS)
            lines += [f"INSERT INTO {q(table)} ({cols}) VALUES ({', '.join(values)});"
                      for table in (self.backend.history_table, self.backend.log_table)]
            lines += ["COMMIT;"] if wrap else []
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    # -- applying ---------------------------------------------------------------------------------

    @contextmanager
    def locked(self, progress: Progress | None = None) -> Iterator[Lock]:
        lock = self.backend.lock(self.conn)
        lock.acquire(self.lock_timeout, on_wait=(lambda: progress("wait", None, 0, 0)) if progress else None)
        self.lock = lock
        failed = True
        try:
            yield lock
            failed = False
        finally:
            self.lock = None
            self._release(lock, failed)

    def _release(self, lock: Lock, failed: bool) -> None:
        """Release the lock; if that fails the run's own outcome still stands, and the error says what is left."""
        try:
            self.conn.rollback()
            lock.release()
        except Exception as exc:  # noqa: BLE001  whatever broke, the lock's state decides
            if failed or (lock.session and self.conn.lost):  # the server ended the session, and the lock with it
                return
            raise LockError(f"the run finished, but releasing the migration lock failed ({_reason(exc)}); it is free "
                            "once its lease expires, or at once with 'dbwarden unlock'") from None

    def migrate(
        self,
        count: int | None = None,
        to_version: int | None = None,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress | None = None,
    ) -> RunResult:
        if dry_run:
            state = self.state()
            state.check()
            files = self.select(state, count, to_version)
            self.refuse_rolling_back(state, files)
            resumes = {f.version: (state.partial[f.version].statements_completed, len(self.statements(f, "upgrade")))
                       for f in files if f.version in state.partial}
            return RunResult("upgrade", planned=files, dry_run=True, resumes=resumes)
        with self.locked(progress) as lock:
            self.history.ensure()
            state = self.state()  # read under the lock: another runner may have just finished
            state.check()
            self.upgrade_checksums(state)
            files = self.select(state, count, to_version)
            self.refuse_rolling_back(state, files)
            self.refuse_unwritten(files)
            self.guard(files, force)
            result = RunResult("upgrade", planned=files)
            _begin(progress, files)
            for f in files:
                lock.renew()
                row = state.partial.get(f.version)
                result.applied.append(self.apply(f, "upgrade", row.statements_completed if row else 0, progress, row,
                                                 force=force))
            return result

    def upgrade_checksums(self, state: State) -> None:
        """History rows holding the first kind of checksum (of split statements) get their file's checksum of the
        text, which status and check compute without splitting; checked already (``state.check``), so nothing else
        changes. Where history is only added to (ClickHouse), they are left as they are and keep verifying."""
        by_version = {f.version: f for f in state.files}
        stale = [(row, by_version[row.version]) for row in state.rows
                 if row.version in by_version and row.checksum != by_version[row.version].checksum]
        if not stale or not self.backend.transactional_history:
            return
        with self.conn.transaction():
            if self.lock is not None:
                self.lock.verify()
            for row, f in stale:
                self.history.set_checksum(row, f.checksum)

    def refuse_unwritten(self, files: Iterable[MigrationFile]) -> None:
        """A manual migration with no upgrade statement is a ``dbwarden new`` file not written yet: applied, it
        would be history that a later edit contradicts."""
        for f in files:
            if f.is_manual and not self.statements(f, "upgrade"):
                raise MigrationError(f"{self.display_dir}/{f.filename} has no upgrade statement yet (a 'dbwarden new' "
                                     "file): write its statements, or delete the file")

    def refuse_rolling_back(self, state: State, files: Iterable[MigrationFile]) -> None:
        """A migration whose rollback stopped part-way is finished by ``rollback``, never re-applied over its
        half-undone state."""
        for f in files:
            row = state.partial.get(f.version)
            if row is not None and row.status == ROLLING_BACK:
                raise MigrationError(f"{self.display_dir}/{f.filename} is being rolled back ({row_progress(row)}); run "
                                     "'dbwarden rollback' to finish rolling it back, then 'dbwarden migrate'")

    def rollback(
        self,
        count: int | None = 1,
        to_version: int | None = None,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress | None = None,
    ) -> RunResult:
        with self.locked(progress) as lock:
            if self.history.exists():  # a database migrated before the audit trail existed gets it now
                self.history.ensure()
            state = self.state()
            state.check()
            by_version = {f.version: f for f in state.files}
            # a migration that stopped half-way is the newest one: with --force, just what ran of it is undone; one
            # whose rollback stopped half-way is rolled back from where that stopped
            unfinished = sorted((r for r in state.partial.values() if to_version is None or r.version > to_version),
                                key=lambda r: r.version, reverse=True)
            resumed = [(by_version[r.version], r.statements_completed) for r in unfinished if r.status == ROLLING_BACK]
            undo = [(by_version[r.version], self.undo_of_partial(by_version[r.version], r, force))
                    for r in unfinished if r.status != ROLLING_BACK]
            applied = sorted((r for r in state.applied.values() if r.version != BASELINE), key=lambda r: r.version, reverse=True)
            if to_version is not None:
                if to_version != 0 and to_version not in state.applied:
                    raise UsageError(f"--to {to_version:04d} is not an applied migration")
                rows = [r for r in applied if r.version > to_version]
            else:
                rows = applied[: max((count or 1) - len(undo) - len(resumed), 0)]
            files = [by_version[r.version] for r in rows]
            self.guard([f for f, _ in resumed] + files, force, "rollback")
            result = RunResult("rollback", planned=[f for f, _ in resumed] + [f for f, _ in undo] + files,
                               dry_run=dry_run, resumes={f.version: (ran, len(self.statements(f, "rollback")))
                                                         for f, ran in resumed})
            if dry_run:
                return result
            _begin(progress, result.planned)
            for f, ran in resumed:
                lock.renew()
                result.applied.append(self.apply(f, "rollback", ran, progress, force=force))
            for f, statements in undo:
                lock.renew()
                result.applied.append(self.apply(f, "rollback", 0, progress, statements=statements, force=force,
                                                 undoing_partial=True))
            for f in files:
                lock.renew()
                result.applied.append(self.apply(f, "rollback", 0, progress, force=force))
            return result

    def repair(self, version: int, force: bool = False) -> tuple[HistoryRow, MigrationFile]:
        """Re-record the checksum of a migration that stopped part-way, after its file was fixed: the statements that
        ran stay counted as run, and the next migrate (or, for a rollback that stopped, rollback) continues after
        them. A ``running`` row (a statement that may or may not have taken effect) needs ``force``: the user says
        it did not, or undid it by hand."""
        self._repairable(self.state(), version, force)  # refused before the lock: a wrong version writes nothing
        with self.locked() as lock:
            row, f, section = self._repairable(self.state(), version, force)
            repaired = replace(row, checksum=f.checksum, filename=f.filename, description=f.description,
                               status=ROLLING_BACK if section == "rollback" else PARTIAL, target=f.target)
            with self.conn.transaction():
                lock.verify()
                self.history.ensure()
                self.history.record(repaired)
                self.history.log(replace(repaired, status=REPAIRED))
            return repaired, f

    def undo_of_partial(self, f: MigrationFile, row: HistoryRow, force: bool) -> tuple[Statement, ...]:
        """The rollback statements that undo what ran of a migration that stopped half-way: those whose
        ``-- dbwarden: undoes`` steps all ran, in the order of the rollback section. Refused (one line saying why
        and what to do) without --force, when a statement may or may not have taken effect, when the file does not
        say which statement undoes which, and when a step of several statements stopped in its middle."""
        where, ran = f"{self.display_dir}/{f.filename}", row.statements_completed
        if not force:
            raise MigrationError(f"{where} is {row.status} ({row_progress(row)}); run 'dbwarden migrate' to finish it, "
                                 "or 'dbwarden rollback --force' to undo what ran of it")
        if row.status == RUNNING:
            raise MigrationError(f"{where} is {row.status} ({row_progress(row)}): what to undo is not known; undo by hand "
                                 f"what statement {ran + 1} did if it did anything, then run 'dbwarden migrate' to finish it")
        rollback = self.statements(f, "rollback")
        finish = "fix the cause, run 'dbwarden migrate' to finish it, and then 'dbwarden rollback' undoes all of it"
        if not rollback or any(s.undoes is None for s in rollback):
            raise MigrationError(f"{where} is partial ({ran} statement(s) ran), but its rollback section does not say "
                                 "which upgrade statements each of its statements undoes, so the ones that ran cannot be "
                                 f"undone alone: mark each with '-- dbwarden: undoes N' (or 'N-M'), or {finish}")
        for s in rollback:
            first, last = s.undoes or (0, 0)
            if first <= ran < last:
                raise MigrationError(f"{where} is partial: statements {first}-{ran} of a step that ends at statement "
                                     f"{last} ran, and its rollback undoes the whole step; {finish}")
        return tuple(s for s in rollback if s.undoes is not None and s.undoes[1] <= ran)

    def _repairable(self, state: State, version: int, force: bool) -> tuple[HistoryRow, MigrationFile, str]:
        """The row and file ``repair`` would re-record, and the section whose statements ran; else why not."""
        row = state.partial.get(version)
        f = {f.version: f for f in state.files}.get(version)
        if row is None:
            known = state.applied.get(version)
            raise UsageError(f"repair {version:04d}: " + (
                "it is applied; repair re-records only a migration that stopped part-way (partial)" if known
                else "no migration of that version stopped part-way (see 'dbwarden status')"))
        if f is None:
            raise UsageError(f"repair {version:04d}: {self.display_dir}/{row.filename} is missing from disk")
        if row.status == RUNNING and not force:
            raise MigrationError(f"repair {version:04d}: {self.display_dir}/{f.filename} is running "
                                 f"({row_progress(row)}); if statement {row.statements_completed + 1} did not take "
                                 "effect, or you undid it by hand, re-run with --force")
        section = "rollback" if row.status == ROLLING_BACK else "upgrade"
        total = len(self.statements(f, section))
        if row.statements_completed >= total:
            raise MigrationError(f"repair {version:04d}: the {section} of {self.display_dir}/{f.filename} now has "
                                 f"{total} statement(s), but {row.statements_completed} of it already ran; keep "
                                 "the statements that ran and fix the one that failed")
        return row, f, section

    def apply(self, f: MigrationFile, direction: str, skip: int, progress: Progress | None,
              resumed: HistoryRow | None = None, statements: Sequence[Statement] | None = None,
              force: bool = False, undoing_partial: bool = False) -> Applied:
        """Run ``f``'s statements (or ``statements`` of it) after the first ``skip``. A run of statements that can share
        a transaction with the history write commits together with it; any other statement (DDL where the server
        commits it on its own, a ``no-transaction`` one) is preceded by a committed ``running`` row, so that if this
        process or its connection dies while it runs, history says the statement may have taken effect.

        The statements' checks of the data run first, all that can before anything runs (a check of a column an
        earlier statement adds waits for it), in a file as make-migrations wrote it, whose steps change no rows;
        in a file written or edited by hand, each just before its statement (one before it may fix the rows).
        Rows they count stop the migration, unless ``force`` and the check is soft (the statement then fails on
        those rows itself).

        A rollback's progress is recorded too: ``rolling_back`` with the rollback statements that ran, or, when it
        undoes what ran of a partial upgrade (``undoing_partial``), the upgrade statements still in effect."""
        statements = self.statements(f, direction) if statements is None else statements
        as_generated = f.generated is not None and not f.edited
        deferred = (self.checked(f, direction, statements, skip, force) if as_generated
                    else {n for n, s in with_directives(statements) if s.checks})

        def run(at: int, stmt: Statement) -> None:
            if at in deferred:
                self._check_rows(f, direction, at, stmt, force, must_read=True)
            _running(progress, f, at, total, stmt)
            self._execute(stmt)

        def check(at: int, stmt: Statement) -> None:
            self._check_rows(f, direction, at, stmt, force, must_read=True)

        started = time.monotonic()
        total = len(statements)
        undo_marks = [s.undoes for s in statements] if undoing_partial else None
        if progress:
            progress("start", f, skip, total)
        self.backend.before_migration(self.conn)
        done = skip  # statements whose effect is committed
        budget = self._lock_budget()
        transactions = 0
        for first, stop, atomic, last in _chunks(statements, skip, self._atomic):
            at = begin = first
            while begin < stop:
                try:
                    if atomic:
                        with self.conn.transaction():
                            end = self._run_atomic(f, statements, begin, stop, deferred, check, progress, budget)
                            if last and end == stop:
                                self.backend.before_commit(self.conn)
                            self._recorded(f, direction, end, total, started, undoing=undo_marks)
                        transactions += 1
                    else:
                        end = stop
                        self._recorded(f, direction, done, total, started, RUNNING, undo_marks)
                        run(at, statements[at])
                        self._recorded(f, direction, stop, total, started, undoing=undo_marks)
                    done = begin = end
                except _Failed as failed:
                    self._fail(f, direction, statements, failed.at, done, started, failed.error,
                               resumed if failed.at == skip else None)
                except MigrationError as exc:
                    self._fail(f, direction, statements, at, done, started, exc, resumed if at == skip else None)
                except Exception as exc:  # noqa: BLE001 (writing history or committing: the connection broke, or the lease was lost)
                    raise self._unrecorded(f, at, total, exc) from None
                if progress:
                    progress("step", f, done, total)
        if skip >= total:  # an empty migration still becomes history
            with self.conn.transaction():
                self.backend.before_commit(self.conn)
                self._recorded(f, direction, done, total, started, undoing=undo_marks)
        if progress:
            progress("done", f, total, total)
        return Applied(f.version, f.description, direction, total - skip, int((time.monotonic() - started) * 1000), skip,
                       transactions if budget is not None and transactions > 1 else 0, budget or 0)

    def _lock_budget(self) -> int | None:
        """The locks one transaction of a migration may take before it commits and goes on in the next: a quarter of
        the server's lock table (shared by every session; a statement or a batch may go past it), None where the
        server has no such limit."""
        capacity = self.backend.lock_capacity(self.conn) if self.backend.transactional_ddl else None
        return None if capacity is None else max(capacity // 4, 1)

    def _run_atomic(self, f: MigrationFile, statements: Sequence[Statement], begin: int, stop: int, deferred: set[int],
                    check: Callable[[int, Statement], None], progress: Progress | None, budget: int | None) -> int:
        """Run ``statements[begin:stop]`` in the open transaction, sent in batches without waiting for each result
        where the driver can (psycopg's pipeline mode): a failure names its own statement. Returns where it stopped:
        ``stop``, or earlier once the transaction holds ``budget`` locks (a 2,000-table migration takes ~14,000,
        more than a default PostgreSQL's lock table holds), to commit there and go on in a new transaction."""
        at = begin
        while at < stop:
            if at in deferred:  # its check reads what the statements before it create: run outside any batch
                try:
                    check(at, statements[at])
                except MigrationError as exc:
                    raise _Failed(at, exc) from None
            end = min([stop, at + _BATCH] + [n for n in deferred if at < n < stop])
            self._send(f, statements, at, end, progress)
            at = end
            if budget is not None and at < stop and self.backend.locks_held(self.conn) >= budget:
                return at
        return stop

    def _send(self, f: MigrationFile, statements: Sequence[Statement], begin: int, end: int,
              progress: Progress | None) -> None:
        """Send ``statements[begin:end]`` in one pipeline and wait for them; a failure names its statement."""
        with self.backend.pipeline(self.conn) as pipe:
            try:
                for at in range(begin, end):
                    stmt = statements[at]
                    _running(progress, f, at, len(statements), stmt)
                    pipe.send(stmt.sql)
                pipe.sync()
            except PipelineFailure as exc:
                failed = begin + exc.position
                error = exc.error if isinstance(exc.error, MigrationError) else \
                    self.backend.failure(exc.error, statements[failed].sql)
                raise _Failed(failed, error) from None


    def _atomic(self, stmt: Statement) -> bool:
        """Whether the statement's effect commits or rolls back with the history write of its transaction."""
        if self.backend.transactional_ddl:
            return stmt.transactional
        return self.backend.joins_transaction(stmt.sql)

    def counted(self, f: MigrationFile, direction: str = "upgrade") -> list[tuple[int, RowCheck, int | None]]:
        """Every check of ``f``'s statements run now, read-only: (statement number, check, rows; None when it reads
        what an earlier statement creates)."""
        out: list[tuple[int, RowCheck, int | None]] = []
        for n, stmt in with_directives(self.statements(f, direction)):
            for check in stmt.checks:
                try:
                    rows = self.conn.query(check.sql)
                    out.append((n + 1, check, int(rows[0][0] or 0) if rows else 0))
                except Exception:  # noqa: BLE001  an unreadable check is reported as such
                    if not self.conn.lost:
                        self.conn.rollback()
                    out.append((n + 1, check, None))
        return out

    def checked(self, f: MigrationFile, direction: str, statements: Sequence[Statement], skip: int,
                force: bool) -> set[int]:
        """Run every check of ``statements`` (after ``skip``) that can run now; return the indexes of the statements
        whose checks must wait for the statements before them (they read what those create)."""
        deferred: set[int] = set()
        for n, stmt in with_directives(statements):
            if n < skip or not stmt.checks:
                continue
            try:
                self._check_rows(f, direction, n, stmt, force)
            except _CheckUnreadable:
                deferred.add(n)
        return deferred

    def _check_rows(self, f: MigrationFile, direction: str, n: int, stmt: Statement, force: bool,
                    must_read: bool = False) -> None:
        for check in stmt.checks:
            try:
                rows = self.conn.query(check.sql)
            except Exception as exc:  # noqa: BLE001  an unreadable check is reported as such
                self.conn.rollback() if not self.conn.lost else None
                if not must_read:
                    raise _CheckUnreadable() from None
                raise MigrationError(f"the check before statement {n + 1} cannot run: {_reason(exc)}") from None
            found = int(rows[0][0] or 0) if rows else 0
            if not found or (force and not check.hard):
                continue
            where = f"{self.display_dir}/{f.filename}" + (" (rollback)" if direction == "rollback" else "")
            counted = f"{found} {check.what} (counted before statement {n + 1}: {first_line(stmt.sql)})"
            if check.hard:
                raise MigrationError(f"{where}: {counted}: their values would be cut, rounded or lost, so nothing "
                                     "runs, even with --force; fix those rows first")
            raise MigrationError(f"{where}: {counted}; see to them, or re-run with --force")

    def _execute(self, stmt: Statement) -> None:
        # a no-transaction statement (CREATE INDEX CONCURRENTLY) must not even sit in an implicit transaction
        run = self.conn.execute if stmt.transactional or not self.backend.transactional_ddl else self.conn.execute_autocommit
        try:
            run(stmt.sql)
        except Exception as exc:
            if isinstance(exc, MigrationError):
                raise
            raise self.backend.failure(exc, stmt.sql) from None

    def _recorded(self, f: MigrationFile, direction: str, done: int, total: int, started: float,
                  status: str | None = None, undoing: Sequence[tuple[int, int] | None] | None = None) -> None:
        """Write progress in a transaction (the caller's, when it has one) that also proves the lock is ours."""
        with self.conn.transaction():
            if self.lock is not None:
                self.lock.verify()
            self._record(f, direction, done, total, started, status, undoing)

    def _record(self, f: MigrationFile, direction: str, done: int, total: int, started: float,
                status: str | None = None, undoing: Sequence[tuple[int, int] | None] | None = None) -> None:
        """History after ``done`` of ``total`` statements; a finished migration also enters the audit trail. A
        rollback that ``undoing`` (the upgrade steps each of its statements undoes) a partial upgrade leaves the
        upgrade statements before the earliest step undone so far."""
        row = _row(f, status or (APPLIED if done == total else PARTIAL), done, started)
        if direction == "upgrade":
            self.history.record(row)
            if done == total:
                self.history.log(row)
        elif done == total:
            self.history.remove(f.version)
            self.history.log(replace(row, status=ROLLED_BACK))
        elif undoing is None:
            self.history.record(replace(row, status=ROLLING_BACK))
        elif done:
            self.history.record(replace(row, status=PARTIAL, statements_completed=min(
                (marks[0] - 1 for marks in undoing[:done] if marks), default=0)))

    def _fail(self, f: MigrationFile, direction: str, statements: Sequence[Statement], at: int, done: int,
              started: float, exc: MigrationError, in_doubt: HistoryRow | None) -> None:
        total = len(statements)
        where = f"{self.display_dir}/{f.filename} failed at statement {at + 1} of {total}: {exc}"
        self._log_failure(f, direction, done, started)
        if in_doubt is not None and in_doubt.status == RUNNING:  # history goes on saying it may have run
            raise MigrationError(
                f"{where} (an earlier run was interrupted while running statement {at + 1}, so it may have taken "
                "effect then: if it did, undo it by hand and run migrate again)") from None
        atomic = self._atomic(statements[at])
        if self.conn.lost:  # nothing more can be written: history keeps what it last recorded
            unsure = "" if atomic or direction == "rollback" else \
                f"; whether statement {at + 1} took effect is unknown (history says it was running)"
            raise MigrationError(f"{where}; the connection was lost after {done} statement(s) had run{unsure}") from None
        if direction == "upgrade" and isinstance(exc, FailedAfterEffect):  # its change is in place: it counts as run
            self._settle_failed(f, done + 1, total, started)
            raise MigrationError(
                f"{where}; its change took effect all the same, so {done + 1} statement(s) count as run (recorded as "
                f"partial): 'dbwarden rollback --force' undoes them, or complete its change by hand and run 'dbwarden "
                f"migrate' to continue from statement {done + 2}") from None
        if direction == "upgrade" and not atomic:
            self._settle_failed(f, done, total, started)
        if done == 0:
            raise MigrationError(f"{where}; nothing of it was applied") from None
        if direction == "rollback":
            raise MigrationError(f"{where}; {done} statement(s) of the rollback had run") from None
        raise MigrationError(
            f"{where}; {done} statement(s) had run "
            f"(recorded as partial; the next migrate continues from statement {done + 1})"
        ) from None

    def _log_failure(self, f: MigrationFile, direction: str, done: int, started: float) -> None:
        """The audit trail says a run stopped, and where (best effort: a lost connection writes nothing)."""
        if self.conn.lost:
            return
        row = _row(f, FAILED if not done else PARTIAL if direction == "upgrade" else ROLLING_BACK, done, started)
        try:
            self.conn.rollback()
            with self.conn.transaction():
                self.history.log(row)
        except Exception:  # noqa: BLE001, S110  the failure being reported matters more than its history row
            pass

    def _settle_failed(self, f: MigrationFile, done: int, total: int, started: float) -> None:
        """The statement that failed was recorded as running; say what is true now: ``done`` statements ran (partial),
        or none did (no row)."""
        try:
            with self.conn.transaction():
                if self.lock is not None:
                    self.lock.verify()
                if done:
                    self._record(f, "upgrade", done, total, started, PARTIAL)
                else:
                    self.history.remove(f.version)
        except Exception:  # noqa: BLE001, S110  history keeps "running": still true, only less precise
            pass

    def _unrecorded(self, f: MigrationFile, at: int, total: int, exc: BaseException) -> DbwardenError:
        """Progress could not be written (a lost connection, a lost lease): one line saying what is known."""
        if isinstance(exc, LockError):
            return exc
        return MigrationError(
            f"{self.display_dir}/{f.filename}: recording progress at statement {at + 1} of {total} failed: "
            f"{_reason(exc)}; history keeps what was last committed ('dbwarden status' shows it)"
        )


_BATCH = 100  # statements sent before waiting for their results: a failure is known at most this late


class _Failed(Exception):
    """Statement ``at`` failed with ``error`` (nothing after it ran)."""

    def __init__(self, at: int, error: MigrationError):
        self.at, self.error = at, error


class _CheckUnreadable(Exception):
    """A check reads what an earlier statement of its migration creates: it runs just before its statement."""


def _row(f: MigrationFile, status: str, done: int, started: float) -> HistoryRow:
    """The history row of ``f`` with ``done`` statements run, now, since ``started`` (time.monotonic)."""
    return HistoryRow(version=f.version, description=f.description, filename=f.filename, checksum=f.checksum,
                      status=status, statements_completed=done,
                      applied_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      duration_ms=int((time.monotonic() - started) * 1000), target=f.target)


def _begin(progress: Progress | None, files: Sequence[MigrationFile]) -> None:
    if progress and files:
        progress("begin", None, 0, len(files))


def _running(progress: Progress | None, f: MigrationFile, at: int, total: int, stmt: Statement) -> None:
    """Tell ``progress`` which statement starts now (its SQL too, when it has a ``running`` method)."""
    if not progress:
        return
    running = getattr(progress, "running", None)
    if running is not None:
        running(stmt.sql)
    progress("statement", f, at, total)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (" ".join(str(orig).split()) or type(orig).__name__)[:300]


def _chunks(statements: Sequence[Statement], skip: int,
            atomic: Callable[[Statement], bool]) -> Iterator[tuple[int, int, bool, bool]]:
    """(first, stop, atomic, last) of each run of statements from ``skip`` that share one transaction with their
    history write (``atomic``); any other statement stands alone. Read one statement at a time, one ahead."""
    first, kind = skip, None
    for i in range(skip, len(statements)):
        joins = atomic(statements[i])
        if kind is not None and not (joins and kind):
            yield first, i, kind, False
            first = i
        kind = joins
    if kind is not None:
        yield first, len(statements), kind, True
