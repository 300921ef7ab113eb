"""The explorer: its controller end to end on SQLite (no browser, no ipywidgets), and the ipywidgets view over it
driven by setting values and clicking buttons."""

from __future__ import annotations

import html
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.notebook.widgets import TABS, ExplorerController, Preview, html_of
from dbwarden_nb.reports import DiffReport, RunReport
from dbwarden_nb.schema import Table

USERS = """
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(50))
        nickname: Mapped[str | None] = mapped_column(sa.String(20))
    """
CHANGED = """
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(50))
        nickname: Mapped[str | None] = mapped_column(sa.String(20))
        email: Mapped[str | None] = mapped_column(sa.String(100), index=True)

    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    """
DROPPED = """
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(50))
    """


@pytest.fixture
def project(tmp_path: Path, sqlite_url: str) -> ProjectDir:
    """users applied as migration 0001; the models then add a column, an index and a table."""
    proj = ProjectDir(tmp_path / "proj", sqlite_url)
    proj.models(USERS)
    proj.ok("make-migrations", "add users")
    proj.ok("migrate")
    proj.models(CHANGED)
    return proj


def controller(project: ProjectDir) -> ExplorerController:
    return ExplorerController(dw.project(project.root))


def test_the_controller_needs_no_ipywidgets() -> None:
    probe = ("import sys, dbwarden_nb.notebook.widgets as w; "
             "print(sorted({'ipywidgets', 'IPython'} & {m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_controller_end_to_end(project: ProjectDir) -> None:
    c = controller(project)
    assert c.database == "primary" and c.databases() == ["primary"]
    assert c.tables() == ["users"] and c.tables("SER") == ["users"] and c.tables("u*") == ["users"]
    assert c.tables("zzz") == [] and c.error is None

    table = c.select("users")
    assert isinstance(table, Table) and c.detail() is table
    assert [col.name for col in table.columns] == ["id", "name", "nickname"] and table.primary_key.columns == ("id",)
    assert list(c.detail_snapshot().tables) == ["users"]
    assert [op.describe() for op in c.table_diff().plan] == ["add column users.email VARCHAR(100)",
                                                             "create index ix_users_email on users (email)"]

    diff = c.diff()
    assert isinstance(diff, DiffReport) and len(diff.plan) == 3
    views = c.diff_views()
    assert list(views) == list(TABS)
    assert [op.kind for op in views["added"].plan] == ["create_table", "add_column", "create_index"]
    assert views["changed"].empty and views["removed"].empty
    assert views["SQL"].out == "sql" and any("CREATE TABLE" in s for s in views["SQL"].statements)

    assert not c.can_confirm
    preview = c.dry_run()
    assert isinstance(preview, Preview) and c.error is None
    assert preview.new.file is not None and preview.new.file.version == 2 and not preview.pending.result.planned
    assert preview.severity == "INFO" and not preview.needs_force and c.can_confirm
    assert [p.name for p in project.migration_files()] == ["0001_add_users.sql"]  # a dry run writes nothing
    assert "dry run: 1 migration(s) to apply" in preview.to_text()

    result = c.confirm()
    assert c.error is None, c.error
    assert isinstance(result, RunReport) and [a.version for a in result.result.applied] == [2]
    assert [p.name for p in project.migration_files()] == ["0001_add_users.sql", "0002_changes_from_the_explorer.sql"]
    assert c.preview is None and not c.can_confirm  # the next apply needs its own dry run
    assert c.tables() == ["orders", "users"] and c.diff().empty
    assert project.ok("diff", "--check").code == 0 and "pending: 0" in project.ok("status").out
    assert c.dry_run().empty and not c.can_confirm


def test_confirm_applies_pending_migrations_too(project: ProjectDir) -> None:
    project.ok("make-migrations", "add orders")  # on disk, not applied
    c = controller(project)
    preview = c.dry_run()
    assert [f.version for f in preview.pending.result.planned] == [2] and preview.new.file is None
    result = c.confirm()
    assert c.error is None and [a.version for a in result.result.applied] == [2]
    assert len(project.migration_files()) == 2


def test_confirm_needs_a_dry_run(project: ProjectDir) -> None:
    c = controller(project)
    assert c.confirm() is None
    assert c.error == "run the dry run first; confirm applies what it showed"
    assert len(project.migration_files()) == 1


def test_critical_changes_need_force(project: ProjectDir) -> None:
    project.models(DROPPED)
    c = controller(project)
    assert [op.kind for op in c.diff_views()["removed"].plan] == ["drop_column"]
    preview = c.dry_run()
    assert preview.severity == "CRITICAL" and preview.needs_force and not c.can_confirm
    assert c.confirm() is None and "tick force" in c.error
    assert len(project.migration_files()) == 1 and c.preview is preview  # still previewed: tick force, confirm
    c.force = True
    assert c.can_confirm
    result = c.confirm()
    assert c.error is None and [a.version for a in result.result.applied] == [2]
    assert [col.name for col in c.select("users").columns] == ["id", "name"]


def test_confirm_refuses_what_changed_since_the_dry_run(project: ProjectDir) -> None:
    c = controller(project)
    c.dry_run()
    project.models(DROPPED)
    assert c.confirm() is None and "changed since the dry run" in c.error
    assert c.preview is None and len(project.migration_files()) == 1
    c.dry_run()
    c.name = "another name"  # the file it would write changed
    assert c.preview is None and not c.can_confirm


def test_errors_are_one_line_strings(project: ProjectDir, tmp_path: Path) -> None:
    c = controller(project)
    assert c.select("nope") is None and c.error == "primary: no table 'nope' in the live database"
    c.use("primary")
    assert c.error is None
    broken = ProjectDir(tmp_path / "broken", "sqlite:////nonexistent/folder/x.db")
    b = controller(broken)
    assert b.tables() == [] and b.diff() is None and b.diff_views() == {}
    assert b.error.startswith("database 'primary': database_url: cannot connect to") and "\n" not in b.error
    assert b.dry_run() is None and b.error and not b.can_confirm
    c.use("elsewhere")
    assert c.error == "unknown database 'elsewhere' (configured: primary)" and c.database == "primary"


RENAMED = USERS.replace("nickname: Mapped", "handle: Mapped")  # the same column under another name


def test_a_dry_run_shows_only_what_confirm_does(project: ProjectDir, widgets) -> None:
    view = dw.explore(project.root)
    view.dry_run_button.click()  # the models changed, nothing pending: the new file alone, no "nothing to do"
    preview = view.controller.preview
    assert [type(part).__name__ for part in preview.parts()] == ["MakeMigrationsReport"]
    shown = visible(view.preview.value)
    assert "1 migration(s) to apply" in shown and "nothing to do" not in shown and "nothing to migrate" not in shown
    assert "nothing to do" not in preview.to_text() and "nothing to migrate" not in preview.to_text()

    project.ok("make-migrations", "add orders")  # now a pending file, and the models match it
    view.controller.refresh()
    view.dry_run_button.click()
    preview = view.controller.preview
    assert [f.version for f in preview.pending.result.planned] == [2] and preview.new.file is None
    assert [type(part).__name__ for part in preview.parts()] == ["RunReport"]
    shown = visible(view.preview.value)
    assert "nothing written" not in shown and "no changes" not in shown
    for stmt in dw.project(project.root).database().files()[1].upgrade:  # the exact SQL confirm runs
        assert stmt.sql + ";" in shown, stmt.sql
    assert "INSERT INTO" in shown and "dbwarden_migrations" in shown  # its history write too


def test_a_suggested_rename_is_one_click_away(project: ProjectDir, widgets) -> None:
    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    db.execute("INSERT INTO users (id, name, nickname) VALUES (1, 'Ada', 'countess')")
    db.commit()
    db.close()
    project.models(RENAMED)
    view = dw.explore(project.root)
    c = view.controller
    (rename,) = c.suggested_renames()
    assert (rename.flag, rename.spec) == ("--rename", "users.nickname:handle") and "pass --rename" in rename.suggestion
    (button,) = view.renames.children
    assert button.description == "rename: users.nickname:handle" and button.tooltip == rename.suggestion
    assert {op.kind for op in c.diff().plan} == {"add_column", "drop_column"}

    button.click()
    assert c.renames == [rename] and c.suggested_renames() == [] and view.error.value == ""
    assert [op.kind for op in c.diff().plan] == ["rename_column"]  # the plan, the tabs and the SQL follow
    assert "rename column" in visible(view.diff_tabs.children[1].value)
    assert "--rename users.nickname:handle" in visible(view.renames.children[-1].children[0].value)
    view.dry_run_button.click()
    assert "RENAME COLUMN" in visible(view.preview.value) and c.preview.severity == "WARN"  # readers may break
    view.force.value = True
    view.confirm_button.click()
    assert view.error.value == "", view.error.value
    written = project.migration_files()[-1].read_text()
    assert "RENAME COLUMN" in written and "DROP COLUMN" not in written
    db = sqlite3.connect(project.url.removeprefix("sqlite:///"))
    assert db.execute("SELECT handle FROM users WHERE id = 1").fetchone() == ("countess",)  # the data stayed
    db.close()
    assert c.renames == [] and c.diff().empty  # written into the migration: nothing left to accept

    project.models(RENAMED.replace("handle: Mapped", "alias: Mapped"))
    c.refresh()
    view._render_all()
    (again,) = c.suggested_renames()
    c.accept(again)
    c.forget_renames()
    assert c.renames == [] and c.suggested_renames() == [again]


def test_confirm_shows_the_exact_sql_that_ran(project: ProjectDir, widgets) -> None:
    project.ok("make-migrations", "add orders")
    project.models(CHANGED + "    total: Mapped[int | None] = mapped_column()\n")  # orders.total: a new file
    view = dw.explore(project.root)
    view.dry_run_button.click()
    view.confirm_button.click()
    assert view.error.value == "", view.error.value
    message = visible(view.message.value)
    assert "applied 2 migrations" in message and "the SQL that ran" in message
    for f in dw.project(project.root).database().files()[1:]:
        for stmt in f.upgrade:
            assert stmt.sql + ";" in message, (f.filename, stmt.sql)


def test_html_of_escapes_text() -> None:
    class Plain:
        def to_text(self) -> str:
            return "<b>x</b> & y"

    assert html_of(Plain()) == '<pre class="dbw-text">&lt;b&gt;x&lt;/b&gt; &amp; y</pre>'
    assert html_of(object(), fallback="<i>") == '<pre class="dbw-text">&lt;i&gt;</pre>'


# -- the view -------------------------------------------------------------------------------------


@pytest.fixture
def widgets():
    return pytest.importorskip("ipywidgets")


def visible(markup: str) -> str:
    """The text a browser shows of an HTML fragment (styles and tags left out)."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<style>.*?</style>", "", markup, flags=re.DOTALL)))


def test_explorer_widget_builds_and_applies(project: ProjectDir, widgets) -> None:
    view = dw.explore(project.root)
    c = view.controller
    assert isinstance(view.box, widgets.VBox) and view.box.children
    for part in (view.filter, view.picker, view.detail, view.diff_tabs, view.dry_run_button, view.force,
                 view.confirm_button, view.preview, view.error):
        assert isinstance(part, widgets.Widget)
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()
    assert view.picker.options == ("users",) and view.error.value == ""
    assert view.diff_tabs.titles == ("added (3)", "changed (0)", "removed (0)", "SQL (3)")
    assert "create table orders" in view.diff_tabs.children[0].value
    assert "CREATE INDEX" in visible(view.diff_tabs.children[3].value)

    view.filter.value = "zzz"
    assert view.picker.options == ()
    view.filter.value = "us"
    view.picker.value = "users"
    assert c.selected == "users" and "nickname" in view.detail.value and "email" in view.detail.value

    assert view.confirm_button.disabled
    view.dry_run_button.click()
    assert not view.confirm_button.disabled and "dry run" in view.preview.value and view.error.value == ""
    assert len(project.migration_files()) == 1
    view.confirm_button.click()
    assert view.error.value == "", view.error.value
    assert "changes from the explorer" in view.message.value  # the display layer's form of the RunReport
    assert view.confirm_button.disabled and view.preview.value == ""
    assert view.picker.options == ("users",)  # the filter "us" still applies
    view.filter.value = ""
    assert view.picker.options == ("orders", "users") and view.picker.value == "users"
    assert view.diff_tabs.titles == ("added (0)", "changed (0)", "removed (0)", "SQL (0)")
    assert project.ok("diff", "--check").code == 0


def test_explorer_widget_force_and_errors(project: ProjectDir, tmp_path: Path, widgets) -> None:
    project.models(DROPPED)
    view = dw.explore(dw.project(project.root), database="primary")
    view.confirm_button.click()  # no dry run yet: refused inside the widget
    assert "run the dry run first" in view.error.value and "dbw-error" in view.error.value
    view.dry_run_button.click()
    assert view.error.value == "" and view.confirm_button.disabled and "CRITICAL" in view.preview.value
    view.force.value = True
    assert not view.confirm_button.disabled
    view.confirm_button.click()
    assert view.error.value == "" and "changes from the explorer" in view.message.value

    broken = ProjectDir(tmp_path / "broken", "sqlite:////nonexistent/folder/x.db")
    view = dw.explore(broken.root)  # builds; the failure is shown, not raised
    assert "cannot connect to" in view.error.value and view.picker.options == ()
    view.dry_run_button.click()
    view.refresh_button.click()
    assert "cannot connect to" in view.error.value and view.confirm_button.disabled


def test_view_callbacks_never_raise(project: ProjectDir, widgets, monkeypatch: pytest.MonkeyPatch) -> None:
    view = dw.explore(project.root)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(view, "_render_apply", broken)
    view.dry_run_button.click()
    assert "RuntimeError: a bug over two lines" in view.error.value
