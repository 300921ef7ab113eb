"""The one command table. ``dbwarden`` (cli/) and ``%dbwarden`` (notebook/magics.py) both parse
arguments with the parser built here and call the same handlers, which return engine objects."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import DbwardenError, UsageError

if TYPE_CHECKING:
    from .api import Project
    from .migrations.runner import Progress


@dataclass(frozen=True)
class Arg:
    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)  # argparse's add_argument keywords
    completes: str | None = None  # what %dbwarden's tab completion offers as its value (notebook/completion.py)

    @property
    def takes_value(self) -> bool:
        return self.options.get("action") not in ("store_true", "version", "help")

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")


def arg(*flags: str, completes: str | None = None, **options: Any) -> Arg:
    return Arg(flags, options, completes)


@dataclass(frozen=True)
class Call:
    """A command's handler: the ``Project`` method ``method`` called with keyword arguments, each the parsed
    option of the same name (``progress``: the runner's callback), so the CLI, the magic and the Python API
    spell every option alike."""

    method: str
    keywords: tuple[str, ...] = ()

    def __call__(self, project: Any, args: argparse.Namespace) -> Any:
        return getattr(project, self.method)(**{name: getattr(args, name) for name in self.keywords})


def call(method: str, *keywords: str) -> Call:
    return Call(method, keywords)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[Any, argparse.Namespace], Any]  # (project or None, args) -> report
    args: tuple[Arg, ...] = ()
    needs_project: bool = True


DATABASE = arg("-d", "--database", metavar="NAME", help="the database to use (default: the default one)",
               completes="database")
ALL = arg("--all", action="store_true", help="every configured database")
DRY_RUN = arg("--dry-run", action="store_true", help="show what would happen; change nothing")
FORCE = arg("--force", action="store_true", help="allow WARN/CRITICAL and irreversible steps")
RENAME = arg("--rename", action="append", default=[], metavar="TABLE.OLD:NEW", help="a column rename (repeatable)",
             completes="column")
RENAME_TABLE = arg("--rename-table", action="append", default=[], metavar="OLD:NEW", completes="table",
                   help="a table rename (repeatable)")
LOCK_TIMEOUT = arg("--lock-timeout", type=float, metavar="SECONDS",
                   help="how long to wait for the migration lock (default: $DBWARDEN_LOCK_TIMEOUT or 60)")


def _version_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a migration number like 3 or 0003, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a migration number like 3 or 0003, got {text!r}")
    return value


def _migration_name(text: str) -> str:
    """A migration's description; one that reads as a path out of the folder is refused (the file is always
    ``<migrations_dir>/NNNN_<slug>.sql``, so it could not go there anyway, and the user meant something else)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 in the command line: no file could hold the name
        raise argparse.ArgumentTypeError(f"{text!r} is not valid UTF-8 text") from None
    parts = text.replace("\\", "/").split("/")
    if "\x00" in text or text.startswith(("/", "~")) or ".." in (part.strip() for part in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} reads as a path; give a description such as \"add orders\" (the file is always written "
            "to the database's migrations folder as NNNN_<description>.sql)")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number like 1 or 3, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _init(_: None, a: argparse.Namespace) -> Any:
    from .init import init_project

    return init_project(path=a.path, database_type=a.database_type, url=a.url, models=a.models)


def _snapshot(p: Project, a: argparse.Namespace) -> Any:
    return p.restore_snapshots(database=a.database) if a.restore else _out(p.snapshot(database=a.database), a.out)


def _version(_: None, a: argparse.Namespace) -> Any:
    from .init import version_report

    return version_report()


