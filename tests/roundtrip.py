"""The five round-trip steps of SPEC.md, for any backend, through the real CLI.

1. make-migrations + migrate builds the schema from models (or it exists already, from hand-written DDL);
2. generate-models writes model code from the live database;
3. those generated models give zero operations in diff and make-migrations;
4. make-migrations again with the original models writes nothing;
5. every migration's rollback returns the database to the previous snapshot exactly.
"""

from __future__ import annotations

import shutil
import textwrap

from dumps import assert_same_schema, load_ddl
from projects import ProjectDir

import dbwarden_nb as dw
from dbwarden_nb.schema import Snapshot


def live(project: ProjectDir, config: str = "dbwarden.py") -> Snapshot:
    return dw.project(project.root / config).snapshot()


def generated_config(project: ProjectDir, output: str = "generated") -> str:
    """A second dbwarden config on the same database whose models are the generated ones."""
    text = (project.root / "dbwarden.py").read_text()
    name = f"dbwarden_{output}.py"
    (project.root / name).write_text(text.replace(repr(project.module), repr(output)))
    return name


def check_generated_models(project: ProjectDir, expected: Snapshot, single_file: bool = False) -> str:
    """Steps 2 and 3: generate the models, feed them back, require zero operations. Returns the code."""
    output = "generated_single" if single_file else "generated"
    project.ok("generate-models", "--output", output, *(["--single-file"] if single_file else []))
    config = generated_config(project, output)
    diff = project.cli("--config", config, "diff", "--check")
    assert diff.code == 0, f"generated models differ from the live database:\n{diff.out}{diff.err}"
    made = project.ok("--config", config, "make-migrations", "from generated models", "--dry-run")
    assert "nothing written" in made.out, made.out
    assert dw.project(project.root / config).models() == expected
    folder = project.root / output
    return "\n".join(p.read_text() for p in sorted(folder.glob("*.py")))


def round_trip(project: ProjectDir, versions: list[str]) -> list[Snapshot]:
    """All five steps for a sequence of model sources; returns the snapshot after each migration."""
    snapshots = [live(project)]
    for n, source in enumerate(versions, start=1):
        project.models(textwrap.dedent(source))
        made = project.ok("make-migrations", f"version {n}")
        assert f"{n:04d}_version_{n}.sql" in made.out, made.out
        project.ok("migrate", "--force")
        snapshots.append(live(project))
        models = dw.project(project.root / "dbwarden.py").models()
        if snapshots[-1] != models:
            from dbwarden_nb.differ import diff

            ops = "; ".join(op.describe() for op in diff(snapshots[-1], models, forward_references=True))
            raise AssertionError(f"version {n} did not converge: {ops or 'options differ'}")
        again = project.ok("make-migrations", "again")  # step 4
        assert "nothing written" in again.out, again.out
        check_generated_models(project, snapshots[-1])  # steps 2 and 3
    check_generated_models(project, snapshots[-1], single_file=True)
    for n in range(len(versions), 0, -1):  # step 5
        rollback = project.migration_files()[n - 1].read_text().split("-- rollback", 1)[1]
        project.ok("rollback", "--force")
        after, before = live(project), snapshots[n - 1]
        if "-- dbwarden: irreversible" in rollback:  # marked: only what it names may stay (enum values)
            after, before = after.replace(enums={}), before.replace(enums={})
        assert after == before, f"rollback of version {n} did not restore version {n - 1}"
    return snapshots


def round_trip_from_ddl(project: ProjectDir, statements: list[str]) -> Snapshot:
    """The round trip that starts from a schema made by hand-written DDL, not by our migrations."""
    from dbwarden_nb.backends import get_backend
    from dbwarden_nb.config import sqlalchemy_url

    backend = get_backend(dw.project(project.root / "dbwarden.py").database().backend.name)
    with backend.connect(sqlalchemy_url(project.url)) as conn:
        for sql in statements:
            conn.execute(sql)
    original = live(project)
    assert original.tables, "the hand-written DDL created nothing"
    # the adoption trap (issue 18): a first make-migrations on tables that are there already names the two ways on
    refused = project.cli("make-migrations", "first")
    assert refused.code == 2 and "run 'dbwarden baseline'" in refused.err, refused.err
    project.ok("baseline")
    code = check_generated_models(project, original)
    assert "class Base" in code
    return original


def rebuild_from_generated(project: ProjectDir, fresh: str, output: str = "generated") -> ProjectDir:
    """A fresh database built from the generated models (make-migrations from the empty schema, migrate) equals the
    original by the engine's own dump. Returns the rebuilt database's project."""
    database_type = dw.project(project.root / "dbwarden.py").database().backend.name
    rebuilt = ProjectDir(project.root.parent / f"{project.root.name}_rebuilt", fresh, database_type)
    shutil.copytree(project.root / output, rebuilt.root / output, dirs_exist_ok=True)
    config = (rebuilt.root / "dbwarden.py").read_text().replace(repr(rebuilt.module), repr(output))
    (rebuilt.root / "dbwarden.py").write_text(config)
    rebuilt.ok("make-migrations", "from generated models")
    rebuilt.ok("migrate", "--force")
    again = rebuilt.ok("make-migrations", "again")
    assert "nothing written" in again.out, again.out
    assert_same_schema(project.url, fresh)
    return rebuilt


def adopt(root, url: str, database_type: str, ddl: str, fresh: str) -> ProjectDir:
    """The adoption path of a database made by its engine's own client, through the CLI as a newcomer runs it:
    ``init`` (no models yet) → ``snapshot`` → ``generate-models --output models`` → ``baseline``; then the generated
    models give an empty ``diff --check`` and a no-op ``make-migrations``, and a fresh database built from them
    equals the original by the engine's own dump."""
    load_ddl(url, ddl)
    project = ProjectDir.initialized(root, url, database_type)
    project.ok("snapshot")
    project.ok("generate-models", "--output", "models")
    project.ok("baseline")
    diff = project.cli("diff", "--check")
    assert diff.code == 0, f"the generated models differ from the database:\n{diff.out}{diff.err}"
    again = project.ok("make-migrations", "nothing changed")
    assert "nothing written" in again.out, again.out
    rebuild_from_generated(project, fresh, output="models")
    return project
