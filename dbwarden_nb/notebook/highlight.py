"""SQL as escaped HTML with highlighted tokens, for the display layer (no dependency: one regular expression).

Comments, string literals (``'…'``, PostgreSQL ``$tag$…$tag$``), quoted names (``"…"``, MySQL's backquotes),
numbers and keywords become ``<span class="dbw-sql-<kind>">``; everything else, and every token's text, is
escaped as is. theme.css colours the spans with JupyterLab's editor colours (``--jp-mirror-editor-*``) mixed with
the theme's foreground, so the SQL reads like the notebook's own code cells in every theme, and stays legible
(bold keywords, italic comments) where those variables do not exist. Unterminated quotes and comments run to
the end of the text, as a server would read them.
"""

from __future__ import annotations

import html
import re

__all__ = ["KEYWORDS", "highlight_sql"]

KEYWORDS = frozenset("""
    ACTION ADD AFTER ALL ALTER ALWAYS AND AS ASC AUTO_INCREMENT BEFORE BEGIN BY CASCADE CASE CHANGE CHARACTER CHECK
    CLUSTER COLLATE COLUMN COMMENT COMMIT CONCURRENTLY CONSTRAINT CREATE CROSS CYCLE DEFAULT DEFERRABLE DEFERRED
    DELETE DESC DISTINCT DOMAIN DROP EACH ELSE END ENGINE ENUM EXECUTE EXISTS EXTENSION FALSE FIRST FOR FOREIGN FROM
    FULL FUNCTION GENERATED GRANT GROUP HAVING IDENTITY IF IMMEDIATE IN INCLUDE INCREMENT INDEX INHERITS INITIALLY
    INNER INSERT INTO IS JOIN KEY LANGUAGE LAST LEFT LIKE LIMIT MATCH MATERIALIZED MAXVALUE MINVALUE MODIFY NO NOT
    NULL NULLS OF OFFSET ON ONLY OR ORDER OUTER OWNED PARTIAL PARTITION PRIMARY PROCEDURE REFERENCES RENAME REPLACE
    RESTRICT RETURNS RIGHT ROLLBACK ROW SCHEMA SELECT SEQUENCE SET SETTINGS SIMPLE START STORED TABLE TABLESPACE
    TEMPORARY THEN TO TRIGGER TRUE TYPE UNION UNIQUE UPDATE USING VALUES VIEW VIRTUAL WHEN WHERE WITH WITHOUT
""".split())

_TOKENS = re.compile(r"""
      (?P<comment> --[^\n]* | /\*.*?(?:\*/|\Z) )
    | (?P<string>  '(?:[^']|'')*(?:'|\Z) | \$\$.*?(?:\$\$|\Z) | \$(?P<tag>[A-Za-z_]\w*)\$.*?(?:\$(?P=tag)\$|\Z) )
    | (?P<name>    "(?:[^"]|"")*(?:"|\Z) | `(?:[^`]|``)*(?:`|\Z) )
    | (?P<number>  (?<![\w$])\d+(?:\.\d+)?(?![\w$]) )
    | (?P<word>    [A-Za-z_][\w$]* )
""", re.DOTALL | re.VERBOSE)


def highlight_sql(sql: str) -> str:
    """``sql`` as escaped HTML, its comments, literals, quoted names, numbers and keywords in spans."""
    out, at = [], 0
    for match in _TOKENS.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind == "word":
            if text.upper() not in KEYWORDS:
                continue  # a bare name: plain text, escaped with what surrounds it
            kind = "keyword"
        out.append(html.escape(sql[at:match.start()], quote=True))
        out.append(f'<span class="dbw-sql-{kind}">{html.escape(text, quote=True)}</span>')
        at = match.end()
    out.append(html.escape(sql[at:], quote=True))
    return "".join(out)
