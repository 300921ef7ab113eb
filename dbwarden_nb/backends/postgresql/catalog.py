"""PostgreSQL catalog reading: a fixed handful of pg_catalog queries for any number of tables.

Every query takes the list of schemas and returns all rows of one kind at once; the rows are then
assembled into snapshot objects in Python. What the server prints (format_type, pg_get_expr,
pg_get_constraintdef, pg_get_viewdef) is the canonical spelling, on both the live and the model side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...schema import (
    Check,
    Column,
    Computed,
    ForeignKey,
    Identity,
    Index,
    IndexElement,
    PrimaryKey,
    SchemaObject,
    Snapshot,
    Table,
    Unique,
    View,
    table_key,
    with_empty_schemas,
)
from ..base import Mixin
from .connection import _version_text

if TYPE_CHECKING:
    from ..base import Connection

RELATIONS = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence, c.reloptions, ts.spcname,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       (SELECT array_agg(pn.nspname || '.' || p.relname ORDER BY i.inhseqno)
          FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
         WHERE i.inhrelid = c.oid),
       (SELECT array_agg(pn.nspname ORDER BY i.inhseqno)
          FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
         WHERE i.inhrelid = c.oid),
       (SELECT array_agg(p.relname ORDER BY i.inhseqno)
          FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid),
       c.relispartition, dsc.description,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
  LEFT JOIN pg_description dsc ON dsc.objoid = c.oid AND dsc.classoid = 'pg_class'::regclass AND dsc.objsubid = 0
 WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""

COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
       a.attstorage, t.typstorage, {compression}, dsc.description, a.attinhcount > 0 AND NOT a.attislocal
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  LEFT JOIN pg_description dsc ON dsc.objoid = a.attrelid AND dsc.classoid = 'pg_class'::regclass AND dsc.objsubid = a.attnum
 WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum
"""

OWNED_SEQUENCES = """
SELECT d.refobjid, d.refobjsubid, d.deptype, sn.nspname, s.relname, seq.seqstart, seq.seqincrement,
       seq.seqmin, seq.seqmax, seq.seqcache, seq.seqcycle, format_type(seq.seqtypid, NULL), s.oid::regclass::text
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_sequence seq ON seq.seqrelid = s.oid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.deptype IN ('a', 'i') AND sn.nspname = ANY(:schemas)
"""

CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype, pg_get_constraintdef(con.oid, true), con.conkey,
       fn.nspname, fc.relname, con.confkey, con.confupdtype, con.confdeltype, con.confmatchtype,
       con.condeferrable, con.condeferred, con.convalidated, con.connoinherit, con.conindid,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid, true) END, con.confrelid,
       dsc.description
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
  LEFT JOIN pg_description dsc ON dsc.objoid = con.oid AND dsc.classoid = 'pg_constraint'::regclass AND dsc.objsubid = 0
 WHERE n.nspname = ANY(:schemas) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
   AND con.conislocal AND con.conparentid = 0
"""

INDEXES = """
SELECT i.indrelid, i.indexrelid, ic.relname, i.indisunique, am.amname, ic.reloptions, ts.spcname,
       pg_get_expr(i.indpred, i.indrelid, true), i.indnkeyatts, i.indnatts, {nulls_not_distinct},
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')),
       ic.relispartition, dsc.description
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
  LEFT JOIN pg_description dsc ON dsc.objoid = i.indexrelid AND dsc.classoid = 'pg_class'::regclass AND dsc.objsubid = 0
 WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'm')
"""

INDEX_ELEMENTS = """
SELECT i.indexrelid, k.n, i.indkey[k.n - 1], pg_get_indexdef(i.indexrelid, k.n, true),
       CASE WHEN k.n <= i.indnkeyatts THEN i.indoption[k.n - 1] END,
       opc.opcname, opc.opcdefault,
       CASE WHEN coll.oid IS NOT NULL AND coll.collname <> 'default' AND k.n <= i.indnkeyatts
             AND coll.oid <> (SELECT typcollation FROM pg_type WHERE oid = opc.opcintype) THEN coll.collname END
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL generate_series(1, i.indnatts) AS k(n)
  LEFT JOIN pg_opclass opc ON k.n <= i.indnkeyatts AND opc.oid = i.indclass[k.n - 1]
  LEFT JOIN pg_collation coll ON k.n <= i.indnkeyatts AND coll.oid = i.indcollation[k.n - 1]
 WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'm')
 ORDER BY i.indexrelid, k.n
"""

ENUMS = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE n.nspname = ANY(:schemas)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 GROUP BY n.nspname, t.typname
"""

