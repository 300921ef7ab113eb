"""``dbwarden rebase``: a migration chain made whole again after a git merge of two branches' migrations.

Two branches that each added ``0002_*.sql`` give, once merged, two files with one number (or a file whose
``-- base:`` is not the previous file's ``-- target:``). The rebase keeps what the configured database has applied
where it is, in the order its history records, and puts the other files after it, renumbered. Each file is then
replayed in a new, empty scratch database in the new order (upgrade, rollback, upgrade again): its statements are
kept when they still do what they did, and its base and target snapshots become the schemas found around it. A
file whose statements fail there, or touch what a migration now before it changed (a column, an index, a table…),
is refused with the objects named, and nothing is written.

Only the title line and the ``-- base:``/``-- target:`` headers of a file change, so its statements, the checksum
history records, and the ``-- generated:`` checksum (of both sections) stay what they were.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .errors import IntegrityError, MigrationError, UsageError
from .reports import Report
from .session import view

if TYPE_CHECKING:
    from .backends.base import Connection
    from .database import Database
    from .migrations.files import MigrationFile, Statement
    from .migrations.history import HistoryRow
    from .schema import Snapshot

_TITLE = re.compile(r"(--\s*dbwarden\s+migration\s+)[0-9]{4,9}(\s*:.*)")
_SNAPSHOT_HEADER = re.compile(r"(--\s*(base|target)\s*:\s*)(\S+)\s*")


@dataclass(frozen=True)
class Step:
    """One file of the rebased chain."""

    old: str  # file name before the rebase
    new: str  # file name after it
    applied: bool  # applied in the configured database: kept where its history puts it
    replanned: bool  # its base/target headers (and stored snapshot) change
    base: str | None
    target: str | None
    dev: str | None = None  # what became of its dev sections: "translated again" or why they were kept

    @property
    def action(self) -> str:
        dev = f"; dev sections {self.dev}" if self.dev else ""
        return self._action() + dev

    def _action(self) -> str:
        moved = self.old != self.new
        if not moved and not self.replanned:
            return "kept (applied here)" if self.applied else "kept"
        what = ["renumbered"] if moved else []
        what += ["re-planned on the merged chain"] if self.replanned else []
        return ", ".join(what) + ("; applied here, statements unchanged" if self.applied else "; statements kept")

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "applied": self.applied, "replanned": self.replanned,
                "base": self.base, "target": self.target, "dev": self.dev, "action": self.action}


@dataclass(repr=False)
class RebaseReport(Report):
    database: str
    directory: str
    applied_in: str  # the database whose history the kept order comes from (masked URL)
    steps: tuple[Step, ...]
    dry_run: bool = False

    @property
    def changed(self) -> list[Step]:
        return [s for s in self.steps if s.old != s.new or s.replanned]

    def to_text(self) -> str:
        return self.text(self.applied_in)

    def heading(self, where: str) -> str:
        if not self.changed:
            return f"{self.directory} is one chain; nothing to rebase"
        verb = "would rebase" if self.dry_run else "rebased"
        kept = sum(s.applied for s in self.steps)
        applied = f"{kept} applied in {where} keep their numbers" if kept else f"none is applied in {where}"
        return f"{verb} {self.directory}: {len(self.changed)} of {len(self.steps)} migration(s) change; {applied}"

    def text(self, where: str) -> str:
        """The report, naming the database whose history was kept as ``where`` (the notebook leaves its URL out)."""
        if not self.changed:
            return f"{self.database}: {self.heading(where)}"
        lines = [f"{self.database}: {self.heading(where)}"]
        width = max(len(s.old) for s in self.steps)
        for s in self.steps:
            arrow = f" -> {s.new}" if s.new != s.old else ""
            lines.append(f"  {s.old:<{width}}{arrow}  {s.action}")
            if s.replanned:
                lines.append(f"  {'':<{width}}  base {s.base}, target {s.target}")
        lines.append("nothing written (--dry-run)" if self.dry_run else "next: dbwarden migrate")
        return "\n".join(lines)

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per migration file."""
        return view("frame", self)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "directory": self.directory, "applied_in": self.applied_in,
                "dry_run": self.dry_run, "steps": [s.to_json() for s in self.steps]}


def needs_rebase(files: Sequence[MigrationFile]) -> bool:
    from .migrations.runner import chain_breaks

    return len({f.version for f in files}) != len(files) or bool(chain_breaks(files, ""))