COMMANDS: tuple[Command, ...] = (
    Command("init", "create dbwarden.py (if missing) and the migrations folder", _init, (
        arg("--path", default=".", help="project folder (default: the current one)"),
        arg("--database-type", default=None,
            help="postgresql | mysql | mariadb | clickhouse | sqlite (default: what --url names, else sqlite)",
            completes="backend"),
        arg("--url", default=None, help="database URL (default: sqlite:///./app.db); ${VAR} is read from the environment"),
        arg("--models", default="models", help="dotted module or folder with the SQLAlchemy models"),
    ), needs_project=False),
    Command("make-migrations", "diff the models against the base and write the next migration file",
            call("make_migrations", "name", "database", "dry_run", "offline", "rename", "rename_table", "verify",
                 "rebuild", "concurrently", "from_empty"), (
        arg("name", type=_migration_name, help="what the migration does, e.g. \"add orders\""),
        DATABASE,
        arg("--offline", action="store_true", help="no database: start from the latest stored snapshot"),
        RENAME, RENAME_TABLE,
        arg("--rebuild", action="append", default=[], metavar="TABLE", completes="table",
            help="allow rebuilding TABLE (new table, rows copied) for what ALTER cannot change (ClickHouse; repeatable)"),
        DRY_RUN,
        arg("--verify", action="store_true", help="apply in a scratch copy, re-read, refuse unless it equals the target"),
        arg("--concurrently", action="store_true",
            help="build indexes on existing tables CONCURRENTLY, outside the transaction (PostgreSQL; default: "
                 "database_config(concurrent_indexes=...))"),
        arg("--from-empty", action="store_true",
            help="the first migration builds everything from nothing, even when the database holds the tables already"),
    )),
    Command("new", "write an empty manual migration file", call("new", "name", "database"),
            (arg("name", type=_migration_name, help="what the migration does"), DATABASE)),
    Command("baseline", "adopt an existing database: its live schema becomes snapshot 0000, marked applied",
            call("baseline", "database"), (DATABASE,)),
    Command("translate", "the translation report of the models for the SQLite dev database (what changes, what is dropped, why)",
            call("translate", "database", "add_dev_sections"), (
        DATABASE,
        arg("--add-dev-sections", action="store_true",
            help="give migration files without dev sections their SQLite versions, translated from the stored snapshots"),
    )),
    Command("check", "safety analysis of pending migrations (destructive, data-dependent, locking, irreversible)",
            call("check", "database"), (DATABASE,)),
    Command("migrate", "apply pending migrations under the lock",
            call("migrate", "database", "count", "to_version", "dry_run", "sql", "force", "all", "progress",
                 "lock_timeout"), (
        DATABASE, ALL,
        arg("--count", type=_positive, metavar="N", help="apply at most N migrations"),
        arg("--to-version", type=_version_number, metavar="V", help="apply up to and including migration V",
            completes="version"),
        DRY_RUN,
        arg("--sql", action="store_true", help="print the full script (history writes included) instead of running it"),
        FORCE, LOCK_TIMEOUT,
    )),
    Command("rollback", "revert the last applied migration(s)",
            call("rollback", "database", "count", "dry_run", "force", "progress", "lock_timeout"), (
        DATABASE, arg("--count", type=_positive, default=1, metavar="N", help="revert the last N migrations"), DRY_RUN, FORCE,
        LOCK_TIMEOUT,
    )),
    Command("downgrade", "revert every migration after V (V stays applied)",
            call("downgrade", "to", "database", "dry_run", "force", "progress", "lock_timeout"), (
        arg("--to", type=_version_number, required=True, metavar="V", help="the version to keep (0: revert all)",
            completes="version"),
        DATABASE, DRY_RUN, FORCE, LOCK_TIMEOUT,
    )),
    Command("rebase", "after a git merge: renumber and re-plan the migrations the database has not applied",
            call("rebase", "database", "dry_run"), (DATABASE, DRY_RUN)),
    Command("status", "applied and pending migrations", call("status", "database", "all_environments"), (
        DATABASE,
        arg("--all-environments", action="store_true",
            help="where each migration is applied: a column per environment (database_url is 'default')"),
    )),
    Command("history", "every migration applied, rolled back, stopped part-way or repaired, with its checksum",
            call("history", "database"), (DATABASE,)),
    Command("repair", "after fixing the failed statement of a partial migration, re-record its checksum "
            "(the statements that ran stay run; migrate continues after them)",
            call("repair", "version", "database", "force", "lock_timeout"), (
        arg("version", type=_version_number, metavar="VERSION", help="the partial migration", completes="version"),
        DATABASE,
        arg("--force", action="store_true", help="repair a 'running' migration: its last statement did not take effect"),
        LOCK_TIMEOUT,
    )),
    Command("diff", "models against the live database (read-only)",
            call("diff", "database", "offline", "out", "check", "rename", "rename_table"), (
        DATABASE,
        arg("--out", choices=("table", "json", "sql"), default="table", help="output form"),
        arg("--offline", action="store_true", help="models against the latest stored snapshot; no database"),
        arg("--check", action="store_true", help="exit with status 2 when there are differences"),
        RENAME, RENAME_TABLE,
    )),
    Command("snapshot", "the live schema",
            _snapshot, (
        DATABASE, arg("--out", choices=("table", "json"), default="table", help="output form"),
        arg("--restore", action="store_true",
            help="rebuild the missing stored snapshots by replaying the migrations in a scratch database"),
    )),
    Command("generate-models", "write SQLAlchemy model code from the live database",
            call("generate_models", "database", "output", "tables", "exclude_tables", "single_file",
                 "overwrite", "style"), (
        DATABASE,
        arg("--output", metavar="DIR", help="write a package (or models.py with --single-file) here, inside the project; default: print"),
        arg("--tables", action="append", default=[], metavar="GLOB", help="only these tables (repeatable)",
            completes="table"),
        arg("--exclude-tables", action="append", default=[], metavar="GLOB", help="leave these tables out (repeatable)",
            completes="table"),
        arg("--single-file", action="store_true", help="one models.py instead of a package"),
        arg("--overwrite", action="store_true", help="replace files edited since they were generated"),
        arg("--style", choices=("declarative", "dataclass", "tables"), default="declarative",
            help="declarative classes with relationships (default), MappedAsDataclass classes, or a sa.Table per table"),
    )),
    Command("seed", "seed data: 'seed new NAME' writes the next seeds/<database>/NNNN_<name>.sql, 'seed apply' applies "
            "those not applied yet, 'seed status' shows each one's state",
            call("seed", "action", "name", "database", "dry_run", "lock_timeout"), (
        arg("action", choices=("new", "apply", "status"), help="new | apply | status"),
        arg("name", nargs="?", type=_migration_name, help="the seed's name (seed new)"),
        DATABASE, DRY_RUN, LOCK_TIMEOUT,
    )),
    Command("lock-status", "show the migration lock", call("lock_status", "database"), (DATABASE,)),
    Command("unlock", "release the migration lock, whoever holds it", call("unlock", "database"), (DATABASE,)),
    Command("config", "the configuration, passwords masked", call("config_report")),
    Command("version", "versions of dbwarden_nb and its libraries", _version, needs_project=False),
)

