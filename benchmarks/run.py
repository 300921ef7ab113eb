"""Benchmarks of dbwarden_nb against its peers: ``python benchmarks/run.py [--quick]`` (see benchmarks/README.md).

Every timed run is a fresh process (CLI) or a fresh interpreter that times a warm loop (in-process), after
``--warmup`` untimed runs; medians are reported. Peers live in their own virtual environments under
``benchmarks/.venvs/`` and are installed from PyPI on first use; a peer that cannot be installed or fails
gets "failed: <reason>" in its cells and never stops the run.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

import models_gen

OURS_PY = Path(sys.executable)
OURS_CLI = OURS_PY.parent / "dbwarden"
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
PEERS = {  # venv name → pip requirements
    "dbwarden": ["dbwarden==0.20.11", "psycopg[binary]", "PyMySQL"],
    "alembic": ["alembic", "psycopg[binary]", "PyMySQL"],
    "sqlacodegen": ["sqlacodegen", "psycopg[binary]", "PyMySQL"],
}
PEER_LABEL = {"dbwarden": "dbwarden 0.20.11", "alembic": "Alembic compare_metadata", "sqlacodegen": "sqlacodegen"}
OPS = [  # (key, label)
    ("version", "CLI start-up (`dbwarden version`)"),
    ("mm_initial", "initial make-migrations"),
    ("migrate", "migrate"),
    ("diff", "diff (converged, CLI)"),
    ("diff_nocache", "diff, model cache off (models imported)"),
    ("diff_inproc", "diff in-process, models imported"),
    ("mm_noop", "no-op make-migrations"),
    ("generate", "generate-models"),
    ("mm_change", "one-column change → make-migrations"),
]
TIMEOUT = 300.0  # one command
DEADLINE = float("inf")  # perf_counter() after which no more measurements start (--budget)
BUDGET_SKIP = "skipped: time budget"
BIG = 1000  # from this many tables on: no warm-up and fewer runs (see --big-reps), to fit the time budget
LOCKS_PER_TABLE = 10  # PostgreSQL lock-table slots one table of the synthetic models takes in one transaction


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------------------------


class Failed(Exception):
    pass


SOURCE: Path | None = None  # a copy of dbwarden_nb taken at the start: the run measures one version of the code


def clean_env() -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE: a user's interpreter keeps bytecode; without it every run would compile the copy of
    # dbwarden_nb and the model module again (the peers' installed packages have theirs from pip)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "DBWARDEN_CONFIG", "DBWARDEN_MODEL_CACHE", "PYTHONDONTWRITEBYTECODE")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="200", PYTHONHASHSEED="0")
    if SOURCE is not None:  # found before the editable install (the peers import no dbwarden_nb)
        env["PYTHONPATH"] = str(SOURCE)
    return env


def peer_versions(peers: dict) -> dict[str, str]:
    """The installed version of each peer, with the SQLAlchemy of its venv."""
    out = {}
    for name, py in peers.items():
        if isinstance(py, Path):
            code = (f"import importlib.metadata as m; print(m.version({name!r}), 'with SQLAlchemy', m.version('SQLAlchemy'))")
            done = subprocess.run([str(py), "-c", code], check=False, capture_output=True, text=True)
            out[name] = done.stdout.strip() or "?"
    return out


def snapshot_source(work: Path) -> str:
    """Copy the package, so that edits to the working tree during the run change nothing; describe the copy."""
    global SOURCE
    SOURCE = work / "src"
    shutil.copytree(ROOT / "dbwarden_nb", SOURCE / "dbwarden_nb", ignore=shutil.ignore_patterns("__pycache__"))
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "dbwarden_nb"], check=False, cwd=ROOT, capture_output=True, text=True).stdout
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    return f"{head or 'unknown commit'}" + (f" + uncommitted changes (dbwarden_nb/ as of {stamp})" if dirty.strip() else "")


def timed(cmd: list[str], cwd: Path, check: bool = True, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``cmd`` (with ``env`` added to the clean environment); (wall seconds, peak RSS MB, stdout). Raises
    Failed with the last stderr line on error."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=clean_env() | (env or {}))
        deadline = t0 + TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                raise Failed(f"timeout after {TIMEOUT:.0f}s")
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and proc.returncode != 0:
        lines = [ln.strip() for ln in (stderr + "\n" + stdout).splitlines() if ln.strip()]
        raise Failed(f"exit {proc.returncode}: {lines[-1][:200] if lines else 'no output'}")
    return wall, usage.ru_maxrss / 1024.0, stdout


def run_py(python: Path, code: str, cwd: Path) -> dict:
    """Run a snippet that prints one JSON line last; return it."""
    _, rss, out = timed([str(python), "-c", code], cwd)
    result = json.loads(out.strip().splitlines()[-1])
    result.setdefault("rss_mb", rss)
    return result


def ensure_venv(name: str) -> Path:
    """The python of peer venv ``name``, created and installed on first use."""
    py = VENVS / name / "bin" / "python"
    stamp = VENVS / name / ".installed"
    if py.exists() and stamp.exists() and stamp.read_text() == json.dumps(PEERS[name]):
        return py
    log(f"installing peer venv {name}: {' '.join(PEERS[name])}")
    shutil.rmtree(VENVS / name, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENVS / name)], check=True)
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS[name]], check=False,
                         capture_output=True, text=True)
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and "is ignored" not in ln]
        raise Failed(f"pip install failed: {lines[-1][:200] if lines else res.returncode}")
    stamp.write_text(json.dumps(PEERS[name]))
    return py


# --- measurement helpers --------------------------------------------------------------------------


class Cell:
    """The samples of one (backend, N, operation, tool), or why there are none."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.rss: list[float] = []
        self.error: str | None = None
        self.note: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.error else None

    def to_json(self) -> dict:
        return {"median_s": self.median, "samples_s": self.samples, "peak_rss_mb": max(self.rss, default=None),
                "error": self.error, "note": self.note}


