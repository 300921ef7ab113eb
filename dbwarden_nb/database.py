"""One configured database: its backends, connections, model and live snapshots, stored snapshots and
migration files. The commands that use it are in ``api`` (``Project``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import write_atomic
from .errors import ConfigError, MigrationFileError, SnapshotError, UsageError

if TYPE_CHECKING:
    from .backends.base import Backend, Connection
    from .config import DatabaseConfig
    from .migrations.files import MigrationFile
    from .migrations.runner import Runner
    from .schema import Snapshot
    from .translate import TranslationReport

BASELINE = 0  # the version of the snapshot `baseline` records; it has no migration file


class Database:
    """One configured database in production or ``--dev`` mode."""

    def __init__(self, config: DatabaseConfig, dev: bool = False, strict_translation: bool = False):
        from .backends import get_backend

        config.migrations_path, config.state_path  # noqa: B018  a folder leading out of the project: refused now
        self.config = config
        self.name = config.database_name
        self.dev = dev
        self.strict_translation = strict_translation
        # The production backend writes the migration files and extracts the models in both modes; in --dev
        # the SQLite dev database is the one connected to, and it runs the files' dev sections.
        self.production: Backend = get_backend(config.backend_name()).for_database(config)
        self.backend: Backend = get_backend(config.backend_name(dev)) if dev else self.production
        self.dev_backend: Backend | None = (get_backend(config.backend_name(dev=True))
                                            if config.dev_database_url is not None else None)

    @property
    def url(self) -> str:
        return self.config.url(dev=self.dev)

    @property
    def masked_url(self) -> str:
        from .config import mask_url

        return mask_url(self.url)

    @property
    def migrations_dir(self) -> Path:
        return self.config.migrations_path

    @property
    def display_dir(self) -> str:
        try:
            return self.migrations_dir.relative_to(self.config.root).as_posix()
        except ValueError:
            return self.migrations_dir.as_posix()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Connection]:
        """A connection to the database; ``read_only`` for commands that only read, compare and normalize
        models (the backend may then skip loading SQLAlchemy's engine)."""
        from .config import sqlalchemy_url

        url, masked = sqlalchemy_url(self.url, root=self.config.root), self.masked_url
        try:
            conn = (self.backend.connect_read_only if read_only else self.backend.connect)(url, masked)
        except ConfigError as exc:
            raise ConfigError(f"database '{self.name}': {self.config.target_field(self.dev)}: {exc}") from None
        try:
            yield conn
        finally:
            conn.close()

    # -- snapshots --------------------------------------------------------------------------------

    def model_tables(self) -> list[Any]:
        return self.model_set()[0]

    def model_set(self) -> tuple[list[Any], list[Any]]:
        """The model tables and the ``MetaData`` objects of the model modules."""
        from .models.cache import recording_imports

        with recording_imports():  # what the model-snapshot cache must check besides the files
            from .models.loader import load_models

            return load_models(self.config)

    def model_snapshot(self, conn: Connection | None = None) -> Snapshot:
        """The models as this database reports them: in ``--dev``, the production model snapshot (read
        offline: the production server is not at hand) translated for the SQLite dev database."""
        if self.dev:
            return self.translate(self.production_models(None))[0]
        return self.production_models(conn)

    def translate(self, snap: Snapshot) -> tuple[Snapshot, TranslationReport]:
        """A production snapshot as the SQLite dev database holds it, with the report of every decision."""
        from .translate import translate

        return translate(snap, self.name, strict=self.strict_translation)

    def production_models(self, conn: Connection | None = None) -> Snapshot:
        """The models as the production server would report them, through the model-snapshot caches
        (``models/cache.py``)."""
        from .models.cache import production_models

        return production_models(self, conn)

    def live_snapshot(self, conn: Connection) -> Snapshot:
        return self.managed(self.backend.introspect(conn, self.schemas(conn)))

    def schemas(self, conn: Connection) -> list[str] | None:
        """The configured schemas, else the connection's default one plus every schema the models use; before
        any model exists (a database being adopted), every schema the database has."""
        if self.config.schemas or not self.backend.supports_schemas:
            return list(self.config.schemas) if self.config.schemas else None
        from .models.cache import ModelCache, used_schemas
        from .models.sources import models_missing

        default = self.backend.default_schema(conn)
        used = ModelCache.of(self, conn).schemas
        if used is None and models_missing(self.config):
            assert default is not None, "a backend with schemas names its default one"
            return [default, *(s for s in self.backend.user_schemas(conn) if s != default)]
        if used is None:
            tables, metadata = self.model_set()
            used = used_schemas(tables, default, metadata)
        return [default, *used] if default else None

    def managed(self, snap: Snapshot) -> Snapshot:
        """Only the tables and views this database manages; the others are never touched (nor dropped), and listed."""
        if not self.config.include_tables and not self.config.exclude_tables:
            return snap
        kept = {kind: {k: o for k, o in getattr(snap, kind).items() if self.config.manages_table(o.name, o.schema)}
                for kind in ("tables", "views")}
        left = {f"excluded {kind[:-1]}": [k for k in getattr(snap, kind) if k not in kept[kind]] for kind in kept}
        return snap.replace(**kept, unmanaged={**snap.unmanaged, **left})

    def snapshot_path(self, version: int) -> Path:
        return self.config.snapshots_path / f"{version:04d}.json"

    def stored_snapshot(self, version: int) -> Snapshot | None:
        from .schema import Snapshot

        path = self.snapshot_path(version)
        if not path.exists():
            return None
        from .parsed import parsed

        rel = os.path.relpath(path, self.config.root)
        data = path.read_bytes()

        def parse() -> Snapshot:
            try:
                return Snapshot.from_json(data.decode("utf-8"), source=rel)
            except UnicodeDecodeError:
                raise SnapshotError(f"{rel}: not UTF-8 text") from None

        return parsed(self.config.state_path / "cache", "snapshot", rel, data, parse, ("dbwarden_nb.schema",))

    def snapshot_at(self, version: int) -> Snapshot:
        """The schema as migration ``version`` left it, from its stored snapshot (no database needed); 0 is the
        baseline, or the empty schema the first migration starts from."""
        snap = self.stored_snapshot(version)
        if snap is not None:
            return snap
        if version == BASELINE:
            return self.production.empty()
        self.refuse_lost_snapshots([f for f in self.files() if f.version == version])
        stored = sorted(int(p.stem) for p in self.config.snapshots_path.glob("[0-9][0-9][0-9][0-9].json"))
        listed = ", ".join(f"{v:04d}" for v in stored) if len(stored) <= 8 else f"{stored[0]:04d} … {stored[-1]:04d}"
        manual = next((f for f in self.files() if f.version == version and f.is_manual), None)
        why = " (a manual migration has one once it is applied)" if manual else ""
        raise UsageError(f"{self.name}: no stored snapshot of version {version:04d}{why}; "
                         f"stored: {listed or 'none'}")

    def store_snapshot(self, version: int, snap: Snapshot) -> None:
        path = self.snapshot_path(version)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, snap.to_json())

    def runner(self, conn: Connection, lock_timeout: float | None = None) -> Runner:
        from .migrations.files import read_backends
        from .migrations.runner import Runner

        self.refuse_other_backends(read_backends(self.migrations_dir).items())  # before any statement is read
        timeout = lock_timeout_seconds(lock_timeout)
        return Runner(self.backend, conn, self.migrations_dir, self.display_dir, dev=self.dev, lock_timeout=timeout,
                      parsed_cache=self.config.state_path / "cache")

    def files(self) -> list[MigrationFile]:
        from .migrations.files import read_migrations

        files = read_migrations(self.migrations_dir, self.config.state_path / "cache")
        self.refuse_other_backends((f.path, f.backend) for f in files)
        return files

    def refuse_other_backends(self, headers: Iterable[tuple[Path | None, str | None]]) -> None:
        """The backend guard: a file whose ``-- backend:`` header is not this database's backend is refused (a
        SQLite chain pointed at PostgreSQL would fail inside its first statement, or worse, run)."""
        expected = self.production.name
        for path, backend in headers:
            if backend is not None and backend != expected:
                rel = f"{self.display_dir}/{path.name}" if path is not None else "a migration file"
                raise MigrationFileError(
                    f"{rel} was written for {backend} (-- backend: {backend}), but database '{self.name}' is "
                    f"{expected}: a chain runs only on the backend it was made for (README: 'From SQLite to "
                    "PostgreSQL' says how to move)")

    def base_snapshot(self, conn: Connection | None, from_empty: bool = False) -> tuple[Snapshot, str]:
        """Where make-migrations starts: the latest file's target snapshot, else the baseline, else the empty
        schema. A database that holds tables before its first migration is refused there (unless ``from_empty``):
        a chain diffed against it could never build a fresh database, so the user chooses ``baseline`` or
        ``--from-empty``."""
        files = self.files()
        if files and from_empty:
            raise UsageError(f"--from-empty starts the first migration of a chain, but {self.display_dir} already has "
                             f"{len(files)} (latest {files[-1].version:04d}); drop the flag")
        if not files:
            baseline = self.stored_snapshot(BASELINE)
            if baseline is not None:
                return baseline, "the baseline"
            if conn is not None and not self.dev and not from_empty:  # in --dev the connection is the dev database
                self.refuse_adoption(self.live_snapshot(conn))
            return self.production.empty(), "an empty schema"
        latest = files[-1]
        stored = self.stored_snapshot(latest.version)
        if stored is None:
            rel = f"{self.display_dir}/{latest.filename}"
            self.refuse_lost_snapshots(files)
            if latest.is_manual:
                raise UsageError(f"{rel} is a manual migration that was not applied yet: run 'dbwarden migrate' first, "
                                 "so its resulting schema becomes the base of the next migration")
            raise SnapshotError(f"the target snapshot of {rel} is missing "
                                f"({os.path.relpath(self.snapshot_path(latest.version), self.config.root)})")
        return stored, f"migration {latest.version:04d}"

    def refuse_lost_snapshots(self, files: Sequence[MigrationFile]) -> None:
        """Generated migrations whose stored snapshots are not there (a clone that left out ``.dbwarden/``): said as
        such, with the way out, never mistaken for a manual migration not applied yet."""
        lost = [f.version for f in files if not f.is_manual and not self.snapshot_path(f.version).exists()]
        if not lost:
            return
        folder = os.path.relpath(self.config.snapshots_path, self.config.root)
        listed = ", ".join(f"{v:04d}" for v in lost[:5]) + (f", … ({len(lost)} in all)" if len(lost) > 5 else "")
        raise SnapshotError(f"{self.name}: the stored snapshots of migration(s) {listed} are missing from {folder}/ "
                            "(they are committed with the migrations: a clone that left out .dbwarden/?); "
                            f"'dbwarden snapshot --restore' rebuilds them by replaying {self.display_dir} in a "
                            "scratch database")

    def refuse_adoption(self, live: Snapshot) -> None:
        """The adoption trap: a first migration diffed against tables that are already there."""
        held = [*live.tables, *live.views]
        if not held:
            return
        names = ", ".join(held[:3]) + (f", … ({len(held)} in all)" if len(held) > 3 else "")
        raise UsageError(f"{self.name}: the database already holds tables ({names}) and {self.display_dir} has no "
                         "migration yet: run 'dbwarden baseline' to adopt them as version 0000 (make-migrations then "
                         "writes only your changes), or 'dbwarden make-migrations --from-empty NAME' for a first "
                         "migration that builds everything from nothing (for new databases; this one already has them)")


def lock_timeout_seconds(given: float | None) -> float:
    """How long to wait for the migration lock: ``given`` (``--lock-timeout``), else ``$DBWARDEN_LOCK_TIMEOUT``,
    else 60 seconds; a value that is not a number of seconds, or is negative, is a usage error."""
    import math

    where, text = ("--lock-timeout", given) if given is not None else \
        ("DBWARDEN_LOCK_TIMEOUT", os.environ.get("DBWARDEN_LOCK_TIMEOUT", "60"))
    try:
        seconds = float(text)
    except (TypeError, ValueError):
        seconds = math.nan
    if math.isnan(seconds) or seconds < 0:
        raise UsageError(f"{where} {text!r}: expected a number of seconds, 0 or more (e.g. 60)")
    return seconds
