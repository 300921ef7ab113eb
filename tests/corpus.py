"""Runner for the sqldef declarative-diff corpus (``../shared/corpus/sqldef/``), for any backend.

Each case is a ``current`` and a ``desired`` schema. For every case the runner

1. loads ``current`` into a fresh database A and ``desired`` into a fresh database B (statement by
   statement, as the case's DDL is written);
2. snapshots both, plans A → B (``diff`` + ``backend.adapt``) and renders the upgrade and the rollback;
3. applies the upgrade to A the way the migration runner does and requires snapshot(A) == snapshot(B);
4. applies the rollback to A and requires snapshot(A) == the original snapshot of A.

A case whose plan is empty although sqldef's ``up`` is not fails too: A and B differ, but not in
anything their snapshots read, so the case would otherwise pass without testing anything.

sqldef's own ``up``/``down`` text is never compared: it is sqldef's spelling, not ours. sqldef's
``@renamed from=OLD`` comments on a table header or a column line become explicit ``Renames`` (what a
user passes as ``--rename-table``/``--rename``); renames of indexes, enums and enum values have no
dbwarden counterpart and are left to the plain diff. ``enable_drop: false`` cases run like any other:
dbwarden has no "keep what is dropped" mode, so they check the full migration to ``desired``.

Outcome per case: ``pass``; ``skip`` with a reason from the short, explicit lists below (out-of-scope
object kinds found in the DDL, an expected sqldef error, a flavor or version the server does not match,
DDL the server itself rejects); or ``fail`` with a one-line reason naming the step and what differed.
Anything in scope that goes wrong is a failure, never a skip.

Nothing here knows a particular database: a backend's test module supplies the databases
(``Target.fresh_databases``), the server's flavors and, optionally, its version.

    target = Target("sqlite", fresh_databases=pair_of_sqlite_files)
    report = run_file(path, target)          # FileReport: .counts, .results [(case, outcome, reason)]
    print(format_reports([report]))
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PASS, SKIP, FAIL = "pass", "skip", "fail"
NOT_RUN: list[str] = []  # corpora missing outside CI, said again at the end of the run (conftest.py)


def corpus_missing(folder: Path) -> None:
    """The corpus lives outside the repository (``../shared``): missing, its tests fail in CI ($CI set), and
    elsewhere (a clone made outside the workspace) are skipped, with one loud line at the end of the run."""
    import os

    import pytest

    message = f"the sqldef corpus is missing: no *.yml in {folder.resolve()}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    NOT_RUN.append(f"NOT RUN: {message} (clone next to ../shared, or run in CI, to run it)")
    pytest.skip(message)
OUTCOMES = (PASS, SKIP, FAIL)

# -------------------------------------------------------------------------------------------------
# Skip rules. Keep them few: every entry is a kind of object dbwarden does not manage at all.
# Each pattern is matched against one statement of ``current`` or ``desired``, comments removed,
# whitespace collapsed, upper-cased.
# -------------------------------------------------------------------------------------------------

_DEFINER = r"(?:DEFINER\s*=\s*\S+(?:\s*@\s*\S+)?\s+)?"  # DEFINER = 'root' @ '%' (MySQL)
_OR_REPLACE = r"(?:OR\s+REPLACE\s+)?"

OUT_OF_SCOPE: tuple[tuple[str, str], ...] = (
    (
        "triggers",
        (rf"^CREATE\s+{_OR_REPLACE}{_DEFINER}(?:CONSTRAINT\s+|TEMP\s+|TEMPORARY\s+|EVENT\s+)?TRIGGER\b"
         r"|^COMMENT\s+ON\s+(?:EVENT\s+)?TRIGGER\b"
         r"|^ALTER\s+TABLE\b.*\b(?:ENABLE|DISABLE)\s+(?:ALWAYS\s+|REPLICA\s+)?TRIGGER\b"),
    ),
    (
        "functions and procedures",
        (rf"^CREATE\s+{_OR_REPLACE}{_DEFINER}(?:FUNCTION|PROCEDURE|AGGREGATE)\b"
         r"|^COMMENT\s+ON\s+(?:FUNCTION|PROCEDURE|AGGREGATE)\b"),
    ),
    ("events", rf"^CREATE\s+{_DEFINER}EVENT\b(?!\s+TRIGGER)"),
    ("row-level security policies", r"^CREATE\s+POLICY\b|^ALTER\s+POLICY\b|\bROW\s+LEVEL\s+SECURITY\b"),
    ("roles and users", r"^(?:CREATE|ALTER|DROP)\s+(?:ROLE|USER)\b"),
    ("object owners", r"^ALTER\s+.*\bOWNER\s+TO\b"),
    ("grants and privileges", r"^(?:GRANT|REVOKE)\b|^ALTER\s+DEFAULT\s+PRIVILEGES\b"),
    ("extensions", r"^CREATE\s+EXTENSION\b"),
)
_OUT_OF_SCOPE = tuple((reason, re.compile(pattern, re.DOTALL)) for reason, pattern in OUT_OF_SCOPE)

# Keys of a case that decide, without a database, that it cannot run here (see testcase.schema.json).
# ``flavor``/``min_version``/``max_version`` are checked against the target; ``error`` cases expect
# sqldef itself to refuse the input, which says nothing about dbwarden's outcome.
SKIP_REASONS = {
    "error": "sqldef expects an error: {value}",
    "flavor": "needs flavor {value!r} (server: {flavors})",
    "min_version": "needs server version >= {value} (server: {version})",
    "max_version": "needs server version <= {value} (server: {version})",
    "ddl": "out of scope: {value}",
    "rejected": "server rejects the case's DDL: {value}",
}


# -------------------------------------------------------------------------------------------------
# Results
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    case: str
    outcome: str  # pass | skip | fail
    reason: str = ""
    detail: str = ""  # plan and rendered SQL of a failing case, for debugging

    def __iter__(self):  # (case, outcome, reason)
        return iter((self.case, self.outcome, self.reason))


@dataclass
class FileReport:
    file: str
    results: list[CaseResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for r in self.results:
            counts[r.outcome] += 1
        return counts

    def of(self, outcome: str) -> list[CaseResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def failures(self) -> list[CaseResult]:
        return self.of(FAIL)

    def counts_line(self) -> str:
        c = self.counts
        return f"{self.file}: {len(self.results)} cases, {c[PASS]} pass, {c[SKIP]} skip, {c[FAIL]} fail"


def format_reports(reports: Sequence[FileReport], *, skipped: bool = True, failed: bool = True) -> str:
    """Per-file counts, a total, then the skipped and the failing cases with their reasons."""
    lines = [r.counts_line() for r in reports]
    if len(reports) > 1:
        total = FileReport("total", [res for r in reports for res in r.results])
        lines.append(total.counts_line())
    for outcome, wanted in ((SKIP, skipped), (FAIL, failed)):
        rows = [(r.file, res) for r in reports for res in r.of(outcome)] if wanted else []
        if rows:
            lines.append(f"{outcome}ped:" if outcome == SKIP else "failed:")
            lines += [f"  {file}::{res.case}: {res.reason}" for file, res in rows]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------
# Target: where cases run
# -------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A backend and a source of fresh, empty database pairs.

    ``fresh_databases(case_name)`` returns a context manager yielding the URLs of two new empty
    databases (A, B) and removing them on exit. ``flavors`` are the server's flavor names in sqldef's
    vocabulary (``mysql``, ``mariadb``, ``tidb``, ``pgvector``); ``server_version`` is detected on first
    use (through one extra database pair) when not given.

    ``dump(url)``, when given, is the engine's own dump of a database (pg_dump, mariadb-dump: tests/dumps.py): after
    the upgrade A's dump must equal B's and after the rollback A's original, as well as their snapshots (a
    snapshot that misses something looks equal to itself). Column order is not compared (it never makes an
    operation).

    Optional, for servers that need them: ``schemas(conn)`` lists the schemas a loaded database holds;
    the union over A and B (after loading) is what every snapshot of the case reads, so objects outside
    the default schema are compared too (None: the backend's default, the connection's own schema).
    ``prepare(case, conn, which)`` runs on A (``which="current"``) and on B (``"desired"``) right after
    they connect, before any of the case's DDL: it reproduces what sqldef's own test setup gives a case
    (a default schema for the case's ``user``, schemas that outlive the DDL declaring them, …).
    """

    backend_name: str
    fresh_databases: Callable[[str], AbstractContextManager[tuple[str, str]]]
    flavors: frozenset[str] = frozenset()
    server_version: str | None = None
    schemas: Callable[[Any], Sequence[str]] | None = None
    prepare: Callable[[Mapping[str, Any], Any, str], None] | None = None
    dump: Callable[[str], str] | None = None  # the engine's own dump of a database (tests/dumps.py), the judge
    manages: frozenset[str] = frozenset()  # kinds of OUT_OF_SCOPE that this backend manages: their cases run

    @property
    def backend(self) -> Any:
        from dbwarden_nb.backends import get_backend

        return get_backend(self.backend_name)

    def version(self) -> str:
        if self.server_version is None:
            with self.fresh_databases("server-version-probe") as (url, _):
                conn = self.backend.connect(url)
                try:
                    self.server_version = self.backend.server_version(conn)
                finally:
                    conn.close()
        return self.server_version


