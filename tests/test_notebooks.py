"""The stored outputs of the example notebooks (notebooks/*.ipynb), without running them.

``pytest --nbval`` (scripts/test.sh) re-runs the notebooks and compares their text/plain and stdout with what
is stored; these tests make sure what is stored is worth comparing: every code cell was executed and shows
something, nothing stored varies from run to run or machine to machine (temp paths, ports, timestamps,
durations, passwords, widget ids), and each round-trip notebook ends by asserting its diff is empty.
Regenerate the outputs with ``bash scripts/execute_notebooks.sh``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
EXPECTED = {"quickstart", "roundtrip_sqlite", "roundtrip_postgresql", "roundtrip_mysql", "roundtrip_mariadb",
            "roundtrip_clickhouse", "explorer", "adoption", "programmable", "team_merge"}
SERVER_KINDS = ("postgresql", "mysql", "mariadb")  # roundtrip_<kind>.ipynb makes its database with <kind>_database()
ROUND_TRIPS = sorted(p for p in PATHS if p.stem.startswith("roundtrip_"))

# What must never be stored: it differs between runs or machines, or it is a secret.
FORBIDDEN = {
    "a temp path": re.compile(r"(/tmp/|/var/tmp/|/var/folders/|\\Temp\\|dbwarden-nb-[a-z-]+\w{6,})"),
    "a host and port": re.compile(r"\b(127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0)(:\d+)?\b|:\d{4,5}/"),
    "a database URL": re.compile(r"\b(postgresql|mysql|mariadb|clickhouse|sqlite)(\+\w+)?://(?!/\./)"),
    "a password": re.compile(r"://[^/\s:@]+:(?!\*\*\*@)[^@/\s]+@|password\s*[=:]\s*\S", re.IGNORECASE),
    "a timestamp": re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
    "a duration": re.compile(r"\b\d+(\.\d+)?\s?(ms|µs|seconds?)\b|\b\d+\.\d+\s?s\b"),
    "an object id": re.compile(r" at 0x[0-9a-f]+>"),
    "a render id": re.compile(r"\bdbw-[0-9a-f]{10}\b"),
}
STORED_MIME = {"text/plain"}  # scripts/execute_notebooks.py stores this form only: what nbval compares


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(path: Path) -> list[tuple[int, dict]]:
    return [(n, cell) for n, cell in enumerate(load(path)["cells"]) if cell["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def texts(output: dict) -> list[str]:
    """Every string an output stores, whatever its type."""
    if output["output_type"] == "stream":
        return ["".join(output["text"])]
    if output["output_type"] == "error":
        return [output["ename"], output["evalue"], *output["traceback"]]
    return ["".join(v) if isinstance(v, list) else json.dumps(v) for v in output.get("data", {}).values()]


def test_the_notebooks_are_there():
    assert {p.stem for p in PATHS} >= EXPECTED
    assert (NOTEBOOKS / "_support.py").exists() and (NOTEBOOKS / "nbval_sanitize.cfg").exists()


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_code_cell_ran_in_order_and_shows_something(path):
    cells = code_cells(path)
    assert cells, f"{path.name} has no code cell"
    counts = [cell["execution_count"] for _, cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts}: run it top to bottom in a fresh kernel "
        "(bash scripts/execute_notebooks.sh)")
    silent = [n for n, cell in cells if not cell["outputs"]]
    assert not silent, f"{path.name}: code cell(s) {silent} have no output; every cell must show what it did"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_stored_outputs_compare_as_plain_text(path):
    for n, cell in code_cells(path):
        for output in cell["outputs"]:
            kind = output["output_type"]
            where = f"{path.name}, cell {n}"
            assert kind != "error", f"{where}: stored an error: {output['ename']}: {output['evalue']}"
            if kind == "stream":
                assert output["name"] == "stdout", f"{where}: stored {output['name']}: {''.join(output['text'])!r}"
                continue
            assert set(output["data"]) == STORED_MIME, f"{where}: stores {sorted(output['data'])}, not text/plain only"
            assert not output.get("metadata"), f"{where}: output metadata stored"
        assert "execution" not in cell["metadata"], f"{path.name}, cell {n}: timing metadata stored"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_stored_outputs_hold_nothing_that_varies(path):
    problems = []
    for n, cell in code_cells(path):
        for output in cell["outputs"]:
            for text in texts(output):
                for what, pattern in FORBIDDEN.items():
                    match = pattern.search(text)
                    if match:
                        problems.append(f"cell {n}: {what}: {text[max(0, match.start() - 40):match.end() + 40]!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_metadata_is_stable(path):
    meta = load(path)["metadata"]
    assert "widgets" not in meta, "widget state stored (its model ids change on every run)"
    assert "version" not in meta.get("language_info", {}), "the Python version is stored"
    assert meta["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ROUND_TRIPS, ids=lambda p: p.stem)
def test_round_trip_notebooks_end_by_asserting_an_empty_diff(path):
    cells = code_cells(path)
    last = source(cells[-1][1])
    assert re.search(r"^assert \w+\.empty\b", last, re.MULTILINE), f"{path.name}: last cell does not assert the diff is empty"
    text = "".join(source(cell) for _, cell in cells)
    for step in ("make-migrations", "migrate", "generate-models", ".diff()"):
        assert step in text, f"{path.name} does not run {step}"
    assert "%%writefile dbwarden.py" in text, f"{path.name} does not write its own project"


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_the_server_notebooks_make_and_drop_their_database(kind):
    cells = code_cells(NOTEBOOKS / f"roundtrip_{kind}.ipynb")
    first, text = source(cells[0][1]), "".join(source(cell) for _, cell in cells)
    assert f"{kind}_database()" in first, f"roundtrip_{kind}.ipynb: its first cell must make the database"
    assert f'database_type="{kind}"' in text and ".drop()" in text


def test_the_adoption_notebook_adopts_a_database_made_by_plain_sql():
    """A database made by SQL (tables, a function, a trigger), a project made by init with no models, then the
    newcomer's path in order; the function and trigger are shown, and the last cell asserts the diff is empty."""
    cells = code_cells(NOTEBOOKS / "adoption.ipynb")
    first, text = source(cells[0][1]), "\n".join(source(cell) for _, cell in cells)
    assert "postgresql_database()" in first and ".drop()" in text
    assert "CREATE FUNCTION" in text and "CREATE TRIGGER" in text and "%%writefile" not in text  # no models written
    steps = ["%dbwarden init", "%dbwarden snapshot", "proj.erd()", "%dbwarden generate-models", "%dbwarden diff --check",
             "%dbwarden baseline", "%dbwarden make-migrations", "%dbwarden migrate", "proj.diff(0, 1)", "proj.history()"]
    assert [text.index(step) for step in steps] == sorted(text.index(step) for step in steps), "steps out of order"
    shown = "\n".join(t for _, cell in cells for output in cell["outputs"] for t in texts(output))
    assert "function touch_updated_at()" in shown and "trigger customers_touch on customers" in shown  # managed
    assert "ON DELETE CASCADE" in shown
    assert "DifferencesFound: %dbwarden diff: primary: 1 difference(s)" in shown  # drift fails the cell
    assert re.search(r"^assert \w+\.empty\b", source(cells[-1][1]), re.MULTILINE)


