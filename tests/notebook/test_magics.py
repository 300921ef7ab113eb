"""%dbwarden / %%dbwarden through a real IPython shell on a real SQLite project, and the progress callbacks
(terminal lines for the CLI, the widget bar, the rule that picks one)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from projects import ProjectDir

pytest.importorskip("IPython")

from IPython.core.error import UsageError as IPythonUsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

import dbwarden_nb as dw  # noqa: E402
from dbwarden_nb.errors import ConfigError  # noqa: E402
from dbwarden_nb.migrations.files import MigrationFile  # noqa: E402
from dbwarden_nb.notebook import progress as progress_module  # noqa: E402
from dbwarden_nb.reports import DiffReport, HistoryReport, MakeMigrationsReport, RunReport, StatusReport, TextReport  # noqa: E402
from dbwarden_nb.schema import Snapshot  # noqa: E402

USERS = """
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(50))
    """
ORDERS = USERS + """
    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    """
SECRET = "Zq9-SuperSecret-Pw"


@pytest.fixture(scope="session")
def shell(tmp_path_factory: pytest.TempPathFactory) -> InteractiveShell:
    os.environ.setdefault("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    sh = InteractiveShell.instance()
    result = sh.run_cell("%load_ext dbwarden_nb")
    assert result.success, result.error_in_exec
    return sh


@pytest.fixture
def project(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> ProjectDir:
    proj = ProjectDir(tmp_path / "proj", sqlite_url)
    proj.models(USERS)
    monkeypatch.chdir(proj.root)
    monkeypatch.delenv("DBWARDEN_CONFIG", raising=False)
    monkeypatch.delenv("DBWARDEN_PROGRESS", raising=False)
    return proj


def error_line(shell: InteractiveShell, line: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``line`` as a cell; it must fail with one line on stderr and no traceback."""
    capsys.readouterr()
    result = shell.run_cell(line)
    captured = capsys.readouterr()
    assert not result.success, line
    assert isinstance(result.error_in_exec, IPythonUsageError), (line, result.error_in_exec)
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err + captured.out, (line, captured)
    return captured.err.strip()


def test_load_ext_registers_line_and_cell_magic(shell: InteractiveShell) -> None:
    magics = shell.magics_manager.magics
    assert "dbwarden" in magics["line"] and "dbwarden" in magics["cell"]


def test_line_magic_returns_the_objects_of_the_python_api(shell: InteractiveShell, project: ProjectDir) -> None:
    status = shell.run_line_magic("dbwarden", "status")
    assert isinstance(status, StatusReport) and not status.applied and not status.pending
    assert status.to_text() == dw.project().status().to_text()

    dry = shell.run_line_magic("dbwarden", 'make-migrations "add users" --dry-run')
    assert isinstance(dry, MakeMigrationsReport) and dry.dry_run and dry.file is not None
    assert project.migration_files() == []

    made = shell.run_line_magic("dbwarden", "make-migrations 'add users'")
    assert isinstance(made, MakeMigrationsReport) and made.path == "migrations/primary/0001_add_users.sql"
    assert [p.name for p in project.migration_files()] == ["0001_add_users.sql"]

    ran = shell.run_line_magic("dbwarden", "migrate")
    assert isinstance(ran, RunReport) and [a.version for a in ran.result.applied] == [1]

    diff = shell.run_line_magic("dbwarden", "diff -d primary")
    assert isinstance(diff, DiffReport) and diff.empty

    snap = shell.run_line_magic("dbwarden", "snapshot")
    assert isinstance(snap, Snapshot) and list(snap.tables) == ["users"]
    assert snap == dw.project().snapshot()

    history = shell.run_line_magic("dbwarden", "history")
    assert isinstance(history, HistoryReport) and [r.version for r in history.rows] == [1]


def test_global_flags_and_json(shell: InteractiveShell, project: ProjectDir) -> None:
    doc = shell.run_line_magic("dbwarden", "--json status")
    assert isinstance(doc, dict) and doc["database"] == "primary" and doc["pending"] == []
    assert json.loads(project.ok("--json", "status").out) == doc
    snap = shell.run_line_magic("dbwarden", "snapshot --out json")
    assert isinstance(snap, TextReport) and json.loads(snap.to_text())["tables"] == {}
    with pytest.raises(IPythonUsageError, match="no dev_database_url"):
        shell.run_line_magic("dbwarden", "--dev status")


def test_ipython_expands_variables(shell: InteractiveShell, project: ProjectDir) -> None:
    shell.user_ns["what"] = "add users"
    result = shell.run_cell('made = %dbwarden make-migrations "{what}" --dry-run')
    assert result.success, result.error_in_exec
    made = shell.user_ns["made"]
    assert isinstance(made, MakeMigrationsReport) and made.file is not None and made.file.description == "add users"


@pytest.mark.parametrize("line", ["", "no-such-command", "migrate --count zero", "make-migrations", "diff --out xml",
                                  "status --bogus", "make-migrations 'unclosed"])
