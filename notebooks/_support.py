"""Helpers of the example notebooks: scratch project folders and fresh databases on real servers.

    from _support import scratch_folder, postgresql_database

    folder = scratch_folder("quickstart")       # a new temp folder, now the working directory
    db = postgresql_database()                  # a fresh, empty database; its URL is db.url
    os.environ["ROUNDTRIP_URL"] = db.url        # dbwarden.py reads it as database_url="${ROUNDTRIP_URL}"
    ...
    db.drop()                                   # drops the database (and stops a throwaway server)
    folder.remove()                             # back to the notebook's folder, the temp folder removed

``postgresql_database()``, ``mysql_database()`` and ``mariadb_database()`` are ``database(kind)``. The server
of each kind is the one named by ``$DBWARDEN_NB_<KIND>_URL`` (an admin URL, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``, ``mysql://root@127.0.0.1:3306``,
``mariadb://root@127.0.0.1:3306``; Binder's ``binder/start`` sets the PostgreSQL one), else the one the test
suite's ``tests/servers.py`` provides: ``$DBWARDEN_TEST_<KIND>_URL``, else a throwaway server (``initdb`` +
``postgres``, ``mariadb-install-db`` + ``mariadbd``, or ``mysqld`` in a cached Debian sid chroot, which needs
root), on a free port, removed when dropped or when the kernel exits.

A throwaway server that cannot be started (no MariaDB installed, no root for the MySQL chroot: on Binder only
PostgreSQL runs) stops the notebook at its first cell with :class:`ServerUnavailable`, a short message saying
which variable to set; under ``pytest --nbval`` (notebooks/conftest.py) the rest of that notebook is then
skipped. In CI (``$CI`` set), or when a variable names the server, it is no message but the provisioning error
itself, so a notebook that cannot run there fails. What these helpers print never
holds a path, a port, a URL or a server version, so the stored outputs of the notebooks compare equal
wherever they run.
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
KINDS = ("postgresql", "mysql", "mariadb")
ENV_VARS = {kind: f"DBWARDEN_NB_{kind.upper()}_URL" for kind in KINDS}
ENV_VAR = ENV_VARS["postgresql"]
TITLES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB"}
EXAMPLE_URLS = {"postgresql": "postgresql://postgres@127.0.0.1:5432/postgres", "mysql": "mysql://root@127.0.0.1:3306",
                "mariadb": "mariadb://root@127.0.0.1:3306"}

__all__ = [
    "ENV_VAR",
    "ENV_VARS",
    "Database",
    "ScratchFolder",
    "ServerUnavailable",
    "database",
    "mariadb_database",
    "mysql_database",
    "postgresql_database",
    "scratch_folder",
]


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


class ServerUnavailable(RuntimeError):
    """No server of this kind here (outside CI): the notebook stops with a short message, no traceback."""

    def __init__(self, kind: str, reason: str):
        self.kind, self.reason = kind, reason
        super().__init__(f"no {TITLES[kind]} server available here: {reason}")

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return [
            f"{TITLES[self.kind]} is not available here, so this notebook stops now.",
            f"  Why: {self.reason}",
            (f"  To run it, set {ENV_VARS[self.kind]} to the admin URL of a {TITLES[self.kind]} server (e.g. "
             f"{EXAMPLE_URLS[self.kind]}), in the kernel's environment or with os.environ, and run this cell again."),
        ]


class Database:
    """A fresh database on a server of ``kind``; :meth:`drop` drops it and stops a throwaway server."""

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
        self.kind = kind
        self.server = _server(kind)
        self.name: str | None = self.server.create_database()
        self.url = self.server.database_url(self.name)
        atexit.register(self.drop)

    def drop(self) -> None:
        name, self.name = self.name, None
        try:
            if name is not None:
                self.server.drop_database(name)
        finally:
            self.server.stop()  # a no-op for a server named by an environment variable

    def __repr__(self) -> str:  # no URL, port or version in a notebook's output
        return f"{TITLES[self.kind]}Database({'<dropped>' if self.name is None else '<fresh database>'})"


PostgresDatabase = Database  # the name this class had when it only knew PostgreSQL


def database(kind: str) -> Database:
    """A fresh, empty database of ``kind`` (``postgresql``, ``mysql`` or ``mariadb``) on the server of
    ``$DBWARDEN_NB_<KIND>_URL``, else on the test suite's (``$DBWARDEN_TEST_<KIND>_URL``, else a throwaway one)."""
    return Database(kind)


def postgresql_database() -> Database:
    return database("postgresql")


def mysql_database() -> Database:
    return database("mysql")


def mariadb_database() -> Database:
    return database("mariadb")


def _server(kind: str):
    """The server of ``kind``: ``$DBWARDEN_NB_<KIND>_URL``, else ``servers.server_for(kind)``."""
    servers = _servers()
    admin = os.environ.get(ENV_VARS[kind])
    if admin:
        return servers.connect(kind, admin, origin=ENV_VARS[kind])  # a server named by a variable must work
    named = bool(os.environ.get(servers.ENV_VARS[kind]))
    try:
        return servers.server_for(kind)
    except servers.ProvisioningError as exc:
        if named or os.environ.get("CI"):
            raise  # a named server, or CI, where every notebook must run: the whole error, log tail included
        raise ServerUnavailable(kind, str(exc).splitlines()[0]) from None


def _servers():
    """``tests/servers.py``, the test suite's server provisioning."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import servers

    return servers
