"""The judge of round trips: each engine's own dump of a schema, not our snapshots.

A snapshot that misses something looks equal to itself, so a database rebuilt from generated models is compared
with the original by what the engine itself prints:

    pg_dump --schema-only                                   PostgreSQL
    mariadb-dump / mysqldump --no-data --routines --triggers --events   MariaDB / MySQL
    sqlite_master                                           SQLite
    SHOW CREATE TABLE / DICTIONARY / VIEW                    ClickHouse

``load_ddl(url, sql)`` loads a schema with the engine's own client (psql, mariadb, mysql, sqlite3, a chDB client), as
a user's database was made; ``engine_dump(url)`` returns that text with what is not schema left out (comments, dump dates, session settings,
the name of the database itself, dbwarden's own history and lock tables); ``assert_same_schema(a, b)`` compares two
databases and shows a unified diff of the dumps when they differ.
"""

from __future__ import annotations

import difflib
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from servers import MYSQL_CHROOT

OWN_TABLES = ("dbwarden_migrations", "dbwarden_lock")


def kind_of(url: str) -> str:
    scheme = urlsplit(url).scheme.split("+")[0]
    return {"postgres": "postgresql"}.get(scheme, scheme)


def engine_dump(url: str) -> str:
    """The schema of the database at ``url`` as its engine prints it, normalized for comparison."""
    return {"postgresql": _pg_dump, "mariadb": _my_dump, "mysql": _my_dump, "sqlite": _sqlite_master,
            "chdb": _clickhouse_show_create, "clickhouse": _clickhouse_show_create}[kind_of(url)](url)


def load_ddl(url: str, sql: str) -> None:
    """Run a script of DDL with the engine's own client; a failing statement fails the test with the client's error."""
    kind = kind_of(url)
    parts = urlsplit(url)
    if kind == "postgresql":
        command = [_pg_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", parts._replace(scheme="postgresql").geturl()]
    elif kind in ("mariadb", "mysql"):
        args = [f"--host={parts.hostname}", f"--port={parts.port or 3306}", "--protocol=TCP",
                f"--user={unquote(parts.username or 'root')}", *([f"--password={unquote(parts.password)}"] if parts.password else []),
                parts.path.lstrip("/")]
        if kind == "mysql" and (MYSQL_CHROOT / "usr/bin/mysql").exists():
            command = ["chroot", str(MYSQL_CHROOT), "/usr/bin/mysql", *args]
        else:
            command = [shutil.which("mariadb") or "mysql", *args]
    elif kind == "sqlite":
        conn = sqlite3.connect(_sqlite_path(url))
        try:
            conn.executescript(sql)
        finally:
            conn.close()
        return
    else:
        client = _chdb_client(url)
        for statement in (s.strip() for s in re.split(r";\s*\n", sql)):
            if statement:
                client.command(statement)
        return
    done = subprocess.run(command, input=sql, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{command[0]} could not load the schema: {done.stderr.strip()}")


def assert_same_schema(original: str, rebuilt: str) -> None:
    """The engine's dump of ``rebuilt`` equals that of ``original``."""
    a, b = engine_dump(original), engine_dump(rebuilt)
    if a != b:
        delta = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "original", "rebuilt", lineterm=""))
        raise AssertionError(f"the rebuilt database differs from the original by the engine's own dump:\n{delta}")


def ignore_column_order(dump: str) -> str:
    """A dump with the lines inside each ``CREATE TABLE (…)`` sorted: migrations add a column at the end of its
    table, where the other database declared it elsewhere, and column order never makes an operation."""
    out: list[str] = []
    block: list[str] | None = None
    for line in dump.splitlines():
        if block is not None:
            if line.startswith(")"):
                out += sorted(item.rstrip(",") for item in block)
                out.append(line)
                block = None
            else:
                block.append(line)
        else:
            out.append(line)
            if line.startswith("CREATE TABLE") and line.rstrip().endswith("("):
                block = []
    return "\n".join(out + (block or []))


# -- PostgreSQL ------------------------------------------------------------------------------------------


def _pg_dump(url: str) -> str:
    parts = urlsplit(url)
    libpq = parts._replace(scheme="postgresql").geturl()
    command = [_pg_binary("pg_dump"), "--schema-only", "--no-password", *(f"--exclude-table=*.{t}" for t in OWN_TABLES),
               "--dbname", libpq]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    keep = []
    for line in text.splitlines():
        if line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")) or not line.strip():
            continue
        keep.append(line)
    return "\n".join(keep)


