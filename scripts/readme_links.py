"""The README's Binder link, written from the one address the README sets for the repository.

    python scripts/readme_links.py           # rewrite the [binder] link from the [repository] one
    python scripts/readme_links.py --check   # exit 1 when they disagree (tests/test_readme.py checks it too)

The repository's address is the ``[repository]: https://github.com/OWNER/NAME`` link definition at the end of
README.md: set it there (for a fork, its own address) and run this script; the badge at the top links to
``[binder]``, which this script derives from it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
REPOSITORY = re.compile(r"^\[repository\]: https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)/?$", re.MULTILINE)
BINDER = re.compile(r"^\[binder\]: \S+$", re.MULTILINE)
FIRST_NOTEBOOK = "notebooks%2Fquickstart.ipynb"  # what Binder opens in JupyterLab


def binder_link(text: str) -> str:
    """The Binder address of the repository the README names."""
    found = REPOSITORY.findall(text)
    if len(found) != 1:
        raise SystemExit(f"README.md must set [repository]: https://github.com/OWNER/NAME exactly once ({len(found)} found)")
    owner, name = found[0]
    return f"https://mybinder.org/v2/gh/{owner}/{name}/HEAD?labpath={FIRST_NOTEBOOK}"


def with_binder_link(text: str) -> str:
    if len(BINDER.findall(text)) != 1:
        raise SystemExit("README.md must define [binder]: … exactly once")
    return BINDER.sub(lambda _: f"[binder]: {binder_link(text)}", text)


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    updated = with_binder_link(text)
    if "--check" in argv:
        if updated != text:
            print(f"README.md: the [binder] link does not match [repository]; run python {Path(__file__).name}",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
