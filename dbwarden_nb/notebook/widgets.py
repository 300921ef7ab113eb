"""The explorer: ``dw.explore(proj)``.

:class:`ExplorerController` holds the state and the actions (pick a table, read its detail, diff the models
against the live database, dry-run and confirm the change) in plain Python, so tests and scripts drive it
without a browser; every action records a failure in ``error`` (one line, passwords masked) instead of raising.
:class:`ExplorerWidget` is a thin ipywidgets view over it: a table picker with a filter box, the detail pane,
the diff viewer (added / changed / removed / SQL), a button per rename the differ suggests (one click makes it a
``--rename`` / ``--rename-table`` of the diff, the dry run and the migration), and the guarded apply: "Dry run"
first, showing exactly what confirm runs (the pending files' ``migrate --sql`` script, the migration file it would
write, each only when there is one), then "Confirm", enabled only by a dry run that is still current, and for
WARN/CRITICAL changes only with "force" ticked; while it runs, the magic's live progress, and after it the SQL
that ran.

Applying means what the CLI does in two steps: write the next migration file (``make-migrations``) and apply
every pending migration (``migrate``). Confirm re-runs the dry run first and refuses when anything changed since
(the models, the migration files or the database), so what runs is what was shown.

ipywidgets is imported only by the view; the engine objects are rendered by the display layer
(``obj._repr_mimebundle_()``'s ``text/html``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import DbwardenError, MigrationError, UsageError

if TYPE_CHECKING:
    from ..api import Project
    from ..migrations.runner import Progress
    from ..reports import DiffReport, MakeMigrationsReport, Report, RunReport
    from ..schema import Snapshot, Table

DEFAULT_NAME = "changes from the explorer"
TABS = ("added", "changed", "removed", "SQL")
# the diff tab of an operation, by the first word of its kind (create_table, add_column, drop_index…)
GROUPS = {"create": "added", "add": "added", "drop": "removed", "remove": "removed"}
SEVERITIES = ("INFO", "WARN", "CRITICAL")


@dataclass(frozen=True)
class Rename:
    """A rename the differ suggests, as the flag that makes it one: ``--rename T.OLD:NEW`` or ``--rename-table``."""

    flag: str  # "--rename" | "--rename-table"
    spec: str  # TABLE.OLD:NEW | OLD:NEW
    suggestion: str  # the differ's sentence

    @classmethod
    def of(cls, suggestion: str) -> Rename | None:
        """The rename a suggestion names (``… if it is a rename, pass --rename users.name:full_name``), if any."""
        found = _SUGGESTED.search(suggestion)
        return cls(found.group(1), found.group(2), suggestion) if found else None

    def __str__(self) -> str:
        return f"{self.flag} {self.spec}"


_SUGGESTED = re.compile(r"\bpass (--rename(?:-table)?) (.+)$")


@dataclass(frozen=True)
class Preview:
    """A dry run: the migration file that would be written, and the exact script migrate would run first."""

    new: MakeMigrationsReport  # a dry run; ``new.file`` is None when the models match the latest migration
    pending: RunReport  # ``migrate --sql`` over the files already on disk: what they are, and their script

    @property
    def files(self) -> list[Any]:
        return [*self.pending.result.planned, *([self.new.file] if self.new.file is not None else [])]

    @property
    def empty(self) -> bool:
        return not self.files

    @property
    def severity(self) -> str:
        return max((f.severity for f in self.files), key=SEVERITIES.index, default="INFO")

    @property
    def needs_force(self) -> bool:
        """What ``migrate`` refuses without ``--force``: WARN/CRITICAL steps, rollbacks that cannot restore."""
        return self.severity != "INFO" or any(f.irreversible for f in self.files)

    @property
    def last_version(self) -> int | None:
        return max((f.version for f in self.files), default=None)

    @property
    def key(self) -> tuple[Any, ...]:
        """Equal for two dry runs that would do the same thing."""
        return (self.new.file.render() if self.new.file is not None else None,
                tuple((f.version, f.checksum) for f in self.pending.result.planned))

    @property
    def headline(self) -> str:
        if self.empty:
            return f"{self.new.database}: nothing to apply: no pending migration, and the models match the latest one"
        return (f"{self.new.database}: dry run: {len(self.files)} migration(s) to apply, severity {self.severity}"
                + ("; tick force to apply" if self.needs_force else ""))

    def parts(self) -> list[Report]:
        """What confirm would do, each part only when it does something: the pending files' script, then the
        migration file it writes (its SQL included)."""
        return ([self.pending] if self.pending.result.planned else []) + ([self.new] if self.new.file is not None else [])

    def ran(self) -> list[Any]:
        """What a confirm of this dry run ran, exactly: the pending files' script, then the new file."""
        return ([self.pending] if self.pending.result.planned else []) + ([self.new.file] if self.new.file else [])

    def to_text(self) -> str:
        return "\n".join([self.headline] + [part.to_text() for part in self.parts()])


