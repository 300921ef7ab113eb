"""Schema objects declared beside the SQLAlchemy models: what SQLAlchemy has no construct for.

Each entity attaches itself to a ``MetaData`` (``metadata=Base.metadata``), so the databases whose model paths use
that metadata manage it, as they manage its tables::

    from dbwarden_nb.entities import Collation, Extension, Function, Schema, Trigger

    Schema("archive", metadata=Base.metadata)                       # a schema that holds no table (yet)
    Collation("german", "provider = icu, locale = 'de-DE'", metadata=Base.metadata)
    Extension("pg_trgm", metadata=Base.metadata)                    # version: the installed or default one
    Function("touch", "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$",
             metadata=Base.metadata)
    Trigger("orders_touch", "BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()", table="orders",
            metadata=Base.metadata)

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
    derived: ClassVar[tuple[str, ...]] = ()  # options the server's catalog adds, never written in models

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
        table = self.options.get("table")
        return f"{self.kind} {self.schema + '.' if self.schema else ''}{self.name}" + (f" on {table}" if table else "")

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


class Extension(Entity):
    """``CREATE EXTENSION name [WITH SCHEMA schema] [VERSION version]``; ``version=None``: the one installed, else
    the server's default. What the extension creates belongs to it: never managed as the user's own."""

    kind = "extension"

    def __init__(self, name: str, *, schema: str | None = None, version: str | None = None, metadata: Any = None):
        super().__init__(name, schema=schema, metadata=metadata, **({"version": version} if version else {}))


class TextSearchDictionary(Entity):
    """PostgreSQL ``CREATE TEXT SEARCH DICTIONARY name (TEMPLATE = pg_catalog.snowball, language = 'english')``:
    the definition is the parenthesized list. Templates stay outside (they are C code)."""

    kind = "text search dictionary"


class TextSearchConfiguration(Entity):
    """PostgreSQL ``CREATE TEXT SEARCH CONFIGURATION name (PARSER = pg_catalog."default")`` (or ``(COPY =
    english)``) and its token mappings, ``mappings={"asciiword": "english_stem", "word": "simple"}``: one ``ALTER
    ... ADD MAPPING FOR token WITH dictionaries`` each, as pg_dump prints them (after COPY, those given replace the
    copied ones)."""

    kind = "text search configuration"

    def __init__(self, name: str, definition: str, *, mappings: dict[str, str] | None = None,
                 schema: str | None = None, comment: str | None = None, metadata: Any = None):
        super().__init__(name, definition, schema=schema, metadata=metadata,
                         **({"mappings": dict(mappings)} if mappings else {}),
                         **({"comment": comment} if comment is not None else {}))


class _Routine(Entity):
    """A function-like object: its definition starts with its argument list, which (with the name) identifies it."""

    derived = ("arguments", "returns")

    @property
    def key(self) -> str:
        return f"{super().key}{argument_list(self.definition)}"


class Function(_Routine):
    """``CREATE FUNCTION name(arguments) RETURNS ... LANGUAGE ... AS ...``: the definition starts at ``(``;
    ``comment="..."`` (like every routine) is its ``COMMENT ON``."""

    kind = "function"


class Procedure(_Routine):
    """``CREATE PROCEDURE name(arguments) LANGUAGE ... AS ...``: the definition starts at ``(``."""

    kind = "procedure"


class Aggregate(_Routine):
    """``CREATE AGGREGATE name(arguments) (SFUNC = ..., STYPE = ...)``: the definition starts at ``(``."""

    kind = "aggregate"


class Trigger(Entity):
    """``CREATE TRIGGER name <definition>`` on ``table`` (the table is named in the definition too: it is how the
    trigger is told apart from one of the same name on another table)."""

    kind = "trigger"

    def __init__(self, name: str, definition: str, *, table: str, schema: str | None = None,
                 comment: str | None = None, metadata: Any = None):
        super().__init__(name, definition, schema=schema, metadata=metadata, table=table,
                         **({"comment": comment} if comment is not None else {}))


class Event(Entity):
    """MySQL/MariaDB ``CREATE EVENT name <definition>``: ``"ON SCHEDULE EVERY 1 DAY DO DELETE FROM log WHERE ..."``.
    Without ``STARTS`` the server starts it when it is created (and prints that time): such an event is compared
    without the time the server filled in."""

    kind = "event"


class Rule(Entity):
    """``CREATE RULE name <definition>`` (``AS ON DELETE TO t DO INSTEAD NOTHING``) on ``table``."""

    kind = "rule"

    def __init__(self, name: str, definition: str, *, table: str, schema: str | None = None, metadata: Any = None):
        super().__init__(name, definition, schema=schema, metadata=metadata, table=table)


class Policy(Entity):
    """``CREATE POLICY name ON table <definition>`` (``FOR SELECT TO reader USING (owner = current_user)``); the
    table needs :class:`RowLevelSecurity` for it to apply."""

    kind = "policy"

    def __init__(self, name: str, definition: str = "", *, table: str, schema: str | None = None,
                 metadata: Any = None):
        super().__init__(name, definition, schema=schema, metadata=metadata, table=table)


class RowLevelSecurity(Entity):
    """``ALTER TABLE table ENABLE ROW LEVEL SECURITY`` (and ``FORCE``, which applies the policies to the table's
    owner too): a fact of the table, named after it."""

    kind = "row security"

    def __init__(self, table: str, *, forced: bool = False, schema: str | None = None, metadata: Any = None):
        options: dict[str, Any] = {"forced": True} if forced else {}
        super().__init__(table, schema=schema, metadata=metadata, **options)


class Grant(Entity):
    """``GRANT <privileges> ON table TO role`` (``"SELECT, INSERT"``; ``"SELECT WITH GRANT OPTION"``), ``role``
    ``"PUBLIC"`` for everyone; with ``database_config(manage_grants=True)``. Roles themselves stay outside."""

    kind = "grant"

    def __init__(self, role: str, privileges: str, *, table: str, sequence: bool = False, schema: str | None = None,
                 metadata: Any = None):
        super().__init__(role, privileges, schema=schema, metadata=metadata, table=table,
                         **({"sequence": True} if sequence else {}))


def argument_list(definition: str) -> str:
    """The leading parenthesized argument list of ``definition`` (quotes and nesting respected), or ''."""
    text = definition.lstrip()
    if not text.startswith("("):
        return ""
    depth, quote = 0, ""
    for n, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[:n + 1]
    return ""


ROUTINES = ("function", "procedure", "aggregate")  # kinds told apart by their arguments too
PROCEDURAL = (*ROUTINES, "trigger", "event")  # code written for one engine (the --dev translation drops it)
KINDS: dict[str, type[Entity]] = {cls.kind: cls for cls in (Schema, Collation, Extension, TextSearchDictionary,
                                                             TextSearchConfiguration, Function, Procedure, Aggregate,
                                                             Trigger, Event, Rule, Policy, RowLevelSecurity, Grant)}


def declared(metadata: Any) -> list[Entity]:
    """The entities attached to ``metadata``."""
    return list((getattr(metadata, "info", None) or {}).get(INFO_KEY, {}).values())
