"""Backend parameters for the server tests, generated from the registry (``dbwarden_nb.backends.BACKENDS``): a backend
added there enters every test parametrized with :func:`backends` by itself, and fails there until its fixtures and
flavour exist, instead of being silently left out of a hand-written list."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from dbwarden_nb.backends import BACKENDS, get_backend

# Why a backend cannot take part in a kind of test, shared by the tests that skip it for that reason.
IN_PROCESS = "chDB runs inside this process only: no second process can share its database"
NO_SERVER = "an engine in this process: there is no server to end the connection"
NO_SEEDS = {name: "no seeds on this backend (supports_seeds is False)" for name in BACKENDS
            if not get_backend(name).supports_seeds}


def backends(lacking: Mapping[str, str] | None = None) -> list[object]:
    """Every registered backend, as parameters; ``lacking``: backend → why it truly lacks what the test needs.
    Those stay in the list, skipped with their reason, so that the report says what was not run and why."""
    lacking = dict(lacking or {})
    unknown = sorted(set(lacking) - set(BACKENDS))
    if unknown:  # a stale entry (a backend renamed or removed) must not hide anything
        raise ValueError(f"not registered backends in a skip table: {', '.join(unknown)}")
    return [pytest.param(name, id=name, marks=pytest.mark.skip(reason=f"{name}: {lacking[name]}"))
            if name in lacking else name for name in BACKENDS]


def url_fixture(name: str) -> str:
    """The tests/conftest.py fixture giving a fresh database URL of backend ``name`` (``<name>_url``; PostgreSQL's is
    ``pg_url``): a backend without one fails its tests by the fixture's name."""
    return {"postgresql": "pg_url"}.get(name, f"{name}_url")
