"""The model snapshot of a database, cached so that a run whose models did not change skips importing them.

Importing the models is the most expensive step of a command (SQLAlchemy builds every declarative class:
seconds for thousands of tables), and its result is a pure function of what the interpreter reads. So an
entry under ``.dbwarden/<db>/cache/models-<key>.pickle`` holds the finished snapshot, keyed by

- the Python version, ``sys.path``, the database's whole configuration (passwords masked), the server's version and default
  schema (the snapshot is normalized through that server), and
- the list of files the model paths can import from (every ``.py`` of a model folder or package, so a new
  module is a new key),

and it records every module file the import loaded (the models, their local helpers, SQLAlchemy,
dbwarden_nb itself): files inside the project by the SHA-256 of their content, installed ones by size and
modification time; and every module name the import system looked for while the models were imported, with
where it found it or that it found none (``recording_imports``), so that a new module shadowing one found
later on ``sys.path``, or an optional import (``try: import local_settings``) whose file appears, is a
change too. An entry is served only when each recorded file is unchanged and each name is found where it
was; anything else imports the models as usual and writes a new entry (the ``KEEP`` most recently used
entries of a database are kept: one per ``sys.path``, that is per entry point). The entry is a pickle (the
snapshot's objects load far faster than from JSON): it lives in the project, whose dbwarden.py and models
this process executes anyway.

It is used only where that is sound: online (the offline path depends on other cache files), and only while
none of the model modules is imported in this process, since in a notebook the tables in memory are the
truth (they may have been changed since the files were read). An entry is written only by a process that
imported the models itself, from files that did not change while it ran. What a model module reads besides
Python source (an environment variable, a data file) is not seen: set ``DBWARDEN_MODEL_CACHE=0`` for such models
(the CLI says so on stderr each time a snapshot comes from the cache: ``SESSION.cache_served``).
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import os
import pickle
import sys
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..atomic import write_atomic
from ..schema import Snapshot
from ..session import SESSION

if TYPE_CHECKING:
    from ..backends.base import Backend, Connection
    from ..config import DatabaseConfig


class Database(Protocol):
    """What the caches need of a configured database (``dbwarden_nb.database.Database``), which sits above them."""

    config: DatabaseConfig
    production: Backend

    def model_set(self) -> tuple[list[Any], list[Any]]: ...

    def managed(self, snap: Snapshot) -> Snapshot: ...


FORMAT = "dbwarden-model-cache/2"
# A file modified this close to the start of the run may have been read before the change: not recorded.
# Two seconds cover the coarsest file-system timestamps.
SLACK_NS = 2_000_000_000
_INSTALLED = ("site-packages", "dist-packages")
# Entries kept per database: one per sys.path (a console script, ``python -m``, a notebook kernel, another
# venv, CI), the least recently used dropped first, so that alternating entry points do not thrash.
KEEP = 6

_open: weakref.WeakKeyDictionary[Any, tuple[Any, ModelCache]] = weakref.WeakKeyDictionary()


_read: dict[Path, tuple[tuple[int, int, int], Snapshot]] = {}

class _ImportProbes:
    """A finder first on ``sys.meta_path`` that finds nothing: it notes each (name, search path) asked for."""

    def __init__(self) -> None:
        self.asked: dict[tuple[str, tuple[str, ...] | None], None] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        self.asked[(name, None if path is None else tuple(str(p) for p in path))] = None


_probes = _ImportProbes()


@contextmanager
def recording_imports() -> Iterator[None]:
    """Note every module name the import system looks for in the block (the import of the models)."""
    if _probes in sys.meta_path:
        yield
        return
    sys.meta_path.insert(0, _probes)
    try:
        yield
    finally:
        sys.meta_path.remove(_probes)


def _located(name: str, path: tuple[str, ...] | None) -> list[Any] | None:
    """Where the import system finds module ``name`` now (in ``path``, else on ``sys.path``), without importing
    it: its origin and package folders; None when nothing finds it. A finder's error is raised."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if finder is _probes or find is None:
            continue
        spec = find(name, None if path is None else list(path))
        if spec is not None:
            return [spec.origin, list(spec.submodule_search_locations or ())]
    return None