class ExplorerController:
    """The explorer's state and actions, with no ipywidgets: what the view shows and what its buttons do."""

    def __init__(self, project: Project, database: str | None = None, name: str = DEFAULT_NAME):
        self.project = project
        self._database = project.database(database).name  # an unknown name fails here, like dw.project()
        self._name = name
        self.force = False
        self.selected: str | None = None
        self.preview: Preview | None = None
        self.result: Report | None = None  # what the last confirm applied
        self.error: str | None = None  # the first failure since the last user action began, one line
        self.last_exception: BaseException | None = None  # the exception behind ``error``, for debugging
        self.renames: list[Rename] = []  # accepted suggestions: passed to diff, dry run and confirm
        self.applied: Preview | None = None  # the dry run the last confirm applied (its exact SQL)
        self._snapshot: Snapshot | None = None
        self._diff: DiffReport | None = None

    # -- state set by the user ------------------------------------------------------------------

    @property
    def database(self) -> str:
        return self._database

    def databases(self) -> list[str]:
        return list(self.project.config.databases)

    def use(self, database: str) -> None:
        """Explore another configured database."""
        with self._attempt():
            self._database = self.project.database(database).name
            self.selected, self.renames = None, []
            self._invalidate()

    @property
    def name(self) -> str:
        """The description of the migration that confirm writes; changing it invalidates the dry run."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if value != self._name:
            self._name, self.preview = value, None

    def refresh(self) -> None:
        """Forget what was read: the live schema, the diff and the dry run."""
        with self._attempt():
            self._invalidate()

    # -- reading ----------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        """The live schema (read once until :meth:`refresh`)."""
        if self._snapshot is None:
            with self._attempt(clear=False):
                self._snapshot = self.project.snapshot(self.database)
        return self._snapshot

    def tables(self, filter: str = "") -> list[str]:
        """The live tables whose key contains ``filter`` (case-insensitive), or matches it as a glob."""
        import fnmatch

        snap = self.snapshot()
        if snap is None:
            return []
        pattern = filter.strip().lower()
        if any(c in pattern for c in "*?["):
            return [k for k in snap.tables if fnmatch.fnmatchcase(k.lower(), pattern)]
        return [k for k in snap.tables if pattern in k.lower()]

    def select(self, table: str | None) -> Table | None:
        with self._attempt():
            snap = self.snapshot()
            if table is not None and snap is not None and table not in snap.tables:
                raise UsageError(f"{self.database}: no table {table!r} in the live database")
            self.selected = table
        return self.detail()

    def detail(self) -> Table | None:
        """The selected table as the live database has it."""
        snap = self.snapshot()
        if snap is None or self.selected is None:
            return None
        return snap.tables.get(self.selected)

    def detail_snapshot(self) -> Snapshot | None:
        """The selected table alone, as a snapshot (a display the display layer always has)."""
        table, snap = self.detail(), self.snapshot()
        if table is None or snap is None:
            return None
        return snap.replace(tables={table.key: table}, views={}, enums={}, sequences={}, domains={})

    def diff(self) -> DiffReport | None:
        """The models against the live database, with the accepted renames (read once until :meth:`refresh`)."""
        if self._diff is None:
            with self._attempt(clear=False):
                self._diff = self.project.diff(self.database, **self._rename_args())
        return self._diff

    def suggested_renames(self) -> list[Rename]:
        """The renames the diff suggests that are not accepted yet."""
        report = self.diff()
        found = [Rename.of(s) for s in (report.plan.suggestions if report is not None else ())]
        return [r for r in found if r is not None and r not in self.renames]

    def accept(self, rename: Rename) -> None:
        """Take a suggested rename: from now on it is a rename in the diff, the dry run and the migration."""
        with self._attempt():
            if rename not in self.renames:
                self.renames.append(rename)
            self._diff = self.preview = None

    def forget_renames(self) -> None:
        with self._attempt():
            self.renames = []
            self._diff = self.preview = None

    def _rename_args(self) -> dict[str, Any]:  # rename=..., rename_table=...
        return {"rename": [r.spec for r in self.renames if r.flag == "--rename"],
                "rename_table": [r.spec for r in self.renames if r.flag == "--rename-table"]}

    def diff_views(self) -> dict[str, DiffReport]:
        """The diff split for the viewer's tabs: added, changed (with rename hints), removed, and the SQL."""
        report = self.diff()
        if report is None:
            return {}
        groups: dict[str, list[Any]] = {tab: [] for tab in TABS[:3]}
        for op in report.plan:
            groups[GROUPS.get(op.kind.split("_")[0], "changed")].append(op)
        views = {tab: replace(report, plan=report.plan.replace(operations=tuple(ops),
                                                               suggestions=report.plan.suggestions if tab == "changed" else ()),
                              statements=(), out="table", check=False)
                 for tab, ops in groups.items()}
        views["SQL"] = replace(report, out="sql", check=False)
        return views

    def table_diff(self) -> DiffReport | None:
        """The part of the diff that touches the selected table."""
        report = self.diff()
        if report is None or self.selected is None:
            return None
        ops = tuple(op for op in report.plan if op.table == self.selected)
        return replace(report, plan=report.plan.replace(operations=ops, suggestions=()), statements=(), out="table",
                       check=False)

    # -- applying ---------------------------------------------------------------------------------

    def dry_run(self) -> Preview | None:
        """What confirm would do: the next migration file (not written) and the migrations to apply."""
        self.preview = None
        with self._attempt():
            self.preview = self._preview()
        return self.preview

    @property
    def can_confirm(self) -> bool:
        """After a dry run with something to apply; WARN/CRITICAL changes need ``force`` too."""
        return self.preview is not None and not self.preview.empty and (self.force or not self.preview.needs_force)

    def confirm(self, progress: Progress | None = None) -> Report | None:
        """Write the previewed migration and apply it with the pending ones, if nothing changed since the dry run."""
        with self._attempt():
            preview = self.preview
            if preview is None:
                raise UsageError("run the dry run first; confirm applies what it showed")
            if preview.empty:
                raise UsageError(f"{self.database}: nothing to apply")
            if preview.needs_force and not self.force:
                raise UsageError(f"{self.database}: the changes are {preview.severity} or cannot be rolled back; "
                                 "tick force to apply them")
            if self._preview().key != preview.key:
                self.preview = None
                raise UsageError("the models, the migration files or the database changed since the dry run; "
                                 "run the dry run again")
            written = None
            if preview.new.file is not None:
                written = self.project.make_migrations(self.name, self.database, **self._rename_args()).path
            try:
                self.result = self.project.migrate(self.database, to_version=preview.last_version, force=self.force,
                                                   progress=progress)
                self.applied = preview
            except DbwardenError as exc:
                if written is None:
                    raise
                raise MigrationError(f"{written} was written, but migrate failed: {_one_line(exc)}") from exc
            finally:
                self.preview = None
                self.renames = [] if written is not None else self.renames  # written into the migration now
                self._invalidate()
            return self.result
        return None

    # -- errors -----------------------------------------------------------------------------------

    def report(self, exc: BaseException) -> None:
        """Record ``exc`` as the one-line ``error``."""
        from ..config import mask_text

        self.last_exception = exc
        text = _one_line(exc) if isinstance(exc, DbwardenError) else f"{type(exc).__name__}: {_one_line(exc)}"
        self.error = mask_text(text, self.project.config.secrets())

    @contextmanager
    def _attempt(self, clear: bool = True) -> Iterator[None]:
        if clear:
            self.error = self.last_exception = None
        try:
            yield
        except Exception as exc:  # noqa: BLE001  the explorer never raises into a widget callback
            if clear or self.error is None:  # a read's failure never hides the action's own
                self.report(exc)

    def _invalidate(self) -> None:
        self._snapshot = self._diff = self.preview = None

    def _preview(self) -> Preview:
        new = self.project.make_migrations(self.name, self.database, dry_run=True, **self._rename_args())
        pending = self.project.migrate(self.database, sql=True)  # nothing runs: the script migrate would run
        return Preview(new, pending)  # type: ignore[arg-type]  # one database: a RunReport


