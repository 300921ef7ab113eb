"""Faults in the middle of a migration: the runner killed with SIGKILL, the server ending its connection, a
lease taken over. Each window is opened deterministically: the migration runs a statement that sleeps for as
long as table ``nap`` says, the test waits until the server lists that statement (SQLite: until the process
says it started the migration), injects the fault, then sets the nap to 0 so that the next run is quick.

What must hold afterwards: the lock is free again (released by the server with the session, or a lease that
expired), history says exactly what ran, nothing is applied twice, and the next ``migrate`` finishes the job.
PostgreSQL and SQLite show no trace of an interrupted transactional migration; MySQL and MariaDB, which commit
DDL on their own, show a ``partial`` row with the statements that completed.
"""

from __future__ import annotations

import pytest
from backend_params import IN_PROCESS, NO_SERVER, backends
from harness import Target, one_error_line
from projects import Result

import dbwarden_nb as dw
from dbwarden_nb.errors import LockError
from dbwarden_nb.migrations.history import History

NO_TRANSACTIONAL_DDL = ("mariadb", "mysql")
SESSION_LOCK = "the lock is a server session lock, gone with its session: no lease to take over"
IN_TRANSACTION = "DDL runs in the migration's transaction: no statement is committed on its own"


def interrupted(target: Target, fault: str) -> tuple[set[str], Result | None]:
    """Two log migrations, 0001 sleeping between its CREATE TABLE and its INSERT; ``fault`` ("kill" the runner,
    "terminate" its connection) strikes while it sleeps. The tables before the run, and the run's result."""
    target.nap(600)
    target.log_migrations(2, first=[target.flavor.sleep])
    before = target.tables()
    run = target.start("migrate")
    session = target.wait_sleeping(run)
    if fault == "kill":
        run.kill9()
        result = None
    else:
        target.terminate(session)
        result = run.finish()
    target.nap(0)
    return before, result


def assert_trace(target: Target, before: set[str]) -> None:
    """What an interruption inside 0001's sleep leaves: nothing where DDL is transactional; else a partial row
    saying that its first statement (CREATE TABLE log) ran, and that table."""
    if target.kind in NO_TRANSACTIONAL_DDL:
        assert target.history() == [(1, "partial", 1)]
        assert target.tables() == before | {"log"} and target.log() == []
        assert "  partial: 0001 m1 (1 statement(s) ran)" in target.project.ok("status").out.splitlines()
    else:
        assert target.history() == []
        assert target.tables() == before


def assert_finished(target: Target, first: int = 3, resumed: bool = True) -> None:
    """The next migrate applies both log migrations (continuing 0001 where it was left, on MySQL/MariaDB);
    0001 has ``first`` statements."""
    result = target.run("migrate")
    assert result.code == 0 and result.out.splitlines()[0] == "primary: applied 2 migration(s)", result
    if resumed and target.kind in NO_TRANSACTIONAL_DDL:
        assert "0001_m1.sql: 3 statement(s), resuming after statement 1" in result.err
    assert target.log() == ["m1", "m2"]
    assert target.history() == [(1, "applied", first), (2, "applied", 2)]


@pytest.mark.parametrize("target", backends({"clickhouse": IN_PROCESS}), indirect=True)
def test_killed_runner(target: Target) -> None:
    target.env["DBWARDEN_LOCK_LEASE"] = "3"  # SQLite: the dead runner's lease is stale 3 s after its last renewal
    before, _ = interrupted(target, "kill")
    if target.kind == "sqlite":  # nobody releases a lease: it stays until it expires and is taken over
        assert "primary: migration lock: held by " in target.project.ok("lock-status").out
    assert_trace(target, before)
    if target.kind in NO_TRANSACTIONAL_DDL:  # rolling back the half-applied 0001 would undo what never ran
        line = one_error_line(target.run("rollback"))
        assert "migrations/primary/0001_m1.sql is partial (1 statement(s) ran); run 'dbwarden migrate' to finish it" \
            in line
        assert target.history() == [(1, "partial", 1)]
    assert_finished(target)
    assert target.project.ok("lock-status").out.strip() == "primary: migration lock: free"
    refused = one_error_line(target.run("rollback", "--count", "2"))  # its manual rollback drops a table
    assert "the rollback of migrations/primary/0002_m2.sql is CRITICAL (drops a table" in refused and "--force" in refused
    rolled = target.run("rollback", "--count", "2", "--force")
    assert rolled.code == 0 and target.tables() == before and target.history() == [], rolled


