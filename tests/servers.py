"""Real database servers for tests and benchmarks: the one an env var names, or a throwaway one.

    server = server_for("postgresql")    # DBWARDEN_TEST_POSTGRESQL_URL, else a throwaway server
    name = server.create_database()      # "dbw_1a2b3c4d"
    server.database_url(name)            # "postgresql://postgres@127.0.0.1:PORT/dbw_1a2b3c4d"
    server.drop_database(name)
    server.stop()                        # no-op for a server named by an env var

Throwaway servers (PostgreSQL via initdb, MariaDB via mariadb-install-db, MySQL 9 from a cached
Debian sid chroot) listen on 127.0.0.1 on a free port and live in a temp dir that stop() removes;
they are stopped at interpreter exit at the latest, and a later run kills and removes what a
killed run left behind. ``python tests/servers.py`` provisions each one, prints it and stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from typing import Self

KINDS = ("postgresql", "mariadb", "mysql")
ENV_VARS = {kind: f"DBWARDEN_TEST_{kind.upper()}_URL" for kind in KINDS}
DRIVERS = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql", "mysql": "mysql+pymysql"}
MYSQL_CHROOT = Path("/var/cache/dbwarden-nb/mysql-sid")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
READY_TIMEOUT = 60.0


class ProvisioningError(RuntimeError):
    """A server could not be started or reached."""


@dataclass
class Server:
    kind: str  # "postgresql", "mariadb" or "mysql"
    url: str  # admin URL in the project's driverless form, e.g. "mysql://root@127.0.0.1:3306"
    version: str
    origin: str  # where it comes from, e.g. "throwaway, port 40123"
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"{self.kind} {self.version} ({self.origin})"

    def database_url(self, name: str) -> str:
        return _render(make_url(self.url).set(database=name))

    def sqlalchemy_url(self, name: str | None = None) -> str:
        """The URL of database ``name`` (default: the admin one) with the driver the tests use."""
        url = make_url(self.url).set(drivername=DRIVERS[self.kind])
        return _render(url.set(database=name) if name else url)

    def create_database(self) -> str:
        name = fresh_name()
        _execute(self.kind, self.url, f"CREATE DATABASE {quote_identifier(self.kind, name)}")
        return name

    def drop_database(self, name: str) -> None:
        quoted = quote_identifier(self.kind, name)
        if self.kind == "postgresql":
            _execute(self.kind, self.url, f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        else:
            _execute(self.kind, self.url, f"DROP DATABASE IF EXISTS {quoted}", kill_users_of=name)

    def stop(self) -> None:
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def fresh_name() -> str:
    return f"dbw_{secrets.token_hex(4)}"


def quote_identifier(kind: str, name: str) -> str:
    if kind == "postgresql":
        return '"' + name.replace('"', '""') + '"'
    return "`" + name.replace("`", "``") + "`"


def describe_source(kind: str) -> str:
    """Where ``server_for(kind)`` will get its server from, without starting anything."""
    url = os.environ.get(ENV_VARS[kind])
    if url:
        return f"{ENV_VARS[kind]}={make_url(url).render_as_string(hide_password=True)}"
    if kind == "mysql":
        cached = "cached" if (MYSQL_CHROOT / ".complete").exists() else "built on first use, ~1 min"
        return f"throwaway mysqld in Debian sid chroot {MYSQL_CHROOT} ({cached}), started on first use"
    return f"throwaway local {kind} server, started on first use"


def server_for(kind: str) -> Server:
    """The server the env var DBWARDEN_TEST_<KIND>_URL names, else a new throwaway one."""
    url = os.environ.get(ENV_VARS[kind])
    if url:
        return connect(kind, url, origin=ENV_VARS[kind])
    return {"postgresql": start_postgresql, "mariadb": start_mariadb, "mysql": start_mysql}[kind]()


def connect(kind: str, url: str, origin: str = "existing server") -> Server:
    """An existing server, given an admin URL; its stop() does nothing."""
    admin_url = _render(make_url(url).set(drivername=kind))
    try:
        version = _server_version(kind, admin_url)
    except Exception as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise ProvisioningError(f"cannot use the {kind} server at {shown} ({origin}): {exc}") from exc
    return Server(kind, admin_url, version, origin)


# --- throwaway servers -------------------------------------------------------------------------


def start_postgresql(base_dir: str | None = None) -> Server:
    bindir = Path(_find("initdb", "/usr/lib/postgresql/*/bin")).resolve().parent
    work = _workdir("postgresql", base_dir)
    # initdb and postgres refuse to run as root
    as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []} if _is_root() else {}
    as_postgres["cwd"] = work
    try:
        if _is_root():
            shutil.chown(work, "postgres", "postgres")
        log, port = work / "server.log", _free_port()
        initdb = [bindir / "initdb", "-D", work / "data", "-U", "postgres", "-A", "trust"]
        _run("postgresql", [*initdb, "-E", "UTF8", "--locale=C", "--no-sync"], log, **as_postgres)
        settings = {
            "listen_addresses": "127.0.0.1", "port": port, "unix_socket_directories": work,
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "shared_buffers": "32MB", "max_connections": 100,
        }
        options = [f"--{key}={value}" for key, value in settings.items()]
        command = [bindir / "postgres", "-D", work / "data", *options]
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return _launch("postgresql", work, command, log, url, f"throwaway, port {port}", signal.SIGINT, **as_postgres)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def start_mariadb(base_dir: str | None = None) -> Server:
    work = _workdir("mariadb", base_dir)
    try:
        as_mysql = []
        if _is_root():
            shutil.chown(work, "mysql", "mysql")
            as_mysql = ["--user=mysql"]  # mariadbd drops root privileges itself
        log, port = work / "server.log", _free_port()
        common = ["--no-defaults", *as_mysql, f"--datadir={work / 'data'}", *_SMALL_INNODB, "--innodb-log-file-size=8M"]
        install = [_find("mariadb-install-db", "/usr/bin", "/usr/local/bin"), *common, "--skip-test-db"]
        # "normal" creates root@localhost, root@127.0.0.1 and root@::1 without password
        _run("mariadb", [*install, "--auth-root-authentication-method=normal"], log)
        command = [
            _find("mariadbd", "/usr/sbin"), *common, *_mysql_network(port, str(work)),
            "--innodb-doublewrite=0", "--skip-name-resolve",
        ]
        url = f"mariadb://root@127.0.0.1:{port}"
        return _launch("mariadb", work, command, log, url, f"throwaway, port {port}", signal.SIGTERM)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def start_mysql(chroot: Path = MYSQL_CHROOT) -> Server:
    """MySQL from Debian sid (bookworm has none), run in a chroot sharing the host network."""
    if not _is_root():
        raise ProvisioningError("the MySQL chroot needs root (chroot, debootstrap)")
    chroot = ensure_mysql_chroot(chroot)
    work = _workdir("mysql", chroot / "tmp")
    inner = "/" + str(work.relative_to(chroot))  # the same directory as mysqld sees it
    try:
        (work / "files").mkdir()
        (work / "init.sql").write_text(
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';\n"
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
        )
        uid, gid = _chroot_user(chroot, "mysql")
        for path in (work, work / "files", work / "init.sql"):
            os.chown(path, uid, gid)
        log, port = work / "server.log", _free_port()
        mysqld = ["chroot", chroot, "/usr/sbin/mysqld", "--no-defaults", "--user=mysql", f"--datadir={inner}/data"]
        mysqld += [*_SMALL_INNODB, "--innodb-redo-log-capacity=32M"]
        _run("mysql", [*mysqld, "--initialize-insecure"], log)
        command = [
            *mysqld, *_mysql_network(port, inner), f"--init-file={inner}/init.sql",
            "--mysqlx=OFF", f"--secure-file-priv={inner}/files",
        ]
        url = f"mysql://root@127.0.0.1:{port}"
        return _launch("mysql", work, command, log, url, f"sid chroot, port {port}", signal.SIGTERM)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def ensure_mysql_chroot(path: Path = MYSQL_CHROOT) -> Path:
    """The Debian sid chroot with mysqld, built with debootstrap unless already complete."""
    marker = path / ".complete"
    if marker.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it right now
        if marker.exists():
            return path
        log = path.parent / f"{path.name}.build.log"
        log.unlink(missing_ok=True)
        if not shutil.which("debootstrap"):
            install = "apt-get install -y debootstrap || (apt-get update && apt-get install -y debootstrap)"
            _run("mysql chroot", ["sh", "-c", install], log, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        build = path.with_name(f"{path.name}.build")
        _remove_tree(build)
        _remove_tree(path)
        packages = "--include=mysql-server-core,mysql-client-core"
        _run("mysql chroot", ["debootstrap", "--variant=minbase", packages, "sid", build, DEBIAN_MIRROR], log)
        add_user = (
            "getent group mysql >/dev/null || groupadd -r mysql; "
            "getent passwd mysql >/dev/null || useradd -r -g mysql -d /nonexistent -s /usr/sbin/nologin mysql"
        )
        _run("mysql chroot", ["chroot", build, "sh", "-c", add_user], log)
        (build / ".complete").touch()
        build.rename(path)
    return path


_SMALL_INNODB = [
    "--innodb-buffer-pool-size=32M",
    "--innodb-flush-log-at-trx-commit=2",
    "--performance-schema=OFF",
    "--skip-log-bin",
]


def _mysql_network(port: int, work: str) -> list[str]:
    return [
        f"--port={port}", "--bind-address=127.0.0.1", f"--socket={work}/server.sock",
        f"--pid-file={work}/server.pid", f"--tmpdir={work}", "--max-connections=100",
    ]


def _launch(kind, work: Path, command, log: Path, url: str, origin: str, stop_signal, **popen) -> Server:
    """Start the server process, wait until ``url`` answers, return its Server."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(arg) for arg in command], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, **popen
        )

    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(stop_signal)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)

    try:
        version = _wait_ready(kind, url, proc, log)
    except BaseException:
        stop()
        raise
    server = Server(kind, url, version, origin, stop)
    atexit.register(server.stop)
    return server


