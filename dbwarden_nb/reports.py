"""Result objects of the commands: plain data with a text form (CLI) and a JSON form (``--json``).

They never print. The notebook layer gives them an HTML form through ``_repr_mimebundle_``: it registers the
view when imported (``session.view``), so nothing here imports it or knows IPython.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import DbwardenError, DifferencesFound, IntegrityError, RisksFound
from .session import view

if TYPE_CHECKING:
    from .migrations.files import MigrationFile
    from .migrations.history import HistoryRow
    from .migrations.lock import LockStatus
    from .migrations.runner import RunResult
    from .operations import Plan
    from .translate import TranslationReport

GLYPHS = {"INFO": "+", "WARN": "!", "CRITICAL": "!!"}


class Report:
    @property
    def exit_code(self) -> int:  # reports that can fail say when
        return 0

    failure_type: ClassVar[type[DbwardenError]] = DbwardenError  # the error a nonzero exit code means

    @property
    def error_line(self) -> str | None:
        """The one line the CLI prints on stderr when the report means failure (a nonzero exit code)."""
        return None

    def failure(self) -> DbwardenError | None:
        """The error this report means, carrying its one line (the CLI prints it, ``%dbwarden`` raises it);
        None when the report means success."""
        if not self.exit_code:
            return None
        return self.failure_type(self.error_line or self.to_text())

    def to_text(self) -> str:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return view("mimebundle", self)
        except ImportError:  # the notebook layer is optional; text always works
            return {"text/plain": self.to_text()}


def json_text(document: Any) -> str:
    """A JSON document as the CLI prints it (``--json``, ``--out json``)."""
    return json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def plan_lines(plan: Plan) -> list[str]:
    lines = []
    for op in plan:
        risk = f"  [{op.severity}: {op.risk}]" if op.risk else ""
        lines.append(f"  {GLYPHS[op.severity]:>2} {op.describe()}{risk}")
        if op.irreversible:
            lines.append(f"     irreversible: {op.irreversible}")
        if op.assessment is not None:
            lines += [f"     checked first: {c.what}" for c in op.assessment.checks]
            lines += [f"     lock: {op.assessment.lock}"] if op.assessment.lock else []
    for hint in plan.suggestions:
        lines.append(f"  ?  {hint}")
    return lines


def translation_warnings(report: TranslationReport | None) -> list[str]:
    """One line per lossy translation decision (a fallback to TEXT, a dropped default or constraint)."""
    if report is None:
        return []
    return [f"  !  dev translation: {d.line()}, {d.action}: {d.reason}" for d in report.warnings]


@dataclass(repr=False)
class DiffReport(Report):
    database: str
    source: str  # what the plan starts from ("live database", "stored snapshot 0003", …)
    target: str
    plan: Plan
    statements: Sequence[str] = ()
    out: str = "table"
    check: bool = False

    @property
    def empty(self) -> bool:
        return self.plan.is_empty

    failure_type = DifferencesFound

    @property
    def exit_code(self) -> int:
        return 2 if self.check and not self.empty else 0

    @property
    def error_line(self) -> str | None:
        if not self.exit_code:
            return None
        return f"{self.database}: {len(self.plan)} difference(s) between {self.target} and {self.source}"

    def to_text(self) -> str:
        if self.out == "json":
            return json_text(self.to_json())
        if self.out == "sql":
            return "\n".join(s + ";" for s in self.statements) if self.statements else "-- no differences"
        if self.empty:
            extra = "".join(f"\n  ?  {s}" for s in self.plan.suggestions)
            return f"{self.database}: no differences between {self.target} and {self.source}{extra}"
        head = f"{self.database}: {len(self.plan)} difference(s), {self.target} vs {self.source} (severity {self.plan.severity})"
        return "\n".join([head] + plan_lines(self.plan))

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "source": self.source, "target": self.target, "empty": self.empty,
                **self.plan.to_json(), "sql": list(self.statements)}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per operation."""
        return view("frame", self)


