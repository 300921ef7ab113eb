"""Regeneration keeps edits (issue 20): files generate-models writes carry a marker with the checksum of their text,
and a file edited since is never overwritten silently."""

from __future__ import annotations

from pathlib import Path

from roundtrip import adopt
from test_codegen_kept import SHOP


def test_regeneration_keeps_edits(sqlite_url: str, fresh_url, tmp_path: Path) -> None:
    """Written files carry a marker with the checksum of their text; a file edited since is never overwritten
    silently: the new version goes beside it and the report names it, ``--overwrite`` replaces it."""
    from dbwarden_nb.models.codegen import MARKER, edited

    project = adopt(tmp_path / "project", sqlite_url, "sqlite", SHOP["sqlite"], fresh_url(sqlite_url))
    folder = project.root / "models"
    orders = folder / "orders.py"
    assert orders.read_text().splitlines()[1].startswith(MARKER) and not edited(orders.read_text())
    again = project.ok("generate-models", "--output", "models")
    assert "edited" not in again.out and not list(folder.glob("*.new"))

    mine = orders.read_text() + "\n\ndef total(order: Orders) -> int:\n    return 0\n"
    orders.write_text(mine)
    assert edited(mine)
    kept = project.ok("generate-models", "--output", "models")
    assert "edited since generated, not overwritten" in kept.out and "orders.py" in kept.out, kept.out
    assert orders.read_text() == mine and not edited((folder / "orders.py.new").read_text())
    assert project.ok("--json", "generate-models", "--output", "models").json()["edited"] == ["orders.py"]
    assert project.cli("diff", "--check").code == 0  # the edited models still describe the database

    forced = project.ok("generate-models", "--output", "models", "--overwrite")
    assert "edited" not in forced.out and not (folder / "orders.py.new").exists()
    assert "def total" not in orders.read_text() and not edited(orders.read_text())

    gone = folder / "old_table.py"  # a generated module whose table is gone: deleted unless edited
    gone.write_text(orders.read_text().replace("\n", "\n# mine\n", 1))
    assert "kept old_table.py (edited; its table is gone)" in project.ok("generate-models", "--output", "models").out
    assert gone.exists()
    project.ok("generate-models", "--output", "models", "--overwrite")
    assert not gone.exists()
