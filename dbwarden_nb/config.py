"""Project configuration: the ``database_config`` registry, ``dbwarden.py`` discovery and URL handling.

``dbwarden.py`` is plain Python that calls :func:`database_config` once per database. :func:`load_config`
executes it with a fresh registry; outside a load (a notebook cell) calls go to a process-wide session
registry, read back with :func:`session_config`. Calling again with the same name replaces the entry.

URLs stay strings here: ``${VAR}`` is resolved from the environment when a URL is used (so a config can be
loaded, shown and checked without secrets), and this module never imports SQLAlchemy or a driver, because
the CLI imports it on every start.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from dbwarden_nb.backends import BACKENDS, backend_for_scheme, sqlalchemy_driver
from dbwarden_nb.errors import ConfigError
from dbwarden_nb.session import SESSION

__all__ = [
    "DATABASE_TYPES",
    "DEV_DATABASE_TYPES",
    "HOOK_EVENTS",
    "DatabaseConfig",
    "ProjectConfig",
    "add_to_sys_path",
    "check_url",
    "database_config",
    "error_location",
    "error_summary",
    "find_config",
    "load_config",
    "mask_text",
    "mask_url",
    "masked_traceback",
    "safe_cause",
    "session_config",
    "sqlalchemy_url",
    "url_database_type",
    "url_problem",
    "within",
]

StrPath = str | os.PathLike[str]

CONFIG_FILE = "dbwarden.py"

# database_type → the URL schemes it accepts: the backend registry's (dbwarden_nb.backends)
DATABASE_TYPES: tuple[str, ...] = tuple(BACKENDS)
DEV_DATABASE_TYPES: tuple[str, ...] = ("sqlite",)
_CLUSTER_TYPES = frozenset({"clickhouse"})
# Online DDL (issue 15): CREATE/DROP INDEX CONCURRENTLY exists on PostgreSQL alone (MySQL and MariaDB build plain
# indexes online by themselves: ALGORITHM=INPLACE, LOCK=NONE). A lock wait limit exists on PostgreSQL (lock_timeout),
# MySQL and MariaDB (lock_wait_timeout); a limit on any statement's run time on PostgreSQL (statement_timeout) and
# MariaDB (max_statement_time) only: MySQL's max_execution_time limits SELECT statements, never DDL.
_CONCURRENT_INDEX_TYPES = frozenset({"postgresql"})
_TIMEOUT_TYPES = {"lock_timeout": frozenset({"postgresql", "mysql", "mariadb"}),
                  "statement_timeout": frozenset({"postgresql", "mariadb"})}
_TIMEOUT_WHY_NOT = {("statement_timeout", "mysql"): " (MySQL's max_execution_time limits only SELECT statements)"}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*", re.IGNORECASE)
_DURATION_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_MAX_TIMEOUT_MS = 2**31 - 1  # what PostgreSQL's lock_timeout / statement_timeout hold (an int of milliseconds)

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://(.*)", re.DOTALL)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
_QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)([^&]*)", re.IGNORECASE)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
# How SQLAlchemy's make_url splits a URL (sqlalchemy/engine/url.py, _parse_url), without importing SQLAlchemy.
_SQLALCHEMY_URL = re.compile(
    r"(?P<name>[\w+]+)://(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?"
    r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?",
    re.DOTALL,
)
_MASK = "***"
_INSTALLED = frozenset({"site-packages", "dist-packages"})
# Every password this process has seen in a configured URL (as written and as resolved from ${VAR}) is kept in
# the session (SESSION.secrets); mask_text replaces them wherever they turn up (a driver's message, a user's
# exception, a traceback), URL or not.


# ---------------------------------------------------------------------------------------------- databases


@dataclass(frozen=True, kw_only=True, repr=False)
class DatabaseConfig:
    """One ``database_config(...)`` call, validated. URLs are kept as written (``${VAR}`` unresolved)."""

    database_name: str
    database_type: str
    database_url: str
    root: Path
    default: bool = False
    dev_database_type: str | None = None
    dev_database_url: str | None = None
    model_paths: tuple[str, ...] = ()
    migrations_dir: str | None = None
    schemas: tuple[str, ...] | None = None
    include_tables: tuple[str, ...] | None = None
    exclude_tables: tuple[str, ...] | None = None
    cluster: str | None = None
    concurrent_indexes: bool = False
    manage_grants: bool = False
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    # Other targets of the same chain: (name, URL as written), chosen by ``-e NAME``; ``database_url`` is the
    # default target. ``environment`` is the one this config points at (None: database_url).
    environments: tuple[tuple[str, str], ...] = ()
    environment: str | None = None
    seeds_dir: str | None = None
    hooks: tuple[tuple[str, tuple[Callable[..., object], ...]], ...] = ()  # (event, callables) in HOOK_EVENTS order

    @property
    def environment_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.environments)

    def for_environment(self, name: str | None) -> DatabaseConfig:
        """This database pointed at environment ``name`` (None: ``database_url``): the same chain, snapshots and
        state; only the URL changes."""
        if name is None or name == self.environment:
            return self
        urls = dict(self.environments)
        if name not in urls:
            known = ", ".join(self.environment_names) or "none"
            raise ConfigError(f"database '{self.database_name}' has no environment '{name}' (configured: {known}; "
                              "without -e the database_url is used)")
        return replace(self, database_url=urls[name], environment=name)

    def hooks_for(self, event: str) -> tuple[Callable[..., object], ...]:
        return dict(self.hooks).get(event, ())

    @property
    def timeouts(self) -> dict[str, int]:
        """``lock_timeout`` and ``statement_timeout`` in milliseconds, those that are set."""
        return {name: _duration_ms(value) for name in _TIMEOUT_TYPES if (value := getattr(self, name)) is not None}

    @property
    def migrations_path(self) -> Path:
        return self._inside("migrations_dir", self.migrations_dir or f"migrations/{self.database_name}")

    @property
    def seeds_path(self) -> Path:
        return self._inside("seeds_dir", self.seeds_dir or f"seeds/{self.database_name}")

    @property
    def state_path(self) -> Path:
        """``.dbwarden/<database>``: the stored snapshots and caches of this database."""
        return self._inside("the state folder", f".dbwarden/{self.database_name}")

    @property
    def snapshots_path(self) -> Path:
        return self.state_path / "snapshots"

    def _inside(self, what: str, path: str) -> Path:
        """``root / path``, refused when it leads out of the project (``..``, an absolute path, a symbolic link)."""
        if within(self.root, path) is None:
            raise ConfigError(f"database '{self.database_name}': {what} {path!r} leads outside the project folder "
                              f"{self.root}; dbwarden writes only inside it")
        return self.root / path

    def url(self, dev: bool = False) -> str:
        """The URL with ``${VAR}`` resolved from the environment now (not when the config was loaded)."""
        field_name, raw, database_type = self._target(dev)
        try:
            url = _expand(raw)
        except KeyError as missing:
            raise ConfigError(
                f"database '{self.database_name}': {field_name} references ${{{missing.args[0]}}}, which is not set"
            ) from None
        _remember(_url_passwords(url))
        _check_scheme(self.database_name, field_name, url, database_type)
        return url

    def sqlalchemy_url(self, dev: bool = False) -> str:
        """:meth:`url` with this project's drivers and relative SQLite paths resolved against the root."""
        return sqlalchemy_url(self.url(dev), root=self.root)

    def backend_name(self, dev: bool = False) -> str:
        return self._target(dev)[2]

    def target_field(self, dev: bool = False) -> str:
        """Where the URL in use is configured: ``database_url``, ``environments['staging']``, ``dev_database_url``."""
        return self._target(dev)[0]

    def manages_table(self, name: str, schema: str | None = None) -> bool:
        """Whether ``include_tables``/``exclude_tables`` select the table (globs on ``name`` or ``schema.name``)."""
        names = (name,) if schema is None else (name, f"{schema}.{name}")

        def matches(patterns: tuple[str, ...]) -> bool:
            return any(fnmatchcase(candidate, pattern) for pattern in patterns for candidate in names)

        included = self.include_tables is None or matches(self.include_tables)
        return included and not (self.exclude_tables and matches(self.exclude_tables))

    def masked(self) -> dict[str, object]:
        """The configuration for display: URLs masked, paths relative to the project root."""
        shown: dict[str, object] = {}
        for spec in fields(self):
            if spec.name == "root":
                continue
            value = getattr(self, spec.name)
            if spec.name.endswith("_url") and value is not None:
                value = mask_url(value)
            elif spec.name == "environments":
                value = {name: mask_url(url) for name, url in value}
            elif spec.name == "hooks":
                value = {event: [callable_name(fn) for fn in fns] for event, fns in value}
            elif isinstance(value, tuple):
                value = list(value)
            shown[spec.name] = value
        shown["migrations_dir"] = _relative(self.migrations_path, self.root)
        shown["seeds_dir"] = _relative(self.seeds_path, self.root)
        return shown

    def secrets(self) -> frozenset[str]:
        """Passwords in the URLs, as written and as resolved (where the variables are set), for :func:`mask_text`."""
        found: set[str] = set()
        for raw in (self.database_url, self.dev_database_url, *(url for _, url in self.environments)):
            if raw is None:
                continue
            found |= _url_passwords(raw)
            with suppress(KeyError):  # an unset variable holds no secret yet
                found |= _url_passwords(_expand(raw))
        _remember(found)
        return frozenset(found)

    def _target(self, dev: bool) -> tuple[str, str, str]:
        """(field name, URL as written, database type) of the production or the dev database."""
        if not dev:
            field_name = "database_url" if self.environment is None else f"environments['{self.environment}']"
            return field_name, self.database_url, self.database_type
        if self.dev_database_url is None:
            raise ConfigError(
                f"--dev mode is enabled, but database '{self.database_name}' has no dev_database_url configured"
            )
        return "dev_database_url", self.dev_database_url, self.dev_database_type or DEV_DATABASE_TYPES[0]

    def __repr__(self) -> str:
        # The dataclass repr would print passwords into tracebacks and notebook outputs.
        shown = ", ".join(f"{key}={value!r}" for key, value in self.masked().items())
        return f"{type(self).__name__}({shown})"