# -------------------------------------------------------------------------------------------------
# Loading and selecting cases
# -------------------------------------------------------------------------------------------------


def load_cases(path: Path) -> dict[str, dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping of case names to cases")  # noqa: TRY004  a file's content
    return {str(name): (case or {}) for name, case in doc.items()}


Selector = str | Iterable[str] | Callable[[str], bool] | None


def _selected(name: str, select: Selector) -> bool:
    if select is None:
        return True
    if callable(select):
        return bool(select(name))
    patterns = [select] if isinstance(select, str) else list(select)
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _version_tuple(text: str) -> tuple[int, ...]:
    m = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(p) for p in m.group().split(".")) if m else ()


def _version_cmp(server: str, bound: str) -> int:
    """Compare the server version with a bound at the bound's precision (8.0.36 == 8.0; 5.7.44 <= 5.7)."""
    b = _version_tuple(bound)
    s = (_version_tuple(server) + (0,) * len(b))[: len(b)]
    return (s > b) - (s < b)


def _flavor_matches(flavor: str, flavors: frozenset[str]) -> bool:
    return flavor[1:] not in flavors if flavor.startswith("!") else flavor in flavors


def static_skip(case: Mapping[str, Any], target: Target) -> str | None:
    """Why a case cannot run on this target, decided from its keys and DDL text alone, or None."""
    if "error" in case:
        return SKIP_REASONS["error"].format(value=str(case["error"]).strip())
    if "flavor" in case and not _flavor_matches(str(case["flavor"]), target.flavors):
        return SKIP_REASONS["flavor"].format(value=case["flavor"], flavors=", ".join(sorted(target.flavors)) or "none")
    kinds = [k for k in out_of_scope_kinds(case.get("current") or "", case.get("desired") or "")
             if k not in target.manages]
    if kinds:
        return SKIP_REASONS["ddl"].format(value=", ".join(kinds))
    for key, sign in (("min_version", -1), ("max_version", 1)):
        if key in case and _version_cmp(target.version(), str(case[key])) == sign:
            return SKIP_REASONS[key].format(value=case[key], version=target.version())
    return None