class ExplorerWidget:
    """The ipywidgets view of an :class:`ExplorerController`; display it, or ``display(explorer.box)``."""

    def __init__(self, controller: ExplorerController):
        import ipywidgets as w

        c = self.controller = controller
        self._syncing = False
        self.database = w.Dropdown(options=c.databases(), value=c.database, description="database")
        self.refresh_button = w.Button(description="Refresh", icon="refresh", tooltip="read the database again")
        self.filter = w.Text(placeholder="filter tables (text or glob)", continuous_update=True)
        self.picker = w.Select(options=[], rows=14, layout=w.Layout(width="100%"))
        self.detail = w.HTML()
        self.diff_tabs = w.Tab(children=[w.HTML() for _ in TABS])
        self.diff_tabs.titles = TABS
        self.renames = w.VBox([])  # a button per suggested rename, then the accepted ones
        self.name = w.Text(value=c.name, description="migration", layout=w.Layout(width="50%"))
        self.dry_run_button = w.Button(description="Dry run", icon="search", button_style="info")
        self.force = w.Checkbox(value=c.force, description="force (WARN/CRITICAL)", indent=False)
        self.confirm_button = w.Button(description="Confirm", icon="check", button_style="danger", disabled=True,
                                       tooltip="write the migration and apply it (after a dry run)")
        self.preview = w.HTML()
        self.progress = w.Box([])  # holds the live progress of a confirm while it runs
        self.message = w.HTML()
        self.error = w.HTML()
        picker = w.VBox([self.filter, self.picker], layout=w.Layout(width="30%"))
        self.box = w.VBox([
            w.HBox([self.database, self.refresh_button]),
            w.HBox([picker, w.Box([self.detail], layout=w.Layout(width="70%", overflow="auto"))]),
            self.diff_tabs,
            self.renames,
            w.HBox([self.name, self.dry_run_button, self.force, self.confirm_button]),
            self.preview, self.progress, self.message, self.error,
        ])
        self.database.observe(self._guard(self._on_database), names="value")
        self.refresh_button.on_click(self._guard(self._on_refresh))
        self.filter.observe(self._guard(self._on_filter), names="value")
        self.picker.observe(self._guard(self._on_pick), names="value")
        self.name.observe(self._guard(self._on_name), names="value")
        self.force.observe(self._guard(self._on_force), names="value")
        self.dry_run_button.on_click(self._guard(self._on_dry_run))
        self.confirm_button.on_click(self._guard(self._on_confirm))
        self._guard(self._render_all)()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    # -- events -----------------------------------------------------------------------------------

    def _on_database(self, change: Any) -> None:
        self.controller.use(change["new"])
        self._render_all()

    def _on_refresh(self, _: Any) -> None:
        self.controller.refresh()
        self._render_all()

    def _on_filter(self, change: Any) -> None:
        self._render_tables(change["new"])

    def _on_pick(self, change: Any) -> None:
        if self._syncing:  # the options changed under the picker, not the user's choice
            return
        self.controller.select(change["new"])
        self._render_detail()

    def _on_name(self, change: Any) -> None:
        self.controller.name = change["new"]
        self._render_apply()

    def _on_force(self, change: Any) -> None:
        self.controller.force = bool(change["new"])
        self._render_apply()

    def _on_dry_run(self, _: Any) -> None:
        self.message.value = ""
        self.controller.dry_run()
        self._render_apply()

    def _on_confirm(self, _: Any) -> None:
        from .progress import WidgetProgress

        live = WidgetProgress(show=False)  # the magic's progress: the statement running, its time, the count
        self.progress.children = (live.box,)
        try:
            result = self.controller.confirm(progress=live)
        finally:
            live.close()
            self.progress.children = ()
        applied = self.controller.applied if result is not None else None
        ran = "".join(html_of(part) for part in applied.ran()) if applied is not None else ""
        self.message.value = "" if result is None else html_of(result) + (
            f"<details><summary>the SQL that ran: the pending files' script, the file written</summary>{ran}</details>" if ran else "")
        self._render_all()

    def _on_accept(self, rename: Rename) -> None:
        self.controller.accept(rename)
        self._render_all()

    def _on_forget(self, _: Any) -> None:
        self.controller.forget_renames()
        self._render_all()

    # -- rendering --------------------------------------------------------------------------------

    def _render_all(self) -> None:
        self._render_tables(self.filter.value)
        self._render_detail()
        self._render_diff()
        self._render_renames()
        self._render_apply()

    def _render_renames(self) -> None:
        import ipywidgets as w

        c = self.controller
        rows: list[Any] = []
        for rename in c.suggested_renames():  # one click makes the suggestion a rename in the plan
            button = w.Button(description=f"rename: {rename.spec}", icon="exchange", tooltip=rename.suggestion,
                              layout=w.Layout(width="auto"))
            button.on_click(self._guard(lambda _, r=rename: self._on_accept(r)))
            rows.append(button)
        if c.renames:
            forget = w.Button(description="Forget renames", icon="undo", layout=w.Layout(width="auto"))
            forget.on_click(self._guard(self._on_forget))
            shown = ", ".join(html.escape(str(r)) for r in c.renames)
            rows.append(w.HBox([w.HTML(f"renames in the plan: <code>{shown}</code>"), forget]))
        for old in self.renames.children:
            old.close()
        self.renames.children = tuple(rows)

    def _render_tables(self, filter: str) -> None:
        options = self.controller.tables(filter)
        self._syncing = True
        try:
            self.picker.options = options
            if self.controller.selected in options:  # keep the selection while it is listed
                self.picker.value = self.controller.selected
        finally:
            self._syncing = False
        if self.picker.value != self.controller.selected:
            self.controller.selected = self.picker.value  # one of the controller's own tables (or None)
            self._render_detail()

    def _render_detail(self) -> None:
        c = self.controller
        table = c.detail()
        if table is None:
            self.detail.value = "<i>pick a table</i>"
            return
        one = c.detail_snapshot()
        changes = c.table_diff()
        parts = [html_of(table, fallback=one.to_text() if one is not None else None)]
        if changes is not None and not changes.empty:
            parts.append(html_of(changes))
        self.detail.value = "\n".join(parts)

    def _render_diff(self) -> None:
        views = self.controller.diff_views()
        titles = []
        for tab, child in zip(TABS, self.diff_tabs.children):
            view = views.get(tab)
            if view is None:
                child.value, count = "<i>no diff</i>", 0
            else:
                count = len(view.plan) if tab != "SQL" else len(view.statements)
                child.value = html_of(view) if count or tab == "SQL" else f"<i>nothing {html.escape(tab)}</i>"
            titles.append(f"{tab} ({count})")
        self.diff_tabs.titles = tuple(titles)

    def _render_apply(self) -> None:
        c = self.controller
        preview = c.preview
        if preview is None:
            self.preview.value = ""
        else:
            parts = [html_of(part) for part in preview.parts()]
            self.preview.value = "\n".join([f"<div><b>{html.escape(preview.headline)}</b></div>", *parts])
        self.confirm_button.disabled = not c.can_confirm
        self._render_status()

    def _render_status(self) -> None:
        error = self.controller.error
        self.error.value = (f'<div class="dbw-error" style="color: var(--jp-error-color1, #b00020)">'
                            f"{html.escape(error)}</div>") if error else ""

    def _guard(self, callback: Callable[..., None]) -> Callable[..., None]:
        """A callback that shows its failure in the error label, never as a traceback."""

        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as exc:  # noqa: BLE001  a widget callback never raises into ipywidgets
                self.controller.report(exc)
            self._render_status()

        return guarded