@dataclass
class _Registry:
    root: Path | None  # None: the session registry, rooted at the working directory of each call
    databases: dict[str, DatabaseConfig] = field(default_factory=dict)


_SESSION = SESSION.registry = _Registry(root=None)  # database_config() outside a dbwarden.py
_current_registry: ContextVar[_Registry] = ContextVar("dbwarden_registry", default=_SESSION)


def database_config(
    database_name: str,
    *,
    default: bool = False,
    database_type: str | None = None,
    database_url: str | None = None,
    dev_database_type: str | None = None,
    dev_database_url: str | None = None,
    model_paths: StrPath | Iterable[StrPath] = (),
    migrations_dir: StrPath | None = None,
    schemas: str | Iterable[str] | None = None,
    include_tables: str | Iterable[str] | None = None,
    exclude_tables: str | Iterable[str] | None = None,
    cluster: str | None = None,
    concurrent_indexes: bool = False,
    manage_grants: bool = False,
    lock_timeout: str | int | None = None,
    statement_timeout: str | int | None = None,
    environments: Mapping[str, str] | None = None,
    seeds_dir: StrPath | None = None,
    hooks: Mapping[str, Callable[..., object] | Iterable[Callable[..., object]]] | None = None,
    **unknown: object,
) -> DatabaseConfig:
    """Register a database in the registry being loaded (or the session's), replacing one of the same name.

    ``database_type`` and ``database_url`` are required; they default to None only so that a missing one is
    reported as a configuration error naming the database rather than as a bare ``TypeError``.
    """
    # Messages show the values given, masked: a URL passed to the wrong keyword is still a secret.
    if not isinstance(database_name, str) or not _DATABASE_NAME.fullmatch(database_name):
        raise ConfigError(mask_text(
            f"database_name {database_name!r} is not a valid name (letters, digits, '_', '-', '.'; it names folders)"
        ))

    def fail(message: str) -> ConfigError:
        return ConfigError(mask_text(f"database '{database_name}': {message}"))

    if unknown:
        raise fail(_unknown_keyword_message(next(iter(unknown))))
    if not isinstance(default, bool):
        raise fail(f"default must be True or False, got {default!r}")
    if database_type not in DATABASE_TYPES:
        raise fail(_choice_message("database_type", database_type, DATABASE_TYPES))
    if dev_database_type is not None and dev_database_type not in DEV_DATABASE_TYPES:
        raise fail(_choice_message("dev_database_type", dev_database_type, DEV_DATABASE_TYPES))
    if cluster is not None and database_type not in _CLUSTER_TYPES:
        raise fail(f"cluster is only supported for database_type {', '.join(sorted(_CLUSTER_TYPES))}")
    if not isinstance(concurrent_indexes, bool):
        raise fail(f"concurrent_indexes must be True or False, got {concurrent_indexes!r}")
    if not isinstance(manage_grants, bool):
        raise fail(f"manage_grants must be True or False, got {manage_grants!r}")
    if manage_grants and database_type != "postgresql":
        raise fail("manage_grants is supported for database_type postgresql only (elsewhere grants are listed as "
                   "not managed)")
    if concurrent_indexes and database_type not in _CONCURRENT_INDEX_TYPES:
        raise fail("concurrent_indexes is only supported for database_type postgresql (MySQL and MariaDB build "
                   "indexes online by themselves where InnoDB can: ALGORITHM=INPLACE, LOCK=NONE)")
    timeouts: dict[str, Any] = {"lock_timeout": lock_timeout, "statement_timeout": statement_timeout}
    for name, value in timeouts.items():
        if value is None:
            continue
        if database_type not in _TIMEOUT_TYPES[name]:
            raise fail(f"{name} is only supported for database_type {', '.join(sorted(_TIMEOUT_TYPES[name]))}"
                       + _TIMEOUT_WHY_NOT.get((name, database_type), ""))
        if isinstance(value, bool) or not isinstance(value, (str, int)) or _DURATION.fullmatch(str(value)) is None \
                or not 0 < _duration_ms(str(value)) <= _MAX_TIMEOUT_MS:
            raise fail(f"{name} must be a duration such as \"5s\", \"500ms\", \"10min\" or \"1h\" "
                       f"(a bare number is milliseconds; more than 0, at most 24 days), got {value!r}")
        timeouts[name] = str(value).strip()
    if database_url is None:
        raise fail("database_url is required")
    targets = _environments(environments, fail)
    for field_name, url, url_type in (
        ("database_url", database_url, database_type),
        ("dev_database_url", dev_database_url, dev_database_type or DEV_DATABASE_TYPES[0]),
        *((f"environments['{name}']", env_url, database_type) for name, env_url in targets),
    ):
        if url is None:
            continue
        if not isinstance(url, str) or not url:
            raise fail(f"{field_name} must be a non-empty string, got {url!r}")
        _remember(_url_passwords(url))
        if not _ENV_REF.search(url):
            _check_scheme(database_name, field_name, url, url_type)  # early; ${VAR} URLs are checked when used

    registry = _current_registry.get()
    config = DatabaseConfig(
        database_name=database_name,
        database_type=database_type,
        database_url=database_url,
        root=registry.root or Path.cwd(),
        default=default,
        dev_database_type=dev_database_type,
        dev_database_url=dev_database_url,
        model_paths=_strings(database_name, "model_paths", model_paths),
        migrations_dir=None if migrations_dir is None else os.fspath(migrations_dir),
        schemas=None if schemas is None else _strings(database_name, "schemas", schemas),
        include_tables=None if include_tables is None else _strings(database_name, "include_tables", include_tables),
        exclude_tables=None if exclude_tables is None else _strings(database_name, "exclude_tables", exclude_tables),
        cluster=cluster,
        concurrent_indexes=concurrent_indexes,
        manage_grants=manage_grants,
        environments=targets,
        seeds_dir=None if seeds_dir is None else os.fspath(seeds_dir),
        hooks=_hooks(hooks, fail),
        **timeouts,
    )
    registry.databases[database_name] = config
    return config


