"""Engine objects for the display tests, built directly (no database): one of each kind, some of them hostile.

``HOSTILE_*`` names and comments carry markup that must come out escaped. The ``<img onerror>`` and ``<script>``
payloads set ``window.__pwned``: the browser test checks that it stays undefined.
"""

from __future__ import annotations

from dataclasses import replace

from dbwarden_nb.backends import get_backend
from dbwarden_nb.differ import diff
from dbwarden_nb.migrations.files import MigrationFile, split_statements
from dbwarden_nb.migrations.history import HistoryRow
from dbwarden_nb.migrations.lock import LockStatus
from dbwarden_nb.migrations.runner import Applied, RunResult
from dbwarden_nb.operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropIndex,
    DropTable,
    Plan,
    RenameColumn,
)
from dbwarden_nb.rebase import RebaseReport, Step
from dbwarden_nb.reports import (
    CheckFinding,
    CheckReport,
    DiffReport,
    EnvironmentColumn,
    EnvironmentStatusReport,
    HistoryReport,
    LockReport,
    MakeMigrationsReport,
    MultiReport,
    RunReport,
    StatusReport,
    TextReport,
)
from dbwarden_nb.schema import (
    Check,
    Column,
    ForeignKey,
    Identity,
    Index,
    IndexElement,
    PrimaryKey,
    Snapshot,
    Table,
    Unique,
    View,
)
from dbwarden_nb.seeds import CHANGED_REPEATABLE, SeedLine, SeedStatusReport

HOSTILE_NAME = "<script>window.__pwned=1</script>"
HOSTILE_COMMENT = "\"quoted\" & 'single' <img src=x onerror=\"window.__pwned=2\"> naïve ✓ 表 </table></details>"
PASSWORD = "s3cr3t-P@ss"
URL_WITH_PASSWORD = f"postgresql://admin:{PASSWORD}@db.example.com:5432/shop?sslmode=require"
CHECKSUM_A = "sha256:" + "a" * 64
CHECKSUM_B = "sha256:" + "b" * 64

USERS = Table(
    "users",
    columns=(
        Column("id", "INTEGER", nullable=False, identity=Identity(always=False, start=1, increment=1)),
        Column("email", "VARCHAR(200)", nullable=False, comment="login & contact"),
        Column("name", "VARCHAR(100)", default="'anon'"),
    ),
    primary_key=PrimaryKey("pk_users", ("id",)),
    uniques=(Unique("uq_users_email", ("email",)),),
)
ORDERS = Table(
    "orders",
    columns=(
        Column("id", "INTEGER", nullable=False),
        Column("user_id", "INTEGER", nullable=False),
        Column("total", "NUMERIC(10, 2)", nullable=False, default="0"),
    ),
    primary_key=PrimaryKey(None, ("id",)),
    foreign_keys=(ForeignKey("fk_orders_user", ("user_id",), "users", ("id",), on_delete="CASCADE"),),
    checks=(Check("ck_orders_total", "total >= 0"),),
    indexes=(Index("ix_orders_user", (IndexElement("user_id"), IndexElement("total", descending=True))),),
    comment="one row per order",
)
HOSTILE = Table(
    HOSTILE_NAME,
    columns=(
        Column(f"col {HOSTILE_NAME}", "TEXT", comment=HOSTILE_COMMENT, default="'<b>&amp;</b>'"),
        Column("naïve ✓ 表", 'VARCHAR(10) COLLATE "C<x>"', nullable=False),
        Column("user_id", "INTEGER"),
    ),
    foreign_keys=(ForeignKey(f"fk {HOSTILE_NAME}", ("user_id",), "users", ("id",)),),
    checks=(Check(None, f"length(\"naïve ✓ 表\") < 10 AND '{HOSTILE_NAME}' <> ''"),),
    comment=HOSTILE_COMMENT,
    options={"note": HOSTILE_COMMENT},
)
VIEW = View("big_orders", "SELECT * FROM orders WHERE total > 100 AND '<script>' = '<script>'",
            comment="orders over 100 <em>")


def snapshot() -> Snapshot:
    return Snapshot.of("sqlite", [USERS, ORDERS], [VIEW], server_version="3.45.1")


