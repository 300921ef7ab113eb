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

A usage error, or an error of the project (``DbwardenError``), is one line, ``UsageError: %dbwarden …`` on
stderr, the IPython way: no traceback, and the cell counts as failed, so "Run All" stops there. ``-v`` shows
the traceback of a project error (when it would show a password: masked on stderr, then the line). ``--help``
prints the help. URLs with passwords are masked in every message.
``migrate``, ``rollback`` and ``downgrade`` show live progress (see ``notebook/progress.py``).
"""

from __future__ import annotations

import shlex
import sys
from typing import Any, Sequence

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..errors import DbwardenError

PROG = "%dbwarden"


def execute(argv: Sequence[str]) -> Any:
    """Parse ``argv`` with the command table and run it: the command's result, or None after ``--help``."""
    from ..commands import build_parser, document, run
    from .progress import notebook_progress

    argv = list(argv)
    try:
        args = build_parser(prog=PROG).parse_args(argv)
    except SystemExit:  # --help and --version printed themselves
        return None
    except DbwardenError as exc:
        raise IPythonUsageError(_one_line(exc, argv)) from None
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
        raise IPythonUsageError(_one_line(exc, argv, f"{PROG} {args.command}: ")) from None
    return document(result) if args.json else result


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


@magics_class
class DbwardenMagics(Magics):
    @line_cell_magic
    def dbwarden(self, line: str, cell: str | None = None) -> Any:
        """Run a dbwarden command (the CLI's arguments); %%dbwarden runs one command per line."""
        return execute_line(line) if cell is None else execute_cell(line, cell)


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(DbwardenMagics)


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
