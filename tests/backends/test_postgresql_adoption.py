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
    "standalone sequences and a database with no table": """
        CREATE SEQUENCE global_counter START WITH 42 INCREMENT BY 2;
        CREATE SEQUENCE small_counter AS integer MAXVALUE 1000 CYCLE;
    """,
    "foreign keys declared on partitions (pagila's payment partitions)": """
        CREATE TABLE customer (customer_id serial PRIMARY KEY);
        CREATE TABLE payment (payment_id serial NOT NULL, customer_id int NOT NULL, amount numeric(5,2) NOT NULL,
                              payment_date timestamptz NOT NULL, PRIMARY KEY (payment_date, payment_id))
            PARTITION BY RANGE (payment_date);
        CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
        CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
        ALTER TABLE payment_p2022_01 ADD CONSTRAINT payment_p2022_01_customer_id_fkey
            FOREIGN KEY (customer_id) REFERENCES customer(customer_id);
        CREATE INDEX payment_p2022_02_customer_idx ON payment_p2022_02 (customer_id);
    """,
    "enums and domains that no column uses": """
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE DOMAIN email AS text NOT NULL CHECK (VALUE ~ '@');
        CREATE TABLE t (id int PRIMARY KEY);
    """,
    "indexes on materialized views": """
        CREATE TABLE film (film_id serial PRIMARY KEY, title text NOT NULL, rating int);
        CREATE MATERIALIZED VIEW rated AS SELECT film_id, title FROM film WHERE rating > 3;
        CREATE UNIQUE INDEX rated_film_id_idx ON rated (film_id);
        CREATE INDEX rated_title_idx ON rated (lower(title));
    """,
    "inheritance children whose default is set on the child": """
        CREATE TABLE base_item (id int NOT NULL, kind text DEFAULT 'base', created date);
        CREATE TABLE special_item (extra int) INHERITS (base_item);
        ALTER TABLE ONLY special_item ALTER COLUMN kind SET DEFAULT 'special';
        ALTER TABLE ONLY special_item ALTER COLUMN created SET DEFAULT CURRENT_DATE;
    """,
    "views whose text qualifies a table (a CTE shadows its name)": """
        CREATE TABLE x (id int PRIMARY KEY, v int);
        CREATE VIEW shadowed AS WITH x AS (SELECT 1 AS id) SELECT public.x.id, public.x.v FROM public.x JOIN x y ON y.id = public.x.id;
    """,
    "a UNIQUE constraint on the primary key's columns, and a DEFERRABLE primary key": """
        CREATE TABLE folded (a int, b int, PRIMARY KEY (a, b), CONSTRAINT folded_a_b_key UNIQUE (a, b));
        CREATE TABLE pairs (a int, b int, PRIMARY KEY (a, b));
        ALTER TABLE pairs ADD CONSTRAINT pairs_a_b_key UNIQUE (a, b);
        CREATE TABLE lazy (id int, CONSTRAINT lazy_pkey PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED);
    """,
    "empty schemas and a collation": """
        CREATE SCHEMA archive;
        CREATE SCHEMA staging;
        CREATE TABLE staging.load (id int);
        CREATE COLLATION german (provider = icu, locale = 'de-DE');
        CREATE TABLE names (id int PRIMARY KEY, name text COLLATE german);
    """,
    "functions, procedures, triggers, an aggregate and extensions (pagila's shapes)": """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
        CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'R');
        CREATE FUNCTION last_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.last_update = CURRENT_TIMESTAMP;
            RETURN NEW;
        END $$;
        CREATE FUNCTION _group_concat(text, text) RETURNS text LANGUAGE sql IMMUTABLE
            AS $_$ SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || ', ' || $2 END $_$;
        CREATE AGGREGATE group_concat(text) (SFUNC = _group_concat, STYPE = text);
        CREATE TABLE film (film_id serial PRIMARY KEY, title text NOT NULL, rating mpaa_rating DEFAULT 'G',
                           last_update timestamptz DEFAULT now() NOT NULL);
        CREATE INDEX film_title_trgm ON film USING gin (title gin_trgm_ops);
        CREATE TABLE inventory (inventory_id serial PRIMARY KEY, film_id int NOT NULL REFERENCES film);
        CREATE FUNCTION film_in_stock(p_film_id integer, OUT p_film_count integer) RETURNS SETOF integer
            LANGUAGE sql AS $_$ SELECT inventory_id FROM inventory WHERE film_id = $1 $_$;
        CREATE FUNCTION rating_rank(r mpaa_rating) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;
        CREATE FUNCTION rating_rank(r text) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 2 $$;
        CREATE PROCEDURE touch_all() LANGUAGE sql AS $$ UPDATE film SET last_update = now() $$;
        CREATE TRIGGER last_updated BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION last_updated();
        CREATE TRIGGER last_updated BEFORE UPDATE ON inventory FOR EACH ROW EXECUTE FUNCTION last_updated();
        CREATE VIEW film_list AS SELECT rating, group_concat(title) AS titles FROM film GROUP BY rating;
        CREATE TABLE film_titles (title text);
        CREATE FUNCTION film_list_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO film_titles VALUES (NEW.titles); RETURN NEW; END $$;
        CREATE TRIGGER film_list_insert INSTEAD OF INSERT ON film_list FOR EACH ROW EXECUTE FUNCTION film_list_insert();
        CREATE SCHEMA audit;
        CREATE TABLE audit.log (id int PRIMARY KEY, at timestamptz);
        CREATE FUNCTION audit.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
        CREATE TRIGGER "Stamp It" BEFORE INSERT OR UPDATE OF at ON audit.log FOR EACH ROW WHEN (NEW.id > 0)
            EXECUTE FUNCTION audit.stamp();
    """,
    "row-level security, policies of every form, rules": """
        CREATE TABLE doc (id int PRIMARY KEY, owner text NOT NULL DEFAULT current_user, body text);
        CREATE TABLE doc_log (id int, at timestamptz DEFAULT now());
        ALTER TABLE doc ENABLE ROW LEVEL SECURITY;
        ALTER TABLE doc FORCE ROW LEVEL SECURITY;
        CREATE POLICY doc_owner ON doc USING (owner = current_user);
        CREATE POLICY doc_insert ON doc FOR INSERT WITH CHECK (owner = current_user AND body IS NOT NULL);
        CREATE POLICY "No Deletes" ON doc AS RESTRICTIVE FOR DELETE TO postgres USING (false);
        CREATE TABLE note (id int PRIMARY KEY);
        ALTER TABLE note ENABLE ROW LEVEL SECURITY;
        CREATE RULE doc_logged AS ON UPDATE TO doc DO ALSO INSERT INTO doc_log (id) VALUES (NEW.id);
        CREATE RULE note_keep AS ON DELETE TO note DO INSTEAD NOTHING;
    """,
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_adopting_a_real_shape(shape, pg_url, fresh_url, tmp_path):
    adopt(tmp_path / "project", pg_url, "postgresql", SHAPES[shape], fresh_url(pg_url))


def test_what_is_not_managed_is_listed(pg_url, tmp_path):
    """Constraint triggers, ordered-set aggregates…: snapshot and generate-models say so, one line per kind;
    functions, triggers, aggregates, extensions, rules, policies and row-level security are managed."""
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
        CREATE CONSTRAINT TRIGGER film_check AFTER INSERT ON film DEFERRABLE FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE AGGREGATE pct(float8 ORDER BY float8) (SFUNC = ordered_set_transition, STYPE = internal,
                                                      FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);
    """)
    project = ProjectDir.initialized(tmp_path / "project", pg_url, "postgresql")
    line = "not managed: 1 constraint trigger, 1 ordered-set aggregate (dbwarden does not create or drop them)"
    assert line in project.ok("snapshot").out
    assert line in project.ok("generate-models", "--output", "models").out
    doc = json.loads(project.ok("--json", "snapshot", "--out", "json").out)
    assert doc["unmanaged"]["constraint trigger"] == ["film_check on film"]
    assert sorted(o["kind"] + " " + o["name"] for o in doc["objects"].values()) == [
        "aggregate total", "extension pg_trgm", "function touch", "function twice", "policy film_all",
        "row security film", "rule film_keep", "trigger film_touch"]
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
