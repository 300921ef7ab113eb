"""Helpers of the example notebooks: scratch project folders and fresh PostgreSQL databases.

    from _support import scratch_folder, postgresql_database

    folder = scratch_folder("quickstart")       # a new temp folder, now the working directory
    db = postgresql_database()                  # a fresh, empty database; its URL is db.url
    os.environ["ROUNDTRIP_URL"] = db.url        # dbwarden.py reads it as database_url="${ROUNDTRIP_URL}"
    ...
    db.drop()                                   # drops the database (and stops a throwaway server)
    folder.remove()                             # back to the notebook's folder, the temp folder removed

The PostgreSQL server is the one named by ``$DBWARDEN_NB_POSTGRESQL_URL`` (an admin URL, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``; Binder's ``binder/start`` sets it), else a throwaway
server started through the test suite's ``tests/servers.py`` (``initdb``/``postgres`` on a free port, removed
when dropped or when the kernel exits). What these helpers print never holds a path, a port, a URL or a
server version, so the stored outputs of the notebooks compare equal wherever they run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent
ROOT = NOTEBOOKS.parent
ENV_VAR = "DBWARDEN_NB_POSTGRESQL_URL"

__all__ = ["ENV_VAR", "ScratchFolder", "PostgresDatabase", "scratch_folder", "postgresql_database"]


class ScratchFolder:
    """A temp folder that is the working directory until :meth:`remove`."""

    def __init__(self, name: str):
        self.previous = Path.cwd()
        self.path = Path(tempfile.mkdtemp(prefix=f"dbwarden-nb-{name}-"))
        os.chdir(self.path)
        atexit.register(self.remove)

    def remove(self) -> None:
        if self.path.exists():
            if Path.cwd() == self.path:
                os.chdir(self.previous)
            shutil.rmtree(self.path, ignore_errors=True)

    def __repr__(self) -> str:  # no temp path in a notebook's output
        return "ScratchFolder(<temp folder>)"


def scratch_folder(name: str, packages: tuple[str, ...] = ()) -> ScratchFolder:
    """A new temp folder for a scratch project, made the working directory; ``packages`` are created in it
    (each an empty ``__init__.py``) so ``%%writefile package/module.py`` has somewhere to write."""
    folder = ScratchFolder(name)
    for package in packages:
        (folder.path / package).mkdir(parents=True, exist_ok=True)
        (folder.path / package / "__init__.py").touch()
    return folder


class PostgresDatabase:
    """A fresh database on a PostgreSQL server; :meth:`drop` drops it and stops a throwaway server."""

    def __init__(self) -> None:
        servers = _servers()
        admin = os.environ.get(ENV_VAR)
        self.server = servers.connect("postgresql", admin, origin=ENV_VAR) if admin else servers.start_postgresql()
        self.throwaway = not admin
        self.name: str | None = self.server.create_database()
        self.url = self.server.database_url(self.name)
        atexit.register(self.drop)

    def drop(self) -> None:
        name, self.name = self.name, None
        try:
            if name is not None:
                self.server.drop_database(name)
        finally:
            self.server.stop()  # a no-op for the server named by the environment variable

    def __repr__(self) -> str:  # no URL, port or version in a notebook's output
        return f"PostgresDatabase({'<dropped>' if self.name is None else '<fresh database>'})"


def postgresql_database() -> PostgresDatabase:
    """A fresh, empty database on the server of ``$DBWARDEN_NB_POSTGRESQL_URL``, else on a throwaway server."""
    return PostgresDatabase()


def _servers():
    """``tests/servers.py``, the test suite's server provisioning."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import servers

    return servers
