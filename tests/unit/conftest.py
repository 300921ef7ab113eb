"""The unit suite imports no project's models, so the root conftest's per-test sweep of sys.modules (a realpath
of every loaded module's file, about 0.1 s a test under load) is not needed here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _forget_project_modules():
    yield
