"""Adopting real PostgreSQL databases: shapes cut down from published schemas (GitLab, pagila, Rails-era
``structure.sql`` dumps), each loaded with psql, adopted through the CLI as a newcomer does it (``init`` without
models → ``snapshot`` → ``generate-models`` → ``baseline``), and judged by ``pg_dump --schema-only`` of the original
and of a fresh database built from the generated models."""

from __future__ import annotations

import json

import pytest
from roundtrip import adopt

SHAPES: dict[str, str] = {
    "a small shop, as a newcomer adopts it": """
        CREATE TABLE customers (id serial PRIMARY KEY, email varchar(200) NOT NULL UNIQUE, created_at timestamptz DEFAULT now());
        CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                             total numeric(10,2) NOT NULL DEFAULT 0, note text);
        CREATE INDEX orders_customer_idx ON orders (customer_id);
        CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
    """,
    "serial inside a composite primary key (GitLab's partitioned tables)": """
        CREATE SEQUENCE events_id_seq;
        CREATE TABLE events (id bigint DEFAULT nextval('events_id_seq'::regclass) NOT NULL, partition_id bigint NOT NULL,
                             payload text, PRIMARY KEY (id, partition_id));
        ALTER SEQUENCE events_id_seq OWNED BY events.id;
    """,
    "owned sequences that are not a plain serial": """
        CREATE SEQUENCE legacy_id_seq AS bigint;
        CREATE TABLE legacy (id integer DEFAULT nextval('legacy_id_seq'::regclass) NOT NULL PRIMARY KEY);
        ALTER SEQUENCE legacy_id_seq OWNED BY legacy.id;
        CREATE SEQUENCE tickets_id_seq START WITH 1000 INCREMENT BY 5 CACHE 10 NO CYCLE;
        CREATE TABLE tickets (id integer DEFAULT nextval('tickets_id_seq'::regclass) NOT NULL PRIMARY KEY);
        ALTER SEQUENCE tickets_id_seq OWNED BY tickets.id;
        CREATE SEQUENCE renamed_seq;
        CREATE TABLE renamed (id bigint DEFAULT nextval('renamed_seq'::regclass) NOT NULL PRIMARY KEY);
        ALTER SEQUENCE renamed_seq OWNED BY renamed.id;
    """,
    "serial columns outside the primary key (order numbers, counters)": """
        CREATE TABLE invoices (id serial PRIMARY KEY, number bigserial NOT NULL, counter smallserial NOT NULL);
        CREATE TABLE no_key (seq serial NOT NULL, label text);
    """,
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_adopting_a_real_shape(shape, pg_url, fresh_url, tmp_path):
    adopt(tmp_path / "project", pg_url, "postgresql", SHAPES[shape], fresh_url(pg_url))


def test_what_is_not_managed_is_listed(pg_url, tmp_path):
    """Functions, triggers, rules, policies, extensions…: snapshot and generate-models say so, one line per kind."""
    from dumps import load_ddl
    from projects import ProjectDir

    load_ddl(pg_url, """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE TABLE film (id int PRIMARY KEY, title text);
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
        CREATE FUNCTION twice(a int) RETURNS int LANGUAGE sql AS 'SELECT a * 2';
        CREATE TRIGGER film_touch BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE RULE film_keep AS ON DELETE TO film DO INSTEAD NOTHING;
        ALTER TABLE film ENABLE ROW LEVEL SECURITY;
        CREATE POLICY film_all ON film USING (true);
        CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int);
    """)
    project = ProjectDir.initialized(tmp_path / "project", pg_url, "postgresql")
    line = ("not managed: 1 aggregate, 1 extension, 2 functions, 1 policy, 1 row-level security setting, 1 rule, "
            "1 trigger (dbwarden does not create or drop them)")
    assert line in project.ok("snapshot").out
    assert line in project.ok("generate-models", "--output", "models").out
    doc = json.loads(project.ok("--json", "snapshot", "--out", "json").out)
    assert doc["unmanaged"]["function"] == ["touch()", "twice(a integer)"]
    assert doc["unmanaged"]["trigger"] == ["film_touch on film"]
    assert doc["unmanaged"]["extension"] == ["pg_trgm"]
    # what is not managed is never dropped: the generated models' diff is empty, and no migration touches them
    assert project.cli("diff", "--check").code == 0
    project.ok("baseline")
    assert "nothing written" in project.ok("make-migrations", "nothing").out


def test_excluded_views_are_never_dropped(pg_url, tmp_path):
    from dumps import load_ddl
    from projects import ProjectDir

    load_ddl(pg_url, "CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW report_v AS SELECT id FROM t;")
    project = ProjectDir.initialized(tmp_path / "project", pg_url, "postgresql")
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace("model_paths=", "exclude_tables=['report_*'],\n    model_paths="))
    generated = project.ok("generate-models", "--output", "models").out
    assert "1 excluded view" in generated
    assert "report_v" not in (project.root / "models" / "__init__.py").read_text()
    assert project.cli("diff", "--check").code == 0
    assert "DROP VIEW" not in project.ok("diff", "--out", "sql").out
