"""The model-snapshot cache (models/cache.py): an unchanged model set is not imported again, and no change to
what the import reads (a model file, a helper module it imports, a new module in a model folder, the
configuration) is ever missed. Each command runs in a fresh process, as from a shell."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import dbwarden_nb as dw

MODELS = """\
import pathlib

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from helper import WIDTH

pathlib.Path(__file__).with_name("imports.log").open("a").write("x")  # one character per import


class Base(DeclarativeBase):
    pass


class A(Base):
    __tablename__ = "a"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(WIDTH))


class B(Base):
    __tablename__ = "b"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def config(model_paths: str = '["models/"]', extra: str = "") -> str:
    return textwrap.dedent(f"""\
        from dbwarden_nb import database_config

        database_config(database_name="primary", default=True, database_type="sqlite",
                        database_url="sqlite:///app.db", model_paths={model_paths}{extra})
        """)


class Project:
    def __init__(self, root: Path):
        self.root = root
        (root / "models").mkdir(parents=True)
        self.write("dbwarden.py", config())
        self.write("helper.py", "WIDTH = 20\n")
        self.write("models/main.py", MODELS)

    def write(self, rel: str, text: str) -> None:
        """Write a file dated well before the next command, as an edit from a minute ago would be (a file
        modified during a run is never recorded, so a fresh one would never be cached)."""
        path = self.root / rel
        path.write_text(text, encoding="utf-8")
        old = time.time() - 60
        os.utime(path, (old, old))

    def run(self, *args: str, path: tuple[str, ...] = ()) -> str:
        return self.run_both(*args, path=path)[0]

    def run_both(self, *args: str, path: tuple[str, ...] = ()) -> tuple[str, str]:
        """stdout and stderr of a command, run by the dbwarden_nb under test (not an installed one), with
        ``path`` added to ``sys.path``."""
        env = {k: v for k, v in os.environ.items() if k not in ("DBWARDEN_MODEL_CACHE", "PYTHONPATH")}
        env["PYTHONPATH"] = os.pathsep.join([str(Path(dw.__file__).resolve().parents[1]), *path])
        done = subprocess.run([sys.executable, "-m", "dbwarden_nb", *args], cwd=self.root, env=env,
                              check=False, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout, done.stderr

    def assert_cached(self) -> None:
        """The next command is served from the cache: the models are not imported."""
        self.run("diff")
        before = self.imports
        assert "no differences" in self.run("diff")
        assert self.imports == before

    @property
    def imports(self) -> int:
        log = self.root / "models" / "imports.log"
        return len(log.read_text()) if log.exists() else 0


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "app")
    p.run("make-migrations", "init")
    p.run("migrate")
    return p


def test_unchanged_models_are_not_imported_again(project: Project) -> None:
    project.assert_cached()
    before = project.imports
    assert "no changes" in project.run("make-migrations", "noop")
    assert project.imports == before  # served from the cache
    assert list((project.root / ".dbwarden" / "primary" / "cache").glob("models-*.pickle"))


def test_an_edited_model_file_is_seen_even_with_the_same_size_and_date(project: Project) -> None:
    project.assert_cached()
    path = project.root / "models" / "main.py"
    stat = path.stat()
    text = path.read_text().replace('__tablename__ = "b"', '__tablename__ = "c"')  # same size
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    out = project.run("diff")
    assert "create table c" in out and "drop table b" in out


def test_an_edited_helper_module_is_seen(project: Project) -> None:
    project.assert_cached()
    project.write("helper.py", "WIDTH = 30\n")
    assert "alter column a.name: type" in project.run("diff")


def test_a_new_module_in_a_model_folder_is_seen(project: Project) -> None:
    project.assert_cached()
    project.write("models/extra.py", textwrap.dedent("""\
        import sqlalchemy as sa

        from models.main import Base


        class Extra(Base):
            __tablename__ = "extra"
            id = sa.Column(sa.Integer, primary_key=True)
        """))
    assert "create table extra" in project.run("diff")


