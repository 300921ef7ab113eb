"""Adopting real MySQL and MariaDB databases: shapes cut down from published schemas (sakila, MediaWiki's
``tables.sql``, WordPress-era MyISAM habits), each loaded with the engine's own ``mysql``/``mariadb`` client,
adopted through the CLI as a newcomer does it (``init`` without models → ``snapshot`` → ``generate-models`` →
``baseline``), and judged by ``mysqldump``/``mariadb-dump --no-data --routines --triggers --events`` of the
original and of a fresh database built from the generated models."""

from __future__ import annotations

import pytest
from dumps import engine_dump, load_ddl
from projects import ProjectDir
from roundtrip import adopt

from dbwarden_nb.api import Project

SERVERS = ["mysql", "mariadb"]

# shapes both servers load as written
SHAPES: dict[str, str] = {
    "sakila: unsigned AUTO_INCREMENT keys, ENUM/SET, YEAR, ON UPDATE CURRENT_TIMESTAMP, FKs with actions, views": """
        CREATE TABLE language (
          language_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
          name CHAR(20) NOT NULL,
          last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (language_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE actor (
          actor_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
          first_name VARCHAR(45) NOT NULL,
          last_name VARCHAR(45) NOT NULL,
          last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (actor_id),
          KEY idx_actor_last_name (last_name)
        ) ENGINE=InnoDB AUTO_INCREMENT=201 DEFAULT CHARSET=utf8mb4;
        CREATE TABLE film (
          film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
          title VARCHAR(128) NOT NULL,
          description TEXT DEFAULT NULL,
          release_year YEAR DEFAULT NULL,
          language_id TINYINT UNSIGNED NOT NULL,
          original_language_id TINYINT UNSIGNED DEFAULT NULL,
          rental_duration TINYINT UNSIGNED NOT NULL DEFAULT 3,
          rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
          length SMALLINT UNSIGNED DEFAULT NULL,
          rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',
          special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') DEFAULT NULL,
          last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (film_id),
          KEY idx_title (title),
          KEY idx_fk_language_id (language_id),
          KEY idx_fk_original_language_id (original_language_id),
          CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES language (language_id) ON DELETE RESTRICT ON UPDATE CASCADE,
          CONSTRAINT fk_film_language_original FOREIGN KEY (original_language_id) REFERENCES language (language_id) ON DELETE RESTRICT ON UPDATE CASCADE
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE film_actor (
          actor_id SMALLINT UNSIGNED NOT NULL,
          film_id SMALLINT UNSIGNED NOT NULL,
          last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (actor_id, film_id),
          KEY idx_fk_film_id (film_id),
          CONSTRAINT fk_film_actor_actor FOREIGN KEY (actor_id) REFERENCES actor (actor_id) ON DELETE RESTRICT ON UPDATE CASCADE,
          CONSTRAINT fk_film_actor_film FOREIGN KEY (film_id) REFERENCES film (film_id) ON DELETE RESTRICT ON UPDATE CASCADE
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE film_text (
          film_id SMALLINT NOT NULL,
          title VARCHAR(255) NOT NULL,
          description TEXT,
          PRIMARY KEY (film_id),
          FULLTEXT KEY idx_title_description (title, description)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE payment (
          payment_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
          actor_id SMALLINT UNSIGNED DEFAULT NULL,
          amount DECIMAL(5,2) NOT NULL,
          payment_date DATETIME NOT NULL,
          last_update TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (payment_id),
          CONSTRAINT fk_payment_actor FOREIGN KEY (actor_id) REFERENCES actor (actor_id) ON DELETE SET NULL ON UPDATE CASCADE
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE VIEW actor_names AS SELECT a.actor_id, concat(a.first_name, ' ', a.last_name) AS full_name FROM actor a;
        CREATE VIEW film_list AS SELECT f.film_id AS FID, f.title, l.name AS language FROM film f
          JOIN language l ON l.language_id = f.language_id WHERE f.rating <> 'NC-17';
    """,
    "MediaWiki: varbinary titles, binary timestamps with '' defaults, prefix indexes, unsigned keys": """
        CREATE TABLE page (
          page_id INT UNSIGNED AUTO_INCREMENT NOT NULL,
          page_namespace INT NOT NULL,
          page_title VARBINARY(255) NOT NULL,
          page_is_redirect TINYINT UNSIGNED DEFAULT 0 NOT NULL,
          page_random DOUBLE PRECISION UNSIGNED NOT NULL,
          page_touched BINARY(14) NOT NULL,
          page_links_updated VARBINARY(14) DEFAULT NULL,
          page_latest INT UNSIGNED NOT NULL,
          page_len INT UNSIGNED NOT NULL,
          page_content_model VARBINARY(32) DEFAULT NULL,
          page_lang VARBINARY(35) DEFAULT NULL,
          UNIQUE INDEX page_name_title (page_namespace, page_title),
          INDEX page_random (page_random),
          INDEX page_len (page_len),
          INDEX page_redirect_namespace_len (page_is_redirect, page_namespace, page_len),
          PRIMARY KEY(page_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=binary;
        CREATE TABLE user (
          user_id INT UNSIGNED AUTO_INCREMENT NOT NULL,
          user_name VARBINARY(255) DEFAULT '' NOT NULL,
          user_real_name VARBINARY(255) DEFAULT '' NOT NULL,
          user_password TINYBLOB NOT NULL,
          user_email TINYBLOB NOT NULL,
          user_touched BINARY(14) DEFAULT '' NOT NULL,
          user_token BINARY(32) DEFAULT '' NOT NULL,
          user_email_authenticated BINARY(14) DEFAULT NULL,
          user_registration BINARY(14) DEFAULT NULL,
          user_editcount INT UNSIGNED DEFAULT NULL,
          UNIQUE INDEX user_name (user_name),
          INDEX user_email_token (user_token),
          INDEX user_email (user_email(50)),
          PRIMARY KEY(user_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=binary;
        CREATE TABLE categorylinks (
          cl_from INT UNSIGNED DEFAULT 0 NOT NULL,
          cl_to VARBINARY(255) DEFAULT '' NOT NULL,
          cl_sortkey VARBINARY(230) DEFAULT '' NOT NULL,
          cl_sortkey_prefix VARBINARY(255) DEFAULT '' NOT NULL,
          cl_timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          cl_collation VARBINARY(32) DEFAULT '' NOT NULL,
          cl_type ENUM('page', 'subcat', 'file') DEFAULT 'page' NOT NULL,
          INDEX cl_sortkey (cl_to, cl_type, cl_sortkey, cl_from),
          INDEX cl_timestamp (cl_to, cl_timestamp),
          PRIMARY KEY(cl_from, cl_to)
        ) ENGINE=InnoDB DEFAULT CHARSET=binary;
        CREATE TABLE searchindex (
          si_page INT UNSIGNED NOT NULL,
          si_title VARCHAR(255) DEFAULT '' NOT NULL,
          si_text MEDIUMTEXT NOT NULL,
          UNIQUE INDEX si_page (si_page),
          FULLTEXT INDEX si_title (si_title),
          FULLTEXT INDEX si_text (si_text)
        ) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4;
    """,
    "AUTO_INCREMENT inside a composite primary key (InnoDB: first column of its own index; MyISAM: per group)": """
        CREATE TABLE revision_slots (
          slot_revision_id BIGINT UNSIGNED NOT NULL,
          slot_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
          slot_role_id SMALLINT UNSIGNED NOT NULL,
          PRIMARY KEY (slot_revision_id, slot_id),
          KEY slot_id (slot_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE animals (
          grp ENUM('fish','mammal','bird') NOT NULL,
          id MEDIUMINT NOT NULL AUTO_INCREMENT,
          name CHAR(30) NOT NULL,
          PRIMARY KEY (grp, id)
        ) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4;
    """,
    "generated columns, stored and virtual, indexed, one built on another": """
        CREATE TABLE customer (
          id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
          first_name VARCHAR(45) NOT NULL,
          last_name VARCHAR(45) NOT NULL,
          full_name VARCHAR(91) AS (CONCAT(first_name, ' ', last_name)) VIRTUAL,
          name_key VARCHAR(91) AS (LOWER(full_name)) STORED,
          price DECIMAL(10,2) NOT NULL DEFAULT 0,
          qty INT NOT NULL DEFAULT 1,
          total DECIMAL(12,2) GENERATED ALWAYS AS (price * qty) STORED,
          KEY ix_name_key (name_key),
          KEY ix_total (total)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    """,
    "foreign keys: every action, composite, self-referencing, across a prefix-indexed key": """
        CREATE TABLE region (
          country CHAR(2) NOT NULL,
          code VARCHAR(10) NOT NULL,
          parent_country CHAR(2) DEFAULT NULL,
          parent_code VARCHAR(10) DEFAULT NULL,
          PRIMARY KEY (country, code),
          KEY ix_parent (parent_country, parent_code),
          CONSTRAINT fk_region_parent FOREIGN KEY (parent_country, parent_code) REFERENCES region (country, code)
            ON DELETE CASCADE ON UPDATE CASCADE
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE store (
          id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          country CHAR(2),
          code VARCHAR(10),
          manager_id INT UNSIGNED,
          CONSTRAINT fk_store_region FOREIGN KEY (country, code) REFERENCES region (country, code) ON DELETE SET NULL,
          CONSTRAINT fk_store_manager FOREIGN KEY (manager_id) REFERENCES store (id) ON DELETE NO ACTION ON UPDATE NO ACTION
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        CREATE TABLE stock (
          store_id INT UNSIGNED NOT NULL,
          sku VARCHAR(64) NOT NULL,
          note TEXT,
          PRIMARY KEY (store_id, sku),
          KEY ix_note (note(32)),
          CONSTRAINT fk_stock_store FOREIGN KEY (store_id) REFERENCES store (id) ON DELETE RESTRICT ON UPDATE RESTRICT
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    """,
    "WordPress: bigint(20) unsigned keys, prefix lengths, tables without a key, latin1 and per-column collations": """
        CREATE TABLE wp_posts (
          ID bigint(20) unsigned NOT NULL AUTO_INCREMENT,
          post_author bigint(20) unsigned NOT NULL DEFAULT '0',
          post_date datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
          post_content longtext NOT NULL,
          post_title text NOT NULL,
          post_status varchar(20) NOT NULL DEFAULT 'publish',
          post_name varchar(200) NOT NULL DEFAULT '',
          post_parent bigint(20) unsigned NOT NULL DEFAULT '0',
          menu_order int(11) NOT NULL DEFAULT '0',
          guid varchar(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
          comment_count bigint(20) NOT NULL DEFAULT '0',
          PRIMARY KEY (ID),
          KEY post_name (post_name(191)),
          KEY type_status_date (post_status, post_date, ID),
          KEY post_parent (post_parent),
          KEY post_author (post_author DESC)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        CREATE TABLE wp_postmeta (
          meta_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
          post_id bigint(20) unsigned NOT NULL DEFAULT '0',
          meta_key varchar(255) DEFAULT NULL,
          meta_value longtext,
          PRIMARY KEY (meta_id),
          KEY post_id (post_id),
          KEY meta_key (meta_key(191))
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        CREATE TABLE wp_options (
          option_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
          option_name varchar(191) NOT NULL DEFAULT '',
          option_value longtext NOT NULL,
          autoload varchar(20) NOT NULL DEFAULT 'yes',
          PRIMARY KEY (option_id),
          UNIQUE KEY option_name (option_name),
          KEY autoload (autoload)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        CREATE TABLE legacy_log (
          `key` varchar(32) CHARACTER SET latin1 NOT NULL,
          `order` int NOT NULL,
          flag bit(1) NOT NULL DEFAULT b'0',
          ratio float(7,4) DEFAULT NULL,
          amount decimal(19,4) unsigned zerofill DEFAULT NULL,
          modes set('a','b','c') NOT NULL DEFAULT '',
          stamp timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
          note tinytext,
          KEY ix_key_order (`key`, `order`)
        ) ENGINE=MyISAM DEFAULT CHARSET=latin1;
    """,
}


