"""The ClickHouse backend: parsing and rendering without a database, then the change matrix, the history
table and the lease lock on the embedded chDB engine."""

from __future__ import annotations

import textwrap

import pytest
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.backends.clickhouse import ClickHouseBackend
from dbwarden_nb.backends.clickhouse.engine import full_type, parse_column_ttls, parse_engine_full, split_nullable
from dbwarden_nb.backends.clickhouse.lock import ClickHouseLeaseLock
from dbwarden_nb.errors import BackendError
from dbwarden_nb.operations import AddColumn, AlterColumn, AlterTable, CreateTable, DropTable
from dbwarden_nb.schema import Column, Index, IndexElement, Table

pytest.importorskip("clickhouse_connect")

# -- no database ------------------------------------------------------------------------------------


def test_engine_full_is_split_into_options():
    opts = parse_engine_full("ReplacingMergeTree(ver) PARTITION BY toYYYYMM(d) PRIMARY KEY id ORDER BY (id, d) "
                             "SAMPLE BY id TTL toDateTime(d) + toIntervalDay(30) "
                             "SETTINGS index_granularity = 8192, merge_with_ttl_timeout = 3600")
    assert opts == {"engine": "ReplacingMergeTree(ver)", "partition_by": "toYYYYMM(d)", "primary_key": "id",
                    "order_by": "(id, d)", "sample_by": "id", "ttl": "toDateTime(d) + toIntervalDay(30)",
                    "settings": {"merge_with_ttl_timeout": "3600"}}  # the implicit granularity is left out
    assert parse_engine_full("`Null`") == {"engine": "Null"}
    assert parse_engine_full("Distributed('c', 'db', 't', rand())") == {"engine": "Distributed('c', 'db', 't', rand())"}


@pytest.mark.parametrize("spelled, expected", [
    ("Nullable(String)", ("String", True)),
    ("LowCardinality(Nullable(String))", ("LowCardinality(String)", True)),
    ("Array(Nullable(Int32))", ("Array(Nullable(Int32))", False)),
    ("Nullable(Decimal(9, 2))", ("Decimal(9, 2)", True)),
    ("String", ("String", False)),
])
def test_nullable_is_split_from_the_type(spelled, expected):
    assert split_nullable(spelled) == expected
    type_, nullable = expected
    assert full_type(Column("c", type_, nullable)) == spelled


def test_column_ttls_come_from_the_ddl():
    ddl = ("CREATE TABLE d.t (`id` UInt64, `n` Nullable(Int32) TTL toDateTime(d) + toIntervalDay(1), "
           "`s` String COMMENT 'a, TTL b' CODEC(ZSTD(1)), INDEX ix s TYPE set(1) GRANULARITY 1) ENGINE = Log")
    assert parse_column_ttls(ddl) == {"n": "toDateTime(d) + toIntervalDay(1)"}


def _table(**opts):
    base = {"engine": "MergeTree", "order_by": "id"}
    return Table("t", None, (Column("id", "UInt64", False),), options={**base, **opts})


def test_on_cluster_is_rendered_everywhere():
    be = ClickHouseBackend().with_cluster("prod")
    t = _table()
    assert be.render(CreateTable(t))[0].sql.startswith("CREATE TABLE `t` ON CLUSTER `prod` (")
    assert be.render(DropTable(t))[0].sql == "DROP TABLE `t` ON CLUSTER `prod` SYNC"
    add = be.render(AddColumn(t, Column("x", "String", True, comment="c")))[0].sql
    assert add == "ALTER TABLE `t` ON CLUSTER `prod` ADD COLUMN `x` Nullable(String) COMMENT 'c'"
    alter = be.render(AlterTable(t, _table(ttl="now()", settings={"a": "1"})))
    assert [s.sql for s in alter] == ["ALTER TABLE `t` ON CLUSTER `prod` MODIFY TTL now()",
                                      "ALTER TABLE `t` ON CLUSTER `prod` MODIFY SETTING a = 1"]
    assert "ON CLUSTER" in be.history_ddl()[0] and "ON CLUSTER" in be.lock_ddl()[0]
    replicated = _table(engine="ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}')")
    assert "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}')" in be.render(CreateTable(replicated))[0].sql
    assert "ON CLUSTER" not in ClickHouseBackend().render(DropTable(t))[0].sql


