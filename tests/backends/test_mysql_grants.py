"""MySQL/MariaDB table grants with ``database_config(manage_grants=True)``, on both servers: read in one catalog query
(information_schema.TABLE_PRIVILEGES), generated, created in a fresh database and revoked by a rollback, judged by
the server's own ``SHOW GRANTS FOR 'user'@'host'``; without the option they are listed as not managed. The users
(roles) stay outside: the tests create them and drop them at the end."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from dumps import load_ddl
from projects import ProjectDir

SERVERS = ["mysql", "mariadb"]
MANAGED = "manage_grants=True,"


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param, request.getfixturevalue(f"{request.param}_url")


def _engine(url: str) -> sa.Engine:
    return sa.create_engine("mysql+pymysql://" + url.split("://", 1)[1], poolclass=sa.pool.NullPool)


def _run(url: str, *statements: str) -> list[list[str]]:
    """Each statement's first column (none for a statement that returns no rows)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            results = [conn.execute(sa.text(s)) for s in statements]
            return [[str(r[0]) for r in result] if result.returns_rows else [] for result in results]
    finally:
        engine.dispose()


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.fixture
def users(server) -> Iterator[tuple[str, str]]:
    """Two users, ``grants_reader_<db>@%`` and ``grants_writer_<db>@localhost`` (the servers are shared)."""
    _, url = server
    tag = _database(url)[-8:]
    made = (f"grants_reader_{tag}", f"grants_writer_{tag}")
    _run(url, f"CREATE USER '{made[0]}'@'%'", f"CREATE USER '{made[1]}'@'localhost'")
    try:
        yield made
    finally:
        _run(url, f"DROP USER IF EXISTS '{made[0]}'@'%'", f"DROP USER IF EXISTS '{made[1]}'@'localhost'")


def shown(url: str, user: str, host: str) -> list[str]:
    """``SHOW GRANTS`` for the user, the lines on the database at ``url`` with its name taken out."""
    name = _database(url)
    lines = _run(url, f"SHOW GRANTS FOR '{user}'@'{host}'")[0]
    return sorted(line.replace(f"`{name}`.", "`db`.") for line in lines if f"`{name}`." in line)


def test_table_grants_round_trip_when_managed(server, users, fresh_url, tmp_path):
    """Privileges on a table and a view to two users (one with the grant option) are listed as not managed without
    the option (a column's privileges always are); with it they are read, generated, give no diff, are created in a fresh database (the same SHOW
    GRANTS) and revoked by its rollback, the users kept."""
    kind, url = server
    reader, writer = users
    load_ddl(url, f"""
        CREATE TABLE film (id INT PRIMARY KEY, title VARCHAR(100));
        CREATE VIEW titles AS SELECT title FROM film;
        GRANT SELECT, INSERT ON film TO '{reader}'@'%';
        GRANT UPDATE, DELETE ON film TO '{writer}'@'localhost' WITH GRANT OPTION;
        GRANT SELECT ON titles TO '{reader}'@'%';
        GRANT SELECT (title) ON film TO '{writer}'@'localhost';
    """)
    plain = ProjectDir.initialized(tmp_path / "plain", url, kind)
    doc = plain.ok("--json", "snapshot", "--out", "json").json()
    assert not [o for o in doc.get("objects", {}).values() if o["kind"] == "grant"]
    assert sorted(doc["unmanaged"]["table grant"]) == sorted(
        [f"'{reader}'@'%' on film", f"'{reader}'@'%' on titles", f"'{writer}'@'localhost' on film"])

    project = ProjectDir(tmp_path / "p", url, kind, extra_config=MANAGED)
    doc = project.ok("--json", "snapshot", "--out", "json").json()
    assert {k: o["definition"] for k, o in doc["objects"].items() if o["kind"] == "grant"} == {
        f"grant {reader}@% on film": "INSERT, SELECT", f"grant {reader}@% on titles": "SELECT",
        f"grant {writer}@localhost on film": "DELETE WITH GRANT OPTION, UPDATE WITH GRANT OPTION"}
    assert "table grant" not in doc.get("unmanaged", {})
    assert doc["unmanaged"]["column grant"] == [f"'{writer}'@'localhost' on film"]  # never managed, always listed
    _run(url, f"REVOKE SELECT (title) ON film FROM '{writer}'@'localhost'")  # so SHOW GRANTS compares the rest
    project.ok("generate-models", "--output", "generated")
    config = (project.root / "dbwarden.py").read_text().replace(repr(project.module), "'generated'")
    (project.root / "dbwarden.py").write_text(config)
    assert project.cli("diff", "--check").code == 0

    fresh = fresh_url(url)
    rebuilt = ProjectDir(tmp_path / "rebuilt", fresh, kind, extra_config=MANAGED)
    shutil.copytree(project.root / "generated", rebuilt.root / "generated")
    (rebuilt.root / "dbwarden.py").write_text((rebuilt.root / "dbwarden.py").read_text().replace(
        repr(rebuilt.module), "'generated'"))
    rebuilt.ok("make-migrations", "from generated")
    text = rebuilt.migration_files()[0].read_text()
    assert f"GRANT DELETE, UPDATE ON `film` TO '{writer}'@'localhost' WITH GRANT OPTION;" in text, text
    rebuilt.ok("migrate")
    for user, host in ((reader, "%"), (writer, "localhost")):
        assert shown(fresh, user, host) == shown(url, user, host) != []
    rebuilt.ok("rollback", "--force")
    assert shown(fresh, reader, "%") == shown(fresh, writer, "localhost") == []
    assert _run(fresh, f"SELECT COUNT(*) FROM mysql.user WHERE user IN ('{reader}', '{writer}')") == [["2"]]


