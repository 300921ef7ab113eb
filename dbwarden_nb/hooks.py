"""Migration hooks: ``database_config(..., hooks={"before_migrate": [...], "after_migrate": [...], "on_failure": [...]})``.

Each hook is a plain callable given one :class:`HookContext`. ``before_migrate`` runs once per database, after the
pending migrations are known and before the lock is taken or any statement runs: a hook that raises stops the run
(nothing applied, history unchanged). ``after_migrate`` runs once the migrations are applied, ``on_failure`` when the
run fails; their errors are reported (the run's exit code is then 1), never hidden, and never undo what was applied.
Hooks run only when something is pending, and never for ``--dry-run`` or ``--sql``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .config import callable_name, error_location, error_summary, mask_text
from .errors import HookError

if TYPE_CHECKING:
    from .config import DatabaseConfig
    from .errors import DbwardenError
    from .migrations.runner import Runner, RunResult

__all__ = ["HookContext", "MigrateHooks", "run_hooks"]


@dataclass(frozen=True)
class HookContext:
    """What a hook is told. ``version`` is the last migration of the run; ``statements`` the SQL it applies, in order;
    ``applied`` the versions applied so far (after_migrate: all; on_failure: those that got through); ``error`` the
    one line of the failure (on_failure only)."""

    event: str
    database: str
    environment: str | None  # None: database_url
    version: int | None
    versions: tuple[int, ...]
    statements: tuple[str, ...]
    applied: tuple[int, ...] = ()
    error: str | None = None


def run_hooks(config: DatabaseConfig, context: HookContext) -> list[str]:
    """Call the hooks of ``context.event`` in order; one line per hook that raised (the others still run).
    ``before_migrate`` stops at the first one that raises, with a :class:`HookError`."""
    problems = []
    for fn in config.hooks_for(context.event):
        try:
            fn(context)
        except (Exception, SystemExit) as exc:  # noqa: BLE001  a user's hook (sys.exit too): reported, never a traceback
            where = error_location(exc, config.root)
            line = mask_text(f"{context.event} hook {callable_name(fn)}{f' ({where})' if where else ''} raised "
                             f"{error_summary(exc)}")
            if context.event == "before_migrate":
                raise HookError(f"database '{config.database_name}': {line}; nothing was applied") from None
            problems.append(line)
    return problems


class MigrateHooks:
    """The hooks of one database's ``migrate``: :meth:`before` (which may stop it), then :meth:`after` or
    :meth:`failed`."""

    def __init__(self, config: DatabaseConfig, runner: Runner, count: int | None, to_version: int | None):
        self.config = config
        self.runner = runner
        planned = runner.migrate(count, to_version, dry_run=True).planned  # what the run is about to apply
        self.context = HookContext(
            "before_migrate", config.database_name, config.environment, planned[-1].version if planned else None,
            tuple(f.version for f in planned),
            tuple(s.sql for f in planned for s in runner.statements(f, "upgrade")))

    def before(self) -> None:
        if self.context.versions:
            run_hooks(self.config, self.context)

    def after(self, result: RunResult) -> list[str]:
        if not result.applied:
            return []
        return run_hooks(self.config, replace(self.context, event="after_migrate",
                                              applied=tuple(a.version for a in result.applied)))

    def failed(self, exc: DbwardenError) -> None:
        """Run the on_failure hooks; any that raised is added to ``exc``'s line."""
        if not self.context.versions:
            return
        try:
            done = self.runner.state().applied
        except Exception:  # noqa: BLE001  the connection may be what failed; the hooks still run
            done = {}
        problems = run_hooks(self.config, replace(self.context, event="on_failure", error=str(exc),
                                                  applied=tuple(v for v in self.context.versions if v in done)))
        if problems:
            exc.args = (f"{exc}; and {'; '.join(problems)}", *exc.args[1:])
