"""Nothing lost: every plan and every rollback judged by what it does to the rows, on the real servers, through the
CLI, with the rows asserted after the upgrade and after the rollback."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from backend_params import backends, url_fixture
from projects import ProjectDir

SERVERS = backends({"clickhouse": "rows are written through a SQLAlchemy engine: chDB has no driver"})
DRIVER = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql", "mysql": "mysql+pymysql", "sqlite": "sqlite"}


class Db:
    """A project on a fresh database and a plain SQLAlchemy engine on the same database for the rows."""

    def __init__(self, kind: str, url: str, root):
        self.kind = kind
        self.project = ProjectDir(root, url, kind)
        _scheme, rest = url.split("://", 1)
        self.engine = sa.create_engine(f"{DRIVER[kind]}://{rest}", poolclass=sa.pool.NullPool)

    def models(self, columns: str) -> None:
        """One table ``items`` with a plain integer key and ``columns`` (class-body lines, indented by 4)."""
        self.project.models('class Item(Base):\n    __tablename__ = "items"\n'
                            "    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)\n" + columns + "\n")

    def step(self, name: str, columns: str) -> str:
        """Models changed, the next migration written; returns its text."""
        self.models(columns)
        self.project.ok("make-migrations", name)
        return self.project.migration_files()[-1].read_text()

    def sql(self, statement: str, **params) -> list[tuple]:
        with self.engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []

    def rows(self, column: str) -> list[tuple]:
        return self.sql(f"SELECT id, {column} FROM items ORDER BY id")


@pytest.fixture(params=SERVERS)
def db(request, tmp_path):
    d = Db(request.param, request.getfixturevalue(url_fixture(request.param)), tmp_path / "p")
    yield d
    d.engine.dispose()


def _header(text: str, key: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"-- {key}:"))


def test_a_narrowing_never_cuts_a_value(db):
    """String(50) → String(5) with a 10-character value: refused before anything runs, whatever the flags (SQLite
    does not enforce lengths: nothing to lose there)."""
    db.step("one", "    name: Mapped[str] = mapped_column(sa.String(50))")
    db.project.ok("migrate")
    db.sql("INSERT INTO items (id, name) VALUES (1, 'abcdefghij'), (2, 'abc')")
    text = db.step("narrow", "    name: Mapped[str] = mapped_column(sa.String(5))")
    if db.kind == "sqlite":
        assert _header(text, "severity") in ("INFO", "WARN")
        return
    assert _header(text, "severity") == "CRITICAL" and "-- dbwarden: irreversible" in text, text
    assert '"hard": true' in text
    refused = db.project.cli("migrate", "--force")
    assert refused.code == 1 and "1 rows of items whose name does not fit" in refused.err, refused.err
    assert "nothing runs, even with --force" in refused.err
    assert db.rows("name") == [(1, "abcdefghij"), (2, "abc")]
    db.sql("UPDATE items SET name = 'abcde' WHERE id = 1")
    db.project.ok("migrate", "--force")
    assert db.rows("name") == [(1, "abcde"), (2, "abc")]


def test_a_narrower_scale_never_rounds(db):
    db.step("one", "    price: Mapped[float] = mapped_column(sa.Numeric(10, 2))")
    db.project.ok("migrate")
    db.sql("INSERT INTO items (id, price) VALUES (1, 3.14), (2, 2.50)")
    db.step("fewer digits", "    price: Mapped[float] = mapped_column(sa.Numeric(10, 1))")
    if db.kind == "sqlite":
        return  # SQLite keeps what it is given
    refused = db.project.cli("migrate", "--force")
    assert refused.code == 1 and "1 rows of items whose price does not fit" in refused.err, refused.err
    assert [(i, float(p)) for i, p in db.rows("price")] == [(1, 3.14), (2, 2.5)]


def test_rolling_back_a_widening_never_cuts_what_was_written_since(db):
    db.step("one", "    name: Mapped[str] = mapped_column(sa.String(10))")
    db.project.ok("migrate")
    text = db.step("wider", "    name: Mapped[str] = mapped_column(sa.String(100))")
    assert _header(text, "severity") in ("INFO", "WARN")
    db.project.ok("migrate", *(["--force"] if _header(text, "severity") != "INFO" else []))
    db.sql("INSERT INTO items (id, name) VALUES (1, :v)", v="x" * 45)
    if db.kind == "sqlite":
        return
    refused = db.project.cli("rollback")  # a narrowing, like any upgrade that narrows: CRITICAL
    assert refused.code == 1 and "--force" in refused.err, refused.err
    stopped = db.project.cli("rollback", "--force")
    assert stopped.code == 1 and "does not fit" in stopped.err, stopped.err
    assert db.rows("name") == [(1, "x" * 45)]
    db.sql("UPDATE items SET name = 'short'")
    db.project.ok("rollback", "--force")
    assert db.rows("name") == [(1, "short")]


def test_the_rollback_of_a_dropped_not_null_column_runs_on_a_table_with_rows(db):
    db.step("one", "    code: Mapped[str] = mapped_column(sa.String(20))\n    n: Mapped[int]")
    db.project.ok("migrate")
    db.sql("INSERT INTO items (id, code, n) VALUES (1, 'a', 7), (2, 'b', 8)")
    text = db.step("drop", "    n: Mapped[int]")
    assert _header(text, "severity") == "CRITICAL" and "-- dbwarden: irreversible" in text
    db.project.ok("migrate", "--force")
    db.project.ok("rollback", "--force")
    assert [(i, c, n) for i, c, n in db.sql("SELECT id, code, n FROM items ORDER BY id")] == [(1, "", 7), (2, "", 8)]
    assert db.project.cli("diff", "--check").code == 2  # the models still say the column is gone


def test_data_dependent_steps_need_force_only_when_rows_are_at_fault(db):
    """A new CHECK, UNIQUE and NOT NULL: INFO, run without --force on clean rows; rows at fault are counted and named."""
    db.step("one", "    qty: Mapped[int | None]\n    code: Mapped[str | None] = mapped_column(sa.String(10))")
    db.project.ok("migrate")
    db.sql("INSERT INTO items (id, qty, code) VALUES (1, 5, 'a'), (2, -1, 'a'), (3, NULL, 'b')")
    text = db.step("rules", "    qty: Mapped[int] = mapped_column(sa.CheckConstraint('qty >= 0', name='qty_positive'))\n"
                            "    code: Mapped[str | None] = mapped_column(sa.String(10), unique=True)")
    # SQLite copies the table into a new definition (a rebuild: WARN), and so do MySQL and MariaDB to add a CHECK
    # (ALGORITHM=COPY: WARN); PostgreSQL adds the rules in place
    rebuilt = db.kind != "postgresql"
    assert _header(text, "severity") == ("WARN" if rebuilt else "INFO"), text
    check = db.project.cli("check")
    assert check.code == 2 and "on which" in check.out, check.out
    assert "3 rows" not in check.out and "1 rows of items with NULL in qty" in check.out, check.out
    refused = db.project.cli("migrate", *(["--force"] if rebuilt else []))
    assert refused.code == 1, refused.err
    if not rebuilt:
        assert "--force" in refused.err and "rows of items" in refused.err, refused.err
    assert [r[0] for r in db.rows("qty")] == [1, 2, 3]  # nothing ran
    db.sql("DELETE FROM items WHERE id <> 1")
    assert "on which" not in db.project.cli("check").out
    db.project.ok("migrate", *(["--force"] if rebuilt else []))  # clean rows: no --force where nothing is rewritten
    assert db.rows("qty") == [(1, 5)]


def test_a_manual_file_is_judged_by_its_statements(db):
    db.step("one", "    n: Mapped[int | None]")
    db.project.ok("migrate")
    db.project.ok("new", "cleanup")
    path = db.project.migration_files()[-1]
    path.write_text(path.read_text().replace("-- write the upgrade statements here, each ending with ;\n",
                                             "DROP TABLE items;\n"))
    check = db.project.cli("--json", "check")
    assert check.code == 2 and "drops a table" in json.dumps(check.json()), check.out
    refused = db.project.cli("migrate")
    assert refused.code == 1 and "is CRITICAL (drops a table and what it holds: DROP TABLE items)" in refused.err


def test_a_generated_file_edited_by_hand_is_judged_by_its_statements(db):
    db.step("one", "    n: Mapped[int | None]")
    db.project.ok("migrate")
    db.step("two", "    n: Mapped[int | None]\n    m: Mapped[int | None]")
    path = db.project.migration_files()[-1]
    text = path.read_text()
    upgrade, rollback = text.split("\n-- rollback\n")
    path.write_text(upgrade + "\nDELETE FROM items;\n-- rollback\n" + rollback)
    refused = db.project.cli("migrate")
    assert refused.code == 1 and "deletes every row (no WHERE)" in refused.err, refused.err


def test_check_fails_when_an_applied_file_was_edited(db):
    db.step("one", "    n: Mapped[int | None]")
    db.project.ok("migrate")
    path = db.project.migration_files()[-1]
    path.write_text(path.read_text().replace("-- rollback", "-- an edit\n-- rollback").replace(";\n-- an edit", ";\n"
                                             "CREATE TABLE sneaky (id int);\n-- an edit", 1))
    check = db.project.cli("check")
    assert check.code == 1 and "checksum mismatch" in check.err, (check.out, check.err)


def test_a_rename_is_checked_as_a_rename(db):
    db.step("one", "    total: Mapped[int | None]")
    db.project.ok("migrate")
    db.models("    amount: Mapped[int | None]")
    db.project.ok("make-migrations", "rename", "--rename", "items.total:amount")
    check = db.project.cli("--json", "check").json()
    risks = [r["risk"] for m in check["migrations"] for r in m["risks"]]
    assert any("rename column items.total to amount" in r for r in risks), risks
    assert not any("drop column" in r for r in risks), risks
