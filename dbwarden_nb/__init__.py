"""dbwarden_nb: notebook-first schema migrations for SQLAlchemy projects.

Everything is imported on first use, so ``import dbwarden_nb`` costs almost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import database_config
from .session import SESSION

# Engine objects show their HTML, frames and ERDs through views the notebook layer registers (session.view);
# this package's face is the one place that wires the two, so no engine module imports the notebook. It is
# imported on the first display, not here: ``import dbwarden_nb`` stays free of it.
SESSION.view_provider = "dbwarden_nb.notebook"

if TYPE_CHECKING:
    from .api import Project
    from .schema import Snapshot

__all__ = ["Snapshot", "__version__", "database_config", "diff", "explore", "load_ipython_extension", "project", "snapshot"]


def project(path: Any = None, dev: bool = False, strict_translation: bool = False) -> Project:
    """The project of a dbwarden.py (default: ./dbwarden.py or the nearest one above)."""
    from .api import Project

    return Project.load(path, dev, strict_translation)


def snapshot(source: Any, database_type: str | None = None) -> Snapshot:
    """The live snapshot of a URL or SQLAlchemy Engine, without a project."""
    from .live import snapshot_of

    return snapshot_of(source, database_type)


def diff(old: Snapshot, new: Snapshot, **renames: Any) -> Any:
    """The plan from one snapshot to another (live, from models, or stored)."""
    from .differ import Renames
    from .differ import diff as _diff

    return _diff(old, new, Renames.parse(renames.get("rename", ()), renames.get("rename_table", ())))


def explore(proj_or_path: Any = None, database: str | None = None) -> Any:
    """An ipywidgets explorer: tables and their detail, the diff, and a guarded apply (dry run, then confirm)."""
    from .notebook.widgets import explore as _explore

    return _explore(proj_or_path, database)


def __getattr__(name: str) -> Any:
    if name == "Snapshot":
        from .schema import Snapshot

        return Snapshot
    raise AttributeError(f"module 'dbwarden_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    from .notebook.magics import load_ipython_extension as load

    load(ipython)