DOMAINS = """
SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
       CASE WHEN t.typcollation <> bt.typcollation THEN co.collname END,
       (SELECT array_agg(k.conname || ' ' || pg_get_constraintdef(k.oid, true) ORDER BY k.conname)
          FROM pg_constraint k WHERE k.contypid = t.oid)
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_type bt ON bt.oid = t.typbasetype
  LEFT JOIN pg_collation co ON co.oid = t.typcollation
 WHERE t.typtype = 'd' AND n.nspname = ANY(:schemas)
"""

SEQUENCES = """
SELECT n.nspname, s.relname, seq.seqstart, seq.seqincrement, seq.seqmin, seq.seqmax, seq.seqcache, seq.seqcycle,
       format_type(seq.seqtypid, NULL)
  FROM pg_class s
  JOIN pg_namespace n ON n.oid = s.relnamespace
  JOIN pg_sequence seq ON seq.seqrelid = s.oid
 WHERE s.relkind = 'S' AND n.nspname = ANY(:schemas)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid
                     AND d.deptype IN ('a', 'i', 'e'))
"""

# Everything else the catalog holds in these schemas (and the database-wide objects): listed as not managed, one
# (kind, schema, name) row each; members of extensions (the extension is listed instead) and objects the server made
# for another (a range type's constructors) are left out.
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {oid} AND e.deptype IN ('e', 'i'))"
UNMANAGED = " UNION ALL ".join(f"({q})" for q in (
    "SELECT 'ordered-set aggregate', n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_aggregate a ON a.aggfnoid = p.oid "
    "WHERE n.nspname = ANY(:schemas) AND a.aggkind <> 'n' AND " + _NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid"),
    ("SELECT 'constraint trigger', n.nspname, t.tgname || ' on ' || c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(:schemas) AND NOT t.tgisinternal "
     "AND t.tgconstraint <> 0{trigger_parent}"),
    ("SELECT 'replica identity setting', n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
     "WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p') AND c.relreplident NOT IN ('d', 'n')"),
    "SELECT 'text search parser', n.nspname, p.prsname FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace "
    "WHERE n.nspname = ANY(:schemas) AND " + _NOT_EXTENSION.format(catalog="pg_ts_parser", oid="p.oid"),
    "SELECT 'text search template', n.nspname, t.tmplname FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace "
    "WHERE n.nspname = ANY(:schemas) AND " + _NOT_EXTENSION.format(catalog="pg_ts_template", oid="t.oid"),
    "SELECT 'operator', n.nspname, o.oprname || '(' || format_type(o.oprleft, NULL) || ', ' || format_type(o.oprright, NULL) || ')' "
    "FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname = ANY(:schemas) AND "
    + _NOT_EXTENSION.format(catalog="pg_operator", oid="o.oid"),
    "SELECT 'operator class', n.nspname, o.opcname FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace "
    "WHERE n.nspname = ANY(:schemas) AND " + _NOT_EXTENSION.format(catalog="pg_opclass", oid="o.oid"),
    "SELECT 'operator family', n.nspname, o.opfname FROM pg_opfamily o JOIN pg_namespace n ON n.oid = o.opfnamespace "
    "WHERE n.nspname = ANY(:schemas) AND " + _NOT_EXTENSION.format(catalog="pg_opfamily", oid="o.oid")
    + " AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = o.oid AND c.opcname = o.opfname)",
    "SELECT CASE t.typtype WHEN 'c' THEN 'composite type' WHEN 'r' THEN 'range type' ELSE 'base type' END, n.nspname, t.typname "
    "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class c ON c.oid = t.typrelid "
    "WHERE n.nspname = ANY(:schemas) AND (t.typtype = 'r' OR t.typtype = 'c' AND c.relkind = 'c' "
    "OR t.typtype = 'b' AND t.typcategory <> 'A') AND " + _NOT_EXTENSION.format(catalog="pg_type", oid="t.oid"),
    "SELECT 'cast', NULL, format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) FROM pg_cast c "
    "WHERE c.oid >= 16384 AND " + _NOT_EXTENSION.format(catalog="pg_cast", oid="c.oid"),
    ("SELECT 'foreign table', n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
     "WHERE n.nspname = ANY(:schemas) AND c.relkind = 'f'"),
    "SELECT 'foreign server', NULL, s.srvname FROM pg_foreign_server s WHERE "
    + _NOT_EXTENSION.format(catalog="pg_foreign_server", oid="s.oid"),
    ("SELECT 'statistics object', n.nspname, s.stxname FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace "
     "WHERE n.nspname = ANY(:schemas)"),
    "SELECT 'event trigger', NULL, e.evtname FROM pg_event_trigger e",
    "SELECT 'publication', NULL, p.pubname FROM pg_publication p",
    ("SELECT 'grant', n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
     "WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relacl IS NOT NULL"),
    ("SELECT 'default privilege', n.nspname, pg_get_userbyid(d.defaclrole) || ' ' || d.defaclobjtype::text FROM pg_default_acl d "
     "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace"),
))

