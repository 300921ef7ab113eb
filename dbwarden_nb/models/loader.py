"""Import a database's ``model_paths`` and return the SQLAlchemy tables defined there.

A model path is a dotted module name (a package brings all its submodules), or a folder or ``.py`` file
relative to the project root (a folder brings every ``.py`` under it). Files under the root are imported by
their package name, since the root is on ``sys.path``; others get a stable synthetic module name.

The tables of a database are those *defined* in its modules: tables of mapped classes whose ``__module__``
is one of them, and ``Table`` objects bound to module-level names, so several databases can share one
declarative ``Base``. Modules stay cached in ``sys.modules``, which makes a second call cheap. In a
long-lived process (a notebook) a module whose file changed (mtime or size) since it was imported is
re-imported: its mapped classes are disposed and its tables removed from their ``MetaData`` first, so
re-defining them is not an error. Modules that import names from a re-imported module are not re-imported
themselves; after a change to a shared ``Base`` or to an inherited class, restart the kernel.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import pkgutil
import sys
import weakref
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from types import FrameType, ModuleType

from sqlalchemy import MetaData, Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper

from dbwarden_nb.config import DatabaseConfig, add_to_sys_path, error_location, error_summary, mask_text, safe_cause
from dbwarden_nb.errors import ConfigError
from dbwarden_nb.models.sources import is_dotted, model_files, module_name

__all__ = ["load_models", "load_tables"]

# The module whose top-level code created each table: a package re-exporting a table, or a class reusing
# another module's table through __table__, must not claim (and on reload drop) that table.
_created_in: weakref.WeakKeyDictionary[Table, str] = weakref.WeakKeyDictionary()

# (mtime_ns, size) of each model module's file when it was imported; a different value means "changed".
_stamps: dict[str, tuple[int, int]] = {}


@event.listens_for(Table, "after_parent_attach")
def _record_creator(table: Table, _metadata: object) -> None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_name != "<module>":
        frame = frame.f_back
    if frame is not None:
        _created_in[table] = frame.f_globals.get("__name__", "")


def load_tables(db: DatabaseConfig) -> list[Table]:
    """The tables defined in ``db.model_paths``, filtered by include/exclude_tables, sorted by (schema, name)."""
    return load_models(db)[0]


def load_models(db: DatabaseConfig) -> tuple[list[Table], list[MetaData]]:
    """The tables of ``db.model_paths`` (as ``load_tables``) and the ``MetaData`` collections their modules use:
    sequences, enums and domains declared with ``metadata=`` belong to the models even when no table uses them."""
    root = db.root.resolve()  # model files are compared resolved
    add_to_sys_path(root)
    importlib.invalidate_caches()  # files created since the last import (a notebook session) must be found
    modules: dict[str, ModuleType] = {}
    for model_path in db.model_paths:
        prefix = f"database '{db.database_name}': model path '{model_path}'"
        try:
            modules.update((module.__name__, module) for module in _import_model_path(model_path, root))
        except ConfigError as exc:
            raise ConfigError(f"{prefix}: {exc}") from exc
        except (Exception, SystemExit) as exc:  # noqa: BLE001  a model module's sys.exit() is its error too, not the end of us
            location = error_location(exc, root)
            message = f"{prefix}: {location + ': ' if location else ''}{error_summary(exc)}"
            if _is_missing(exc, model_path):  # a new project: nothing written there yet
                message += (" (no models yet: write them there, or adopt the database with 'dbwarden "
                            "generate-models --output models' then 'dbwarden baseline')")
            raise ConfigError(mask_text(message)) from safe_cause(exc)

    owners: dict[str, tuple[Table, str]] = {}
    for module in modules.values():
        for table in _defined_tables(module):
            owner = owners.setdefault(table.key, (table, module.__name__))
            if owner[0] is not table:
                raise ConfigError(
                    f"database '{db.database_name}': table '{table.key}' is defined twice, "
                    f"in {owner[1]} and in {module.__name__}"
                )
    tables = [table for table, _ in owners.values() if db.manages_table(table.name, table.schema)]
    metadata = {id(md): md for module in modules.values() for md in _metadata(module)}
    metadata.update((id(t.metadata), t.metadata) for t in tables)
    return sorted(tables, key=lambda table: (table.schema or "", table.name)), list(metadata.values())


def _is_missing(exc: BaseException, model_path: str) -> bool:
    """The model path itself does not exist (not a module it imports)."""
    return isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == model_path.split(".")[0]


def _import_model_path(model_path: str, root: Path) -> Iterator[ModuleType]:
    if is_dotted(model_path):
        _forget_foreign(model_path.split(".")[0], root)
        yield from _import_package(model_path)
        return
    for file in model_files(model_path, root):
        yield _import_file(file, root)


def _forget_foreign(top: str, root: Path) -> None:
    """Unload package ``top`` (and its submodules) when it was imported from elsewhere than this project,
    which has its own: two projects in one process may both name their models package ``models``."""
    module = sys.modules.get(top)
    spec = importlib.machinery.PathFinder.find_spec(top, [str(root)])
    if module is None or spec is None:
        return
    wanted = {Path(p).resolve() for p in ([spec.origin] if spec.origin else spec.submodule_search_locations or [])}
    file = getattr(module, "__file__", None)
    found = {Path(p).resolve() for p in ([file] if file else getattr(module, "__path__", []))}
    # a namespace package spans every sys.path entry holding its folder: only an exact match is ours
    if (wanted & found) if spec.origin else (wanted == found):
        return
    for name in sorted((n for n in list(sys.modules) if n == top or n.startswith(top + ".")), reverse=True):
        _unload(sys.modules[name])


def _import_package(name: str) -> Iterator[ModuleType]:
    """The module ``name`` and, when it is a package, all its submodules."""
    pending = [name]
    while pending:
        module = _load(pending.pop(0))
        yield module
        if hasattr(module, "__path__"):
            found = pkgutil.iter_modules(module.__path__, f"{module.__name__}.")
            pending.extend(sorted(info.name for info in found))


def _import_file(file: Path, root: Path) -> ModuleType:
    name = module_name(file, root)
    if name.startswith("_dbwarden_model_"):
        return _load(name, file)
    module = _load(name)
    origin = getattr(module, "__file__", None)
    if origin is None or Path(origin).resolve() != file:
        raise ConfigError(f"{file} imports as '{name}', but that name is already the module from {origin}")
    return module


def _load(name: str, file: Path | None = None) -> ModuleType:
    """Import ``name`` (from ``file`` when given), importing it afresh if its file changed since last time."""
    module = sys.modules.get(name)
    if module is not None and _is_stale(module):
        _unload(module)
        module = None
    if module is None:
        module = importlib.import_module(name) if file is None else _exec_file(name, file)
        stamp = _stamp(module)
        if stamp is not None:
            _stamps[name] = stamp
    return module


def _exec_file(name: str, file: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None  # a .py path always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _stamp(module: ModuleType) -> tuple[int, int] | None:
    """(mtime_ns, size) of the module's file; None for a module without one (a namespace package)."""
    origin = getattr(module, "__file__", None)
    if not origin:
        return None
    try:
        stat = os.stat(origin)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _is_stale(module: ModuleType) -> bool:
    stamp = _stamp(module)
    # A module someone else imported is first seen here: its current file is taken as what was imported.
    return stamp is not None and _stamps.setdefault(module.__name__, stamp) != stamp


