"""A database password never shows: not on stdout or stderr, in a log record, an exception (its causes and ``-v``
traceback included), a JSON document, HTML or text display, a widget, nor in any file written under the project.

The whole surface runs against real servers whose URL holds a distinctive password: every command of the command
table (text and ``--json``, ``--dev`` where it applies, ``-v``), the ``%dbwarden`` magic, the Python API's objects
and their reprs, the explorer's controller and widget, and the error paths (a wrong password, an unreachable host, a
failing statement, broken configurations, a URL read from ``${VAR}``). PostgreSQL's test server trusts local
connections, so its password is not checked, but it still travels in the URL; MariaDB checks it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import servers
from backend_params import backends
from projects import ProjectDir
from sqlalchemy.engine import make_url
from test_bad_input import AGE, USERS, run_in

import dbwarden_nb as dw
from dbwarden_nb.commands import BY_NAME, document
from dbwarden_nb.errors import DbwardenError

CORE = "Pa55w0rd"  # in every encoding of both passwords: a hit anywhere is a leak, whatever the escaping
PASSWORDS = {
    "postgresql": "S3cr3t-Pa55w0rd-XYZ/@:%?&#é",  # characters URLs must encode
    "mariadb": "S3cr3t-Pa55w0rd-XYZ",
}


def forms(password: str) -> set[str]:
    return {password, quote(password), quote(password, safe=""), quote_plus(password), quote_plus(password, safe=""),
            quote(password, safe="").lower(), CORE}


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.name}: {record.getMessage()}")
        if record.exc_info and record.exc_info[1] is not None:
            self.texts.append("".join(traceback.format_exception(record.exc_info[1])))


@dataclass
class Witness:
    """Everything the surface showed, by where it showed it; ``check()`` looks for the password in all of it."""

    password: str
    seen: list[tuple[str, str]] = field(default_factory=list)
    commands: set[str] = field(default_factory=set)
    codes: dict[tuple[str, ...], int] = field(default_factory=dict)

    def add(self, where: str, text: object) -> None:
        self.seen.append((where, text if isinstance(text, str) else repr(text)))

    def cli(self, root: Path, *args: str) -> tuple[int, str, str]:
        result = run_in(root, *args)
        self.add(f"stdout of dbwarden {' '.join(args)}", result.out)
        self.add(f"stderr of dbwarden {' '.join(args)}", result.err)
        self.commands.update(a for a in args if a in BY_NAME)
        self.codes[args] = result.code
        if "--json" in args and result.code in (0, 2) and result.out:
            result.json()  # one JSON document
        return result.code, result.out, result.err

    def exception(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: message", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: traceback with causes", "".join(traceback.format_exception(exc)))

    def shown(self, where: str, obj: Any) -> None:
        """Every way a returned object shows itself."""
        from dbwarden_nb.notebook.display import mimebundle
        from dbwarden_nb.notebook.widgets import html_of

        self.add(f"{where}: repr", repr(obj))
        self.add(f"{where}: str", str(obj))
        if hasattr(obj, "to_text"):
            self.add(f"{where}: to_text", obj.to_text())
        if hasattr(obj, "to_dict") or hasattr(obj, "to_json"):
            self.add(f"{where}: JSON", json.dumps(document(obj), default=str, ensure_ascii=False))
        try:
            bundle = mimebundle(obj)
        except Exception:  # not an engine object (a dict of --json)
            bundle = {}
        for mime, text in bundle.items():
            self.add(f"{where}: {mime}", text)
        self.add(f"{where}: html_of", html_of(obj))
        if hasattr(obj, "to_frame"):
            try:
                frame = obj.to_frame()
            except Exception as exc:  # some reports have no table: the error is shown too
                self.exception(f"{where}: to_frame", exc)
            else:
                self.add(f"{where}: DataFrame", frame.to_string())

    def files(self, root: Path, allowed: Callable[[Path], bool] = lambda p: False) -> None:
        for path in sorted(root.rglob("*")):
            self.add(f"file name {path}", str(path.relative_to(root)))
            if path.is_file() and not allowed(path):
                self.add(f"file {path.relative_to(root)}", path.read_bytes().decode("utf-8", "replace"))

    def check(self) -> None:
        leaks = [(where, form) for where, text in self.seen for form in forms(self.password) if form in text]
        assert not leaks, f"the password shows in: {sorted({where for where, _ in leaks})}"
        assert len(self.seen) > 500  # the surface ran


# -- the servers and their password-protected accounts -------------------------------------------------------


@dataclass
class Account:
    kind: str
    url: str  # the project's URL, password included
    unreachable: str  # the same account on a port nobody listens on
    wrong_password: str


@pytest.fixture
def account(request: pytest.FixtureRequest) -> Iterator[Account]:
    kind = request.param
    server = request.getfixturevalue("postgresql_server" if kind == "postgresql" else "mariadb_server")
    password = PASSWORDS[kind]
    database = server.create_database()
    user = servers.fresh_name()
    if kind == "postgresql":
        servers._execute(kind, server.url, f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        servers._execute(kind, server.url, f"ALTER DATABASE {database} OWNER TO {user}")
        hosts = []
    else:
        hosts = ["%", "localhost", "127.0.0.1"]
        for host in hosts:
            servers._execute(kind, server.url, f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'")
            # everywhere: normalization creates scratch databases next to the project's
            servers._execute(kind, server.url, f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'{host}'")
    url = make_url(server.database_url(database)).set(username=user, password=password)
    yield Account(kind, url.render_as_string(hide_password=False),
                  url.set(port=1).render_as_string(hide_password=False),
                  url.set(password=password + "-wrong").render_as_string(hide_password=False))
    server.drop_database(database)
    if kind == "postgresql":
        servers._execute(kind, server.url, f"DROP ROLE IF EXISTS {user}")
    for host in hosts:
        servers._execute(kind, server.url, f"DROP USER IF EXISTS '{user}'@'{host}'")


@pytest.fixture
def captured_logs() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def project_dir(root: Path, kind: str, url: str, extra: str = "") -> ProjectDir:
    dev = "\n                dev_database_url='sqlite:///./dev.db',"
    project = ProjectDir(root, url, "mariadb" if kind == "mariadb" else kind, extra_config=dev + extra)
    project.models(USERS)
    return project


# -- the surface ------------------------------------------------------------------------------------------------


def run_commands(w: Witness, project: ProjectDir) -> None:
    """Every command of the command table, as text and as JSON, with --dev and -v where they apply."""
    root = project.root
    for flags in ([], ["--json"]):
        w.cli(root, *flags, "version")
        w.cli(root, *flags, "init", "--path", ".")
        w.cli(root, *flags, "config")
        w.cli(root, *flags, "-v", "config")
        w.cli(root, *flags, "baseline")  # refused later (files exist) or adopting the empty database now
    for flags in ([], ["--json"]):
        w.cli(root, *flags, "make-migrations", "initial", "--dry-run")
    code, _, err = w.cli(root, "make-migrations", "initial")
    assert code == 0, err
    for flags in ([], ["--json"]):
        for args in (["check"], ["status"], ["migrate", "--sql"], ["migrate", "--dry-run"], ["lock-status"]):
            w.cli(root, *flags, *args)
    assert w.cli(root, "migrate")[0] == 0
    project.models(USERS + AGE)
    for flags in ([], ["--json"]):
        for args in (["diff"], ["diff", "--out", "json"], ["diff", "--out", "sql"], ["diff", "--offline"],
                     ["diff", "--check"], ["snapshot"], ["snapshot", "--out", "json"], ["generate-models"],
                     ["generate-models", "--output", "generated"], ["history"], ["translate"], ["-v", "status"],
                     ["make-migrations", "age", "--dry-run", "--verify"], ["unlock"], ["lock-status"]):
            w.cli(root, *flags, *args)
    assert w.cli(root, "--json", "make-migrations", "age")[0] == 0
    assert w.cli(root, "--json", "migrate")[0] == 0
    w.cli(root, "new", "manual step")
    w.cli(root, "--json", "new", "second manual step")
    for manual in sorted((root / "migrations" / "primary").glob("*manual_step.sql")):  # written, so they apply
        manual.write_text(manual.read_text().replace("-- upgrade\n", "-- upgrade\nSELECT 1;\n", 1))
    for flags in ([], ["--json"]):
        w.cli(root, *flags, "migrate")
        w.cli(root, *flags, "rollback")
        w.cli(root, *flags, "--dev", "migrate")
        w.cli(root, *flags, "--dev", "status")
        w.cli(root, *flags, "--dev", "-v", "rollback", "--count", "9")
    assert w.cli(root, "downgrade", "--to", "1")[0] == 0
    w.cli(root, "--json", "downgrade", "--to", "0", "--force")
    assert w.cli(root, "migrate", "--count", "2")[0] == 0
    for flags in ([], ["--json"]):
        w.cli(root, *flags, "repair", "2")  # refused (nothing stopped part-way), with the URL nowhere in its line
        w.cli(root, *flags, "rebase", "--dry-run")
        w.cli(root, *flags, "rebase")
        w.cli(root, *flags, "seed", "new", "countries")
        w.cli(root, *flags, "seed", "status")
        w.cli(root, *flags, "seed", "apply")
    missing = set(BY_NAME) - w.commands
    assert not missing, f"commands left out of the secrets test: {sorted(missing)}"


def run_failing_statement(w: Witness, project: ProjectDir) -> None:
    """A migration whose statement fails, in text, JSON and -v."""
    w.cli(project.root, "new", "broken")
    broken = max((project.root / "migrations" / "primary").glob("*_broken.sql"))
    broken.write_text(broken.read_text().replace("-- rollback", "INSERT INTO no_such_table VALUES (1);\n-- rollback"))
    for flags in ([], ["--json"], ["-v"]):
        code, _, err = w.cli(project.root, *flags, "migrate", "--force")
        assert code == 1 and "no_such_table" in err, err
    broken.unlink()


def run_notebook(w: Witness, project: ProjectDir) -> None:
    """The magic, the API's objects and the explorer (controller and widget)."""
    from dbwarden_nb.notebook.widgets import ExplorerController, ExplorerWidget

    magic_lines(w, project.root, ["status", "history", "diff", "snapshot", "config", "--json status", "check",
                                  "lock-status", "make-migrations next --dry-run", "translate", "generate-models",
                                  "migrate --sql", "-v nope", "status -d nope", "-v status -d nope", "--dev status"])

    proj = dw.project(project.root / "dbwarden.py")
    for name, obj in (("project", proj), ("config", proj.config), ("database config", proj.config.get()),
                      ("database", proj.database()), ("snapshot", proj.snapshot()), ("models", proj.models()),
                      ("status", proj.status()), ("history", proj.history()), ("diff", proj.diff())):
        w.shown(f"API {name}", obj)
    w.add("API config masked", json.dumps(proj.config.masked(), default=str))

    controller = ExplorerController(proj)
    controller.tables()
    controller.select("users")
    for name, obj in (("snapshot", controller.snapshot()), ("detail", controller.detail_snapshot()),
                      ("diff", controller.diff()), ("table diff", controller.table_diff()),
                      *controller.diff_views().items(), ("dry run", controller.dry_run())):
        if obj is not None:
            w.shown(f"explorer {name}", obj)
    controller.force = True
    w.shown("explorer confirm", controller.confirm())
    controller.select("no such table")
    w.add("explorer error", controller.error)
    widget = ExplorerWidget(controller)
    widget.dry_run_button.click()
    widget.confirm_button.click()
    w.add("widget", widget_texts(widget.box))