SCHEMAS = "SELECT nspname FROM pg_namespace WHERE nspname = ANY(:schemas)"

COLLATIONS = """
SELECT n.nspname, c.collname, c.collprovider, c.collisdeterministic, c.collcollate, c.collctype, {locale}, {rules}
  FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
 WHERE n.nspname = ANY(:schemas) AND """ + _NOT_EXTENSION.format(catalog="pg_collation", oid="c.oid")

# Functions and procedures as the server prints them (pg_get_functiondef), from their argument list on: what follows
# "CREATE OR REPLACE FUNCTION schema.name", which the server always qualifies
ROUTINES = """
SELECT n.nspname, p.proname, p.prokind, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
       substr(pg_get_functiondef(p.oid), length('CREATE OR REPLACE ' || CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
              ELSE 'FUNCTION' END || ' ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)) + 1),
       obj_description(p.oid, 'pg_proc')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY(:schemas) AND p.prokind IN ('f', 'p', 'w') AND """ + _NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid")

AGGREGATES = """
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_arguments(p.oid),
       a.aggtransfn::regproc::text, format_type(a.aggtranstype, NULL), NULLIF(a.aggfinalfn, 0)::regproc::text,
       a.agginitval, NULLIF(a.aggcombinefn, 0)::regproc::text, NULLIF(a.aggsortop, 0)::regoperator::text,
       a.aggfinalextra, p.proparallel, obj_description(p.oid, 'pg_proc')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_aggregate a ON a.aggfnoid = p.oid
 WHERE n.nspname = ANY(:schemas) AND a.aggkind = 'n' AND """ + _NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid")

# pretty: a name visible on the search path is not qualified (the table of the default schema, its functions)
TRIGGERS = """
SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid, true), obj_description(t.oid, 'pg_trigger')
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(:schemas) AND NOT t.tgisinternal AND t.tgconstraint = 0{trigger_parent}
"""

# Rules (but a view's own _RETURN), policies and row-level security, as the server and pg_dump spell them
RULES = """
SELECT n.nspname, c.relname, r.rulename, pg_get_ruledef(r.oid, true)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(:schemas) AND r.rulename <> '_RETURN'
"""
POLICIES = """
SELECT n.nspname, c.relname, p.polname, p.polpermissive, p.polcmd,
       CASE WHEN p.polroles = '{0}' THEN NULL
            ELSE array_to_string(ARRAY(SELECT quote_ident(rolname) FROM pg_roles WHERE oid = ANY(p.polroles)
                                       ORDER BY rolname), ', ') END,
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(:schemas)
"""
ROW_SECURITY = """
SELECT n.nspname, c.relname, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(:schemas) AND (c.relrowsecurity OR c.relforcerowsecurity)
"""

# Privileges on relations granted to other roles than the owner (PUBLIC: grantee 0), privileges in a fixed order
GRANTS = """
SELECT n.nspname, c.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END, c.relkind = 'S',
       string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, ', '
                  ORDER BY a.privilege_type)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
 WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND a.grantee <> c.relowner
 GROUP BY 1, 2, 3, 4
"""

# Text-search dictionaries and configurations as pg_dump spells them: the template or parser qualified, a
# configuration's mappings per token type (in the parser's order), each a list of dictionaries in the order tried
TEXT_SEARCH = """
SELECT 'dictionary', n.nspname, d.dictname, quote_ident(tn.nspname) || '.' || quote_ident(t.tmplname),
       d.dictinitoption, NULL::text[], obj_description(d.oid, 'pg_ts_dict')
  FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
  JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
 WHERE n.nspname = ANY(:schemas) AND """ + _NOT_EXTENSION.format(catalog="pg_ts_dict", oid="d.oid") + """
UNION ALL
SELECT 'configuration', n.nspname, c.cfgname, quote_ident(pn.nspname) || '.' || quote_ident(p.prsname), NULL,
       (SELECT array_agg(tt.alias || ' ' || m.dicts ORDER BY tt.tokid)
          FROM (SELECT maptokentype, string_agg(mapdict::regdictionary::text, ', ' ORDER BY mapseqno) AS dicts
                  FROM pg_ts_config_map WHERE mapcfg = c.oid GROUP BY maptokentype) m
          JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype),
       obj_description(c.oid, 'pg_ts_config')
  FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
  JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
 WHERE n.nspname = ANY(:schemas) AND """ + _NOT_EXTENSION.format(catalog="pg_ts_config", oid="c.oid")

