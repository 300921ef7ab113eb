"""Snapshots (``dbwarden_nb.schema``): equality is exactly "the diff is empty", the JSON form round-trips and is
checked, and a malformed document is one ``SnapshotError`` line."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dbwarden_nb.errors import SnapshotError
from dbwarden_nb.schema import (
    Column,
    Identity,
    Index,
    IndexElement,
    SchemaObject,
    Snapshot,
    View,
    plural,
    split_key,
    with_empty_schemas,
)
from unit.samples import linked, shop, table


def rich() -> Snapshot:
    t = table("postgresql", "t", Column("a", "INTEGER", identity=Identity(always=True, start=5)),
              Column("b", "TEXT", default="'x'", comment="bee"),
              indexes=(Index("ix_t_lower", (IndexElement(expression="lower(b)", descending=True),), where="a > 0"),),
              comment="tee", schema="app")
    return Snapshot.of("postgresql", [t], [View("v", "SELECT a FROM app.t", schema="app")],
                       [SchemaObject("extension", "citext")], enums={"app.mood": ("a", "b")},
                       sequences={"app.seq": {"start": 1}}, domains={"d": {"type": "integer"}},
                       server_version="15.4", unmanaged={"function": ("f2", "f1")})


def test_json_round_trip_keeps_everything() -> None:
    snap = rich()
    back = Snapshot.from_json(snap.to_json())
    assert back == snap and back.to_json() == snap.to_json()
    assert back.tables["app.t"].indexes[0].elements[0].expression == "lower(b)"
    assert back.unmanaged == {"function": ("f1", "f2")}


def test_equality_ignores_column_order_and_server_version() -> None:
    snap = shop("sqlite")
    t = snap.tables["customers"]
    shuffled = snap.replace(tables={**snap.tables, "customers": replace(t, columns=t.columns[::-1])},
                            server_version="3.45")
    assert shuffled == snap and shuffled.checksum == snap.checksum


def test_any_real_change_changes_the_checksum() -> None:
    snap = shop("sqlite")
    t = snap.tables["customers"]
    changed = [snap.replace(tables={**snap.tables, "customers": replace(t, comment="c")}),
               snap.replace(tables={**snap.tables, "customers": replace(t, columns=(*t.columns, Column("z", "TEXT")))}),
               snap.replace(views={"v": View("v", "SELECT 1")}),
               snap.replace(enums={"e": ("a",)})]
    assert len({snap.checksum, *(c.checksum for c in changed)}) == 1 + len(changed)


def test_constraint_order_is_canonical() -> None:
    a = linked(("t", "a"), ("t", "b"))
    t = a.tables["t"]
    assert replace(t, foreign_keys=t.foreign_keys[::-1]) == t


@pytest.mark.parametrize(("text", "message"), [
    ("{", "snapshot: not valid JSON"),
    ("[]", "snapshot: not a dbwarden-snapshot/1 document"),
    ('{"format": "dbwarden-snapshot/1"}', "snapshot: malformed snapshot (KeyError: 'backend')"),
    ('{"format": "dbwarden-snapshot/1", "backend": "sqlite", "tables": {"t": {"columns": 5}}}',
     "snapshot: malformed snapshot (TypeError: expected a list, got int)"),
    ("[" * 100000, "snapshot: not valid JSON"),
])
def test_malformed_snapshot_is_one_error(text: str, message: str) -> None:
    with pytest.raises(SnapshotError) as err:
        Snapshot.from_json(text)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_checksum_mismatch_is_refused() -> None:
    doc = json.loads(shop("sqlite").to_json())
    doc["tables"]["customers"]["comment"] = "edited by hand"
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        Snapshot.from_dict(doc, source="snapshots/0001.json")


def test_schemas_empty_ones_become_objects() -> None:
    snap = rich()
    with_extra = with_empty_schemas(snap, ["app", "empty"])
    assert [o.key for o in with_extra.objects.values() if o.kind == "schema"] == ["schema empty"]
    assert with_empty_schemas(with_extra, ["app"]) == snap  # and go again when no longer asked for


def test_keys() -> None:
    assert split_key("app.t") == ("app", "t")
    assert split_key("t") == (None, "t")
    dotted = table("sqlite", "a.b")
    assert split_key("a.b", {"a.b": dotted}) == (None, "a.b")
    trigger = SchemaObject("trigger", "tr", "app", "BEFORE ...", {"table": "t"})
    assert trigger.key == "trigger app.tr on t"
    assert SchemaObject("function", "f", None, "(a integer, b text) RETURNS int AS $$ $$").key == "function f(a integer, b text)"


def test_plural() -> None:
    assert [plural(k, n) for k, n in (("function", 1), ("policy", 2), ("index", 3), ("key", 2))] == [
        "1 function", "2 policies", "3 indexes", "2 keys"]


@pytest.mark.parametrize("value", [
    {"b": [1, 2.5, -0.0, 10**30, None, True, False, "é\n\"\\\u2028\x00"], "a": {}, "c": [], "d": {"z": [[], {}], "ä": ()}},
    [("x", "y"), ["a"], [1, "a"]], "plain", 3, None,
    {1: "int key"}, {"x": float("nan")}, {"x": float("-inf")}, [True, 1], {"k": {"n": 1.5e-300}},
])
def test_file_form_is_the_standard_librarys_indented_json(value: object) -> None:
    from dbwarden_nb.schema import _indented_json

    assert _indented_json(value) == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def test_snapshot_file_form_is_unchanged() -> None:
    snap = rich()
    assert snap.to_json() == json.dumps(snap.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