def hostile_snapshot() -> Snapshot:
    return Snapshot.of("sqlite", [USERS, ORDERS, HOSTILE], [replace(VIEW, comment=HOSTILE_COMMENT)])


def schemas_snapshot() -> Snapshot:
    """Two schemas (PostgreSQL-like keys), with an enum."""
    return Snapshot.of(
        "postgresql",
        [replace(USERS, schema="auth"), replace(ORDERS, schema="shop", foreign_keys=(
            ForeignKey("fk_orders_user", ("user_id",), "auth.users", ("id",)),))],
        enums={"shop.status": ("new", "paid", f"<{HOSTILE_NAME}>")},
        server_version="16.2",
    )


def big_snapshot(n: int = 2000, columns: int = 8) -> Snapshot:
    """``n`` tables of ``columns`` columns each, every table after the first with a foreign key and an index."""
    tables = []
    for i in range(n):
        cols = [Column("id", "INTEGER", nullable=False)] + [
            Column(f"field_{j}", "VARCHAR(100)" if j % 2 else "INTEGER", nullable=bool(j % 3), default=None)
            for j in range(1, columns - 1)
        ] + [Column("parent_id", "INTEGER")]
        tables.append(Table(
            f"table_{i:04d}",
            columns=tuple(cols),
            primary_key=PrimaryKey(f"pk_table_{i:04d}", ("id",)),
            foreign_keys=(ForeignKey(f"fk_table_{i:04d}", ("parent_id",), f"table_{i - 1:04d}", ("id",)),) if i else (),
            indexes=(Index(f"ix_table_{i:04d}_f1", (IndexElement("field_1"),)),),
        ))
    return Snapshot.of("sqlite", tables)


AUDIT = Table("audit", columns=(Column("id", "INTEGER", nullable=False),), primary_key=PrimaryKey(None, ("id",)),
              comment=HOSTILE_COMMENT)
AGE = Column("age", "INTEGER", nullable=False)


def old_new() -> tuple[Snapshot, Snapshot]:
    old = Snapshot.of("sqlite", [USERS, replace(ORDERS, comment=None), replace(HOSTILE, comment=None)])
    users = replace(USERS, columns=USERS.columns + (AGE,))
    new = Snapshot.of("sqlite", [users, ORDERS, AUDIT])
    return old, new


def plan_and_sql() -> tuple[Plan, list[str]]:
    """A plan built by hand (so the snapshots do not follow the differ's choices), with its SQL."""
    plan = Plan((
        DropTable(HOSTILE),
        CreateTable(AUDIT),
        AddColumn(USERS, AGE),
        AlterColumn(ORDERS, ORDERS.columns[2], replace(ORDERS.columns[2], type="NUMERIC(12, 2)")),
        CreateIndex(USERS, Index("ix_users_name", (IndexElement("name"),), unique=True)),
        AddConstraint(ORDERS, Check(f"ck {HOSTILE_NAME}", "total < 1000000")),
        RenameColumn(ORDERS, ORDERS.columns[1], replace(ORDERS.columns[1], name="customer_id")),
        DropIndex(ORDERS, ORDERS.indexes[0]),
    ), suggestions=(f"did you rename {HOSTILE_NAME}? pass --rename-table",))
    sql = [
        f'DROP TABLE "{HOSTILE_NAME}"',
        'CREATE TABLE "audit" (\n    "id" INTEGER NOT NULL,\n    PRIMARY KEY ("id")\n)',
        'ALTER TABLE "users" ADD COLUMN "age" INTEGER NOT NULL',
        'ALTER TABLE "orders" ALTER COLUMN "total" TYPE NUMERIC(12, 2)',
        'CREATE UNIQUE INDEX "ix_users_name" ON "users" ("name")',
        f'ALTER TABLE "orders" ADD CONSTRAINT "ck {HOSTILE_NAME}" CHECK (total < 1000000)',
        'ALTER TABLE "orders" RENAME COLUMN "user_id" TO "customer_id"',
        'DROP INDEX "ix_orders_user"',
    ]
    return plan, sql