def _wait_ready(kind: str, url: str, proc: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            return _server_version(kind, url)
        except Exception as exc:
            error = exc
        if proc.poll() is not None:
            raise ProvisioningError(f"{kind} server exited with code {proc.returncode} at startup{_tail(log)}")
        if time.monotonic() > deadline:
            raise ProvisioningError(f"{kind} server not ready after {READY_TIMEOUT:.0f}s: {error}{_tail(log)}")
        time.sleep(0.2)


def _run(what: str, command, log: Path, **kwargs) -> None:
    with open(log, "ab") as out:
        args = [str(arg) for arg in command]
        done = subprocess.run(args, check=False, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    if done.returncode:
        raise ProvisioningError(f"{what}: {' '.join(args)} failed with code {done.returncode}{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


def _workdir(kind: str, base_dir: str | Path | None) -> Path:
    """A new temp dir named after this process, after sweeping the ones of dead processes."""
    parent = Path(base_dir or tempfile.gettempdir())
    _sweep(parent)
    return Path(tempfile.mkdtemp(prefix=f"dbw-{kind}-{os.getpid()}-", dir=parent))


def _sweep(parent: Path) -> None:
    """Kill the servers and remove the dirs that killed runs left in ``parent``."""
    for work in parent.glob("dbw-*-*-*"):
        owner = work.name.split("-")[2]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        # SIGQUIT: immediate shutdown of PostgreSQL, which unlike SIGKILL frees its shared memory
        for pid_file, sig in ((work / "server.pid", signal.SIGKILL), (work / "data/postmaster.pid", signal.SIGQUIT)):
            try:
                pid = int(pid_file.read_text().split()[0])
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if work.name.encode() in cmdline:  # the pid is still that server, not a reused one
                for attempt in range(200):
                    if not _alive(pid):
                        break
                    if attempt in (0, 100):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, sig if attempt == 0 else signal.SIGKILL)
                    time.sleep(0.1)
        shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())  # zombies are dead


def _remove_tree(path: Path) -> None:
    """rmtree that first unmounts what a failed debootstrap may have left mounted inside."""
    if not path.exists():
        return
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted((p for p in points if p == str(path) or p.startswith(f"{path}/")), reverse=True):
        subprocess.run(["umount", "-l", point], check=False)
    shutil.rmtree(path)


def _chroot_user(chroot: Path, name: str) -> tuple[int, int]:
    for line in (chroot / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise ProvisioningError(f"no user {name!r} in {chroot}/etc/passwd")


def _find(name: str, *dirs: str) -> str:
    """``name`` on PATH, else in ``dirs`` (globs; the highest version wins)."""
    found = shutil.which(name)
    candidates = [p for d in dirs for p in glob(os.path.join(d, name)) if os.access(p, os.X_OK)]
    if not found and not candidates:
        raise ProvisioningError(f"{name} not found on PATH nor in {', '.join(dirs)}")
    return found or max(candidates, key=_version_key)


def _version_key(path: str) -> list[int]:
    return [int(part) for part in Path(path).parts if part.isdigit()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_root() -> bool:
    return os.geteuid() == 0


# --- admin connections -------------------------------------------------------------------------


def _server_version(kind: str, url: str) -> str:
    if kind == "postgresql":
        return _execute(kind, url, "SHOW server_version")[0][0].split()[0]
    version = _execute(kind, url, "SELECT VERSION()")[0][0]
    if ("mariadb" in version.lower()) != (kind == "mariadb"):
        raise ProvisioningError(f"it is {version!r}, not {kind}")
    return version


def _execute(kind: str, url: str, sql: str, kill_users_of: str | None = None) -> list[tuple]:
    """Run one admin statement (in autocommit mode); ``kill_users_of`` first ends the MySQL
    sessions that use that database, so that a connection leaked by a test cannot block a DROP."""
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []
    import pymysql

    parsed = make_url(url)
    conn = pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        autocommit=True,
        connect_timeout=10,
    )
    with conn, conn.cursor() as cursor:
        if kill_users_of:
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
                (kill_users_of,),
            )
            for (session,) in cursor.fetchall():
                try:
                    cursor.execute(f"KILL {int(session)}")
                except pymysql.err.OperationalError:
                    pass  # it ended meanwhile
        cursor.execute(sql)
        return list(cursor.fetchall())


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _smoke() -> None:
    """Provision every server, show it, use it, stop it; with timings."""
    for kind in KINDS:
        started = time.monotonic()
        with server_for(kind) as server:
            ready = time.monotonic()
            name = server.create_database()
            print(f"{server.describe()}: ready in {ready - started:.1f}s, {server.database_url(name)}")
            server.drop_database(name)
            stopping = time.monotonic()
        print(f"  stopped in {time.monotonic() - stopping:.1f}s")
    import clickhouse_connect

    with tempfile.TemporaryDirectory(prefix="dbwchdb-") as path:
        started = time.monotonic()
        client = clickhouse_connect.get_client(interface="chdb", path=path)
        print(f"clickhouse {client.server_version} (chdb, {path}): ready in {time.monotonic() - started:.1f}s")
        client.close()


if __name__ == "__main__":
    try:
        _smoke()
    except ProvisioningError as exc:
        sys.exit(f"error: {exc}")
