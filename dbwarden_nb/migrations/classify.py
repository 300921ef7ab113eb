"""What a statement written by hand does: read from its words (outside quotes and comments), never guessed.

A generated migration says what it does in its header, as its operations were assessed; a manual one, or a
generated one edited by hand, is judged by its statements: dropping a table, a column or a schema and emptying a
table are CRITICAL; deleting or updating rows, changing a column's type, adding NOT NULL, renaming and dropping
other objects are WARN; what is not recognized is INFO and said so.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""(?P<skip>--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z)|\$(?P<tag>[^\W\d]\w*)?\$.*?(?:\$(?P=tag)?\$|\Z)
               |[EeNnXxBb]?'(?:[^'\\]|''|\\.)*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<open>\() | (?P<close>\)) | (?P<other>\S)""",
    re.DOTALL | re.VERBOSE,
)

# the first words classify() looks further into; a statement that starts with another word is INFO
_RISKY_HEADS = {"DROP", "TRUNCATE", "DELETE", "UPDATE", "RENAME", "ALTER"}
_HEAD = re.compile(r"([^\W\d][\w$]*)(?!['\w$])")  # a first word that is not a string's prefix (E'…')
_DROPPED_DATA = {"TABLE", "SCHEMA", "DATABASE"}
# words after ALTER TABLE … DROP that drop something other than a column
_NOT_A_COLUMN = {"CONSTRAINT", "INDEX", "KEY", "FOREIGN", "PRIMARY", "CHECK", "DEFAULT", "NOT", "EXPRESSION",
                 "IDENTITY", "PARTITION", "PROJECTION", "TTL", "SYSTEM", "PERIOD", "STATISTICS"}


def words(sql: str) -> list[tuple[str, int]]:
    """The words of ``sql`` outside quotes and comments, upper-cased, each with its parenthesis depth."""
    out, depth = [], 0
    for m in _TOKEN.finditer(sql):
        if m.lastgroup == "word":
            out.append((m.group().upper(), depth))
        elif m.lastgroup == "open":
            depth += 1
        elif m.lastgroup == "close":
            depth = max(depth - 1, 0)
    return out


def classify(sql: str) -> tuple[str, str]:
    """(severity, why) of one statement; ``("INFO", "")`` for what is neither destructive nor recognized as risky."""
    opening = _HEAD.match(sql)
    if opening and opening.group(1).upper() not in _RISKY_HEADS:  # an INSERT of a large data file: not lexed whole
        return "INFO", ""
    top = [w for w, depth in words(sql) if depth == 0]
    if not top:
        return "INFO", ""
    first = first_line(sql)
    head = top[0]
    if head == "DROP" and len(top) > 1:
        kind = top[2] if top[1] in ("MATERIALIZED", "TEMPORARY", "TEMP") and len(top) > 2 else top[1]
        if kind in _DROPPED_DATA and top[1] not in ("MATERIALIZED",):
            return "CRITICAL", f"drops a {kind.lower()} and what it holds: {first}"
        what = "materialized view" if top[1] == "MATERIALIZED" else kind.lower()
        return "WARN", f"drops a {what}: {first}"
    if head == "TRUNCATE":
        return "CRITICAL", f"deletes every row: {first}"
    if head in ("DELETE", "UPDATE"):
        verb = "deletes" if head == "DELETE" else "rewrites"
        if "WHERE" not in top:
            return "CRITICAL", f"{verb} every row (no WHERE): {first}"
        return "WARN", f"{verb} rows: {first}"
    if head == "RENAME":
        return "WARN", f"renames: code using the old name breaks: {first}"
    if head == "ALTER" and len(top) > 1 and top[1] in ("TABLE", "ONLY"):
        return _alter_table(top, first)
    if head == "ALTER" and "RENAME" in top:
        return "WARN", f"renames: code using the old name breaks: {first}"
    return "INFO", ""


def _alter_table(top: list[str], first: str) -> tuple[str, str]:
    """The riskiest clause of an ALTER TABLE (PostgreSQL, MySQL/MariaDB, SQLite and ClickHouse spellings)."""
    found: tuple[str, str] = ("INFO", "")

    def note(severity: str, why: str) -> None:
        nonlocal found
        if SEVERITIES.index(severity) > SEVERITIES.index(found[0]):
            found = (severity, f"{why}: {first}")

    for i, word in enumerate(top):
        after = top[i + 1] if i + 1 < len(top) else ""
        if word == "DROP":
            if after == "PARTITION":
                note("CRITICAL", "drops a partition and its rows")
            elif after in ("COLUMN", "IF") or after not in _NOT_A_COLUMN and after:
                note("CRITICAL", "drops a column and its values")
            else:
                note("WARN", "drops a key, index, default or setting")
        elif word in ("TRUNCATE", "DELETE"):  # ClickHouse: ALTER TABLE … DELETE WHERE, TRUNCATE PARTITION
            note("CRITICAL", "deletes rows")
        elif word == "UPDATE":
            note("WARN", "rewrites rows")
        elif word == "TYPE" or word in ("MODIFY", "CHANGE") and after not in _NOT_A_TYPE_CHANGE:
            note("WARN", "changes a column's type (data-dependent, may rewrite the table)")
        elif word == "MODIFY":
            note("WARN", "changes how the table keeps its rows (a TTL may delete some)")
        elif word == "SET" and after == "NOT":
            note("WARN", "adds NOT NULL (fails on rows with NULL)")
        elif word == "RENAME":
            note("WARN", "renames: code using the old name breaks")
    return found


_NOT_A_TYPE_CHANGE = {"TTL", "SETTING", "ORDER", "COMMENT", "QUERY", "SAMPLE", "STATISTICS", "SQL"}
SEVERITIES = ("INFO", "WARN", "CRITICAL")


def first_line(sql: str) -> str:
    """A statement's first line, cut at 100 characters: how messages name a statement."""
    line = sql.strip().splitlines()[0] if sql.strip() else ""
    return line if len(line) <= 100 else line[:99] + "…"
