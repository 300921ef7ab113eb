"""``--dev``: production models, a SQLite dev database, one migration chain for both (SPEC "SQL translation").

Driven through the real CLI on real servers. The model sets (every type each backend produces) and a sample
row per table come from tests/translation_models.py; tests/test_translate.py checks the report row by row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from projects import ProjectDir
from translation_models import MODELS, ROWS

from dbwarden_nb.api import Project

DEV_CONFIG = '\ndev_database_type="sqlite",\ndev_database_url="sqlite:///./dev.db",'
URL_FIXTURES = {"postgresql": "pg_url", "mysql": "mysql_url", "mariadb": "mariadb_url", "clickhouse": "clickhouse_url"}


def dev_project(tmp_path: Path, request: pytest.FixtureRequest, backend: str, dev: bool = True) -> ProjectDir:
    url = request.getfixturevalue(URL_FIXTURES[backend])
    return ProjectDir(tmp_path / "proj", url, backend, DEV_CONFIG if dev else "")


def sqlite_columns(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'dbwarden_%'")]
        return {t: {r[1] for r in conn.execute(f'PRAGMA table_xinfo("{t}")')} for t in tables}


def model_columns(project: ProjectDir) -> dict[str, set[str]]:
    """Every table and column of the production models, by bare table name."""
    snap = Project.load(project.root / "dbwarden.py").database().production_models()
    return {t.name: {c.name for c in t.columns} for t in snap.tables.values()}


def insert_and_read(path: Path, rows: dict[str, dict[str, object]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for table, row in rows.items():  # ROWS lists parents before children
            cols = ", ".join(f'"{c}"' for c in row)
            conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})', list(row.values()))
        for table, row in rows.items():
            got = conn.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in row)} FROM "{table}"').fetchall()
            assert got == [tuple(row.values())], (table, got)


@pytest.mark.parametrize("backend", sorted(URL_FIXTURES))
def test_dev_make_migrations_and_migrate(tmp_path, request, backend):
    project = dev_project(tmp_path, request, backend)
    project.models(MODELS[backend])
    made = project.ok("--dev", "make-migrations", "initial")
    [path] = project.migration_files()
    text = path.read_text(encoding="utf-8")
    assert f"-- backend: {backend}" in text and "-- dev-upgrade: sqlite" in text and "-- dev-rollback: sqlite" in text
    assert "dev translation:" in made.out  # the lossy decisions are listed, not hidden

    project.ok("--dev", "migrate")
    dev_db = project.root / "dev.db"
    # no table and no column of the models is left out of the SQLite database
    assert sqlite_columns(dev_db) == model_columns(project)
    insert_and_read(dev_db, ROWS[backend])
    assert project.cli("--dev", "diff", "--check").code == 0
    again = project.ok("--dev", "make-migrations", "again")
    assert "nothing written" in again.out and len(project.migration_files()) == 1
    # the report is there for the CLI and --json
    report = project.ok("--dev", "--json", "translate").json()
    assert {row["action"] for row in report["decisions"]} >= {"kept", "converted"}

    # the rollback drops tables that hold the rows written since: counted, and refused without --force
    refused = project.cli("--dev", "rollback")
    assert refused.code == 1 and "written since the upgrade created it, which the rollback drops" in refused.err, refused.err
    project.ok("--dev", "rollback", "--force")
    assert sqlite_columns(dev_db) == {}


def test_postgresql_chain_runs_on_sqlite(tmp_path, request):
    """A chain generated against the production server, then replayed on the dev database with --dev."""
    project = dev_project(tmp_path, request, "postgresql")
    customer = """
        class Customer(Base):
            __tablename__ = "customer"
            id: Mapped[int] = mapped_column(sa.Identity(), primary_key=True)
            email: Mapped[str] = mapped_column(sa.String({length}), unique=True)
            created: Mapped[object] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
        """
    project.models(customer.format(length=200))
    project.ok("make-migrations", "customers")
    project.ok("migrate")
    project.models("""
        import enum

        class Tier(enum.Enum):
            free = "free"
            pro = "pro"
        """ + customer.format(length=200) + """
            token: Mapped[object] = mapped_column(pg.UUID, server_default=sa.text("gen_random_uuid()"))
            tier: Mapped[Tier] = mapped_column(sa.Enum(Tier, name="tier"), server_default="free")

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
            customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True)
            total: Mapped[object] = mapped_column(sa.Numeric(12, 2), sa.CheckConstraint("total >= 0"))
            doc: Mapped[object] = mapped_column(pg.JSONB, nullable=True)
        """)
    project.ok("make-migrations", "orders and tiers")
    project.ok("migrate")
    project.models(customer.format(length=250))
    project.ok("make-migrations", "drop orders")
    project.ok("migrate", "--force")
    assert all("-- dev-upgrade: sqlite" in p.read_text() for p in project.migration_files())

    project.ok("--dev", "migrate", "--force")
    assert project.cli("--dev", "diff", "--check").code == 0
    status = project.ok("--dev", "--json", "status").json()
    assert [row["version"] for row in status["applied"]] == [1, 2, 3]
    project.ok("--dev", "downgrade", "--to", "1", "--force")
    assert sqlite_columns(project.root / "dev.db") == {"customer": {"id", "email", "created"}}
    project.ok("--dev", "migrate", "--force")
    assert project.cli("--dev", "diff", "--check").code == 0
    # the production history is untouched by all this
    assert [row["version"] for row in project.ok("--json", "status").json()["applied"]] == [1, 2, 3]


def test_strict_translation_writes_nothing(tmp_path, request):
    project = dev_project(tmp_path, request, "postgresql")
    project.models("""
        class Booking(Base):
            __tablename__ = "booking"
            id: Mapped[int] = mapped_column(primary_key=True)
            during: Mapped[object] = mapped_column(pg.TSTZRANGE)
            token: Mapped[object] = mapped_column(pg.UUID, server_default=sa.text("gen_random_uuid()"))
            tags: Mapped[object] = mapped_column(pg.ARRAY(sa.Text))
        """)
    for command in (("make-migrations", "bookings"), ("--dev", "make-migrations", "bookings")):
        result = project.cli("--strict-translation", *command)
        assert result.code == 1
        [line] = result.err.strip().splitlines()
        assert all(f"booking.{c}" in line for c in ("during", "token", "tags")), line
        assert "Traceback" not in result.err
        assert project.migration_files() == []
        assert not (project.root / ".dbwarden" / "primary" / "snapshots").exists()
    # without --strict-translation: written, every column kept, the lossy ones reported
    made = project.ok("--dev", "make-migrations", "bookings")
    assert all(f"booking.{c}" in made.out for c in ("during", "token", "tags"))
    project.ok("--dev", "migrate")
    assert sqlite_columns(project.root / "dev.db") == {"booking": {"id", "during", "token", "tags"}}


def test_dev_without_dev_database_url(tmp_path, request):
    project = dev_project(tmp_path, request, "postgresql", dev=False)
    for args in (("--dev", "make-migrations", "x"), ("--dev", "migrate"), ("translate",)):
        result = project.cli(*args)
        assert result.code == 1
        assert result.err.strip() == ("dbwarden: error: --dev mode is enabled, but database 'primary' has no "
                                      "dev_database_url configured"), result.err


def test_existing_chain_gets_dev_sections(tmp_path, request):
    """A chain made before the dev database was configured: --dev refuses it, translate --add-dev-sections fixes it."""
    project = dev_project(tmp_path, request, "postgresql", dev=False)
    project.models("""
        class Item(Base):
            __tablename__ = "item"
            id: Mapped[int] = mapped_column(primary_key=True)
            data: Mapped[object] = mapped_column(pg.JSONB)
        """)
    project.ok("make-migrations", "items")
    project.ok("new", "seed items")
    [_, manual] = project.migration_files()
    manual.write_text(manual.read_text().replace(
        "-- write the upgrade statements here, each ending with ;\n",
        "-- a comment the user wrote\nINSERT INTO item (id, data) VALUES (1, '{}');\n").replace(
        "-- rollback\n", "-- rollback\nDELETE FROM item WHERE id = 1;\n"))
    project.ok("migrate")
    applied = project.ok("--json", "history").json()
    config = project.root / "dbwarden.py"
    config.write_text(config.read_text().replace("model_paths=", DEV_CONFIG.strip().replace("\n", "\n    ")
                                                + "\n    model_paths="))

    refused = project.cli("--dev", "migrate")
    assert refused.code == 1 and "translate --add-dev-sections" in refused.err
    added = project.ok("translate", "--add-dev-sections")
    assert "0002_seed_items.sql: a manual migration, its SQL is not translated" in added.out
    assert "-- dev-upgrade: sqlite" in project.migration_files()[0].read_text()
    assert "-- dev-upgrade" not in manual.read_text()
    assert "0002_seed_items.sql has no '-- dev-upgrade: sqlite'" in project.cli("--dev", "migrate").err
    manual.write_text(manual.read_text() + "-- dev-upgrade: sqlite\nINSERT INTO item (id, data) VALUES (1, '{}');\n"
                      "-- dev-rollback: sqlite\nDELETE FROM item WHERE id = 1;\n")
    assert "-- a comment the user wrote" in manual.read_text()
    project.ok("--dev", "migrate")
    assert project.cli("--dev", "diff", "--check").code == 0
    with sqlite3.connect(project.root / "dev.db") as conn:
        assert conn.execute("SELECT id, data FROM item").fetchall() == [(1, "{}")]
    # adding the sections changed no checksum of the production chain
    assert project.ok("--json", "history").json() == applied
    assert project.ok("status").code == 0


@pytest.mark.parametrize("backend", ["mysql", "mariadb"])
def test_index_names_reused_across_tables(tmp_path, request, backend):
    """MySQL names indexes per table (MediaWiki has ``user_name`` on two tables), SQLite in one namespace: the dev
    database gets ``<table>_<index>`` for each shared name, reported as converted, and the chain stays one."""
    project = dev_project(tmp_path, request, backend)
    project.models("""
        class User(Base):
            __tablename__ = "user"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(40))
            __table_args__ = (sa.Index("ix_name", "name"), sa.Index("ix_only_here", "name", "id"))

        class Page(Base):
            __tablename__ = "page"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(40))
            __table_args__ = (sa.Index("ix_name", "name"), sa.Index("user", "id", "name"))
        """)
    project.ok("--dev", "--strict-translation", "make-migrations", "initial")
    project.ok("--dev", "migrate")
    with sqlite3.connect(project.root / "dev.db") as conn:
        indexes = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    assert indexes == {"user_ix_name": "user", "page_ix_name": "page", "ix_only_here": "user", "page_user": "page"}
    report = project.ok("--dev", "--json", "translate").json()
    renamed = {(d["table"], d["source"], d["result"], d["action"]) for d in report["decisions"] if d["kind"] == "index name"}
    assert renamed == {("user", "ix_name", "user_ix_name", "converted"), ("page", "ix_name", "page_ix_name", "converted"),
                       ("page", "user", "page_user", "converted")}
    assert project.cli("--dev", "diff", "--check").code == 0
    assert "nothing written" in project.ok("--dev", "make-migrations", "again").out
    project.ok("--dev", "rollback")
    assert sqlite_columns(project.root / "dev.db") == {}
