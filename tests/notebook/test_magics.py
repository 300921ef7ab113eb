"""%dbwarden / %%dbwarden through a real IPython shell on a real SQLite project, and the progress callbacks
(terminal lines for the CLI, the widget bar, the rule that picks one)."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
from projects import ProjectDir

pytest.importorskip("IPython")

from IPython.core.completer import provisionalcompleter
from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.interactiveshell import InteractiveShell

import dbwarden_nb as dw
from dbwarden_nb.commands import COMMANDS
from dbwarden_nb.errors import ConfigError, DifferencesFound, IntegrityError, MigrationError, RisksFound
from dbwarden_nb.migrations.files import MigrationFile
from dbwarden_nb.notebook import progress as progress_module
from dbwarden_nb.notebook.completion import ProjectValues, complete
from dbwarden_nb.reports import DiffReport, HistoryReport, MakeMigrationsReport, RunReport, StatusReport, TextReport
from dbwarden_nb.schema import Snapshot

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
    from traitlets.config import Config

    os.environ.setdefault("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # no history file left to write at exit, after pytest removed it
    sh = InteractiveShell.instance(config=config)
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


def error_line(shell: InteractiveShell, line: str, capsys: pytest.CaptureFixture[str],
               expected: type[Exception] = IPythonUsageError) -> str:
    """Run ``line`` as a cell; it must fail with an ``expected`` error shown as one line, no traceback. A usage
    error is IPython's own, on stderr; the project's errors are shown by IPython's traceback hook, on stdout in a
    terminal shell (after what the command displayed)."""
    capsys.readouterr()
    result = shell.run_cell(line)
    captured = capsys.readouterr()
    assert not result.success, line
    assert type(result.error_in_exec) is expected, (line, result.error_in_exec)
    assert "Traceback" not in captured.err + captured.out, (line, captured)
    if expected is IPythonUsageError:
        assert captured.err.count("\n") == 1, (line, captured)
        return captured.err.strip()
    assert captured.err == "", (line, captured)
    shown = captured.out.rstrip("\n").splitlines()[-1]
    assert shown == f"{expected.__name__}: {result.error_in_exec}", (line, captured)
    return shown


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


def test_the_cli_and_the_notebook_list_a_snapshot_alike_foreign_key_actions_included(
        shell: InteractiveShell, project: ProjectDir) -> None:
    project.models(ORDERS.replace('sa.ForeignKey("users.id")', 'sa.ForeignKey("users.id", ondelete="CASCADE", '
                                                                'onupdate="SET NULL")'))
    project.ok("make-migrations", "add users and orders")
    project.ok("migrate")
    listed = project.ok("snapshot").out
    assert "    foreign key (user_id) \u2192 users (id) ON DELETE CASCADE ON UPDATE SET NULL\n" in listed
    snap = shell.run_line_magic("dbwarden", "snapshot")
    assert snap._repr_mimebundle_()["text/plain"] + "\n" == listed  # one listing, one spelling


def test_global_flags_and_json(shell: InteractiveShell, project: ProjectDir) -> None:
    doc = shell.run_line_magic("dbwarden", "--json status")
    assert isinstance(doc, dict) and doc["database"] == "primary" and doc["pending"] == []
    assert json.loads(project.ok("--json", "status").out) == doc
    snap = shell.run_line_magic("dbwarden", "snapshot --out json")
    assert isinstance(snap, dict) and snap["tables"] == {} and snap == json.loads(project.ok("snapshot", "--out", "json").out)
    with pytest.raises(ConfigError, match="^%dbwarden status: --dev mode is enabled, but database 'primary' has no dev_database_url"):
        shell.run_line_magic("dbwarden", "--dev status")


def test_diff_out_sql_is_highlighted_sql_and_out_json_a_dict(shell: InteractiveShell, project: ProjectDir) -> None:
    project.ok("make-migrations", "add users")
    sql = shell.run_line_magic("dbwarden", "diff --out sql")
    assert isinstance(sql, DiffReport) and sql.to_text() + "\n" == project.ok("diff", "--out", "sql").out
    assert sql.to_text().startswith('CREATE TABLE "users"')
    shown = sql._repr_mimebundle_()
    assert shown["text/plain"] == sql.to_text() and "<table" not in shown["text/html"]
    assert '<span class="dbw-sql-keyword">CREATE</span> <span class="dbw-sql-keyword">TABLE</span>' in shown["text/html"]
    doc = shell.run_line_magic("dbwarden", "diff --out json")
    assert isinstance(doc, dict) and doc == json.loads(project.ok("diff", "--out", "json").out)
    assert [op["kind"] for op in doc["operations"]] == ["create_table"] and doc["sql"] == [sql.to_text()[:-1]]


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
    line = error_line(shell, "%dbwarden status", capsys, ConfigError)
    assert line.startswith("ConfigError: %dbwarden status: no dbwarden.py found in")
    result = shell.run_cell("%dbwarden -v status")
    assert isinstance(result.error_in_exec, ConfigError)


def test_help_prints_without_error(shell: InteractiveShell, project: ProjectDir, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    for line in ("%dbwarden --help", "%dbwarden migrate -h"):
        result = shell.run_cell(line)
        assert result.success and result.result is None
    out = capsys.readouterr().out
    assert "usage: %dbwarden [-h]" in out and "usage: %dbwarden migrate" in out and "--to-version" in out


def every_flag_of_the_command_table() -> list[tuple[str, str]]:
    """(command, flag) for each optional argument of each command, as its usage names it (its first flag)."""
    return [(c.name, a.flags[0]) for c in COMMANDS for a in c.args if not a.positional]


@pytest.mark.parametrize("line", ["%dbwarden?", "%dbwarden --help"])
def test_help_shows_the_whole_command_table(shell: InteractiveShell, project: ProjectDir, line: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert shell.run_cell(line).success
    shown = capsys.readouterr().out
    table = shown[shown.index("the arguments of each command"):]
    for command in COMMANDS:  # each command, with its help and on a line of its own with its arguments
        assert command.help in " ".join(shown.split()), command.name
    lines = {command.name: re.search(rf"\n  {re.escape(command.name)}(?=[ \n])(.*?)(?=\n  \S|\n\S|\Z)", table,
                                     re.DOTALL).group(1)
             for command in COMMANDS}
    missing = [(name, flag) for name, flag in every_flag_of_the_command_table() if flag not in lines[name]]
    assert not missing, missing
    for flag in ("--dev", "--json", "--config", "--strict-translation"):
        assert flag in shown
    if line.endswith("?"):  # the magic's own usage comes first
        assert "%%dbwarden [global flags]" in shown and "DifferencesFound" in shown


# -- completion -----------------------------------------------------------------------------------


def completions(shell: InteractiveShell, code: str) -> dict[str, str]:
    """What IPython's completer offers at the end of ``code`` (as a kernel asks it: the whole cell)."""
    with provisionalcompleter():
        return {c.text: c.type for c in shell.Completer.completions(code, len(code))}