@pytest.mark.parametrize("key, value, reason", [
    ("engine", "ReplacingMergeTree", "cannot change the engine"),
    ("partition_by", "toYYYYMM(d)", "cannot change PARTITION BY"),
    ("primary_key", "(id, d)", "cannot change the PRIMARY KEY"),
    ("order_by", "(id, old)", "cannot change ORDER BY"),
    # fixed at CREATE TABLE: MODIFY SETTING would fail on the server half-way through a migration
    ("settings", {"add_minmax_index_for_numeric_columns": "1"}, ("cannot change the setting add_minmax_index_for_numeric"
                                                              "_columns of table t in place .* --rebuild t")),
    ("settings", {"index_granularity": "1024"}, "cannot change the setting index_granularity"),
])
def test_what_alter_cannot_do_is_refused_by_name(key, value, reason):
    extra = {"primary_key": "id"} if key == "order_by" else {}  # appending a column that is not new
    with pytest.raises(BackendError, match=reason):
        ClickHouseBackend().render(AlterTable(_table(), _table(**{key: value}, **extra)))


def test_alter_column_removes_what_the_new_definition_lacks():
    t = _table()
    old = Column("v", "Int32", True, "0", comment="c", options={"codec": "ZSTD(1)", "ttl": "now()"})
    new = Column("v", "Int64", False)
    sql = [s.sql for s in ClickHouseBackend().render(AlterColumn(t, old, new))]
    assert sql[0] == "ALTER TABLE `t` MODIFY COLUMN `v` Int64 DEFAULT defaultValueOfTypeName('Int64')"
    assert [s.rsplit(" ", 1)[1] for s in sql[1:]] == ["DEFAULT", "DEFAULT", "CODEC", "TTL", "COMMENT"]


def test_skip_index_rendering():
    t = _table()
    ix = Index("ix", (IndexElement(expression="lower(s)"),), options={"type": "bloom_filter(0.01)", "granularity": 4})
    from dbwarden_nb.operations import CreateIndex, DropIndex

    be = ClickHouseBackend()
    assert be.render(CreateIndex(t, ix))[0].sql == "ALTER TABLE `t` ADD INDEX `ix` lower(s) TYPE bloom_filter(0.01) GRANULARITY 4"
    assert be.render(DropIndex(t, ix))[0].sql == "ALTER TABLE `t` DROP INDEX `ix`"


def _models(source: str):
    import sqlalchemy as sa
    from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
    from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines

    md = sa.MetaData()
    exec(textwrap.dedent(source), {"sa": sa, "ch": ch, "engines": engines, "md": md})
    return list(md.tables.values())


def test_nullability_rule_and_declared_widths():
    tables = _models("""
        sa.Table("t", md, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer, nullable=True),
                 sa.Column("c", ch.Nullable(ch.String)), sa.Column("d", ch.String, nullable=False),
                 engines.MergeTree(order_by="a"))
    """)
    snap = ClickHouseBackend().extract_models(tables)
    cols = {c.name: (c.type, c.nullable) for c in snap.tables["t"].columns}
    assert cols == {"a": ("Int32", False), "b": ("Int32", True), "c": ("String", True), "d": ("String", False)}
    wide = _models('sa.Table("w", md, sa.Column("s", sa.String(64)), engines.MergeTree(order_by="s"))')
    with pytest.raises(BackendError, match=r"w\.s: VARCHAR\(64\).*FixedString"):
        ClickHouseBackend().extract_models(wide)
    unnamed = _models('sa.Table("c", md, sa.Column("s", ch.String), sa.CheckConstraint("s != \'\'"), '
                      'engines.MergeTree(order_by="s"))')
    with pytest.raises(BackendError, match=r"^check constraint \"s != ''\" of table c: a ClickHouse constraint needs a name"):
        ClickHouseBackend().extract_models(unnamed)
    no_engine = _models('sa.Table("x", md, sa.Column("s", ch.String))')
    with pytest.raises(BackendError, match="needs an engine"):
        ClickHouseBackend().extract_models(no_engine)


