"""Many runners at once: eight real ``dbwarden migrate`` processes against one database apply every migration
exactly once, and each of them exits 0 (the one that applied, and the seven that waited and found nothing);
on ClickHouse (embedded chDB, one process per data directory) eight threads with a client each.

The overlap is made, not hoped for: the test holds the migration lock itself (the backend's own lock, on
a connection of its own) until every process has said it is waiting for it; then one of them gets it, and
the first migration sleeps while the others keep waiting. Each migration inserts its name into table
``log``, so one applied twice would show twice.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from backend_params import IN_PROCESS, backends
from harness import DEADLINE, FLAVORS, WAITING, Target, wait_for

from dbwarden_nb.backends import get_backend
from dbwarden_nb.migrations.runner import Runner, RunResult

PROCESSES = 8
MIGRATIONS = 3
NOTHING_TO_DO = "primary: up to date; nothing to migrate"


@pytest.mark.parametrize("target", backends({"clickhouse": IN_PROCESS}), indirect=True)
def test_eight_processes_apply_each_migration_exactly_once(target: Target) -> None:
    target.nap(1)
    target.log_migrations(MIGRATIONS, first=[target.flavor.sleep])
    with target.connect() as conn:
        gate = conn.backend.lock(conn)
        gate.acquire(10)
        runs = [target.start("migrate") for _ in range(PROCESSES)]
        wait_for(f"all {PROCESSES} processes to wait for the lock", lambda: all(WAITING in r.err() for r in runs))
        gate.release()
    results = [r.finish() for r in runs]

    assert [r.code for r in results] == [0] * PROCESSES, [r.err for r in results]
    appliers = [r for r in results if r.out.strip() != NOTHING_TO_DO]
    assert len(appliers) == 1, [r.out for r in results]
    assert appliers[0].out.splitlines()[0] == f"primary: applied {MIGRATIONS} migration(s)"
    assert target.log() == [f"m{n}" for n in range(1, MIGRATIONS + 1)]
    rows = target.rows()
    assert [(r.version, r.status) for r in rows] == [(n, "applied") for n in range(1, MIGRATIONS + 1)]
    assert [r.applied_at for r in rows] == sorted(r.applied_at for r in rows)  # applied in order
    assert {f"t{n}" for n in range(2, MIGRATIONS + 1)} <= target.tables()
    # and the lock is free again
    assert target.project.ok("lock-status").out.strip() == "primary: migration lock: free"


def test_eight_clickhouse_clients_apply_each_migration_exactly_once(tmp_path, clickhouse_url, chdb_path) -> None:
    """chDB is one engine per process, so the contenders are threads, each with a client of its own on the same
    data directory: the lease (a bakery of claim rows, no transactions) must still admit one at a time."""
    import clickhouse_connect

    from dbwarden_nb.backends.clickhouse.connection import ClickHouseConnection

    target = Target(FLAVORS["clickhouse"], clickhouse_url, tmp_path / "project")
    target.log_migrations(MIGRATIONS)
    (database,) = parse_qs(urlsplit(clickhouse_url).query)["database"]
    backend = get_backend("clickhouse")
    results: list[RunResult] = []
    errors: list[BaseException] = []
    waiting: list[int] = []

    def contender(n: int) -> None:
        client = clickhouse_connect.get_client(interface="chdb", path=chdb_path, database=database)
        with ClickHouseConnection(backend, client, f"chdb client {n}", shared=False) as conn:
            runner = Runner(backend, conn, target.root / "migrations" / "primary", "migrations/primary", lock_timeout=120)
            try:
                results.append(runner.migrate(progress=lambda event, *_: event == "wait" and waiting.append(n)))
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

    with target.connect() as conn:
        gate = backend.lock(conn)
        gate.acquire(10)
        threads = [threading.Thread(target=contender, args=(n,)) for n in range(PROCESSES)]
        for thread in threads:
            thread.start()
        wait_for(f"all {PROCESSES} clients to wait for the lock", lambda: len(waiting) == PROCESSES or errors)
        gate.release()
    for thread in threads:
        thread.join(DEADLINE)
    assert not errors and len(results) == PROCESSES, errors
    assert sorted(len(r.applied) for r in results) == [0] * (PROCESSES - 1) + [MIGRATIONS]
    assert target.log() == [f"m{n}" for n in range(1, MIGRATIONS + 1)]
    assert target.history() == [(n, "applied", 2) for n in range(1, MIGRATIONS + 1)]
    assert not target.project.ok("--json", "lock-status").json()["held"]


def test_clickhouse_claimant_still_drawing_its_ticket_is_waited_for(clickhouse_url) -> None:
    """The race a first-come lease loses on ClickHouse: a claimant that read the tickets before ours was written
    may still write a lower one. The bakery waits for every claimant that is still choosing, then compares."""
    backend = get_backend("clickhouse")
    with backend.connect(clickhouse_url) as conn:
        for sql in backend.lock_ddl():
            conn.execute(sql)
        claim = "INSERT INTO dbwarden_lock (name, owner, token, acquired_at, expires_at) VALUES ('migrate', 'slow', {}, 0, 9e18)"
        conn.execute(claim.format(0))  # "slow" starts choosing
        contender = backend.lock(conn)
        outcome: list[bool] = []
        thread = threading.Thread(target=lambda: outcome.append(contender.try_acquire()))
        thread.start()
        wait_for("the contender to write its ticket", lambda: conn.query(
            "SELECT count() FROM dbwarden_lock WHERE owner = :o AND token > 0", {"o": contender.owner})[0][0])
        assert thread.is_alive() and not outcome  # it waits for "slow" to finish choosing...
        conn.execute(claim.format(1))  # ...whose ticket, drawn before it saw the contender's, is lower
        thread.join(DEADLINE)
        assert outcome == [False]
        assert contender.status().owner == "slow"
