"""Planning: a plan between two snapshots becomes a migration file, its upgrade and rollback rendered by the
backend (the rollback from the inverse operations) and, for a SQLite dev database, its dev sections.

Nothing here connects to a database or writes a file: ``api`` does (``make-migrations``, ``translate
--add-dev-sections``), and so does ``rebase``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backends.base import Backend
    from .differ import Renames
    from .migrations.files import MigrationFile, Statement
    from .operations import Operation, Plan
    from .schema import Snapshot


def migration_file(backend: Backend, plan: Plan, old: Snapshot, new: Snapshot, version: int, name: str,
                   renames: Renames | None = None) -> MigrationFile:
    """The migration file of ``plan`` (``old`` → ``new``) as make-migrations writes it: its upgrade, its rollback
    rendered from the inverse operations, the snapshots' checksums, and the checksum of the generated content."""
    from .migrations.files import MigrationFile

    undo = rollback_plan(backend, plan, old, new)
    mfile = MigrationFile(
        version=version,
        description=" ".join(name.split()),
        upgrade=tuple(render_steps(backend, plan)),
        rollback=tuple(rollback_statements(backend, plan, old, new, undo)),
        backend=backend.name,
        base=old.checksum,
        target=new.checksum,
        severity=plan.severity,
        rollback_severity=undo.severity,
        renames=renames.to_header() if renames else None,
    )
    return replace(mfile, generated=mfile.content_checksum)


def render_steps(backend: Backend, plan: Plan) -> list[Statement]:
    """The plan's statements, each step's checks of the data on its first one (run just before it)."""
    from .migrations.files import RowCheck

    out: list[Statement] = []
    for op in plan:
        statements = backend.render(op)
        checks = tuple(RowCheck(c.sql, c.what, c.hard) for c in (op.assessment.checks if op.assessment else ()))
        if checks and statements:
            statements[0] = replace(statements[0], checks=checks)
        out += statements
    return out


def rollback_plan(backend: Backend, plan: Plan, old: Snapshot, new: Snapshot) -> Plan:
    """The rollback of a plan (``old`` → ``new``): its reversed operations adapted to the backend like any plan, and
    assessed as a rollback (what it drops was written since the upgrade). A NOT NULL column without default that
    the upgrade dropped comes back holding its type's zero value, then loses the default: its values are not
    restored (the step is marked irreversible), but the rollback runs on a table with rows."""
    from .operations import AddColumn, AlterColumn, RebuildTable

    def zero(col: Any) -> str | None:
        empty = not col.nullable and col.default is None and col.identity is None and col.computed is None
        return backend.zero_value(col.type) if empty and backend.new_not_null_fill is None else None

    ops = []
    for op in backend.adapt(plan.reverse(), new, old):
        if isinstance(op, AddColumn) and zero(op.column) is not None:
            filled = replace(op.column, default=zero(op.column))
            ops += [AddColumn(op.parent, filled), AlterColumn(op.parent, filled, op.column)]
        elif isinstance(op, RebuildTable):  # a copy into a table with a column the old one lacks
            sources = {dict(op.renames).get(c.name, c.name) for c in op.old.columns}
            fills = tuple((c.name, value) for c in op.new.columns if c.name not in sources and (value := zero(c)))
            ops.append(replace(op, fills=fills) if fills else op)
        else:
            ops.append(op)
    return backend.assessed(plan.replace(operations=tuple(ops)), undoing=True)


def rollback_statements(backend: Backend, plan: Plan, old: Snapshot, new: Snapshot,
                        reverse: Plan | None = None) -> list[Statement]:
    """The rollback of a plan rendered (``reverse``: its :func:`rollback_plan`, when made already). A step whose
    upgrade cannot be undone is marked irreversible; where a migration can stop half-way, each statement says which
    upgrade statements it undoes (``-- dbwarden: undoes N-M``)."""
    reverse = rollback_plan(backend, plan, old, new) if reverse is None else reverse
    steps = _undone_steps(backend, plan, reverse)
    upgrades = plan.operations
    inverses = [o.reverse() for o in upgrades]
    out: list[Statement] = []
    for n, op in enumerate(reverse):
        statements = render_steps(backend, reverse.replace(operations=(op,)))
        # what the upgrade step destroys, as assessed on the engine (the step whose inverse this is): mostly the
        # mirrored one (the rollback undoes the steps in reverse order), else searched (quadratic at 2,000 tables)
        mirrored = len(upgrades) - 1 - n
        if 0 <= mirrored < len(upgrades) and inverses[mirrored] == op:
            upgrade: Operation | None = upgrades[mirrored]
        else:
            upgrade = next((o for o, inverse in zip(upgrades, inverses) if inverse == op), None)
        reason = (upgrade or op.reverse()).irreversible
        if reason and statements:
            statements[0] = replace(statements[0], irreversible=reason)
        out += [replace(s, undoes=steps[n]) for s in statements] if steps else statements
    return out


def _undone_steps(backend: Backend, plan: Plan, reverse: Plan) -> list[tuple[int, int]] | None:
    """For each operation of the rollback, the upgrade statements (first, last, from 1) of the step it undoes; None
    where a migration cannot stop half-way (it runs in one transaction), or where the rollback is not step for step
    the inverse of the upgrade (the backend folded or split steps), so that nothing is ever marked wrongly."""
    from .operations import AddConstraint

    rendered = [backend.render(op) for op in plan]
    if backend.transactional_ddl and all(s.transactional for statements in rendered for s in statements):
        return None
    spans, at = [], 1
    for op, statements in zip(plan, rendered):
        if not statements:
            return None
        # a constraint validated apart is in place once added: a validation that failed changed nothing, so the
        # step is undone from its ADD on (a migration that stopped at the VALIDATE can be rolled back)
        validated = 1 if isinstance(op, AddConstraint) and op.validate_apart and len(statements) > 1 else 0
        spans.append((at, at + len(statements) - 1 - validated))
        at += len(statements)
    inverses = {n: op.reverse() for n, op in enumerate(plan)}
    out = []
    for op in reverse:
        step = next((n for n, inverse in inverses.items() if inverse == op), None)
        if step is None:
            return None
        del inverses[step]
        out.append(spans[step])
    return None if inverses else out  # a step without its own undo: no marking at all


def dev_sections(dev_backend: Backend, mfile: MigrationFile, dev_old: Snapshot, dev_new: Snapshot,
                 renames: Renames | None = None) -> MigrationFile:
    """``mfile`` with its dev-upgrade/dev-rollback sections: the plan between the translated base and target
    snapshots, rendered by the dev backend (SPEC: translation during generation, one chain for both)."""
    plan = dev_backend.plan(dev_old, dev_new, renames)
    return replace(mfile, dev_backend=dev_backend.name, dev_upgrade=tuple(render_steps(dev_backend, plan)),
                   dev_rollback=tuple(rollback_statements(dev_backend, plan, dev_old, dev_new)))


def bare_renames(renames: Renames, old: Snapshot, new: Snapshot) -> Renames:
    """Renames keyed as in the translated snapshots: SQLite has one schema, its tables are keyed by bare name."""
    from .differ import Renames

    bare = lambda snap, key: snap.tables[key].name if key in snap.tables else key
    return Renames({bare(old, o): bare(new, n) for o, n in renames.tables.items()},
                   {(bare(new, t), c): n for (t, c), n in renames.columns.items()})