# -- the change matrix: each single property change converges in one migration or is refused by name ---

BASE = """
    from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as ch
    from clickhouse_connect.cc_sqlalchemy.ddl import tableengine as engines

    class T(Base):
        __tablename__ = "t"
        __table_args__ = (
            engines.MergeTree(order_by="id", partition_by="toYYYYMM(d)", ttl="d + INTERVAL 1 YEAR",
                              settings={"merge_with_ttl_timeout": 3600}),
            sa.Index("ix_v", "v", info={"dbwarden": {"type": "minmax", "granularity": 1}}),
            sa.CheckConstraint("v > -100", name="ck_v"),
            {"comment": "base", "info": {"dbwarden": {"projections": {"p": "SELECT v, id ORDER BY v"}}}},
        )
        id: Mapped[int] = mapped_column(ch.UInt64, primary_key=True)
        d: Mapped[str] = mapped_column(ch.Date)
        v: Mapped[int] = mapped_column(ch.Int32, clickhousedb_codec="ZSTD(1)", comment="value")
        s: Mapped[str] = mapped_column(ch.String)
        n: Mapped[str | None] = mapped_column(ch.Nullable(ch.String))
"""

CHANGES: dict[str, tuple[tuple[str, str], ...] | str] = {
    "codec added": (('s: Mapped[str] = mapped_column(ch.String)', 's: Mapped[str] = mapped_column(ch.String, clickhousedb_codec="LZ4HC(9)")'),),
    "codec changed": (('clickhousedb_codec="ZSTD(1)"', 'clickhousedb_codec="Delta, ZSTD(3)"'),),
    "codec removed": (('clickhousedb_codec="ZSTD(1)", ', ''),),
    "column ttl added": (('s: Mapped[str] = mapped_column(ch.String)', 's: Mapped[str] = mapped_column(ch.String, clickhousedb_ttl="d + INTERVAL 1 DAY")'),),
    "table ttl changed": (('ttl="d + INTERVAL 1 YEAR"', 'ttl="d + INTERVAL 2 YEAR"'),),
    "table ttl removed": (('ttl="d + INTERVAL 1 YEAR",', ''),),
    "setting changed": (('"merge_with_ttl_timeout": 3600', '"merge_with_ttl_timeout": 7200'),),
    "setting added": (('"merge_with_ttl_timeout": 3600', '"merge_with_ttl_timeout": 3600, "min_bytes_for_wide_part": 0'),),
    "setting removed": (('settings={"merge_with_ttl_timeout": 3600}', 'settings={}'),),
    "made nullable": (('mapped_column(ch.String)', 'mapped_column(ch.String, nullable=True)'),),
    "made not nullable": (('ch.Nullable(ch.String)', 'ch.String'),),
    "LowCardinality": (('s: Mapped[str] = mapped_column(ch.String)', 's: Mapped[str] = mapped_column(ch.LowCardinality(ch.String))'),),
    "column comment changed": (('comment="value"', 'comment="the value"'),),
    "column comment removed": ((', comment="value"', ''),),
    "table comment": (('"comment": "base"', '"comment": "changed"'),),
    "skip index added": (('sa.Index("ix_v"', 'sa.Index("ix_s", "s", info={"dbwarden": {"type": "bloom_filter", "granularity": 2}}),\n            sa.Index("ix_v"'),),
    "skip index changed": (('"type": "minmax", "granularity": 1', '"type": "set(10)", "granularity": 3'),),
    "skip index removed": (('sa.Index("ix_v", "v", info={"dbwarden": {"type": "minmax", "granularity": 1}}),', ''),),
    "projection added": (('{"p": "SELECT v, id ORDER BY v"}', '{"p": "SELECT v, id ORDER BY v", "q": "SELECT s, count() GROUP BY s"}'),),
    "projection removed": (('"info": {"dbwarden": {"projections": {"p": "SELECT v, id ORDER BY v"}}}', '"info": {}'),),
    "type widening": (('mapped_column(ch.Int32', 'mapped_column(ch.Int64'),),
    "default added": (('mapped_column(ch.Date)', 'mapped_column(ch.Date, server_default=sa.text("today()"))'),),
    "column added": (('n: Mapped', 'extra: Mapped[int] = mapped_column(ch.UInt8, server_default=sa.text("7"))\n    n: Mapped'),),
    "column dropped": (('    n: Mapped[str | None] = mapped_column(ch.Nullable(ch.String))\n', ''),),
    "check added": (('sa.CheckConstraint("v > -100", name="ck_v"),', ('sa.CheckConstraint("v > -100", name="ck_v"), '
                                                                        'sa.CheckConstraint("length(s) < 100 AND s != \'it\'\'s\'", name="ck s"),')),),
    "check changed": (('"v > -100"', '"v > -1000 OR v = 7"'),),
    "check removed": (('sa.CheckConstraint("v > -100", name="ck_v"),', ''),),
    "ORDER BY extension": (('order_by="id"', 'order_by=("id", "k"), primary_key="id"'),
                           ('n: Mapped', 'k: Mapped[int] = mapped_column(ch.UInt8)\n    n: Mapped')),
    "engine": "cannot change the engine",
    "PARTITION BY": "cannot change PARTITION BY",
    "primary key": "cannot change the PRIMARY KEY",
    "ORDER BY with an old column": "cannot change ORDER BY",
}
REFUSED_SOURCES = {
    "engine": (('engines.MergeTree(', 'engines.ReplacingMergeTree('),
               ('"merge_with_ttl_timeout": 3600', '"merge_with_ttl_timeout": 3600, "deduplicate_merge_projection_mode": "drop"')),
    "PARTITION BY": (('partition_by="toYYYYMM(d)"', 'partition_by="toMonday(d)"'),),
    "primary key": (('order_by="id"', 'order_by=("id", "d")'),),
    "ORDER BY with an old column": (('order_by="id"', 'order_by=("id", "d"), primary_key="id"'),),
}