def kept_order(files: Sequence[MigrationFile], rows: Iterable[HistoryRow], where: str) -> list[MigrationFile]:
    """The files the database applied, in the order of its history; refused, with the facts, when that history is
    not a run of versions from 0001 matched by the files (partial, deleted, or applied in another order)."""
    from .migrations.history import APPLIED

    rows = sorted((r for r in rows if r.version != 0), key=lambda r: r.version)
    left, kept = list(files), []
    for position, row in enumerate(rows, 1):
        if row.status != APPLIED:
            raise IntegrityError(f"{where}: migration {row.version:04d} ({row.filename}) is {row.status}: finish it "
                                 "('dbwarden migrate' or 'rollback') before rebasing")
        if row.version != position:
            listed = ", ".join(f"{r.version:04d} {r.filename}" for r in rows)
            raise IntegrityError(f"{where}: its history ({listed}) is not a run of versions from 0001, so no chain "
                                 "can keep it; nothing rebased")
        same = [f for f in left if f.matches(row.checksum)]
        if not same:
            raise IntegrityError(f"{where}: {row.filename} was applied as {row.version:04d} ({row.checksum}), and no "
                                 "file of the merged chain has those statements (edited or deleted); nothing rebased")
        found = next((f for f in same if f.filename == row.filename), same[0])
        kept.append(found)
        left.remove(found)
    return kept


def new_order(files: Sequence[MigrationFile], kept: Sequence[MigrationFile]) -> list[MigrationFile]:
    """The kept files, then the others in number order, each followed by the file made on top of it where there is
    one (so a branch's 0002 and 0003 stay together)."""
    left = [f for f in files if f not in kept]
    order = list(kept)
    while left:
        previous = order[-1].target if order else None
        nxt = next((f for f in left if previous is not None and f.base == previous), left[0])
        order.append(nxt)
        left.remove(nxt)
    return order


def ancestors(f: MigrationFile, files: Sequence[MigrationFile]) -> set[str]:
    """The files ``f`` was made on top of, following the ``-- base:``/``-- target:`` links of its branch."""
    by_target = {g.target: g for g in files if g.target is not None}
    found: set[str] = set()
    base = f.base
    while base in by_target and by_target[base].filename not in found:
        found.add(by_target[base].filename)
        base = by_target[base].base
    return found


def parts(snap: Snapshot) -> dict[str, str]:
    """Every object of a snapshot, and every column, constraint and index of a table, by a readable key, with its
    canonical JSON: what two migrations compare to tell whether they touch the same thing."""
    out: dict[str, str] = {}
    doc = snap.to_dict()
    for kind in ("views", "enums", "sequences", "domains", "objects"):
        for key, value in doc.get(kind, {}).items():
            out[f"{kind[:-1]} {key}"] = json.dumps(value, sort_keys=True)
    for key, table in doc["tables"].items():
        for field, value in table.items():
            if isinstance(value, list) and all(isinstance(v, dict) and v.get("name") for v in value):
                for item in value:
                    out[f"{key}.{item['name']} ({field[:-1].replace('_', ' ')})"] = json.dumps(item, sort_keys=True)
            else:
                out[f"{key} ({field.replace('_', ' ')})"] = json.dumps(value, sort_keys=True)
    return out


def touched(before: Snapshot, after: Snapshot) -> set[str]:
    old, new = parts(before), parts(after)
    return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def run_statements(db: Database, scratch: Connection, statements: Sequence[Statement], what: str) -> None:
    """Apply statements in a scratch database (``snapshot --restore``, ``rebase``); a failure is one line naming
    ``what``."""
    db.backend.before_migration(scratch)
    for stmt in statements:
        try:
            if stmt.transactional:
                with scratch.transaction():
                    scratch.execute(stmt.sql)
            else:
                scratch.execute_autocommit(stmt.sql)
        except Exception as exc:  # noqa: BLE001  any driver's error, as one line
            raise MigrationError(f"{what} fails in the scratch database: {db.backend.failure(exc, stmt.sql)}") from None


