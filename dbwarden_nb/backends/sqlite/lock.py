"""SQLite's migration lock: the shared lease lock (a row in ``dbwarden_lock``, ``Backend.lock``). The database is
one file and its writers queue on SQLite's own file lock, so nothing here overrides the base; the module is kept
so every backend package has the same files."""