HOOK_EVENTS: tuple[str, ...] = ("before_migrate", "after_migrate", "on_failure")


def _environments(value: object, fail: Callable[[str], ConfigError]) -> tuple[tuple[str, str], ...]:
    """``environments={"staging": "${STAGING_URL}", ...}`` as (name, URL) pairs, in the order given."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise fail(f"environments must be a dict of name: URL, got {value!r}")
    for name, url in value.items():
        if not isinstance(name, str) or not _DATABASE_NAME.fullmatch(name) or name == "default":
            raise fail(f"environment name {name!r} is not valid (letters, digits, '_', '-', '.'; 'default' is the "
                       "database_url)")
        if not isinstance(url, str) or not url:
            raise fail(f"environments['{name}'] must be a non-empty URL string, got {url!r}")
    return tuple(value.items())


def _hooks(value: object, fail: Callable[[str], ConfigError]) -> tuple[tuple[str, tuple[Callable[..., object], ...]], ...]:
    """``hooks={"before_migrate": [fn, ...], ...}`` validated: known events, callables (one alone is a list of one)."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise fail(f"hooks must be a dict of event: [callables], got {value!r}")
    unknown = sorted(set(value) - set(HOOK_EVENTS), key=str)
    if unknown:
        raise fail(f"unknown hook event {unknown[0]!r} (expected one of {', '.join(HOOK_EVENTS)})")
    found = []
    for event in HOOK_EVENTS:
        if event not in value:
            continue
        given = value[event]
        fns = (given,) if callable(given) else tuple(given) if isinstance(given, Iterable) else (given,)
        bad = next((fn for fn in fns if not callable(fn)), None)
        if bad is not None:
            raise fail(f"hooks['{event}'] must hold callables, got {bad!r}")
        found.append((event, fns))
    return tuple(found)