@pytest.mark.parametrize("target", backends(dict.fromkeys(("sqlite", "clickhouse"), NO_SERVER)), indirect=True)
def test_connection_ended_by_the_server(target: Target) -> None:
    secret = "Zq9-not-shown"
    if target.kind == "postgresql":  # trust authentication ignores it; it must not leak into the error line
        target.use_url(target.url.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@"))
    before, result = interrupted(target, "terminate")
    line = one_error_line(result)
    assert line.startswith("dbwarden: error: migrations/primary/0001_m1.sql failed at statement 2 of 3: "), line
    assert f"the connection was lost after {1 if target.kind in NO_TRANSACTIONAL_DDL else 0} statement(s) had run" in line
    assert secret not in result.err + result.out
    assert_trace(target, before)
    assert_finished(target)


# A PostgreSQL migration with a statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY) commits in
# pieces: what ran before it, itself, what follows. Its history row must survive any fault, so that nothing of
# it runs twice (a second CREATE INDEX CONCURRENTLY of the same name would fail; a second INSERT would show).
@pytest.mark.parametrize(("target", "fault", "sleep"), [
    ("postgresql", "kill", "after the index, in a transaction"),
    ("postgresql", "terminate", "after the index, itself outside a transaction"),
], indirect=["target"])
def test_no_transaction_statement_is_never_run_twice(target: Target, fault: str, sleep: str) -> None:
    target.nap(600)
    target.migration(1, "log", ["CREATE TABLE log (name VARCHAR(32) NOT NULL)", "INSERT INTO log VALUES ('m1')"],
                     ["DROP TABLE log"])
    outside = "outside" in sleep
    target.migration(2, "index", ["INSERT INTO log VALUES ('m2-a')", "!CREATE INDEX CONCURRENTLY ix_log ON log (name)",
                                  ("!" if outside else "") + target.flavor.sleep, "INSERT INTO log VALUES ('m2-b')"],
                     ["DELETE FROM log WHERE name LIKE 'm2-%'", "!DROP INDEX CONCURRENTLY ix_log"])
    run = target.start("migrate")
    session = target.wait_sleeping(run)
    if fault == "kill":
        run.kill9()
    else:
        target.terminate(session)
        assert "failed at statement 3 of 4" in one_error_line(run.finish())
    target.nap(0)
    # the index and what ran before it are recorded; the sleeping statement either did not commit (it was in a
    # transaction) or history says it was running, and may have taken effect
    assert target.history() == [(1, "applied", 2), (2, "running" if outside else "partial", 2)]
    status = target.project.ok("status").out
    if outside:
        assert "running: 0002 index (2 statement(s) ran; statement 3 was started and may or may not have taken " \
               "effect)" in status
    assert target.log() == ["m1", "m2-a"]
    resumed = target.run("migrate")
    assert resumed.code == 0 and "0002_index.sql: 4 statement(s), resuming after statement 2" in resumed.err, resumed
    assert target.log() == ["m1", "m2-a", "m2-b"]
    assert target.history() == [(1, "applied", 2), (2, "applied", 4)]
    assert target.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_log'::regclass") == [(True,)]


@pytest.mark.parametrize("target", backends(dict.fromkeys(("postgresql", "mariadb", "mysql"), SESSION_LOCK)),
                         indirect=True)
def test_a_holder_whose_lease_was_taken_over_records_nothing_more(target: Target, monkeypatch) -> None:
    """A lease holder stalls (here: between two migrations), its lease expires and another runner takes it;
    the stalled one must not record anything after that. The lease is checked in every history write."""
    target.log_migrations(2)
    thief = {}

    def steal(event, file, step, total) -> None:
        if event == "start" and file.version == 2:
            conn = thief["conn"] = target.connect()
            conn.execute("UPDATE dbwarden_lock SET expires_at = 0" if target.kind == "sqlite" else
                         "ALTER TABLE dbwarden_lock UPDATE expires_at = 0 WHERE 1 SETTINGS mutations_sync = 2")
            thief["lock"] = conn.backend.lock(conn)
            assert thief["lock"].try_acquire()

    monkeypatch.chdir(target.root)
    with pytest.raises(LockError, match="lost the migration lock: the lease of .* expired"):
        dw.project().migrate(progress=steal)
    try:
        assert target.history() == [(1, "applied", 2)]  # 0001 only: nothing of 0002 was recorded
        assert target.log() == ["m1"]
        if target.kind == "sqlite":  # one transaction: nothing of 0002 ran either
            assert "t2" not in target.tables()
        assert thief["lock"].owner in target.project.ok("lock-status").out
    finally:
        thief["lock"].release()
        thief["conn"].close()
    assert "applied 1 migration(s)" in target.project.ok("migrate").out
    assert target.log() == ["m1", "m2"]


@pytest.mark.parametrize("target", ["clickhouse"], indirect=True)
def test_expired_lease_of_a_vanished_holder_is_taken_over(target: Target, monkeypatch) -> None:
    """chDB cannot be shared with a process we could kill, so the vanished holder is a lease nobody renews; it
    expires (its expiry moved to the past) once the runner is waiting for it."""
    target.log_migrations(2)
    monkeypatch.chdir(target.root)
    with target.connect() as conn:
        ghost = conn.backend.lock(conn)
        ghost.acquire(10)
        events: list[str] = []

        def progress(event: str, *_: object) -> None:
            events.append(event)
            if event == "wait":
                conn.execute(f"ALTER TABLE dbwarden_lock UPDATE expires_at = 0 WHERE owner = '{ghost.owner}' "
                             "SETTINGS mutations_sync = 2")

        report = dw.project().migrate(progress=progress)
    assert events[0] == "wait" and len(report.result.applied) == 2
    assert target.log() == ["m1", "m2"]
    assert target.project.ok("lock-status").out.strip() == "primary: migration lock: free"


# How the test keeps the runner's history write waiting: a lock of its own on the history table.
HOLD_HISTORY = {"postgresql": "LOCK TABLE dbwarden_migrations IN EXCLUSIVE MODE",
                "mariadb": "LOCK TABLES dbwarden_migrations READ", "mysql": "LOCK TABLES dbwarden_migrations READ"}


@pytest.mark.parametrize("target", backends(dict.fromkeys(("sqlite", "clickhouse"), NO_SERVER)), indirect=True)
def test_connection_ended_while_writing_history(target: Target) -> None:
    """The connection dies in the middle of a history write: history must not claim what did not happen.
    PostgreSQL writes 0001's row in the transaction of its statements, so neither stays; MySQL and MariaDB
    write a ``running`` row before a statement they commit on their own, so 0001's CREATE TABLE never starts."""
    target.log_migrations(2)
    before = target.tables()
    with target.connect() as conn:
        History(conn).ensure()
        with conn.transaction():
            conn.execute(HOLD_HISTORY[target.kind])
            run = target.start("migrate")
            target.terminate(target.wait_session("%DELETE FROM%dbwarden_migrations%"))
            line = one_error_line(run.finish())
    assert "migrations/primary/0001_m1.sql: recording progress at statement " in line, line
    assert "history keeps what was last committed ('dbwarden status' shows it)" in line
    assert target.history() == [] and target.tables() == before
    assert_finished(target, first=2, resumed=False)


@pytest.mark.parametrize("target", backends({**dict.fromkeys(("postgresql", "sqlite"), IN_TRANSACTION),
                                             "clickhouse": NO_SERVER}), indirect=True)
def test_ddl_statement_cut_off_is_recorded_as_running(target: Target) -> None:
    """A statement the server commits on its own, ended by the server halfway: history says it was running
    (it may or may not have taken effect), and the next migrate runs it again."""
    target.nap(600)
    target.migration(1, "slow", ["CREATE TABLE log (name VARCHAR(32) NOT NULL)",
                                 "CREATE TABLE slow AS SELECT SLEEP((SELECT seconds FROM nap)) AS x",
                                 "INSERT INTO log (name) VALUES ('m1')"], ["DROP TABLE slow", "DROP TABLE log"])
    run = target.start("migrate")
    target.terminate(target.wait_session("CREATE TABLE slow AS SELECT SLEEP(%"))
    line = one_error_line(run.finish())
    assert "failed at statement 2 of 3" in line and "whether statement 2 took effect is unknown (history says it was " \
        "running)" in line, line
    target.nap(0)
    assert target.history() == [(1, "running", 1)]
    assert "  running: 0001 slow (1 statement(s) ran; statement 2 was started and may or may not have taken effect)" \
        in target.project.ok("status").out.splitlines()
    if "slow" in target.tables():  # MySQL 9 finished the CREATE … SELECT; MariaDB rolls it back
        line = one_error_line(target.run("migrate"))
        assert "0001_slow.sql failed at statement 2 of 3: (1050, \"Table 'slow' already exists\")" in line, line
        assert "(an earlier run was interrupted while running statement 2, so it may have taken effect then: if it " \
               "did, undo it by hand and run migrate again)" in line
        assert target.history() == [(1, "running", 1)]  # still true
        with target.connect() as conn:
            conn.execute("DROP TABLE slow")
    resumed = target.run("migrate")
    assert resumed.code == 0 and "0001_slow.sql: 3 statement(s), resuming after statement 1" in resumed.err, resumed
    assert target.history() == [(1, "applied", 3)] and target.log() == ["m1"]