def test_the_programmable_notebook_changes_rolls_back_and_reads_back():
    """Functions, a trigger, an aggregate and an extension declared with the models; a changed body is one step and
    its rollback restores the old definition; generate-models reads them back with zero operations."""
    cells = code_cells(NOTEBOOKS / "programmable.ipynb")
    text = "\n".join(source(cell) for _, cell in cells)
    assert "postgresql_database()" in source(cells[0][1]) and ".drop()" in text
    for entity in ("Extension(", "Function(", "Trigger(", "Aggregate("):
        assert entity in text, entity
    shown = "\n".join(t for _, cell in cells for output in cell["outputs"] for t in texts(output))
    assert "! replace function touch_note()  [WARN: used by trigger notes_touch on notes" in shown  # users named
    assert "CREATE OR REPLACE FUNCTION" in shown
    assert "the old definition is back: True" in shown
    assert re.search(r"^assert roundtrip\.empty\b", source(cells[-1][1]), re.MULTILINE)


def load_notebooks_module(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"notebooks_{name}", NOTEBOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_a_server_that_cannot_be_had_stops_the_notebook_with_a_message_but_fails_in_ci(kind, monkeypatch):
    support = load_notebooks_module("_support")
    servers = support._servers()

    def refuse(asked: str):
        assert asked == kind
        raise servers.ProvisioningError(f"no {asked} here\n--- last lines of the server log ---")

    monkeypatch.setattr(servers, "server_for", refuse)
    for var in (support.ENV_VARS[kind], servers.ENV_VARS[kind], "CI"):
        monkeypatch.delenv(var, raising=False)
    make = getattr(support, f"{kind}_database")
    with pytest.raises(support.ServerUnavailable) as caught:
        make()
    shown = "\n".join(caught.value._render_traceback_())  # what IPython shows instead of a traceback
    assert support.ENV_VARS[kind] in shown and f"no {kind} here" in shown and "server log" not in shown
    monkeypatch.setenv("CI", "true")  # in CI: the provisioning error itself, whole
    with pytest.raises(servers.ProvisioningError, match="server log"):
        make()
    monkeypatch.delenv("CI")
    monkeypatch.setenv(servers.ENV_VARS[kind], f"{kind}://root@db.invalid")  # a server named by a variable must work
    with pytest.raises(servers.ProvisioningError):
        make()


def test_nbval_skips_a_notebook_whose_server_cannot_be_had_outside_ci_only(monkeypatch):
    from types import SimpleNamespace

    module = load_notebooks_module("conftest")
    def cell(ename: str) -> SimpleNamespace:  # an nbval cell as the hook sees it, after it raised
        return SimpleNamespace(test_outputs=[{"output_type": "error", "ename": ename, "evalue": "no MySQL"}])

    stopped, failed = cell("ServerUnavailable"), cell("OperationalError")
    monkeypatch.delenv("CI", raising=False)
    assert "no MySQL" in module._server_unavailable(stopped)
    assert module._server_unavailable(failed) is None
    monkeypatch.setenv("CI", "true")
    assert module._server_unavailable(stopped) is None


def test_nbval_compares_text_plain_and_stdout_only():
    module = load_notebooks_module("conftest")
    skip = module.CompareOnly(("metadata",))
    for key in ("text/html", "text/markdown", "application/vnd.jupyter.widget-view+json", "image/png", "stderr",
                "traceback", "metadata", "execution_count", "output_type"):
        assert key in skip
    for key in ("data", "text/plain", "stdout", "ename", "evalue"):
        assert key not in skip


def test_the_sanitize_file_parses():
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((NOTEBOOKS / "nbval_sanitize.cfg").read_text())
    assert len(patterns) >= 4
    for regex, _ in patterns:
        re.compile(regex)