def sqlite_plan_and_sql() -> tuple[Plan, list[str]]:
    """The same kind of plan from the real differ and SQLite renderer (not snapshot-tested)."""
    old, new = old_new()
    backend = get_backend("sqlite")
    plan = backend.adapt(diff(old, new), old, new)
    return plan, [s.sql for s in backend.render_plan(plan)]


def migration_file(version: int = 3) -> MigrationFile:
    _plan, sql = plan_and_sql()
    upgrade = split_statements(";\n".join(sql) + ";")
    rollback = split_statements(
        "-- dbwarden: irreversible the rows of table <script>x</script> are not restored\n"
        "CREATE TABLE \"<script>window.__pwned=3</script>\" (id INTEGER);\nDROP TABLE audit;"
    )
    return MigrationFile(version, f"add audit {HOSTILE_NAME}", tuple(upgrade), tuple(rollback), backend="sqlite",
                         base=CHECKSUM_A, target=CHECKSUM_B, severity="CRITICAL", dev_backend="sqlite",
                         dev_upgrade=tuple(upgrade), dev_rollback=tuple(rollback))


def history_rows() -> list[HistoryRow]:
    return [
        HistoryRow(1, "create users", "0001_create_users.sql", CHECKSUM_A, "applied", 3, "2026-01-02T03:04:05Z", 42),
        HistoryRow(2, f"add {HOSTILE_NAME}", "0002_add.sql", CHECKSUM_B, "partial", 1, "2026-01-03T10:11:12Z", 7),
    ]


def reports() -> dict[str, object]:
    plan, sql = plan_and_sql()
    mfile = migration_file()
    empty_plan = Plan()
    applied = history_rows()
    return {
        "diff": DiffReport("primary", "live database", "the models", plan, sql),
        "diff_empty": DiffReport("primary", "live database", "the models", empty_plan, ()),
        "diff_sql": DiffReport("primary", "live database", "the models", plan, sql, out="sql"),
        "diff_json": DiffReport("primary", "live database", "the models", plan, sql, out="json"),
        "make_migrations": MakeMigrationsReport("primary", plan, mfile, "migrations/primary/0003_add_audit.sql"),
        "make_migrations_dry": MakeMigrationsReport("primary", plan, mfile, None, dry_run=True),
        "make_migrations_none": MakeMigrationsReport("primary", empty_plan),
        "status": StatusReport("primary", URL_WITH_PASSWORD, "postgresql", applied[:1], [mfile],
                               problems=(f"checksum mismatch: migrations/primary/0002_x.sql {HOSTILE_NAME}",),
                               partial=applied[1:]),
        "environments": EnvironmentStatusReport("primary", "postgresql", [(1, "create users"), (2, HOSTILE_NAME)], [
            EnvironmentColumn("default", "postgresql://app:***@localhost/app", {1: "applied", 2: "partial"}),
            EnvironmentColumn("staging", "postgresql://app:***@staging/app", {1: "applied"},
                              problems=(f"checksum mismatch: migrations/primary/0001_create_users.sql {HOSTILE_NAME}",)),
            EnvironmentColumn("production", URL_WITH_PASSWORD, error=f"cannot connect to {URL_WITH_PASSWORD}"),
        ]),
        "seeds": SeedStatusReport("primary", "seeds/primary", (
            SeedLine(1, "0001_roles.sql", "applied"), SeedLine(2, "0002_plans.sql", CHANGED_REPEATABLE),
            SeedLine(3, f"0003_{HOSTILE_NAME}.sql", "changed", f"seeds/primary/0003_{HOSTILE_NAME}.sql was edited"),
            SeedLine(4, "0004_more.sql", "pending"))),
        "history": HistoryReport("primary", applied),
        "history_empty": HistoryReport("primary", []),
        "run": RunReport("primary", RunResult("upgrade", [Applied(1, "create users", "upgrade", 3, 1234),
                                                          Applied(2, HOSTILE_NAME, "upgrade", 1, 99)]),
                         drift=(f"schema drift after migrate: {HOSTILE_COMMENT}",)),
        "run_dry": RunReport("primary", RunResult("upgrade", planned=[mfile], dry_run=True)),
        "run_rollback": RunReport("primary", RunResult("rollback", [Applied(3, "add audit", "rollback", 2, 5)])),
        "run_script": RunReport("primary", RunResult("upgrade", planned=[mfile], dry_run=True),
                                script="CREATE TABLE audit (id INTEGER);\nINSERT INTO \"dbwarden_migrations\" "
                                       "(\"version\", \"applied_at\") VALUES (3, '2026-05-09T07:35:25Z');\n"),
        "check": CheckReport("primary", [
            CheckFinding(3, "add audit", "CRITICAL", (("CRITICAL", f"drops table {HOSTILE_NAME}"),
                                                     ("WARN", "NOT NULL column age without default"))),
            CheckFinding(4, "add index", "INFO", ()),
        ]),
        "check_empty": CheckReport("primary", []),
        "lock_held": LockReport("primary", LockStatus(True, "host:123:abcd1234", 1_700_000_000.0, 4_102_444_800.0)),
        "lock_stale": LockReport("primary", LockStatus(True, "host:9:ffff0000", 1_700_000_000.0, 1_700_000_060.0)),
        "lock_free": LockReport("primary", LockStatus(False)),
        "unlock": LockReport("primary", LockStatus(True, "host:123:abcd1234", 1_700_000_000.0, 4_102_444_800.0),
                             released=True),
        "text": TextReport(f"config: /tmp/pytest-of-root/x/dbwarden.py\n  primary (default): postgresql "
                           f"{URL_WITH_PASSWORD}\n  note: {HOSTILE_COMMENT}",
                           {"config": "/tmp/pytest-of-root/x/dbwarden.py"}),
        "rebase_dry": RebaseReport("primary", "migrations/primary", URL_WITH_PASSWORD, (
            Step("0001_users.sql", "0001_users.sql", True, False, None, "sha256:" + "1" * 64),
            Step("0002_branch_b.sql", "0002_branch_b.sql", True, False, "sha256:" + "1" * 64, "sha256:" + "2" * 64),
            Step(f"0002_{HOSTILE_NAME}.sql", f"0003_{HOSTILE_NAME}.sql", False, True, "sha256:" + "2" * 64,
                 "sha256:" + "3" * 64)), dry_run=True),
        "rebase_none": RebaseReport("primary", "migrations/primary", URL_WITH_PASSWORD, (
            Step("0001_users.sql", "0001_users.sql", True, False, None, "sha256:" + "1" * 64),)),
        "multi": MultiReport([HistoryReport("primary", applied), HistoryReport("analytics", applied[:1])]),
    }


