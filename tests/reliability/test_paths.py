"""Paths never leave the project: a migration name, ``generate-models --output`` and ``migrations_dir`` that point
out of it (``..``, absolute paths, symbolic links, a migrations folder or ``.dbwarden`` that is a link out) are
refused with one line, and nothing is written outside the project folder (nor, when refused, inside it).

``init --path`` is left out on purpose: it creates a project where it is told to. ``--config`` only reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import ProjectDir
from test_bad_input import USERS, files_of, one_line


class Sandbox:
    """A project folder next to an ``outside`` folder; ``check()`` asserts the outside stayed as it was."""

    def __init__(self, tmp_path: Path, extra_config: str = "") -> None:
        self.outside = tmp_path / "outside"
        self.outside.mkdir()
        (self.outside / "keep.txt").write_text("untouched\n")
        self.project = ProjectDir(tmp_path / "proj", "sqlite:///./app.db", extra_config=extra_config)
        self.project.models(USERS)
        self.root = self.project.root
        self.before_outside = files_of(self.outside)

    def outside_unchanged(self) -> None:
        assert files_of(self.outside) == self.before_outside, "something was written outside the project"
        siblings = sorted(p.name for p in self.root.parent.iterdir())
        assert siblings == ["outside", "proj"], siblings

    def refused(self, *args: str, code: int, says: str) -> str:
        before = files_of(self.root)
        message = one_line(self.project.cli(*args), code)
        assert says in message, message
        assert files_of(self.root) == before, f"dbwarden {' '.join(args)} changed the project"
        self.outside_unchanged()
        return message


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


# -- migration names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["make-migrations", "new"])
@pytest.mark.parametrize("name", ["../x", "../../outside/evil", "/tmp/evil", "~/evil", "a/../../b", "..\\..\\x",
                                  "x\x00y", ".."])
def test_a_migration_name_that_reads_as_a_path_is_refused(sandbox: Sandbox, command: str, name: str) -> None:
    message = sandbox.refused(command, name, code=2, says="reads as a path")
    assert repr(name) in message


@pytest.mark.parametrize("name", ["add users/orders link", "x .. y", "ü/é"])
def test_a_name_with_a_slash_is_a_description(sandbox: Sandbox, name: str) -> None:
    sandbox.project.ok("make-migrations", name)
    sandbox.project.ok("new", name)
    names = [p.name for p in sandbox.project.migration_files()]
    assert len(names) == 2 and all("/" not in n and n.endswith(".sql") for n in names), names
    sandbox.outside_unchanged()


def test_a_name_leaves_nothing_outside_through_the_api(sandbox: Sandbox) -> None:
    """The Python API takes any text: its slug is the file name, always inside the migrations folder."""
    import dbwarden_nb as dw

    proj = dw.project(sandbox.root / "dbwarden.py")
    report = proj.make_migrations("../../outside/evil")
    assert report.path == "migrations/primary/0001_outside_evil.sql"
    assert proj.new("/tmp/evil").to_json()["written"] == "migrations/primary/0002_tmp_evil.sql"
    sandbox.outside_unchanged()


# -- generate-models --output ---------------------------------------------------------------------------------


@pytest.fixture
def migrated(sandbox: Sandbox) -> Sandbox:
    sandbox.project.ok("make-migrations", "initial")
    sandbox.project.ok("migrate")
    return sandbox


@pytest.mark.parametrize(("output", "says"), [
    ("../outside", "must be a path inside the project"),
    ("../outside/models", "must be a path inside the project"),
    ("models/../../outside", "must be a path inside the project"),
    ("/tmp/dbwarden-evil-models", "must be a path inside the project"),
    ("", "must be a path inside the project"),
    ("a\x00b", "must be a path inside the project"),
    ("link", "leaves the project (through a symbolic link)"),
    ("link/deeper", "leaves the project (through a symbolic link)"),
    ("dbwarden.py", "is not a folder: dbwarden.py is a file"),
    ("dbwarden.py/models", "is not a folder: dbwarden.py is a file"),
])
@pytest.mark.parametrize("single_file", [False, True])
def test_output_outside_the_project_is_refused(migrated: Sandbox, output: str, says: str, single_file: bool) -> None:
    (migrated.root / "link").symlink_to(migrated.outside, target_is_directory=True)
    args = ["generate-models", "--output", output] + (["--single-file"] if single_file else [])
    message = migrated.refused(*args, code=2, says=says)
    assert message.startswith("--output ")


def test_output_inside_the_project_through_a_link_is_fine(migrated: Sandbox) -> None:
    (migrated.root / "pkg").mkdir()
    (migrated.root / "inner").symlink_to(migrated.root / "pkg", target_is_directory=True)
    migrated.project.ok("generate-models", "--output", "inner/models")
    assert (migrated.root / "pkg" / "models" / "__init__.py").is_file()
    migrated.outside_unchanged()


def test_planted_links_at_the_written_names_are_not_followed(migrated: Sandbox) -> None:
    """A link planted where dbwarden writes (the file itself, or its temporary twin) is replaced, never written
    through."""
    out = migrated.root / "models_out"
    out.mkdir()
    for name in ("models.py", "models.py.tmp"):
        (out / name).symlink_to(migrated.outside / "keep.txt")
    migrated.project.ok("generate-models", "--output", "models_out", "--single-file")
    assert not (out / "models.py").is_symlink() and "class User" in (out / "models.py").read_text()
    folder = migrated.root / "migrations" / "primary"
    (folder / "0002_planted.sql.tmp").symlink_to(migrated.outside / "keep.txt")
    migrated.project.ok("new", "planted")
    assert "dbwarden migration 0002" in (folder / "0002_planted.sql").read_text()
    migrated.outside_unchanged()


# -- migrations_dir and .dbwarden -----------------------------------------------------------------------------

COMMANDS = [["make-migrations", "initial"], ["new", "x"], ["migrate"], ["status"], ["make-migrations", "--offline", "i"]]


@pytest.mark.parametrize("migrations_dir", ["../outside/migrations", "/tmp/dbwarden-evil-migrations",
                                            "migrations/../../outside"])
def test_migrations_dir_outside_the_project_is_refused(tmp_path: Path, migrations_dir: str) -> None:
    sandbox = Sandbox(tmp_path, extra_config=f"\n                migrations_dir={migrations_dir!r},")
    for args in COMMANDS:
        message = sandbox.refused(*args, code=1, says="leads outside the project folder")
        assert f"migrations_dir {migrations_dir!r}" in message and "database 'primary'" in message
    assert not Path("/tmp/dbwarden-evil-migrations").exists()


@pytest.mark.parametrize("link", ["migrations", "migrations/primary", ".dbwarden", ".dbwarden/primary"])
def test_a_state_folder_that_is_a_link_out_is_refused(sandbox: Sandbox, link: str) -> None:
    (sandbox.root / link).parent.mkdir(parents=True, exist_ok=True)
    if (sandbox.root / link).exists():
        (sandbox.root / link).rmdir()
    (sandbox.root / link).symlink_to(sandbox.outside, target_is_directory=True)
    for args in COMMANDS:
        sandbox.refused(*args, code=1, says="leads outside the project folder")


def test_a_state_folder_linked_inside_the_project_is_fine(sandbox: Sandbox) -> None:
    (sandbox.root / "elsewhere").mkdir()
    (sandbox.root / "migrations").symlink_to(sandbox.root / "elsewhere", target_is_directory=True)
    sandbox.project.ok("make-migrations", "initial")
    assert (sandbox.root / "elsewhere" / "primary" / "0001_initial.sql").is_file()
    sandbox.outside_unchanged()


@pytest.mark.parametrize(("path", "says"), [("dbwarden.py", "File exists"), ("dbwarden.py/sub", "Not a directory"),
                                           ("a\x00b", "embedded null byte")])
def test_init_path_that_cannot_be_a_folder_is_refused(sandbox: Sandbox, path: str, says: str) -> None:
    """init creates a project where --path says (it is the one command outside any project); a path that cannot
    be a folder is one line, not a traceback."""
    message = sandbox.refused("init", "--path", path, code=2, says=says)
    assert message.startswith(f"init --path {path!r}: cannot create the project folder")
