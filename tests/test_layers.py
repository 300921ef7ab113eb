"""The import direction of dbwarden_nb (ARCHITECTURE.md): foundation → schema → operations → differ → backends →
engine services → planning → project → faces (cli, notebook). Every import counts: at module level, inside
functions and under ``TYPE_CHECKING``. No test needs a database."""

from __future__ import annotations

import argparse
import ast
import inspect
from pathlib import Path

import pytest

from dbwarden_nb.api import Project
from dbwarden_nb.commands import COMMANDS, Call

PACKAGE = Path(__file__).resolve().parents[1] / "dbwarden_nb"

# The rank of each top-level module or package of dbwarden_nb; an import may only go to the same rank or a lower one.
RANKS: dict[str, int] = {
    # foundation: imported by everyone, importing none of the layers above. config holds configuration values
    # (DatabaseConfig, URLs, masking) that backends and model loading read, so it sits here, not with the project.
    # The backend registry (backends/__init__.py: one line per backend, read without importing any) is one too.
    **dict.fromkeys(["errors", "entities", "_version", "session", "atomic", "parsed", "config", "registry", "sqllex"], 0),
    "schema": 1,
    "operations": 2,
    "differ": 3,
    "backends": 4,
    # engine services built on the backends
    **dict.fromkeys(["models", "translate", "translate_rules", "migrations", "listing", "live", "reports"], 5),
    "planning": 6,
    **dict.fromkeys(["database", "api", "rebase", "seeds", "hooks", "init", "commands"], 7),
    # the faces: the package's own __init__ (its public API), the console script, the notebook
    **dict.fromkeys(["", "__main__", "cli", "notebook"], 8),
}
FACES = {"cli", "notebook"}

# Edges that go the wrong way today (backends reach into model extraction/code generation and the migration file's
# Statement and lock lease). Remove them from here as they go; the test fails on any edge not listed. (The differ
# reads a backend's capability flags through the registry, rank 0.)
KNOWN_UPWARD = {
    ("backends", "models"),
    ("backends", "migrations"),
}


def _top(module: str) -> str:
    """``dbwarden_nb.models.cache`` → ``models``; the package itself → ``""``; the backend registry → ``registry``."""
    if module == "dbwarden_nb.backends":
        return "registry"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _type_only(tree: ast.Module) -> set[int]:
    """Lines of imports under ``if TYPE_CHECKING:``: read by type checkers only, no dependency at run time."""
    return {node.lineno for block in ast.walk(tree) if isinstance(block, ast.If)
            and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
            for stmt in block.body for node in ast.walk(stmt) if isinstance(node, (ast.Import, ast.ImportFrom))}


def imports() -> set[tuple[str, str, str]]:
    """(importing module, imported module, where) for every dbwarden_nb import in the package's source."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        package = module if is_package else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = _type_only(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in type_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    targets = [".".join(base + ([node.module] if node.module else []))]
                    if node.module is None:  # from . import seeds
                        targets = [f"{targets[0]}.{alias.name}" for alias in node.names]
                else:
                    targets = [node.module or ""]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target == "dbwarden_nb" or target.startswith("dbwarden_nb."):
                    found.add((module, target, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"))
    return found


def test_every_module_has_a_rank() -> None:
    tops = {_top(m) for m, _, _ in imports()} | {_top(t) for _, t, _ in imports()}
    assert tops <= set(RANKS), f"modules without a rank in tests/test_layers.py: {sorted(tops - set(RANKS))}"


def test_no_engine_module_imports_a_face() -> None:
    """The notebook registers its views when imported (session.view); the terminal progress is the CLI's."""
    wrong = sorted(where for module, target, where in imports()
                   if _top(target) in FACES and RANKS[_top(module)] < RANKS["cli"])
    assert not wrong, f"engine modules importing the CLI or the notebook: {wrong}"


def test_imports_go_one_way() -> None:
    wrong, known = [], set()
    for module, target, where in sorted(imports()):
        a, b = _top(module), _top(target)
        if RANKS[b] <= RANKS[a]:
            continue
        if (a, b) in KNOWN_UPWARD:
            known.add((a, b))
            continue
        wrong.append(f"{where}: {module} → {target}")
    assert not wrong, "lower layers importing higher ones:\n" + "\n".join(wrong)
    stale = KNOWN_UPWARD - known
    assert not stale, f"known exceptions that no longer occur, remove them from KNOWN_UPWARD: {sorted(stale)}"


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The rule would be empty if imports in function bodies were missed: the test's own parser must find one."""
    hits = [where for module, target, where in imports()
            if module == "dbwarden_nb.cli" and target == "dbwarden_nb.commands"]
    assert len(hits) >= 2  # cli imports commands inside render() and main()


@pytest.mark.parametrize("command", [c for c in COMMANDS if isinstance(c.run, Call)], ids=lambda c: c.name)
def test_commands_call_project_methods_by_keyword(command) -> None:
    """Each keyword is an option of the command (or the runner's ``progress``) and a parameter of the method, and
    every option of the command reaches it: the CLI, the magic and the Python API spell options alike."""
    call: Call = command.run
    parameters = inspect.signature(getattr(Project, call.method)).parameters
    parser = argparse.ArgumentParser()
    for a in command.args:
        parser.add_argument(*a.flags, **a.options)
    dests = {action.dest for action in parser._actions} - {"help"}
    assert set(call.keywords) <= set(parameters), set(call.keywords) - set(parameters)
    assert set(call.keywords) - {"progress"} == dests


def test_engine_objects_show_html_through_the_views_the_notebook_registers() -> None:
    """Nothing imports the notebook until an object is displayed; then it registers its views and the HTML is
    the notebook's, as when it was imported by hand."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from dbwarden_nb.schema import Snapshot\n"
            "snap = Snapshot('sqlite')\n"
            "assert 'dbwarden_nb.notebook' not in sys.modules\n"
            "bundle = snap._repr_mimebundle_()\n"
            "from dbwarden_nb.notebook.display import mimebundle, use_fixed_ids\n"
            "from dbwarden_nb.session import SESSION\n"
            "assert set(SESSION.views) == {'mimebundle', 'frame', 'erd'}\n"
            "use_fixed_ids(); first = snap._repr_mimebundle_(); use_fixed_ids(); assert first == mimebundle(snap)\n"
            "print(bundle['text/html'][:20])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('<div class="dbw dbw-')