def test_tab_completes_commands_flags_databases_tables_and_versions(
        shell: InteractiveShell, project: ProjectDir, capsys: pytest.CaptureFixture[str]) -> None:
    with open(project.root / "dbwarden.py", "a", encoding="utf-8") as config:
        config.write(f"database_config(database_name='analytics', database_type='sqlite', "
                     f"database_url='sqlite:///./analytics.db', model_paths=[{project.module!r}], "
                     "environments={'staging': 'sqlite:///./staging.db'})\n")
    project.ok("make-migrations", "add users")
    project.models(ORDERS)  # orders: in the models only, not in a migration yet
    cases = {
        "%dbwarden ": {c.name for c in COMMANDS},
        "%dbwarden mi": {"migrate"},
        "%dbwarden diff --o": {"--offline", "--out"},
        "%dbwarden diff --out ": {"table", "json", "sql"},
        "%dbwarden diff --offline --o": {"--out"},  # a flag given once is not offered again
        "%dbwarden status -d ": {"primary", "analytics"},
        "%dbwarden status --database=an": {"analytics"},
        "%dbwarden generate-models --tables ": {"users", "orders"},
        "%dbwarden generate-models --tables users --tables o": {"orders"},  # repeatable: offered again
        "%dbwarden make-migrations x --rename us": {"users."},
        "%dbwarden make-migrations x --rename users.": {"users.id:", "users.name:"},  # the old names: the base
        "%dbwarden migrate --to-version ": {"0001"},
        "%dbwarden init --database-type p": {"postgresql"},
        "%dbwarden --j": {"--json"},
        "%dbwarden -e ": {"staging"},
        "%dbwarden --environment st": {"staging"},
        "made = %dbwarden -v sn": {"snapshot"},
        "%%dbwarden --d": {"--dev"},
        "%%dbwarden --dev\nstatus\nmigrate --c": {"--count"},
    }
    capsys.readouterr()
    for code, expected in cases.items():
        assert set(completions(shell, code)) == expected, code
    assert completions(shell, "%dbwarden status -d ") == {"primary": "database", "analytics": "database"}
    assert "os" in completions(shell, "import o") and "migrate" not in completions(shell, "mi")  # Python stays Python
    (project.root / "generated").mkdir()
    assert "generated/" in completions(shell, "%dbwarden generate-models --output gen")  # a path: IPython's own
    assert capsys.readouterr() == ("", "")