# shapes only one server loads
SERVER_SHAPES: dict[str, dict[str, str]] = {
    "mysql": {
        "MySQL 8+: generated NOT NULL, functional and invisible indexes, JSON defaults, checks, invisible columns": """
            CREATE TABLE account (
              id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
              email VARCHAR(190) NOT NULL,
              prefs JSON DEFAULT (JSON_OBJECT()),
              tags JSON DEFAULT (JSON_ARRAY()),
              price DECIMAL(10,2) NOT NULL DEFAULT 0,
              qty INT NOT NULL DEFAULT 1,
              total DECIMAL(12,2) GENERATED ALWAYS AS (price * qty) STORED NOT NULL,
              secret VARCHAR(20) INVISIBLE,
              KEY ix_email_lower ((lower(email))),
              KEY ix_qty (qty) INVISIBLE,
              CONSTRAINT ck_qty CHECK (qty > 0),
              CONSTRAINT ck_price CHECK (price >= 0) NOT ENFORCED
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='who pays';
        """,
    },
    "mariadb": {
        "MariaDB: sequences feeding defaults, UUID and INET6 types, system versioning, column checks": """
            CREATE SEQUENCE invoice_seq START WITH 1000 INCREMENT BY 10;
            CREATE TABLE invoice (
              id BIGINT NOT NULL DEFAULT NEXTVAL(invoice_seq) PRIMARY KEY,
              token UUID NOT NULL,
              client INET6,
              amount DECIMAL(10,2) CHECK (amount >= 0),
              doc JSON DEFAULT '{}'
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            CREATE TABLE price_history (id INT PRIMARY KEY, price INT) WITH SYSTEM VERSIONING;
        """,
    },
}
SHAPES["triggers, functions and procedures (sakila's)"] = """
    CREATE TABLE film (film_id INT PRIMARY KEY, title VARCHAR(100) NOT NULL, last_update DATETIME);
    CREATE TABLE film_text (film_id INT PRIMARY KEY, title VARCHAR(100));
    DELIMITER ;;
    CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW BEGIN
        INSERT INTO film_text (film_id, title) VALUES (new.film_id, new.title);
      END;;
    CREATE TRIGGER upd_film AFTER UPDATE ON film FOR EACH ROW BEGIN
        IF (old.title != new.title) THEN
            UPDATE film_text SET title = new.title WHERE film_id = old.film_id;
        END IF;
      END;;
    CREATE TRIGGER upd_film_2 AFTER UPDATE ON film FOR EACH ROW FOLLOWS upd_film SET @n = 1;;
    CREATE TRIGGER touch BEFORE UPDATE ON film FOR EACH ROW SET new.last_update = NOW();;
    CREATE FUNCTION inventory_in_stock(p_inventory_id INT) RETURNS tinyint(1) READS SQL DATA
    BEGIN
        DECLARE v_rentals INT;
        SELECT COUNT(*) INTO v_rentals FROM film WHERE film_id = p_inventory_id;
        RETURN v_rentals > 0;
    END;;
    CREATE FUNCTION twice(a INT) RETURNS INT DETERMINISTIC COMMENT 'it''s doubled' RETURN a * 2;;
    CREATE PROCEDURE film_in_stock(IN p_film_id INT, OUT p_film_count INT) READS SQL DATA SQL SECURITY INVOKER
    BEGIN
         SELECT COUNT(*) FROM film WHERE film_id = p_film_id INTO p_film_count;
    END;;
    DELIMITER ;
"""


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(backend name, URL of a fresh database) on each server."""
    return request.param, request.getfixturevalue(f"{request.param}_url")


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_adopting_a_real_shape(shape, server, fresh_url, tmp_path):
    kind, url = server
    adopt(tmp_path / "project", url, kind, SHAPES[shape], fresh_url(url))


@pytest.mark.parametrize(("kind", "shape"), [(k, name) for k, shapes in SERVER_SHAPES.items() for name in shapes],
                         ids=[f"{k}-{name}" for k, shapes in SERVER_SHAPES.items() for name in shapes])
def test_adopting_a_shape_of_one_server(kind, shape, request, fresh_url, tmp_path):
    url = request.getfixturevalue(f"{kind}_url")
    adopt(tmp_path / "project", url, kind, SERVER_SHAPES[kind][shape], fresh_url(url))


FK_ACTIONS = """
    CREATE TABLE parent (id INT PRIMARY KEY);
    CREATE TABLE unspecified (id INT, CONSTRAINT fk_unspecified FOREIGN KEY (id) REFERENCES parent (id));
    CREATE TABLE no_action (id INT, CONSTRAINT fk_no_action FOREIGN KEY (id) REFERENCES parent (id)
                            ON DELETE NO ACTION ON UPDATE NO ACTION);
    CREATE TABLE restrict_ (id INT, CONSTRAINT fk_restrict FOREIGN KEY (id) REFERENCES parent (id)
                            ON DELETE RESTRICT ON UPDATE RESTRICT);