def measure(cell: Cell, fn, warmup: int, reps: int, slow: float = 60.0) -> None:
    """Call ``fn(timed_run: bool) -> (seconds, rss_mb)`` warmup + reps times; any exception fails the cell."""
    if time.perf_counter() > DEADLINE:
        cell.error = BUDGET_SKIP
        return
    try:
        for _ in range(warmup):
            fn()
        for i in range(reps):
            secs, rss = fn()
            cell.samples.append(secs)
            cell.rss.append(rss)
            if secs > slow and i == 0:  # a very slow tool: one sample is enough to rank it
                cell.note = f"1 run (>{slow:.0f}s)"
                break
    except Failed as exc:
        cell.error = str(exc)
    except Exception as exc:  # never let one tool crash the run
        cell.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
        log(traceback.format_exc())


# --- databases ------------------------------------------------------------------------------------


class Target:
    """A database for one tool on one backend: fresh() empties it; urls for our config and for SQLAlchemy."""

    def __init__(self, backend: str, server, name: str, work: Path):
        self.backend, self.server, self.name = backend, server, name
        self.sqlite_path = work / f"{name}.sqlite"

    def fresh(self) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            return
        from servers import _execute, quote_identifier

        self.server.drop_database(self.name)
        _execute(self.backend, self.server.url, f"CREATE DATABASE {quote_identifier(self.backend, self.name)}")

    def drop(self) -> None:
        if self.backend == "sqlite":
            self.sqlite_path.unlink(missing_ok=True)
        else:
            self.server.drop_database(self.name)

    @property
    def url(self) -> str:  # our (driverless) form
        return f"sqlite:///{self.sqlite_path}" if self.backend == "sqlite" else self.server.database_url(self.name)

    @property
    def sa_url(self) -> str:  # with the driver, for SQLAlchemy-based peers
        return f"sqlite:///{self.sqlite_path}" if self.backend == "sqlite" else self.server.sqlalchemy_url(self.name)


def our_config(target: Target) -> str:
    return textwrap.dedent(f"""\
        from dbwarden_nb import database_config

        database_config(database_name="primary", default=True, database_type={target.backend!r},
                        database_url={target.url!r}, model_paths=["bench_models.py"])
        """)


def peer_config(target: Target) -> str:
    return textwrap.dedent(f"""\
        from dbwarden import DbwardenDatabase


        class Primary(DbwardenDatabase):
            database_name = "primary"
            default = True
            database_type = {target.backend!r}
            database_url_sync = {target.sa_url!r}
            migrations_dir = "migrations/primary"
            model_paths = ["bench_models.py"]
        """)


def server_with_room(kind: str, tables: int):
    """The server of ``DBWARDEN_TEST_<KIND>_URL`` (else a throwaway one); for PostgreSQL, a throwaway server with a
    larger lock table when that one cannot hold a ``tables``-table migration in one transaction (a default
    server holds 64 × 100 locks; each synthetic table takes ~7, with its keys, index and sequence)."""
    import servers

    server = servers.server_for(kind)
    if kind != "postgresql":
        return server
    rows = servers._execute(kind, server.url, "SELECT (SELECT setting::int FROM pg_settings WHERE name = "
                            "'max_locks_per_transaction') * (SELECT sum(setting::int) FROM pg_settings WHERE name IN "
                            "('max_connections', 'max_prepared_transactions'))")
    if rows[0][0] >= LOCKS_PER_TABLE * tables:
        return server
    log(f"{server.describe()}: its lock table holds {rows[0][0]} locks, too few for {tables} tables in one "
        "migration: starting a throwaway server with max_locks_per_transaction = 1024")
    server.stop()
    launch = servers._launch

    def with_locks(kind_, work, command, *args, **kwargs):
        return launch(kind_, work, [*command, "--max_locks_per_transaction=1024"], *args, **kwargs)

    servers._launch = with_locks  # tests/servers.py has no settings parameter: add ours to its command line
    try:
        server = servers.start_postgresql()
    finally:
        servers._launch = launch
    server.origin += ", max_locks_per_transaction = 1024"
    return server