# -------------------------------------------------------------------------------------------------
# Reading the DDL text
# -------------------------------------------------------------------------------------------------

_LEX = re.compile(
    r"""(?P<ws>\s+)
      | (?P<lc>--[^\n]*|\#[^\n]*)
      | (?P<bc>/\*.*?(?:\*/|\Z))
      | (?P<str>[EeNnXxBb]?'(?:[^'\\]|''|\\.)*'?)
      | (?P<qid>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]\n]*\]?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<other>.)""",
    re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        if self.kind == "qid":
            q, body = self.text[0], self.text[1:-1]
            return body if q == "[" else body.replace(q * 2, q)
        if self.kind == "str":
            return self.text[1:-1].replace("''", "'")
        return self.text


def _lex(sql: str) -> list[_Tok]:
    return [_Tok(m.lastgroup or "other", m.group(), m.start()) for m in _LEX.finditer(sql) if m.lastgroup != "ws"]


def _code(sql: str) -> str:
    """A statement with comments removed and whitespace collapsed, upper-cased (quoted text kept)."""
    return " ".join(t.text for t in _lex(sql) if t.kind not in ("lc", "bc")).upper()


def statements(ddl: str) -> list[str]:
    """The statements of a case's DDL, split by the project's own splitter (no trailing ';')."""
    from dbwarden_nb.migrations.files import split_statements

    return [s.sql for s in split_statements(ddl)]


def out_of_scope_kinds(*ddls: str) -> list[str]:
    found: list[str] = []
    for ddl in ddls:
        try:
            parts = statements(ddl)
        except Exception:  # the splitter's problem shows up as a failure when the case loads
            parts = ddl.split(";")
        for sql in parts:
            code = _code(sql)
            for reason, pattern in _OUT_OF_SCOPE:
                if reason not in found and pattern.search(code):
                    found.append(reason)
    return found


# ---- sqldef's rename annotations: ``-- @renamed from=old`` on a table header or a column line ----

_RENAMED = re.compile(r"@renamed\s+from\s*=\s*(\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]|[^\s*/,]+)")
_TABLE_HEAD = {"GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED"}
_NOT_A_COLUMN = {"CONSTRAINT", "PRIMARY", "UNIQUE", "INDEX", "KEY", "CHECK", "FOREIGN", "FULLTEXT", "SPATIAL",
                 "EXCLUDE", "LIKE", "PERIOD", "VECTOR"}


def _unquote(text: str) -> str:
    if text[:1] in ('"', "`") and text[-1:] == text[:1]:
        return text[1:-1].replace(text[0] * 2, text[0])
    if text[:1] == "[" and text[-1:] == "]":
        return text[1:-1]
    return text


@dataclass(frozen=True)
class Annotation:
    """``new`` was renamed from ``old``: a table (``column`` None) or a column of table ``table``."""

    table: tuple[str, ...]  # name parts as written (quotes removed), schema first
    table_quoted: bool
    old: str
    column: str | None = None
    column_quoted: bool = False


def rename_annotations(ddl: str) -> list[Annotation]:
    """The table and column renames a case's desired DDL asks for with sqldef's ``@renamed`` comments."""
    found: list[Annotation] = []
    for sql in statements(ddl):
        if "@renamed" not in sql:
            continue
        toks = _lex(sql)
        code = [t for t in toks if t.kind not in ("lc", "bc")]
        if len(code) < 3 or code[0].upper != "CREATE":
            continue
        i = 1
        while i < len(code) and code[i].upper in _TABLE_HEAD:
            i += 1
        if i >= len(code) or code[i].upper != "TABLE":
            continue
        i += 1
        if [t.upper for t in code[i : i + 3]] == ["IF", "NOT", "EXISTS"]:
            i += 3
        name_toks = [code[i]] if i < len(code) else []
        while i + 2 < len(code) and code[i + 1].text == "." and code[i + 2].kind in ("word", "qid"):
            name_toks.append(code[i + 2])
            i += 2
        if not name_toks or i + 1 >= len(code) or code[i + 1].text != "(":
            continue
        table = tuple(t.name for t in name_toks)
        quoted = name_toks[-1].kind == "qid"
        open_pos = code[i + 1].pos
        # elements of the body: (start position, first token), tracked at depth 1
        elements: list[_Tok] = []
        depth, expect = 0, False
        for t in toks:
            if t.pos < open_pos:
                continue
            if t.kind in ("lc", "bc"):
                continue
            if t.text == "(":
                depth += 1
                if depth == 1:
                    expect = True
                    continue
            elif t.text == ")":
                depth -= 1
                if depth == 0:
                    break
            elif t.text == "," and depth == 1:
                expect = True
                continue
            if expect and depth == 1:
                elements.append(t)
                expect = False
        for t in toks:
            if t.kind not in ("lc", "bc"):
                continue
            m = _RENAMED.search(t.text)
            if m is None:
                continue
            old = _unquote(m.group(1))
            before = [e for e in elements if e.pos < t.pos]
            if t.pos < open_pos or not before:
                found.append(Annotation(table, quoted, old))
                continue
            element = before[-1]
            same_line = "\n" not in sql[element.pos : t.pos]
            if same_line and element.kind in ("word", "qid") and element.upper not in _NOT_A_COLUMN:
                found.append(Annotation(table, quoted, old, element.name, element.kind == "qid"))
    return found


def _find(names: Iterable[str], wanted: str, quoted: bool) -> str | None:
    names = list(names)
    if wanted in names:
        return wanted
    # servers fold unquoted names (and SQLite ignores case altogether): a unique case-insensitive match
    folded = [n for n in names if n.casefold() == wanted.casefold()]
    return folded[0] if len(folded) == 1 else None


def _find_table(tables: Mapping[str, Any], parts: tuple[str, ...], quoted: bool) -> str | None:
    """The snapshot key of a table named as written; a schema the snapshot leaves implicit is ignored."""
    name = parts[-1]
    schema = parts[-2] if len(parts) > 1 else None
    for wanted_schema in ([schema, None] if schema else [None]):
        by_name: dict[str, list[str]] = {}
        for key, t in tables.items():
            if wanted_schema is None or (t.schema or "").casefold() == wanted_schema.casefold():
                by_name.setdefault(t.name, []).append(key)
        found = _find(by_name, name, quoted)
        if found is not None and len(by_name[found]) == 1:
            return by_name[found][0]
    return None


def renames_for(annotations: Sequence[Annotation], old: Any, new: Any) -> Any:
    """The ``Renames`` the annotations ask for, resolved against both snapshots (unresolvable ones dropped)."""
    from dbwarden_nb.differ import Renames

    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for a in annotations:
        new_key = _find_table(new.tables, a.table, a.table_quoted)
        if new_key is None:
            continue
        if a.column is None:
            schema_parts = a.table[:-1] + (a.old,)
            old_key = _find_table(old.tables, schema_parts, False) or _find_table(old.tables, (a.old,), False)
            if old_key is not None and old_key not in new.tables and new_key not in old.tables:
                tables[old_key] = new_key
            continue
        old_key = next((o for o, n in tables.items() if n == new_key), new_key)
        old_table, new_table = old.tables.get(old_key), new.tables[new_key]
        if old_table is None:
            continue
        src = _find([c.name for c in old_table.columns], a.old, False)
        dst = _find([c.name for c in new_table.columns], a.column, a.column_quoted)
        if src and dst and src != dst and new_table.column(src) is None and old_table.column(dst) is None:
            columns[(new_key, src)] = dst
    return Renames(tables, columns)


# -------------------------------------------------------------------------------------------------
# Running a case
# -------------------------------------------------------------------------------------------------


class _Failed(Exception):
    pass


class _Rejected(Exception):
    pass


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _error_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0]}" if text else type(orig).__name__


