"""The ``dbwarden`` console script: parse, run, print text or JSON, exit with the report's code."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import DbwardenError


def render(obj: Any, as_json: bool) -> str:
    from ..commands import document, text

    if as_json:
        from ..reports import json_text

        return json_text(document(obj))
    return text(obj)


def main(argv: Sequence[str] | None = None) -> int:
    from ..commands import build_parser, failure_of, run
    from ..session import SESSION
    from .progress import TerminalProgress

    SESSION.cache_served.clear()  # the note below is about this run (main may run many times in one process)
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    # The cyclic collector re-traverses every object alive on each full pass: importing 2,000 model classes and
    # building their snapshots spent ~25 % of a command's CPU there, to free next to nothing (the same peak RSS).
    # A command is one short process: collect rarely (never a full pass in practice), as before afterwards.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        args = build_parser().parse_args(argv)
        result = run(args, progress=TerminalProgress())  # one line per migration on stderr
        print(render(result, args.json))
        failure = failure_of(result)  # diff --check finding differences, status finding a checksum mismatch…
        if failure is None:
            _cache_note()  # never beside an error: that is one line
            return 0
        print(f"dbwarden: error: {_one_line(failure)}", file=sys.stderr)
        return failure.exit_code
    except DbwardenError as exc:
        if verbose:
            from ..config import masked_traceback

            print(masked_traceback(exc), end="", file=sys.stderr)
        print(f"dbwarden: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dbwarden: interrupted", file=sys.stderr)
        return 130
    finally:
        gc.set_threshold(*thresholds)


def _cache_note() -> None:
    """The models' snapshot came from the model cache, which cannot see what they read besides Python source."""
    from ..session import SESSION

    if SESSION.cache_served:
        print("dbwarden: note: model snapshot from the cache (no model module changed); for models that read "
              "environment variables or data files, set DBWARDEN_MODEL_CACHE=0", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    from ..config import mask_text

    return mask_text(" ".join(str(exc).split())) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
