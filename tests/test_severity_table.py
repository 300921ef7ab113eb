"""The README's table "change × backend → severity and reason", checked row by row on the real backends through the CLI.

The table is parsed from README.md, so the documentation cannot drift from what ``make-migrations`` writes: each
cell's first word is the severity the migration file must carry for that change on that backend ("—": the backend
has no such change). Each change is then applied to a table holding a row that is not at fault (with ``--force``
where the severity asks for it), and the database must equal the models afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from projects import ProjectDir

import dbwarden_nb as dw

README = Path(__file__).resolve().parent.parent / "README.md"
BACKENDS = {"PostgreSQL": "postgresql", "MySQL": "mysql", "MariaDB": "mariadb", "SQLite": "sqlite", "ClickHouse": "clickhouse"}
URL_FIXTURE = {"postgresql": "pg_url", "mariadb": "mariadb_url", "mysql": "mysql_url", "sqlite": "sqlite_url",
               "clickhouse": "clickhouse_url"}
DRIVER = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql", "mysql": "mysql+pymysql", "sqlite": "sqlite"}
SEVERITIES = ("INFO", "WARN", "CRITICAL")


def severity_table() -> dict[tuple[str, str], str]:
    """(change, backend) → the cell's severity, from the README table whose header starts ``| change | PostgreSQL``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| change | PostgreSQL |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    cells: dict[tuple[str, str], str] = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        row = [c.strip() for c in line.strip().strip("|").split("|")]
        for title, cell in zip(header[1:], row[1:]):
            word = re.match(r"\**([A-Z]+|—)", cell)
            assert word and (word.group(1) in SEVERITIES or word.group(1) == "—"), f"README cell {row[0]} / {title}: {cell!r}"
            cells[(row[0], BACKENDS[title])] = word.group(1)
    return cells


TABLE = severity_table()

# -- the changes ---------------------------------------------------------------------------------------------

SQL_BASE = {
    "name": "name: Mapped[str | None] = mapped_column(sa.String(100))",
    "qty": "qty: Mapped[int | None]",
    "owner": "owner_id: Mapped[int | None]",
}
CH_BASE = {
    "name": "name: Mapped[str | None] = mapped_column(ch.String, nullable=True)",
    "qty": "qty: Mapped[int | None] = mapped_column(ch.Int32, nullable=True)",
    "owner": "owner_id: Mapped[int | None] = mapped_column(ch.Int32, nullable=True)",
}


@dataclass(frozen=True)
class Change:
    sql: dict[str, str | None]  # column key → its new line (None: gone), "+x": an added line, "args": table args
    clickhouse: dict[str, str | None] | None = None  # the same for ClickHouse (None: as ``sql``)
    args: tuple[str, ...] = ()  # more make-migrations arguments
    rows: bool = True  # the table holds a row (one that is not at fault) when the change runs
    drops_owners: bool = False


CHANGES = {
    "add nullable column": Change({"+note": "note: Mapped[str | None] = mapped_column(sa.String(20))"},
                                  {"+note": "note: Mapped[str | None] = mapped_column(ch.String, nullable=True)"}),
    "add NOT NULL column with default": Change({"+flag": 'flag: Mapped[int] = mapped_column(server_default="0")'},
                                               {"+flag": 'flag: Mapped[int] = mapped_column(ch.Int32, server_default="0")'}),
    "add NOT NULL column without default": Change({"+flag": "flag: Mapped[int]"},
                                                  {"+flag": "flag: Mapped[int] = mapped_column(ch.Int32)"}, rows=False),
    "drop column": Change({"qty": None}),
    "varchar widen": Change({"name": "name: Mapped[str | None] = mapped_column(sa.String(200))"}),
    "varchar narrow": Change({"name": "name: Mapped[str | None] = mapped_column(sa.String(50))"}),
    "varchar → text": Change({"name": "name: Mapped[str | None] = mapped_column(sa.Text)"}),
    "add CHECK": Change({"args": 'sa.CheckConstraint("qty >= 0", name="items_qty_positive")'}),
    "add UNIQUE": Change({"args": 'sa.UniqueConstraint("name", name="items_name_key")'}),
    "add FOREIGN KEY": Change({"owner": 'owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owners.id", name="items_owner_fk"))'}),
    "SET NOT NULL": Change({"name": "name: Mapped[str] = mapped_column(sa.String(100))"},
                           {"name": "name: Mapped[str] = mapped_column(ch.String)"}),
    "add index": Change({"args": 'sa.Index("ix_items_qty", "qty")'},
                        {"args": 'sa.Index("ix_items_qty", "qty", info={"dbwarden": {"type": "minmax", "granularity": 1}})'}),
    "drop table": Change({}, drops_owners=True),
    "rename column": Change({"qty": "quantity: Mapped[int | None]"},
                            {"qty": "quantity: Mapped[int | None] = mapped_column(ch.Int32, nullable=True)"},
                            args=("--rename", "items.qty:quantity")),
    "int → bigint": Change({"qty": "qty: Mapped[int | None] = mapped_column(sa.BigInteger)"},
                           {"qty": "qty: Mapped[int | None] = mapped_column(ch.Int64, nullable=True)"}),
}

CH_HEAD = """
from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines
"""


