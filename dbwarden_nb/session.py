"""The process-wide state of dbwarden_nb, in one object: :data:`SESSION`.

A long-lived process (a notebook kernel) runs many commands; what they share lives here rather than in
module globals scattered through the package, so it is visible in one place and a test can reset it:

- ``secrets``: every password seen in a configured URL, masked wherever it turns up (``config.mask_text``);
- ``registry``: the databases declared by ``database_config()`` outside a dbwarden.py (set by ``config``);
- ``cache_served``: the model-cache entries this process took a snapshot from (the CLI names the cache's limits);
- ``views``: how engine objects show themselves beyond text (HTML, pandas, ERD). The notebook layer registers
  them when it is imported; engine objects call :func:`view` and never import the notebook.

This module imports nothing from dbwarden_nb: every layer may use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Shorter passwords would mask ordinary words everywhere ("pg" in "pg_catalog"); they are masked where known.
REMEMBERED_LENGTH = 4


@dataclass
class Session:
    secrets: set[str] = field(default_factory=set)
    registry: Any = None
    cache_served: list[Path] = field(default_factory=list)
    views: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # The module that registers ``views``, imported the first time one is needed. The package's __init__ (the
    # top of the import graph, which may name any layer) sets it to the notebook layer.
    view_provider: str | None = None

    def remember(self, passwords: Iterable[str]) -> None:
        self.secrets.update(password for password in passwords if len(password) >= REMEMBERED_LENGTH)

    def register_view(self, name: str, fn: Callable[..., Any]) -> None:
        self.views[name] = fn


SESSION = Session()


def view(name: str, obj: Any, **kw: Any) -> Any:
    """``obj`` shown as ``name`` (``mimebundle``, ``frame``, ``erd``) by the registered view."""
    if name not in SESSION.views and SESSION.view_provider is not None:
        importlib.import_module(SESSION.view_provider)
    try:
        fn = SESSION.views[name]
    except KeyError:
        raise ImportError(f"dbwarden_nb: no {name} view is registered (import dbwarden_nb.notebook)") from None
    return fn(obj, **kw)
