"""``dbwarden init`` and ``dbwarden version``: the two commands that need no project."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from .errors import UsageError
from .reports import TextReport

TEMPLATE = '''"""dbwarden configuration: one database_config(...) call per database."""

from dbwarden_nb import database_config

database_config(
    database_name="primary",
    default=True,
    database_type={database_type!r},
    database_url={url!r},
    model_paths=[{models!r}],
)
'''

DEFAULT_URLS = {"sqlite": "sqlite:///./app.db"}


def init_project(path: str, database_type: str, url: str | None, models: str) -> TextReport:
    from .backends import BACKENDS

    if database_type not in BACKENDS:
        raise UsageError(f"--database-type {database_type!r}: expected one of {', '.join(BACKENDS)}")
    if url is None:
        if database_type not in DEFAULT_URLS:
            raise UsageError(f"init --database-type {database_type} needs --url (e.g. --url '${{DATABASE_URL}}')")
        url = DEFAULT_URLS[database_type]
    try:
        root = Path(path).resolve()
        root.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:  # a file there, no permission, a NUL character
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"init --path {path!r}: cannot create the project folder ({reason})") from None
    config = root / "dbwarden.py"
    created = []
    if not config.exists():
        config.write_text(TEMPLATE.format(database_type=database_type, url=url, models=models), encoding="utf-8")
        created.append("dbwarden.py")
    migrations = root / "migrations" / "primary"
    if not migrations.exists():
        migrations.mkdir(parents=True)
        created.append("migrations/primary/")
    text = f"created {', '.join(created)} in {root}" if created else f"{root} is already initialized"
    return TextReport(text, {"root": str(root), "created": created})


def version_report() -> TextReport:
    from ._version import __version__

    versions = {"dbwarden_nb": __version__, "python": platform.python_version()}
    for dist in ("SQLAlchemy", "psycopg", "PyMySQL", "clickhouse-connect", "chdb-core", "IPython", "ipywidgets", "pandas"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return TextReport("\n".join(f"{k} {v}" for k, v in versions.items()), versions)
