"""Backend registry. Modules are imported on first use, so naming a backend costs nothing."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from .base import Backend

BACKENDS: dict[str, str] = {
    "sqlite": "dbwarden_nb.backends.sqlite:SQLiteBackend",
    "postgresql": "dbwarden_nb.backends.postgresql:PostgreSQLBackend",
    "mysql": "dbwarden_nb.backends.mysql:MySQLBackend",
    "mariadb": "dbwarden_nb.backends.mysql.mariadb:MariaDBBackend",
    "clickhouse": "dbwarden_nb.backends.clickhouse:ClickHouseBackend",
}

_instances: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """The backend object for a ``database_type`` name."""
    if name not in _instances:
        target = BACKENDS.get(name)
        if target is None:
            raise ConfigError(f"unknown database_type {name!r} (expected one of {', '.join(BACKENDS)})")
        module_name, _, cls_name = target.partition(":")
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise ConfigError(f"the {name} backend is not available yet in this version of dbwarden_nb") from None
            raise ConfigError(f"the {name} backend needs the Python package {exc.name!r}: pip install 'dbwarden_nb[{name}]'") from None
        _instances[name] = getattr(module, cls_name)()
    return _instances[name]