def explore(proj_or_path: Any = None, database: str | None = None) -> ExplorerWidget:
    """The explorer of a project (a Project, a dbwarden.py or its folder; default: found like the CLI)."""
    from ..api import Project

    project = proj_or_path if isinstance(proj_or_path, Project) else Project.load(proj_or_path)
    return ExplorerWidget(ExplorerController(project, database))


def html_of(obj: Any, fallback: str | None = None) -> str:
    """The display layer's HTML of an engine object; else its text (or ``fallback``), escaped."""
    bundle: Any = None
    render = getattr(obj, "_repr_mimebundle_", None)
    if render is not None:
        bundle = render()
    else:
        try:
            from .display import mimebundle
        except ImportError:
            pass
        else:
            try:
                bundle = mimebundle(obj)
            except Exception:  # noqa: BLE001  an object the display layer does not know: fall back to text
                bundle = None
    if isinstance(bundle, tuple):  # (data, metadata)
        bundle = bundle[0]
    if isinstance(bundle, dict) and bundle.get("text/html"):
        return str(bundle["text/html"])
    text = fallback
    if text is None:
        text = bundle.get("text/plain") if isinstance(bundle, dict) and bundle.get("text/plain") else None
    if text is None:
        text = obj.to_text() if hasattr(obj, "to_text") else repr(obj)
    return f'<pre class="dbw-text">{html.escape(text)}</pre>'


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
