"""Files written whole or not at all: a crash or a full disk never leaves half a migration or snapshot."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    data = text.encode("utf-8")  # before anything is written: text that cannot be stored leaves no file behind
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a symbolic link left there would be written through, out of the project
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