def _pg_binary(name: str) -> str:
    """The newest installed PostgreSQL client program (pg_dump must be at least the server's version)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(found[-1]) if found else (shutil.which(name) or name)


# -- MySQL and MariaDB ---------------------------------------------------------------------------------------


def _my_dump(url: str) -> str:
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    args = ["--no-data", "--routines", "--triggers", "--events", "--skip-comments", "--skip-dump-date",
            "--skip-add-drop-table", "--skip-set-charset", "--protocol=TCP", f"--host={parts.hostname}",
            f"--port={parts.port or 3306}", f"--user={unquote(parts.username or 'root')}",
            *(f"--ignore-table={database}.{t}" for t in OWN_TABLES)]
    if parts.password:
        args.append(f"--password={unquote(parts.password)}")
    if kind_of(url) == "mariadb" or not (MYSQL_CHROOT / "usr/bin/mysqldump").exists():
        command = [shutil.which("mariadb-dump") or "mysqldump", *args, database]
    else:  # MySQL 9's own client, from the chroot the server runs in
        command = ["chroot", str(MYSQL_CHROOT), "/usr/bin/mysqldump", "--column-statistics=0", *args, database]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    keep = []
    for line in text.splitlines():
        line = re.sub(r"/\*!\d+ (SET|DEFINER=)[^*]*\*/ ?", "", line).rstrip(";").rstrip()
        line = re.sub(r" DEFINER=`[^`]*`@`[^`]*`", "", line)
        if not line.strip() or line.startswith(("--", "/*!40", "SET ", "/*M!", "DELIMITER")):
            continue
        keep.append(line)
    return "\n".join(keep)


# -- SQLite -----------------------------------------------------------------------------------------------


def _sqlite_path(url: str) -> str:
    path = unquote(urlsplit(url).path)
    return path[1:] if path.startswith("//") else path  # sqlite:////abs → /abs


def _sqlite_master(url: str) -> str:
    conn = sqlite3.connect(_sqlite_path(url))
    try:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                            f"AND tbl_name NOT IN {OWN_TABLES!r} ORDER BY type, name").fetchall()
    finally:
        conn.close()
    return "\n".join(f"{t} {n} on {tbl}: {_sqlite_sql(sql)}" for t, n, tbl, sql in rows)


_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|\s+|[(),]|[^\s(),'\"`\[]+")


def _sqlite_sql(sql: str | None) -> str:
    """SQLite keeps a statement as it was written: compare it by tokens (quotes around plain names, spacing and the
    case of words outside literals are not schema)."""
    if sql is None:
        return "(implicit)"
    out = []
    for token in _SQL_TOKEN.findall(sql):
        if token.isspace():
            continue
        if token[0] in "\"`[" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token[1:-1]):
            token = token[1:-1]
        out.append(token if token[0] in "'\"`[" else token.lower())
    return re.sub(r" ?([(),]) ?", r"\1", " ".join(out))


# -- ClickHouse -----------------------------------------------------------------------------------------------


def _chdb_client(url: str):
    from dbwarden_nb.backends._chdb import get_chdb_client

    parts = urlsplit(url)
    return get_chdb_client(unquote(parts.path), parse_qs(parts.query)["database"][0])


def _clickhouse_show_create(url: str) -> str:
    from clickhouse_connect.driver.binding import quote_identifier

    database = parse_qs(urlsplit(url).query)["database"][0]
    client = _chdb_client(url)
    rows = client.query(
        "SELECT name, engine = 'Dictionary' FROM system.tables WHERE database = {db:String} "
        "AND name NOT IN ('dbwarden_migrations', 'dbwarden_lock') AND NOT startsWith(name, '.inner') ORDER BY name",
        parameters={"db": database}).result_rows
    out = []
    for name, is_dictionary in rows:
        what = "DICTIONARY" if is_dictionary else "TABLE"
        text = client.query(f"SHOW CREATE {what} {quote_identifier(database)}.{quote_identifier(name)}").result_rows[0][0]
        out.append(text.replace(f"{quote_identifier(database)}.", "<db>.").replace(f"{database}.", "<db>."))
    return "\n".join(out)
