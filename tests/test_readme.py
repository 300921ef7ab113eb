"""The README's links: the Binder badge opens the repository the README names, with no placeholder left."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_links():
    spec = importlib.util.spec_from_file_location("readme_links", ROOT / "scripts" / "readme_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_binder_badge_opens_the_repository_the_readme_names():
    links = readme_links()
    assert "[![Binder](https://mybinder.org/badge_logo.svg)][binder]" in README
    (binder,) = re.findall(r"^\[binder\]: (\S+)$", README, re.MULTILINE)
    (owner, name), = links.REPOSITORY.findall(README)
    assert binder == f"https://mybinder.org/v2/gh/{owner}/{name}/HEAD?labpath=notebooks%2Fquickstart.ipynb"
    assert links.main(["--check"]) == 0
    assert (ROOT / unquote(binder.partition("labpath=")[2])).exists()  # the notebook it opens
    assert not re.search(r"\bOWNER\b|<owner>|example\.com/", binder + "".join(links.REPOSITORY.findall(README)[0]))


def test_the_binder_link_follows_the_repository():
    links = readme_links()
    fork = README.replace(re.search(r"^\[repository\]: .*$", README, re.MULTILINE).group(),
                          "[repository]: https://github.com/someone/dbwarden_nb-fork")
    assert "[binder]: https://mybinder.org/v2/gh/someone/dbwarden_nb-fork/HEAD?labpath=" in links.with_binder_link(fork)