def callable_name(fn: Callable[..., object]) -> str:
    """How a hook is named in messages: its qualified name."""
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _duration_ms(text: str) -> int:
    """A validated duration (``"5s"``, ``"10min"``, ``"250"`` = milliseconds) in milliseconds."""
    match = _DURATION.fullmatch(text)
    assert match is not None
    return int(float(match.group(1)) * _DURATION_MS[(match.group(2) or "ms").lower()])


def _unknown_keyword_message(keyword: str) -> str:
    import difflib  # only on this error path

    known = [spec.name for spec in fields(DatabaseConfig) if spec.name not in ("root", "environment")]
    close = difflib.get_close_matches(keyword, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(known)}"
    return f"unknown keyword '{keyword}' for database_config ({hint})"


def _choice_message(field_name: str, value: object, choices: Iterable[str]) -> str:
    if value is None:
        return f"{field_name} is required (one of {', '.join(choices)})"
    return f"unknown {field_name} {value!r} (expected one of {', '.join(choices)})"


def _strings(database_name: str, field_name: str, value: object) -> tuple[str, ...]:
    """A list option as a tuple of non-empty strings; a single string (or path) means a one-element list."""
    items = (value,) if isinstance(value, (str, os.PathLike)) else value
    if isinstance(items, Iterable):
        result = tuple(os.fspath(item) if isinstance(item, os.PathLike) else item for item in items)
        if all(isinstance(item, str) and item for item in result):
            return result
    raise ConfigError(mask_text(f"database '{database_name}': {field_name} must be a list of non-empty strings, got {value!r}"))


