"""The ``dbwarden`` console script: parse, run, print text or JSON, exit with the report's code."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

from .errors import DbwardenError


def render(obj: Any, as_json: bool) -> str:
    if as_json:
        from .commands import document

        return json.dumps(document(obj), indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return obj.to_text()


def main(argv: Sequence[str] | None = None) -> int:
    from .commands import build_parser, run
    from .notebook.progress import TerminalProgress

    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    try:
        args = build_parser().parse_args(argv)
        result = run(args, progress=TerminalProgress())  # one line per migration on stderr
        print(render(result, args.json))
        code = int(getattr(result, "exit_code", 0))
        if code == 1 and getattr(result, "error_line", None):
            print(f"dbwarden: error: {_one_line(result.error_line)}", file=sys.stderr)
        return code
    except DbwardenError as exc:
        if verbose:
            from .config import masked_traceback

            print(masked_traceback(exc), end="", file=sys.stderr)
        print(f"dbwarden: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dbwarden: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    from .config import mask_text

    return mask_text(" ".join(str(exc).split())) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