# --- one tool through the CLI workflow ------------------------------------------------------------


def _after(cause: Cell, reason: str) -> str:
    """Why a step that needs ``cause`` was not measured: the budget ran out, or ``reason``."""
    return BUDGET_SKIP if cause.error == BUDGET_SKIP else reason



def cli_workflow(tool: str, cli: list[str], target: Target, n: int, work: Path, warmup: int, reps: int,
                 cells: dict[str, Cell]) -> bool:
    """initial make-migrations, migrate, diff, no-op make-migrations, generate-models, one-column change.

    Leaves ``work/<tool>/proj`` migrated (state S2) and returns whether it got there."""
    base = work / tool
    shutil.rmtree(base, ignore_errors=True)
    s0, s1, s2, proj = base / "s0", base / "s1", base / "s2", base / "proj"
    s0.mkdir(parents=True)
    models_gen.write(s0, n)
    (s0 / "dbwarden.py").write_text(our_config(target) if tool == "ours" else peer_config(target))
    (s0 / "migrations" / "primary").mkdir(parents=True)
    past = time.time() - 60  # models edited a minute ago, not during the first run (which would not cache them)
    for file in s0.iterdir():
        os.utime(file, (past, past))

    def reset(state: Path) -> None:
        shutil.rmtree(proj, ignore_errors=True)
        shutil.copytree(state, proj)

    def cmd(*args: str, env: dict[str, str] | None = None):
        def go():
            wall, rss, _ = timed([*cli, *args], proj, env=env)
            return wall, rss
        return go

    def fresh_then(state: Path, *args: str):
        def go():
            reset(state)
            target.fresh()
            return cmd(*args)()
        return go

    measure(cells["mm_initial"], fresh_then(s0, "make-migrations", "init"), warmup, reps)
    if cells["mm_initial"].error:
        for k in ("migrate", "diff", "diff_nocache", "mm_noop", "generate", "mm_change"):
            cells[k].error = _after(cells["mm_initial"], "skipped: initial make-migrations failed")
        return False
    shutil.copytree(proj, s1)
    measure(cells["migrate"], fresh_then(s1, "migrate"), warmup, reps)
    if cells["migrate"].error:
        for k in ("diff", "diff_nocache", "mm_noop", "generate", "mm_change"):
            cells[k].error = _after(cells["migrate"], "skipped: migrate failed")
        return False
    shutil.copytree(proj, s2)
    measure(cells["diff"], cmd("diff"), warmup, reps)
    if tool == "ours":
        measure(cells["diff_nocache"], cmd("diff", env={"DBWARDEN_MODEL_CACHE": "0"}), warmup, reps)
    else:  # the peer has no model cache: its diff imports the models every time
        nocache = cells["diff_nocache"]
        nocache.samples, nocache.rss, nocache.error = cells["diff"].samples, cells["diff"].rss, cells["diff"].error
    measure(cells["mm_noop"], cmd("make-migrations", "noop"), warmup, reps)
    n_files = len(list((proj / "migrations" / "primary").glob("*.sql")))
    if n_files != len(list((s2 / "migrations" / "primary").glob("*.sql"))):
        cells["mm_noop"].error = "failed: the no-op make-migrations wrote a migration file"

    def generate():
        shutil.rmtree(proj / "gen", ignore_errors=True)
        return cmd("generate-models", "--output", "gen", "--single-file")()
    measure(cells["generate"], generate, warmup, reps)

    def change():
        reset(s2)
        models_gen.write(proj, n, changed=True)
        wall, rss = cmd("make-migrations", "change")()
        new = sorted((proj / "migrations" / "primary").glob("*.sql"))
        if len(new) != n_files + 1:
            raise Failed("the one-column change wrote no migration file")
        return wall, rss
    measure(cells["mm_change"], change, warmup, reps)
    reset(s2)
    return True


# --- in-process diff --------------------------------------------------------------------------------

OURS_INPROC = """
import json, sys, time
sys.path.insert(0, ".")
import bench_models  # the notebook case: the models are imported already (and the model-snapshot cache is not used)
import dbwarden_nb as dw
proj = dw.project("dbwarden.py")
for _ in range({warmup}):
    plan = proj.diff()
times = []
for _ in range({reps}):
    t = time.perf_counter(); rep = proj.diff(); times.append(time.perf_counter() - t)
import resource
print(json.dumps({{"times": times, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "exit_code": getattr(rep, "exit_code", None)}}))
"""