_SESSION_SETTING = re.compile(r"^(?:SET|RESET)\b(?!\s+(?:TRANSACTION|CONSTRAINTS?)\b)")


def load_ddl(conn: Any, ddl: str, which: str) -> None:
    """Execute a case's DDL statement by statement, as sqldef reads it: a declaration, not a script.

    - session settings (``SET search_path …``, ``SET client_encoding …``) are not schema: sqldef ignores
      them, and so does the loader;
    - the order is not the server's: sqldef sorts the statements itself (a foreign key or a view before
      the table it references, a table before its ``CREATE SCHEMA``), so a refused statement is tried
      again after the others, until a whole round makes no progress;
    - a statement refused inside a transaction (``CREATE INDEX CONCURRENTLY``) is tried outside one.

    What still fails means the server rejects the case."""
    try:
        parts = statements(ddl)
    except Exception as exc:
        raise _Failed(f"load {which}: the project's splitter cannot split the case's DDL: {_error_line(exc)}") from None
    pending = [(n, sql) for n, sql in enumerate(parts, 1) if not _SESSION_SETTING.match(_code(sql))]
    while pending:
        refused: list[tuple[int, str, BaseException]] = []
        for n, sql in pending:
            error = _try_execute(conn, sql)
            if error is not None:
                refused.append((n, sql, error))
        if len(refused) == len(pending):
            n, sql, error = refused[0]
            raise _Rejected(f"{which} statement {n}: {_error_line(error)} (in: {_one_line(sql, 80)})")
        pending = [(n, sql) for n, sql, _ in refused]