MODELS = """
    from dbwarden_nb.entities import Grant

    class Film(Base):
        __tablename__ = "film"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)

    Grant({user!r}, {privileges!r}, table="film", metadata=Base.metadata)
"""


def test_a_changed_grant_is_one_step_and_rolled_back(server, users, tmp_path):
    """A declared grant (the host ``%`` when none is written) is created; new privileges are one operation whose
    rollback restores the old ones by SHOW GRANTS; dropping it is WARN and rolled back too; declared without
    manage_grants, or as ALL PRIVILEGES, it is one error line."""
    kind, url = server
    reader, _ = users
    unmanaged = ProjectDir(tmp_path / "u", url, kind)
    unmanaged.models(MODELS.format(user=reader, privileges="select"))
    refused = unmanaged.cli("make-migrations", "grants")
    assert refused.code != 0 and "manage_grants=True" in refused.err and "Traceback" not in refused.err, refused.err

    project = ProjectDir(tmp_path / "p", url, kind, extra_config=MANAGED)
    project.models(MODELS.format(user=reader, privileges="ALL PRIVILEGES"))
    refused = project.cli("make-migrations", "all")
    assert refused.code != 0 and "name the privileges" in refused.err and "Traceback" not in refused.err, refused.err
    project.models(MODELS.format(user=reader, privileges="select"))
    project.ok("make-migrations", "film")
    project.ok("migrate")
    assert shown(url, reader, "%") == [f"GRANT SELECT ON `db`.`film` TO `{reader}`@`%`"]
    assert project.cli("diff", "--check").code == 0
    project.models(MODELS.format(user=f"{reader}@%", privileges="SELECT, UPDATE WITH GRANT OPTION"))
    out = project.ok("make-migrations", "more").out
    assert "(1 operation(s)" in out and f"replace grant {reader}@% on film" in out, out
    project.ok("migrate")
    after = shown(url, reader, "%")
    assert after == [f"GRANT SELECT, UPDATE ON `db`.`film` TO `{reader}`@`%` WITH GRANT OPTION"], after
    assert project.cli("diff", "--check").code == 0
    project.ok("rollback")
    assert shown(url, reader, "%") == [f"GRANT SELECT ON `db`.`film` TO `{reader}`@`%`"]
    project.ok("migrate")
    project.models(MODELS.split("    Grant(")[0])
    out = project.ok("make-migrations", "no grant").out
    assert "severity WARN" in out and f"drop grant {reader}@% on film" in out, out
    project.ok("migrate", "--force")
    assert shown(url, reader, "%") == []
    project.ok("rollback")
    assert shown(url, reader, "%") == [f"GRANT SELECT, UPDATE ON `db`.`film` TO `{reader}`@`%` WITH GRANT OPTION"]


def test_a_table_dropped_with_its_grant_revokes_it_and_rolls_back(server, users, tmp_path):
    """Dropping a table drops its grant first (the server would keep the privileges of a dropped table, and give
    them to the next table of that name); the rollback creates both again."""
    kind, url = server
    reader, _ = users
    project = ProjectDir(tmp_path / "p", url, kind, extra_config=MANAGED)
    project.models(MODELS.format(user=reader, privileges="SELECT, INSERT"))
    project.ok("make-migrations", "film")
    project.ok("migrate")
    assert shown(url, reader, "%") == [f"GRANT SELECT, INSERT ON `db`.`film` TO `{reader}`@`%`"]
    project.models(MODELS.split("    class Film(")[0])
    project.ok("make-migrations", "no film")
    text = project.migration_files()[-1].read_text()
    upgrade = text.split("-- rollback")[0]
    assert upgrade.index(f"REVOKE INSERT, SELECT ON `film` FROM '{reader}'@'%'") < upgrade.index("DROP TABLE `film`"), text
    project.ok("migrate", "--force")
    assert shown(url, reader, "%") == []
    project.ok("rollback", "--force")
    assert shown(url, reader, "%") == [f"GRANT SELECT, INSERT ON `db`.`film` TO `{reader}`@`%`"]
