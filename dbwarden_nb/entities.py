"""Schema objects declared beside the SQLAlchemy models: what SQLAlchemy has no construct for.

Each entity attaches itself to a ``MetaData`` (``metadata=Base.metadata``), so the databases whose model paths use
that metadata manage it, as they manage its tables::

    from dbwarden_nb.entities import Collation, Schema

    Schema("archive", metadata=Base.metadata)                       # a schema that holds no table (yet)
    Collation("german", "provider = icu, locale = 'de-DE'", metadata=Base.metadata)

The definition is SQL text: what follows ``CREATE <KIND> <name>`` (the server's own spelling is what
``generate-models`` writes, and what models are compared in). This module imports nothing heavy: models that
declare entities load as fast as any.
"""

from __future__ import annotations

from typing import Any, ClassVar

INFO_KEY = "dbwarden_objects"  # MetaData.info[INFO_KEY]: {key: entity}


class Entity:
    """A named schema object with a SQL definition; ``schema=None`` is the database's default schema."""

    kind: ClassVar[str] = ""

    def __init__(self, name: str, definition: str = "", *, schema: str | None = None, metadata: Any = None,
                 **options: Any):
        if not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}() needs a name, got {name!r}")
        if not isinstance(definition, str):
            raise TypeError(f"{type(self).__name__}({name!r}): the definition is SQL text, got {type(definition).__name__}")
        self.name = name
        self.definition = definition
        self.schema = schema
        self.options = options
        if metadata is not None:
            self.attach(metadata)

    @property
    def key(self) -> str:
        return f"{self.kind} {self.schema + '.' if self.schema else ''}{self.name}"

    def attach(self, metadata: Any) -> Entity:
        """Make this entity part of the models of ``metadata``; declaring it again replaces it (a re-run cell)."""
        metadata.info.setdefault(INFO_KEY, {})[self.key] = self
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}{', ' + repr(self.definition) if self.definition else ''})"


class Schema(Entity):
    """A schema of its own: created even while no table lives in it, and dropped only when it is no longer declared."""

    kind = "schema"

    def __init__(self, name: str, *, metadata: Any = None):
        super().__init__(name, metadata=metadata)


class Collation(Entity):
    """``CREATE COLLATION name (definition)``, e.g. ``Collation("german", "provider = icu, locale = 'de-DE'")``."""

    kind = "collation"


KINDS: dict[str, type[Entity]] = {cls.kind: cls for cls in (Schema, Collation)}


def declared(metadata: Any) -> list[Entity]:
    """The entities attached to ``metadata``."""
    return list((getattr(metadata, "info", None) or {}).get(INFO_KEY, {}).values())
