"""Carrying a PostgreSQL database from one real schema to another: the shapes where operation order and what the
server propagates matter (foreign keys to new columns, views over changed tables, foreign-key cycles, partitions
and inheritance). Each case runs as the corpus cases do (tests/corpus.py): ``current`` loaded into A, ``desired``
into B, the plan A → B applied to A, then its rollback; judged by the snapshots and by ``pg_dump`` of A against B
(after the upgrade) and against A's original (after the rollback)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from corpus import PASS, Target, run_case
from dumps import engine_dump

CASES: dict[str, dict[str, str]] = {
    "a new table's foreign key to a column added in the same migration": {
        "current": "CREATE TABLE a (id int PRIMARY KEY);",
        "desired": "CREATE TABLE a (id int PRIMARY KEY, code text UNIQUE);"
                   "CREATE TABLE b (id int PRIMARY KEY, a_code text REFERENCES a (code));",
    },
    "a column type change under a view": {
        "current": "CREATE TABLE t (id int PRIMARY KEY, x int); CREATE VIEW v AS SELECT id, x FROM t;",
        "desired": "CREATE TABLE t (id int PRIMARY KEY, x bigint); CREATE VIEW v AS SELECT id, x FROM t;",
    },
    "a dropped column under a view of views": {
        "current": "CREATE TABLE t (id int PRIMARY KEY, x int, y int); CREATE VIEW v AS SELECT id, y FROM t;"
                   "CREATE VIEW w AS SELECT id FROM v;",
        "desired": "CREATE TABLE t (id int PRIMARY KEY, y int); CREATE VIEW v AS SELECT id, y FROM t;"
                   "CREATE VIEW w AS SELECT id FROM v;",
    },
    "a table dropped while the view over it moves to another": {
        "current": "CREATE TABLE old_t (id int); CREATE TABLE new_t (id int); CREATE VIEW v AS SELECT id FROM old_t;",
        "desired": "CREATE TABLE new_t (id int); CREATE VIEW v AS SELECT id FROM new_t;",
    },
    "tables in a foreign-key cycle dropped": {
        "current": "CREATE TABLE a (id int PRIMARY KEY, b_id int); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);"
                   "ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b;",
        "desired": "CREATE TABLE c (id int);",
    },
    "a column added to a partitioned table": {
        "current": "CREATE TABLE m (id int NOT NULL, d date NOT NULL) PARTITION BY RANGE (d);"
                   "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "desired": "CREATE TABLE m (id int NOT NULL, d date NOT NULL, note text DEFAULT 'n', qty int NOT NULL DEFAULT 0)"
                   " PARTITION BY RANGE (d);"
                   "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    },
    "a partitioned table's key, column type and index changed": {
        "current": "CREATE TABLE m (id int NOT NULL, d date NOT NULL, v int, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);"
                   "CREATE INDEX m_v_idx ON m (v);"
                   "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "desired": "CREATE TABLE m (id int NOT NULL, d date NOT NULL, v bigint, PRIMARY KEY (d, id)) PARTITION BY RANGE (d);"
                   "CREATE INDEX m_v_idx ON m (v, id);"
                   "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    },
    "a partition's own foreign key and index": {
        "current": "CREATE TABLE c (id int PRIMARY KEY); CREATE TABLE m (id int NOT NULL, c_id int, d date NOT NULL)"
                   " PARTITION BY RANGE (d);"
                   "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "desired": "CREATE TABLE c (id int PRIMARY KEY); CREATE TABLE m (id int NOT NULL, c_id int, d date NOT NULL)"
                   " PARTITION BY RANGE (d);"
                   "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
                   "ALTER TABLE m_2024 ADD CONSTRAINT m_2024_c_fk FOREIGN KEY (c_id) REFERENCES c (id);"
                   "CREATE INDEX m_2024_c_idx ON m_2024 (c_id);",
    },
    "a column added to and dropped from an inheritance parent": {
        "current": "CREATE TABLE p (id int, gone int, kept int); CREATE TABLE ch (extra int) INHERITS (p);",
        "desired": "CREATE TABLE p (id int, added text NOT NULL DEFAULT 'x'); CREATE TABLE ch (extra int) INHERITS (p);",
    },
    "an inheritance parent's column dropped while the child declares it too": {
        "current": "CREATE TABLE p (id int, shared int); CREATE TABLE ch (shared int, extra int) INHERITS (p);",
        "desired": "CREATE TABLE p (id int); CREATE TABLE ch (shared int, extra int) INHERITS (p);",
    },
    "NOT NULL and a type change on an inheritance parent": {
        "current": "CREATE TABLE p (id int, v int); CREATE TABLE ch (extra int) INHERITS (p);",
        "desired": "CREATE TABLE p (id int NOT NULL, v bigint); CREATE TABLE ch (extra int) INHERITS (p);",
    },
    "a generated column's expression changed, with its index and check": {
        "current": "CREATE TABLE t (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a + 1) STORED CHECK (g > 0));"
                   "CREATE INDEX t_g_idx ON t (g); CREATE VIEW v AS SELECT id, g FROM t;",
        "desired": "CREATE TABLE t (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a + 2) STORED CHECK (g > 0));"
                   "CREATE INDEX t_g_idx ON t (g); CREATE VIEW v AS SELECT id, g FROM t;",
    },
    "an empty schema created and dropped": {
        "current": "CREATE SCHEMA old_area; CREATE TABLE t (id int);",
        "desired": "CREATE SCHEMA new_area; CREATE TABLE t (id int); CREATE TABLE new_area.x (id int);",
    },
    "a materialized view's index changed": {
        "current": "CREATE TABLE t (id int, x int); CREATE MATERIALIZED VIEW mv AS SELECT id, x FROM t;"
                   "CREATE INDEX mv_x ON mv (x);",
        "desired": "CREATE TABLE t (id int, x int); CREATE MATERIALIZED VIEW mv AS SELECT id, x FROM t;"
                   "CREATE UNIQUE INDEX mv_id ON mv (id); CREATE INDEX mv_x ON mv (x, id);",
    },
    "owned sequences: a serial key becomes its own sequence, and back": {
        "current": "CREATE TABLE t (id serial PRIMARY KEY, n serial);",
        "desired": "CREATE SEQUENCE t_id_seq AS integer START WITH 100; CREATE TABLE t (id int DEFAULT nextval('t_id_seq') "
                   "NOT NULL PRIMARY KEY, n int NOT NULL); ALTER SEQUENCE t_id_seq OWNED BY t.id;",
    },
}


@pytest.fixture
def target(postgresql_server):
    @contextmanager
    def databases(case: str):
        names = [postgresql_server.create_database() for _ in range(2)]
        try:
            yield tuple(postgresql_server.sqlalchemy_url(n) for n in names)
        finally:
            for name in names:
                postgresql_server.drop_database(name)

    def schemas(conn) -> list[str]:
        rows = conn.query("SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
                          "AND nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY nspname")
        return [r[0] for r in rows]

    return Target("postgresql", databases, schemas=schemas, dump=engine_dump)


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_carried_from_one_schema_to_another(name, target):
    result = run_case(name, CASES[name], target)
    assert result.outcome == PASS, f"{result.reason}\n{result.detail}"


# -- numbering and generated columns changed in place, rows kept --------------------------------------------------

KEY_STEPS = [
    # (what the models say of the key column, what the next insert gives)
    ("mapped_column(primary_key=True, autoincrement=False)", None),
    ("mapped_column(primary_key=True)", 31),                                     # serial: numbering after the max
    ("mapped_column(sa.Identity(), primary_key=True)", 31),                       # serial → identity (after the max, 30)
    ("mapped_column(sa.Identity(always=True, increment=5), primary_key=True)", 36),  # in place: the sequence goes on
    ("mapped_column(primary_key=True, autoincrement=False)", None),               # identity → plain
]


def test_key_numbering_changes_keep_every_row(pg_url, tmp_path):
    """Autoincrement, serial and identity toggled on a key with rows: never a dropped column, always INFO, the rows
    and their ids kept, and the next id after the highest one (issue: ids 10/20/30 became 1/2/3)."""
    import sqlalchemy as sa
    from projects import ProjectDir

    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        for n, (key, following) in enumerate(KEY_STEPS, start=1):
            project.models(f"""
                class Ticket(Base):
                    __tablename__ = "tickets"
                    id: Mapped[int] = {key}
                    title: Mapped[str]
                    shout: Mapped[str | None] = mapped_column(sa.Computed("upper(title)") if {n} < 5 else None)
                """)
            made = project.ok("make-migrations", f"step {n}")
            sql = project.migration_files()[-1].read_text()
            if n > 1:
                assert "DROP COLUMN" not in sql.split("-- rollback")[0], sql
                assert "severity: INFO" in sql, sql
            project.ok("migrate")  # no --force: nothing here can lose data
            with engine.begin() as conn:
                if n == 1:
                    conn.execute(sa.text("INSERT INTO tickets (id, title) VALUES (10, 'a'), (20, 'b'), (30, 'c')"))
                if following is not None:
                    got = conn.execute(sa.text("INSERT INTO tickets (title) VALUES ('new') RETURNING id")).scalar()
                    assert got == following, (n, got, made.out)
                    conn.execute(sa.text("DELETE FROM tickets WHERE title = 'new'"))
                rows = conn.execute(sa.text("SELECT id, title, shout FROM tickets ORDER BY id")).all()
            # generated → plain (step 5, DROP EXPRESSION) keeps the computed values as plain ones
            assert [tuple(r) for r in rows] == list(zip([10, 20, 30], "abc", "ABC")), (n, rows)
        assert project.cli("diff", "--check").code == 0
    finally:
        engine.dispose()


def test_a_column_made_generated_is_critical_and_irreversible(pg_url, tmp_path):
    from projects import ProjectDir

    project = ProjectDir(tmp_path / "p", pg_url, "postgresql")
    project.models("""
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            price: Mapped[int]
            total: Mapped[int | None]
        """)
    project.ok("make-migrations", "one")
    project.ok("migrate")
    project.models("""
        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            price: Mapped[int]
            total: Mapped[int | None] = mapped_column(sa.Computed("price * 2"))
        """)
    made = project.ok("make-migrations", "generated")
    sql = project.migration_files()[-1].read_text()
    assert "severity: CRITICAL" in sql and "-- dbwarden: irreversible" in sql, sql
    assert "becomes generated" in made.out
    refused = project.cli("migrate")
    assert refused.code != 0 and "--force" in refused.err, refused.err
    project.ok("migrate", "--force")
    assert project.cli("diff", "--check").code == 0