@dataclass(repr=False)
class MakeMigrationsReport(Report):
    database: str
    plan: Plan
    file: MigrationFile | None = None
    path: str | None = None  # relative to the project root
    dry_run: bool = False
    translation: TranslationReport | None = None  # of the target snapshot, when the file has dev sections

    def to_text(self) -> str:
        return "\n".join([self._text(), *translation_warnings(self.translation)])

    def _text(self) -> str:
        if self.plan.is_empty:
            extra = "".join(f"\n  ?  {s}" for s in self.plan.suggestions)
            return f"{self.database}: no changes; nothing written{extra}"
        assert self.file is not None
        if self.dry_run:
            hints = "".join(f"-- ?  {s}\n" for s in self.plan.suggestions)
            return f"-- {self.database}: dry run, nothing written\n{hints}" + self.file.render()
        lines = [f"{self.database}: wrote {self.path} ({len(self.plan)} operation(s), severity {self.file.severity})"]
        return "\n".join(lines + plan_lines(self.plan))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"database": self.database, "written": None if self.dry_run else self.path,
                               "dry_run": self.dry_run, **self.plan.to_json()}
        if self.file is not None:
            doc.update(version=self.file.version, severity=self.file.severity,
                       upgrade=[s.sql for s in self.file.upgrade], rollback=[s.sql for s in self.file.rollback])
        if self.file is not None and self.file.dev_upgrade is not None:
            doc.update(dev_upgrade=[s.sql for s in self.file.dev_upgrade],
                       dev_rollback=[s.sql for s in self.file.dev_rollback or ()])
        if self.translation is not None:
            doc["translation_warnings"] = [d.to_json() for d in self.translation.warnings]
        return doc

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per operation."""
        return view("frame", self)


class FailsOnProblems:
    """A report that fails (exit 1, its first problem as the one line) when it lists ``problems``."""

    problems: Sequence[str]

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    @property
    def error_line(self) -> str | None:
        return self.problems[0] if self.problems else None


@dataclass(repr=False)
class StatusReport(FailsOnProblems, Report):
    database: str
    url: str  # masked
    backend: str
    applied: Sequence[HistoryRow]
    pending: Sequence[MigrationFile]
    problems: Sequence[str] = ()
    partial: Sequence[HistoryRow] = ()

    failure_type = IntegrityError

    def to_text(self) -> str:
        from .migrations.history import row_progress

        lines = [f"{self.database} ({self.backend}, {self.url})"]
        lines.append(f"  applied: {len(self.applied)}" + (f", latest {self.applied[-1].version:04d} {self.applied[-1].description}" if self.applied else ""))
        lines.append(f"  pending: {len(self.pending)}")
        for f in self.pending:
            lines.append(f"    {f.version:04d} {f.description} [{f.severity}]")
        for row in self.partial:
            lines.append(f"  {row.status}: {row.version:04d} {row.description} ({row_progress(row)})")
        for p in self.problems:
            lines.append(f"  error: {p}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "url": self.url, "backend": self.backend,
                "applied": [r.to_json() for r in self.applied],
                "pending": [{"version": f.version, "description": f.description, "severity": f.severity} for f in self.pending],
                "partial": [r.to_json() for r in self.partial], "problems": list(self.problems)}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per applied, partial or pending migration."""
        return view("frame", self)


@dataclass(frozen=True)
class EnvironmentColumn:
    """One target of a database in ``status --all-environments``: what its history says, or why it was not read."""

    name: str  # "default" for database_url
    url: str  # masked
    states: dict[int, str] = field(default_factory=dict)  # version: applied | partial | running | rolling_back
    error: str | None = None  # masked, one line: the environment could not be read
    problems: Sequence[str] = ()

    def cell(self, version: int) -> str:
        return "unreachable" if self.error is not None else self.states.get(version, "pending")