def translation_report() -> object:
    """The real translation of a PostgreSQL table for the SQLite dev database: long types, defaults and reasons."""
    from dbwarden_nb.translate import translate

    table = Table(
        "customer_loyalty_accounts",
        columns=(
            Column("id", "uuid", nullable=False, default="gen_random_uuid()"),
            Column("preferences_document", "jsonb", nullable=False, default="'{}'::jsonb"),
            Column("registered_at", "timestamp with time zone", nullable=False, default="now()"),
            Column("balance", "numeric(12,2)"),
            Column("tags", "text[]"),
            Column("ip_address_of_last_login", "inet"),
        ),
        primary_key=PrimaryKey("customer_loyalty_accounts_pkey", ("id",)),
        checks=(Check("ck_balance", "balance >= (0)::numeric"),),
    )
    return translate(Snapshot.of("postgresql", [table]), "primary")[1]


def engine_objects() -> dict[str, object]:
    """Every displayable engine object, by a stable name (snapshot files are named after it)."""
    plan, _ = plan_and_sql()
    objects: dict[str, object] = {
        "snapshot": snapshot(),
        "snapshot_hostile": hostile_snapshot(),
        "snapshot_schemas": schemas_snapshot(),
        "snapshot_empty": Snapshot.of("sqlite"),
        "table": ORDERS,
        "table_hostile": HOSTILE,
        "view": VIEW,
        "plan": plan,
        "plan_empty": Plan(),
        "migration_file": migration_file(),
        "translation": translation_report(),
    }
    objects.update(reports())
    return objects