ALEMBIC_INPROC = """
import json, sys, time
sys.path.insert(0, ".")
from sqlalchemy import create_engine
from alembic.migration import MigrationContext
from alembic.autogenerate import compare_metadata
import bench_models
engine = create_engine({url!r})
def ours(name, type_, parent):  # dbwarden_nb's own history and lock tables are not the models'
    return not (type_ == "table" and name.startswith("dbwarden"))
def once():
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={{"include_name": ours}}), bench_models.Base.metadata)
for _ in range({warmup}):
    diffs = once()
times = []
for _ in range({reps}):
    t = time.perf_counter(); diffs = once(); times.append(time.perf_counter() - t)
import resource
print(json.dumps({{"times": times, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "diffs": len(diffs), "first": [repr(d)[:160] for d in diffs[:3]]}}))
"""


def inproc(cell: Cell, python: Path, code: str, cwd: Path) -> dict | None:
    if time.perf_counter() > DEADLINE:
        cell.error = BUDGET_SKIP
        return None
    try:
        res = run_py(python, code, cwd)
        cell.samples = res["times"]
        cell.rss = [res["rss_mb"]]
        return res
    except Failed as exc:
        cell.error = str(exc)
    except Exception as exc:
        cell.error = f"{type(exc).__name__}: {exc}"[:200]
    return None


# --- one-off measurements -----------------------------------------------------------------------------


def measure_import(reps: int) -> dict:
    code = "import time; t=time.perf_counter(); import dbwarden_nb; print(time.perf_counter()-t)"
    samples = []
    for i in range(reps + 1):
        _, _, out = timed([str(OURS_PY), "-c", code], SOURCE or ROOT)
        if i:
            samples.append(float(out.strip()))
    wall = []
    for i in range(reps + 1):
        w, _, _ = timed([str(OURS_PY), "-c", "import dbwarden_nb"], SOURCE or ROOT)
        w0, _, _ = timed([str(OURS_PY), "-c", "pass"], SOURCE or ROOT)
        if i:
            wall.append(w - w0)
    return {"median_s": statistics.median(samples), "samples_s": samples,
            "process_minus_bare_python_s": statistics.median(wall)}


def measure_model_import(n: int, work: Path, reps: int) -> dict:
    folder = work / f"models-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    models_gen.write(folder, n)
    code = ("import json, sys, time; sys.path.insert(0, '.'); t=time.perf_counter(); import sqlalchemy.orm; "
            "s=time.perf_counter()-t; t=time.perf_counter(); import bench_models; "
            "print(json.dumps({'t': time.perf_counter()-t, 'sa': s}))")
    runs = [run_py(OURS_PY, code, folder) for _ in range(reps + 1)][1:]  # the first one writes the .pyc
    samples = [r["t"] for r in runs]
    return {"median_s": statistics.median(samples), "samples_s": samples,
            "sqlalchemy_import_s": statistics.median(r["sa"] for r in runs), "rss_mb": max(r["rss_mb"] for r in runs)}