BY_NAME = {c.name: c for c in COMMANDS}

GLOBAL_ARGS: tuple[Arg, ...] = (  # before the command (``--version`` is added by build_parser)
    arg("--dev", action="store_true", help="use each database's dev_database_url (SQLite)"),
    arg("--strict-translation", action="store_true", help="fail instead of falling back in --dev"),
    arg("--json", action="store_true", help="print one JSON document"),
    arg("-v", "--verbose", action="store_true", help="show tracebacks of errors"),
    arg("--config", metavar="PATH", help="the dbwarden.py to use (default: $DBWARDEN_CONFIG or ./dbwarden.py)"),
    arg("-e", "--environment", metavar="NAME", completes="environment",
        help="use each database's URL of that name in environments={...} (default: its database_url)"),
)


def _out(obj: Any, out: str) -> Any:
    """``--out json`` on a snapshot prints its JSON document."""
    if out == "json":
        from .reports import TextReport

        return TextReport(obj.to_json().rstrip("\n"), obj.to_dict())
    return obj


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so the magic can show one line."""

    def error(self, message: str) -> NoReturn:
        """One line: the subcommand at fault (the program's own name is the line's prefix already), the closest
        command for a misspelt one, and where a global flag given after the command goes."""
        import difflib
        import re

        # the CLI's line starts "dbwarden: error: ", so its own name is left out; the magic's starts with the error
        where = self.prog.partition(" ")[2] if self.prog.startswith("dbwarden") else self.prog
        where = f"{where}: " if where else ""
        typo = re.search(r"invalid choice: '([^']*)'", message)
        if typo and "COMMAND" in message:
            close = difflib.get_close_matches(typo.group(1), [c.name for c in COMMANDS], n=1)
            message = f"unknown command '{typo.group(1)}'" + (f"; did you mean '{close[0]}'?" if close else
                                                               " (see 'dbwarden --help')")
        flags = {f for a in GLOBAL_ARGS for f in a.flags}
        stray = [w for w in message.removeprefix("unrecognized arguments: ").split() if w in flags]
        if message.startswith("unrecognized arguments:") and stray:
            message += f" ({stray[0]} is a global flag: it goes before the command, 'dbwarden {stray[0]} COMMAND')"
        raise UsageError(f"{where}{message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def build_parser(prog: str = "dbwarden") -> Parser:
    from ._version import __version__

    parser = Parser(prog=prog, description="Schema migrations for SQLAlchemy projects.",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    for a in GLOBAL_ARGS:
        parser.add_argument(*a.flags, **a.options)
    parser.add_argument("--version", action="version", version=f"dbwarden_nb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    usages = []
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        for a in cmd.args:
            p.add_argument(*a.flags, **a.options)
        usages.append(_usage(p, f"{prog} {cmd.name}"))
    parser.epilog = f"the arguments of each command ({prog} COMMAND --help explains them):\n" + "\n".join(usages)
    return parser


def _usage(parser: argparse.ArgumentParser, prog: str, width: int = 100) -> str:
    """A command's usage without ``usage: <prog>`` and ``[-h]``, for the epilog: wrapped between arguments."""
    import re

    text = " ".join(parser.format_usage().split()).removeprefix(f"usage: {prog}").replace(" [-h]", "", 1)
    name = prog.rpartition(" ")[2]
    lines = [f"  {name}"]
    for part in re.findall(r"\[[^\]]*\]|\S+", text):  # an optional argument in brackets stays on one line
        if len(lines[-1]) + 1 + len(part) > width:
            lines.append(" " * (3 + len(name)))
        lines[-1] += " " + part
    return "\n".join(lines)