EXTENSIONS = """
SELECT x.extname, n.nspname, x.extversion FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
 WHERE x.extname <> 'plpgsql'
"""

FK_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
FK_MATCH = {"s": None, "f": "FULL", "p": "PARTIAL"}
STORAGE = {"p": "plain", "e": "external", "m": "main", "x": "extended"}
TYPE_LIMITS = {"smallint": 32767, "integer": 2147483647, "bigint": 9223372036854775807}
SERIALS = {"smallint": "smallserial", "integer": "serial", "bigint": "bigserial"}


def sequence_options(start: int, increment: int, minvalue: int, maxvalue: int, cache: int, cycle: bool,
                     type_name: str) -> dict[str, Any]:
    """Sequence parameters with every server default left out, so equal sequences compare equal."""
    ascending = increment > 0
    limit = TYPE_LIMITS.get(type_name, TYPE_LIMITS["bigint"])
    default_min, default_max = (1, limit) if ascending else (-limit - 1, -1)
    default_start = default_min if ascending else default_max
    opts = {"start": start, "increment": increment, "minvalue": minvalue, "maxvalue": maxvalue, "cache": cache, "cycle": cycle}
    defaults = {"start": default_start, "increment": 1, "minvalue": default_min, "maxvalue": default_max, "cache": 1, "cycle": False}
    return {k: v for k, v in opts.items() if v != defaults[k]}


def implicit_name(name1: str, name2: str, label: str) -> str:
    """The name PostgreSQL makes for an object it creates for a table (makeObjectName: ``orders_id_seq``), both
    parts cut, the longer first, so the whole fits in 63 bytes."""
    room = 63 - len(label) - 2
    first, second = name1.encode(), name2.encode()
    n1, n2 = len(first), len(second)
    while n1 + n2 > room:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    clip = lambda raw, n: raw[:n].decode("utf-8", "ignore")  # whole characters only, like pg_mbcliplen
    return f"{clip(first, n1)}_{clip(second, n2)}_{label}"


def is_serial(table: str, column: str, type_name: str, sequence: str, sequence_type: str,
              options: dict[str, Any], same_schema: bool) -> bool:
    """Whether a sequence owned by a column, which the column's default draws from, is exactly what ``serial``
    creates: so the column is spelled ``serial`` and the sequence is implied. Anything else (another name, its own
    options, a bigint sequence behind an integer column) is a sequence of its own, owned by the column."""
    return (type_name in SERIALS and sequence_type == type_name and not options and same_schema
            and sequence == implicit_name(table, column, "seq"))


def collation_definition(provider: str, deterministic: bool, collate: str | None, ctype: str | None,
                         locale: str | None, rules: str | None) -> str:
    """What follows ``CREATE COLLATION name``, spelled as pg_dump spells it."""
    parts = [f"provider = {({'b': 'builtin', 'c': 'libc', 'i': 'icu', 'd': 'default'}).get(provider, provider)}"]
    if not deterministic:
        parts.append("deterministic = false")
    if locale is not None or provider in ("i", "b"):
        parts.append(f"locale = {_literal(locale or collate or '')}")
    elif collate == ctype:
        parts.append(f"locale = {_literal(collate or '')}")
    else:
        parts += [f"lc_collate = {_literal(collate or '')}", f"lc_ctype = {_literal(ctype or '')}"]
    if rules:
        parts.append(f"rules = {_literal(rules)}")
    return ", ".join(parts)


def aggregate_definition(arguments: str, sfunc: str, stype: str, finalfunc: str | None, initcond: str | None,
                         combinefunc: str | None, sortop: str | None, finalextra: bool, parallel: str) -> str:
    """What follows ``CREATE AGGREGATE name``: its arguments and parameters, each one only where not the default."""
    params = [f"SFUNC = {sfunc}", f"STYPE = {stype}"]
    params += [f"FINALFUNC = {finalfunc}"] * bool(finalfunc) + ["FINALFUNC_EXTRA"] * bool(finalextra)
    params += [f"COMBINEFUNC = {combinefunc}"] * bool(combinefunc)
    params += [f"INITCOND = {_literal(initcond)}"] if initcond is not None else []
    if sortop:  # regoperator prints "<(integer,integer)": the operator alone is the parameter
        params.append(f"SORTOP = {sortop.split('(', 1)[0]}")
    if parallel in _PARALLEL:
        params.append(f"PARALLEL = {_PARALLEL[parallel]}")
    return f"({arguments}) ({', '.join(params)})"


_PARALLEL = {"s": "SAFE", "r": "RESTRICTED"}  # "u" (unsafe) is the default


