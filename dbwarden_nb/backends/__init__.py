"""Backend registry. Modules are imported on first use, so naming a backend costs nothing.

Adding a backend is one package (``backends/<name>/``, the same files as the others) and one line here. A line
carries what must be known before the package is imported — as SQLAlchemy's dialect registry is keyed by URL
scheme: the schemes its URLs use, the SQLAlchemy driver a plain scheme stands for, and whether its URLs are
SQLAlchemy URLs (checked as SQLAlchemy reads them) or the backend's own (a path, clickhouse-connect's reading).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

from .. import sqllex
from ..errors import ConfigError

if TYPE_CHECKING:
    from .base import Backend


@dataclass(frozen=True)
class Registered:
    target: str  # "module:Class"
    schemes: tuple[str, ...]  # the URL schemes it accepts (the part before any "+driver")
    drivers: Mapping[str, str] = field(default_factory=dict)  # plain scheme → the SQLAlchemy driver installed
    sqlalchemy_urls: bool = True
    lexical: sqllex.Lexical = sqllex.ANSI  # how its SQL is lexed (migration files are split by it)


# MariaDB servers are often reached through mysql:// URLs, so mariadb accepts both.
BACKENDS: dict[str, Registered] = {
    "postgresql": Registered("dbwarden_nb.backends.postgresql:PostgreSQLBackend", ("postgresql", "postgres"),
                             {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"},
                             lexical=sqllex.POSTGRESQL),
    "mysql": Registered("dbwarden_nb.backends.mysql:MySQLBackend", ("mysql",), {"mysql": "mysql+pymysql"},
                        lexical=sqllex.MYSQL),
    "mariadb": Registered("dbwarden_nb.backends.mysql.mariadb:MariaDBBackend", ("mariadb", "mysql"),
                          {"mariadb": "mariadb+pymysql"}, lexical=sqllex.MYSQL),
    "clickhouse": Registered("dbwarden_nb.backends.clickhouse:ClickHouseBackend", ("clickhouse", "clickhouses", "chdb"),
                             sqlalchemy_urls=False, lexical=sqllex.CLICKHOUSE),
    "sqlite": Registered("dbwarden_nb.backends.sqlite:SQLiteBackend", ("sqlite",), sqlalchemy_urls=False,
                         lexical=sqllex.SQLITE),
}

_instances: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """The backend object for a ``database_type`` name."""
    if name not in _instances:
        registered = BACKENDS.get(name)
        if registered is None:
            raise ConfigError(f"unknown database_type {name!r} (expected one of {', '.join(BACKENDS)})")
        module_name, _, cls_name = registered.target.partition(":")
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise ConfigError(f"the {name} backend is not available yet in this version of dbwarden_nb") from None
            raise ConfigError(f"the {name} backend needs the Python package {exc.name!r}: pip install 'dbwarden_nb[{name}]'") from None
        _instances[name] = getattr(module, cls_name)()
    return _instances[name]


def lexical(name: str | None) -> sqllex.Lexical:
    """The lexical rules of a backend's SQL; ANSI (every dialect's quotes, doubled) for an unknown or no name."""
    registered = BACKENDS.get(name) if name is not None else None
    return registered.lexical if registered is not None else sqllex.ANSI


def backend_for_scheme(scheme: str) -> str | None:
    """The first backend whose URLs use ``scheme`` (``postgres`` → postgresql, ``mysql`` → mysql), or None."""
    return next((name for name, registered in BACKENDS.items() if scheme in registered.schemes), None)


def sqlalchemy_driver(scheme: str) -> str | None:
    """The SQLAlchemy ``dialect+driver`` a plain URL scheme stands for, or None (a driver named, or no such scheme)."""
    return next((r.drivers[scheme] for r in BACKENDS.values() if scheme in r.drivers), None)