"""
# what each server reports for a key written without an action, with NO ACTION and with RESTRICT: the one it
# reports for an unwritten action is the snapshot's None, the other one is kept as written
WRITTEN_ACTIONS = {"mysql": {"unspecified": None, "no_action": None, "restrict_": "RESTRICT"},
                   "mariadb": {"unspecified": None, "no_action": "NO ACTION", "restrict_": None}}


def test_foreign_key_actions_stay_as_written(server, fresh_url, tmp_path):
    """MariaDB reports RESTRICT for a key written without an action and NO ACTION only when written; MySQL the
    other way round. Each stays what it was by the engine's dump, online and with the models read offline."""
    kind, url = server
    project = adopt(tmp_path / "project", url, kind, FK_ACTIONS, fresh_url(url))
    tables = project.ok("--json", "snapshot", "--out", "json").json()["tables"]
    got = {name: (t["foreign_keys"][0]["on_delete"], t["foreign_keys"][0]["on_update"])
           for name, t in tables.items() if t["foreign_keys"]}
    assert got == {name: (action, action) for name, action in WRITTEN_ACTIONS[kind].items()}
    assert ("ON DELETE NO ACTION ON UPDATE NO ACTION" in engine_dump(url)) is (kind == "mariadb")
    assert ("ON DELETE RESTRICT ON UPDATE RESTRICT" in engine_dump(url)) is (kind == "mysql")
    for cached in (project.root / ".dbwarden").rglob("cache"):  # the models as SQLAlchemy spells them, offline
        for path in cached.iterdir():
            path.unlink()
    offline = Project.load(project.root / "dbwarden.py").database().production_models()
    assert {t.name: (t.foreign_keys[0].on_delete, t.foreign_keys[0].on_update)
            for t in offline.tables.values() if t.foreign_keys} == got