def _unload(module: ModuleType) -> None:
    """Forget ``module`` so that importing it again re-executes its file without redefinition errors."""
    for table in _defined_tables(module):
        if table.metadata.tables.get(table.key) is table:
            table.metadata.remove(table)
    for mapper in _mappers(module):
        # SQLAlchemy has no public per-class dispose; registry.dispose() does these two steps for every
        # class. Without them the new class would warn that it replaces one of the same module and name.
        mapper.registry._dispose_manager_and_mapper(mapper.class_manager)
        mapper.registry._managers.pop(mapper.class_manager, None)
    del sys.modules[module.__name__]
    _stamps.pop(module.__name__, None)
    origin = getattr(module, "__file__", None)
    if origin:
        # Python trusts a .pyc whose source has the same mtime in whole seconds and the same size; an edit
        # within the same second would silently re-import the old code.
        with suppress(OSError, NotImplementedError, ValueError):
            Path(importlib.util.cache_from_source(origin)).unlink(missing_ok=True)


def _mappers(module: ModuleType) -> list[Mapper[object]]:
    """Mappers of the classes defined in ``module`` and bound to its module-level names."""
    found: list[Mapper[object]] = []
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__module__ == module.__name__:
            mapper: object = sa_inspect(value, raiseerr=False)
            if isinstance(mapper, Mapper):
                found.append(mapper)
    return found


def _metadata(module: ModuleType) -> list[MetaData]:
    """``MetaData`` objects bound to the module's names, directly or as a declarative base's ``metadata``."""
    found = []
    for value in list(vars(module).values()):
        md = value if isinstance(value, MetaData) else getattr(value, "metadata", None) if isinstance(value, type) else None
        if isinstance(md, MetaData):
            found.append(md)
    return found


def _defined_tables(module: ModuleType) -> list[Table]:
    """Tables created by ``module``: module-level ``Table`` objects and the tables of its mapped classes."""
    candidates = [value for value in list(vars(module).values()) if isinstance(value, Table)]
    candidates += [
        mapper.local_table for mapper in _mappers(module) if not mapper.single and isinstance(mapper.local_table, Table)
    ]
    # Tables created before this module was loaded have no recorded creator: trust the module then.
    unique = {id(table): table for table in candidates if _created_in.get(table, module.__name__) == module.__name__}
    return list(unique.values())