def replay(db: Database, order: Sequence[MigrationFile], replanned: set[str],
           files: Sequence[MigrationFile]) -> list[Snapshot]:
    """The schema after each file of ``order``, replayed in a new, empty scratch database. A re-planned file is also
    rolled back and applied again, and refused when it fails or touches what a file now before it (and not of its
    own branch) changed."""
    from .config import sqlalchemy_url

    start = db.stored_snapshot(0)
    after: list[Snapshot] = []
    changed: dict[str, set[str]] = {}
    with db.backend.scratch_empty(sqlalchemy_url(db.url, root=db.config.root)) as scratch:
        if start is not None:
            run_statements(db, scratch, db.backend.render_plan(db.backend.plan(db.production.empty(), start)),
                           "the baseline")
        before = db.live_snapshot(scratch)
        for position, f in enumerate(order, 1):
            rel = f"rebase: {db.display_dir}/{f.filename} (as {position:04d})"
            own = ancestors(f, files)
            others = {k for g in order[:position - 1] if g.filename not in own for k in changed.get(g.filename, ())}
            try:
                run_statements(db, scratch, f.upgrade, rel)
            except MigrationError as err:
                if f.filename not in replanned:
                    raise
                near = f"; the migrations now before it changed {_listed(others)}" if others else ""
                raise MigrationError(f"{err}{near}; nothing rebased: make it again on the merged chain (delete it, "
                                     "'dbwarden migrate', 'dbwarden make-migrations')") from None
            live = db.live_snapshot(scratch)
            changed[f.filename] = touched(before, live)
            if f.filename in replanned:
                clash = changed[f.filename] & others
                if clash:
                    raise MigrationError(f"{rel}: it changes {_listed(clash)}, which a migration now before it changed "
                                         "too: its statements were written for the schema of its branch; nothing "
                                         "rebased: make it again on the merged chain (delete it, 'dbwarden migrate', "
                                         "'dbwarden make-migrations')")
                if not f.irreversible:
                    run_statements(db, scratch, f.rollback, f"{rel} rollback")
                    if db.live_snapshot(scratch) != before:
                        raise MigrationError(f"{rel}: its rollback does not return the merged chain's schema "
                                             f"({_listed(touched(before, db.live_snapshot(scratch)))}); nothing "
                                             "rebased: make it again on the merged chain")
                    run_statements(db, scratch, f.upgrade, rel)
            elif f.target is not None and live.checksum != f.target:
                raise MigrationError(f"{rel}: replaying it gives a schema that is not its target ({f.target}); "
                                     "the file or its normalization is wrong; nothing rebased")
            after.append(live)
            before = live
    return after


def _listed(keys: Iterable[str], limit: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:limit]) + (f", … ({len(keys)} in all)" if len(keys) > limit else "")


def rewritten(f: MigrationFile, version: int, base: str | None, target: str | None,
              dev: MigrationFile | None = None) -> str:
    """The file's text with its number and snapshot headers changed (and, with ``dev``, its dev sections replaced by
    that file's), every other byte kept."""
    from .migrations.files import parse_migration

    assert f.path is not None
    lines = f.path.read_text(encoding="utf-8").split("\n")
    if dev is not None:
        marker = next(i for i, line in enumerate(lines) if line.strip().startswith("-- dev-upgrade"))
        lines = "\n".join(lines[:marker]).rstrip("\n").split("\n") + dev.render_dev_sections().split("\n")
    lines[0] = _TITLE.sub(lambda m: f"{m.group(1)}{version:04d}{m.group(2)}", lines[0].strip(), count=1)
    values = {"base": base, "target": target}
    for i, line in enumerate(lines[1:], 1):
        if line.strip() in ("-- upgrade", "--upgrade"):
            break
        if (m := _SNAPSHOT_HEADER.fullmatch(line.strip())) and values[m.group(2)] is not None:
            lines[i] = f"{m.group(1)}{values[m.group(2)]}"
    text = "\n".join(lines)
    sections = dev or f
    expected = replace(f, version=version, base=base, target=target, path=None, dev_upgrade=sections.dev_upgrade,
                       dev_rollback=sections.dev_rollback)
    if parse_migration(text) != expected:
        raise MigrationError(f"rebase: {f.filename}: its headers could not be rewritten in place; nothing rebased")
    return text


