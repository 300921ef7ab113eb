"""Files parsed once per content: migration files and stored snapshots, cached under ``.dbwarden/<db>/cache/``.

Every ``make-migrations`` reads the whole chain of migration files (the statement splitter is pure Python:
0.27 s for a 2,000-table file) and the latest stored snapshot (JSON: 0.20 s at 2,000 tables); unpickling the
parsed objects takes a few milliseconds. An entry is found under the SHA-256 of the file's bytes, its path (it
is named in errors and kept in the result) and the source of the modules whose code parses it and defines the
result's classes, so an edited file or an upgraded parser is simply another key: an entry is never stale.
Each path keeps one entry (the one of its current content). A file that does not parse is never cached: its
error is raised on every read, as before. Like the model cache, an entry is a pickle that lives in the project.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
FORMAT = "dbwarden-parsed/1"


@cache
def _code(modules: tuple[str, ...]) -> str:
    """The SHA-256 of the source of ``modules`` (imported already: they parse the file)."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(Path(sys.modules[name].__file__ or "").read_bytes())
    return digest.hexdigest()


def parsed(folder: Path | None, kind: str, path: str, data: bytes, parse: Callable[[], T], modules: tuple[str, ...]) -> T:
    """``parse()`` of file ``path`` whose content is ``data``, from ``folder`` when it was parsed before (None: no cache)."""
    if folder is None:
        return parse()
    named = hashlib.sha256(f"{kind}\0{path}".encode()).hexdigest()[:16]
    key = hashlib.sha256(b"\0".join([FORMAT.encode(), _code(modules).encode(), path.encode(), data])).hexdigest()[:32]
    entry = folder / f"{kind}-{named}-{key}.pickle"
    paused = gc.isenabled()
    gc.disable()  # tens of thousands of acyclic objects: collections on the way would only slow the load down
    try:
        with open(entry, "rb") as f:
            return pickle.load(f)
    except Exception:  # noqa: BLE001, S110  missing, cut short, or from other classes: parse it
        pass
    finally:
        if paused:
            gc.enable()
    result = parse()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{kind}-{named}-*.pickle"):  # earlier contents of this path
            stale.unlink(missing_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(entry)
    except OSError:  # a read-only project: parsed each time, as without the cache
        pass
    return result