def test_binary_defaults_in_the_servers_spelling(server, fresh_url, tmp_path):
    """MySQL 9 prints the default of a binary-charset column as hex cut at its first NUL byte (``BINARY(14)
    DEFAULT ''`` reads ``0x``, no SQL); MariaDB as an escaped string (``'\\0\\0…'``). Both round-trip."""
    kind, url = server
    project = adopt(tmp_path / "project", url, kind, """
        CREATE TABLE user (user_touched BINARY(14) DEFAULT '' NOT NULL, user_token BINARY(3) DEFAULT 'ab',
                           user_name VARBINARY(255) DEFAULT '' NOT NULL,
                           cl_type ENUM('page', 'subcat', 'file') DEFAULT 'page' NOT NULL) DEFAULT CHARSET=binary;
    """, fresh_url(url))
    columns = project.ok("--json", "snapshot", "--out", "json").json()["tables"]["user"]["columns"]
    expected = {"mysql": {"user_touched": "''", "user_token": "0x6162", "user_name": "''", "cl_type": "'page'"},
                "mariadb": {"user_touched": "'" + "\\0" * 14 + "'", "user_token": "'ab\\0'", "user_name": "''",
                            "cl_type": "'page'"}}[kind]
    assert {c["name"]: c["default"] for c in columns} == expected


