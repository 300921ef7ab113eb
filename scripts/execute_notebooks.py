"""Execute the example notebooks and store their outputs, deterministically (see execute_notebooks.sh).

    python scripts/execute_notebooks.py [notebooks/NAME.ipynb ...]    # default: every notebooks/*.ipynb

Each notebook runs top to bottom in a fresh kernel of this Python, whatever kernelspecs are installed (the
kernel starts in notebooks/, like under nbval), with no live progress (``DBWARDEN_PROGRESS=none``). Only
the ``text/plain`` form of each displayed object is stored, with stdout: it is what ``pytest --nbval``
compares (see notebooks/conftest.py) and it is deterministic by contract, while the HTML forms carry
durations, timestamps and a stylesheet per output (the HTML is snapshot-tested in tests/notebook/). Nothing
else that differs from run to run is stored either: no timing metadata, no widget state, no Python version.
A cell that fails stops the run and the notebook is left as it was.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import default

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL_ENV = {"DBWARDEN_PROGRESS": "none"}
STORED = "text/plain"
LANGUAGE_INFO = {"name": "python", "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "nbconvert_exporter": "python", "pygments_lexer": "ipython3"}


def normalize(nb: nbformat.NotebookNode) -> None:
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if "outputs" in cell:
            cell.outputs = coalesced(cell.outputs)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None and STORED in data:  # else tests/test_notebooks.py says which cell shows nothing comparable
                output["data"] = {STORED: data[STORED]}
                output["metadata"] = {}


def coalesced(outputs: list) -> list:
    """Consecutive stream outputs of one stream as one: where the kernel splits them depends on timing (a
    subprocess between two prints), and nbval compares them coalesced too."""
    out: list = []
    for output in outputs:
        if out and output.get("output_type") == "stream" and out[-1].get("output_type") == "stream" \
                and out[-1].get("name") == output.get("name"):
            out[-1]["text"] = "".join(out[-1]["text"]) + "".join(output["text"])
        else:
            out.append(output)
    return out


class CurrentEnvironment(KernelSpecManager):
    """Every kernel name means this Python (what nbval's --nbval-current-env does), whatever kernelspecs
    are installed elsewhere."""

    def get_kernel_spec(self, kernel_name: str):
        import ipykernel.kernelspec

        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


class CurrentEnvironmentKernelManager(AsyncKernelManager):
    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return CurrentEnvironment(data_dir=self.data_dir)


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    client = NotebookClient(nb, kernel_manager_class=CurrentEnvironmentKernelManager, kernel_name="python3",
                            timeout=900, record_timing=False, store_widget_state=False,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    normalize(nb)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return time.monotonic() - started


def main(argv: list[str]) -> int:
    os.environ.update(KERNEL_ENV)  # the kernel inherits them
    paths = [Path(a).resolve() for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        shown = os.path.relpath(path)
        try:
            seconds = execute(path)
        except Exception as exc:  # noqa: BLE001  one line per failed notebook
            print(f"{shown}: failed, left as it was: {exc}", file=sys.stderr)
            return 1
        print(f"{shown}: executed and stored ({seconds:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