def _try_execute(conn: Any, sql: str) -> BaseException | None:
    try:
        conn.execute(sql)
        return None
    except Exception as exc:
        error: BaseException = exc
    conn.rollback()  # a refused statement may leave its transaction unusable (PostgreSQL)
    outside = getattr(conn, "execute_autocommit", None)
    if outside is not None:
        try:
            outside(sql)
            return None
        except Exception:
            conn.rollback()
    return error


def apply(backend: Any, conn: Any, stmts: Sequence[Any]) -> None:
    """Apply rendered statements as the migration runner does: runs of transactional statements share
    one transaction (when the backend has transactional DDL), ``before_commit`` runs inside the last one."""
    backend.before_migration(conn)
    chunks: list[list[tuple[int, Any]]] = []
    for i, stmt in enumerate(stmts):
        if backend.transactional_ddl and stmt.transactional and chunks and chunks[-1][-1][1].transactional:
            chunks[-1].append((i, stmt))
        else:
            chunks.append([(i, stmt)])
    total = len(stmts)

    def execute(i: int, stmt: Any) -> None:
        try:
            conn.execute(stmt.sql)
        except Exception as exc:
            raise _Failed(f"statement {i + 1}/{total} failed: {_error_line(exc)} (in: {_one_line(stmt.sql, 120)})") from None

    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        if backend.transactional_ddl and chunk[0][1].transactional:
            try:
                with conn.transaction():
                    for i, stmt in chunk:
                        execute(i, stmt)
                    if last:
                        backend.before_commit(conn)
            except _Failed:
                raise
            except Exception as exc:
                raise _Failed(f"commit refused: {_error_line(exc)}") from None
        else:
            for i, stmt in chunk:
                execute(i, stmt)
    if not chunks:
        with conn.transaction():
            backend.before_commit(conn)


