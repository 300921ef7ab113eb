"""A throwaway dbwarden project on disk, driven through the real CLI entry point."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import uuid
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbwarden_nb.cli import main

MODEL_HEADER = """\
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass

"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class ProjectDir:
    """A project folder with a dbwarden.py and one models module whose source the test rewrites."""

    def __init__(self, root: Path, url: str, database_type: str = "sqlite", extra_config: str = ""):
        self.root = root
        # a unique module name: model modules stay in sys.modules between tests of one process
        self.module = f"models_{uuid.uuid4().hex[:10]}"
        self.url = url
        root.mkdir(parents=True, exist_ok=True)
        (root / "dbwarden.py").write_text(textwrap.dedent(f"""\
            from dbwarden_nb import database_config

            database_config(
                database_name="primary",
                default=True,
                database_type={database_type!r},
                database_url={url!r},
                model_paths=[{self.module!r}],{textwrap.indent(extra_config, " " * 16)}
            )
            """), encoding="utf-8")
        self.models("")

    @classmethod
    def initialized(cls, root: Path, url: str, database_type: str) -> ProjectDir:
        """A project made as a newcomer makes one: ``dbwarden init`` in an empty folder, no models yet (``models``)."""
        project = cls.__new__(cls)
        project.root, project.url, project.module = root, url, "models"
        root.mkdir(parents=True, exist_ok=True)
        project.ok("init", "--database-type", database_type, "--url", url)
        assert not (root / "models").exists()
        return project

    def models(self, body: str) -> None:
        """Replace the model module's source (the header with Base is always there)."""
        (self.root / f"{self.module}.py").write_text(MODEL_HEADER + textwrap.dedent(body), encoding="utf-8")

    def cli(self, *args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        self.forget_modules()
        os.chdir(self.root)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = main(list(args))
        finally:
            os.chdir(cwd)
            self.forget_modules()
        return Result(code, out.getvalue(), err.getvalue())

    def forget_modules(self) -> None:
        """Like a real CLI process, each run starts and ends with none of the project's modules imported: projects
        made by ``init`` all name theirs ``models``, and one must never find another's (nor half of its own)."""
        root = str(self.root.resolve())
        own = {p.stem for p in self.root.glob("*.py")} | {p.name for p in self.root.iterdir() if (p / "__init__.py").exists()}
        for name, module in list(sys.modules.items()):
            path = os.path.realpath(getattr(module, "__file__", None) or "")
            if name.partition(".")[0] in own or path.startswith(root + os.sep):
                del sys.modules[name]

    def ok(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.code == 0, f"dbwarden {' '.join(args)} exited {result.code}: {result.err}{result.out}"
        return result

    def migration_files(self) -> list[Path]:
        folder = self.root / "migrations" / "primary"
        return sorted(folder.glob("*.sql")) if folder.exists() else []
