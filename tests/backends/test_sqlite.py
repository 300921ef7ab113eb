"""SQLite backend specifics: batched introspection, rebuilds that keep rows, keys and dependent views."""

from __future__ import annotations

from pathlib import Path

from dbwarden_nb.backends import get_backend
from dbwarden_nb.backends.base import Connection
from dbwarden_nb.differ import diff


def schema_ddl(n: int) -> list[str]:
    out = []
    for i in range(n):
        ref = f", parent_id INTEGER REFERENCES t{i - 1} (id) ON DELETE CASCADE" if i else ""
        out.append(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INT CHECK (n > 0){ref})")
        out.append(f"CREATE INDEX ix_t{i}_n ON t{i} (n) WHERE n > 1")
    return out


def count_queries(conn: Connection) -> int:
    calls = 0
    original = conn.query

    def counting(sql: str, params: object = None) -> list:
        nonlocal calls
        calls += 1
        return original(sql, params)  # type: ignore[arg-type]

    conn.query = counting  # type: ignore[method-assign]
    try:
        snap = conn.backend.introspect(conn)
    finally:
        del conn.query
    assert snap.tables
    return calls


def test_introspection_query_count_does_not_grow_with_tables(tmp_path: Path) -> None:
    backend = get_backend("sqlite")
    counts = []
    for n in (3, 60):
        with backend.connect(f"sqlite:///{tmp_path}/s{n}.db") as conn:
            for sql in schema_ddl(n):
                conn.execute(sql)
            counts.append(count_queries(conn))
    assert counts[0] == counts[1] <= 8, counts


def test_rebuild_keeps_rows_foreign_keys_and_dependent_views(tmp_path: Path) -> None:
    backend = get_backend("sqlite")
    with backend.connect(f"sqlite:///{tmp_path}/a.db") as a, backend.connect(f"sqlite:///{tmp_path}/b.db") as b:
        for conn in (a, b):
            conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)")
            conn.execute("CREATE VIEW names AS SELECT name FROM parent")
        a.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE, x INT)")
        b.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) "
                  "ON DELETE CASCADE ON UPDATE RESTRICT, x INT DEFAULT 7 CHECK (x > 0))")
        b.execute("CREATE INDEX ix_child_x ON child (x)")
        a.execute("INSERT INTO parent VALUES (1, 'p')")
        a.execute("INSERT INTO child VALUES (10, 1, 3)")
        old, new = backend.introspect(a), backend.introspect(b)
        plan = backend.adapt(diff(old, new), old, new)
        assert [op.kind for op in plan] == ["rebuild_table"]
        backend.before_migration(a)
        with a.transaction():
            for stmt in backend.render_plan(plan):
                a.execute(stmt.sql)
            backend.before_commit(a)
        assert backend.introspect(a) == new
        assert a.query("SELECT id, parent_id, x FROM child") == [(10, 1, 3)]
        assert a.query("SELECT name FROM names") == [("p",)]


def test_foreign_key_violation_rolls_the_migration_back(tmp_path: Path) -> None:
    backend = get_backend("sqlite")
    with backend.connect(f"sqlite:///{tmp_path}/a.db") as conn:
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))")
        conn.execute("INSERT INTO parent VALUES (1)")
        conn.execute("INSERT INTO child VALUES (1, 1)")
        before = backend.introspect(conn)
        backend.before_migration(conn)
        try:
            with conn.transaction():
                conn.execute("DELETE FROM parent")
                conn.execute("CREATE TABLE extra (id INTEGER)")
                backend.before_commit(conn)
        except Exception as exc:
            assert "foreign key check failed" in str(exc)
        else:
            raise AssertionError("the violation was not caught")
        assert backend.introspect(conn) == before
        assert conn.query("SELECT count(*) FROM parent") == [(1,)]