def _check_scheme(database_name: str, field_name: str, url: str, database_type: str) -> None:
    problem = url_problem(database_type, url)
    if problem is not None:
        raise ConfigError(f"database '{database_name}': {field_name} {problem}")


def check_url(database_type: str, url: str) -> None:
    """Raise a one-line ConfigError when ``url`` (no ``${VAR}`` left in it) is no ``database_type`` URL."""
    problem = url_problem(database_type, url)
    if problem is not None:
        raise ConfigError(problem)


def url_database_type(url: str) -> str | None:
    """The database type a URL's scheme names (``postgres://`` → postgresql, ``mysql://`` → mysql), or None."""
    match = _SCHEME.fullmatch(url)
    scheme = match.group(1).split("+")[0].lower() if match else None
    return backend_for_scheme(scheme) if scheme else None


def url_problem(database_type: str, url: str) -> str | None:
    """What is wrong with ``url`` as a ``database_type`` URL (masked, starting with the URL), or None.

    SQLAlchemy URLs are read as SQLAlchemy reads them: its password ends at the *first* ``@``, so a password with an
    unencoded ``@`` sends the rest of it to the server as a host name; that URL is malformed, and said so."""
    schemes = BACKENDS[database_type].schemes
    match = _SCHEME.fullmatch(url)
    shown = repr(mask_url(url))
    if match is None or match.group(1).split("+")[0].lower() not in schemes:
        expected = " or ".join(f"{scheme}://" for scheme in schemes)
        return f"{shown} is not a {database_type} URL (expected {expected})"
    if not BACKENDS[database_type].sqlalchemy_urls:  # a path; or clickhouse-connect's own reading (the last "@")
        return None
    parts = _SQLALCHEMY_URL.match(url)
    host, port = (parts.group("ipv4host") or "", parts.group("port")) if parts else ("", None)
    after_password = url[parts.end("password") + 1:].partition("?")[0] if parts and parts.group("password") else ""
    if "@" in after_password:
        return (f"{shown} is malformed: its password holds an unencoded '@', so the driver would read the rest of it "
                "as the host name; write each '@' of the password as %40")
    if any(bracket in f"{host}{port or ''}" for bracket in "[]"):
        return f"{shown} is malformed: an unbalanced '[' or ']' in the host (an IPv6 address is written [::1]:5432)"
    if port and not port.isdigit():
        return f"{shown} is malformed: the port {mask_text(port)!r} is not a number"
    return None