def magic_lines(w: Witness, root: Path, lines: list[str]) -> None:
    from IPython.core.error import UsageError as IPythonUsageError

    from dbwarden_nb.notebook.magics import execute_line

    cwd = os.getcwd()
    os.chdir(root)
    try:
        for line in lines:
            err = io.StringIO()
            try:
                with redirect_stderr(err):
                    w.shown(f"%dbwarden {line}", execute_line(line))
            except (IPythonUsageError, DbwardenError) as exc:  # -v raises the project's error itself
                w.exception(f"%dbwarden {line}", exc)
            w.add(f"stderr of %dbwarden {line}", err.getvalue())
    finally:
        os.chdir(cwd)


def widget_texts(box: Any) -> str:
    texts = [str(getattr(box, name, "")) for name in ("value", "options", "description", "tooltip", "placeholder")]
    return "\n".join(texts + [widget_texts(child) for child in getattr(box, "children", ())])


def run_error_paths(w: Witness, account: Account, tmp: Path) -> None:
    """An unreachable host, a wrong password, broken configurations, the URL from the environment."""
    kind = account.kind
    in_query = make_url(account.unreachable).set(password=None).update_query_dict({"password": PASSWORDS[kind]})
    for label, url in (("unreachable", account.unreachable), ("wrong password", account.wrong_password),
                       ("password in the query", in_query.render_as_string(hide_password=False))):
        project = project_dir(tmp / label.replace(" ", "_"), kind, url)
        for args in (["status"], ["--json", "migrate"], ["-v", "status"], ["diff"], ["config"]):
            code, _, _ = w.cli(project.root, *args)
            assert args == ["config"] or code == 1 or label == "wrong password" and kind == "postgresql", (label, args)
            assert PASSWORDS[kind] in url or quote_plus(PASSWORDS[kind]) in url  # the URL does hold it
        controller_errors(w, project, label)
        w.files(project.root, allowed=lambda p: p.name == "dbwarden.py")

    password = quote(PASSWORDS[kind], safe="")
    clickhouse = ProjectDir(tmp / "clickhouse", f"clickhouse://default:{password}@127.0.0.1:1/db", "clickhouse")
    for args in (["status"], ["-v", "status"], ["--json", "diff"]):  # its client logs failures with the URL
        assert w.cli(clickhouse.root, *args)[0] == 1

    broken = {  # dbwarden.py files that fail while holding the URL
        "URL in the wrong keyword": f"database_config('primary', database_type={account.url!r}, database_url='x')",
        "URL in default": f"database_config('primary', database_type={kind!r}, database_url={account.url!r}, default={account.url!r})",
        "user code failing on the URL": f"int({account.url!r})",
        "unknown keyword": f"database_config('primary', database_type={kind!r}, database_url={account.url!r}, url={account.url!r})",
        "URL as database name": f"database_config({account.url!r}, database_type={kind!r}, database_url={account.url!r})",
        "scheme mismatch": f"database_config('primary', database_type='sqlite', database_url={account.url!r})",
    }
    for label, source in broken.items():
        folder = tmp / label.replace(" ", "_")
        folder.mkdir()
        (folder / "dbwarden.py").write_text(f"from dbwarden_nb import database_config\n{source}\n")
        for args in (["status"], ["-v", "status"], ["--json", "config"]):
            code, _, err = w.cli(folder, *args)
            assert code == 1 and err.startswith("dbwarden: error: ") or args[0] == "-v", (label, args, err)
        try:
            dw.project(folder / "dbwarden.py")
        except Exception as exc:
            w.exception(f"dw.project with {label}", exc)
        else:
            raise AssertionError(f"{label}: accepted")

    failing_models = project_dir(tmp / "failing_models", kind, account.url)  # the models' own code shows the URL
    failing_models.models(USERS + f"\nraise RuntimeError('cannot reach ' + {account.url!r})\n")
    for args in (["diff"], ["-v", "diff"], ["--json", "make-migrations", "x"]):
        code, _, err = w.cli(failing_models.root, *args)
        assert code == 1 and "RuntimeError: cannot reach" in err, err
    magic_lines(w, failing_models.root, ["diff", "-v diff"])
    try:
        dw.project(failing_models.root / "dbwarden.py").diff()
    except Exception as exc:
        w.exception("API diff with failing models", exc)

    os.environ["DBW_SECRET_TEST_URL"] = account.url  # the URL from the environment: resolved, then masked
    try:
        project = project_dir(tmp / "from_env", kind, "${DBW_SECRET_TEST_URL}")
        for args in (["config"], ["--json", "config"], ["make-migrations", "initial"], ["migrate"], ["status"],
                     ["--json", "history"], ["-v", "status", "-d", "nope"]):
            w.cli(project.root, *args)
        w.shown("API status from ${VAR}", dw.project(project.root / "dbwarden.py").status())
        w.files(project.root)
    finally:
        del os.environ["DBW_SECRET_TEST_URL"]


