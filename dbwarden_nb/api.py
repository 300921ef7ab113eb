"""The Python API: a project (its dbwarden.py) and the commands it runs on each database.

Each method returns a report object; the CLI prints its text or JSON, the notebook displays it. One database
(connections, snapshots, files) is ``database.Database``; a plan becomes a migration file in ``planning``; the
model snapshot comes through ``models.cache``. Their names stay importable from here, where users and notebooks
find them.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import write_atomic
from .database import BASELINE, Database, lock_timeout_seconds
from .errors import ConfigError, DbwardenError, SnapshotError, UsageError
from .planning import bare_renames, dev_sections, migration_file, render_steps, rollback_plan, rollback_statements
from .reports import (
    CheckFinding,
    CheckReport,
    DiffReport,
    EnvironmentStatusReport,
    HistoryReport,
    LockReport,
    MakeMigrationsReport,
    MultiReport,
    Report,
    RunReport,
    StatusReport,
    TextReport,
)

if TYPE_CHECKING:
    from .backends.base import Connection
    from .config import DatabaseConfig, ProjectConfig
    from .migrations.files import MigrationFile
    from .migrations.runner import Progress, Runner
    from .rebase import RebaseReport
    from .schema import Snapshot


__all__ = ["BASELINE", "Database", "Project", "bare_renames", "dev_sections", "inside_project", "lock_timeout_seconds",
           "migration_file", "project", "render_steps", "rollback_plan", "rollback_statements", "write_atomic"]


class Project:
    """A dbwarden.py and its databases. ``dev`` swaps in each database's dev_database_url; ``environment`` (``-e``)
    each database's URL of that name in ``environments`` (None: its ``database_url``)."""

    def __init__(self, config: ProjectConfig, dev: bool = False, strict_translation: bool = False,
                 environment: str | None = None):
        if dev and environment is not None:
            raise UsageError(f"--dev and -e {environment} both choose the database to use; give one of them")
        self.config = config
        self.dev = dev
        self.strict_translation = strict_translation
        self.environment = environment

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, dev: bool = False, strict_translation: bool = False,
             environment: str | None = None) -> Project:
        from .config import load_config

        return cls(load_config(Path(path) if path else None), dev, strict_translation, environment)

    def database(self, name: str | None = None) -> Database:
        return self._open(self.config.get(name))

    def databases(self, name: str | None = None, all: bool = False) -> list[Database]:
        if all:
            return [self._open(c) for c in self.config.databases.values()]
        return [self.database(name)]

    def _open(self, config: DatabaseConfig) -> Database:
        return Database(config.for_environment(self.environment), self.dev, self.strict_translation)

    # -- read-only --------------------------------------------------------------------------------

    def snapshot(self, database: str | None = None, version: int | None = None) -> Snapshot:
        """The live schema; with ``version``, the schema as that migration left it (its stored snapshot)."""
        db = self.database(database)
        if version is not None:
            return db.snapshot_at(version)
        with db.connect(read_only=True) as conn:
            return db.live_snapshot(conn)

    def restore_snapshots(self, database: str | None = None) -> TextReport:
        """``snapshot --restore``: the stored snapshots that are missing (a clone that left out ``.dbwarden/``),
        rebuilt by replaying the migration chain in a new, empty scratch database; the configured database is only
        used to reach its server. Snapshots that are there are kept. A generated migration whose replayed schema is
        not its target is reported, and its snapshot not stored."""
        from .config import sqlalchemy_url
        from .rebase import run_statements

        db = self.database(database)
        if db.dev:
            raise UsageError(f"{db.name}: snapshot --restore replays the production chain; run it without --dev")
        files = db.files()
        start = db.stored_snapshot(BASELINE)
        if files and start is None and files[0].base not in (None, db.production.empty().checksum):
            raise SnapshotError(f"{db.name}: {db.display_dir}/{files[0].filename} starts from a baseline whose snapshot "
                                f"({os.path.relpath(db.snapshot_path(BASELINE), db.config.root)}) is missing too; it is "
                                "the schema of the adopted database and cannot be replayed: copy it from where "
                                "'dbwarden baseline' ran")
        restored: list[str] = []
        differing: list[str] = []
        with db.backend.scratch_empty(sqlalchemy_url(db.url, root=db.config.root)) as scratch:
            steps = [(None, db.backend.render_plan(db.backend.plan(db.production.empty(), start)))] if start else []
            for f, statements in [*steps, *((f, f.upgrade) for f in files)]:
                what = f"{db.display_dir}/{f.filename}" if f else "the baseline"
                run_statements(db, scratch, statements, f"snapshot --restore: {what}")
                if f is None or db.snapshot_path(f.version).exists():
                    continue
                live = db.live_snapshot(scratch)
                if f.is_manual or live.checksum == f.target:
                    db.store_snapshot(f.version, live)
                    restored.append(f"{f.version:04d}")
                else:
                    differing.append(f"{f.version:04d}")
        done = f"restored {', '.join(restored)}" if restored else "restored none"
        if differing:
            raise SnapshotError(f"{db.name}: snapshot --restore: replaying {', '.join(differing)} gives a schema that is "
                                f"not the file's target, so it was not stored ({done}); the file or its normalization "
                                "is wrong")
        kept = len(files) - len(restored)
        text = (f"{db.name}: {done} by replaying {len(files)} migration(s) of {db.display_dir} in a scratch database"
                + (f"; {kept} snapshot(s) were there and were kept" if kept else ""))
        return TextReport(text, {"database": db.name, "restored": restored, "kept": kept})

    def rebase(self, database: str | None = None, dry_run: bool = False) -> RebaseReport:
        """After a git merge of two branches' migrations: keep what the database applied, renumber the others after
        it and re-plan their snapshots from the merged chain (``rebase.py``); ``dry_run`` shows the plan."""
        from .rebase import rebase

        return rebase(self.database(database), dry_run)

    def erd(self, database: str | None = None, version: int | None = None) -> Any:
        """The Mermaid entity-relationship diagram of the live schema, or of a stored ``version``."""
        return self.snapshot(database, version).erd()

    def models(self, database: str | None = None) -> Snapshot:
        """The snapshot of the models, as this database's server spells them."""
        db = self.database(database)
        if not db.backend.normalizes_on_server:
            return db.model_snapshot()
        with db.connect(read_only=True) as conn:
            return db.model_snapshot(conn)

    def diff(self, database: str | int | None = None, offline: bool | int = False, out: str = "table",
             check: bool = False, rename: Sequence[str] = (), rename_table: Sequence[str] = ()) -> DiffReport:
        """The models against the live database (or the latest stored snapshot, ``offline``). ``diff(3, 7)``:
        from version 3 to version 7 of the default database, as :meth:`diff_versions`."""
        if isinstance(database, int) and not isinstance(database, bool):
            return self.diff_versions(database, int(offline), None, out, check, rename, rename_table)
        from .differ import Renames

        db = self.database(database)  # type: ignore[arg-type]  # a bool: refused there as no database's name
        if offline:
            new = db.model_snapshot()
            old, source = db.base_snapshot(None)
            old = db.translate(old)[0] if db.dev else old
            source = "stored " + source if source.startswith("migration") else source
        else:
            with db.connect(read_only=True) as conn:
                new = db.model_snapshot(conn)
                old, source = db.live_snapshot(conn), "the live database"
        plan = db.backend.plan(old, new, Renames.parse(rename, rename_table))
        statements = [s.sql for s in db.backend.render_plan(plan)]
        return DiffReport(db.name, source, "the models", plan, statements, out, check)

    def diff_versions(self, old: int, new: int, database: str | None = None, out: str = "table", check: bool = False,
                      rename: Sequence[str] = (), rename_table: Sequence[str] = ()) -> DiffReport:
        """From the schema as migration ``old`` left it to the schema as ``new`` left it (stored snapshots: no
        database needed), rendered by the production backend like the migrations between them."""
        from .differ import Renames

        db = self.database(database)
        before, after = db.snapshot_at(old), db.snapshot_at(new)
        plan = db.production.plan(before, after, Renames.parse(rename, rename_table))
        statements = [s.sql for s in db.production.render_plan(plan)]
        return DiffReport(db.name, f"version {old:04d}", f"version {new:04d}", plan, statements, out, check)

    def status(self, database: str | None = None, all_environments: bool = False) -> Report:
        """Applied and pending migrations; ``all_environments``: the grid of where each one is applied, a column
        per target (``database_url`` as "default", then each of ``environments``)."""
        if all_environments:
            return self.environment_status(database)
        db = self.database(database)
        with db.connect() as conn:
            state = db.runner(conn).state()
        applied = sorted(state.applied.values(), key=lambda r: r.version)
        return StatusReport(db.name, db.masked_url, db.backend.name, applied, state.pending, state.problems(),
                            sorted(state.partial.values(), key=lambda r: r.version))

    def environment_status(self, database: str | None = None) -> EnvironmentStatusReport:
        """Each environment's history against the one chain; one that cannot be read is a column saying why."""
        from .reports import EnvironmentColumn

        if self.dev:
            raise UsageError("status --all-environments reads each environment's database; run it without --dev")
        config = self.config.get(database)
        names: list[str | None] = [None, *config.environment_names]
        files = Database(config, strict_translation=self.strict_translation).files()
        described = {f.version: f.description for f in files}
        columns = []
        for name in names:  # every target, whichever -e chose
            label = name or "default"
            try:
                db = Database(config.for_environment(name), strict_translation=self.strict_translation)
                url = db.masked_url
            except ConfigError as exc:  # an unset ${VAR}: no URL to show
                from .config import mask_url

                columns.append(EnvironmentColumn(label, mask_url(config.for_environment(name).database_url),
                                                 error=str(exc)))
                continue
            try:
                with db.connect() as conn:
                    state = db.runner(conn).state()
            except Exception as exc:  # noqa: BLE001  a target down or refusing: its cell says so, the others show
                from .config import error_summary, mask_text

                reason = str(exc) if isinstance(exc, DbwardenError) else error_summary(exc)
                columns.append(EnvironmentColumn(label, url, error=mask_text(" ".join(reason.split()))))
                continue
            described.update({r.version: r.description for r in state.rows if r.version not in described})
            columns.append(EnvironmentColumn(label, url, {r.version: r.status for r in state.rows},
                                             problems=state.problems()))
        return EnvironmentStatusReport(config.database_name, config.database_type, sorted(described.items()), columns)

    def history(self, database: str | None = None) -> HistoryReport:
        db = self.database(database)
        from .migrations.history import History

        with db.connect() as conn:
            history = History(conn)
            rows, events = history.rows(), history.events()
        return HistoryReport(db.name, rows, events)

    def repair(self, version: int, database: str | None = None, force: bool = False,
               lock_timeout: float | None = None) -> TextReport:
        """Re-record the checksum of a partial migration whose failed statement the user fixed."""
        from .migrations.classify import first_line
        from .migrations.history import ROLLING_BACK

        db = self.database(database)
        with db.connect() as conn:
            runner = db.runner(conn, lock_timeout)
            row, f = runner.repair(version, force)
            section = "rollback" if row.status == ROLLING_BACK else "upgrade"
            statements = runner.statements(f, section)
        ran = statements[:row.statements_completed]
        command = "migrate" if section == "upgrade" else "rollback"
        lines = [(f"{db.name}: repaired {version:04d} {f.description}: checksum {f.checksum}; {len(ran)} of "
                  f"{len(statements)} {section} statement(s) stay run, 'dbwarden {command}' continues from statement "
                  f"{len(ran) + 1}")]
        lines += [f"  ran {n}: {first_line(s.sql)}" for n, s in enumerate(ran, 1)]
        lines.append(f"  next {len(ran) + 1}: {first_line(statements[len(ran)].sql)}")
        return TextReport("\n".join(lines), {"database": db.name, "version": version, "checksum": f.checksum,
                                             "statements_completed": len(ran), "statements": len(statements)})

    # -- writing migrations -----------------------------------------------------------------------

    def make_migrations(self, name: str, database: str | None = None, dry_run: bool = False, offline: bool = False,
                        rename: Sequence[str] = (), rename_table: Sequence[str] = (), verify: bool = False,
                        rebuild: Sequence[str] = (), concurrently: bool = False,
                        from_empty: bool = False) -> MakeMigrationsReport:
        """Diff the models against the base and write the next migration file; ``concurrently``: indexes on
        existing tables are built (and their rollbacks dropped) ``CONCURRENTLY`` whatever the configuration says
        (PostgreSQL); ``from_empty``: the first migration builds everything from nothing, even on a database that
        holds the tables already."""
        from dataclasses import replace

        from .differ import Renames

        db = self.database(database)
        if not name.strip():
            raise UsageError("make-migrations needs a name, e.g. dbwarden make-migrations \"add orders\"")
        if verify and db.dev:
            raise UsageError("--verify applies the migration to a scratch copy of the production database; run it without --dev")
        if concurrently and not db.production.supports_concurrent_indexes:
            raise UsageError(f"{db.name}: --concurrently is for PostgreSQL; {db.production.name} builds plain indexes "
                             "online by itself where it can (ALGORITHM=INPLACE, LOCK=NONE)")
        renames = Renames.parse(rename, rename_table)
        if offline or db.dev:  # --dev: the production server is not at hand; its stored snapshots are
            new = db.production_models()
            old, _ = db.base_snapshot(None, from_empty)
        else:
            with db.connect(read_only=True) as conn:
                new = db.production_models(conn)
                old, _ = db.base_snapshot(conn, from_empty)
        backend = db.production.online(True) if concurrently else db.production
        plan = backend.plan(old, new, renames, rebuild)
        if plan.is_empty:
            return MakeMigrationsReport(db.name, plan)
        files = db.files()
        version = (files[-1].version if files else 0) + 1
        mfile = migration_file(backend, plan, old, new, version, name, renames)
        translation = None
        if db.dev_backend is not None:  # before anything is written: strict translation may refuse
            dev_new, translation = db.translate(new)
            mfile = dev_sections(db.dev_backend, mfile, db.translate(old)[0], dev_new, bare_renames(renames, old, new))
        if verify:
            # a scratch transaction cannot hold a CONCURRENTLY statement: the same steps are verified built plainly
            plain = backend.online(False)
            checked = plain.plan(old, new, renames, rebuild) if plain is not backend else plan
            self._verify(db, old, new, mfile if plain is backend else replace(
                mfile, upgrade=tuple(render_steps(plain, checked)), rollback=tuple(rollback_statements(plain, checked, old, new))))
        if dry_run:
            return MakeMigrationsReport(db.name, plan, mfile, None, dry_run=True, translation=translation)
        path = db.migrations_dir / mfile.filename
        db.migrations_dir.mkdir(parents=True, exist_ok=True)
        db.store_snapshot(version, new)
        write_atomic(path, mfile.render())
        return MakeMigrationsReport(db.name, plan, mfile, os.path.relpath(path, db.config.root), translation=translation)

    def _verify(self, db: Database, old: Snapshot, new: Snapshot, mfile: MigrationFile) -> None:
        """Apply the upgrade and the rollback in a scratch copy of the database and re-read after each."""
        from .config import sqlalchemy_url
        from .differ import diff
        from .errors import MigrationError

        with db.connect() as conn:
            if db.live_snapshot(conn) != old:
                raise UsageError("--verify needs the database at the latest migration: run 'dbwarden migrate' first")
        with db.backend.scratch_copy(sqlalchemy_url(db.url, root=db.config.root)) as scratch:
            for direction, statements, expected in (("upgrade", mfile.upgrade, new), ("rollback", mfile.rollback, old)):
                db.backend.before_migration(scratch)
                with scratch.transaction():
                    for stmt in statements:
                        try:
                            scratch.execute(stmt.sql)
                        except Exception as exc:  # noqa: BLE001  any driver's error, as one line
                            raise MigrationError(f"--verify: the {direction} fails: {db.backend.failure(exc, stmt.sql)}") from None
                got = db.live_snapshot(scratch)
                if got != expected:
                    what = "; ".join(op.describe() for op in list(diff(expected, got, forward_references=True))[:5])
                    raise MigrationError(f"--verify: after the {direction} the database differs from its snapshot: "
                                         f"{what or 'options differ'}; nothing written")

    def new(self, name: str, database: str | None = None) -> TextReport:
        from .migrations.files import MigrationFile

        db = self.database(database)
        files = db.files()
        version = (files[-1].version if files else 0) + 1
        mfile = MigrationFile(version, " ".join(name.split()) or "manual", (), (), backend=db.production.name)
        path = db.migrations_dir / mfile.filename
        db.migrations_dir.mkdir(parents=True, exist_ok=True)
        text = mfile.render().replace("-- upgrade\n", "-- upgrade\n-- write the upgrade statements here, each ending with ;\n")
        write_atomic(path, text)
        rel = os.path.relpath(path, db.config.root)
        return TextReport(f"{db.name}: wrote {rel} (manual migration: add its upgrade and rollback statements)",
                          {"database": db.name, "written": rel, "version": version})

    def baseline(self, database: str | None = None) -> TextReport:
        """Adopt an existing database: its live schema becomes snapshot 0000, recorded as applied."""
        from datetime import datetime, timezone

        from .migrations.history import APPLIED, History, HistoryRow

        db = self.database(database)
        if db.dev:
            raise UsageError(f"{db.name}: baseline records the production schema as snapshot 0000; run it without --dev")
        if db.files() or db.stored_snapshot(BASELINE) is not None:
            raise UsageError(f"{db.name}: baseline adopts a database before its first migration, "
                             f"but {db.display_dir} already has migrations or a baseline")
        with db.connect() as conn:
            live = db.live_snapshot(conn)
            history = History(conn)
            row = HistoryRow(BASELINE, "baseline", "(baseline)", live.checksum, APPLIED, 0,
                             datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), 0, live.checksum)
            with conn.transaction():
                history.ensure()
                history.record(row)
                history.log(row)
        db.store_snapshot(BASELINE, live)
        rel = os.path.relpath(db.snapshot_path(BASELINE), db.config.root)
        others = [f"{len(live.views)} view(s)"] * bool(live.views) + [f"{len(live.objects)} other object(s)"] * bool(
            live.objects)
        return TextReport(f"{db.name}: baseline of {len(live.tables)} table(s){''.join(', ' + o for o in others)} "
                          f"recorded as {rel}; "
                          "make-migrations now starts from it", {"database": db.name, "snapshot": rel,
                                                                "tables": list(live.tables), "checksum": live.checksum})

    def check(self, database: str | None = None) -> CheckReport:
        """Safety analysis of the pending migrations: what destroys data, depends on data, locks, or cannot be
        undone; the rows a step's checks count now; and what the files say that differs from what was applied."""
        from .differ import Renames
        from .migrations.classify import classify

        db = self.database(database)
        findings = []
        with db.connect() as conn:
            runner = db.runner(conn)
            state = runner.state()
            for f in state.pending:
                base = db.stored_snapshot(f.version - 1) if f.version > 1 else (db.stored_snapshot(BASELINE) or db.production.empty())
                target = db.stored_snapshot(f.version)
                if f.is_manual or f.edited or base is None or target is None or base.checksum != f.base:
                    risks = [classify(stmt.sql) for stmt in f.upgrade]
                    risks = [(level, why) for level, why in risks if level != "INFO"]
                else:
                    # made with make-migrations --concurrently, or under another concurrent_indexes: as written
                    concurrent = any(not s.transactional and " CONCURRENTLY " in s.sql for s in f.upgrade)
                    backend = db.production.online(concurrent) if db.production.supports_concurrent_indexes else db.production
                    plan = backend.plan(base, target, Renames.from_header(f.renames))
                    risks = [(op.severity, f"{op.describe()}: {op.risk}") for op in plan if op.risk]
                    risks += [("INFO", f"{op.describe()}: lock: {op.assessment.lock}") for op in plan
                              if op.assessment and op.assessment.lock]
                for n, found_check, rows in runner.counted(f):
                    if rows:
                        level = "CRITICAL" if found_check.hard else "WARN"
                        risks.append((level, f"statement {n}: {rows} {found_check.what}"))
                risks += [("CRITICAL", f"rollback is irreversible: {why}") for why in f.irreversible]
                findings.append(CheckFinding(f.version, f.description, runner.severity(f, "upgrade")[0], tuple(risks)))
        return CheckReport(db.name, findings, tuple(state.problems()))

    # -- translation for the SQLite dev database ---------------------------------------------------

    def translate(self, database: str | None = None, add_dev_sections: bool = False) -> Report:
        """The translation report of the models for the dev database; with ``add_dev_sections``, also give the
        migration files that lack them their dev sections, translated from their stored snapshots."""
        db = self.database(database)
        db.config.backend_name(dev=True)  # the seed's error when no dev_database_url is configured
        report = db.translate(db.production_models())[1]
        if not add_dev_sections:
            return report
        written, manual = self._add_dev_sections(db)
        lines = [f"{db.name}: added dev sections to {len(written)} migration file(s)", *(f"  {w}" for w in written)]
        lines += [f"  {m}: a manual migration, its SQL is not translated: add its '-- dev-upgrade: sqlite' and "
                  "'-- dev-rollback: sqlite' sections by hand" for m in manual]
        return MultiReport([report, TextReport("\n".join(lines), {"database": db.name, "updated": written,
                                                                   "manual": manual})])

    def _add_dev_sections(self, db: Database) -> tuple[list[str], list[str]]:
        """Dev sections for every generated file without them, from the stored snapshots around it (all or
        nothing); manual files without them are returned for the user to complete by hand."""
        from .migrations.files import parse_migration

        previous = db.translate(db.stored_snapshot(BASELINE) or db.production.empty())[0]
        updates: list[tuple[Path, str]] = []
        manual: list[str] = []
        for f in db.files():
            target = db.stored_snapshot(f.version)
            rel = f"{db.display_dir}/{f.filename}"
            if target is None:
                db.refuse_lost_snapshots([f])
                raise SnapshotError(f"{rel} has no stored snapshot to translate "
                                    "(a manual migration gets one when it is applied): run 'dbwarden migrate' first")
            dev_target = db.translate(target)[0]
            if f.dev_upgrade is None and f.is_manual:
                manual.append(rel)
            elif f.dev_upgrade is None:
                assert f.path is not None
                assert db.dev_backend is not None
                full = dev_sections(db.dev_backend, f, previous, dev_target)
                original = f.path.read_text(encoding="utf-8")
                text = original.rstrip("\n") + "\n" + full.render_dev_sections()
                parsed = parse_migration(text)
                if parsed.upgrade != f.upgrade or parsed.dev_upgrade != full.dev_upgrade:
                    raise SnapshotError(f"{rel}: its dev sections cannot be appended without changing it; add them by hand")
                updates.append((f.path, text))
            previous = dev_target
        for path, text in updates:  # only once every file translated: a strict failure leaves all untouched
            write_atomic(path, text)
        return [os.path.relpath(path, db.config.root) for path, _ in updates], manual

    # -- applying ---------------------------------------------------------------------------------

    def migrate(self, database: str | None = None, count: int | None = None, to_version: int | None = None,
                dry_run: bool = False, sql: bool = False, force: bool = False, all: bool = False,
                progress: Progress | None = None, lock_timeout: float | None = None) -> Report:
        reports: list[Report] = []
        for db in self.databases(database, all):
            with db.connect() as conn:
                runner = db.runner(conn, lock_timeout)
                if sql:
                    result = runner.migrate(count, to_version, dry_run=True)
                    reports.append(RunReport(db.name, result, script=runner.script(result.planned)))
                    continue
                hooks = None
                if db.config.hooks and not dry_run:
                    from .hooks import MigrateHooks

                    hooks = MigrateHooks(db.config, runner, count, to_version)
                    hooks.before()  # raises HookError: nothing applied
                try:
                    result = runner.migrate(count, to_version, dry_run=dry_run, force=force, progress=progress)
                except DbwardenError as exc:
                    if hooks is not None:
                        hooks.failed(exc)  # the on_failure hooks; one that raised is added to the error's line
                    raise
                drift = [] if dry_run or not result.applied else self._reread(db, conn, runner)
                reports.append(RunReport(db.name, result, drift, hook_errors=hooks.after(result) if hooks else ()))
        return reports[0] if len(reports) == 1 else MultiReport(reports)

    def _reread(self, db: Database, conn: Connection, runner: Runner) -> list[str]:
        """Compare the live schema with the target of the newest applied migration; never store a difference."""
        state = runner.state()
        if not state.applied:
            return []
        latest = max(state.applied)
        live = db.live_snapshot(conn)
        target = db.stored_snapshot(latest)
        manual = next((f.is_manual for f in state.files if f.version == latest), False)
        if db.dev:  # the stored snapshots are production ones: compare with their translation, never store
            if target is None or manual:
                return []
            target = db.translate(target)[0]
        elif target is None or manual:  # a manual migration: what it produced (this time) becomes its snapshot
            db.store_snapshot(latest, live)
            return []
        if live == target:
            return []
        ops = db.backend.plan(live, target, refuse=False)  # what the engine counts as a difference (not a counter that moved on)
        if not ops:
            return []
        details = "; ".join(op.describe() for op in list(ops)[:5])
        if not db.dev:  # history says what the database holds: the row's target is the schema found, not the file's
            from dataclasses import replace

            with conn.transaction():
                runner.history.record(replace(state.applied[latest], target=live.checksum))
        return [(f"after migration {latest:04d} the database differs from the migration's target snapshot: {details} "
                 "(the migration or its normalization is wrong; history records the schema found, the stored target "
                 "was kept)")]

    def rollback(self, database: str | None = None, count: int = 1, dry_run: bool = False, force: bool = False,
                 progress: Progress | None = None, lock_timeout: float | None = None) -> RunReport:
        db = self.database(database)
        with db.connect() as conn:
            return RunReport(db.name, db.runner(conn, lock_timeout).rollback(count, None, dry_run, force, progress))

    def downgrade(self, to: int, database: str | None = None, dry_run: bool = False, force: bool = False,
                  progress: Progress | None = None, lock_timeout: float | None = None) -> RunReport:
        db = self.database(database)
        with db.connect() as conn:
            return RunReport(db.name, db.runner(conn, lock_timeout).rollback(None, to, dry_run, force, progress))

    # -- reverse engineering ----------------------------------------------------------------------

    def generate_models(self, database: str | None = None, output: str | None = None, tables: Sequence[str] = (),
                        exclude_tables: Sequence[str] = (), single_file: bool = False,
                        overwrite: bool = False, style: str = "declarative") -> TextReport:
        """Model code for the live database: printed, or written under ``output`` (inside the project). A file
        edited since generate-models wrote it is never overwritten (unless ``overwrite``): the new version is
        written beside it as ``<name>.new``, and the report names it. ``style``: ``declarative``, ``dataclass`` or ``tables``."""
        from .models.codegen import GENERATED_HEADER, CodeGenerator, all_keys, edited, stamped

        db = self.database(database)
        with db.connect(read_only=True) as conn:
            snap = db.live_snapshot(conn)
        keys = [k for k in all_keys(snap) if _selected(k, tables, exclude_tables)]
        gen = CodeGenerator(db.backend, snap, style)
        unmanaged = {"unmanaged": {k: list(v) for k, v in snap.unmanaged.items()}}
        note = f"\n{db.name}: {snap.unmanaged_line()}" if snap.unmanaged else ""
        if output is None:
            code = gen.generate(keys)
            comment = f"\n# {snap.unmanaged_line()}" if snap.unmanaged else ""
            return TextReport(code.rstrip("\n") + comment, {"database": db.name, "tables": keys, "code": code, **unmanaged})
        target = inside_project(db.config.root, output, "--output")
        files = {"models.py": gen.generate(keys)} if single_file else gen.generate_package(keys)
        files = {name: stamped(text) for name, text in files.items()}
        target.mkdir(parents=True, exist_ok=True)
        kept: list[str] = []  # edited files left as they are
        for stale in sorted(target.glob("*.py")):  # modules of tables that are gone; never a file we did not write
            if stale.is_symlink() or not stale.is_file():
                continue
            old = stale.read_text(encoding="utf-8", errors="replace")
            if stale.name not in files and old.startswith(GENERATED_HEADER):
                if edited(old) and not overwrite:
                    kept.append(f"{stale.name} (edited; its table is gone)")
                else:
                    stale.unlink()
        written, beside = [], []
        for name, text in files.items():
            path, new = target / name, target / f"{name}.new"
            # a link planted at the name is no file of ours: never read through, replaced (by write_atomic)
            there = path.read_text(encoding="utf-8", errors="replace") if path.is_file() and not path.is_symlink() else None
            if there is not None and there != text and edited(there) and not overwrite:
                write_atomic(new, text)
                beside.append(name)
                continue
            if there != text:
                write_atomic(path, text)
            written.append(name)
            new.unlink(missing_ok=True)
        rel = os.path.relpath(target, db.config.root)
        lines = [f"{db.name}: wrote {len(keys)} table(s) and view(s) to {rel}/ ({', '.join(sorted(written)) or 'no file'})"]
        if beside:
            lines.append(f"{db.name}: edited since generated, not overwritten (the new version is beside each as "
                         f"<name>.new; --overwrite replaces them): {', '.join(sorted(beside))}")
        if kept:
            lines.append(f"{db.name}: kept {', '.join(kept)}")
        return TextReport("\n".join(lines) + note,
                          {"database": db.name, "output": rel, "files": sorted(written), "edited": sorted(beside),
                           "kept": kept, "tables": keys, **unmanaged})

    # -- seed data --------------------------------------------------------------------------------

    def seed(self, action: str, name: str | None = None, database: str | None = None, dry_run: bool = False,
             lock_timeout: float | None = None) -> Report:
        """``seed new NAME`` writes the next seed file; ``seed apply`` applies the seeds not applied (and the
        repeatable ones changed); ``seed status`` lists each seed's state (seeds.py)."""
        from . import seeds

        seeds.usage(action, name)
        db = self.database(database)
        if action == "new":
            return seeds.new_seed(db, name or "")
        if action == "apply":
            return seeds.apply_seeds(db, dry_run, lock_timeout)
        return seeds.seed_status(db)

    # -- lock -------------------------------------------------------------------------------------

    def lock_status(self, database: str | None = None) -> LockReport:
        db = self.database(database)
        with db.connect() as conn:
            return LockReport(db.name, db.backend.lock(conn).status(), leftovers=tuple(db.backend.leftovers(conn)))

    def unlock(self, database: str | None = None) -> LockReport:
        db = self.database(database)
        with db.connect() as conn:
            return LockReport(db.name, db.backend.lock(conn).force_release(), released=True)

    # -- configuration ----------------------------------------------------------------------------

    def config_report(self) -> TextReport:
        entries = [c.masked() for c in self.config.databases.values()]
        lines = [f"config: {self.config.path}"]
        for e in entries:
            lines.append(f"  {e['database_name']}{' (default)' if e.get('default') else ''}: "
                         f"{e['database_type']} {e['database_url']}")
            for key in ("dev_database_url", "model_paths", "migrations_dir", "schemas", "include_tables", "exclude_tables", "cluster",
                        "concurrent_indexes", "lock_timeout", "statement_timeout", "environments", "hooks"):
                if e.get(key):
                    lines.append(f"    {key}: {e[key]}")
        return TextReport("\n".join(lines), {"config": str(self.config.path), "databases": entries})


def _selected(key: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    name = key.rpartition(".")[2]
    hit = lambda patterns: any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(name, p) for p in patterns)
    return (not include or hit(include)) and not hit(exclude)


def inside_project(root: Path, path: str, what: str) -> Path:
    """``path`` (relative to the project root) resolved, refused when it leaves the project."""
    from .config import within

    candidate = Path(path)
    if "\x00" in path or not path.strip() or candidate.is_absolute() or ".." in candidate.parts:
        raise UsageError(f"{what} {path!r} must be a path inside the project, relative to {root}")
    resolved = within(root, path)
    if resolved is None:
        raise UsageError(f"{what} {path!r} leaves the project (through a symbolic link)")
    existing = next(folder for folder in (resolved, *resolved.parents) if folder.exists())
    if not existing.is_dir():
        raise UsageError(f"{what} {path!r} is not a folder: {os.path.relpath(existing, root.resolve())} is a file")
    return resolved


def project(path: str | os.PathLike[str] | None = None, dev: bool = False, strict_translation: bool = False) -> Project:
    """The project of ``path`` (a dbwarden.py), else of ./dbwarden.py or the nearest one above."""
    return Project.load(path, dev, strict_translation)