def _expand(url: str) -> str:
    """Replace each ``${VAR}`` by the environment's value; an unset variable raises ``KeyError(VAR)``."""
    return _ENV_REF.sub(lambda ref: os.environ[ref.group(1)], url)


def within(root: Path, path: StrPath) -> Path | None:
    """``root / path`` with symbolic links resolved, or None when that lies outside ``root`` (or cannot be a path:
    a NUL character)."""
    text = os.fspath(path)
    if "\x00" in text:
        return None
    resolved = (root / text).resolve()
    return resolved if resolved.is_relative_to(root.resolve()) else None


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


# ---------------------------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class ProjectConfig:
    """The databases of one ``dbwarden.py`` (``path``), or of the session when ``path`` is None."""

    root: Path
    path: Path | None
    databases: dict[str, DatabaseConfig]
    default_name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_name", self._find_default())

    def get(self, name: str | None = None) -> DatabaseConfig:
        """The named database, or the default one."""
        if name is None:
            return self.databases[self.default_name]
        if name not in self.databases:
            raise ConfigError(f"unknown database '{name}' (configured: {', '.join(sorted(self.databases))})")
        return self.databases[name]

    def masked(self) -> dict[str, object]:
        return {
            "config": None if self.path is None else str(self.path),
            "default": self.default_name,
            "databases": {name: db.masked() for name, db in self.databases.items()},
        }

    def secrets(self) -> frozenset[str]:
        return frozenset().union(*(db.secrets() for db in self.databases.values()))

    def _find_default(self) -> str:
        where = f"{self.path}: " if self.path is not None else ""
        if not self.databases:
            raise ConfigError(f"{where}no database configured (call database_config(...))")
        names = list(self.databases)
        if len(names) == 1:
            return names[0]
        defaults = [name for name, db in self.databases.items() if db.default]
        if len(defaults) == 1:
            return defaults[0]
        if defaults:
            raise ConfigError(
                f"{where}several default databases: {', '.join(defaults)} (set default=True on exactly one)"
            )
        raise ConfigError(f"{where}no default database among {', '.join(names)} (set default=True on one of them)")