def controller_errors(w: Witness, project: ProjectDir, label: str) -> None:
    from dbwarden_nb.notebook.widgets import ExplorerController

    controller = ExplorerController(dw.project(project.root / "dbwarden.py"))
    controller.snapshot()
    w.add(f"explorer error ({label})", controller.error)
    if controller.last_exception is not None:
        w.exception(f"explorer exception ({label})", controller.last_exception)
    controller.dry_run()
    w.add(f"explorer dry-run error ({label})", controller.error)


@pytest.mark.parametrize("account", backends({
    "mysql": "the account fixture makes users on PostgreSQL and MariaDB only",
    **dict.fromkeys(("sqlite", "clickhouse"), "no accounts: nothing in the URL is a password")}), indirect=True)
def test_the_password_never_shows(account: Account, tmp_path: Path, captured_logs: Capture) -> None:
    w = Witness(PASSWORDS[account.kind])
    project = project_dir(tmp_path / "proj", account.kind, account.url)
    run_commands(w, project)
    run_failing_statement(w, project)
    run_notebook(w, project)
    w.files(project.root, allowed=lambda p: p == project.root / "dbwarden.py")  # the user's own file holds it
    run_error_paths(w, account, tmp_path / "errors")
    for text in captured_logs.texts:
        w.add("log record", text)
    w.check()