def _short(value: Any, limit: int = 100) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pair(expected: Any, actual: Any, limit: int = 100) -> str:
    """``expected X, got Y``; long strings are cut to where they start to differ."""
    if isinstance(expected, str) and isinstance(actual, str) and max(len(expected), len(actual)) > limit:
        at = next((i for i, (x, y) in enumerate(zip(expected, actual)) if x != y), min(len(expected), len(actual)))
        start = max(0, at - 20)
        if start:
            expected, actual = "…" + expected[start:], "…" + actual[start:]
    return f"expected {_short(expected, limit)}, got {_short(actual, limit)}"


def _compact(obj: Any) -> str:
    doc = obj.to_json()
    doc = {k: v for k, v in doc.items() if v not in (None, {}, [], False) or k == "name"}
    return _short(doc, 160)


def _json_paths(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(f"{sub}: unexpected {_short(b[k])}")
            elif k not in b:
                out.append(f"{sub}: missing (expected {_short(a[k])})")
            else:
                out += _json_paths(a[k], b[k], sub)
        return out
    if a != b:
        return [f"{path}: {_pair(a, b)}"]
    return []


def describe_difference(expected: Any, actual: Any, limit: int = 4) -> str:
    """What ``actual`` has that ``expected`` has not, from the plan of diff(expected, actual)."""
    from dbwarden_nb import operations as ops
    from dbwarden_nb.differ import diff

    parts: list[str] = []
    try:
        plan = list(diff(expected, actual, forward_references=True))
    except Exception as exc:  # the differ itself fails: fall back to the snapshots' JSON
        plan = []
        parts.append(f"(diff failed: {_error_line(exc)})")
    views_dropped = {op.view.key: op.view for op in plan if isinstance(op, ops.DropView)}
    views_created = {op.view.key: op.view for op in plan if isinstance(op, ops.CreateView)}
    for op in plan:
        if isinstance(op, ops.AlterColumn):
            for attr in op.changes:
                parts.append(f"column {op.table}.{op.new.name} {attr}: {_pair(getattr(op.old, attr), getattr(op.new, attr))}")
        elif isinstance(op, ops.AddColumn):
            parts.append(f"column {op.table}.{op.column.name}: unexpected {_compact(op.column)}")
        elif isinstance(op, ops.DropColumn):
            parts.append(f"column {op.table}.{op.column.name}: missing {_compact(op.column)}")
        elif isinstance(op, ops.CreateTable):
            parts.append(f"table {op.table}: unexpected")
        elif isinstance(op, ops.DropTable):
            parts.append(f"table {op.table}: missing")
        elif isinstance(op, (ops.AddConstraint, ops.DropConstraint)):
            word = "unexpected" if isinstance(op, ops.AddConstraint) else "missing"
            kind = type(op.constraint).__name__.lower()
            parts.append(f"{kind} on {op.table}: {word} {_compact(op.constraint)}")
        elif isinstance(op, (ops.CreateIndex, ops.DropIndex)):
            word = "unexpected" if isinstance(op, ops.CreateIndex) else "missing"
            parts.append(f"index on {op.table}: {word} {_compact(op.index)}")
        elif isinstance(op, ops.AlterTable):
            for attr in ("comment", "options"):
                if getattr(op.old, attr) != getattr(op.new, attr):
                    parts.append(f"table {op.table} {attr}: {_pair(getattr(op.old, attr), getattr(op.new, attr))}")
        elif isinstance(op, ops.DropView):
            if op.view.key in views_created:
                new = views_created[op.view.key]
                what = [a for a in ("definition", "materialized", "comment", "options") if getattr(op.view, a) != getattr(new, a)]
                for a in what:
                    parts.append(f"view {op.view.key} {a}: {_pair(getattr(op.view, a), getattr(new, a))}")
            else:
                parts.append(f"view {op.view.key}: missing")
        elif isinstance(op, ops.CreateView):
            if op.view.key not in views_dropped:
                parts.append(f"view {op.view.key}: unexpected")
        else:
            parts.append(op.describe())
    if not plan:  # something the differ does not compare (enums, sequences, domains …)
        parts += _json_paths(expected._body(), actual._body())
    if not parts:
        return "snapshots differ but no difference found"
    more = f" (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more


def _plan_text(plan: Any, upgrade: Sequence[Any], rollback: Sequence[Any]) -> str:
    lines = ["plan:"] + [f"  {op.describe()}" for op in plan]
    lines += ["upgrade:"] + [f"  {s.sql};" for s in upgrade]
    lines += ["rollback:"] + [f"  {s.sql};" for s in rollback]
    return "\n".join(lines)


def run_case(name: str, case: Mapping[str, Any], target: Target, *, use_renames: bool = True) -> CaseResult:
    reason = static_skip(case, target)
    if reason is not None:
        return CaseResult(name, SKIP, reason)
    backend = target.backend
    current, desired = case.get("current") or "", case.get("desired") or ""
    detail = ""
    step = "connect"
    try:
        with target.fresh_databases(name) as (url_a, url_b), ExitStack() as stack:
            conn_a = backend.connect(url_a)
            stack.callback(conn_a.close)
            conn_b = backend.connect(url_b)
            stack.callback(conn_b.close)
            if target.prepare is not None:
                step = "prepare"
                target.prepare(case, conn_a, "current")
                target.prepare(case, conn_b, "desired")
                step = "load"
            try:
                load_ddl(conn_a, current, "current")
                load_ddl(conn_b, desired, "desired")
            except _Rejected as exc:
                return CaseResult(name, SKIP, SKIP_REASONS["rejected"].format(value=exc))
            step = "list schemas"
            schemas = sorted(set(target.schemas(conn_a)) | set(target.schemas(conn_b))) if target.schemas else None

            def introspect(conn: Any) -> Any:
                return backend.introspect(conn, schemas) if schemas else backend.introspect(conn)

            step = "dump"
            original = target.dump(url_a) if target.dump else None
            step = "introspect current"
            before = introspect(conn_a)
            step = "introspect desired"
            wanted = introspect(conn_b)
            step = "plan"
            from dbwarden_nb.api import rollback_statements
            from dbwarden_nb.differ import Renames, diff

            renames = renames_for(rename_annotations(desired), before, wanted) if use_renames else Renames()
            plan = backend.adapt(diff(before, wanted, renames), before, wanted)
            if not list(plan) and _code(case.get("up") or ""):
                # sqldef changes something, the snapshots of A and B are equal: what differs is not read
                raise _Failed(f"nothing to do, but sqldef's up is not empty: the snapshots miss what differs "
                              f"(up: {_one_line(case['up'], 100)})")
            step = "render upgrade"
            upgrade = backend.render_plan(plan)
            step = "render rollback"
            rollback = rollback_statements(backend, plan, before, wanted)
            detail = _plan_text(plan, upgrade, rollback)
            step = "upgrade"
            apply(backend, conn_a, upgrade)
            step = "introspect after upgrade"
            after = introspect(conn_a)
            step = "upgrade"
            if after != wanted:
                raise _Failed(f"result differs from desired: {describe_difference(wanted, after)}")
            if target.dump is not None:
                _same_dump(target.dump(url_b), target.dump(url_a), "desired")
            step = "rollback"
            apply(backend, conn_a, rollback)
            step = "introspect after rollback"
            restored = introspect(conn_a)
            step = "rollback"
            if any(stmt.irreversible for stmt in rollback):
                # SPEC: rollbacks restore the previous snapshot exactly, "irreversible steps excepted, and
                # marked": what such a step names (an enum value PostgreSQL cannot drop) may stay
                restored, before = restored.replace(enums={}), before.replace(enums={})
            if restored != before:
                raise _Failed(f"result differs from current: {describe_difference(before, restored)}")
            if target.dump is not None and not any(stmt.irreversible for stmt in rollback):
                _same_dump(original, target.dump(url_a), "current")
    except _Failed as exc:
        return CaseResult(name, FAIL, f"{step}: {exc}", detail)
    except Exception as exc:
        return CaseResult(name, FAIL, f"{step}: {_one_line(_error_line(exc))}", detail)
    return CaseResult(name, PASS)


def _same_dump(expected: str | None, actual: str, which: str) -> None:
    """The engine's dump of A equals that of ``which`` (column order aside), else the first lines that differ."""
    from dumps import ignore_column_order

    a, b = ignore_column_order(expected or ""), ignore_column_order(actual)
    if a != b:
        import difflib

        delta = [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
                 if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        raise _Failed(f"the engine's dump differs from {which}'s: {_one_line(' | '.join(delta[:6]), 300)}")


def run_file(path: str | Path, target: Target, *, select: Selector = None, use_renames: bool = True) -> FileReport:
    """Run every selected case of one corpus YAML file; the report holds counts and (case, outcome, reason)."""
    path = Path(path)
    report = FileReport(path.name)
    for name, case in load_cases(path).items():
        if _selected(name, select):
            report.results.append(run_case(name, case, target, use_renames=use_renames))
    return report


def run_directory(directory: str | Path, target: Target, *, select: Selector = None) -> list[FileReport]:
    return [run_file(p, target, select=select) for p in corpus_files(directory)]


def corpus_files(directory: str | Path) -> list[Path]:
    return sorted(Path(directory).glob("*.yml"))