def test_completion_without_a_project_offers_no_values_and_never_fails(
        shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DBWARDEN_CONFIG", raising=False)
    (tmp_path / "dbwarden.py").write_text("raise RuntimeError('a broken config')\n")
    capsys.readouterr()
    assert complete(["status", "-d"], "", ProjectValues()) == [] == complete(["generate-models", "--tables"], "", ProjectValues())
    completions(shell, "%dbwarden status -d ")  # IPython's own matchers may answer; ours fails silently
    assert set(completions(shell, "%dbwarden st")) == {"status"}  # the command table needs no project
    assert capsys.readouterr() == ("", "")


def test_passwords_are_never_shown(shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://app:{SECRET}@127.0.0.1:1/shop"
    proj = ProjectDir(tmp_path / "pg", url, database_type="postgresql")
    monkeypatch.chdir(proj.root)
    config = shell.run_line_magic("dbwarden", "config")
    assert isinstance(config, TextReport) and "app:***@127.0.0.1:1/shop" in config.to_text()
    doc = shell.run_line_magic("dbwarden", "--json config")
    shown = [config.to_text(), json.dumps(doc), json.dumps(config._repr_mimebundle_())]
    for line in ("%dbwarden status", "%dbwarden diff", "%dbwarden migrate",  # the server cannot be reached
                 f"%dbwarden status --database={url}"):  # no such database
        shown.append(error_line(shell, line, capsys, ConfigError))
    for line in (f"%dbwarden status {url}", f"%dbwarden diff --out '{url}'", f"%dbwarden -v status {url}"):
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


# -- a nonzero exit of the CLI fails the cell, with the CLI's line ---------------------------------------


def cli_and_cell(shell: InteractiveShell, project: ProjectDir, argv: list[str],
                 capsys: pytest.CaptureFixture[str]) -> tuple[int, str, BaseException | None, str]:
    """``dbwarden ARGV`` and ``%dbwarden ARGV`` on the same project: the CLI's exit code and error line (without
    ``dbwarden: error:``), the cell's exception and what the cell printed."""
    ran = project.cli(*argv)
    cli_line = ran.err.strip().splitlines()[-1].removeprefix("dbwarden: error: ") if ran.err.strip() else ""
    capsys.readouterr()
    cell = shell.run_cell("%dbwarden " + shlex.join(argv))
    return ran.code, cli_line, cell.error_in_exec, capsys.readouterr().out


def test_the_newcomer_traps_fail_the_cell_like_the_cli(shell: InteractiveShell, project: ProjectDir,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: the adoption trap, the backend guard, a --rename typo and a bad lock timeout exit non-zero, and
    fail the cell with the same line."""
    import sqlite3

    from dbwarden_nb.errors import MigrationFileError

    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    db.execute("CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL)")
    db.commit()
    db.close()

    def usage_error(argv: list[str]) -> None:
        code, cli_line, error, _ = cli_and_cell(shell, project, argv, capsys)
        assert code == 2 and type(error) is IPythonUsageError, (argv, code, error)
        assert without_prog(str(error)) == without_prog(cli_line), (argv, cli_line, error)

    usage_error(["make-migrations", "first"])  # the adoption trap
    project.ok("baseline")
    project.models(USERS.replace("name:", "full_name:"))
    usage_error(["make-migrations", "x", "--rename", "users.nme:full_name"])
    usage_error(["migrate", "--lock-timeout", "-1"])
    project.ok("make-migrations", "rename", "--rename", "users.name:full_name")
    first = project.migration_files()[0]
    first.write_text(first.read_text().replace("-- backend: sqlite", "-- backend: postgresql"))
    code, cli_line, error, _ = cli_and_cell(shell, project, ["status"], capsys)
    assert code == 1 and type(error) is MigrationFileError and "was written for postgresql" in str(error)
    assert without_prog(str(error)) == without_prog(cli_line)


def without_prog(line: str) -> str:
    """An error line without the program and command it starts with (``dbwarden diff:``, ``%dbwarden diff:``)."""
    return re.sub(r"^%?dbwarden( [a-z-]+)?: ", "", line)


def test_every_nonzero_exit_of_the_cli_fails_the_cell_with_its_line(
        shell: InteractiveShell, project: ProjectDir, capsys: pytest.CaptureFixture[str]) -> None:
    project.ok("make-migrations", "add users")
    steps: list[tuple[list[str], type[Exception]]] = [
        (["diff", "--check"], DifferencesFound),  # the models have a table the database lacks yet
        (["status", "--bogus"], IPythonUsageError),
        (["make-migrations", "  "], IPythonUsageError),
        (["migrate", "--to-version", "7"], IPythonUsageError),
        (["--dev", "status"], ConfigError),
    ]
    for argv, expected in steps:
        code, cli_line, error, _out = cli_and_cell(shell, project, argv, capsys)
        assert code != 0 and type(error) is expected, (argv, code, error)
        assert getattr(error, "exit_code", 2) == code, argv  # IPython's UsageError: the CLI's 2
        assert without_prog(str(error)) == without_prog(cli_line) and "\n" not in str(error), (argv, cli_line, error)
        if expected is not IPythonUsageError:
            assert str(error).startswith(f"%dbwarden {argv[-1] if argv[0] == '--dev' else argv[0]}: "), error
            assert error._render_traceback_() == [f"{expected.__name__}: {error}"]  # IPython shows this line alone
    assert "primary: 1 difference(s), the models vs the live database" in cli_and_cell(
        shell, project, ["diff", "--check"], capsys)[3]  # the diff is displayed before the cell fails

    project.ok("migrate")
    assert isinstance(shell.run_line_magic("dbwarden", "diff --check"), DiffReport)  # no difference: no error
    project.models("")
    project.ok("make-migrations", "drop users")  # CRITICAL: check finds its risk, migrate wants --force
    applied = project.migration_files()[0]
    for argv, expected in ((["check"], RisksFound), (["migrate"], MigrationError)):
        code, cli_line, error, _ = cli_and_cell(shell, project, argv, capsys)
        assert type(error) is expected and error.exit_code == code != 0, (argv, error)
        assert without_prog(str(error)) == without_prog(cli_line), (argv, cli_line, error)
    applied.write_text(applied.read_text().replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    for argv in (["status"], ["migrate"]):  # an applied file edited: status reports it, migrate refuses
        code, cli_line, error, _ = cli_and_cell(shell, project, argv, capsys)
        assert type(error) is IntegrityError and code == 1 and cli_line.startswith("checksum mismatch: "), (argv, error)
        assert without_prog(str(error)) == cli_line


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


def test_widget_progress_says_which_statement_runs_for_how_long(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    now = [100.0]
    bar = progress_module.WidgetProgress(show=False, tick=None, clock=lambda: now[0])
    first = MigrationFile(1, "add users", (), (), path=Path.cwd() / "migrations" / "primary" / "0001_add_users.sql")
    second = MigrationFile(2, "add orders", (), (), path=Path.cwd() / "migrations" / "primary" / "0002_add_orders.sql")
    bar("begin", None, 0, 2)
    bar("start", first, 0, 2)
    bar.running('CREATE TABLE users (id INTEGER <b>NOT</b> NULL,\n  name TEXT)')
    bar("statement", first, 0, 2)
    assert bar.label.value == ("<code>migrations/primary/0001_add_users.sql</code> &middot; migration 1 of 2, statement "
                               "1 of 2, running for 0.0 s &middot; <code>CREATE TABLE users (id INTEGER &lt;b&gt;NOT"
                               "&lt;/b&gt; NULL, name TEXT)</code>")
    now[0] += 2.25
    bar.render()  # what the ticker does every half second
    assert "statement 1 of 2, running for 2.2 s" in bar.label.value and bar.bar.value == 0
    bar.running("CREATE INDEX ix_users_name ON users (name)")
    bar("statement", first, 1, 2)
    assert "statement 2 of 2, running for 0.0 s" in bar.label.value and "CREATE INDEX ix_users_name" in bar.label.value
    bar("step", first, 2, 2)
    bar("done", first, 2, 2)
    assert bar.label.value == "<code>migrations/primary/0001_add_users.sql</code> &middot; 1 of 2 migration(s) done"
    bar("start", second, 0, 1)
    bar.running("x" * 300)
    bar("statement", second, 0, 1)
    assert "migration 2 of 2, statement 1 of 1" in bar.label.value and "x" * 119 + "\u2026</code>" in bar.label.value
    bar("done", second, 1, 1)
    assert bar.label.value.endswith("2 of 2 migration(s) done") and bar.done == 2 and bar.bar.value == bar.bar.max
    bar.close()


def test_live_progress_on_postgresql_follows_each_statement(
        shell: InteractiveShell, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL runs a migration in one transaction, one chunk: the label still moves statement by statement,
    and while a slow one runs, its time goes up."""
    pytest.importorskip("ipywidgets")
    proj = ProjectDir(tmp_path / "pg", pg_url, database_type="postgresql")
    proj.models(ORDERS.replace("sa.ForeignKey(\"users.id\")", "sa.ForeignKey(\"users.id\"), index=True"))
    proj.ok("make-migrations", "add users and orders")
    proj.ok("new", "slow backfill")
    manual = proj.migration_files()[-1]
    manual.write_text(manual.read_text().replace("-- write the upgrade statements here, each ending with ;\n",
                                                 "SELECT pg_sleep(0.8);\nSELECT 1;\n"))
    monkeypatch.chdir(proj.root)
    labels: list[str] = []

    class Recording(progress_module.WidgetProgress):
        def __init__(self) -> None:
            super().__init__(tick=0.1)
            self.label.observe(lambda change: labels.append(change["new"]), names="value")

    monkeypatch.setattr(progress_module, "WidgetProgress", Recording)
    monkeypatch.setenv("DBWARDEN_PROGRESS", "widget")
    monkeypatch.setattr("IPython.display.display", lambda obj, display_id=None: SimpleNamespace(
        update=lambda data, raw=False: None))
    ran = shell.run_line_magic("dbwarden", "migrate")
    assert [a.version for a in ran.result.applied] == [1, 2]
    first = dw.project().database().files()[0].upgrade
    running = [re.sub(r"running for [\d.]+ s", "running", label) for label in labels if "running for" in label]
    expected = [f"migration 1 of 2, statement {n} of {len(first)}, running" for n in range(1, len(first) + 1)]
    expected += ["migration 2 of 2, statement 1 of 2, running", "migration 2 of 2, statement 2 of 2, running"]
    shown = list(dict.fromkeys(label.split(" &middot; ")[1] for label in running))  # in order, repeats dropped
    assert shown == expected, shown
    for stmt in first:  # each statement's SQL while it runs
        assert any(html.escape(" ".join(stmt.sql.split())[:60]) in label for label in running), stmt.sql
    slow = [float(m.group(1)) for label in labels if "pg_sleep" in label
            for m in [re.search(r"running for ([\d.]+) s", label)] if m]
    assert max(slow) >= 0.5, slow  # the ticker refreshed the time of the running statement
    assert "statement 0 of" not in " ".join(labels)


def test_widget_progress_is_closed_when_the_run_fails(project: ProjectDir, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    made: list[progress_module.WidgetProgress] = []
    monkeypatch.setattr(progress_module.WidgetProgress, "close", lambda self: made.append(self))
    with pytest.raises(RuntimeError), progress_module.notebook_progress("widget") as bar:
        raise RuntimeError("boom")
    assert made == [bar]
    with progress_module.notebook_progress("none") as nothing:
        assert nothing is None