def test_usage_errors_are_one_line(shell: InteractiveShell, project: ProjectDir, line: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert error_line(shell, f"%dbwarden {line}", capsys).startswith("UsageError: %dbwarden")
    with pytest.raises(IPythonUsageError):
        shell.run_line_magic("dbwarden", line)


def test_project_errors_are_one_line_and_v_shows_the_traceback(
        shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.delenv("DBWARDEN_CONFIG", raising=False)
    line = error_line(shell, "%dbwarden status", capsys)
    assert line.startswith("UsageError: %dbwarden status: no dbwarden.py found in")
    result = shell.run_cell("%dbwarden -v status")
    assert isinstance(result.error_in_exec, ConfigError)


def test_help_prints_without_error(shell: InteractiveShell, project: ProjectDir, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    for line in ("%dbwarden --help", "%dbwarden migrate -h"):
        result = shell.run_cell(line)
        assert result.success and result.result is None
    out = capsys.readouterr().out
    assert "usage: %dbwarden [-h]" in out and "usage: %dbwarden migrate" in out and "--to-version" in out


def test_passwords_are_never_shown(shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://app:{SECRET}@127.0.0.1:1/shop"
    proj = ProjectDir(tmp_path / "pg", url, database_type="postgresql")
    monkeypatch.chdir(proj.root)
    config = shell.run_line_magic("dbwarden", "config")
    assert isinstance(config, TextReport) and "app:***@127.0.0.1:1/shop" in config.to_text()
    doc = shell.run_line_magic("dbwarden", "--json config")
    shown = [config.to_text(), json.dumps(doc), json.dumps(config._repr_mimebundle_())]
    for line in ("%dbwarden status", "%dbwarden diff", "%dbwarden migrate", f"%dbwarden status {url}",
                 f"%dbwarden status --database={url}", f"%dbwarden diff --out '{url}'", f"%dbwarden -v status {url}"):
        shown.append(error_line(shell, line, capsys))
    assert all(SECRET not in text for text in shown), shown
    assert "***" in shown[-1]
    made = shell.run_line_magic("dbwarden", f"init --path {tmp_path / 'new'} --database-type postgresql --url {url}")
    assert SECRET not in made.to_text() + json.dumps(made.to_json())


def test_cell_magic_runs_one_command_per_line(shell: InteractiveShell, project: ProjectDir,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    last = shell.run_cell_magic("dbwarden", "", "make-migrations 'add users'\n\n# a comment\nmigrate\nstatus\n")
    assert isinstance(last, StatusReport) and [r.version for r in last.applied] == [1]
    shown = capsys.readouterr().out
    assert "wrote migrations/primary/0001_add_users.sql" in shown and "applied 1 migration(s)" in shown
    doc = shell.run_cell_magic("dbwarden", "--json", "history")  # the first line goes before every command
    assert isinstance(doc, dict) and [r["version"] for r in doc["history"]] == [1]
    assert shell.run_cell_magic("dbwarden", "", "\n# nothing\n") is None
    assert isinstance(shell.run_cell_magic("dbwarden", "", "diff \\\n  --out sql"), DiffReport)


def test_cell_magic_stops_at_the_first_error(shell: InteractiveShell, project: ProjectDir,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    project.ok("make-migrations", "add users")
    line = error_line(shell, "%%dbwarden\nstatus\nmigrate --bogus\nmigrate\n", capsys)
    assert line == "UsageError: %dbwarden: unrecognized arguments: --bogus"
    assert not dw.project().status().applied


# -- progress -------------------------------------------------------------------------------------


def test_migrate_in_terminal_ipython_prints_one_line_per_migration(
        shell: InteractiveShell, project: ProjectDir, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBWARDEN_PROGRESS", "text")  # captured stderr is no terminal
    project.ok("make-migrations", "add users")
    project.models(ORDERS)
    project.ok("make-migrations", "add orders")
    capsys.readouterr()
    ran = shell.run_line_magic("dbwarden", "migrate")
    assert isinstance(ran, RunReport) and [a.version for a in ran.result.applied] == [1, 2]
    assert capsys.readouterr().err.splitlines() == [
        "dbwarden: migrations/primary/0001_add_users.sql: 1 statement(s)",
        "dbwarden: migrations/primary/0002_add_orders.sql: 1 statement(s)",
    ]
    back = shell.run_line_magic("dbwarden", "rollback")
    assert isinstance(back, RunReport) and [a.version for a in back.result.applied] == [2]
    assert capsys.readouterr().err.splitlines() == ["dbwarden: migrations/primary/0002_add_orders.sql: 1 statement(s)"]


def test_cli_progress_lines_on_stderr_summary_on_stdout(project: ProjectDir, monkeypatch: pytest.MonkeyPatch) -> None:
    project.ok("make-migrations", "add users")
    project.models(ORDERS)
    project.ok("make-migrations", "add orders")
    quiet = project.ok("migrate", "--count", "1")  # stderr is no terminal: the summary alone
    assert quiet.err == "" and quiet.out.startswith("primary: applied 1 migration(s)")
    project.ok("rollback")
    monkeypatch.setenv("DBWARDEN_PROGRESS", "text")
    ran = project.ok("migrate")
    assert ran.err.splitlines() == ["dbwarden: migrations/primary/0001_add_users.sql: 1 statement(s)",
                                    "dbwarden: migrations/primary/0002_add_orders.sql: 1 statement(s)"]
    assert ran.out.startswith("primary: applied 2 migration(s)") and "dbwarden:" not in ran.out
    assert project.ok("migrate").err == ""  # nothing to do, nothing on stderr
    doc = project.ok("--json", "downgrade", "--to", "0")
    assert len(doc.err.splitlines()) == 2 and [a["version"] for a in doc.json()["applied"]] == [2, 1]
    assert project.ok("migrate", "--dry-run").err == ""


def test_terminal_lines_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    file = MigrationFile(3, "add index", (), (), path=Path.cwd() / "migrations" / "primary" / "0003_add_index.sql")
    monkeypatch.delenv("DBWARDEN_PROGRESS", raising=False)
    streams = {"tty": Terminal(), "pipe": io.StringIO()}
    for stream in streams.values():
        progress = progress_module.TerminalProgress(stream)
        for event, step in (("start", 1), ("step", 2), ("done", 2)):
            progress(event, file, step, 2)
    assert streams["tty"].getvalue() == "dbwarden: migrations/primary/0003_add_index.sql: 2 statement(s), resuming after statement 1\n"
    assert streams["pipe"].getvalue() == ""
    for forced, shown in (("text", True), ("none", False)):
        monkeypatch.setenv("DBWARDEN_PROGRESS", forced)
        for stream in (Terminal(), io.StringIO()):
            progress_module.TerminalProgress(stream)("start", file, 0, 2)
            assert bool(stream.getvalue()) is shown


@pytest.mark.parametrize(("shell_", "expected"), [
    (None, "text"),  # the CLI, a script
    (SimpleNamespace(), "text"),  # terminal IPython: no kernel
    (SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=True)), "widget"),  # JupyterLab, Notebook, VS Code
    (SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False)), "none"),  # nbval, nbconvert --execute, papermill
])
def test_progress_mode(monkeypatch: pytest.MonkeyPatch, shell_: object, expected: str) -> None:
    monkeypatch.delenv("DBWARDEN_PROGRESS", raising=False)
    monkeypatch.setattr(progress_module, "_shell", lambda: shell_)
    assert progress_module.progress_mode() == expected
    monkeypatch.setenv("DBWARDEN_PROGRESS", "none")
    assert progress_module.progress_mode() == "none"
    monkeypatch.setenv("DBWARDEN_PROGRESS", "bars")
    with pytest.raises(ConfigError, match="DBWARDEN_PROGRESS"):
        progress_module.progress_mode()


def test_non_interactive_kernel_shows_only_the_summary(
        shell: InteractiveShell, project: ProjectDir, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    project.ok("make-migrations", "add users")
    monkeypatch.setattr(progress_module, "_shell", lambda: SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False)))
    capsys.readouterr()
    ran = shell.run_line_magic("dbwarden", "migrate")
    assert isinstance(ran, RunReport) and len(ran.result.applied) == 1
    assert capsys.readouterr() == ("", "")


def test_interactive_kernel_shows_a_bar_that_leaves_nothing(
        shell: InteractiveShell, project: ProjectDir, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    project.ok("make-migrations", "add users")
    project.models(ORDERS)
    project.ok("make-migrations", "add orders")
    bars: list[progress_module.WidgetProgress] = []
    updates: list[object] = []

    class Recording(progress_module.WidgetProgress):
        def __init__(self) -> None:
            super().__init__()
            bars.append(self)

    monkeypatch.setattr(progress_module, "WidgetProgress", Recording)
    monkeypatch.setenv("DBWARDEN_PROGRESS", "widget")
    monkeypatch.setattr("IPython.display.display", lambda obj, display_id=None: SimpleNamespace(
        update=lambda data, raw=False: updates.append((data, raw))))
    ran = shell.run_line_magic("dbwarden", "migrate")
    assert isinstance(ran, RunReport) and len(ran.result.applied) == 2
    (bar,) = bars
    assert bar.done == 2 and bar.bar.value == bar.bar.max
    assert "0002_add_orders.sql" in bar.label.value and "2 migration(s) done" in bar.label.value
    assert updates == [({}, True)]  # replaced by an empty output: nothing left to compare or save
    assert bar.box.comm is None  # closed


def test_widget_progress_is_closed_when_the_run_fails(project: ProjectDir, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    made: list[progress_module.WidgetProgress] = []
    monkeypatch.setattr(progress_module.WidgetProgress, "close", lambda self: made.append(self))
    with pytest.raises(RuntimeError):
        with progress_module.notebook_progress("widget") as bar:
            raise RuntimeError("boom")
    assert made == [bar]
    with progress_module.notebook_progress("none") as nothing:
        assert nothing is None
