"""Every registered backend × every operation kind: the backend renders it (offline, through its own ``adapt``),
or declares in its ``unsupported`` table that the engine cannot (refused when the plan is made), or the pair is in
GAPS with the reason. A new kind, or a new backend, enters this table by itself: a pair it
cannot render is a failure here, never a user's ``<backend> cannot …`` at make-migrations time."""

from __future__ import annotations

import re

import pytest

from dbwarden_nb.backends import get_backend
from dbwarden_nb.differ import Differ
from dbwarden_nb.errors import BackendError
from dbwarden_nb.operations import Plan
from unit.changes import CHANGES, KINDS, representative
from unit.samples import operation_classes, registered

# What a backend cannot render today although the engine can, with why ("bug": the backend should render it). What
# the engine itself cannot do is no gap: the backend declares it in its ``unsupported`` table (base/render.py), which
# refuses the plan when it is made; the tests below read those tables. A pair listed here that starts to render
# fails (strict), so the table never holds a stale entry.
GAPS: dict[tuple[str, str], tuple[str, str]] = {}


def declared(backend: str) -> dict[str, str]:
    """The kinds the backend declares it cannot run at all (its ``unsupported`` table's kind entries), with why."""
    return {k: why for k, why in get_backend(backend).unsupported.items() if isinstance(k, str)}


def _cases() -> list[object]:
    cases = []
    for backend in registered():
        for kind in operation_classes():
            gap = GAPS.get((backend, kind))
            marks = [pytest.mark.xfail(strict=True, raises=BackendError, reason=f"{gap[0]}: {gap[1]}")] if gap else []
            cases.append(pytest.param(backend, kind, marks=marks, id=f"{backend}-{kind}"))
    return cases


@pytest.mark.parametrize(("backend", "kind"), _cases())
def test_backend_renders_operation(backend: str, kind: str) -> None:
    op, old, new = representative(backend, kind)
    engine = get_backend(backend)
    adapted = engine.adapt(Plan((op,)), old, new)  # SQLite turns an added constraint into a rebuild, …
    refused = [(step, reason) for step in adapted if (reason := engine.refusal(step)) is not None]
    if refused:  # declared by the backend's own table: refused at planning time, and by render() alike
        step, reason = refused[0]
        assert reason.startswith(f"{backend} cannot ") and "\n" not in reason
        with pytest.raises(BackendError, match="^" + re.escape(reason) + "$"):
            engine.render(step)
        return
    statements = [s for step in adapted for s in engine.render(step)]
    if kind != "remove_enum_value":  # the one step that renders nothing: a value cannot be removed
        assert statements, f"{backend} renders {op.describe()} as nothing"
    assert all(s.sql.strip() for s in statements)


def test_every_kind_has_a_representative() -> None:
    assert set(KINDS) == set(operation_classes()), "a new operation kind needs a change in KINDS (and its renderers)"


def test_gaps_name_registered_backends_and_real_kinds() -> None:
    stale = {pair for pair in GAPS if pair[0] not in registered() or pair[1] not in operation_classes()}
    assert not stale
    moved = {pair for pair in GAPS if pair[1] in declared(pair[0])}
    assert not moved, f"declared by the backend now: remove from GAPS {sorted(moved)}"


@pytest.mark.parametrize("backend", registered())
def test_unsupported_tables_name_real_kinds_with_a_reason(backend: str) -> None:
    for key, why in get_backend(backend).unsupported.items():
        kind = key if isinstance(key, str) else key[0]
        assert kind in operation_classes(), f"{backend}.unsupported names no operation kind: {key!r}"
        assert why.strip() and "\n" not in why, f"{backend}.unsupported[{key!r}] needs a one-line reason"


@pytest.mark.parametrize("backend", registered())
def test_a_plan_the_backend_cannot_run_is_refused_when_it_is_made(backend: str) -> None:
    """Each change holding a kind the backend declares unsupported: ``plan`` (what make-migrations and diff call
    first) refuses it in one line naming the backend, the object and the reason, before anything renders."""
    engine = get_backend(backend)
    for kind, why in declared(backend).items():
        change, direction = KINDS[kind]
        old, new, renames = CHANGES[change](backend)
        if direction != "up" or kind not in {op.kind for op in Differ(old, new, renames).plan()}:
            continue  # planned from the other side, or made by adapt() alone (a rebuild)
        with pytest.raises(BackendError) as caught:
            engine.plan(old, new, renames)
        message = str(caught.value)
        assert message.startswith(f"{backend} cannot ") and message.endswith(why) and "\n" not in message, message


@pytest.mark.parametrize("backend", registered())
def test_whole_plans_render_both_ways(backend: str) -> None:
    """Each change as make-migrations plans it on the backend (``plan``: diff, adapt, assess), upgrade and
    rollback: beyond single steps, what ordering and adaptation put together renders too."""
    engine = get_backend(backend)
    unrenderable = {KINDS[k][0] for (b, k) in GAPS if b == backend} | {KINDS[k][0] for k in declared(backend)}
    for name, change in CHANGES.items():
        if name in unrenderable:
            continue
        old, new, renames = change(backend)
        plan = engine.plan(old, new, renames)
        assert plan, name
        back = engine.adapt(plan.reverse(), new, old)
        for step in (*plan, *back):
            engine.render(step)


def test_an_attribute_entry_refuses_that_attribute_only() -> None:
    """``("alter_domain", "type")``: PostgreSQL alters a domain's checks and default in place, never its type."""
    engine = get_backend("postgresql")
    old, new, renames = CHANGES["domain check"]("postgresql")
    assert engine.render_plan(engine.plan(old, new, renames))
    retyped = new.replace(domains={"positive": {**new.domains["positive"], "type": "bigint"}})
    with pytest.raises(BackendError) as caught:
        engine.plan(old, retyped, renames)
    assert str(caught.value) == ("postgresql cannot alter domain positive: checks, type: "
                                 + engine.unsupported[("alter_domain", "type")])