@dataclass(repr=False)
class EnvironmentStatusReport(Report):
    """Where each migration of one chain is applied: a row per migration, a column per environment."""

    database: str
    backend: str
    migrations: Sequence[tuple[int, str]]  # (version, description): the files, and versions only history names
    columns: Sequence[EnvironmentColumn]

    failure_type = IntegrityError

    @property
    def exit_code(self) -> int:
        return 1 if any(c.problems for c in self.columns) else 0

    @property
    def error_line(self) -> str | None:
        return next((f"{c.name}: {c.problems[0]}" for c in self.columns if c.problems), None)

    def notes(self, reasons: bool = True) -> list[str]:
        """The line under the grid for each environment not read (``reasons``: why, which may name hosts and ports),
        or with integrity problems."""
        lines = [f"{c.name}: unreachable" + (f": {c.error}" if reasons else "") for c in self.columns
                 if c.error is not None]
        return lines + [f"{c.name}: error: {p}" for c in self.columns for p in c.problems]

    def to_text(self, reasons: bool = True) -> str:
        """The grid; ``reasons=False`` (the notebook's stable text/plain) leaves out why a target was not read."""
        header = ("version", "description", *(c.name for c in self.columns))
        rows = [(f"{v:04d}", d, *(c.cell(v) for c in self.columns)) for v, d in self.migrations]
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        lines = [f"{self.database} ({self.backend}): where each migration is applied; 'default' is database_url"]
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in (header, *rows)]
        if not rows:
            lines.append("  no migrations")
        lines += [f"  {n}" for n in self.notes(reasons)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "backend": self.backend,
                "environments": [{"name": c.name, "url": c.url, "error": c.error, "problems": list(c.problems)}
                                 for c in self.columns],
                "migrations": [{"version": v, "description": d, "states": {c.name: c.cell(v) for c in self.columns}}
                               for v, d in self.migrations]}

    def to_frame(self) -> Any:
        """A pandas DataFrame: a row per migration, a column per environment."""
        return view("frame", self)


@dataclass(frozen=True)
class CheckFinding:
    version: int
    description: str
    severity: str
    risks: tuple[tuple[str, str], ...]  # (severity, what)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description, "severity": self.severity,
                "risks": [{"severity": s, "risk": r} for s, r in self.risks]}


@dataclass(repr=False)
class CheckReport(Report):
    database: str
    findings: Sequence[CheckFinding]
    problems: Sequence[str] = ()  # integrity: applied files edited or deleted since, applied out of order

    @property
    def risky(self) -> bool:
        """Some step destroys data, depends on rows counted now, takes a long lock, or cannot be undone (a note of
        the lock a safe step takes is not a risk)."""
        return any(level != "INFO" for f in self.findings for level, _ in f.risks)

    failure_type = RisksFound

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 2 if self.risky else 0

    @property
    def error_line(self) -> str | None:
        if self.problems:
            return self.problems[0] + (f" (and {len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else "")
        risky = [f"{f.version:04d}" for f in self.findings if any(level != "INFO" for level, _ in f.risks)]
        return f"{self.database}: {len(risky)} pending migration(s) with risks: {', '.join(risky)}" if risky else None

    def failure(self) -> DbwardenError | None:
        if self.problems:  # what was applied no longer reads as it did: an error, not a risk
            return IntegrityError(self.error_line or "")
        return super().failure()

    def to_text(self) -> str:
        head = [f"{self.database}: {p}" for p in self.problems]
        if not self.findings:
            return "\n".join(head + [f"{self.database}: no pending migrations to check"])
        lines = head + [f"{self.database}: {len(self.findings)} pending migration(s)"]
        for f in self.findings:
            risky = any(level != "INFO" for level, _ in f.risks)
            lines.append(f"  {f.version:04d} {f.description} [{f.severity}]" + ("" if risky else ": no risks found"))
            lines += [f"    {GLYPHS[level]:>2} {text}" for level, text in f.risks]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "risky": self.risky, "problems": list(self.problems),
                "migrations": [f.to_json() for f in self.findings]}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per risk of a pending migration."""
        return view("frame", self)


@dataclass(repr=False)
class HistoryReport(Report):
    """What the database holds (``rows``, one per migration) and how it got there (``events``, the audit trail:
    every migration applied, rolled back, stopped part-way or repaired, oldest first)."""

    database: str
    rows: Sequence[HistoryRow]
    events: Sequence[HistoryRow] = ()

    @property
    def trail(self) -> list[HistoryRow]:
        """The events, after the rows of migrations applied before the audit trail existed."""
        logged = {e.version for e in self.events}
        return [r for r in self.rows if r.version not in logged] + list(self.events)

    def to_text(self) -> str:
        if not self.rows and not self.events:
            return f"{self.database}: no migrations applied"
        undone = sum(e.status == "rolled_back" for e in self.events)
        lines = [f"{self.database}: {len(self.rows)} migration(s)" + (f"; {undone} rollback(s)" if undone else "")]
        trail = self.trail
        width = max(8, *(len(r.status) for r in trail))
        for r in trail:
            lines.append(f"  {r.version:04d} {r.status:<{width}} {r.applied_at}  {r.checksum[:19]}…  {r.description}"
                         + (f" ({r.statements_completed} statement(s))" if r.status not in ("applied",) else ""))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "history": [r.to_json() for r in self.rows],
                "events": [r.to_json() for r in self.events]}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per history row."""
        return view("frame", self)


