"""The declared backend protocol: the shared Renderer has a method for every operation kind, and a kind a backend
does not render is refused with one line naming the backend and the step."""

from __future__ import annotations

import pytest

from dbwarden_nb.backends import BACKENDS, get_backend
from dbwarden_nb.backends.base.render import RENDERED_KINDS, Renderer, undeclared_kinds
from dbwarden_nb.errors import BackendError
from dbwarden_nb.operations import CreateDomain


def test_every_operation_kind_is_declared():
    assert undeclared_kinds() == []
    assert all(callable(getattr(Renderer, f"render_{k}")) for k in RENDERED_KINDS)


@pytest.mark.parametrize("name", list(BACKENDS))
def test_unrendered_kind_is_one_line(name):
    backend = get_backend(name)
    op = CreateDomain("positive", {"type": "integer", "checks": ["VALUE > 0"]})
    if backend.renders(op.kind):
        assert backend.render(op)
        return
    with pytest.raises(BackendError) as caught:
        backend.render(op)
    # the reason is the backend's own, from its ``unsupported`` table
    assert str(caught.value) == f"{name} cannot {op.describe()}: {backend.unsupported['create_domain']}"