def run(args: argparse.Namespace, project: Project | None = None, progress: Progress | None = None) -> Any:
    """Run parsed arguments; ``project`` is loaded from the config when not given. ``progress`` is the
    runner's callback for the commands that apply migrations (the CLI's lines, the notebook's bar)."""
    cmd = BY_NAME[args.command]
    args = argparse.Namespace(**{**vars(args), "progress": progress})
    if cmd.needs_project and project is None:
        from .api import Project

        project = Project.load(args.config, dev=args.dev, strict_translation=args.strict_translation,
                               environment=args.environment)
    elif project is not None and (args.dev or args.strict_translation or args.environment):
        from .api import Project

        project = Project(project.config, dev=args.dev or project.dev,
                          strict_translation=args.strict_translation or project.strict_translation,
                          environment=args.environment or project.environment)
    return cmd.run(project, args)


def failure_of(result: Any) -> DbwardenError | None:
    """The error a command's result means (a report whose exit code is not 0): the CLI prints its line and exits
    with its code, the magic raises it. None for success."""
    failure = getattr(result, "failure", None)
    return failure() if failure is not None else None


def text(obj: Any) -> str:
    """The text the CLI prints for a command's result: a snapshot as listing.py lists it (the notebook's
    ``text/plain`` too: foreign-key actions included), anything else by its ``to_text()``."""
    from .schema import Snapshot

    if isinstance(obj, Snapshot):
        from .listing import snapshot_lines

        return "\n".join(snapshot_lines(obj))
    return obj.to_text()


def document(obj: Any) -> Any:
    """The ``--json`` document of a command's result."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj.to_json()


def parse(argv: Sequence[str], prog: str = "dbwarden") -> argparse.Namespace:
    return build_parser(prog).parse_args(list(argv))
