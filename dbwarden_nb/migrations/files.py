"""Migration files on disk: the plain-SQL format, its parser, its renderer and the statement splitter.

A file looks like::

    -- dbwarden migration 0003: add order indexes
    -- backend: postgresql
    -- base: sha256:<checksum of the snapshot it starts from>
    -- target: sha256:<checksum of the snapshot it produces>
    -- severity: INFO
    -- upgrade
    CREATE INDEX ix_orders_created ON orders (created_at);
    -- rollback
    DROP INDEX ix_orders_created;

A statement may carry checks of the data, run just before it (``-- dbwarden: check {"sql": …, "what": …, "hard":
false}``, one JSON object): the SQL counts the rows that make the statement fail (a soft check: ``migrate`` asks for
``--force`` when it counts some) or lose values (a hard one: the migration stops, whatever the flags).

A rollback statement may say which upgrade statements it undoes (``-- dbwarden: undoes 2`` or ``undoes 2-3``, one
step of the migration): a migration that stopped half-way can then be undone by just the statements that undo what
ran of it.

Statements are read by the lexical rules of the file's ``-- backend:`` (``sqllex``; a dev section by its dev
backend's): MySQL, MariaDB and ClickHouse strings take backslash escapes, MySQL has ``#`` comments and the mysql
client's ``DELIMITER`` command (refused elsewhere), SQLite ``[names]``.

Every malformed input raises :class:`MigrationFileError` with one line naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from dbwarden_nb.backends import lexical as backend_lexical
from dbwarden_nb.errors import MigrationFileError
from dbwarden_nb.session import view

from .. import sqllex

__all__ = [
    "SEVERITIES",
    "MigrationFile",
    "Section",
    "Statement",
    "migration_filename",
    "parse_migration",
    "read_backends",
    "read_migrations",
    "slugify",
    "split_statements",
    "with_directives",
]

SEVERITIES = ("INFO", "WARN", "CRITICAL")

_SLUG_MAX = 60
_TITLE = re.compile(r"--\s*dbwarden\s+migration\s+([0-9]{4,9})\s*:(.*)")
_HEADER = re.compile(r"--\s*(backend|base|target|severity|undo-severity|generated|renames)\s*:(.*)")
_MARKER = re.compile(r"--\s*(?:(upgrade|rollback)\s*|(dev-upgrade|dev-rollback)\b(.*))")
_DEV_BACKEND = re.compile(r"\s*:\s*([A-Za-z0-9_.+-]+)\s*")
_DIRECTIVE = re.compile(r"--\s*dbwarden\s*:(.*)")
_UNDOES = re.compile(r"([0-9]{1,9})(?:\s*-\s*([0-9]{1,9}))?")
_BACKEND = re.compile(r"[A-Za-z0-9_.+-]+")
_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}")
_FILENAME = re.compile(r"([0-9]+)_(.+)\.sql")

_WORD = re.compile(r"\w[\w$]*")
_NON_SPACE = re.compile(r"[^\s\ufeff]")  # a byte-order mark inside the text (files joined by cat) is space
# The mysql client's DELIMITER command: the rest of its line is the new delimiter.
_DELIMITER = re.compile(r"delimiter(?![\w$])[ \t]*(\S*)[ \t]*(?=\n|\Z)", re.IGNORECASE)
_DELIMITER_WORD = re.compile(r"delimiter(?![\w$])", re.IGNORECASE)
_BAD_DELIMITER = re.compile(r"['\"`\\#]|--|/\*")
# Words that may follow END without closing a BEGIN (MySQL compound statements); END CASE closes a CASE.
_END_SUFFIX = re.compile(r"\s+(IF|LOOP|WHILE|REPEAT|CASE)\b", re.IGNORECASE)
# The first of these after CREATE/ALTER tells what is being created; only routines have BEGIN ... END bodies,
# so a column named "begin" in CREATE TABLE or a transaction's "BEGIN;" never opens a block.
_OBJECT_KINDS = frozenset(
    "TABLE VIEW INDEX SEQUENCE TYPE SCHEMA DATABASE DOMAIN EXTENSION ROLE USER POLICY RULE"
    " TRIGGER PROCEDURE FUNCTION EVENT".split()
)
_ROUTINES = frozenset({"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"})


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a section, with the directives that preceded it."""

    sql: str
    transactional: bool = True
    irreversible: str | None = None
    undoes: tuple[int, int] | None = None  # the upgrade statements (first, last; from 1) this rollback statement undoes
    checks: tuple[RowCheck, ...] = ()  # run just before it; like ``undoes``, not part of the checksum