@dataclass(repr=False)
class RunReport(Report):
    database: str
    result: RunResult
    drift: Sequence[str] = ()
    script: str | None = None
    hook_errors: Sequence[str] = ()  # after_migrate hooks that raised (the migrations stay applied)

    def to_text(self) -> str:
        if self.script is not None:
            return self.script
        r = self.result
        verb = "migrate" if r.direction == "upgrade" else "rollback"
        if r.dry_run:
            if not r.planned:
                return f"{self.database}: {verb} (dry run): nothing to do"
            lines = [(f"{self.database}: {verb} (dry run) would {'apply' if verb == 'migrate' else 'roll back'} "
                      f"{len(r.planned)} migration(s):")]
            for f in r.planned:
                ran, total = r.resumes.get(f.version, (0, 0))
                resume = (f" (resumes at statement {ran + 1} of {total}: {ran} ran before)"
                          if f.version in r.resumes else "")
                lines.append(f"  {f.version:04d} {f.description} [{f.severity}]{resume}")
            return "\n".join(lines)
        if not r.applied:
            return f"{self.database}: up to date; nothing to {verb}"
        done = "applied" if r.direction == "upgrade" else "rolled back"
        lines = [f"{self.database}: {done} {len(r.applied)} migration(s)"]
        lines += [f"  {a.version:04d} {a.description} ({a.statements} statement(s)" + (
            f"; committed in {a.transactions} transactions of at most about {a.lock_budget} locks each, as the "
            "server's lock table is shared: a failure would have left it partial, to continue from there)"
            if a.transactions else ")") for a in r.applied]
        lines += [f"  error: {d}" for d in (*self.drift, *self.hook_errors)]
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        return 1 if self.drift or self.hook_errors else 0

    @property
    def error_line(self) -> str | None:
        problems = (*self.drift, *(f"{self.database}: {h} (the migrations stay applied)" for h in self.hook_errors))
        return problems[0] if problems else None

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {"database": self.database, "direction": r.direction, "dry_run": r.dry_run,
                "applied": [a.to_json() for a in r.applied],
                "planned": [{"version": f.version, "description": f.description,
                             **({"resumes_at": r.resumes[f.version][0] + 1} if f.version in r.resumes else {})}
                            for f in r.planned],
                "drift": list(self.drift), "script": self.script, "hook_errors": list(self.hook_errors)}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per migration applied, rolled back or planned."""
        return view("frame", self)


@dataclass(repr=False)
class LockReport(Report):
    database: str
    status: LockStatus
    released: bool = False
    leftovers: tuple[str, ...] = ()  # scratch databases a killed run left on the server

    def to_text(self) -> str:
        if self.released:
            return f"{self.database}: released the migration lock held by {self.status.owner}" if self.status.held \
                else f"{self.database}: the migration lock was not held"
        left = (f"\n{self.database}: scratch database(s) left by a killed run: {', '.join(self.leftovers)} (the next "
                "make-migrations drops them once they are 5 minutes old; DROP DATABASE drops them now)") if self.leftovers else ""
        return f"{self.database}: {self.status.to_text()}{left}"

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "released": self.released, **self.status.to_json(),
                **({"leftovers": list(self.leftovers)} if self.leftovers else {})}


@dataclass(repr=False)
class TextReport(Report):
    """A message with structured data behind it (init, config, version, new, baseline, generate-models)."""

    text: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        return self.text

    def to_json(self) -> dict[str, Any]:
        return self.data


@dataclass(repr=False)
class MultiReport(Report):
    """One report per database (``--all``)."""

    parts: Sequence[Report]

    @property
    def exit_code(self) -> int:
        return max((p.exit_code for p in self.parts), default=0)

    def failure(self) -> DbwardenError | None:
        worst = max(self.parts, key=lambda p: p.exit_code, default=None)
        return worst.failure() if worst is not None else None

    def to_text(self) -> str:
        return "\n".join(p.to_text() for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {"databases": [p.to_json() for p in self.parts]}

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per row of its reports."""
        return view("frame", self)
