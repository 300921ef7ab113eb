"""Seed data: reference rows kept as plain SQL files, ``seeds/<database>/NNNN_<name>.sql``, applied in order.

Each seed applied is recorded in its own table, ``dbwarden_seeds`` (never the migrations' history), with the checksum
of its statements. ``seed apply`` applies the seeds never applied, each in one transaction with its record, under the
migration lock. A seed changed since it was applied is applied again only when it says so, with a line
``-- dbwarden: repeatable`` (its SQL must then be idempotent: ``INSERT ... ON CONFLICT``, ``DELETE`` + ``INSERT``);
any other changed seed is an error naming it, and nothing is applied.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    BackendError,
    IntegrityError,
    MigrationError,
    MigrationFileError,
    UsageError,
)
from .reports import FailsOnProblems, Report, TextReport

if TYPE_CHECKING:
    from .backends.base import Connection
    from .database import Database
    from .migrations.files import Statement

__all__ = ["REPEATABLE", "Seed", "SeedStatusReport", "apply_seeds", "new_seed", "read_seeds", "seed_status"]

REPEATABLE = "-- dbwarden: repeatable"
_FILE = re.compile(r"(\d{4,})_([A-Za-z0-9_]+)\.sql")
CHANGED_REPEATABLE = "changed (repeatable: seed apply applies it again)"
_FIELDS = ("version", "filename", "checksum", "repeatable", "applied_at")


@dataclass(frozen=True)
class Seed:
    version: int
    filename: str
    statements: tuple[Statement, ...]
    checksum: str
    repeatable: bool

    @property
    def name(self) -> str:
        return self.filename.partition("_")[2].removesuffix(".sql")


@dataclass(frozen=True)
class SeedRow:
    version: int
    filename: str
    checksum: str
    repeatable: int
    applied_at: str


@dataclass(frozen=True)
class SeedLine:
    version: int
    filename: str
    state: str  # applied | pending | CHANGED_REPEATABLE (seed apply re-applies it) | changed (an error) | missing
    detail: str = ""


@dataclass(repr=False)
class SeedStatusReport(FailsOnProblems, Report):
    database: str
    folder: str
    lines: tuple[SeedLine, ...]

    failure_type = IntegrityError

    @property
    def problems(self) -> list[str]:  # type: ignore[override]
        return [line.detail for line in self.lines if line.state in ("changed", "missing") and line.detail]

    def to_text(self) -> str:
        if not self.lines:
            return f"{self.database}: no seeds in {self.folder}"
        out = [f"{self.database}: seeds in {self.folder}"]
        out += [f"  {line.version:04d} {line.filename}  {line.state}" for line in self.lines]
        out += [f"  error: {p}" for p in self.problems]
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "folder": self.folder,
                "seeds": [{"version": s.version, "filename": s.filename, "state": s.state, "detail": s.detail}
                          for s in self.lines], "problems": self.problems}


def read_seeds(folder: Path, shown: str) -> list[Seed]:
    """The seed files of ``folder`` in order; a misnamed ``.sql`` file or two of one number is an error."""
    from .migrations.files import (
        _decode,
        _read_bytes,
        split_statements,
        statements_checksum,
    )

    seeds: dict[int, Seed] = {}
    for path in sorted(folder.glob("*.sql")) if folder.is_dir() else ():
        match = _FILE.fullmatch(path.name)
        if match is None:
            raise MigrationFileError(f"{shown}/{path.name}: a seed file is named NNNN_<name>.sql")
        version = int(match.group(1))
        if version in seeds:
            raise MigrationFileError(f"{shown}: two seed files with number {version:04d}: "
                                     f"{seeds[version].filename} and {path.name}")
        lines = _decode(path, _read_bytes(path)).splitlines()
        repeatable = any(line.strip() == REPEATABLE for line in lines)
        try:  # the header is this module's, not a statement directive: blanked, so line numbers stay right
            statements = tuple(split_statements("\n".join("" if ln.strip() == REPEATABLE else ln for ln in lines)))
        except MigrationFileError as exc:
            raise MigrationFileError(f"{shown}/{path.name}: {exc}") from None
        seeds[version] = Seed(version, path.name, statements, statements_checksum(statements), repeatable)
    return [seeds[v] for v in sorted(seeds)]


def new_seed(db: Database, name: str) -> TextReport:
    from .migrations.files import migration_filename

    folder = db.config.seeds_path
    version = max((s.version for s in read_seeds(folder, _shown(db))), default=0) + 1
    path = folder / migration_filename(version, name)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(f"-- dbwarden seed {version:04d}: {name}\n"
                    f"-- applied once by 'dbwarden seed apply'; to apply it again whenever it changes, add the line\n"
                    f"-- '{REPEATABLE}' (and make its statements idempotent)\n"
                    "-- write the statements here, each ending with ;\n", encoding="utf-8")
    rel = f"{_shown(db)}/{path.name}"
    return TextReport(f"{db.name}: wrote {rel} (add its statements)", {"database": db.name, "path": rel})


def seed_status(db: Database) -> SeedStatusReport:
    with db.connect() as conn:
        _refuse_unsupported(db, conn)
        return SeedStatusReport(db.name, _shown(db), tuple(_lines(db, read_seeds(db.config.seeds_path, _shown(db)),
                                                               _rows(conn))))


def apply_seeds(db: Database, dry_run: bool = False, lock_timeout: float | None = None) -> TextReport:
    """Apply the seeds never applied and the repeatable ones changed since; a changed seed that is not
    repeatable stops everything before anything is applied."""
    seeds = read_seeds(db.config.seeds_path, _shown(db))
    with db.connect() as conn:
        _refuse_unsupported(db, conn)
        runner = db.runner(conn, lock_timeout)
        with runner.locked() if not dry_run else nullcontext():
            rows = _rows(conn)
            lines = _lines(db, seeds, rows)
            problems = [line.detail for line in lines if line.state == "changed" and line.detail]
            if problems:
                raise IntegrityError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
            todo = [seed for seed, line in zip(seeds, lines) if line.state in ("pending", CHANGED_REPEATABLE)]
            verb = "would apply" if dry_run else "applied"
            if not dry_run:
                for sql in db.backend.seeds_ddl():
                    conn.execute(sql)
                for seed in todo:
                    _apply(db, conn, seed, again=seed.version in rows)
    if not todo:
        return TextReport(f"{db.name}: seeds up to date; nothing to apply", {"database": db.name, "applied": []})
    shown = [f"  {seed.version:04d} {seed.filename} ({len(seed.statements)} statement(s)"
             f"{', re-applied: changed and repeatable' if seed.version in rows else ''})" for seed in todo]
    return TextReport("\n".join([f"{db.name}: {verb} {len(todo)} seed(s){' (dry run)' if dry_run else ''}", *shown]),
                      {"database": db.name, "dry_run": dry_run, "applied": [s.filename for s in todo]})


def _apply(db: Database, conn: Connection, seed: Seed, again: bool) -> None:
    from .config import mask_text
    from .migrations.runner import _reason

    q = db.backend.quote
    table = q(db.backend.seeds_table)
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = {"version": seed.version, "filename": seed.filename, "checksum": seed.checksum,
           "repeatable": int(seed.repeatable), "applied_at": at}
    with conn.transaction():
        for n, stmt in enumerate(seed.statements, 1):
            try:
                conn.execute(stmt.sql)
            except Exception as exc:  # noqa: BLE001  the driver's error, as one line naming the seed and statement
                raise MigrationError(mask_text(f"{_shown(db)}/{seed.filename}: statement {n} failed: {_reason(exc)}; "
                                               "this seed was not applied")) from None
        if again:
            conn.query(f"DELETE FROM {table} WHERE {q('version')} = :version", row)
        cols = ", ".join(q(f) for f in _FIELDS)
        conn.query(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(f':{f}' for f in _FIELDS)})", row)


def _lines(db: Database, seeds: list[Seed], rows: dict[int, SeedRow]) -> list[SeedLine]:
    lines = []
    for seed in seeds:
        row = rows.get(seed.version)
        if row is None:
            lines.append(SeedLine(seed.version, seed.filename, "pending"))
        elif row.checksum == seed.checksum:
            lines.append(SeedLine(seed.version, seed.filename, "applied"))
        elif seed.repeatable:
            lines.append(SeedLine(seed.version, seed.filename, CHANGED_REPEATABLE))
        else:
            lines.append(SeedLine(seed.version, seed.filename, "changed", (
                f"{_shown(db)}/{seed.filename} was applied as {row.checksum} and now reads {seed.checksum}; a seed "
                f"is applied once: put the change in a new seed ('dbwarden seed new'), or declare this one "
                f"repeatable with a line '{REPEATABLE}'")))
    on_disk = {seed.version for seed in seeds}
    lines += [SeedLine(row.version, row.filename, "missing", f"{_shown(db)}/{row.filename} was applied and is missing "
                       "from disk") for row in rows.values() if row.version not in on_disk]
    return sorted(lines, key=lambda line: line.version)


def _rows(conn: Connection) -> dict[int, SeedRow]:
    backend = conn.backend
    if not backend.table_exists(conn, backend.seeds_table):
        return {}
    cols = ", ".join(backend.quote(f) for f in _FIELDS)
    found = conn.query(f"SELECT {cols} FROM {backend.quote(backend.seeds_table)} ORDER BY {backend.quote('version')}")
    return {int(r[0]): SeedRow(int(r[0]), r[1], r[2], int(r[3]), r[4]) for r in found}


def _refuse_unsupported(db: Database, conn: Connection) -> None:
    if not conn.backend.supports_seeds:
        raise BackendError(f"database '{db.name}': seeds are not supported on {conn.backend.name}")


def _shown(db: Database) -> str:
    return db.config.seeds_path.relative_to(db.config.root).as_posix()


def usage(action: str, name: str | None) -> None:
    """``seed new`` needs a NAME; ``seed apply``/``seed status`` take none."""
    if action == "new" and not name:
        raise UsageError("dbwarden seed new: give the seed's name, e.g. dbwarden seed new \"countries\"")
    if action != "new" and name:
        raise UsageError(f"dbwarden seed {action}: takes no name (got {name!r})")
