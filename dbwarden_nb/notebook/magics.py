"""``%dbwarden`` and ``%%dbwarden``: the CLI's command table in IPython.

``%load_ext dbwarden_nb`` registers both. The line is split like a shell line (``shlex``) and parsed by the
CLI's own parser (``commands.build_parser``), global flags included; the magic returns the object the command
returns (the one ``dw.project()``'s method returns), so the notebook displays it, or its JSON document as a
dict with ``--json``. The project is found like the CLI (``$DBWARDEN_CONFIG``, else ``./dbwarden.py`` or the
nearest one above) and loaded on each call.

``%%dbwarden`` runs each non-empty line of the cell as one command (``#`` starts a comment line, a trailing
``\\`` continues a line); whatever follows ``%%dbwarden`` on its first line is put before every command
(``%%dbwarden --dev``). Results are displayed as they come and the last one is the cell's value; the first
failing command stops the cell.

Every outcome for which the CLI exits with a code other than 0 fails the cell (so "Run All", nbval and
papermill stop there), with the one line the CLI prints, after ``%dbwarden <command>:``: a usage error as
IPython's ``UsageError: %dbwarden …``, anything else as the project's own exception, whose type names the
problem (``DifferencesFound`` for ``diff --check`` finding differences, ``RisksFound`` for ``check``,
``IntegrityError``, ``ConfigError``, ``MigrationError``…, all ``dbwarden_nb.errors.DbwardenError``), shown as
that line without a traceback. ``-v`` shows the traceback of a project error (when it would show a password:
masked on stderr, then the line). ``--help`` prints the help (``%dbwarden?`` too: every command with its arguments). URLs with passwords are masked in every
message. Tab completion: notebook/completion.py.
``migrate``, ``rollback`` and ``downgrade`` show live progress (see ``notebook/progress.py``).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..errors import DbwardenError, UsageError

PROG = "%dbwarden"


def execute(argv: Sequence[str]) -> Any:
    """Parse ``argv`` with the command table and run it: the command's result, or None after ``--help``.

    Whatever makes the CLI exit with a code other than 0 raises (:func:`cell_error`), with the line the CLI
    prints; a result that means failure (``diff --check`` finding differences) is displayed first, as the CLI
    prints it before its error line."""
    from ..commands import build_parser, document, failure_of, run
    from .progress import notebook_progress

    argv = list(argv)
    try:
        args = build_parser(prog=PROG).parse_args(argv)
    except SystemExit:  # --help and --version printed themselves
        return None
    except DbwardenError as exc:
        raise cell_error(exc, _one_line(exc, argv)) from None
    prefix = f"{PROG} {args.command}: "
    try:
        with notebook_progress() as progress:
            result = run(args, progress=progress)
    except DbwardenError as exc:
        if args.verbose:
            import traceback

            from ..config import masked_traceback

            shown = masked_traceback(exc)
            if shown == "".join(traceback.format_exception(exc)):
                raise  # IPython shows the traceback: nothing in it to mask
            sys.stderr.write(_mask(shown, argv))  # a password in it (a cause's message): the masked copy, the line
        raise cell_error(exc, _one_line(exc, argv, prefix)) from None
    shown = document(result) if args.json or getattr(args, "out", None) == "json" else result
    failure = failure_of(result)
    if failure is not None:
        from IPython.display import display

        display(shown)
        raise cell_error(failure, _one_line(failure, argv, prefix))
    return shown


def cell_error(exc: DbwardenError, line: str) -> Exception:
    """What a failing ``%dbwarden`` raises: IPython's ``UsageError`` for a usage error, else ``exc`` itself, whose
    type names the problem (``DifferencesFound``, ``IntegrityError``, ``ConfigError``…), its message made ``line``
    (masked, one line) and shown by IPython as that line alone, without a traceback."""
    if isinstance(exc, UsageError):
        return IPythonUsageError(line)
    exc.args = (line,)
    shown = f"{type(exc).__name__}: {line}"
    exc._render_traceback_ = lambda: [shown]  # type: ignore[attr-defined]  # IPython's hook for custom tracebacks
    return exc


def execute_line(line: str) -> Any:
    return execute(_split(line))


def execute_cell(line: str, cell: str) -> Any:
    from IPython.display import display

    prefix = _split(line)
    commands = [text for text in cell.replace("\\\n", " ").splitlines()
                if text.strip() and not text.lstrip().startswith("#")]
    result = None
    for n, text in enumerate(commands):
        if n and result is not None:
            display(result)
        result = execute(prefix + _split(text))
    return result


USAGE = """Run a dbwarden command: the CLI's arguments, its one command table.

    %dbwarden [global flags] COMMAND [arguments]      returns what the command returns (a dict with --json
                                                      or --out json), displayed by the notebook
    %%dbwarden [global flags]                         one command per line below; the last result is the value

A command that makes the CLI exit with a code other than 0 fails the cell with the CLI's line: UsageError
for usage, else the project's own error (DifferencesFound for diff --check, RisksFound, IntegrityError…).
Tab completes commands, flags, database names, table names and migration versions.
"""


def help_text() -> str:
    """What ``%dbwarden?`` shows: the usage above, then the CLI's help with every command and its arguments."""
    from ..commands import build_parser

    return USAGE + "\n" + build_parser(prog=PROG).format_help()


@magics_class
class DbwardenMagics(Magics):
    @line_cell_magic
    def dbwarden(self, line: str, cell: str | None = None) -> Any:
        return execute_line(line) if cell is None else execute_cell(line, cell)

    dbwarden.__doc__ = help_text()


def load_ipython_extension(ipython: Any) -> None:
    from .completion import register

    ipython.register_magics(DbwardenMagics)
    register(ipython)


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:  # "No closing quotation"
        raise IPythonUsageError(f"{PROG}: cannot split the line: {exc}") from None


def _one_line(exc: BaseException, argv: Sequence[str], prefix: str = "") -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _mask(text if text.startswith(PROG) else prefix + text, argv)


def _mask(text: str, argv: Sequence[str]) -> str:
    """``text`` with each argument that holds a URL with a password, and any such URL, masked."""
    from ..config import mask_text, mask_url

    for token in sorted(argv, key=len, reverse=True):
        masked = mask_url(token)
        if masked != token:
            text = text.replace(token, masked)
    return mask_text(text)