def test_what_is_not_managed_is_listed(server, tmp_path):
    """Table grants (and MariaDB's packages): snapshot and generate-models say so, and none of them is dropped
    (triggers, functions, procedures and events are managed)."""
    kind, url = server
    database = url.rsplit("/", 1)[1]  # also the name of the grantee, dropped at the end (users are server-wide)
    try:
        _list_what_is_not_managed(kind, url, database, tmp_path)
    finally:
        load_ddl(url, f"DROP USER IF EXISTS '{database}'@'localhost';")


def _list_what_is_not_managed(kind, url, database, tmp_path):
    load_ddl(url, f"""
        CREATE TABLE film (id INT PRIMARY KEY, title VARCHAR(100), touched DATETIME);
        CREATE TRIGGER film_touch BEFORE UPDATE ON film FOR EACH ROW SET NEW.touched = NOW();
        CREATE TRIGGER film_new BEFORE INSERT ON film FOR EACH ROW SET NEW.touched = NOW();
        CREATE FUNCTION twice(a INT) RETURNS INT DETERMINISTIC RETURN a * 2;
        DELIMITER //
        CREATE PROCEDURE rename_film(IN film_id INT, IN name VARCHAR(100))
        BEGIN
          UPDATE film SET title = name WHERE id = film_id;
        END//
        DELIMITER ;
        CREATE EVENT film_cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM film WHERE title IS NULL;
        CREATE USER '{database}'@'localhost';
        GRANT SELECT, INSERT ON `{database}`.film TO '{database}'@'localhost';
    """)
    if kind == "mariadb":  # a package (Oracle mode) is listed, never read as a function
        load_ddl(url, """
            SET sql_mode=ORACLE;
            DELIMITER $$
            CREATE PACKAGE pkg AS FUNCTION f RETURN INT; END;
            $$
            CREATE PACKAGE BODY pkg AS FUNCTION f RETURN INT AS BEGIN RETURN 1; END; END;
            $$
            DELIMITER ;
        """)
    project = ProjectDir.initialized(tmp_path / "project", url, kind)
    packages = "1 package, 1 package body, " if kind == "mariadb" else ""
    line = f"not managed: {packages}1 table grant (dbwarden does not create or drop them)"
    assert line in project.ok("snapshot").out
    assert line in project.ok("generate-models", "--output", "models").out
    doc = project.ok("--json", "snapshot", "--out", "json").json()
    assert {k: v for k, v in doc["unmanaged"].items() if not k.startswith("package")} == {
        "table grant": [f"'{database}'@'localhost' on film"]}
    assert sorted(key.split("(")[0] for key in doc["objects"]) == [  # int or int(11): the server's spelling
        "event film_cleanup", "function twice", "procedure rename_film", "trigger film_new on film", "trigger film_touch on film"]
    assert project.cli("diff", "--check").code == 0
    project.ok("baseline")
    assert "nothing written" in project.ok("make-migrations", "nothing").out
