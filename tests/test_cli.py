"""The CLI surface: start-up cost, usage errors, one-line errors, and passwords never shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from projects import ProjectDir

HEAVY = ("sqlalchemy", "psycopg", "pymysql", "IPython", "ipywidgets", "pandas", "clickhouse_connect", "chdb")


@pytest.mark.parametrize("code", ["import dbwarden_nb", "from dbwarden_nb.cli import main; main(['version'])"])
def test_light_imports(code: str) -> None:
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_python_m_and_console_script_agree(tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, "-m", "dbwarden_nb", "version"], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.startswith("dbwarden_nb ")


def test_usage_errors_are_one_line_with_exit_2(tmp_path: Path, sqlite_url: str) -> None:
    project = ProjectDir(tmp_path, sqlite_url)
    for args in (["no-such-command"], ["migrate", "--count", "zero"], ["make-migrations"], ["diff", "--out", "xml"]):
        result = project.cli(*args)
        assert result.code == 2, args
        assert result.err.count("\n") == 1 and "Traceback" not in result.err, (args, result.err)


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, "-m", "dbwarden_nb", "status"], check=False, capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert ran.returncode == 1
    assert ran.stderr.startswith("dbwarden: error: no dbwarden.py found in") and ran.stderr.count("\n") == 1


SECRET = "Zq9-SuperSecret-Pw"


@pytest.mark.parametrize("url", [
    f"postgresql://app:{SECRET}@127.0.0.1:1/shop",
    f"mysql://app:{SECRET}@127.0.0.1:1/shop",
    f"mariadb://app:{SECRET}@127.0.0.1:1/shop?charset=utf8mb4",
])
def test_password_never_appears(tmp_path: Path, url: str) -> None:
    project = ProjectDir(tmp_path, url, database_type=url.split(":")[0])
    project.models("""
        class T(Base):
            __tablename__ = "t"
            id: Mapped[int] = mapped_column(primary_key=True)
        """)
    seen = []
    for args in (["config"], ["--json", "config"], ["status"], ["diff"], ["migrate"], ["snapshot"], ["-v", "config"],
                 ["make-migrations", "x"], ["lock-status"], ["--json", "status"]):
        result = project.cli(*args)
        seen.append((args, result.code))
        assert SECRET not in result.out + result.err, args
        if args[-1] != "config":
            assert result.code != 0 and result.err.count("\n") == 1, (args, result.err)
    assert ("config", 0) in [(a[-1], c) for a, c in seen]