@dataclass(frozen=True)
class RowCheck:
    """A query counting the rows that make a statement fail (``hard=False``) or lose values (``hard=True``)."""

    sql: str
    what: str  # "rows of orders with NULL in customer_id"
    hard: bool = False

    def directive(self) -> str:
        doc = {"sql": self.sql, "what": self.what, "hard": self.hard}
        return "-- dbwarden: check " + json.dumps(doc, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class MigrationFile:
    """A parsed migration file. ``render()`` gives its exact text; ``parse_migration(m.render()) == m``."""

    version: int
    description: str
    upgrade: tuple[Statement, ...]
    rollback: tuple[Statement, ...]
    backend: str | None = None
    base: str | None = None
    target: str | None = None
    severity: str = "INFO"
    rollback_severity: str = "INFO"
    generated: str | None = None  # the checksum of the upgrade as make-migrations wrote it: a different one was edited
    renames: str | None = None  # the renames the plan was made with (JSON), so that it can be made again the same way
    dev_backend: str | None = None
    dev_upgrade: tuple[Statement, ...] | None = None
    dev_rollback: tuple[Statement, ...] | None = None
    path: Path | None = field(default=None, compare=False)
    # (checksum, content_checksum) of the text it was parsed from; None for one built in code (its rendered text)
    text_checksums: tuple[str, str] | None = field(default=None, init=False, compare=False, repr=False)

    def __getattr__(self, name: str) -> Any:
        # Only reached for a missing attribute: the statements of a file read_migrations read header-only.
        source = self.__dict__.get("_source")
        if source is None or name not in _STATEMENT_FIELDS:
            raise AttributeError(name)
        full = source.parse()
        for key in _STATEMENT_FIELDS:
            object.__setattr__(self, key, getattr(full, key))
        return getattr(full, name)

    @property
    def checksum(self) -> str:
        """``sha256:<hex>`` of the upgrade section's lines, blind to whitespace at line ends, blank lines and line
        endings; computed from the file's text without splitting it into statements (see :meth:`matches`)."""
        return self._checksums()[0]

    @property
    def content_checksum(self) -> str:
        """The checksum of both sections: what make-migrations records as ``generated`` (see :attr:`edited`)."""
        return self._checksums()[1]

    def _checksums(self) -> tuple[str, str]:
        if self.text_checksums is not None:
            return self.text_checksums
        digests = {marker[3:]: _lines_digest(_render_section(marker, getattr(self, marker[3:]))[1:])
                   for marker in ("-- upgrade", "-- rollback")}
        return _sums(digests["upgrade"], digests["rollback"])

    @property
    def legacy_checksums(self) -> tuple[str, str]:
        """(checksum, content checksum) of the first kind, of the split statements, as history and ``-- generated:``
        recorded them before checksums were of the text (a database migrated then holds them)."""
        source = self.__dict__.get("_source")
        if source is not None and "upgrade" not in self.__dict__:
            return source.legacy()
        return _legacy_sums(self.upgrade, self.rollback)

    def matches(self, checksum: str) -> bool:
        """Whether a recorded checksum is this file's upgrade: of either kind (the first kind costs a split, once
        per content with the parsed-file cache)."""
        return checksum == self.checksum or checksum == self.legacy_checksums[0]

    def section(self, name: str) -> Sequence[Statement] | None:
        """The statements of section ``name`` (``upgrade``, ``rollback``, ``dev-upgrade``, ``dev-rollback``; None for
        dev sections the file does not have). A file read header-only is split once, keeping where each statement
        lies rather than the statements (``migrate`` runs a file of any size this way); a file parsed whole or
        built in code answers with its tuples."""
        attribute = name.replace("-", "_")
        source = self.__dict__.get("_source")
        if source is None or attribute in self.__dict__:
            return getattr(self, attribute)
        if "_sections" not in self.__dict__:
            object.__setattr__(self, "_sections", source.sections())
        return self.__dict__["_sections"].get(name)

    @property
    def filename(self) -> str:
        return migration_filename(self.version, self.description)

    @property
    def irreversible(self) -> tuple[str, ...]:
        """Reasons of the rollback statements marked irreversible; non-empty means rollback needs --force."""
        return tuple(s.irreversible for s in self.rollback if s.irreversible is not None)

    @property
    def is_manual(self) -> bool:
        """Written by hand (``dbwarden new``) rather than generated from a snapshot diff."""
        return self.target is None

    @property
    def edited(self) -> bool:
        """Generated, then changed by hand: its statements, not its header, say what it does."""
        return (self.generated is not None and self.generated != self.content_checksum
                and self.generated != self.legacy_checksums[1])

    def render_dev_sections(self) -> str:
        """The ``-- dev-upgrade``/``-- dev-rollback`` sections' text ("" without them); also what
        ``translate --add-dev-sections`` appends to a file written before them."""
        if self.dev_backend is None:
            return ""
        lines = _render_section(f"-- dev-upgrade: {self.dev_backend}", self.dev_upgrade or ())
        lines += _render_section(f"-- dev-rollback: {self.dev_backend}", self.dev_rollback or ())
        return "\n".join(lines) + "\n"

    def render(self) -> str:
        """The file's text. Raises ValueError if the result would not parse back to this migration."""
        lines = [f"-- dbwarden migration {self.version:04d}: {self.description}".rstrip()]
        for key, value in (("backend", self.backend), ("base", self.base), ("target", self.target)):
            if value is not None:
                lines.append(f"-- {key}: {value}")
        lines.append(f"-- severity: {self.severity}")
        if self.rollback_severity != "INFO":
            lines.append(f"-- undo-severity: {self.rollback_severity}")
        for key, value in (("generated", self.generated), ("renames", self.renames)):
            if value is not None:
                lines.append(f"-- {key}: {value}")
        lines += _render_section("-- upgrade", self.upgrade)
        lines += _render_section("-- rollback", self.rollback)
        text = "\n".join(lines) + "\n" + self.render_dev_sections()
        # Statements built in code (not by split_statements) can hold a stray ';' or an open quote; writing
        # such a file would silently change its statements and checksum, so refuse instead.
        try:
            parsed = parse_migration(text)
        except MigrationFileError as err:
            raise ValueError(f"migration {self.version:04d} cannot be rendered: {err}") from None
        if parsed != self:
            raise ValueError(
                f"migration {self.version:04d} does not survive a render/parse round trip;"
                " build its statements with split_statements()"
            )
        return text

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return view("mimebundle", self)  # registered by the notebook layer


# A class-level default would answer for a file read header-only before __getattr__ could parse its dev sections;
# the generated __init__ keeps its own copy of the defaults.
del MigrationFile.dev_upgrade, MigrationFile.dev_rollback


def statements_checksum(statements: tuple[Statement, ...]) -> str:
    """``sha256:...`` of statements, whitespace at line ends and comments between statements aside (seeds too)."""
    return _checksum(statements)


# A digest of a section's lines starts with this tag; the first kind hashed JSON (starting with '['), so a checksum of
# one kind never equals one of the other for other content.
_SECTION_TAG = b"dbwarden-section/2\n"
_CONTENT_TAG = b"dbwarden-content/2\n"
_STATEMENT_FIELDS = ("upgrade", "rollback", "dev_upgrade", "dev_rollback")


def _lines_digest(lines: Iterable[str]) -> Any:
    digest = hashlib.sha256(_SECTION_TAG)
    for text in lines:
        for line in text.split("\n"):
            _digest_line(digest, line)
    return digest


def _digest_line(digest: Any, line: str) -> None:
    """Add a section's line: blank lines and whitespace at line ends are not part of a checksum."""
    line = line.rstrip()
    if line:
        digest.update(line.encode("utf-8", "surrogatepass") + b"\n")


def _sums(upgrade: Any, rollback: Any) -> tuple[str, str]:
    content = hashlib.sha256(_CONTENT_TAG + upgrade.digest() + rollback.digest())
    return "sha256:" + upgrade.hexdigest(), "sha256:" + content.hexdigest()


def _legacy_sums(upgrade: tuple[Statement, ...], rollback: tuple[Statement, ...]) -> tuple[str, str]:
    return _checksum(upgrade), _checksum(upgrade + (Statement("-- rollback"),) + rollback)


def _checksum(statements: tuple[Statement, ...]) -> str:
    canonical = [["\n".join(line.rstrip() for line in s.sql.split("\n")), s.transactional, s.irreversible]
                 for s in statements]
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    # surrogatepass: a str built in code may hold lone surrogates, and a checksum must never fail.
    return "sha256:" + hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def _render_section(marker: str, statements: tuple[Statement, ...]) -> list[str]:
    lines = [marker]
    for statement in statements:
        if not statement.transactional:
            lines.append("-- dbwarden: no-transaction")
        if statement.irreversible is not None:
            lines.append(f"-- dbwarden: irreversible {statement.irreversible}")
        if statement.undoes is not None:
            first, last = statement.undoes
            lines.append(f"-- dbwarden: undoes {first}" + (f"-{last}" if last != first else ""))
        lines += [check.directive() for check in statement.checks]
        lines.append(statement.sql + ";")
    return lines


def slugify(name: str) -> str:
    """File-name slug of a migration name: lowercase ``[a-z0-9_]``, at most 60 characters, never empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_]+", "_", ascii_name.lower()).strip("_")
    return slug[:_SLUG_MAX].rstrip("_") or "migration"


def migration_filename(version: int, name: str) -> str:
    """``0003_add_order_indexes.sql`` for ``(3, "Add order indexes")``."""
    if version < 1:
        raise ValueError(f"migration numbers start at 1, got {version}")
    return f"{version:04d}_{slugify(name)}.sql"


def split_statements(sql: str, dialect: str | sqllex.Lexical | None = None) -> list[Statement]:
    """Split SQL text into statements, honouring quotes, comments, dollar quotes, BEGIN ... END and directives, as
    ``dialect`` (a backend name or its lexical rules) reads them; without one, ANSI: every quote doubled."""
    lexical = dialect if isinstance(dialect, sqllex.Lexical) else backend_lexical(dialect)
    ((_, section),) = _Splitter(_normalize(sql), None, 1, sections=False, lexical=lexical).run()
    return list(section)


def parse_migration(text: str, path: Path | None = None) -> MigrationFile:
    """Parse a migration file's text; ``path`` names the file in errors and is checked against the header."""
    head, sections = _split_file(_normalize(text), path)

    def statements(name: str) -> tuple[Statement, ...]:
        return tuple(sections[name])

    has_dev = "dev-upgrade" in sections
    m = MigrationFile(
        upgrade=statements("upgrade"),
        rollback=statements("rollback"),
        dev_upgrade=statements("dev-upgrade") if has_dev else None,
        dev_rollback=statements("dev-rollback") if has_dev else None,
        **head.fields(path),
    )
    object.__setattr__(m, "text_checksums", head.checksums)
    return m


def _split_file(text: str, path: Path | None, head: _Head | None = None) -> tuple[_Head, dict[str, Section]]:
    """A file's (normalized) text read whole: its head (``head``: read before from this text) and every section's
    statements, found by one split."""
    source = str(path) if path is not None else None
    head = head or _read_head(text, source, path)
    # the sections' text starts at the first marker's line: offsets stay those of ``text``, lines are counted on
    parts = _Splitter(text, source, head.first_section + 1, sections=True,
                      lexical=_file_lexical(head.headers), start=head.section_offset).run()
    _same_markers(head.markers, [marker for marker, _ in parts], source)
    return head, _group_sections(parts, source)


class Section(Sequence[Statement]):
    """The statements of one section, kept as where each lies in the file's text rather than as objects: a statement
    is built when asked for, so a file of hundreds of thousands of statements runs without being held whole
    (``MigrationFile.section``). Statements with directives keep them aside, by index."""

    __slots__ = ("_directives", "_spans", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans = array("q")  # start, end, line of each statement
        self._directives: dict[int, tuple[bool, str | None, tuple[int, int] | None, tuple[RowCheck, ...]]] = {}

    def _add(self, start: int, end: int, line: int, directives: tuple[bool, str | None, tuple[int, int] | None,
                                                                         tuple[RowCheck, ...]]) -> None:
        if directives != _NO_DIRECTIVES:
            self._directives[len(self)] = directives
        self._spans.extend((start, end, line))

    def __len__(self) -> int:
        return len(self._spans) // 3

    @overload
    def __getitem__(self, index: int) -> Statement: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Statement, ...]: ...

    def __getitem__(self, index: int | slice) -> Statement | tuple[Statement, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        sql = self.text[self._spans[3 * index]:self._spans[3 * index + 1]]
        directives = self._directives.get(index)
        return Statement(sql) if directives is None else Statement(sql, *directives)

    def __iter__(self) -> Iterator[Statement]:
        for index in range(len(self)):
            yield self[index]

    def line(self, index: int) -> int:
        """The line of the file where statement ``index`` (from 0) starts."""
        return self._spans[3 * index + 2]

    def with_directives(self) -> Iterator[tuple[int, Statement]]:
        """(index, statement) of the statements that carry a directive (the others have none to look at)."""
        for index in sorted(self._directives):
            yield index, self[index]


_NO_DIRECTIVES: tuple[bool, None, None, tuple[RowCheck, ...]] = (True, None, None, ())


def with_directives(statements: Sequence[Statement]) -> Iterator[tuple[int, Statement]]:
    """(index, statement) of the statements that carry a directive; of a :class:`Section`, without building the
    others."""
    if isinstance(statements, Section):
        yield from statements.with_directives()
        return
    for index, s in enumerate(statements):
        if (s.transactional, s.irreversible, s.undoes, s.checks) != _NO_DIRECTIVES:
            yield index, s


@dataclass
class _Head:
    """What a file says without splitting its statements: the header, where its sections start, their checksums."""

    version: int
    description: str
    headers: dict[str, tuple[str, int]]
    first_section: int  # index of the first section marker line
    markers: list[_Marker]
    checksums: tuple[str, str]
    section_offset: int  # where that line starts in the text

    def fields(self, path: Path | None) -> dict[str, Any]:
        def header(key: str, default: str | None = None) -> str | None:
            return self.headers[key][0] if key in self.headers else default

        dev = next((m.backend for m in self.markers if m.name == "dev-upgrade"), None)
        return {"version": self.version, "description": self.description, "backend": header("backend"),
                "base": header("base"), "target": header("target"), "severity": header("severity", "INFO"),
                "rollback_severity": header("undo-severity", "INFO"), "generated": header("generated"),
                "renames": header("renames"), "dev_backend": dev, "path": path}


def _read_head(text: str, source: str | None, path: Path | None) -> _Head:
    """What a file's (normalized) text says without splitting its statements: its title and headers, its section
    markers (found by a scan of its strings and comments alone: a marker-like line inside a string is content) and
    a digest of each section's lines."""
    lines = _lines(text)
    first = next(lines, (1, 0, ""))[2]
    title = _TITLE.fullmatch(first.strip())
    if title is None:
        raise _error(source, 1, "first line must be '-- dbwarden migration NNNN: description'")
    version = int(title.group(1))
    if version < 1:
        raise _error(source, 1, "migration numbers start at 0001")
    headers: dict[str, tuple[str, int]] = {}
    for number, offset, line in lines:
        stripped = line.strip()
        if _MARKER.fullmatch(stripped):
            break
        if stripped:
            _header_line(headers, stripped, number, source)
    else:
        raise _error(source, None, "missing '-- upgrade' section")
    markers = _scan_markers(text, offset, number, source, _file_lexical(headers))
    _check_headers(headers, source)
    _check_markers([m for m, _, _ in markers], source)
    if (path is not None and (named := _FILENAME.fullmatch(path.name)) and len(named.group(1)) <= 9
            and int(named.group(1)) != version):
        raise _error(source, None, f"file name {path.name} does not match its header version {version:04d}")
    digests = {}
    for n, (marker, body, _) in enumerate(markers):
        stop = markers[n + 1][2] if n + 1 < len(markers) else len(text)
        digests[marker.name] = _lines_digest_of(text, body, stop)
    return _Head(version, title.group(2).strip(), headers, markers[0][0].line - 1, [m for m, _, _ in markers],
                 _sums(digests["upgrade"], digests["rollback"]), markers[0][2])


def _lines(text: str, start: int = 0, number: int = 1) -> Iterator[tuple[int, int, str]]:
    """(line number, offset, line) from ``start``, without building a list of them."""
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        yield number, start, text[start:end]
        start, number = end + 1, number + 1


def _lines_digest_of(text: str, start: int, stop: int) -> Any:
    digest = hashlib.sha256(_SECTION_TAG)
    while start < stop:
        end = text.find("\n", start, stop)
        end = stop if end == -1 else end
        _digest_line(digest, text[start:end])
        start = end + 1
    return digest


def _file_lexical(headers: dict[str, tuple[str, int]]) -> sqllex.Lexical:
    """How a file's SQL is lexed: by its ``-- backend:`` header (ANSI without one)."""
    return backend_lexical(headers["backend"][0] if "backend" in headers else None)


def _section_lexical(marker: _Marker, file_lexical: sqllex.Lexical) -> sqllex.Lexical:
    """A dev section holds its dev backend's SQL (SQLite's); the others the file's."""
    return backend_lexical(marker.backend) if marker.backend is not None else file_lexical


def _scan_markers(text: str, pos: int, line: int, source: str | None,
                  lexical: sqllex.Lexical) -> list[tuple[_Marker, int, int]]:
    """The section markers from offset ``pos`` (line ``line``): each with where its section's first line starts and
    where its own line starts. Reads strings, quoted names, dollar quotes and comments with the lexer the splitter
    uses (so a marker-like line inside them is content, and an unterminated one is the splitter's error), and
    nothing else: a few regular-expression searches per statement instead of a step per token."""
    out: list[tuple[_Marker, int, int]] = []
    base, base_line, file_lexical = pos, line, lexical
    search = lexical.pattern().search

    def line_of(at: int) -> int:
        return base_line + text.count("\n", base, at)

    while (found := search(text, pos)) is not None:
        at, token = found.start(), found.group()
        try:
            pos = lexical.token_end(text, at, token)
        except sqllex.Unterminated as err:
            raise _error(source, line_of(err.at), str(err)) from None
        if token == "--":
            start = text.rfind("\n", 0, at) + 1
            if not text[start:at].strip() and (marker := _MARKER.fullmatch(comment := text[at:pos].rstrip())):
                found_marker = _marker(marker, comment, line_of(at), source)
                out.append((found_marker, pos + 1, start))
                lexical = _section_lexical(found_marker, file_lexical)
                search = lexical.pattern().search
    return out


def _header_line(headers: dict[str, tuple[str, int]], stripped: str, number: int, source: str | None) -> None:
    if not stripped.startswith("--"):
        raise _error(source, number, "SQL before the '-- upgrade' section")
    if _DIRECTIVE.match(stripped):
        raise _error(source, number, "'-- dbwarden:' directives belong inside a section")
    # Other comments are free notes; only the known keys are headers.
    if header := _HEADER.fullmatch(stripped):
        key = header.group(1)
        if key in headers:
            raise _error(source, number, f"duplicate '-- {key}:' header")
        headers[key] = (header.group(2).strip(), number)


def _same_markers(markers: list[_Marker], split: list[_Marker | None], source: str | None) -> None:
    """The splitter finds the sections where the scan of strings and comments found them (checksums and header-only
    reads go by the scan); a difference would be a bug of one of them, never a file to run."""
    if [(m.name, m.line) for m in markers] != [(m.name, m.line) for m in split if m is not None]:
        raise _error(source, None, "its sections are read differently by the statement splitter and the section "
                                   "scan (a bug of dbwarden: please report it with the file)")


@dataclass(frozen=True)
class _Source:
    """Where a file read header-only gets its statements, when something asks for them."""

    path: Path
    cache: Path | None
    checksums: tuple[str, str]
    head: _Head
    digest: bytes  # SHA-256 of the bytes the head was read from

    def parse(self) -> MigrationFile:
        from ..parsed import parsed

        data = _read_bytes(self.path)
        return self._same(parsed(self.cache, "migration", str(self.path), data,
                                 lambda: parse_migration(_decode(self.path, data), self.path), (__name__,)))

    def sections(self) -> dict[str, Section]:
        """Every section's statements as spans of the text: one split, statements not kept (not cached either: the
        cache would hold them all)."""
        data = _read_bytes(self.path)
        if hashlib.sha256(data).digest() != self.digest:
            self._unchanged(None)
        return _split_file(_normalize(_decode(self.path, data)), self.path, self.head)[1]

    def legacy(self) -> tuple[str, str]:
        """The first kind of checksums, cached alone (a few bytes) rather than with the statements."""
        from ..parsed import parsed

        data = _read_bytes(self.path)
        return parsed(self.cache, "legacy-checksums", str(self.path), data,
                      lambda: self._same(parse_migration(_decode(self.path, data), self.path)).legacy_checksums,
                      (__name__,))

    def _same(self, full: MigrationFile) -> MigrationFile:
        self._unchanged(full.text_checksums)
        return full

    def _unchanged(self, checksums: tuple[str, str] | None) -> None:
        if checksums != self.checksums:
            raise MigrationFileError(f"{self.path}: changed while it was being read; run the command again")


def _read_lazy(path: Path, cache: Path | None) -> MigrationFile:
    """A migration file's header and checksums; its statements are parsed when something first asks for them."""
    from ..parsed import parsed

    data = _read_bytes(path)
    # the scan of a large file's strings takes seconds (8 s at 800,000 statements): read once per content
    head = parsed(cache, "head", str(path), data, lambda: _read_head(_normalize(_decode(path, data)), str(path), path),
                  (__name__,))
    m = object.__new__(MigrationFile)
    for key, value in head.fields(path).items():
        object.__setattr__(m, key, value)
    object.__setattr__(m, "text_checksums", head.checksums)
    object.__setattr__(m, "_source", _Source(path, cache, head.checksums, head, hashlib.sha256(data).digest()))
    return m


def read_migrations(directory: Path, cache: Path | None = None, shared_numbers: bool = False) -> list[MigrationFile]:
    """All ``NNNN_name.sql`` files of a directory, sorted by version; a missing directory has none. With
    ``cache`` (a folder), a file whose content was parsed before is not parsed again (``parsed.py``). Two files
    with one number (a git merge of two branches) are refused, unless ``shared_numbers`` (``dbwarden rebase``):
    then both are read, in file name order."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise MigrationFileError(f"{directory}: not a directory")
    try:
        entries = sorted(directory.iterdir())
    except OSError as err:
        raise MigrationFileError(f"{directory}: cannot list: {err.strerror or err}") from None

    by_version: dict[int, list[Path]] = {}
    for entry in entries:
        # Dot-files are editor backups and lock files (e.g. emacs' .#0001_x.sql), not migrations.
        if entry.name.startswith(".") or entry.suffix != ".sql" or not entry.is_file():
            continue
        named = _FILENAME.fullmatch(entry.name)
        digits = named.group(1) if named else ""
        if not named or len(digits) > 9 or f"{int(digits):04d}" != digits or int(digits) == 0:
            raise MigrationFileError(
                f"{entry}: bad migration file name '{entry.name}'; expected NNNN_name.sql, e.g. 0001_create_users.sql"
            )
        by_version.setdefault(int(digits), []).append(entry)

    for version, paths in by_version.items():
        if len(paths) > 1 and not shared_numbers:
            count = "two" if len(paths) == 2 else str(len(paths))
            names = ", ".join(p.name for p in paths)
            raise MigrationFileError(f"{directory}: {count} migration files with number {version:04d}: {names} "
                                     "(two branches merged?): run 'dbwarden rebase' to renumber and re-plan them")
    return [_read_lazy(path, cache) for _, paths in sorted(by_version.items()) for path in paths]


def read_backends(directory: Path) -> dict[Path, str | None]:
    """The ``-- backend:`` header of every migration file of a directory, read from the file's first lines only:
    the statements of a large file are never read, let alone split. Files whose header is malformed are left to
    :func:`read_migrations` to report."""
    found: dict[Path, str | None] = {}
    if not directory.is_dir():
        return found
    for entry in sorted(directory.glob("[0-9]*.sql")):
        if not entry.is_file() or not _FILENAME.fullmatch(entry.name):
            continue
        backend = None
        try:
            with entry.open(encoding="utf-8", errors="replace") as lines:
                for number, line in enumerate(lines):
                    stripped = line.strip().removeprefix("\ufeff")
                    if _MARKER.fullmatch(stripped) or (number and stripped and not stripped.startswith("--")):
                        break
                    header = _HEADER.fullmatch(stripped)
                    if header and header.group(1) == "backend":
                        backend = header.group(2).strip()
                        break
        except OSError:
            continue  # read_migrations names what cannot be read
        found[entry] = backend
    return found


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise MigrationFileError(f"{path}: cannot read: {err.strerror or err}") from None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise MigrationFileError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[err.start]:02x})") from None


def _normalize(text: str) -> str:
    # Files edited on Windows must parse (and checksum) exactly like their LF twins.
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _error(source: str | None, line: int | None, message: str) -> MigrationFileError:
    if source is None:
        return MigrationFileError(message if line is None else f"line {line}: {message}")
    return MigrationFileError(f"{source}: {message}" if line is None else f"{source}:{line}: {message}")


def _check_headers(headers: dict[str, tuple[str, int]], source: str | None) -> None:
    for key in ("severity", "undo-severity"):
        if key in headers:
            severity, line = headers[key]
            if severity not in SEVERITIES:
                raise _error(source, line, f"unknown {key} '{severity}'; use one of {', '.join(SEVERITIES)}")
    if "renames" in headers:
        text, line = headers["renames"]
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise _error(source, line, "'-- renames:' must be one JSON object (as make-migrations writes it)")
    if "backend" in headers:
        backend, line = headers["backend"]
        if not _BACKEND.fullmatch(backend):
            raise _error(source, line, f"invalid backend name '{backend}'")
    for key in ("base", "target", "generated"):
        if key in headers:
            value, line = headers[key]
            if not _CHECKSUM.fullmatch(value):
                raise _error(source, line, f"{key} must be 'sha256:' and 64 lowercase hex digits, got '{value}'")


@dataclass(frozen=True)
class _Marker:
    name: str  # upgrade | rollback | dev-upgrade | dev-rollback
    backend: str | None
    line: int


def _check_markers(markers: list[_Marker], source: str | None) -> None:
    """The sections a file must have, once each; dev sections in pairs, for one backend."""
    named: dict[str, _Marker] = {}
    for marker in markers:
        if marker.name in named:
            raise _error(source, marker.line, f"duplicate '-- {marker.name}' section")
        named[marker.name] = marker
    for required in ("upgrade", "rollback"):
        if required not in named:
            raise _error(source, None, f"missing '-- {required}' section")
    dev_upgrade, dev_rollback = named.get("dev-upgrade"), named.get("dev-rollback")
    if dev_upgrade is None and dev_rollback is not None:
        raise _error(source, dev_rollback.line, "'-- dev-rollback' without a '-- dev-upgrade' section")
    if dev_upgrade is not None and dev_rollback is None:
        raise _error(source, dev_upgrade.line, "'-- dev-upgrade' without a '-- dev-rollback' section")
    if dev_upgrade is not None and dev_rollback is not None and dev_upgrade.backend != dev_rollback.backend:
        raise _error(source, dev_rollback.line, f"dev-rollback backend '{dev_rollback.backend}' does not match "
                                                f"dev-upgrade backend '{dev_upgrade.backend}'")


def _group_sections(parts: list[tuple[_Marker | None, Section]], source: str | None) -> dict[str, Section]:
    _check_markers([marker for marker, _ in parts if marker is not None], source)
    sections = {marker.name: section for marker, section in parts if marker is not None}
    for name in ("upgrade", "dev-upgrade"):
        section = sections.get(name)
        for index, statement in section.with_directives() if section is not None else ():
            assert section is not None  # for type checkers: the loop runs only then
            if statement.irreversible is not None:
                raise _error(source, section.line(index), "'-- dbwarden: irreversible' belongs in a rollback section")
            if statement.undoes is not None:
                raise _error(source, section.line(index), "'-- dbwarden: undoes' belongs in a rollback section")
    for name, upgrade in (("rollback", "upgrade"), ("dev-rollback", "dev-upgrade")):
        count = len(sections[upgrade]) if upgrade in sections else 0
        section = sections.get(name)
        for index, statement in section.with_directives() if section is not None else ():
            assert section is not None
            undoes = statement.undoes
            if undoes is not None and undoes[1] > count:
                raise _error(source, section.line(index), f"'-- dbwarden: undoes' names upgrade statement "
                                                          f"{undoes[1]}, but the '-- {upgrade}' section has {count}")
    return sections


def _marker(marker: re.Match[str], comment: str, line: int, source: str | None) -> _Marker:
    if marker.group(1):
        return _Marker(marker.group(1), None, line)
    backend = _DEV_BACKEND.fullmatch(marker.group(3))
    if backend is None:
        raise _error(source, line, f"expected '-- {marker.group(2)}: <backend>', got '{comment}'")
    return _Marker(marker.group(2), backend.group(1), line)


class _Splitter:
    """One pass over SQL text yielding statements and, in a migration file, section markers.

    A statement's ``sql`` is the exact text from its first to its last token: comments before and after it
    are dropped (they hold directives and notes, not SQL), comments inside it are kept. The lexer finds strings,
    quoted names, dollar quotes, comments and statement ends; the plain SQL between them is read for words only
    where they matter (the first word, what a CREATE or ALTER creates, and a routine's BEGIN ... END blocks).
    """

    def __init__(self, text: str, source: str | None, first_line: int, *, sections: bool,
                 lexical: sqllex.Lexical, start: int = 0) -> None:
        self.text = text
        self.source = source
        self.sections = sections
        self.start_pos = start
        self.line = first_line  # the line number at offset line_pos
        self.line_pos = start
        # statements go to the section of the marker before them (text that is not a file: one section, no marker)
        self.parts: list[tuple[_Marker | None, Section]] = [] if sections else [(None, Section(text))]
        self.file_lexical = lexical
        self._lexical(lexical, ";")
        self._new_statement()

    def _lexical(self, lexical: sqllex.Lexical, delimiter: str) -> None:
        self.lexical, self.delimiter = lexical, delimiter
        self.search = lexical.pattern(re.escape(delimiter)).search

    def _new_statement(self) -> None:
        self.start: int | None = None  # offset of the statement's first token
        self.end = 0
        self.start_line = 0
        self.first_word: str | None = None
        self.kind: str | None = None
        self.words = self.delimiter == ";"  # whether the words of plain SQL still matter (BEGIN ... END)
        self.depth = 0  # open BEGIN/CASE blocks of a routine body
        self.block_line = 0
        self.transactional = True
        self.irreversible: str | None = None
        self.undoes: tuple[int, int] | None = None
        self.checks: list[RowCheck] = []
        self.directive: tuple[str, int] | None = None

    def line_at(self, at: int) -> int:
        """The line of offset ``at`` (offsets asked for only grow)."""
        self.line += self.text.count("\n", self.line_pos, at)
        self.line_pos = at
        return self.line

    def run(self) -> list[tuple[_Marker | None, Section]]:
        text, pos = self.text, self.start_pos
        while True:
            found = self.search(text, pos)
            at = len(text) if found is None else found.start()
            resume = self._plain(pos, at)
            if resume is not None:
                pos = resume
                continue
            if found is None:
                break
            token = found.group()
            if found.lastindex == 1:  # the delimiter
                pos = found.end()
                if self.depth and self.delimiter == ";":
                    self._mark(at, pos)  # a ';' inside a routine's BEGIN ... END
                else:
                    self._finish()
                continue
            try:
                pos = self.lexical.token_end(text, at, token)
            except sqllex.Unterminated as err:
                raise self._fail(self.line_at(err.at), str(err)) from None
            if token == "--":
                self._line_comment(at, pos)
            elif token != "/*" and token != "#":
                self._mark(at, pos)
        self._finish()
        self._no_pending_directive()
        return self.parts

    def _fail(self, line: int, message: str) -> MigrationFileError:
        return _error(self.source, line, message)

    def _mark(self, at: int, end: int) -> None:
        """A token of the statement from ``at`` to ``end``."""
        if self.start is None:
            self.start, self.start_line = at, self.line_at(at)
        self.end = end

    def _plain(self, pos: int, stop: int) -> int | None:
        """Read the plain SQL from ``pos`` to ``stop``; returns where to go on when it was a DELIMITER command."""
        text = self.text
        if not self.words and self.start is not None:
            # past the words that matter (an INSERT's values): only where the statement's text ends
            end = stop
            while end > pos and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
                end -= 1
            if end > pos:
                self.end = end
            return None
        first = _NON_SPACE.search(text, pos, stop)
        if first is None:
            return None
        pos = first.start()
        if self.start is None and _DELIMITER_WORD.match(text, pos):
            return self._delimiter(pos)
        end = stop
        while text[end - 1].isspace() or text[end - 1] == "\ufeff":
            end -= 1
        self._mark(pos, end)
        while self.words and (word := _WORD.search(text, pos, stop)) is not None:
            pos = word.end()
            if word.start() == 0 or text[word.start() - 1] != ".":  # t.end is a column, not a keyword
                pos = self._keyword(word.group().upper(), pos, word.start())
        return None

    def _delimiter(self, at: int) -> int:
        line = self.line_at(at)
        if not self.lexical.delimiter:
            raise self._fail(line, "'DELIMITER' is a command of the mysql client, not SQL: end statements with ';' "
                                   "(BEGIN ... END bodies are read whole)")
        command = _DELIMITER.match(self.text, at)
        if command is None or not command.group(1) or _BAD_DELIMITER.search(command.group(1)):
            raise self._fail(line, "expected 'DELIMITER <delimiter>' alone on its line (no quotes, backslashes or "
                                   "comment marks in the delimiter)")
        self._lexical(self.lexical, command.group(1))
        self.words = self.delimiter == ";"
        return command.end()

    def _finish(self) -> None:
        if self.start is None:
            return  # only comments and whitespace: not a statement
        if self.depth:
            raise self._fail(self.block_line, "unterminated BEGIN ... END block")
        if not self.parts:
            raise self._fail(self.start_line, "SQL before the '-- upgrade' section")
        self.parts[-1][1]._add(self.start, self.end, self.start_line,
                               (self.transactional, self.irreversible, self.undoes, tuple(self.checks)))
        self._new_statement()

    def _no_pending_directive(self) -> None:
        if self.directive is not None:
            comment, line = self.directive
            raise self._fail(line, f"'{comment}' is not followed by a statement")

    def _line_comment(self, at: int, end: int) -> None:
        text = self.text
        comment = text[at:end].rstrip()
        own_line = not text[text.rfind("\n", 0, at) + 1 : at].strip()
        marker = _MARKER.fullmatch(comment) if self.sections and own_line else None
        if marker:
            # A section marker also ends a statement whose ';' was forgotten.
            self._finish()
            self._no_pending_directive()
            found = _marker(marker, comment, self.line_at(at), self.source)
            self.parts.append((found, Section(self.text)))
            self._lexical(_section_lexical(found, self.file_lexical), ";")
            self.words = True
        elif directive := _DIRECTIVE.match(comment):
            self._directive(comment, directive.group(1).strip(), own_line, self.line_at(at))

    def _directive(self, comment: str, body: str, own_line: bool, line: int) -> None:
        if not own_line or self.start is not None:
            raise self._fail(line, f"'{comment}' must be on its own line before the statement it applies to")
        if body == "no-transaction":
            if not self.transactional:
                raise self._fail(line, f"duplicate directive '{comment}'")
            self.transactional = False
        elif body.split(maxsplit=1)[:1] == ["irreversible"]:
            reason = body.removeprefix("irreversible").strip()
            if not reason:
                raise self._fail(line, "'-- dbwarden: irreversible' needs a reason")
            if self.irreversible is not None:
                raise self._fail(line, f"duplicate directive '{comment}'")
            self.irreversible = reason
        elif body.split(maxsplit=1)[:1] == ["undoes"]:
            steps = _UNDOES.fullmatch(body.removeprefix("undoes").strip())
            if steps is None or int(steps.group(1)) < 1 or int(steps.group(2) or steps.group(1)) < int(steps.group(1)):
                raise self._fail(line, f"expected '-- dbwarden: undoes N' or 'undoes N-M' (upgrade statements, "
                                       f"from 1), got '{comment}'")
            if self.undoes is not None:
                raise self._fail(line, f"duplicate directive '{comment}'")
            self.undoes = (int(steps.group(1)), int(steps.group(2) or steps.group(1)))
        elif body.split(maxsplit=1)[:1] == ["check"]:
            self.checks.append(self._check(body.removeprefix("check").strip(), comment, line))
        else:
            raise self._fail(line, f"unknown directive '{comment}'")
        self.directive = (comment, line)

    def _check(self, text: str, comment: str, line: int) -> RowCheck:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if (not isinstance(doc, dict) or not isinstance(doc.get("sql"), str) or not doc["sql"].strip()
                or not isinstance(doc.get("what", ""), str) or not isinstance(doc.get("hard", False), bool)):
            raise self._fail(line, f"expected '-- dbwarden: check {{\"sql\": \"SELECT count(*) …\", \"what\": "
                                   f"\"…\", \"hard\": false}}', got '{comment[:120]}'")
        return RowCheck(doc["sql"], doc.get("what") or "rows counted by the check", doc.get("hard", False))

    def _keyword(self, upper: str, end: int, at: int) -> int:
        """Track BEGIN ... END nesting; returns where the word ends (END IF etc. is read as one word)."""
        first = self.first_word is None
        if first:
            self.first_word = upper
            self.words = upper in ("CREATE", "ALTER")  # only they create routines
        elif self.kind is None and self.first_word in ("CREATE", "ALTER") and upper in _OBJECT_KINDS:
            self.kind = upper
            self.words = upper in _ROUTINES
        if upper == "BEGIN" and (self.depth or (not first and self.kind in _ROUTINES)):
            if not self.depth:
                self.block_line = self.line_at(at)
            self.depth += 1
        elif upper == "CASE" and self.depth:
            self.depth += 1
        elif upper == "END" and self.depth:
            suffix = _END_SUFFIX.match(self.text, end)
            if suffix is None or suffix.group(1).upper() == "CASE":
                self.depth -= 1
            if suffix is not None:
                end = suffix.end()
        return end