def after_name(kind: str, name: str, text: str) -> str:
    """What follows ``CREATE <KIND> name`` in what the server prints (pg_get_triggerdef, pg_get_ruledef, whose rule
    ends with ``;``)."""
    head = f"CREATE {kind} {quote_ident(name)} "
    body = text[len(head):] if text.startswith(head) else text.split(" ", 3)[3]
    return body.strip().removesuffix(";")


_POLICY_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}  # "*": ALL, the default


def policy_definition(permissive: bool, command: str, roles: str | None, using: str | None, check: str | None) -> str:
    """What follows ``CREATE POLICY name ON table``, as pg_dump spells it (defaults left out)."""
    parts = ["AS RESTRICTIVE"] * (not permissive)
    parts += [f"FOR {_POLICY_COMMANDS[command]}"] if command in _POLICY_COMMANDS else []
    parts += [f"TO {roles}"] if roles else []
    parts += [f"USING ({using})"] if using is not None else []
    parts += [f"WITH CHECK ({check})"] if check is not None else []
    return " ".join(parts)


def comment(text: str | None) -> dict[str, str]:
    """The ``comment`` option of an object that has one."""
    return {"comment": text} if text is not None else {}


def quote_ident(name: str) -> str:
    """A name quoted as the server's quote_ident quotes it (only where needed)."""
    import re

    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_RESERVED = frozenset("""ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST CHECK COLLATE COLUMN
CONSTRAINT CREATE CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DEFAULT
DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE FETCH FOR FOREIGN FROM GRANT GROUP HAVING IN INITIALLY INTERSECT
INTO LATERAL LEADING LIMIT LOCALTIME LOCALTIMESTAMP NOT NULL OFFSET ON ONLY OR ORDER PLACING PRIMARY REFERENCES
RETURNING SELECT SESSION_USER SOME SYMMETRIC TABLE THEN TO TRAILING TRUE UNION UNIQUE USER USING VARIADIC WHEN
WHERE WINDOW WITH""".split())


def parse_reloptions(options: Sequence[str] | None) -> dict[str, str]:
    return dict(o.split("=", 1) for o in options or ())


