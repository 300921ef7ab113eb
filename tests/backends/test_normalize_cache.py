"""The per-table normalization cache gives exactly what normalizing the whole model set gives."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dbwarden_nb.backends import get_backend
from dbwarden_nb.config import sqlalchemy_url
from dbwarden_nb.models.normalize import TableCache


def models(extra_column: bool, note: str = "x") -> list[sa.Table]:
    md = sa.MetaData()
    mood = sa.Enum("a", "b", name="mood")
    parent = sa.Table("parent", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(9), unique=True),
                      sa.Column("m", mood, server_default="a"))
    child = sa.Table("child", md, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("parent_code", sa.ForeignKey("parent.code", ondelete="CASCADE")),
                     sa.Column("note", sa.Text, server_default=note), sa.CheckConstraint("id > 0"))
    other = sa.Table("other", md, sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
                     *([sa.Column("extra", sa.Numeric(5), server_default=sa.text("1"))] if extra_column else []))
    return [parent, child, other]


def test_only_changed_tables_go_to_the_server_and_the_result_is_the_same(tmp_path: Path, pg_url: str) -> None:
    backend = get_backend("postgresql")
    with backend.connect(sqlalchemy_url(pg_url)) as conn:
        cache = TableCache(tmp_path / "tables.json")
        first = backend.extract_models(models(False), conn)
        assert cache.normalize(backend, first, conn) == backend.normalize_models(first, conn)
        assert len(cache.known) == 3

        second = backend.extract_models(models(True), conn)
        sent: list[list[str]] = []
        original = backend.normalize_models

        def spy(raw, c):
            sent.append(sorted(raw.tables))
            return original(raw, c)

        third = backend.extract_models(models(True, note="y"), conn)
        backend.normalize_models = spy  # type: ignore[method-assign]
        try:
            cached = TableCache(tmp_path / "tables.json").normalize(backend, second, conn)
            cached_third = TableCache(tmp_path / "tables.json").normalize(backend, third, conn)
        finally:
            del backend.normalize_models
        assert sent == [["other"], ["child", "parent"]]  # the changed table, with a stand-in of what it references
        assert cached == backend.normalize_models(second, conn)
        assert cached.tables["other"].column("extra").default == "1"
        assert cached_third == backend.normalize_models(third, conn)


def test_chunks_give_what_one_batch_gives(tmp_path: Path, pg_url: str, monkeypatch) -> None:
    """Large model sets are normalized a few tables at a time (one lock table's worth), with stand-ins of
    the tables a chunk references: the result is the same as normalizing everything at once."""
    from dbwarden_nb.models import normalize

    backend = get_backend("postgresql")
    with backend.connect(sqlalchemy_url(pg_url)) as conn:
        raw = backend.extract_models(models(True), conn)
        monkeypatch.setattr(normalize, "CHUNK", 1)
        chunked = TableCache(tmp_path / "tables.json").normalize(backend, raw, conn)
        assert chunked == backend.normalize_models(raw, conn)
        assert chunked.enums == {"mood": ("a", "b")}


def test_a_chain_of_references_is_normalized_in_bounded_chunks(tmp_path: Path, pg_url: str, monkeypatch) -> None:
    """600 tables, each referencing the previous: every chunk creates at most CHUNK tables on the server
    (its members and stand-ins of what they reference, never what the stand-ins reference in turn), and the
    result is what smaller chunks give."""
    import re

    from dbwarden_nb.models import normalize

    md = sa.MetaData()
    for i in range(600):
        sa.Table(f"t{i:04d}", md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("code", sa.String(9), unique=True),
                 sa.Column("parent_id", sa.ForeignKey(f"t{max(i - 1, 0):04d}.id")), sa.Index(f"ix_t{i:04d}", "code"))
    backend = get_backend("postgresql")
    with backend.connect(sqlalchemy_url(pg_url)) as conn:
        raw = backend.extract_models(list(md.sorted_tables), conn)
        created: list[int] = []  # tables each batch the normalizer sends creates
        send = conn.execute

        def counting(sql: str) -> None:
            if "CREATE TABLE" in sql:
                created.append(len(re.findall(r"^CREATE TABLE ", sql, re.MULTILINE)))
            send(sql)

        conn.execute = counting  # type: ignore[method-assign]
        try:
            chunked = TableCache(tmp_path / "a.json").normalize(backend, raw, conn)
        finally:
            del conn.execute
        assert len(created) == 3 and max(created) <= normalize.CHUNK and sum(created) <= 600 + 2, created
        assert chunked.tables["t0599"].foreign_keys[0].ref_table == "t0598"
        assert chunked.tables["t0250"].indexes and chunked.tables["t0250"].foreign_keys[0].ref_table == "t0249"
        monkeypatch.setattr(normalize, "CHUNK", 100)
        assert TableCache(tmp_path / "b.json").normalize(backend, raw, conn) == chunked
