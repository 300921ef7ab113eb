"""The notebook face: HTML, pandas frames and ERDs of engine objects, widgets, the ``%dbwarden`` magic.

Importing this package registers its views in the session (``session.view``): engine objects show
themselves through them and never import this package. The renderers themselves (and pandas) are imported on
first display, so ``%load_ext dbwarden_nb`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from ..session import SESSION


def _mimebundle(obj: Any) -> dict[str, str]:
    from .display import mimebundle

    return mimebundle(obj)


def _frame(obj: Any, **kw: Any) -> Any:
    from .display import to_frame

    return to_frame(obj, **kw)


def _erd(obj: Any) -> Any:
    from .erd import erd

    return erd(obj)


SESSION.register_view("mimebundle", _mimebundle)
SESSION.register_view("frame", _frame)
SESSION.register_view("erd", _erd)
