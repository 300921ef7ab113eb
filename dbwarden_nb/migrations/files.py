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

Every malformed input raises :class:`MigrationFileError` with one line naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from dbwarden_nb.errors import MigrationFileError
from dbwarden_nb.session import view

__all__ = [
    "SEVERITIES",
    "MigrationFile",
    "Statement",
    "migration_filename",
    "parse_migration",
    "read_backends",
    "read_migrations",
    "slugify",
    "split_statements",
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
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")
_E_STRING_STOP = re.compile(r"[\\']")
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

    @property
    def checksum(self) -> str:
        """``sha256:<hex>`` of the upgrade statements; blind to whitespace at line ends and between statements."""
        return _checksum(self.upgrade)

    @property
    def content_checksum(self) -> str:
        """The checksum of both sections: what make-migrations records as ``generated`` (see :attr:`edited`)."""
        return _checksum(self.upgrade + (Statement("-- rollback"),) + self.rollback)

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
        return self.generated is not None and self.generated != self.content_checksum

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


def statements_checksum(statements: tuple[Statement, ...]) -> str:
    """``sha256:...`` of statements, whitespace at line ends and comments between statements aside (seeds too)."""
    return _checksum(statements)


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


def split_statements(sql: str) -> list[Statement]:
    """Split SQL text into statements, honouring quotes, comments, dollar quotes, BEGIN ... END and directives."""
    items = _Splitter(_normalize(sql), None, 1, sections=False).run()
    return [item.statement for item in items if isinstance(item, _Located)]


def parse_migration(text: str, path: Path | None = None) -> MigrationFile:
    """Parse a migration file's text; ``path`` names the file in errors and is checked against the header."""
    source = str(path) if path is not None else None
    lines = _normalize(text).split("\n")
    title = _TITLE.fullmatch(lines[0].strip())
    if title is None:
        raise _error(source, 1, "first line must be '-- dbwarden migration NNNN: description'")
    version = int(title.group(1))
    if version < 1:
        raise _error(source, 1, "migration numbers start at 0001")

    headers, first_section = _read_header(lines, source)
    items = _Splitter("\n".join(lines[first_section:]), source, first_section + 1, sections=True).run()
    sections = _group_sections(items, source)
    _check_headers(headers, source)
    if path is not None and (named := _FILENAME.fullmatch(path.name)) and len(named.group(1)) <= 9:
        if int(named.group(1)) != version:
            raise _error(source, None, f"file name {path.name} does not match its header version {version:04d}")

    def statements(name: str) -> tuple[Statement, ...]:
        return tuple(item.statement for item in sections[name][1])

    has_dev = "dev-upgrade" in sections
    return MigrationFile(
        version=version,
        description=title.group(2).strip(),
        upgrade=statements("upgrade"),
        rollback=statements("rollback"),
        backend=headers["backend"][0] if "backend" in headers else None,
        base=headers["base"][0] if "base" in headers else None,
        target=headers["target"][0] if "target" in headers else None,
        severity=headers["severity"][0] if "severity" in headers else "INFO",
        rollback_severity=headers["undo-severity"][0] if "undo-severity" in headers else "INFO",
        generated=headers["generated"][0] if "generated" in headers else None,
        renames=headers["renames"][0] if "renames" in headers else None,
        dev_backend=sections["dev-upgrade"][0].backend if has_dev else None,
        dev_upgrade=statements("dev-upgrade") if has_dev else None,
        dev_rollback=statements("dev-rollback") if has_dev else None,
        path=path,
    )


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
    from ..parsed import parsed

    out = []
    for path in (path for _, paths in sorted(by_version.items()) for path in paths):
        data = _read_bytes(path)
        out.append(parsed(cache, "migration", str(path), data,
                          lambda p=path, d=data: parse_migration(_decode(p, d), p), (__name__,)))
    return out


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


def _read_header(lines: list[str], source: str | None) -> tuple[dict[str, tuple[str, int]], int]:
    """Header values with their line numbers, and the index of the first section marker line."""
    headers: dict[str, tuple[str, int]] = {}
    for index in range(1, len(lines)):
        stripped, number = lines[index].strip(), index + 1
        if _MARKER.fullmatch(stripped):
            return headers, index
        if not stripped:
            continue
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
    raise _error(source, None, "missing '-- upgrade' section")


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


@dataclass(frozen=True)
class _Located:
    statement: Statement
    line: int


def _group_sections(
    items: list[_Marker | _Located], source: str | None
) -> dict[str, tuple[_Marker, list[_Located]]]:
    sections: dict[str, tuple[_Marker, list[_Located]]] = {}
    current: list[_Located] | None = None
    for item in items:
        if isinstance(item, _Marker):
            if item.name in sections:
                raise _error(source, item.line, f"duplicate '-- {item.name}' section")
            current = []
            sections[item.name] = (item, current)
        elif current is None:
            raise _error(source, item.line, "SQL before the '-- upgrade' section")
        else:
            current.append(item)

    for required in ("upgrade", "rollback"):
        if required not in sections:
            raise _error(source, None, f"missing '-- {required}' section")
    dev_upgrade, dev_rollback = sections.get("dev-upgrade"), sections.get("dev-rollback")
    if dev_upgrade is None and dev_rollback is not None:
        raise _error(source, dev_rollback[0].line, "'-- dev-rollback' without a '-- dev-upgrade' section")
    if dev_upgrade is not None and dev_rollback is None:
        raise _error(source, dev_upgrade[0].line, "'-- dev-upgrade' without a '-- dev-rollback' section")
    if dev_upgrade is not None and dev_rollback is not None and dev_upgrade[0].backend != dev_rollback[0].backend:
        raise _error(
            source,
            dev_rollback[0].line,
            f"dev-rollback backend '{dev_rollback[0].backend}' does not match dev-upgrade backend"
            f" '{dev_upgrade[0].backend}'",
        )
    for name in ("upgrade", "dev-upgrade"):
        for located in sections[name][1] if name in sections else ():
            if located.statement.irreversible is not None:
                raise _error(source, located.line, "'-- dbwarden: irreversible' belongs in a rollback section")
            if located.statement.undoes is not None:
                raise _error(source, located.line, "'-- dbwarden: undoes' belongs in a rollback section")
    for name, upgrade in (("rollback", "upgrade"), ("dev-rollback", "dev-upgrade")):
        count = len(sections[upgrade][1]) if upgrade in sections else 0
        for located in sections[name][1] if name in sections else ():
            undoes = located.statement.undoes
            if undoes is not None and undoes[1] > count:
                raise _error(source, located.line, f"'-- dbwarden: undoes' names upgrade statement {undoes[1]}, "
                                                   f"but the '-- {upgrade}' section has {count}")
    return sections


class _Splitter:
    """One pass over SQL text yielding statements and, in a migration file, section markers.

    A statement's ``sql`` is the exact text from its first to its last token: comments before and after it
    are dropped (they hold directives and notes, not SQL), comments inside it are kept.
    """

    def __init__(self, text: str, source: str | None, first_line: int, *, sections: bool) -> None:
        self.text = text
        self.source = source
        self.sections = sections
        self.pos = 0
        self.line = first_line
        self.line_start = 0
        self.items: list[_Marker | _Located] = []
        self._new_statement()

    def _new_statement(self) -> None:
        self.start: int | None = None  # offset of the statement's first token
        self.end = 0
        self.start_line = 0
        self.first_word: str | None = None
        self.kind: str | None = None
        self.depth = 0  # open BEGIN/CASE blocks of a routine body
        self.block_line = 0
        self.last_word = ""
        self.last_word_end = -1
        self.transactional = True
        self.irreversible: str | None = None
        self.undoes: tuple[int, int] | None = None
        self.checks: list[RowCheck] = []
        self.directive: tuple[str, int] | None = None

    def run(self) -> list[_Marker | _Located]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace() or char == "\ufeff":  # a byte-order mark inside the text (files joined by cat)
                self._advance(self.pos + 1)
            elif text.startswith("--", self.pos):
                self._line_comment()
            elif text.startswith("/*", self.pos):
                self._block_comment()
            elif char in "'\"`":
                self._quoted(char)
            elif char == "$" and (tag := _DOLLAR_TAG.match(text, self.pos)):
                self._dollar_quoted(tag.group())
            elif char == ";" and self.depth == 0:
                self._finish()
                self._advance(self.pos + 1)
            elif word := _WORD.match(text, self.pos):
                self._word(word)
            else:
                self._token(self.pos + 1)
        self._finish()
        self._no_pending_directive()
        return self.items

    def _fail(self, line: int, message: str) -> MigrationFileError:
        return _error(self.source, line, message)

    def _advance(self, to: int) -> None:
        newlines = self.text.count("\n", self.pos, to)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.pos, to) + 1
        self.pos = to

    def _token(self, end: int) -> None:
        if self.start is None:
            self.start, self.start_line = self.pos, self.line
        self.end = end
        self._advance(end)

    def _finish(self) -> None:
        if self.start is None:
            return  # only comments and whitespace: not a statement
        if self.depth:
            raise self._fail(self.block_line, "unterminated BEGIN ... END block")
        statement = Statement(self.text[self.start : self.end], self.transactional, self.irreversible, self.undoes,
                              tuple(self.checks))
        self.items.append(_Located(statement, self.start_line))
        self._new_statement()

    def _no_pending_directive(self) -> None:
        if self.directive is not None:
            comment, line = self.directive
            raise self._fail(line, f"'{comment}' is not followed by a statement")

    def _line_comment(self) -> None:
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end == -1 else end
        comment = self.text[self.pos : end].rstrip()
        own_line = not self.text[self.line_start : self.pos].strip()
        marker = _MARKER.fullmatch(comment) if self.sections and own_line else None
        if marker:
            # A section marker also ends a statement whose ';' was forgotten.
            self._finish()
            self._no_pending_directive()
            self.items.append(self._marker(marker, comment))
        elif directive := _DIRECTIVE.match(comment):
            self._directive(comment, directive.group(1).strip(), own_line)
        self._advance(end)

    def _marker(self, marker: re.Match[str], comment: str) -> _Marker:
        if marker.group(1):
            return _Marker(marker.group(1), None, self.line)
        backend = _DEV_BACKEND.fullmatch(marker.group(3))
        if backend is None:
            raise self._fail(self.line, f"expected '-- {marker.group(2)}: <backend>', got '{comment}'")
        return _Marker(marker.group(2), backend.group(1), self.line)

    def _directive(self, comment: str, body: str, own_line: bool) -> None:
        if not own_line or self.start is not None:
            raise self._fail(self.line, f"'{comment}' must be on its own line before the statement it applies to")
        if body == "no-transaction":
            if not self.transactional:
                raise self._fail(self.line, f"duplicate directive '{comment}'")
            self.transactional = False
        elif body.split(maxsplit=1)[:1] == ["irreversible"]:
            reason = body.removeprefix("irreversible").strip()
            if not reason:
                raise self._fail(self.line, "'-- dbwarden: irreversible' needs a reason")
            if self.irreversible is not None:
                raise self._fail(self.line, f"duplicate directive '{comment}'")
            self.irreversible = reason
        elif body.split(maxsplit=1)[:1] == ["undoes"]:
            steps = _UNDOES.fullmatch(body.removeprefix("undoes").strip())
            if steps is None or int(steps.group(1)) < 1 or int(steps.group(2) or steps.group(1)) < int(steps.group(1)):
                raise self._fail(self.line, f"expected '-- dbwarden: undoes N' or 'undoes N-M' (upgrade statements, "
                                            f"from 1), got '{comment}'")
            if self.undoes is not None:
                raise self._fail(self.line, f"duplicate directive '{comment}'")
            self.undoes = (int(steps.group(1)), int(steps.group(2) or steps.group(1)))
        elif body.split(maxsplit=1)[:1] == ["check"]:
            self.checks.append(self._check(body.removeprefix("check").strip(), comment))
        else:
            raise self._fail(self.line, f"unknown directive '{comment}'")
        self.directive = (comment, self.line)

    def _check(self, text: str, comment: str) -> RowCheck:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if (not isinstance(doc, dict) or not isinstance(doc.get("sql"), str) or not doc["sql"].strip()
                or not isinstance(doc.get("what", ""), str) or not isinstance(doc.get("hard", False), bool)):
            raise self._fail(self.line, f"expected '-- dbwarden: check {{\"sql\": \"SELECT count(*) …\", \"what\": "
                                        f"\"…\", \"hard\": false}}', got '{comment[:120]}'")
        return RowCheck(doc["sql"], doc.get("what") or "rows counted by the check", doc.get("hard", False))

    def _block_comment(self) -> None:
        # Not nested: SQLite and MySQL end a comment at the first */ (PostgreSQL would nest).
        end = self.text.find("*/", self.pos + 2)
        if end == -1:
            raise self._fail(self.line, "unterminated block comment")
        self._advance(end + 2)

    def _quoted(self, quote: str) -> None:
        # E'...' (PostgreSQL escape strings) is the one form where a backslash escapes the quote.
        backslashes = quote == "'" and self.last_word_end == self.pos and self.last_word in ("E", "e")
        index = self.pos + 1
        while True:
            if backslashes:
                stop = _E_STRING_STOP.search(self.text, index)
                close = stop.start() if stop else -1
            else:
                close = self.text.find(quote, index)
            if close == -1:
                what = "string literal" if quote == "'" else "quoted identifier"
                raise self._fail(self.line, f"unterminated {what}")
            if self.text[close] == "\\":
                index = close + 2
            elif self.text.startswith(quote, close + 1):
                index = close + 2  # doubled quote: an escaped quote, not the end
            else:
                break
        self._token(close + 1)

    def _dollar_quoted(self, tag: str) -> None:
        close = self.text.find(tag, self.pos + len(tag))
        if close == -1:
            raise self._fail(self.line, f"unterminated dollar-quoted string {tag}")
        self._token(close + len(tag))

    def _word(self, match: re.Match[str]) -> None:
        word, end = match.group(), match.end()
        self.last_word, self.last_word_end = word, end
        if match.start() == 0 or self.text[match.start() - 1] != ".":  # t.end is a column, not a keyword
            end = self._keyword(word.upper(), end)
        self._token(end)

    def _keyword(self, upper: str, end: int) -> int:
        """Track BEGIN ... END nesting; returns where the word ends (END IF etc. is read as one word)."""
        first = self.first_word is None
        if first:
            self.first_word = upper
        elif self.kind is None and self.first_word in ("CREATE", "ALTER") and upper in _OBJECT_KINDS:
            self.kind = upper
        if upper == "BEGIN" and (self.depth or (not first and self.kind in _ROUTINES)):
            if not self.depth:
                self.block_line = self.line
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
