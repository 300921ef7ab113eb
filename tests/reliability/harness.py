"""Real ``dbwarden`` processes against real databases, and the faults the reliability tests inject.

A :class:`Target` is one backend's project folder (``tests/projects.py``'s ProjectDir) plus what the tests
need to speak to its server: a statement that sleeps, the sessions running a given statement, how the
server ends one. Processes are started with ``python -m dbwarden_nb`` and their output goes to files, so a
test can poll what they say while they run; every wait is a poll with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from unittest.mock import patch

from projects import ProjectDir, Result

from dbwarden_nb.backends import get_backend

T = TypeVar("T")

DEADLINE = 120.0  # seconds any single wait may take on a loaded machine before the test fails
WAITING = "dbwarden: waiting for the migration lock"


@dataclass(frozen=True)
class Flavor:
    """What differs between servers, as SQL text."""

    kind: str
    fixture: str  # the tests/conftest.py fixture giving a fresh database URL
    sleep: str = ""  # a statement that runs for as many seconds as table ``nap`` says
    engine: str = ""  # what CREATE TABLE needs after the columns
    pattern: str = ""  # LIKE pattern matching that statement in the server's session list
    sessions: str = ""  # ids of the other sessions of this database whose statement is LIKE :pattern
    terminate: str = ""  # ends session {id}


_MYSQL_SESSIONS = ("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() "
                   "AND INFO LIKE :pattern")
_MYSQL = {"sleep": "DO SLEEP((SELECT seconds FROM nap))", "pattern": "%SLEEP((SELECT seconds%", "sessions": _MYSQL_SESSIONS,
          "terminate": "KILL {id}"}
FLAVORS = {
    "postgresql": Flavor(
        "postgresql", "pg_url", sleep="SELECT pg_sleep((SELECT seconds FROM nap))", pattern="%pg_sleep((SELECT seconds%",
        sessions="SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND state = 'active' AND query LIKE :pattern",
        terminate="SELECT pg_terminate_backend({id})"),
    "mariadb": Flavor("mariadb", "mariadb_url", **_MYSQL),
    "mysql": Flavor("mysql", "mysql_url", **_MYSQL),
    # SQLite has no sleep: a count over a recursive CTE, about a million steps per "second"
    "sqlite": Flavor("sqlite", "sqlite_url", sleep="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                     "WHERE x < (SELECT seconds FROM nap) * 1000000) SELECT count(*) FROM c"),
    "clickhouse": Flavor("clickhouse", "clickhouse_url", engine=" ENGINE = MergeTree ORDER BY tuple()"),
}


def wait_for(what: str, probe: Callable[[], T], timeout: float = DEADLINE) -> T:
    """Poll ``probe`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


class Process:
    """One ``dbwarden`` command running in the project folder, its output in files."""

    def __init__(self, root: Path, name: str, args: tuple[str, ...], env: dict[str, str]):
        self.name = name
        self.args = args
        self.out_path, self.err_path = root / f"{name}.out", root / f"{name}.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen([sys.executable, "-m", "dbwarden_nb", *args], cwd=root, stdout=out,
                                          stderr=err, env=env)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def err(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def kill9(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(DEADLINE)

    def finish(self) -> Result:
        try:
            code = self.popen.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            raise AssertionError(f"dbwarden {' '.join(self.args)} ({self.name}) did not finish in {DEADLINE:g}s") from None
        return Result(code, self.out_path.read_text(encoding="utf-8"), self.err())


@dataclass
class Target:
    """A project on one backend's fresh database."""

    flavor: Flavor
    url: str
    root: Path
    project: ProjectDir = field(init=False)
    env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.project = ProjectDir(self.root, self.url, self.flavor.kind)
        (self.root / "migrations" / "primary").mkdir(parents=True, exist_ok=True)

    @property
    def kind(self) -> str:
        return self.flavor.kind

    def use_url(self, url: str) -> None:
        """Another spelling of the database URL (e.g. with a password), in dbwarden.py too."""
        self.url = url
        self.project = ProjectDir(self.root, url, self.kind)

    # -- migration files ------------------------------------------------------------------------

    def migration(self, version: int, name: str, upgrade: list[str], rollback: list[str] = ()) -> None:
        """A manual migration file; a statement starting with ``!`` runs outside a transaction."""

        def body(statements: list[str]) -> str:
            return "".join(("-- dbwarden: no-transaction\n" + s[1:] if s.startswith("!") else s) + ";\n"
                           for s in statements)

        path = self.root / "migrations" / "primary" / f"{version:04d}_{name}.sql"
        path.write_text(f"-- dbwarden migration {version:04d}: {name}\n-- backend: {self.kind}\n-- severity: INFO\n"
                        f"-- upgrade\n{body(upgrade)}-- rollback\n{body(list(rollback))}", encoding="utf-8")

    def log_migrations(self, count: int, first: list[str] = ()) -> None:
        """``count`` migrations: 0001 creates table ``log``, each one inserts its own name into it (so a
        migration applied twice shows as two rows) and creates a table of its own; ``first`` runs in 0001 just
        before its insert."""
        engine = self.flavor.engine
        self.migration(1, "m1", [f"CREATE TABLE log (name VARCHAR(32) NOT NULL){engine}", *first,
                                 "INSERT INTO log (name) VALUES ('m1')"], ["DROP TABLE log"])
        for n in range(2, count + 1):
            self.migration(n, f"m{n}", [f"CREATE TABLE t{n} (id INTEGER){engine}", f"INSERT INTO log (name) VALUES ('m{n}')"],
                           [f"DELETE FROM log WHERE name = 'm{n}'", f"DROP TABLE t{n}"])

    # -- processes ------------------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The environment of every command: progress lines on stderr, a generous lock timeout, the test's own."""
        return {"DBWARDEN_PROGRESS": "text", "DBWARDEN_LOCK_TIMEOUT": "120", **self.env}

    def start(self, *args: str) -> Process:
        """A command in a process of its own, running while the test goes on."""
        process = Process(self.root, f"run{len(self.processes) + 1}", args, {**os.environ, **self.settings()})
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """End the processes a failed test left running (they would hold the database until their timeout)."""
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.kill()
                process.popen.wait(DEADLINE)

    def run(self, *args: str) -> Result:
        """A command run to its end in this process (much quicker to start than a new one)."""
        with patch.dict(os.environ, self.settings()):
            return self.project.cli(*args)

    # -- the sleeping statement -----------------------------------------------------------------

    def nap(self, seconds: int) -> None:
        """How long :attr:`Flavor.sleep` runs from now on: the row of table ``nap``, made on first use."""
        with self.connect() as conn:
            if not conn.backend.table_exists(conn, "nap"):
                conn.execute("CREATE TABLE nap (seconds INTEGER)")
                conn.execute("INSERT INTO nap (seconds) VALUES (0)")
            conn.execute(f"UPDATE nap SET seconds = {int(seconds)}")

    def wait_sleeping(self, process: Process, version: int = 1) -> int | None:
        """Wait until ``process`` runs the sleeping statement of migration ``version``; its session id.
        SQLite has no session list: there the process saying it started the migration is the sign (the
        statement before the sleeping one is quick, the sleeping one lasts minutes)."""
        if self.kind == "sqlite":
            started = f"dbwarden: migrations/primary/{version:04d}_"
            wait_for(f"{process.name} to start migration {version:04d}", lambda: started in process.err())
            return None
        return self.wait_session(self.flavor.pattern)

    def wait_session(self, pattern: str) -> int:
        """Wait until another session of the database runs a statement LIKE ``pattern``; its id."""
        def probe() -> int | None:
            rows = self.query(self.flavor.sessions, {"pattern": pattern})
            return int(rows[0][0]) if rows else None

        return wait_for(f"a {self.kind} session running {pattern!r}", probe)

    def terminate(self, session: int) -> None:
        with self.connect() as conn:
            conn.query(self.flavor.terminate.format(id=session))

    # -- looking at the database ----------------------------------------------------------------

    def connect(self) -> Any:
        return get_backend(self.kind).connect(self.url)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return conn.query(sql, params)

    def log(self) -> list[str]:
        """The names in table ``log``, sorted (a name twice means a migration ran twice)."""
        return sorted(r[0] for r in self.query("SELECT name FROM log"))

    def tables(self) -> set[str]:
        with self.connect() as conn:
            return set(conn.backend.introspect(conn).tables)

    def history(self) -> list[tuple[int, str, int]]:
        """(version, status, statements completed) of every history row, by version."""
        return [(r.version, r.status, r.statements_completed) for r in self.rows()]

    def rows(self) -> list[Any]:
        from dbwarden_nb.migrations.history import History

        with self.connect() as conn:
            return History(conn).rows()


def one_error_line(result: Result) -> str:
    """The single ``dbwarden: error:`` line of a failed run: exit 1, no traceback, nothing else but progress."""
    lines = result.err.splitlines()
    errors = [line for line in lines if line.startswith("dbwarden: error: ")]
    others = [line for line in lines if line not in errors and not _PROGRESS.match(line)]
    assert result.code == 1 and len(errors) == 1 and not others, f"exit {result.code}, stderr:\n{result.err}"
    return errors[0]


_PROGRESS = re.compile(r"dbwarden: (waiting for the migration lock|migrations/primary/\S+: \d+ statement\(s\).*)$")