def production_models(db: Database, conn: Connection | None) -> Snapshot:
    """The models of ``db`` as the production server would report them, through the three caches, in order:

    - the model cache (``ModelCache``): unchanged model files give their snapshot without being imported;
    - backends that normalize through the server keep the normalized snapshot under ``.dbwarden/<db>/cache/``,
      keyed by the checksum of the models as SQLAlchemy spells them and the server version, so an unchanged
      model set costs no server work and ``--offline`` runs reuse it; any change to the models misses it;
    - per table (``models.normalize.TableCache``): a changed model set sends only its changed tables to the server.
    """
    cache = ModelCache.of(db, conn)
    if cache.snapshot is not None:
        return db.managed(cache.snapshot)
    backend = db.production
    tables, metadata = db.model_set()
    raw = backend.extract_models(tables, conn, metadata)
    backend.refuse_unholdable(raw)  # names the server would cut or mangle: refused, never silently changed
    if not backend.normalizes_on_server:
        return db.managed(cache.store(backend.normalize_models(raw, conn)))
    folder = db.config.state_path / "cache"
    digest = raw.checksum.removeprefix("sha256:")
    source = lambda path: read_snapshot(path, source=os.path.relpath(path, db.config.root))
    if conn is None:
        cached = sorted(folder.glob(f"{digest}-*.json"))
        return db.managed(source(cached[-1]) if cached else raw)
    version = backend.server_version(conn)
    path = folder / f"{digest}-{version}.json"
    if path.exists():
        return db.managed(cache.store(source(path)))
    from .normalize import TableCache

    normalized = TableCache(folder / f"tables-{version}.json").normalize(backend, raw, conn)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, normalized.to_json())
    return db.managed(cache.store(normalized))


def read_snapshot(path: Path, source: str) -> Snapshot:
    """A snapshot file, parsed once per process while it does not change (a notebook diffs again and again)."""
    stat = os.stat(path)
    stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    known = _read.get(path)
    if known is None or known[0] != stamp:
        _read.clear()  # one at a time: a snapshot of thousands of tables is tens of megabytes in memory
        _read[path] = known = (stamp, Snapshot.from_json(path.read_bytes(), source=source))
    return known[1]


def used_schemas(tables: Iterable[Any], default: str | None, metadata: Iterable[Any] = ()) -> list[str]:
    """The schemas SQLAlchemy tables live in or take types from, and those declared beside them (``metadata``'s
    entities), besides ``default``."""
    from ..entities import declared

    tables = list(tables)
    used = {t.schema for t in tables} | {getattr(c.type, "schema", None) for t in tables for c in t.columns}
    used |= {e.name if e.kind == "schema" else e.schema for md in metadata for e in declared(md)}
    return sorted(s for s in used - {None, default} if s is not None)


