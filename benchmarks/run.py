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

import models_gen  # noqa: E402

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
    ("diff_inproc", "diff in-process, models imported"),
    ("mm_noop", "no-op make-migrations"),
    ("generate", "generate-models"),
    ("mm_change", "one-column change → make-migrations"),
]
TIMEOUT = 1800.0


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------------------------


class Failed(Exception):
    pass


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "DBWARDEN_CONFIG")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="200", PYTHONHASHSEED="0")
    return env


def timed(cmd: list[str], cwd: Path, check: bool = True) -> tuple[float, float, str]:
    """Run ``cmd``; (wall seconds, peak RSS MB, stdout). Raises Failed with the last stderr line on error."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=clean_env())
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
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS[name]],
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


# --- one tool through the CLI workflow ------------------------------------------------------------


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

    def reset(state: Path) -> None:
        shutil.rmtree(proj, ignore_errors=True)
        shutil.copytree(state, proj)

    def cmd(*args: str):
        def go():
            wall, rss, _ = timed([*cli, *args], proj)
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
        for k in ("migrate", "diff", "mm_noop", "generate", "mm_change"):
            cells[k].error = "skipped: initial make-migrations failed"
        return False
    shutil.copytree(proj, s1)
    measure(cells["migrate"], fresh_then(s1, "migrate"), warmup, reps)
    if cells["migrate"].error:
        for k in ("diff", "mm_noop", "generate", "mm_change"):
            cells[k].error = "skipped: migrate failed"
        return False
    shutil.copytree(proj, s2)
    measure(cells["diff"], cmd("diff"), warmup, reps)
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
        _, _, out = timed([str(OURS_PY), "-c", code], ROOT)
        if i:
            samples.append(float(out.strip()))
    wall = []
    for i in range(reps + 1):
        w, _, _ = timed([str(OURS_PY), "-c", "import dbwarden_nb"], ROOT)
        w0, _, _ = timed([str(OURS_PY), "-c", "pass"], ROOT)
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
            "sqlalchemy_import_s": statistics.median(r["sa"] for r in runs)}


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
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    import sqlalchemy
    import sqlite3

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
           f"Medians of {results['reps']} runs after {results['warmup']} warm-up run(s); ratio = peer time / "
           "dbwarden_nb time (>1× means dbwarden_nb is faster). Peak RSS is the largest of dbwarden_nb's runs.", "",
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
    out += ["", "## Single measurements", "",
            "| what | value |", "|---|---:|"]
    imp = results.get("import_dbwarden_nb", {})
    if "median_s" in imp:
        out.append(f"| `import dbwarden_nb` (in-process timer) | {imp['median_s'] * 1000:.0f} ms |")
        out.append(f"| `python -c 'import dbwarden_nb'` minus bare `python -c pass` | {imp['process_minus_bare_python_s'] * 1000:.0f} ms |")
    for n, r in results.get("model_import", {}).items():
        out.append(f"| model import, {n} tables (`import bench_models`, SQLAlchemy already imported: "
                   f"{r['sqlalchemy_import_s'] * 1000:.0f} ms) | {r['median_s'] * 1000:.0f} ms |")
    h = results.get("html", {})
    if "median_s" in h:
        out.append(f"| HTML of a {h['tables']}-table snapshot (`_repr_mimebundle_()`) | {h['median_s'] * 1000:.0f} ms, "
                   f"{h['bytes'] / 1e6:.2f} MB |")
    elif h:
        out.append(f"| HTML rendering | failed: {h.get('error')} |")
    out += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    out += [f"| {t} | {v} | {ok} |" for t, v, ok in results["targets"]]
    return "\n".join(out) + "\n"


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
            net = o.median - model_imp if op != "diff_inproc" else o.median
            rows.append((f"{b} {n}: {dict(OPS)[op]} minus model import ({model_imp:.2f} s) < 1 s", f"{net:.2f} s",
                         "yes" if net < 1 else f"no ({net:.1f}×)"))
    peak = max((max(c.rss) for t in cells.values() if (c := t.get("ours")) and c.rss), default=None)
    if peak is not None:
        rows.append(("peak memory < 300 MB", f"{peak:.0f} MB", "yes" if peak < 300 else f"no ({peak / 300:.1f}×)"))
    return rows


# --- main ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="N = 50, 200; PostgreSQL only; 1 warm-up + 3 runs")
    ap.add_argument("--sizes", help="comma-separated table counts (default 50,200,1000,2000)")
    ap.add_argument("--backends", help="comma-separated: postgresql,sqlite,mariadb (default all three)")
    ap.add_argument("--reps", type=int, help="timed runs per operation (default 5, quick 3)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-peers", action="store_true", help="only dbwarden_nb")
    ap.add_argument("--html-tables", type=int, default=2000)
    ap.add_argument("--out", help="results file stem (default: benchmarks/results/<mode>-<timestamp>)")
    args = ap.parse_args()
    mode = "quick" if args.quick else "full"
    sizes = [int(s) for s in (args.sizes or ("50,200" if args.quick else "50,200,1000,2000")).split(",")]
    backends = (args.backends or ("postgresql" if args.quick else "postgresql,sqlite,mariadb")).split(",")
    reps = args.reps or (3 if args.quick else 5)
    warmup = args.warmup

    peers: dict[str, Path | str] = {}
    for name in () if args.no_peers else PEERS:
        try:
            peers[name] = ensure_venv(name)
        except Exception as exc:
            peers[name] = f"failed: {exc}"[:200]
            log(peers[name])

    from servers import server_for

    servers = {}
    for b in backends:
        if b != "sqlite":
            try:
                servers[b] = server_for(b)
                log(f"server: {servers[b].describe()}")
            except Exception as exc:
                log(f"no {b} server ({exc}); skipping {b}")
    backends = [b for b in backends if b == "sqlite" or b in servers]

    work = Path(tempfile.mkdtemp(prefix="dbwarden-bench-"))
    cells: dict[tuple[str, int, str], dict[str, Cell]] = {}
    results: dict = {"mode": mode, "sizes": sizes, "backends": backends, "reps": reps, "warmup": warmup,
                     "machine": machine(servers), "_cells": cells, "peers": {k: str(v) for k, v in peers.items()}}
    t_start = time.perf_counter()
    try:
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
        for backend in backends:
            for n in sizes:
                log(f"== {backend}, {n} tables ({time.perf_counter() - t_start:.0f}s elapsed)")
                ops = {op: {} for op, _ in OPS if op != "version"}
                for op in ops:
                    cells[(backend, n, op)] = ops[op]
                tools = [("ours", [str(OURS_CLI)])]
                if "dbwarden" in peers:
                    tools.append(("dbwarden", [str(peers["dbwarden"].parent / "dbwarden")]
                                  if isinstance(peers["dbwarden"], Path) else None))
                ok_ours = False
                for tool, cli in tools:
                    tc = {op: ops[op].setdefault(tool, Cell()) for op in ops if op != "diff_inproc"}
                    if cli is None:
                        for c in tc.values():
                            c.error = str(peers["dbwarden"])
                        continue
                    target = Target(backend, servers.get(backend), f"bench_{tool}_{os.getpid()}", work)
                    try:
                        log(f"   {tool}: CLI workflow")
                        ok = cli_workflow(tool, cli, target, n, work / f"{backend}-{n}", warmup, reps, tc)
                        if tool == "ours":
                            ok_ours = ok
                            proj = work / f"{backend}-{n}" / "ours" / "proj"
                            log("   ours: in-process diff")
                            ops["diff_inproc"]["ours"] = Cell()
                            if ok:
                                res = inproc(ops["diff_inproc"]["ours"], OURS_PY,
                                             OURS_INPROC.format(warmup=warmup, reps=reps), proj)
                                if res and res.get("exit_code") not in (0, None):
                                    ops["diff_inproc"]["ours"].note = f"exit code {res['exit_code']}"
                            else:
                                ops["diff_inproc"]["ours"].error = "skipped: migrate failed"
                            for name, key, code in (("alembic", "diff_inproc", None), ("sqlacodegen", "generate", None)):
                                if name not in peers:
                                    continue
                                c = ops[key].setdefault(name, Cell())
                                if not isinstance(peers[name], Path):
                                    c.error = str(peers[name])
                                elif not ok:
                                    c.error = "skipped: no migrated database"
                                elif name == "alembic":
                                    log("   alembic compare_metadata")
                                    res = inproc(c, peers[name], ALEMBIC_INPROC.format(
                                        url=target.sa_url, warmup=warmup, reps=reps), proj)
                                    if res:
                                        c.note = f"{res['diffs']} diffs" if res["diffs"] else None
                                        if res["diffs"]:
                                            log(f"   alembic diffs: {res['first']}")
                                else:
                                    log("   sqlacodegen")
                                    exe = str(peers[name].parent / "sqlacodegen")
                                    measure(c, lambda: timed([exe, target.sa_url, "--outfile", "sqlacodegen_out.py"],
                                                             proj)[:2], warmup, reps)
                    finally:
                        try:
                            target.drop()
                        except Exception as exc:
                            log(f"   could not drop {target.name}: {exc}")
                partial = {f"{b}|{n}|{op}": {t: c.to_json() for t, c in tools_.items()} for (b, n, op), tools_ in cells.items()}
                (work / "partial.json").write_text(json.dumps(partial))
        log(f"HTML rendering of a {args.html_tables}-table snapshot …")
        results["html"] = measure_html(args.html_tables, work, warmup, reps)
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