def session_config() -> ProjectConfig:
    """The databases configured in this process outside any ``dbwarden.py`` (e.g. in notebook cells)."""
    return ProjectConfig(root=Path.cwd(), path=None, databases=dict(_SESSION.databases))


def find_config(start: StrPath | None = None) -> Path:
    """``$DBWARDEN_CONFIG`` if set, else the nearest ``dbwarden.py`` in ``start`` (default: cwd) or its parents."""
    from_env = os.environ.get("DBWARDEN_CONFIG")
    if from_env:
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise ConfigError(f"DBWARDEN_CONFIG is set to {from_env}, which does not exist")
        return path.resolve()
    folder = Path(start if start is not None else Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate / CONFIG_FILE
    raise ConfigError(f"no {CONFIG_FILE} found in {folder} or its parents (run 'dbwarden init' or set DBWARDEN_CONFIG)")


def load_config(path: StrPath | None = None) -> ProjectConfig:
    """Execute a ``dbwarden.py`` (given, or found by :func:`find_config`) in a fresh registry.

    Any exception raised by the file (``SystemExit`` too, but not ``KeyboardInterrupt``) becomes
    ``ConfigError("<path>:<line>: <ExcType>: <message>")``, URLs and passwords masked.
    """
    if path is None:
        config_path = find_config()
    else:
        if "\x00" in os.fspath(path):
            raise ConfigError(f"{os.fspath(path)!r} cannot name a file (it holds a NUL character)")
        config_path = Path(path).expanduser()
        if config_path.is_dir():
            config_path = config_path / CONFIG_FILE
        if not config_path.is_file():
            raise ConfigError(f"{config_path} does not exist")
        config_path = config_path.resolve()
    add_to_sys_path(config_path.parent)
    registry = _Registry(root=config_path.parent)
    token = _current_registry.set(registry)
    try:
        code = compile(config_path.read_bytes(), str(config_path), "exec")
        exec(code, {"__name__": "dbwarden_config", "__file__": str(config_path)})  # noqa: S102  running the project's own dbwarden.py is the point
    except (Exception, SystemExit) as exc:  # noqa: BLE001  the user's file: any error is one line naming it
        where = error_location(exc, config_path) or str(config_path)
        # No cause: its traceback would quote the lines of dbwarden.py, where URLs are often written out.
        raise ConfigError(mask_text(f"{where}: {error_summary(exc)}")) from None
    finally:
        _current_registry.reset(token)
    return ProjectConfig(root=config_path.parent, path=config_path, databases=registry.databases)


PROJECT_ROOTS: set[str] = set()  # every project root this process put on sys.path


def add_to_sys_path(root: Path) -> None:
    """Put the project root first on ``sys.path``, so model modules import the same way everywhere, and the
    project being loaded wins over another one loaded earlier in the same process (a notebook, the tests)."""
    PROJECT_ROOTS.add(str(root))
    if sys.path[:1] != [str(root)]:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(root))
        sys.path.insert(0, str(root))