class ModelCache:
    """The cache entry of one database for one connection; ``snapshot`` and ``schemas`` are None on a miss."""

    def __init__(self, db: Database, conn: Connection | None):
        self.db = db
        self.path: Path | None = None
        self.entry: dict[str, Any] | None = None
        self.started = time.time_ns()
        if conn is None or os.environ.get("DBWARDEN_MODEL_CACHE", "1") == "0":
            return
        from .sources import model_sources

        sources = model_sources(db.config)
        if sources is None:
            return
        names, files = sources
        if any(name in sys.modules or any(m.startswith(name + ".") for m in sys.modules) for name in names):
            return
        backend = db.production
        self.root = db.config.root.resolve()
        # masked: a hash of the raw URL would let anyone who reads the file name test guesses of the password
        config = repr(sorted(db.config.masked().items()))
        self.default = backend.default_schema(conn)
        material = json.dumps([FORMAT, sys.version, sys.path, config, backend.name, backend.server_version(conn),
                               self.default, [str(f) for f in files]])
        key = hashlib.sha256(material.encode()).hexdigest()[:32]
        self.path = db.config.state_path / "cache" / f"models-{key}.pickle"
        self.entry = self._read()

    @classmethod
    def of(cls, db: Database, conn: Connection | None) -> ModelCache:
        """The cache of ``db`` for ``conn``, looked up once per Database and connection."""
        known = _open.get(db)
        if known is None or known[0] is not conn:
            known = _open[db] = (conn, cls(db, conn))
        return known[1]

    @cached_property
    def snapshot(self) -> Snapshot | None:
        if self.entry is None:
            return None
        assert self.path is not None
        paused = gc.isenabled()
        gc.disable()  # ~100,000 acyclic objects: collections on the way would only slow the load down
        try:
            with open(self.path, "rb") as f:
                pickle.load(f)  # the header, read already
                snap = pickle.load(f)
        except Exception:  # noqa: BLE001  removed or cut short since: a miss
            self.entry = None
            return None
        finally:
            if paused:
                gc.enable()
        if not isinstance(snap, Snapshot):
            return None
        SESSION.cache_served.append(self.path)  # the CLI names the cache's limits then
        with suppress(OSError):
            os.utime(self.path)  # recently used: kept longest
        return snap

    @property
    def schemas(self) -> list[str] | None:
        return None if self.entry is None else list(self.entry["schemas"])

    def _read(self) -> dict[str, Any] | None:
        """The entry's header (what it was built from) when every file it records is unchanged."""
        assert self.path is not None
        try:
            with open(self.path, "rb") as f:
                entry = pickle.load(f)
        except Exception:  # noqa: BLE001  missing, cut short, or from another version of the classes
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            return None
        for path, kind, value in entry["files"]:
            if _fingerprint(path, kind == "sha256") != value:
                return None
        importlib.invalidate_caches()  # a long-lived process (a notebook) must see files created since it listed a folder
        try:
            if any(_located(name, None if search is None else tuple(search)) != where
                   for name, search, where in entry["imports"]):
                return None
        except Exception:  # noqa: BLE001  a finder that fails: nothing to compare
            return None
        return entry

    def store(self, snap: Snapshot) -> Snapshot:
        """Record ``snap`` (the models' snapshot this process just built) unless that is unsound; return it."""
        if self.path is None or self.entry is not None:
            return snap
        files = self._loaded_files()
        if files is None:
            return snap
        tables, metadata = self.db.model_set()
        try:
            imports = [[name, search, _located(name, search)] for name, search in _probes.asked]
        except Exception:  # noqa: BLE001  a finder that fails: the entry could not be checked
            return snap
        entry = {"format": FORMAT, "files": files, "imports": imports,
                 "schemas": used_schemas(tables, self.default, metadata)}
        # Names from SQLAlchemy can be its str subclasses (quoted_name, conv…): unpickling those would load
        # SQLAlchemy, the very import this cache exists to skip. Through JSON every value is a plain one.
        plain = Snapshot.from_json(snap.to_json())
        plain.checksum  # noqa: B018  cached in the object, so stored with it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._evict()
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(plain, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)
        self.entry = entry
        return snap

    def _evict(self) -> None:
        """Room for one more entry: the least recently used ones beyond ``KEEP - 1`` are removed."""
        assert self.path is not None

        def used(path: Path) -> int:
            try:
                return path.stat().st_mtime_ns
            except OSError:  # removed by another process meanwhile
                return 0

        others = sorted((p for p in self.path.parent.glob("models-*.pickle") if p != self.path), key=used, reverse=True)
        for stale in others[KEEP - 1:]:
            stale.unlink(missing_ok=True)

    def _loaded_files(self) -> list[list[Any]] | None:
        """[path, kind, fingerprint] of every module file loaded now; None if one inside the project changed
        during the run (its content may not be what was imported)."""
        root = str(self.root) + os.sep
        out = []
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if not isinstance(file, str):
                continue
            path = os.path.abspath(file)
            local = path.startswith(root) and not any(part in _INSTALLED for part in Path(path).parts)
            try:
                stat = os.stat(path)
            except OSError:
                if local:
                    return None
                continue
            if local and stat.st_mtime_ns >= self.started - SLACK_NS:
                return None
            out.append([path, "sha256" if local else "stat", _fingerprint(path, local)])
        return sorted(out)


def _fingerprint(path: str, content: bool) -> Any:
    try:
        if content:
            return hashlib.sha256(Path(path).read_bytes()).hexdigest()
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size]