HTML_CODE = """
import json, time, resource
import dbwarden_nb as dw
proj = dw.project("dbwarden.py")
t = time.perf_counter(); snap = proj.models(); build = time.perf_counter() - t
times = []
for _ in range({warmup} + {reps}):
    t = time.perf_counter(); bundle = snap._repr_mimebundle_(); times.append(time.perf_counter() - t)
html = bundle[0]["text/html"] if isinstance(bundle, tuple) else bundle["text/html"]
print(json.dumps({{"times": times[{warmup}:], "bytes": len(html.encode()), "tables": len(snap.tables),
                  "snapshot_s": build, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure_html(n: int, work: Path, warmup: int, reps: int) -> dict:
    folder = work / f"html-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    models_gen.write(folder, n)
    (folder / "dbwarden.py").write_text(textwrap.dedent(f"""\
        from dbwarden_nb import database_config
        database_config(database_name="primary", default=True, database_type="sqlite",
                        database_url="sqlite:///{folder / 'unused.sqlite'}", model_paths=["bench_models.py"])
        """))
    try:
        res = run_py(OURS_PY, HTML_CODE.format(warmup=warmup, reps=reps), folder)
    except Exception as exc:
        return {"error": str(exc)[:300]}
    res["median_s"] = statistics.median(res["times"])
    return res


def machine(servers: dict) -> dict:
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "")
    import sqlite3

    import sqlalchemy

    return {"cpu_count": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "sqlalchemy": sqlalchemy.__version__,
            "servers": {k: f"{s.version} ({s.origin})" for k, s in servers.items()} | {"sqlite": sqlite3.sqlite_version},
            "date": _dt.datetime.now().isoformat(timespec="seconds")}


# --- report -------------------------------------------------------------------------------------------


def fmt(cell: Cell | None) -> str:
    if cell is None:
        return "–"
    if cell.error:
        return cell.error if cell.error.startswith(("failed", "skipped")) else f"failed: {cell.error}"
    m = cell.median
    if m is None:
        return "–"
    s = f"{m * 1000:.0f} ms" if m < 1 else f"{m:.2f} s"
    return s + (f" ({cell.note})" if cell.note else "")


def ratio(ours: Cell | None, peer: Cell | None) -> str:
    if not ours or not peer or ours.median is None or peer.median is None or ours.median == 0:
        return "–"
    return f"{peer.median / ours.median:.1f}×"


def render(results: dict) -> str:
    m = results["machine"]
    out = [f"# dbwarden_nb benchmarks ({results['mode']})", "",
           f"{m['date']} · {m['cpu_count']} CPUs ({m['cpu']}) · {m['memory']} · Python {m['python']} · "
           f"SQLAlchemy {m['sqlalchemy']} · " + " · ".join(f"{k} {v}" for k, v in m["servers"].items()), "",
           f"Code measured: dbwarden_nb {m.get('code', '')}; peers: "
           + ", ".join(f"{k} {v}" for k, v in results.get("peer_versions", {}).items()), "",
           (f"Medians of {results['reps']} runs after {results['warmup']} warm-up run(s) below {BIG} tables; from {BIG} "
           f"tables on, {results.get('big_reps', 1)} run(s) without warm-up (the in-process diffs keep one warm-up), "
           "to fit the time budget. Ratio = peer time / dbwarden_nb time, both measured in this run (>1× means "
           "dbwarden_nb is faster). Peak RSS is the largest of dbwarden_nb's runs. Every CLI run is a fresh process; "
           "dbwarden_nb's model-snapshot cache is warm except for initial make-migrations (a fresh project), the "
           "one-column change (the models just changed) and the diff with `DBWARDEN_MODEL_CACHE=0`, which import the "
           "models (the peer's diff row is its only diff: it has no model cache)."), "",
           (f"The machine has {m['cpu_count']} CPUs shared with other jobs (test suites ran during this run): absolute "
            "times are noisy, ratios measured in the same run less so."), "",
           "| backend | N | operation | dbwarden_nb | peak RSS | dbwarden 0.20.11 | ratio | other peer | its time | ratio |",
           "|---|---:|---|---:|---:|---:|---:|---|---:|---:|"]
    cells = results["_cells"]
    for (backend, n, op), tools in cells.items():
        label = dict(OPS)[op]
        ours, dbw = tools.get("ours"), tools.get("dbwarden")
        other_name = "alembic" if op == "diff_inproc" else "sqlacodegen" if op == "generate" else None
        other = tools.get(other_name) if other_name else None
        rss = f"{max(ours.rss):.0f} MB" if ours and ours.rss else "–"
        out.append(f"| {backend} | {n} | {label} | {fmt(ours)} | {rss} | {fmt(dbw) if op != 'diff_inproc' else '–'} | "
                   f"{ratio(ours, dbw) if op != 'diff_inproc' else '–'} | {PEER_LABEL.get(other_name, '') if other_name else ''} | "
                   f"{fmt(other) if other_name else ''} | {ratio(ours, other) if other_name else ''} |")
    out += where_users_wait(results)
    out += ["", "## Single measurements", "",
            "| what | value |", "|---|---:|"]
    imp = results.get("import_dbwarden_nb", {})
    if "median_s" in imp:
        out.append(f"| `import dbwarden_nb` (in-process timer) | {imp['median_s'] * 1000:.0f} ms |")
        out.append(f"| `python -c 'import dbwarden_nb'` minus bare `python -c pass` | {imp['process_minus_bare_python_s'] * 1000:.0f} ms |")
    for n, r in results.get("model_import", {}).items():
        out.append(f"| model import, {n} tables (`import bench_models`, SQLAlchemy already imported: "
                   f"{r['sqlalchemy_import_s'] * 1000:.0f} ms; that process's peak RSS {r.get('rss_mb', 0):.0f} MB) | "
                   f"{r['median_s'] * 1000:.0f} ms |")
    h = results.get("html", {})
    if "median_s" in h:
        out.append(f"| HTML of a {h['tables']}-table snapshot (`_repr_mimebundle_()`) | {h['median_s'] * 1000:.0f} ms, "
                   f"{h['bytes'] / 1e6:.2f} MB |")
    elif h:
        out.append(f"| HTML rendering | failed: {h.get('error')} |")
    out += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    out += [f"| {t} | {v} | {ok} |" for t, v, ok in results["targets"]]
    return "\n".join(out) + "\n"


ISSUE22 = [  # (operation, {N: target ratio to dbwarden 0.20.11}) on PostgreSQL
    ("mm_change", {200: 5, 2000: 10}), ("diff_nocache", {200: 5, 2000: 10}), ("mm_initial", {200: 5, 2000: 5}),
    ("migrate", {200: 5, 2000: 5}), ("generate", {200: 5, 2000: 5}),
]


def where_users_wait(results: dict) -> list[str]:
    """Issue 22's table: the commands a developer waits for, their ratios and targets; peak RSS per command."""
    cells = results["_cells"]
    rows = ["", "## Where users wait (issue 22, PostgreSQL)", "",
            "| operation | N | dbwarden_nb | dbwarden 0.20.11 | ratio | target | met | sqlacodegen | ratio |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for op, goals in ISSUE22:
        for n, goal in goals.items():
            tools = cells.get(("postgresql", n, op))
            if not tools:
                continue
            ours, peer, gen = tools.get("ours"), tools.get("dbwarden"), tools.get("sqlacodegen")
            met = "–"
            if ours and peer and ours.median and peer.median:
                r = peer.median / ours.median
                met = "yes" if r >= goal else f"no ({goal / r:.1f}× short)"
            rows.append(f"| {dict(OPS)[op]} | {n} | {fmt(ours)} | {fmt(peer)} | {ratio(ours, peer)} | ≥{goal}× | {met} | "
                        f"{fmt(gen) if op == 'generate' else ''} | {ratio(ours, gen) if op == 'generate' else ''} |")
    big = max((n for (b, n, _) in cells if b == "postgresql"), default=0)
    peaks = [(op, c) for (b, n, op), t in cells.items() if b == "postgresql" and n == big and (c := t.get("ours")) and c.rss]
    if peaks:
        rows += ["", f"Peak RSS at {big} tables (PostgreSQL), target < 300 MB:", "", "| command | peak RSS | met |",
                 "|---|---:|---|"]
        rows += [f"| {dict(OPS)[op]} | {max(c.rss):.0f} MB | {'yes' if max(c.rss) < 300 else 'no'} |" for op, c in peaks]
    return rows


def targets(results: dict) -> list[tuple[str, str, str]]:
    cells = results["_cells"]
    rows: list[tuple[str, str, str]] = []

    def get(b, n, op, tool):
        return cells.get((b, n, op), {}).get(tool)

    for n, goal in ((200, 5), (2000, 10)):
        for op in ("diff", "mm_noop"):
            o, p = get("postgresql", n, op, "ours"), get("postgresql", n, op, "dbwarden")
            if o and p and o.median and p.median:
                r = p.median / o.median
                rows.append((f"PostgreSQL {dict(OPS)[op]} at {n} ≥{goal}× dbwarden 0.20.11", f"{r:.1f}×",
                             "yes" if r >= goal else f"no ({goal / r:.1f}× short)"))
    for (b, n, op), tools in cells.items():
        if op == "diff_inproc" and tools.get("ours") and tools.get("alembic"):
            o, p = tools["ours"], tools["alembic"]
            if o.median and p.median:
                r = p.median / o.median
                rows.append((f"{b} {n}: in-process diff ≥3× Alembic compare_metadata", f"{r:.1f}×",
                             "yes" if r >= 3 else f"no ({3 / r:.1f}× short)"))
    versions = [c.median for (b, n, op), t in cells.items() if op == "version" and (c := t.get("ours")) and c.median]
    if versions:
        v = statistics.median(versions)
        rows.append(("`dbwarden version` < 0.3 s", f"{v * 1000:.0f} ms", "yes" if v < 0.3 else f"no ({v / 0.3:.1f}×)"))
    imp = results.get("import_dbwarden_nb", {}).get("median_s")
    if imp is not None:
        rows.append(("`import dbwarden_nb` < 0.15 s", f"{imp * 1000:.0f} ms", "yes" if imp < 0.15 else f"no ({imp / 0.15:.1f}×)"))
    big = max((n for (_, n, _) in cells), default=0)
    model_imp = results.get("model_import", {}).get(str(big), {}).get("median_s", 0.0)
    for (b, n, op), tools in cells.items():
        o = tools.get("ours")
        if n == big and o and o.median is not None and op not in ("version",):
            # only these import the models (a fresh project, changed models); the others hit the model cache, and
            # the in-process diff has them imported before its timer starts
            imports = op in ("mm_initial", "mm_change", "diff_nocache")
            net = o.median - model_imp if imports else o.median
            what = (f"minus model import ({model_imp:.2f} s)" if imports else
                    "(models imported before the timer)" if op == "diff_inproc" else "(model cache: models not imported)")
            if net < 0:  # the model import, timed apart (under other load), took longer than the whole command
                rows.append((f"{b} {n}: {dict(OPS)[op]} {what} < 1 s", f"{o.median:.2f} s in all",
                             "n/a: the model import timed apart took longer than the whole command"))
                continue
            rows.append((f"{b} {n}: {dict(OPS)[op]} {what} < 1 s", f"{net:.2f} s",
                         "yes" if net < 1 else f"no ({net:.1f}×)"))
    peaks = [(max(c.rss), b, n, op) for (b, n, op), t in cells.items() if (c := t.get("ours")) and c.rss]
    if peaks:
        peak, pb, pn, pop = max(peaks)
        where = f" ({pb} {pn}: {dict(OPS)[pop]}; the model import alone: " \
                f"{results.get('model_import', {}).get(str(pn), {}).get('rss_mb', 0):.0f} MB)" if pn else ""
        rows.append(("peak memory < 300 MB", f"{peak:.0f} MB{where}", "yes" if peak < 300 else f"no ({peak / 300:.1f}×)"))
    return rows


# --- main ---------------------------------------------------------------------------------------------


def rerender(path: Path) -> int:
    """The markdown of a finished run again, from its JSON (after a change to the report's wording)."""
    results = json.loads(path.read_text())
    cells: dict[tuple[str, int, str], dict[str, Cell]] = {}
    for key, tools in results.pop("cells").items():
        b, n, op = key.split("|")
        row = cells[(b, int(n), op)] = {}
        for tool, doc in tools.items():
            cell = row[tool] = Cell()
            cell.samples, cell.error, cell.note = doc["samples_s"], doc["error"], doc["note"]
            cell.rss = [doc["peak_rss_mb"]] if doc["peak_rss_mb"] is not None else []
    for (b, n, _), row in cells.items():  # runs before the budget wording: a step after a skipped one was "failed"
        if any(c.error == BUDGET_SKIP for (b2, n2, _), r in cells.items() if (b2, n2) == (b, n) for c in r.values()):
            for cell in row.values():
                if cell.error in ("skipped: initial make-migrations failed", "skipped: migrate failed",
                                  "skipped: no migrated database"):
                    cell.error = BUDGET_SKIP
    results["_cells"] = cells
    results["targets"] = targets(results)
    md = render(results)
    path.with_suffix(".md").write_text(md)
    print(md)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="N = 50, 200; PostgreSQL only; 1 warm-up + 3 runs")
    ap.add_argument("--sizes", help="comma-separated table counts (default 50,200,1000,2000)")
    ap.add_argument("--backends", help="comma-separated: postgresql,sqlite,mariadb (default all three)")
    ap.add_argument("--reps", type=int, help="timed runs per operation below 1000 tables (default 3)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--big-reps", type=int, default=1,
                    help=f"timed runs per operation from {BIG} tables on, with no warm-up (default 1: the time budget)")
    ap.add_argument("--no-peers", action="store_true", help="only dbwarden_nb")
    ap.add_argument("--html-tables", type=int, default=2000)
    ap.add_argument("--budget", type=float, help="minutes after which no more measurements start, the rest being "
                    "reported as skipped (default: 34 in full mode, so that the run ends within ~40 minutes)")
    ap.add_argument("--out", help="results file stem (default: benchmarks/results/<mode>-<timestamp>)")
    ap.add_argument("--render", metavar="JSON", help="only rebuild the markdown of a results JSON (next to it)")
    args = ap.parse_args()
    if args.render:
        return rerender(Path(args.render))
    mode = "quick" if args.quick else "full"
    sizes = [int(s) for s in (args.sizes or ("50,200" if args.quick else "50,200,1000,2000")).split(",")]
    backends = (args.backends or ("postgresql" if args.quick else "postgresql,sqlite,mariadb")).split(",")
    backends.sort(key=lambda b: b != "postgresql")
    reps = args.reps or 3
    warmup = args.warmup

    peers: dict[str, Path | str] = {}
    for name in () if args.no_peers else PEERS:
        try:
            peers[name] = ensure_venv(name)
        except Exception as exc:
            peers[name] = f"failed: {exc}"[:200]
            log(peers[name])

    servers = {}
    for b in backends:
        if b != "sqlite":
            try:
                servers[b] = server_with_room(b, max(sizes))
                log(f"server: {servers[b].describe()}")
            except Exception as exc:
                log(f"no {b} server ({exc}); skipping {b}")
    backends = [b for b in backends if b == "sqlite" or b in servers]

    work = Path(tempfile.mkdtemp(prefix="dbwarden-bench-"))
    code = snapshot_source(work)
    results_versions = peer_versions(peers)
    cells: dict[tuple[str, int, str], dict[str, Cell]] = {}
    results: dict = {"mode": mode, "sizes": sizes, "backends": backends, "reps": reps, "warmup": warmup,
                     "big_reps": args.big_reps, "peer_versions": results_versions,
                     "machine": machine(servers) | {"code": code}, "_cells": cells, "peers": {k: str(v) for k, v in peers.items()}}
    t_start = time.perf_counter()
    budget = args.budget if args.budget is not None else (None if args.quick else 34.0)
    if budget is not None:
        global DEADLINE
        DEADLINE = t_start + budget * 60
    results["budget_min"] = budget
    try:
        log(f"HTML rendering of a {args.html_tables}-table snapshot …")
        results["html"] = measure_html(args.html_tables, work, warmup, reps)
        log("import dbwarden_nb …")
        results["import_dbwarden_nb"] = measure_import(max(reps, 5))
        # CLI start-up, once per run (no project, no database)
        vdir = work / "version"
        vdir.mkdir()
        row = cells.setdefault(("-", 0, "version"), {})
        row["ours"] = Cell()
        measure(row["ours"], lambda: timed([str(OURS_CLI), "version"], vdir)[:2], warmup, max(reps, 5))
        row["dbwarden"] = Cell()
        if isinstance(peers.get("dbwarden"), Path):
            cli = str(peers["dbwarden"].parent / "dbwarden")
            measure(row["dbwarden"], lambda: timed([cli, "version"], vdir)[:2], warmup, max(reps, 5))
        else:
            row["dbwarden"].error = str(peers.get("dbwarden", "skipped"))
        results["model_import"] = {}
        for n in sizes:
            log(f"model import, {n} tables …")
            results["model_import"][str(n)] = measure_model_import(n, work, reps)
        # PostgreSQL first (the targets are measured there), then the other backends size by size, so that a run
        # cut short by the time budget still covers every backend at the small sizes
        order = [(b, n) for b in backends[:1] for n in sizes] + [(b, n) for n in sizes for b in backends[1:]]
        for backend, n in order:
            w, r = (0, args.big_reps) if n >= BIG else (warmup, reps)
            log(f"== {backend}, {n} tables, {w} warm-up + {r} run(s) ({time.perf_counter() - t_start:.0f}s elapsed)")
            ops = {op: {} for op, _ in OPS if op != "version"}
            for op, cell in ops.items():
                cells[(backend, n, op)] = cell
            tools = [("ours", [str(OURS_CLI)])]
            if "dbwarden" in peers:
                tools.append(("dbwarden", [str(peers["dbwarden"].parent / "dbwarden")]
                              if isinstance(peers["dbwarden"], Path) else None))
            for tool, cli in tools:
                tc = {op: ops[op].setdefault(tool, Cell()) for op in ops if op != "diff_inproc"}
                if cli is None:
                    for c in tc.values():
                        c.error = str(peers["dbwarden"])
                    continue
                target = Target(backend, servers.get(backend), f"bench_{tool}_{os.getpid()}", work)
                try:
                    log(f"   {tool}: CLI workflow")
                    ok = cli_workflow(tool, cli, target, n, work / f"{backend}-{n}", w, r, tc)
                    if tool == "ours":
                        proj = work / f"{backend}-{n}" / "ours" / "proj"
                        log("   ours: in-process diff")
                        ops["diff_inproc"]["ours"] = Cell()
                        if ok:
                            res = inproc(ops["diff_inproc"]["ours"], OURS_PY,
                                         OURS_INPROC.format(warmup=max(w, 1), reps=r), proj)
                            if res and res.get("exit_code") not in (0, None):
                                ops["diff_inproc"]["ours"].note = f"exit code {res['exit_code']}"
                        else:
                            ops["diff_inproc"]["ours"].error = _after(tc["migrate"], "skipped: migrate failed")
                        for name, key, code in (("alembic", "diff_inproc", None), ("sqlacodegen", "generate", None)):
                            if name not in peers:
                                continue
                            c = ops[key].setdefault(name, Cell())
                            if not isinstance(peers[name], Path):
                                c.error = str(peers[name])
                            elif not ok:
                                c.error = _after(tc["migrate"], "skipped: no migrated database")
                            elif name == "alembic":
                                log("   alembic compare_metadata")
                                res = inproc(c, peers[name], ALEMBIC_INPROC.format(
                                    url=target.sa_url, warmup=max(w, 1), reps=r), proj)
                                if res:
                                    c.note = f"{res['diffs']} diffs" if res["diffs"] else None
                                    if res["diffs"]:
                                        log(f"   alembic diffs: {res['first']}")
                            else:
                                log("   sqlacodegen")
                                exe = str(peers[name].parent / "sqlacodegen")
                                measure(c, lambda: timed([exe, target.sa_url, "--outfile", "sqlacodegen_out.py"],  # noqa: B023  measured at once
                                                         proj)[:2], w, r)  # noqa: B023
                finally:
                        try:
                            target.drop()
                        except Exception as exc:
                            log(f"   could not drop {target.name}: {exc}")
                partial = {f"{b}|{n}|{op}": {t: c.to_json() for t, c in tools_.items()} for (b, n, op), tools_ in cells.items()}
                (work / "partial.json").write_text(json.dumps(partial))
    finally:
        results["elapsed_s"] = time.perf_counter() - t_start
        results["targets"] = targets(results)
        md = render(results)
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = Path(args.out) if args.out else RESULTS / f"{mode}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        data = {k: v for k, v in results.items() if k != "_cells"}
        data["cells"] = {f"{b}|{n}|{op}": {t: c.to_json() for t, c in tools_.items()} for (b, n, op), tools_ in cells.items()}
        Path(f"{stem}.json").write_text(json.dumps(data, indent=2, default=str))
        Path(f"{stem}.md").write_text(md)
        print(md)
        log(f"results: {stem}.md, {stem}.json ({results['elapsed_s']:.0f}s)")
        shutil.rmtree(work, ignore_errors=True)
        for s in servers.values():
            s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