def _apply(source: str, edits) -> str:
    for before, after in edits:
        assert before in source, before
        source = source.replace(before, after, 1)
    return source


@pytest.mark.parametrize("change", list(CHANGES))
def test_change_matrix(tmp_path, clickhouse_url, change):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    project.models(BASE)
    project.ok("make-migrations", "base")
    project.ok("migrate")
    before = dw.project(project.root / "dbwarden.py").snapshot()
    expected = CHANGES[change]
    edits = REFUSED_SOURCES.get(change, expected)
    project.models(_apply(textwrap.dedent(BASE), edits))
    if isinstance(expected, str):  # refused with a named reason, nothing written
        made = project.cli("make-migrations", "change")
        assert made.code == 1 and expected in made.err, made.err + made.out
        assert len(project.migration_files()) == 1
        return
    project.ok("make-migrations", "change")
    project.ok("migrate", "--force")
    proj = dw.project(project.root / "dbwarden.py")
    assert proj.snapshot() == proj.models(), f"{change} did not converge"
    assert "nothing written" in project.ok("make-migrations", "again").out
    project.ok("rollback", "--force")
    assert dw.project(project.root / "dbwarden.py").snapshot() == before, f"rollback of {change} did not restore"


# -- history and lock --------------------------------------------------------------------------------


def test_history_rows_are_replaced_not_duplicated(clickhouse_url):
    from dbwarden_nb.migrations.history import APPLIED, PARTIAL, History, HistoryRow

    be = ClickHouseBackend()
    with be.connect(clickhouse_url) as conn:
        history = History(conn)
        history.ensure()
        history.record(HistoryRow(1, "a", "0001_a.sql", "sha256:x", PARTIAL, 1, "t", 5, None))
        history.record(HistoryRow(1, "a", "0001_a.sql", "sha256:x", APPLIED, 2, "t", 6, "sha256:y"))
        history.record(HistoryRow(2, "b", "0002_b.sql", "sha256:z", APPLIED, 1, "t", 1, None))
        assert [(r.version, r.status) for r in history.rows()] == [(1, APPLIED), (2, APPLIED)]
        history.remove(1)
        assert [r.version for r in history.rows()] == [2]
        assert "ENGINE = MergeTree" in conn.query("SELECT engine_full FROM system.tables WHERE database = :d AND "
                                                  "name = 'dbwarden_migrations'", {"d": conn.database})[0][0] + " ENGINE = MergeTree"