def retranslated(db: Database, f: MigrationFile, base: Snapshot | None,
                 target: Snapshot) -> tuple[MigrationFile | None, str | None]:
    """A re-planned file's dev sections translated again from its new base and target (they were translated from
    its branch's, and SQLite rebuilds a table whole: kept, they would drop what the other branch added to it)."""
    if f.dev_backend is None or db.dev_backend is None:
        return None, None
    if f.edited or f.is_manual:
        return None, "kept as written (the file was edited by hand): check them against the merged chain"
    from .differ import Renames
    from .planning import bare_renames, dev_sections

    base = base if base is not None else (db.stored_snapshot(0) or db.production.empty())
    renames = Renames.from_header(f.renames)
    dev = dev_sections(db.dev_backend, f, db.translate(base)[0], db.translate(target)[0], bare_renames(renames, base, target))
    same = (dev.dev_upgrade, dev.dev_rollback) == (f.dev_upgrade, f.dev_rollback)
    return (None, None) if same else (dev, "translated again from the new base and target")


def rebase(db: Database, dry_run: bool = False) -> RebaseReport:
    from .migrations.files import migration_filename, read_migrations
    from .migrations.history import History

    if db.dev:
        raise UsageError(f"{db.name}: rebase replays the production chain in a scratch database; run it without "
                         "--dev (the configured database's history orders it)")
    files = read_migrations(db.migrations_dir, db.config.state_path / "cache", shared_numbers=True)
    db.refuse_other_backends((f.path, f.backend) for f in files)
    if not files:  # no database needed to say so
        return RebaseReport(db.name, db.display_dir, db.masked_url, (), dry_run)
    with db.connect() as conn:
        history = History(conn)
        rows = history.rows() if history.exists() else []
    where = f"{db.name} ({db.masked_url})"
    kept = kept_order(files, rows, where)
    if not needs_rebase(files):
        if kept != list(files[:len(kept)]):  # a whole chain, rebased for a database that applied them otherwise
            facts = lambda chain: ", ".join(f"{n:04d} {f.filename}" for n, f in enumerate(chain, 1))
            raise IntegrityError(f"{where} applied the migrations in another order ({facts(kept)}) than the chain, "
                                 f"rebased for another database, has them ({facts(files[:len(kept)])}); a rebase "
                                 "cannot renumber what that database applied: roll one of the two databases back to "
                                 "the versions they share")
        unchanged = tuple(Step(f.filename, f.filename, f in kept, False, f.base, f.target) for f in files)
        return RebaseReport(db.name, db.display_dir, db.masked_url, unchanged, dry_run)

    order = new_order(files, kept)
    # A file is re-planned when what it starts from is no longer what it was made on.
    replanned: set[str] = set()
    start = (db.stored_snapshot(0) or db.production.empty()).checksum
    for i, f in enumerate(order):
        previous = order[i - 1] if i else None
        made_on = start if previous is None else previous.target
        if f.base is not None and ((previous is not None and previous.filename in replanned) or
                                   (made_on is not None and f.base != made_on)):
            replanned.add(f.filename)
    schemas = replay(db, order, replanned, files)

    steps: list[Step] = []
    writes = []
    for version, (f, live) in enumerate(zip(order, schemas), 1):
        new_base = schemas[version - 2].checksum if version > 1 else f.base
        base = new_base if f.filename in replanned else f.base
        target = live.checksum if f.filename in replanned and f.target is not None else f.target
        name = migration_filename(version, f.description)
        dev, why = (retranslated(db, f, schemas[version - 2] if version > 1 else None, live)
                    if f.filename in replanned else (None, None))
        steps.append(Step(f.filename, name, f in kept, f.filename in replanned, base, target, why))
        writes.append((f, version, name, base, target, live, dev))
    report = RebaseReport(db.name, db.display_dir, db.masked_url, tuple(steps), dry_run)
    if dry_run:
        return report

    texts = [(f, name, rewritten(f, version, base, target, dev)
              if (name != f.filename or f.filename in replanned) else None)
             for f, version, name, base, target, _, dev in writes]  # every text before anything is written
    for f, _, text in texts:
        if text is not None and f.path is not None:
            os.remove(f.path)
    from .atomic import write_atomic

    for f, name, text in texts:
        if text is not None:
            write_atomic(db.migrations_dir / name, text)
    for f, version, _, _, target, live, _ in writes:
        stored = db.stored_snapshot(version)
        if target is not None and (stored is None or stored.checksum != target):
            db.store_snapshot(version, live)
    return report
