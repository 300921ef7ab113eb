"""Option tables: one row per backend fact of a table, read by extraction (models → snapshot) and by code generation
(snapshot → models) alike, as SQLAlchemy's ``construct_arguments`` declares a dialect's keyword arguments.

A row says where models give the fact (a SQLAlchemy dialect keyword, ``mysql_engine=``, or an ``info["dbwarden"]``
key), the snapshot key and type it is held as, and how generated model code spells it. A backend declares its rows
(``backends/<name>/options.py``); the two directions below read the same rows, so a new option is one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def upper(value: Any) -> str:
    return str(value).upper()


def same(value: Any) -> Any:
    return value


def repr_str(value: Any) -> str:
    """A number SQLAlchemy takes as a string keyword (``mysql_auto_increment="5"``)."""
    return repr(str(value))


@dataclass(frozen=True)
class OptionSpec:
    key: str  # the snapshot's key (Table.options)
    keywords: tuple[str, ...] = ()  # dialect keywords without their prefix; generated code writes the first
    info: bool = False  # given as info["dbwarden"][key] (what SQLAlchemy has no keyword for)
    type: Callable[[Any], Any] = str  # the snapshot's type for the value given
    code: Callable[[Any], str] | None = repr  # its Python spelling in generated models; None: never written

    def __post_init__(self) -> None:
        assert self.info != bool(self.keywords), f"option {self.key}: a dialect keyword or an info key, one of them"


def model_options(specs: Sequence[OptionSpec], kwargs: Mapping[str, Any], info: Mapping[str, Any],
                  prefixes: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A model's options by ``specs``: (the snapshot's options, the dialect keywords of ``prefixes`` no row names,
    lower-cased, without their prefix). A keyword given None is not given."""
    by_keyword = {k: spec for spec in specs for k in spec.keywords}
    options: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in kwargs.items():
        prefix, _, keyword = key.partition("_")
        if prefix not in prefixes or value is None:
            continue
        spec = by_keyword.get(keyword.lower())
        if spec is not None:
            options[spec.key] = spec.type(value)
        else:
            rest[keyword.lower()] = value
    options.update((spec.key, spec.type(info[spec.key])) for spec in specs if spec.info and spec.key in info)
    return options, rest


def option_kwargs(specs: Sequence[OptionSpec], options: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """The dialect keywords (name → Python source) generated code writes for ``options``, in the rows' order."""
    return {f"{prefix}_{spec.keywords[0]}": spec.code(options[spec.key]) for spec in specs
            if spec.keywords and spec.code is not None and options.get(spec.key)}


def option_info(specs: Sequence[OptionSpec], options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``info["dbwarden"]`` entries generated code writes for ``options``."""
    return {spec.key: options[spec.key] for spec in specs if spec.info and spec.key in options}