def test_a_configuration_change_is_seen(project: Project) -> None:
    project.assert_cached()
    project.write("dbwarden.py", config(extra=', exclude_tables=["b"]'))
    project.write("models/main.py", MODELS.replace('__tablename__ = "b"', '__tablename__ = "b2"'))
    out = project.run("diff")
    assert "create table b2" in out and "drop table b" not in out  # b is no longer this database's


def test_models_changed_in_memory_are_used_and_never_cached(project: Project) -> None:
    project.assert_cached()
    proj = dw.project(project.root / "dbwarden.py")
    db = proj.database()
    try:
        (table,) = [t for t in db.model_tables() if t.name == "b"]
        import sqlalchemy as sa

        table.append_column(sa.Column("added_in_memory", sa.Integer))
        assert "added_in_memory" in proj.diff().to_text()
    finally:
        for name in [n for n in sys.modules if n == "models" or n.startswith("models.") or n == "helper"]:
            del sys.modules[name]
        sys.path[:] = [p for p in sys.path if p != str(project.root)]
    assert "no differences" in project.run("diff")  # the files, not what the notebook changed


def test_a_served_snapshot_says_so_and_names_the_switch(project: Project) -> None:
    project.assert_cached()
    out, err = project.run_both("diff")
    assert "no differences" in out and "from the cache" in err and "DBWARDEN_MODEL_CACHE=0" in err
    project.write("helper.py", "WIDTH = 30\n")
    assert "from the cache" not in project.run_both("diff")[1]  # imported: nothing to say


def test_a_new_module_shadowing_a_helper_later_on_sys_path_is_seen(project: Project) -> None:
    """The helper comes from vendor/, which dbwarden.py appends to sys.path; a helper.py in the project root
    (first on sys.path) then shadows it, though no file the import loaded changed."""
    (project.root / "helper.py").unlink()
    (project.root / "vendor").mkdir()
    project.write("vendor/helper.py", "WIDTH = 20\n")
    project.write("dbwarden.py", "import pathlib, sys\nsys.path.append(str(pathlib.Path(__file__).parent / 'vendor'))\n" + config())
    project.assert_cached()
    project.write("helper.py", "WIDTH = 30\n")
    assert "alter column a.name: type" in project.run("diff")


def test_an_optional_import_whose_file_appears_is_seen(project: Project) -> None:
    project.write("models/main.py", MODELS.replace("from helper import WIDTH", textwrap.dedent("""\
        try:
            from local_settings import WIDTH
        except ImportError:
            from helper import WIDTH""")))
    project.assert_cached()
    project.write("local_settings.py", "WIDTH = 30\n")
    assert "alter column a.name: type" in project.run("diff")


def test_alternating_entry_points_each_hit_the_cache(project: Project) -> None:
    """Two sys.path variants (a console script and ``python -m``, another venv, a kernel) keep an entry each."""
    other = str(project.root / "elsewhere")
    project.assert_cached()
    project.run("diff", path=(other,))  # a miss: written beside the first entry
    before = project.imports
    for _ in range(2):
        assert "no differences" in project.run("diff")
        assert "no differences" in project.run("diff", path=(other,))
    assert project.imports == before
    assert len(list((project.root / ".dbwarden" / "primary" / "cache").glob("models-*.pickle"))) == 2


def test_the_cache_keeps_a_bounded_number_of_entries(project: Project) -> None:
    from dbwarden_nb.models.cache import KEEP

    for i in range(KEEP + 2):
        project.run("diff", path=(str(project.root / f"elsewhere{i}"),))
    entries = list((project.root / ".dbwarden" / "primary" / "cache").glob("models-*.pickle"))
    assert len(entries) == KEEP
    before = project.imports
    project.run("diff", path=(str(project.root / f"elsewhere{KEEP + 1}"),))  # the most recent is still there
    assert project.imports == before
