"""Online DDL on PostgreSQL (issue 15, item 11 and the NOT VALID half of item 7), through the CLI on a real server:
indexes on existing tables built and dropped CONCURRENTLY outside the transaction (a config default and a flag),
CHECKs and foreign keys added NOT VALID then validated apart, and lock_timeout / statement_timeout per migration.
MariaDB's timeouts are here too: they are the same configuration."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from projects import ProjectDir

ITEMS = '''
class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    qty: Mapped[int | None]
    owner_id: Mapped[int | None]
'''
OWNERS = '''
class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
'''


DRIVERS = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql", "mysql": "mysql+pymysql"}
URLS = {"postgresql": "pg_url", "mariadb": "mariadb_url", "mysql": "mysql_url"}


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(f"{DRIVERS[url.split(':', 1)[0]]}://{url.split('://', 1)[1]}", poolclass=sa.pool.NullPool)


def _project(tmp_path, url: str, kind: str = "postgresql", config: str = "") -> ProjectDir:
    return ProjectDir(tmp_path / "p", url, kind, extra_config=config)


def _migrated(tmp_path, url: str, rows: str = "", kind: str = "postgresql", config: str = "") -> tuple[ProjectDir, sa.Engine]:
    """A project whose first migration made ``items`` (ITEMS), with ``rows`` inserted (an INSERT statement)."""
    project = _project(tmp_path, url, kind, config)
    project.models(ITEMS)
    project.ok("make-migrations", "one")
    project.ok("migrate")
    engine = _engine(url)
    if rows:
        with engine.begin() as conn:
            conn.execute(sa.text(rows))
    return project, engine


def _sections(text: str) -> tuple[str, str]:
    upgrade = text.split("-- upgrade\n", 1)[1].split("-- rollback\n", 1)
    return upgrade[0], upgrade[1]


def _indexes(engine: sa.Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                    "WHERE i.indrelid = 'items'::regclass AND NOT i.indisprimary"))
        return {name: valid for name, valid in rows}


@pytest.mark.parametrize("how", ["config", "flag"])
def test_an_index_on_an_existing_table_is_built_concurrently(tmp_path, pg_url, how):
    project = _project(tmp_path, pg_url, config="\nconcurrent_indexes=True," if how == "config" else "")
    flag = ["--concurrently"] if how == "flag" else []
    project.models(ITEMS + '    __table_args__ = (sa.Index("ix_items_owner", "owner_id"),)\n')
    first = project.ok("make-migrations", "one", *flag)
    text = project.migration_files()[0].read_text()
    assert "CONCURRENTLY" not in text and 'CREATE INDEX "ix_items_owner"' in text  # a new table: in its transaction
    project.ok("migrate")
    engine = _engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO items (id, qty) VALUES (1, 5), (2, 7)"))
    project.models(ITEMS + '    __table_args__ = (sa.Index("ix_items_owner", "owner_id"), sa.Index("ix_items_qty", "qty"))\n')
    second = project.ok("make-migrations", "index", *flag)
    upgrade, rollback = _sections(project.migration_files()[1].read_text())
    assert upgrade.strip() == '-- dbwarden: no-transaction\nCREATE INDEX CONCURRENTLY "ix_items_qty" ON "items" ("qty");'
    assert rollback.strip() == '-- dbwarden: no-transaction\n-- dbwarden: undoes 1\nDROP INDEX CONCURRENTLY "ix_items_qty";'
    check = project.cli("check")
    assert "SHARE UPDATE EXCLUSIVE lock on items" in check.out, check.out
    project.ok("migrate")  # INFO: no --force
    assert _indexes(engine) == {"ix_items_owner": True, "ix_items_qty": True}
    assert project.cli("diff", "--check").code == 0
    project.ok("rollback")
    assert _indexes(engine) == {"ix_items_owner": True}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM items")).scalar() == 2
    engine.dispose()
    assert first and second


def test_without_the_option_an_index_is_built_in_the_migrations_transaction(tmp_path, pg_url):
    project, engine = _migrated(tmp_path, pg_url)
    engine.dispose()
    project.models(ITEMS + '    __table_args__ = (sa.Index("ix_items_qty", "qty"),)\n')
    dry = project.ok("make-migrations", "index", "--dry-run")
    assert 'CREATE INDEX "ix_items_qty" ON "items" ("qty")' in dry.out and "CONCURRENTLY" not in dry.out
    assert "no-transaction" not in dry.out


def test_a_failed_concurrent_build_says_what_it_leaves_behind(tmp_path, pg_url):
    project, engine = _migrated(tmp_path, pg_url, "INSERT INTO items (id, qty) VALUES (1, 5), (2, 5)",
                                config="\nconcurrent_indexes=True,")
    project.models(ITEMS + '    __table_args__ = (sa.Index("ix_items_qty", "qty", unique=True),)\n')
    project.ok("make-migrations", "unique")
    failed = project.cli("migrate", "--force")  # duplicates: the build fails after the index was made
    assert failed.code == 1 and "INVALID: drop it (DROP INDEX CONCURRENTLY)" in failed.err, failed.err
    assert "Traceback" not in failed.err and len(failed.err.strip().splitlines()) == 1
    assert _indexes(engine) == {"ix_items_qty": False}
    engine.dispose()


def test_checks_and_foreign_keys_on_existing_tables_are_validated_apart(tmp_path, pg_url):
    project = _project(tmp_path, pg_url)
    project.models(OWNERS + ITEMS)
    project.ok("make-migrations", "one")
    project.ok("migrate")
    engine = _engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO owners (id) VALUES (1); INSERT INTO items (id, qty, owner_id) VALUES (1, 5, 1)"))
    new_table = '''
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("owners.id", name="tags_owner_fk"))
    __table_args__ = (sa.CheckConstraint("id > 0", name="tags_id_positive"),)
'''
    project.models(OWNERS + ITEMS.replace("    owner_id: Mapped[int | None]\n",
                                          '    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owners.id", name="items_owner_fk"))\n'
                                          '    __table_args__ = (sa.CheckConstraint("qty >= 0", name="qty_positive"),)\n')
                   + new_table)
    project.ok("make-migrations", "rules")
    text = project.migration_files()[1].read_text()
    upgrade, rollback = _sections(text)
    assert 'ADD CONSTRAINT "qty_positive" CHECK (qty >= 0) NOT VALID;\n' in upgrade, upgrade
    assert '-- dbwarden: no-transaction\nALTER TABLE "items" VALIDATE CONSTRAINT "qty_positive";' in upgrade
    assert 'REFERENCES "owners" ("id") NOT VALID;\n' in upgrade
    assert '-- dbwarden: no-transaction\nALTER TABLE "items" VALIDATE CONSTRAINT "items_owner_fk";' in upgrade
    # the data checks still come first, on the ADD
    check_line = upgrade.index("-- dbwarden: check")
    assert check_line < upgrade.index('ADD CONSTRAINT "qty_positive"')
    # a table made in the same migration keeps its constraints in CREATE TABLE
    create = upgrade[upgrade.index('CREATE TABLE "tags"'):].split(";")[0]
    assert 'CONSTRAINT "tags_owner_fk" FOREIGN KEY' in create and 'CONSTRAINT "tags_id_positive" CHECK' in create
    assert "VALIDATE CONSTRAINT \"tags" not in upgrade and "NOT VALID" not in create
    assert "VALIDATE" not in rollback
    check = project.cli("check")
    assert "then VALIDATE CONSTRAINT scans the rows of items under a SHARE UPDATE EXCLUSIVE lock" in check.out, check.out
    project.ok("migrate")
    with engine.connect() as conn:
        valid = dict(conn.execute(sa.text("SELECT conname, convalidated FROM pg_constraint WHERE contype IN ('c', 'f') AND conrelid <> 0")).all())
    assert valid == {"qty_positive": True, "items_owner_fk": True, "tags_owner_fk": True, "tags_id_positive": True}
    assert project.cli("diff", "--check").code == 0  # validated NOT VALID constraints read back as the models say
    assert project.cli("make-migrations", "again").out.strip().endswith("no changes") or not project.migration_files()[2:]
    project.ok("rollback")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pg_constraint WHERE contype IN ('c', 'f') AND conrelid <> 0")).scalar() == 0
    engine.dispose()


def test_a_violating_row_stops_before_anything_runs(tmp_path, pg_url):
    project, engine = _migrated(tmp_path, pg_url, "INSERT INTO items (id, qty) VALUES (1, -5)")

    def validated() -> list[bool]:  # qty_positive's convalidated, [] while it does not exist
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT convalidated FROM pg_constraint WHERE conname = 'qty_positive'")).scalars())

    project.models(ITEMS + '    __table_args__ = (sa.CheckConstraint("qty >= 0", name="qty_positive"),)\n')
    project.ok("make-migrations", "rule")
    refused = project.cli("migrate")
    assert refused.code == 1 and "1 rows of items that violate check qty_positive" in refused.err, refused.err
    assert validated() == []
    # with --force the ADD commits NOT VALID and the VALIDATE fails: partial, and the next migrate validates again
    for then in ("rolled back", "finished"):
        failed = project.cli("migrate", "--force")
        assert failed.code == 1 and "partial" in failed.err, failed.err
        assert validated() == [False]
        if then == "rolled back":
            project.ok("rollback", "--force")  # what ran of it can be undone: the constraint goes
            assert validated() == []
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE items SET qty = 5"))
    project.ok("migrate")
    assert validated() == [True]
    engine.dispose()


def _hold_lock(url: str, table: str, seconds: float, started: threading.Event) -> threading.Thread:
    """Another session reading ``table`` in an open transaction for ``seconds``: DDL on it waits."""
    def hold():
        engine = _engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text(f"SELECT * FROM {table}"))  # the read lock is held until the transaction ends
            started.set()
            time.sleep(seconds)
            conn.rollback()
        engine.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait(10)
    return thread


@pytest.mark.parametrize("kind", ["postgresql", "mariadb", "mysql"])
def test_lock_timeout_stops_a_migration_that_waits(tmp_path, request, kind):
    url = request.getfixturevalue(URLS[kind])
    project, engine = _migrated(tmp_path, url, kind=kind, config='\nlock_timeout="1s",')
    engine.dispose()
    project.models(ITEMS + "    extra: Mapped[int | None]\n")
    project.ok("make-migrations", "column")
    assert ("SET SESSION lock_timeout = 1000;" if kind == "postgresql" else
            "SET SESSION lock_wait_timeout = 1;") in project.ok("migrate", "--sql").out
    thread = _hold_lock(url, "items", 6, threading.Event())
    started = time.monotonic()
    try:
        failed = project.cli("migrate")
        waited = time.monotonic() - started
    finally:
        thread.join()
    assert failed.code == 1 and "lock" in failed.err.lower(), failed.err
    assert waited < 5, failed.err  # it gave up after a second, not when the other session ended
    project.ok("migrate")  # nothing holds the table now


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_statement_timeout_stops_a_long_statement(tmp_path, request, kind):
    url = request.getfixturevalue(URLS[kind])
    project = _project(tmp_path, url, kind, config='\nstatement_timeout="500ms",')
    project.ok("new", "slow")
    path = project.migration_files()[-1]
    sleep = "SELECT pg_sleep(3)" if kind == "postgresql" else "SELECT SLEEP(3)"
    path.write_text(path.read_text().replace("-- write the upgrade statements here, each ending with ;\n", f"{sleep};\n"))
    started = time.monotonic()
    failed = project.cli("migrate")
    assert failed.code == 1 and ("statement timeout" in failed.err or "max_statement_time" in failed.err), failed.err
    assert time.monotonic() - started < 2.5


def test_each_engine_spells_the_timeouts():
    from dbwarden_nb.backends import get_backend

    pg = get_backend("postgresql").online(False, {"lock_timeout": 5000, "statement_timeout": 600000})
    assert pg.timeout_statements() == ["SET SESSION lock_timeout = 5000", "SET SESSION statement_timeout = 600000"]
    maria = get_backend("mariadb").online(False, {"lock_timeout": 250, "statement_timeout": 1500})
    assert maria.timeout_statements() == ["SET SESSION lock_wait_timeout = 1", "SET SESSION innodb_lock_wait_timeout = 1",
                                          "SET SESSION max_statement_time = 1.5"]
    assert get_backend("postgresql").timeout_statements() == [] and not get_backend("postgresql").concurrent_indexes


def test_concurrently_is_refused_where_the_engine_has_no_such_build(tmp_path, mariadb_url):
    project, engine = _migrated(tmp_path, mariadb_url, kind="mariadb")
    engine.dispose()
    project.models(ITEMS + '    __table_args__ = (sa.Index("ix_items_qty", "qty"),)\n')
    refused = project.cli("make-migrations", "index", "--concurrently")
    assert refused.code == 2 and refused.err.strip().splitlines() == [
        ("dbwarden: error: primary: --concurrently is for PostgreSQL; mariadb builds plain indexes online by itself "
         "where it can (ALGORITHM=INPLACE, LOCK=NONE)")], refused.err
    bad = ProjectDir(tmp_path / "bad", mariadb_url, "mariadb", extra_config='\nstatement_timeout="soon",')
    failed = bad.cli("status")
    assert failed.code == 1 and len(failed.err.strip().splitlines()) == 1 and "statement_timeout must be a duration" in failed.err


def test_a_unique_constraint_gets_its_index_built_concurrently(tmp_path, pg_url):
    project, engine = _migrated(tmp_path, pg_url, "INSERT INTO items (id, qty) VALUES (1, 5), (2, 7)",
                                config="\nconcurrent_indexes=True,")
    project.models(ITEMS + '    __table_args__ = (sa.UniqueConstraint("qty", name="items_qty_key"),)\n')
    project.ok("make-migrations", "unique")
    upgrade, _rollback = _sections(project.migration_files()[1].read_text())
    statements = [line for line in upgrade.splitlines() if not line.startswith("-- dbwarden: check")]
    assert statements == ['-- dbwarden: no-transaction', 'CREATE UNIQUE INDEX CONCURRENTLY "items_qty_key" ON "items" ("qty");',
                          'ALTER TABLE "items" ADD CONSTRAINT "items_qty_key" UNIQUE USING INDEX "items_qty_key";'], upgrade
    assert "held by more than one row" in upgrade  # the duplicates are counted before the build
    assert "its index is built CONCURRENTLY" in project.cli("check").out
    project.ok("migrate")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT contype FROM pg_constraint WHERE conname = 'items_qty_key'")).scalar() == "u"
    assert project.cli("diff", "--check").code == 0
    project.ok("rollback")
    assert _indexes(engine) == {}
    engine.dispose()


def test_verify_checks_the_same_steps_built_plainly(tmp_path, pg_url):
    """--verify applies the migration in a transaction that is rolled back, which cannot hold a CONCURRENTLY build:
    it verifies the same steps built in the transaction, and the file keeps its concurrent statements."""
    project, engine = _migrated(tmp_path, pg_url, "INSERT INTO items (id, qty) VALUES (1, 5)")
    engine.dispose()
    project.models(ITEMS + '    __table_args__ = (sa.Index("ix_items_qty", "qty"), '
                           'sa.CheckConstraint("qty >= 0", name="qty_positive"))\n')
    project.ok("make-migrations", "index", "--concurrently", "--verify")
    upgrade, _ = _sections(project.migration_files()[1].read_text())
    assert 'CREATE INDEX CONCURRENTLY "ix_items_qty"' in upgrade and 'VALIDATE CONSTRAINT "qty_positive"' in upgrade
    project.ok("migrate")
    assert project.cli("diff", "--check").code == 0


def test_set_not_null_scans_the_rows_apart(tmp_path, pg_url):
    project, engine = _migrated(tmp_path, pg_url, "INSERT INTO items (id, qty) VALUES (1, 5), (2, NULL)")
    project.models(ITEMS.replace("qty: Mapped[int | None]", "qty: Mapped[int]"))
    project.ok("make-migrations", "required")
    upgrade, rollback = _sections(project.migration_files()[1].read_text())
    statements = [line for line in upgrade.splitlines() if not line.startswith("-- dbwarden: check")]
    check = next(line.split('"')[3] for line in statements if "ADD CONSTRAINT" in line)
    assert check.startswith("dbwarden_not_null_") and statements == [
        f'ALTER TABLE "items" ADD CONSTRAINT "{check}" CHECK ("qty" IS NOT NULL) NOT VALID;',
        "-- dbwarden: no-transaction", f'ALTER TABLE "items" VALIDATE CONSTRAINT "{check}";',
        'ALTER TABLE "items" ALTER COLUMN "qty" SET NOT NULL;', f'ALTER TABLE "items" DROP CONSTRAINT "{check}";'], upgrade
    assert "DROP NOT NULL" in rollback
    assert "SET NOT NULL then uses it instead of scanning" in project.cli("check").out
    refused = project.cli("migrate")  # the NULL is counted first
    assert refused.code == 1 and "1 rows of items with NULL in qty" in refused.err, refused.err
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE items SET qty = 0 WHERE qty IS NULL"))
    project.ok("migrate")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pg_constraint WHERE conrelid = 'items'::regclass "
                                    "AND contype = 'c'")).scalar() == 0
    assert project.cli("diff", "--check").code == 0
    project.ok("rollback")
    assert project.cli("diff", "--check").code == 2
    engine.dispose()
