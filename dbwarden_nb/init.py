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
# What git should not keep: the caches of normalized models (rebuilt on demand). The stored snapshots beside them
# (.dbwarden/<database>/snapshots/) are the schema each migration leaves, and are committed with the migrations.
GITIGNORE = ("/.dbwarden/*/cache/", "__pycache__/", "*.py.new")  # .py.new: generate-models beside edited files
COMMIT = "commit dbwarden.py, your models, migrations/ and .dbwarden/*/snapshots/"


def init_project(path: str, database_type: str | None, url: str | None, models: str) -> TextReport:
    from .backends import BACKENDS

    if database_type is None:
        database_type = _type_of(url)
    if database_type not in BACKENDS:
        raise UsageError(f"--database-type {database_type!r}: expected one of {', '.join(BACKENDS)}")
    if url is None:
        if database_type not in DEFAULT_URLS:
            raise UsageError(f"init --database-type {database_type} needs --url (e.g. --url '${{DATABASE_URL}}')")
        url = DEFAULT_URLS[database_type]
    _check_url(database_type, url)
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
    if _write_gitignore(root / ".gitignore", [*GITIGNORE, *_database_files(url)]):
        created.append(".gitignore")
    text = f"created {', '.join(created)} in {root}" if created else f"{root} is already initialized"
    if "dbwarden.py" in created and _has_password(url):
        text += ("; dbwarden.py holds the URL's password: before you commit it, write "
                 "database_url=\"${PRIMARY_URL}\" there and set PRIMARY_URL in the environment")
    return TextReport(f"{text}; {COMMIT}", {"root": str(root), "created": created, "database_type": database_type,
                                            "commit": ["dbwarden.py", "migrations/", ".dbwarden/*/snapshots/"]})


def _has_password(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def _type_of(url: str | None) -> str:
    """The database type a URL's scheme names (``postgresql://…`` → postgresql); SQLite without a URL."""
    from .config import DATABASE_TYPES, url_database_type

    if url is None:
        return "sqlite"
    found = url_database_type(url)
    if found is None:
        raise UsageError(f"init --url: cannot tell the database type from {_masked(url)!r}; add --database-type "
                         f"({' | '.join(DATABASE_TYPES)})")
    return found


def _check_url(database_type: str, url: str) -> None:
    from .config import check_url
    from .errors import ConfigError

    if "${" in url:
        return  # read from the environment when used, and checked then
    try:  # the checks dbwarden.py will run, now, before anything is written
        check_url(database_type, url)
    except ConfigError as exc:
        raise UsageError(f"init --url: {exc}") from None


def _masked(url: str) -> str:
    from .config import mask_url

    return mask_url(url)


def _database_files(url: str) -> list[str]:
    """A SQLite database file inside the project is data, not code: ignored too."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:////"):
        return []
    name = url.removeprefix("sqlite:///").removeprefix("./").partition("?")[0]
    return [f"/{name}"] if name and ":" not in name and ".." not in name else []


def _write_gitignore(path: Path, lines: list[str]) -> bool:
    """Add what is missing of ``lines`` to ``.gitignore`` (created if needed); True when it changed. One that cannot
    be read as text or written is left as it is."""
    try:
        existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        missing = [line for line in lines if line not in existing]
        if not missing:
            return False
        head = "\n".join(existing) + "\n" if existing else ""
        path.write_text(head + "# dbwarden: caches and the local database (commit .dbwarden/*/snapshots/)\n"
                        + "\n".join(missing) + "\n", encoding="utf-8")
    except (OSError, UnicodeError):
        return False
    return True


def version_report() -> TextReport:
    from ._version import __version__

    versions = {"dbwarden_nb": __version__, "python": platform.python_version()}
    for dist in ("SQLAlchemy", "psycopg", "PyMySQL", "clickhouse-connect", "chdb-core", "IPython", "ipywidgets", "pandas"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return TextReport("\n".join(f"{k} {v}" for k, v in versions.items()), versions)