def error_location(exc: BaseException, within: Path) -> str | None:
    """``file:line`` of the innermost traceback frame in ``within`` (a file or a folder), outside installed
    packages (a virtualenv inside the project is not the project's code)."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f"{exc.filename}:{exc.lineno}"
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = Path(tb.tb_frame.f_code.co_filename)
        if filename.is_relative_to(within) and _INSTALLED.isdisjoint(filename.parts):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def error_summary(exc: BaseException) -> str:
    """``ExcType: message`` on one line."""
    text = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    message = " ".join(str(text).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# ---------------------------------------------------------------------------------------------- URLs


def _userinfo_password(url: str) -> tuple[str, str, str] | None:
    """``(head, password, tail)`` with ``head + password + tail == url``, or None when there is no password.

    The userinfo ends at the *last* ``@``: passwords may contain ``@``, ``:`` and ``/`` unencoded, and when
    a path or query holds an ``@`` too, over-masking the host beats showing part of a password.
    """
    match = _SCHEME.fullmatch(url)
    if match is None:
        return None
    userinfo, at, _ = match.group(2).rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not (at and colon):
        return None
    start = match.start(2) + len(user) + 1
    return url[:start], password, url[start + len(password) :]


def mask_url(url: str) -> str:
    """``url`` with every password replaced by ``***`` (userinfo and ``password=`` parameters). Never raises."""
    span = _userinfo_password(url)
    if span is not None:
        url = f"{span[0]}{_MASK}{span[2]}"
    return _QUERY_PASSWORD.sub(rf"\g<1>{_MASK}", url)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` (e.g. a driver's error message) with URLs masked and each known secret replaced by ``***``: those
    given and every password of a URL configured in this process, each also in its URL-encoded forms."""
    text = _URL_IN_TEXT.sub(lambda match: mask_url(match.group()), text)
    variants = {form for secret in (*secrets, *SESSION.secrets) if secret
                for form in (secret, quote(secret, safe=""), quote_plus(secret, safe=""))}
    for secret in sorted(variants, key=len, reverse=True):  # longest first: a secret may contain another
        text = text.replace(secret, _MASK)
    return text


def masked_traceback(exc: BaseException) -> str:
    """``-v``'s traceback of ``exc`` (its causes included), every URL and known password masked: the chained
    causes are the user's own exceptions and drivers' messages, and the source lines may show dbwarden.py."""
    import traceback  # only on this error path

    return mask_text("".join(traceback.format_exception(exc)))


def safe_cause(exc: BaseException) -> BaseException | None:
    """``exc`` to chain as the cause of an error, or None when its message shows a URL's password or a known one
    (a notebook prints the causes of an exception in full)."""
    text = str(exc)
    return exc if mask_text(text) == text else None


def _remember(passwords: Iterable[str]) -> None:
    SESSION.remember(passwords)


def _url_passwords(url: str) -> set[str]:
    found = [value for _, value in _QUERY_PASSWORD.findall(url)]
    span = _userinfo_password(url)
    if span is not None:
        found.append(span[1])
    # A ${VAR} placeholder is no secret; its value is found in the resolved URL.
    return {form for value in found for form in (value, unquote(value)) if form and not _ENV_REF.search(form)}


def sqlalchemy_url(url: str, *, root: Path | None = None) -> str:
    """A user URL as a SQLAlchemy URL: this project's drivers, relative SQLite paths resolved against ``root``.

    URLs that already name a driver keep it; ClickHouse URLs (not SQLAlchemy URLs) and unknown schemes are
    returned unchanged.
    """
    match = _SCHEME.fullmatch(url)
    if match is None:
        return url
    scheme, rest = match.groups()
    if scheme.split("+")[0].lower() == "sqlite":
        return _sqlite_url(scheme, rest, root)
    driver = sqlalchemy_driver(scheme.lower())  # this project's drivers (psycopg 3, PyMySQL)
    return f"{driver}://{rest}" if driver else url


def _sqlite_url(scheme: str, rest: str, root: Path | None) -> str:
    # sqlite:///relative.db and sqlite:////absolute.db; "", ":memory:" and file: URIs are left alone.
    path, question, query = rest.removeprefix("/").partition("?")
    special = path in ("", ":memory:") or path.startswith("file:")
    if root is None or not rest.startswith("/") or special or Path(path).is_absolute():
        return f"{scheme}://{rest}"
    return f"{scheme}:///{os.path.normpath(root / path)}{question}{query}"