class CatalogReader:
    """Reads the schemas of one connection and builds the snapshot; ``default_schema`` keys unqualified."""

    def __init__(self, conn: Connection, schemas: Sequence[str], default_schema: str, server_num: int,
                 grants: bool = False):
        self.conn = conn
        self.schemas = list(schemas)
        self.default_schema = default_schema
        self.server_num = server_num
        self.grants = grants  # privileges are read as objects, else listed as not managed

    def key(self, schema: str, name: str) -> str:
        return table_key(None if schema == self.default_schema else schema, name)

    def schema_of(self, schema: str) -> str | None:
        return None if schema == self.default_schema else schema

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.conn.query(sql, {"schemas": self.schemas})

    def read(self, backend_name: str, server_version: str) -> Snapshot:
        compression = "a.attcompression" if self.server_num >= 140000 else "NULL"
        nnd = "i.indnullsnotdistinct" if self.server_num >= 150000 else "false"
        # one transaction: one consistent picture; without JIT, which the planner's row estimates for these
        # joins (generate_series counts 1,000 rows per index) trigger, at ~0.4 s of compilation per query
        with self.conn.transaction():
            if self.server_num >= 110000:
                self.conn.query("SELECT set_config('jit', 'off', true)")
            relations = self.query(RELATIONS)
            columns = self.query(COLUMNS.format(compression=compression))
            owned = self.query(OWNED_SEQUENCES)
            constraints = self.query(CONSTRAINTS)
            indexes = self.query(INDEXES.format(nulls_not_distinct=nnd))
            elements = self.query(INDEX_ELEMENTS)
            enums = self.query(ENUMS)
            domains = self.query(DOMAINS)
            sequences = self.query(SEQUENCES)
            existing = self.query(SCHEMAS)
            locale = "c.colllocale" if self.server_num >= 170000 else "c.colliculocale" if self.server_num >= 150000 else "NULL"
            collations = self.query(COLLATIONS.format(locale=locale, rules="c.collicurules" if self.server_num >= 160000 else "NULL"))
            parent = " AND t.tgparentid = 0" if self.server_num >= 130000 else ""
            unmanaged = [row for row in self.query(UNMANAGED.replace("{trigger_parent}", parent))
                         if not (self.grants and row[0] == "grant")]
            grants = self.query(GRANTS) if self.grants else []
            routines = self.query(ROUTINES)
            aggregates = self.query(AGGREGATES)
            triggers = self.query(TRIGGERS.replace("{trigger_parent}", parent))
            extensions = self.query(EXTENSIONS)
            table_rules = self.query(RULES), self.query(POLICIES), self.query(ROW_SECURITY)
            text_search = self.query(TEXT_SEARCH)

        rel = {r[0]: r for r in relations}
        attnames: dict[int, dict[int, str]] = defaultdict(dict)
        cols_of: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in columns:
            attnames[row[0]][row[1]] = row[2]
            cols_of[row[0]].append(row)
        owned_by = {(r[0], r[1]): r for r in owned}
        cons_of: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in constraints:
            cons_of[row[0]].append(row)
        elems_of: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in elements:
            elems_of[row[0]].append(row)
        index_info = {r[1]: r for r in indexes}
        idx_of: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in indexes:
            if not row[11] and not row[12]:  # neither backing a constraint nor a partition's copy
                idx_of[row[0]].append(row)

        tables, views = [], []
        implied: set[str] = set()  # owned sequences a serial column implies
        for oid, r in rel.items():
            if r[3] in ("v", "m"):
                views.append(self.view(r, [self.index(i, elems_of.get(i[1], [])) for i in idx_of[oid]]))
            else:
                tables.append(self.table(r, cols_of[oid], owned_by, cons_of[oid], attnames, idx_of[oid], elems_of,
                                         index_info, implied))
        own = {self.key(s[3], s[4]): {"type": s[11], **sequence_options(*s[5:12]),
                                      "owned_by": [self.key(rel[s[0]][1], rel[s[0]][2]), attnames[s[0]][s[1]]]}
               for s in owned if s[2] == "a" and s[0] in rel and s[1] in attnames.get(s[0], {})}
        standalone = {self.key(r[0], r[1]): {"type": r[8], **sequence_options(*r[2:9])} for r in sequences}
        snap = Snapshot.of(
            backend_name, tables, views,
            enums={self.key(s, n): tuple(v) for s, n, v in enums},
            domains={self.key(r[0], r[1]): self.domain(r) for r in domains},
            sequences={**standalone, **{k: v for k, v in own.items() if k not in implied}},
            objects=[SchemaObject("collation", name, self.schema_of(schema), collation_definition(*rest))
                     for schema, name, *rest in collations] + self.programmable(routines, aggregates, triggers, extensions)
                    + self.table_rules(*table_rules) + self.privileges(grants) + self.text_search(text_search),
            server_version=server_version,
            unmanaged=self.unmanaged(unmanaged),
        )
        return with_empty_schemas(snap, [r[0] for r in existing if r[0] != self.default_schema])

    def programmable(self, routines: list[tuple[Any, ...]], aggregates: list[tuple[Any, ...]],
                     triggers: list[tuple[Any, ...]], extensions: list[tuple[Any, ...]]) -> list[SchemaObject]:
        """Functions, procedures, aggregates, triggers and extensions, each as the server prints it."""
        out = [SchemaObject("procedure" if kind == "p" else "function", name, self.schema_of(schema), text.strip(),
                            {"arguments": args, **({"returns": returns} if returns else {}), **comment(note)})
               for schema, name, kind, args, returns, text, note in routines]
        out += [SchemaObject("aggregate", name, self.schema_of(schema), aggregate_definition(*rest[:-1]),
                             {"arguments": identity, **comment(rest[-1])})
                for schema, name, identity, *rest in aggregates]
        out += [SchemaObject("trigger", name, self.schema_of(schema), after_name("TRIGGER", name, text),
                             {"table": table, **comment(note)})
                for schema, table, name, text, note in triggers]
        out += [SchemaObject("extension", name, self.schema_of(schema), "", {"version": version})
                for name, schema, version in extensions]
        return out

    def table_rules(self, rules: list[tuple[Any, ...]], policies: list[tuple[Any, ...]],
                    row_security: list[tuple[Any, ...]]) -> list[SchemaObject]:
        """Rules, policies and whether a table has row-level security on (and forced on its owner)."""
        out = [SchemaObject("rule", name, self.schema_of(schema), after_name("RULE", name, text), {"table": table})
               for schema, table, name, text in rules]
        out += [SchemaObject("policy", name, self.schema_of(schema), policy_definition(*rest), {"table": table})
                for schema, table, name, *rest in policies]
        out += [SchemaObject("row security", table, self.schema_of(schema), "", {"forced": True} if forced else {})
                for schema, table, forced in row_security]
        return out

    def text_search(self, rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
        """Text-search dictionaries (``(TEMPLATE = …, options)``) and configurations (``(PARSER = …)``, mappings)."""
        out = []
        for kind, schema, name, source, options, mappings, note in rows:
            if kind == "dictionary":
                out.append(SchemaObject("text search dictionary", name, self.schema_of(schema),
                                        f"(TEMPLATE = {source}{', ' + options if options else ''})", comment(note)))
                continue
            mapped = dict(m.split(" ", 1) for m in mappings or ())
            out.append(SchemaObject("text search configuration", name, self.schema_of(schema), f"(PARSER = {source})",
                                    {**({"mappings": mapped} if mapped else {}), **comment(note)}))
        return out

    def privileges(self, rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
        """One object per role and relation: the privileges granted (the owner's own are implied)."""
        return [SchemaObject("grant", role, self.schema_of(schema), privileges,
                             {"table": table, **({"sequence": True} if sequence else {})})
                for schema, table, role, sequence, privileges in rows]

    def unmanaged(self, rows: list[tuple[Any, ...]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for kind, schema, name in rows:
            out[kind].append(self.key(schema, name) if schema else name)
        return dict(out)

    # -- tables -----------------------------------------------------------------------------------

    def table(self, r: tuple[Any, ...], cols: list[tuple[Any, ...]], owned: dict[Any, tuple[Any, ...]],
              cons: list[tuple[Any, ...]], attnames: dict[int, dict[int, str]], idx: list[tuple[Any, ...]],
              elems_of: dict[int, list[tuple[Any, ...]]], index_info: dict[int, tuple[Any, ...]],
              implied: set[str]) -> Table:
        oid, schema, name = r[0], r[1], r[2]
        options: dict[str, Any] = {}
        if r[4] == "u":
            options["unlogged"] = True
        if r[5]:
            options["with"] = parse_reloptions(r[5])
        if r[6]:
            options["tablespace"] = r[6]
        if r[7]:
            options["partition_by"] = r[7]
        if r[12]:  # a partition: its parent and bound; columns and constraints come from the parent
            options["partition_of"] = self.key(r[10][0], r[11][0])
            options["partition_bound"] = r[8]
        elif r[9]:
            options["inherits"] = [self.key(s, n) for s, n in zip(r[10], r[11])]
        names = attnames.get(oid, {})
        columns = [self.column(r, c, owned.get((oid, c[1])), implied) for c in cols]
        pk, fks, uniques, checks = None, [], [], []
        for c in cons:
            kind, cname = c[2], c[1]
            cols_ = tuple(names[k] for k in (c[4] or ()) if k in names)  # 0: an expression (exclusion constraints)
            comment = {"comment": c[18]} if c[18] is not None else {}
            if kind == "p":
                deferrable = {k: v for k, v in (("deferrable", True if c[11] else None),
                                                 ("initially", "DEFERRED" if c[12] else None)) if v}
                pk = PrimaryKey(cname, cols_, {**deferrable, **comment})
            elif kind == "u":
                opts = self.unique_options(c, index_info.get(c[15]), elems_of.get(c[15], []))
                uniques.append(Unique(cname, cols_, {**opts, **comment}))
            elif kind == "f":
                fk = self.foreign_key(c, cols_, attnames)
                fks.append(replace(fk, options={**fk.options, **comment}))
            elif kind == "c":
                opts = {k: True for k, on in (("no_inherit", c[14]), ("not_valid", not c[13])) if on}
                checks.append(Check(cname, c[16], {**opts, **comment}))
            elif kind == "x":
                checks.append(Check(cname, c[3], {"type": "exclude", **comment}))
        indexes = [self.index(i, elems_of.get(i[1], [])) for i in idx]
        return Table(
            name=name, schema=self.schema_of(schema), columns=tuple(columns), primary_key=pk,
            foreign_keys=tuple(fks), uniques=tuple(uniques), checks=tuple(checks), indexes=tuple(indexes),
            comment=r[13], options=options,
        )

    def column(self, r: tuple[Any, ...], c: tuple[Any, ...], seq: tuple[Any, ...] | None, implied: set[str]) -> Column:
        (_rel, _num, name, type_, notnull, default, identity, generated, collation, storage, typstorage, compression,
         comment, inherited) = c
        options: dict[str, Any] = {}
        if inherited and not r[12]:  # a partition's columns are all its parent's
            options["inherited"] = True  # only the parent's: the child does not declare it
        if storage != typstorage:
            options["storage"] = STORAGE.get(storage, storage)
        if compression:
            options["compression"] = {"p": "pglz", "l": "lz4"}.get(compression, compression)
        ident = None
        computed = None
        if identity:
            opts = sequence_options(*seq[5:12]) if seq else {}
            ident = Identity(always=identity == "a", **opts)
            default = None
        elif generated:
            computed, default = Computed(default, stored=True), None
        elif (seq is not None and seq[2] == "a" and default == f"nextval({_literal(seq[12])}::regclass)"
              and is_serial(r[2], name, type_, seq[4], seq[11], sequence_options(*seq[5:12]), seq[3] == r[1])):
            options["serial"] = True  # serial/bigserial: the sequence it owns is implied
            default = None
            implied.add(self.key(seq[3], seq[4]))
        return Column(name=name, type=type_, nullable=not notnull, default=default, identity=ident, computed=computed,
                      collation=collation, comment=comment, options=options)

    def foreign_key(self, c: tuple[Any, ...], cols: tuple[str, ...], attnames: dict[int, dict[int, str]]) -> ForeignKey:
        ref_names = attnames.get(c[17])
        ref_cols = tuple(ref_names[k] for k in c[7]) if ref_names else tuple(self._fk_ref_columns(c[3]))
        options = {"not_valid": True} if not c[13] else {}
        return ForeignKey(
            name=c[1], columns=cols, ref_table=self.key(c[5], c[6]), ref_columns=ref_cols,
            on_delete=FK_ACTIONS[c[9]], on_update=FK_ACTIONS[c[8]],
            deferrable=True if c[11] else None, initially="DEFERRED" if c[12] else None,
            match=FK_MATCH[c[10]], options=options,
        )

    @staticmethod
    def _fk_ref_columns(definition: str) -> list[str]:
        """Referenced column names from ``FOREIGN KEY (a) REFERENCES t(x, y) …`` (a table outside the schemas)."""
        inner = definition.split("REFERENCES", 1)[1]
        inner = inner[inner.index("(") + 1 : inner.index(")")]
        return [_unquote(p.strip()) for p in inner.split(",")]

    def unique_options(self, c: tuple[Any, ...], info: tuple[Any, ...] | None, elems: list[tuple[Any, ...]]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if c[11]:
            options["deferrable"] = True
        if c[12]:
            options["initially"] = "DEFERRED"
        if info is not None:
            if info[10]:
                options["nulls_not_distinct"] = True
            if info[8] < info[9]:
                options["include"] = [_unquote(e[3]) for e in elems[info[8]:]]
            if info[5]:
                options["with"] = parse_reloptions(info[5])
            if info[6]:
                options["tablespace"] = info[6]
        return options

    def index(self, i: tuple[Any, ...], elems: list[tuple[Any, ...]]) -> Index:
        _rel, _oid, name, unique, method, reloptions, tablespace, where, nkey, _natts, nnd, _cons, _part, comment = i
        elements = []
        for e in elems[:nkey]:
            _i, _n, attnum, text, option, opcname, opcdefault, collation = e
            option = option or 0
            descending = bool(option & 1)
            nulls_first = bool(option & 2)
            nulls = None
            if nulls_first != descending:
                nulls = "first" if nulls_first else "last"
            kw = {"descending": descending, "nulls": nulls, "opclass": None if opcdefault or opcname is None else opcname,
                  "collation": collation}
            if attnum:
                elements.append(IndexElement(column=_unquote(text), **kw))
            else:
                elements.append(IndexElement(expression=text, **kw))
        options: dict[str, Any] = {}
        if method != "btree":
            options["using"] = method
        if nkey < len(elems):
            options["include"] = [_unquote(e[3]) for e in elems[nkey:]]
        if reloptions:
            options["with"] = parse_reloptions(reloptions)
        if tablespace:
            options["tablespace"] = tablespace
        if nnd:
            options["nulls_not_distinct"] = True
        if comment is not None:
            options["comment"] = comment
        return Index(name, tuple(elements), bool(unique), where, options)

    def view(self, r: tuple[Any, ...], indexes: list[Index]) -> View:
        options: dict[str, Any] = {}
        if r[5]:
            options["with"] = parse_reloptions(r[5])
        if r[6] and r[3] == "m":
            options["tablespace"] = r[6]
        return View(name=r[2], schema=self.schema_of(r[1]), definition=canonical_view(r[14] or ""),
                    materialized=r[3] == "m", comment=r[13], options=options, indexes=tuple(indexes))

    def domain(self, r: tuple[Any, ...]) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": r[2], "nullable": not r[3]}
        if r[4] is not None:
            doc["default"] = r[4]
        if r[5]:
            doc["collation"] = r[5]
        if r[6]:
            doc["checks"] = list(r[6])
        return doc


def canonical_view(definition: str) -> str:
    text = definition.strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


class PostgreSQLCatalog(Mixin):
    """Introspection: the catalog reader over a live connection."""

    if TYPE_CHECKING:  # from PostgreSQLConnecting
        def server_num(self, conn: Connection) -> int: ...
        def default_schema(self, conn: Connection | None) -> str: ...

    def introspect(self, conn: Connection, schemas: Sequence[str] | None = None) -> Snapshot:
        default = self.default_schema(conn)
        number = self.server_num(conn)
        snap = CatalogReader(conn, list(schemas or [default]), default, number,
                             self.manage_grants).read(self.name, _version_text(number))
        return snap.replace(tables={k: t for k, t in snap.tables.items() if t.name not in self.internal_tables or t.schema})