def models(kind: str, change: Change | None) -> str:
    clickhouse = kind == "clickhouse"
    columns = dict(CH_BASE if clickhouse else SQL_BASE)
    edits = dict((change.clickhouse if clickhouse and change.clickhouse is not None else change.sql) if change else {})
    args = [edits.pop("args")] if "args" in edits else []
    for key, line in edits.items():
        if key.startswith("+"):
            columns[key] = line
        elif line is None:
            del columns[key]
        else:
            columns[key] = line
    key = ("id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)" if clickhouse
           else "id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)")
    if clickhouse:
        args.insert(0, 'engines.MergeTree(order_by="id")')
    body = "".join(f"    {line}\n" for line in [key, *columns.values()])
    if args:
        body += f"    __table_args__ = ({', '.join(args)},)\n"
    owners = "" if change and change.drops_owners else (
        '\nclass Owner(Base):\n    __tablename__ = "owners"\n'
        + ('    __table_args__ = (engines.MergeTree(order_by="id"),)\n'
           '    id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)\n' if clickhouse else
           "    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)\n"))
    return (CH_HEAD if clickhouse else "") + 'class Item(Base):\n    __tablename__ = "items"\n' + body + owners


def _header(text: str, key: str) -> str:
    """A header of a migration file; an absent severity header means INFO."""
    return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"-- {key}:")), "INFO")


def _run(kind: str, url: str, clickhouse_client, statements: list[str]) -> list[tuple]:
    """Run ``statements`` on the test's database; the rows of the last one."""
    if kind == "clickhouse":
        for sql in statements[:-1]:
            clickhouse_client.command(sql)
        return [tuple(r) for r in clickhouse_client.query(statements[-1]).result_rows]
    engine = sa.create_engine(f"{DRIVER[kind]}://{url.split('://', 1)[1]}", poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for sql in statements[:-1]:
            conn.execute(sa.text(sql))
        result = conn.execute(sa.text(statements[-1]))
        rows = [tuple(r) for r in result] if result.returns_rows else []
    engine.dispose()
    return rows


def _insert(kind: str, url: str, clickhouse_client) -> None:
    _run(kind, url, clickhouse_client, ["INSERT INTO owners (id) VALUES (1)",
                                        "INSERT INTO items (id, name, qty, owner_id) VALUES (1, 'abc', 5, 1)"])


def _ids(kind: str, url: str, clickhouse_client) -> list[tuple]:
    return _run(kind, url, clickhouse_client, ["SELECT id FROM items ORDER BY id"])


CASES = [pytest.param(change, kind, id=f"{change}-{kind}")
         for (change, kind), cell in TABLE.items() if cell != "—"]


def test_the_table_names_every_change_and_backend():
    assert {change for change, _ in TABLE} == set(CHANGES)
    assert len(TABLE) == len(CHANGES) * len(BACKENDS)


@pytest.mark.parametrize(("change", "kind"), CASES)
def test_each_change_has_the_severity_the_readme_states(change, kind, request, tmp_path):
    url = request.getfixturevalue(URL_FIXTURE[kind])
    client = request.getfixturevalue("clickhouse_client") if kind == "clickhouse" else None
    spec = CHANGES[change]
    project = ProjectDir(tmp_path / "p", url, kind)
    project.models(models(kind, None))
    project.ok("make-migrations", "base")
    project.ok("migrate")
    if spec.rows:
        _insert(kind, url, client)
    project.models(models(kind, spec))
    written = project.ok("make-migrations", "change", *spec.args)
    assert len(project.migration_files()) == 2, f"{change} on {kind}: no migration written: {written.out}"
    text = project.migration_files()[-1].read_text()
    expected = TABLE[(change, kind)]
    assert _header(text, "severity") == expected, f"{change} on {kind}: the README says {expected}\n{text}"
    project.ok("migrate", *(["--force"] if expected != "INFO" else []))
    assert project.cli("diff", "--check").code == 0, project.cli("diff").out
    kept = [(1,)] if spec.rows else []
    assert _ids(kind, url, client) == kept  # the row is still there
    # the rollback returns the schema the first migration made, the row with it
    project.ok("rollback", *(["--force"] if _header(text, "undo-severity") != "INFO" or "irreversible" in text else []))
    proj = dw.project(project.root / "dbwarden.py")
    assert proj.snapshot() == proj.snapshot(version=1), f"{change} on {kind}: the rollback does not restore the schema"
    assert _ids(kind, url, client) == kept


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_a_new_not_null_column_without_default_is_checked_against_the_rows(kind, request, tmp_path):
    """PostgreSQL fails on the rows, SQLite's rebuild copies them into a column with no value: both count them first."""
    url = request.getfixturevalue(URL_FIXTURE[kind])
    project = ProjectDir(tmp_path / "p", url, kind)
    project.models(models(kind, None))
    project.ok("make-migrations", "base")
    project.ok("migrate")
    _insert(kind, url, None)
    project.models(models(kind, CHANGES["add NOT NULL column without default"]))
    project.ok("make-migrations", "change")
    check = project.cli("check")
    assert "1 rows of items, which the new NOT NULL column flag has no value for" in check.out, check.out
    refused = project.cli("migrate", *(["--force"] if kind == "sqlite" else []))
    assert refused.code == 1 and "flag" in refused.err and len(refused.err.strip().splitlines()) == 1, refused.err
    assert project.cli("diff", "--check").code == 2  # nothing ran
