"""The quickstart: a small shop on an embedded SQLite database, taken through the whole workflow.

Runs in a scratch copy of this folder, so it can be run again and again:
    python examples/quickstart/run.py
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from dbwarden_nb.cli import main

HERE = Path(__file__).resolve().parent


def dbwarden(*args: str) -> None:
    print(f"\n$ dbwarden {shlex.join(args)}", flush=True)
    code = main(list(args))
    if code not in (0, 2):
        sys.exit(code)


def edit_models(root: Path) -> None:
    """A model change: orders get a note column and an index on product_id."""
    models = root / "shop" / "models.py"
    text = models.read_text()
    text = text.replace(
        '    quantity: Mapped[int] = mapped_column(server_default=sa.text("1"))\n',
        '    quantity: Mapped[int] = mapped_column(server_default=sa.text("1"))\n'
        "    note: Mapped[str | None] = mapped_column(sa.Text)\n"
        '    __table_args__ = (sa.Index("ix_orders_product_id", "product_id"),)\n',
    )
    models.write_text(text)


def run() -> None:
    import os

    with tempfile.TemporaryDirectory(prefix="dbwarden-quickstart-") as tmp:
        root = Path(tmp) / "quickstart"
        shutil.copytree(HERE, root, ignore=shutil.ignore_patterns("run.py", "__pycache__", "*.db", "migrations", ".dbwarden"))
        os.chdir(root)
        print("# a copy of examples/quickstart in a scratch folder; models in shop/models.py")
        dbwarden("make-migrations", "create shop tables")
        dbwarden("migrate")
        dbwarden("status")
        dbwarden("diff")
        print("\n# edit shop/models.py: orders get a note column and an index")
        edit_models(root)
        dbwarden("diff")
        dbwarden("make-migrations", "order notes")
        print(f"\n$ cat migrations/primary/0002_order_notes.sql\n{(root / 'migrations/primary/0002_order_notes.sql').read_text()}", end="")
        dbwarden("migrate")
        dbwarden("diff", "--check")
        dbwarden("history")
        os.chdir(HERE)


if __name__ == "__main__":
    run()
