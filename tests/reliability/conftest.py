"""The ``target`` fixture of the reliability tests: a project on a fresh database of the backend named by
``@pytest.mark.parametrize("target", [...], indirect=True)``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `harness` stays importable under any --import-mode
from harness import FLAVORS, Target


@pytest.fixture
def target(request, tmp_path) -> Iterator[Target]:
    flavor = FLAVORS[request.param]
    target = Target(flavor, request.getfixturevalue(flavor.fixture), tmp_path / "project")
    yield target
    target.stop()