def test_lease_lock_one_holder_fencing_token_and_stale_takeover(clickhouse_url):
    be = ClickHouseBackend()
    with be.connect(clickhouse_url) as conn:
        first, second = ClickHouseLeaseLock(conn, "a"), ClickHouseLeaseLock(conn, "b")
        assert first.try_acquire() and first.token
        assert not second.try_acquire()
        status = first.status()
        assert status.held and status.owner == "a"
        first.renew()
        assert first.status().expires_at > status.expires_at - 1
        first.release()
        assert not first.status().held
        assert second.try_acquire()
        token_b = second.token
        # a holder that stopped renewing: its lease expires and the next runner takes over with a newer token
        conn.execute(f"ALTER TABLE {first.table} UPDATE expires_at = 0 WHERE owner = 'b' SETTINGS mutations_sync = 2")
        third = ClickHouseLeaseLock(conn, "c")
        assert third.try_acquire() and third.token > token_b
        assert third.force_release().owner == "c"
        assert not third.status().held
        assert be.lock(conn).__class__ is ClickHouseLeaseLock


def test_lock_status_and_unlock_through_the_cli(tmp_path, clickhouse_url):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    assert "free" in project.ok("lock-status").out
    be = ClickHouseBackend()
    with be.connect(clickhouse_url) as conn:
        assert ClickHouseLeaseLock(conn, "someone-else").try_acquire()
    assert "someone-else" in project.ok("lock-status").out
    project.ok("unlock")
    assert "free" in project.ok("lock-status").out


def test_cluster_option_renders_on_cluster_in_migration_files(tmp_path, clickhouse_url):
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse", extra_config='\n                cluster="prod",')
    project.models(BASE)
    made = project.ok("make-migrations", "base", "--dry-run")
    assert "CREATE TABLE `t` ON CLUSTER `prod` (" in made.out, made.out
    assert "DROP TABLE `t` ON CLUSTER `prod` SYNC" in made.out


def test_unreachable_server_is_one_masked_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "dbwarden.py").write_text(
        "from dbwarden_nb import database_config\n"
        "database_config(database_name='primary', database_type='clickhouse',\n"
        "                database_url='clickhouse://app:Zq9-SuperSecret@127.0.0.1:1/shop', model_paths=[])\n")
    ran = subprocess.run([sys.executable, "-m", "dbwarden_nb", "status"], check=False, cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 1
    assert ran.stderr.count("\n") == 1 and ran.stderr.startswith("dbwarden: error: database 'primary': database_url:")
    assert "Zq9-SuperSecret" not in ran.stdout + ran.stderr and "***" in ran.stderr


def test_a_check_over_rows_that_violate_it_is_added_with_force_only(tmp_path, clickhouse_url, clickhouse_client):
    """ClickHouse adds a CHECK without looking at the rows already there: those that violate it are counted first."""
    project = ProjectDir(tmp_path / "project", clickhouse_url, "clickhouse")
    project.models(BASE)
    project.ok("make-migrations", "base")
    project.ok("migrate")
    clickhouse_client.command("INSERT INTO t (id, d, v, s) VALUES (1, today(), 5, 'x')")
    project.models(_apply(textwrap.dedent(BASE), (('"v > -100"', '"v > 10"'),)))
    project.ok("make-migrations", "stricter")
    refused = project.cli("migrate")
    assert refused.code == 1 and "1 rows of t that violate check ck_v, which stay" in refused.err, refused.err
    project.ok("migrate", "--force")
    proj = dw.project(project.root / "dbwarden.py")
    assert proj.snapshot() == proj.models()
