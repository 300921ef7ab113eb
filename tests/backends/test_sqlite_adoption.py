"""Adopting real SQLite databases: shapes cut down from published schemas (Chinook, a Django project's
``db.sqlite3``, the schema of a browser's history file), each loaded with the sqlite3 library (SQLite keeps the
text as written), adopted through the CLI as a newcomer does it (``init`` without models → ``snapshot`` →
``generate-models`` → ``baseline``), and judged by ``sqlite_master`` of the original and of a fresh database
built from the generated models."""

from __future__ import annotations

import pytest
from dumps import load_ddl
from projects import ProjectDir
from roundtrip import adopt

SHAPES: dict[str, str] = {
    "Chinook: integer keys, composite keys, foreign keys with actions, indexes": """
        CREATE TABLE Artist (ArtistId INTEGER NOT NULL, Name NVARCHAR(120), CONSTRAINT PK_Artist PRIMARY KEY (ArtistId));
        CREATE TABLE Album (
            AlbumId INTEGER NOT NULL, Title NVARCHAR(160) NOT NULL, ArtistId INTEGER NOT NULL,
            CONSTRAINT PK_Album PRIMARY KEY (AlbumId),
            FOREIGN KEY (ArtistId) REFERENCES Artist (ArtistId) ON DELETE NO ACTION ON UPDATE NO ACTION);
        CREATE TABLE Playlist (PlaylistId INTEGER NOT NULL, Name NVARCHAR(120), CONSTRAINT PK_Playlist PRIMARY KEY (PlaylistId));
        CREATE TABLE Track (
            TrackId INTEGER NOT NULL, Name NVARCHAR(200) NOT NULL, AlbumId INTEGER, Milliseconds INTEGER NOT NULL,
            UnitPrice NUMERIC(10,2) NOT NULL DEFAULT 0.99,
            CONSTRAINT PK_Track PRIMARY KEY (TrackId),
            FOREIGN KEY (AlbumId) REFERENCES Album (AlbumId) ON DELETE SET NULL ON UPDATE CASCADE);
        CREATE TABLE PlaylistTrack (
            PlaylistId INTEGER NOT NULL, TrackId INTEGER NOT NULL,
            CONSTRAINT PK_PlaylistTrack PRIMARY KEY (PlaylistId, TrackId),
            FOREIGN KEY (PlaylistId) REFERENCES Playlist (PlaylistId) ON DELETE CASCADE,
            FOREIGN KEY (TrackId) REFERENCES Track (TrackId) ON DELETE RESTRICT);
        CREATE INDEX IFK_AlbumArtistId ON Album (ArtistId);
        CREATE INDEX IFK_TrackAlbumId ON Track (AlbumId);
        CREATE UNIQUE INDEX IX_TrackName ON Track (AlbumId, Name);
    """,
    "Django: AUTOINCREMENT keys, unique and check constraints, a partial and an expression index": """
        CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL,
            "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE,
            "email" varchar(254) NOT NULL, "is_active" bool NOT NULL DEFAULT 1,
            "date_joined" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
            "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL,
            CONSTRAINT "django_content_type_app_label_model_76bd3d3b_uniq" UNIQUE ("app_label", "model"));
        CREATE TABLE "django_admin_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
            "action_time" datetime NOT NULL, "object_id" text NULL, "object_repr" varchar(200) NOT NULL,
            "change_message" text NOT NULL,
            "content_type_id" integer NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED,
            "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
            "action_flag" smallint unsigned NOT NULL CHECK ("action_flag" >= 0));
        CREATE INDEX "django_admin_log_content_type_id_c4bce8eb" ON "django_admin_log" ("content_type_id");
        CREATE INDEX "django_admin_log_user_id_c564eba6" ON "django_admin_log" ("user_id");
        CREATE INDEX "auth_user_active_email" ON "auth_user" ("email") WHERE "is_active";
        CREATE INDEX "auth_user_lower_email" ON "auth_user" (lower("email"));
    """,
    "browser history: WITHOUT ROWID tables, generated columns, views over views": """
        CREATE TABLE origins (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, host TEXT NOT NULL,
            frecency INTEGER NOT NULL DEFAULT -1, UNIQUE (prefix, host));
        CREATE TABLE places (id INTEGER PRIMARY KEY, url TEXT NOT NULL, title TEXT, visit_count INTEGER DEFAULT 0,
            origin_id INTEGER REFERENCES origins (id), url_hash INTEGER GENERATED ALWAYS AS (length(url)) VIRTUAL,
            title_key TEXT GENERATED ALWAYS AS (lower(title)) STORED);
        CREATE TABLE keywords (keyword TEXT NOT NULL, place_id INTEGER NOT NULL, post_data TEXT,
            PRIMARY KEY (keyword, place_id)) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;
        CREATE INDEX places_url_hash ON places (url_hash);
        CREATE INDEX places_visited ON places (visit_count DESC) WHERE visit_count > 0;
        CREATE VIEW visited AS SELECT id, url, title FROM places WHERE visit_count > 0;
        CREATE VIEW visited_titles AS SELECT title FROM visited WHERE title IS NOT NULL;
    """,
    "a STRICT app database: case-insensitive collations, named checks, expression and partial unique indexes": """
        CREATE TABLE account (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL COLLATE NOCASE,
            plan TEXT NOT NULL DEFAULT 'free' CONSTRAINT ck_plan CHECK (plan IN ('free', 'pro')),
            balance REAL NOT NULL DEFAULT 0.0, deleted_at TEXT, data BLOB) STRICT;
        CREATE TABLE session (token TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
            expires INTEGER NOT NULL, CONSTRAINT ck_expires CHECK (expires > 0)) STRICT, WITHOUT ROWID;
        CREATE UNIQUE INDEX account_email_live ON account (email COLLATE NOCASE) WHERE deleted_at IS NULL;
        CREATE INDEX session_expiry ON session (account_id, expires DESC);
        CREATE INDEX account_domain ON account (substr(email, instr(email, '@') + 1));
    """,
    "triggers (the 30 of sakila on SQLite: timestamps kept, rows logged), one with a quoted name": """
        CREATE TABLE film (id INTEGER PRIMARY KEY, title TEXT NOT NULL, last_update TIMESTAMP);
        CREATE TABLE film_log (film_id INTEGER, what TEXT, at TIMESTAMP);
        CREATE TRIGGER film_touch AFTER UPDATE ON film FOR EACH ROW
        BEGIN
            UPDATE film SET last_update = CURRENT_TIMESTAMP WHERE id = NEW.id;
        END;
        CREATE TRIGGER "film logged" AFTER INSERT ON film WHEN NEW.title <> ''
        BEGIN INSERT INTO film_log VALUES (NEW.id, 'insert', CURRENT_TIMESTAMP); END;
        CREATE VIEW titles AS SELECT id, title FROM film;
        CREATE TRIGGER titles_insert INSTEAD OF INSERT ON titles BEGIN INSERT INTO film (title) VALUES (NEW.title); END;
    """,
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_adopting_a_real_shape(shape, sqlite_url, fresh_url, tmp_path):
    adopt(tmp_path / "project", sqlite_url, "sqlite", SHAPES[shape], fresh_url(sqlite_url))


def test_what_is_not_managed_is_listed(sqlite_url, tmp_path):
    """Virtual tables (with the shadow tables SQLite keeps for them) are listed, never modelled, and never dropped;
    triggers are managed."""
    load_ddl(sqlite_url, """
        CREATE TABLE film (id INTEGER PRIMARY KEY, title TEXT, touched DATETIME);
        CREATE TABLE film_log (film_id INTEGER, at DATETIME);
        CREATE TRIGGER film_touch AFTER UPDATE ON film BEGIN UPDATE film SET touched = CURRENT_TIMESTAMP WHERE id = NEW.id; END;
        CREATE TRIGGER film_logged AFTER INSERT ON film BEGIN INSERT INTO film_log VALUES (NEW.id, CURRENT_TIMESTAMP); END;
        CREATE VIRTUAL TABLE film_text USING fts5(title, description);
    """)
    project = ProjectDir.initialized(tmp_path / "project", sqlite_url, "sqlite")
    line = "not managed: 1 virtual table (dbwarden does not create or drop them)"
    assert line in project.ok("snapshot").out
    assert line in project.ok("generate-models", "--output", "models").out
    doc = project.ok("--json", "snapshot", "--out", "json").json()
    assert doc["unmanaged"] == {"virtual table": ["film_text"]}
    assert sorted(doc["objects"]) == ["trigger film_logged on film", "trigger film_touch on film"]
    assert set(doc["tables"]) == {"film", "film_log"}  # neither the virtual table nor its shadow tables
    assert project.cli("diff", "--check").code == 0
    project.ok("baseline")
    assert "nothing written" in project.ok("make-migrations", "nothing").out


def test_a_rebuild_keeps_the_triggers_of_its_table(sqlite_url, tmp_path):
    """A change ALTER TABLE cannot make rebuilds the table, which drops its triggers: they are created again after
    the rebuild, and after its rollback; the rows and what the trigger does are there after both."""
    import sqlite3

    from projects import ProjectDir

    head = """
    from dbwarden_nb.entities import Trigger

    class Film(Base):
        __tablename__ = "film"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(sa.String(50){check})
        stamp: Mapped[str | None]

    Trigger("film_stamp", "AFTER INSERT ON film BEGIN UPDATE film SET stamp = 'set' WHERE id = NEW.id; END",
            table="film", metadata=Base.metadata)
    """
    project = ProjectDir(tmp_path / "p", sqlite_url, "sqlite")
    project.models(head.format(check=""))
    project.ok("make-migrations", "film")
    project.ok("migrate")
    path = sqlite_url.removeprefix("sqlite:///")

    def insert_and_read(n: int) -> list[tuple]:
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO film (id, title) VALUES (?, 'x')", (n,))
            return conn.execute("SELECT id, stamp FROM film ORDER BY id").fetchall()

    assert insert_and_read(1) == [(1, "set")]
    project.models(head.format(check=", sa.CheckConstraint(\"title <> ''\")"))
    project.ok("make-migrations", "checked")
    text = project.migration_files()[-1].read_text()
    upgrade = text.split("-- upgrade\n")[1].split("-- rollback")[0]
    assert upgrade.index('DROP TRIGGER "film_stamp"') < upgrade.index("DROP TABLE") < upgrade.index('CREATE TRIGGER "film_stamp"'), text
    project.ok("migrate", "--force")
    assert insert_and_read(2) == [(1, "set"), (2, "set")]
    project.ok("rollback", "--force")
    assert insert_and_read(3) == [(1, "set"), (2, "set"), (3, "set")]
    assert project.cli("diff", "--check").code == 2  # the models have the check, the database no longer
