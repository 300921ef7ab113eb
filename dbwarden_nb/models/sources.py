"""Where a database's models come from, found without importing anything (no SQLAlchemy either).

``load_tables`` imports these files under these names; the model-snapshot cache keys on them.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from dbwarden_nb.config import PROJECT_ROOTS, DatabaseConfig, add_to_sys_path
from dbwarden_nb.errors import ConfigError


def is_dotted(model_path: str) -> bool:
    return not model_path.endswith(".py") and all(part.isidentifier() for part in model_path.split("."))


def model_files(model_path: str, root: Path) -> list[Path]:
    """The resolved ``.py`` files of a file or folder model path."""
    target = root / model_path
    if target.is_file():
        return [target.resolve()]
    if target.is_dir():
        return sorted(_python_files(target))
    raise ConfigError(f"{target} does not exist")


def _python_files(folder: Path) -> Iterator[Path]:
    for file in folder.rglob("*.py"):
        if not any(part.startswith(".") or part == "__pycache__" for part in file.relative_to(folder).parts):
            yield file.resolve()


def model_sources(db: DatabaseConfig) -> tuple[list[str], list[Path]] | None:
    """Without importing anything: the names of the modules ``load_tables`` imports (a package's name stands
    for its submodules too) and every ``.py`` file they can come from (all files of a package's folders).
    None when a dotted model path cannot be resolved that way (``load_tables`` reports why)."""
    root = db.root.resolve()
    add_to_sys_path(root)
    names: list[str] = []
    files: list[Path] = []
    for model_path in db.model_paths:
        if is_dotted(model_path):
            spec = None
            search: list[str] | None = None
            parts = model_path.split(".")
            for i in range(len(parts)):
                spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), search)
                if spec is None or (i < len(parts) - 1 and not spec.submodule_search_locations):
                    return None
                search = list(spec.submodule_search_locations or [])
            assert spec is not None
            names.append(model_path)
            folders = [Path(p) for p in spec.submodule_search_locations or []]
            files += [Path(spec.origin).resolve()] if not folders and spec.origin else []
            files += [file for folder in folders for file in sorted(_python_files(folder))]
        else:
            try:
                found = model_files(model_path, root)
            except ConfigError:
                return None
            names += [module_name(file, root) for file in found]
            files += found
    return names, files


def models_missing(db: DatabaseConfig) -> bool:
    """Whether none of ``db.model_paths`` exists yet (a project adopting a database before generate-models)."""
    root = db.root.resolve()
    add_to_sys_path(root)
    # another project's root stays on sys.path in a long-lived process (a notebook): its models are not these
    search = [p for p in sys.path if p == str(root) or p not in PROJECT_ROOTS]
    for model_path in db.model_paths:
        if is_dotted(model_path):
            if importlib.machinery.PathFinder.find_spec(model_path.split(".")[0], search) is not None:
                return False
        elif (root / model_path).exists():
            return False
    return True


def module_name(file: Path, root: Path) -> str:
    """The name a model file is imported under: its dotted path from the root, else a stable synthetic one."""
    parts = file.relative_to(root).with_suffix("").parts if file.is_relative_to(root) else ()
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        # Not importable by name from the root: a stable name, so re-runs find it in sys.modules.
        digest = hashlib.sha1(str(file).encode()).hexdigest()[:12]
        stem = re.sub(r"\W", "_", file.stem)
        return f"_dbwarden_model_{digest}_{stem}"
    return ".".join(parts)
