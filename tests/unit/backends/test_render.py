"""Every registered backend × every operation kind: the backend renders it (offline, through its own ``adapt``),
or the pair is in GAPS with the reason. A new kind, or a new backend, enters this table by itself: a pair it
cannot render is a failure here, never a user's ``<backend> cannot …`` at make-migrations time."""

from __future__ import annotations

import pytest

from dbwarden_nb.backends import get_backend
from dbwarden_nb.errors import BackendError
from dbwarden_nb.operations import Plan
from unit.changes import CHANGES, KINDS, representative
from unit.samples import operation_classes, registered

NO_ENUM_TYPES = "enums are column types here (MySQL, MariaDB: ENUM(...)) or absent: no schema-level enum"
NO_SEQUENCES = "no CREATE SEQUENCE on this engine"
NO_DOMAINS = "domains are PostgreSQL's"
NO_REBUILDS = "tables are altered in place: only SQLite's and ClickHouse's adapt() plans rebuilds"
# What a backend cannot render today, with why. "unsupported": the engine has no such thing, and the backend
# should say so at planning time in its own table (issue 16: a backend ``unsupported`` table the differ consults),
# then these entries move there. "bug": the engine can do it and the backend should render it. A pair listed
# here that starts to render fails (strict), so the table never holds a stale entry.
GAPS: dict[tuple[str, str], tuple[str, str]] = {
    **{(b, k): ("unsupported", NO_ENUM_TYPES) for b in ("sqlite", "mysql", "mariadb", "clickhouse")
       for k in ("create_enum", "drop_enum", "add_enum_value", "remove_enum_value", "recreate_enum")},
    **{(b, k): ("unsupported", NO_SEQUENCES) for b in ("sqlite", "mysql", "clickhouse")
       for k in ("create_sequence", "drop_sequence", "alter_sequence")},
    **{(b, k): ("unsupported", NO_DOMAINS) for b in ("sqlite", "mysql", "mariadb", "clickhouse")
       for k in ("create_domain", "drop_domain", "alter_domain")},
    **{(b, "rebuild_table"): ("unsupported", NO_REBUILDS) for b in ("postgresql", "mysql", "mariadb")},
    ("mariadb", "alter_sequence"): ("bug", (
        "MariaDB has ALTER SEQUENCE, but the backend has no render_alter_sequence: "
        "'mariadb cannot alter sequence ticket_seq: increment' (issue 16)")),
    **{("clickhouse", k): ("unsupported", "ClickHouse has no triggers or routines dbwarden manages")
       for k in ("create_object", "drop_object", "replace_object")},
    **{("clickhouse", k): ("unsupported", (
        "ClickHouse snapshots hold no constraints (CHECK and ASSUME are not introspected); from_models drops a "
        "model's CheckConstraint without a word"))
       for k in ("add_constraint", "drop_constraint")},
}


def declared(backend: str) -> dict[str, str]:
    """What the backend itself declares it cannot do (kind → why), once backends carry an ``unsupported`` table."""
    return dict(getattr(get_backend(backend), "unsupported", None) or {})


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
    if kind in declared(backend):  # refused at planning time by the backend's own table: nothing to render
        assert declared(backend)[kind].strip(), f"{backend} declares {kind} unsupported without a reason"
        return
    op, old, new = representative(backend, kind)
    engine = get_backend(backend)
    adapted = engine.adapt(Plan((op,)), old, new)  # SQLite turns an added constraint into a rebuild, …
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
