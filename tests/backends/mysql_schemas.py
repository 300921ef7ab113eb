"""Model versions for the MySQL and MariaDB round trips (tests/backends/test_{mysql,mariadb}_roundtrip.py).

``COMMON`` runs on both servers; ``MYSQL_ONLY`` / ``MARIADB_ONLY`` use what only one server has. Each entry
is a list of model sources applied in turn (make-migrations + migrate), then rolled back one by one.
"""

from __future__ import annotations

import textwrap

COMMON: dict[str, list[str]] = {
    "types, defaults, unsigned, zerofill, on update": ["""
        from sqlalchemy.dialects import mysql

        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(mysql.INTEGER(unsigned=True), primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(20), server_default="new")
            quote: Mapped[str | None] = mapped_column(sa.String(20), server_default="it's a \\\\ back")
            qty: Mapped[int] = mapped_column(sa.SmallInteger, server_default=sa.text("0"))
            serial: Mapped[int | None] = mapped_column(mysql.INTEGER(zerofill=True, unsigned=True))
            small: Mapped[int | None] = mapped_column(mysql.SMALLINT(display_width=4, zerofill=True))
            tiny: Mapped[int | None] = mapped_column(mysql.TINYINT(unsigned=True), server_default=sa.text("7"))
            medium: Mapped[int | None] = mapped_column(mysql.MEDIUMINT)
            big: Mapped[int | None] = mapped_column(mysql.BIGINT(unsigned=True))
            price: Mapped[float] = mapped_column(sa.Numeric(12, 3), server_default=sa.text("-1.5"))
            ratio: Mapped[float | None] = mapped_column(sa.Float)
            exact: Mapped[float | None] = mapped_column(sa.Double, server_default=sa.text("2.5"))
            flag: Mapped[bool] = mapped_column(server_default=sa.true())
            born: Mapped[str | None] = mapped_column(sa.Date)
            at: Mapped[str | None] = mapped_column(sa.DateTime, server_default=sa.func.now())
            changed: Mapped[str | None] = mapped_column(mysql.TIMESTAMP(fsp=3), server_default=sa.text("CURRENT_TIMESTAMP(3)"),
                                                        server_onupdate=sa.text("CURRENT_TIMESTAMP(3)"))
            touched: Mapped[str | None] = mapped_column(mysql.DATETIME, server_default=sa.text("CURRENT_TIMESTAMP"),
                                                        server_onupdate=sa.text("CURRENT_TIMESTAMP"))
            dur: Mapped[str | None] = mapped_column(mysql.TIME(fsp=2))
            blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
            raw: Mapped[bytes | None] = mapped_column(sa.VARBINARY(16))
            fixed: Mapped[bytes | None] = mapped_column(sa.BINARY(4))
            big_text: Mapped[str | None] = mapped_column(mysql.LONGTEXT)
            med_text: Mapped[str | None] = mapped_column(mysql.MEDIUMTEXT)
            tiny_text: Mapped[str | None] = mapped_column(mysql.TINYTEXT)
            letter: Mapped[str | None] = mapped_column(sa.CHAR(2), server_default="")
            latin: Mapped[str | None] = mapped_column(mysql.VARCHAR(30, charset="latin1"))
            binary_coll: Mapped[str | None] = mapped_column(sa.String(30, collation="utf8mb4_bin"))
            fraction: Mapped[float | None] = mapped_column(mysql.DECIMAL(8, 2, unsigned=True))
        """, """
        from sqlalchemy.dialects import mysql

        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(mysql.BIGINT(unsigned=True), primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(40), server_default="old")
            qty: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("1"))
            price: Mapped[float] = mapped_column(sa.Numeric(14, 3), nullable=True)
            flag: Mapped[bool] = mapped_column(server_default=sa.false())
            changed: Mapped[str | None] = mapped_column(mysql.TIMESTAMP(fsp=3), server_default=sa.text("CURRENT_TIMESTAMP(3)"))
            latin: Mapped[str | None] = mapped_column(sa.String(30, collation="latin1_bin"))
            binary_coll: Mapped[str | None] = mapped_column(sa.String(30))
            note: Mapped[str | None] = mapped_column(sa.Text, server_default=sa.text("('it''s')"))
        """],
    "enum, set, bit, year, json, spatial": ["""
        from sqlalchemy.dialects import mysql

        class Thing(Base):
            __tablename__ = "things"
            id: Mapped[int] = mapped_column(primary_key=True)
            mood: Mapped[str] = mapped_column(mysql.ENUM("happy", "sad", "it's ok"), server_default="sad")
            size: Mapped[str | None] = mapped_column(sa.Enum("S", "M", "L", name="size"))
            tags: Mapped[set | None] = mapped_column(mysql.SET("red", "green", "blue"), server_default="red,blue")
            bits: Mapped[int | None] = mapped_column(mysql.BIT(5), server_default=sa.text("b'101'"))
            one_bit: Mapped[int | None] = mapped_column(mysql.BIT)
            made: Mapped[int | None] = mapped_column(mysql.YEAR, server_default=sa.text("2001"))
            doc: Mapped[dict | None] = mapped_column(sa.JSON)
            place: Mapped[bytes | None] = mapped_column(POINT())
        """, """
        from sqlalchemy.dialects import mysql

        class Thing(Base):
            __tablename__ = "things"
            id: Mapped[int] = mapped_column(primary_key=True)
            mood: Mapped[str] = mapped_column(mysql.ENUM("happy", "sad", "it's ok", "ecstatic"), server_default="happy")
            tags: Mapped[set | None] = mapped_column(mysql.SET("red", "green"))
            bits: Mapped[int | None] = mapped_column(mysql.BIT(8))
            made: Mapped[int | None] = mapped_column(mysql.YEAR)
            doc: Mapped[dict] = mapped_column(sa.JSON)
        """],
    "generated columns and invisible columns": ["""
        class Box(Base):
            __tablename__ = "boxes"
            id: Mapped[int] = mapped_column(primary_key=True)
            w: Mapped[int]
            h: Mapped[int]
            area: Mapped[int | None] = mapped_column(sa.Computed("w * h"))
            label: Mapped[str | None] = mapped_column(sa.String(40), sa.Computed("concat('box ', w, 'x', h)", persisted=True))
            secret: Mapped[str | None] = mapped_column(sa.String(10), info={"dbwarden": {"invisible": True}})
        """, """
        class Box(Base):
            __tablename__ = "boxes"
            id: Mapped[int] = mapped_column(primary_key=True)
            w: Mapped[int]
            h: Mapped[int]
            area: Mapped[int | None] = mapped_column(sa.Computed("w * h * 2", persisted=True))
            label: Mapped[str | None] = mapped_column(sa.String(40), sa.Computed("concat('box ', w)", persisted=False))
            secret: Mapped[str | None] = mapped_column(sa.String(10))
        """],
    "table options and comments": ["""
        class Log(Base):
            __tablename__ = "logs"
            __table_args__ = {"mysql_engine": "InnoDB", "mysql_charset": "latin1", "mysql_collate": "latin1_bin",
                              "mysql_row_format": "COMPRESSED", "mysql_auto_increment": "1000", "mysql_key_block_size": "8",
                              "comment": "the log, it's big"}
            id: Mapped[int] = mapped_column(primary_key=True, comment="the key")
            line: Mapped[str] = mapped_column(sa.String(200))
            utf: Mapped[str | None] = mapped_column(sa.String(20, collation="utf8mb4_bin"), comment="in utf8mb4")

        class Plain(Base):
            __tablename__ = "plain"
            __table_args__ = {"mysql_engine": "MyISAM"}
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str | None] = mapped_column(sa.String(20))
        """, """
        class Log(Base):
            __tablename__ = "logs"
            __table_args__ = {"mysql_collate": "utf8mb4_unicode_ci", "mysql_row_format": "DYNAMIC",
                              "mysql_auto_increment": "5000", "comment": "the log"}
            id: Mapped[int] = mapped_column(primary_key=True, comment="the primary key")
            line: Mapped[str] = mapped_column(sa.String(200))
            utf: Mapped[str | None] = mapped_column(sa.String(20, collation="utf8mb4_bin"))

        class Plain(Base):
            __tablename__ = "plain"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str | None] = mapped_column(sa.String(20))
        """],
    "checks and foreign keys": ["""
        class Room(Base):
            __tablename__ = "rooms"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(10), unique=True)
            floor: Mapped[int] = mapped_column(server_default=sa.text("1"))
            __table_args__ = (sa.UniqueConstraint("floor", "code", name="uq_floor_code"),)

        class Booking(Base):
            __tablename__ = "bookings"
            __table_args__ = (
                sa.CheckConstraint("seats > 0", name="ck_seats"),
                sa.CheckConstraint("note <> 'it''s'", name="ck_note"),
                sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name="fk_room", ondelete="CASCADE", onupdate="SET NULL"),
                sa.ForeignKeyConstraint(["floor", "room_code"], ["rooms.floor", "rooms.code"], name="fk_floor_code",
                                        ondelete="RESTRICT"),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            room_id: Mapped[int | None]
            floor: Mapped[int | None]
            room_code: Mapped[str | None] = mapped_column(sa.String(10))
            parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id"))
            seats: Mapped[int]
            note: Mapped[str | None] = mapped_column(sa.String(50))
        """, """
        class Room(Base):
            __tablename__ = "rooms"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(10), unique=True)
            floor: Mapped[int] = mapped_column(server_default=sa.text("1"))

        class Booking(Base):
            __tablename__ = "bookings"
            __table_args__ = (
                sa.CheckConstraint("seats > 1", name="ck_seats"),
                sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name="fk_room"),
                sa.Index("ix_room", "room_id", "seats"),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            room_id: Mapped[int | None]
            floor: Mapped[int | None]
            room_code: Mapped[str | None] = mapped_column(sa.String(10))
            parent_id: Mapped[int | None]
            seats: Mapped[int]
        """],
    "indexes": ["""
        from sqlalchemy.dialects import mysql

        class Doc(Base):
            __tablename__ = "docs"
            __table_args__ = (
                sa.Index("ix_title_prefix", "title", mysql_length=10),
                sa.Index("ix_two", "author", "slug", mysql_length={"slug": 5}),
                sa.Index("ix_body", "body", mysql_prefix="FULLTEXT"),
                sa.Index("ix_ordering", sa.desc("created"), "author"),
                sa.Index("ix_slug", "slug", unique=True),
                sa.Index("ix_place", "place", mysql_prefix="SPATIAL"),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.String(200))
            slug: Mapped[str | None] = mapped_column(sa.String(100))
            author: Mapped[int | None] = mapped_column(index=True)
            created: Mapped[str | None] = mapped_column(sa.DateTime)
            body: Mapped[str | None] = mapped_column(sa.Text)
            place: Mapped[bytes] = mapped_column(POINT(), nullable=False)
        """, """
        class Doc(Base):
            __tablename__ = "docs"
            __table_args__ = (
                sa.Index("ix_title_prefix", "title", mysql_length=20),
                sa.Index("ix_body", "title", "body", mysql_prefix="FULLTEXT"),
                sa.Index("ix_ordering", "created", sa.desc("author")),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.String(200))
            slug: Mapped[str | None] = mapped_column(sa.String(100))
            author: Mapped[int | None]
            created: Mapped[str | None] = mapped_column(sa.DateTime)
            body: Mapped[str | None] = mapped_column(sa.Text)
        """],
    "partitions": ["""
        ranged = sa.Table("ranged", Base.metadata,
                          sa.Column("id", sa.Integer, nullable=False), sa.Column("y", sa.Integer, nullable=False),
                          sa.PrimaryKeyConstraint("id", "y"), mysql_partition_by="RANGE (y)",
                          info={"dbwarden": {"partition_definitions":
                                             "PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE"}})
        listed = sa.Table("listed", Base.metadata,
                          sa.Column("id", sa.Integer, nullable=False), sa.Column("region", sa.Integer, nullable=False),
                          sa.PrimaryKeyConstraint("id", "region"), mysql_partition_by="LIST (region)",
                          info={"dbwarden": {"partition_definitions":
                                             "PARTITION east VALUES IN (1, 2), PARTITION west VALUES IN (3, 4)"}})
        hashed = sa.Table("hashed", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
                          mysql_partition_by="HASH (id)", mysql_partitions="4")
        keyed = sa.Table("keyed", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
                         mysql_partition_by="KEY (id)", mysql_partitions="2")
        """, """
        ranged = sa.Table("ranged", Base.metadata,
                          sa.Column("id", sa.Integer, nullable=False), sa.Column("y", sa.Integer, nullable=False),
                          sa.PrimaryKeyConstraint("id", "y"), mysql_partition_by="RANGE (y)",
                          info={"dbwarden": {"partition_definitions":
                                             "PARTITION p0 VALUES LESS THAN (1990), PARTITION p1 VALUES LESS THAN (2020), "
                                             "PARTITION p2 VALUES LESS THAN MAXVALUE"}})
        listed = sa.Table("listed", Base.metadata,
                          sa.Column("id", sa.Integer, nullable=False), sa.Column("region", sa.Integer, nullable=False),
                          sa.PrimaryKeyConstraint("id", "region"))
        hashed = sa.Table("hashed", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
                          mysql_partition_by="HASH (id)", mysql_partitions="6")
        keyed = sa.Table("keyed", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
                         mysql_partition_by="KEY (id)", mysql_partitions="2")
        """],
    "auto increment, composite keys, views, odd names": ['''
        from sqlalchemy.dialects import mysql

        class Line(Base):
            __tablename__ = "Order Lines"
            n: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
            order_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
            select_: Mapped[str | None] = mapped_column("select", sa.String(30), server_default="O'Reilly -- </script>")
            odd: Mapped[str | None] = mapped_column('we"ird `col', sa.Text, comment="it's <b>bold</b>")
            __table_args__ = (sa.Index('ix "quoted"', "select"), sa.CheckConstraint("`select` <> '--;'", name="ck; drop"))

        class Plain(Base):
            __tablename__ = "plain"
            id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
            counter: Mapped[int] = mapped_column(autoincrement=True, unique=True)

        lines = sa.Table("big_lines", Base.metadata,
                         info={"dbwarden": {"view": "SELECT order_id, n FROM `Order Lines` WHERE n > 10"}})
        plain_view = sa.Table("plain_ids", Base.metadata,
                              info={"dbwarden": {"view": "SELECT id FROM plain", "check_option": "CASCADED"}})
        ''', '''
        class Line(Base):
            __tablename__ = "Order Lines"
            order_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
            n: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
            select_: Mapped[str | None] = mapped_column("select", sa.String(30))

        class Plain(Base):
            __tablename__ = "plain"
            id: Mapped[int] = mapped_column(primary_key=True)
            counter: Mapped[int]

        lines = sa.Table("big_lines", Base.metadata,
                         info={"dbwarden": {"view": "SELECT order_id FROM `Order Lines` WHERE n > 20", "security": "INVOKER"}})
        '''],
}

MYSQL_ONLY: dict[str, list[str]] = {
    "functional and invisible indexes, srid, not enforced checks": ["""
        class Person(Base):
            __tablename__ = "people"
            __table_args__ = (
                sa.Index("ix_lower_name", sa.func.lower(sa.column("name")), "id"),
                sa.Index("ix_hidden", "age", info={"dbwarden": {"invisible": True}}),
                sa.Index("ix_where", "home", mysql_prefix="SPATIAL"),
                sa.CheckConstraint("age < 200", name="ck_age", info={"dbwarden": {"not_enforced": True}}),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(50))
            age: Mapped[int | None] = mapped_column(sa.CheckConstraint("age >= 0"))
            home: Mapped[bytes] = mapped_column(GEOMETRY(), info={"dbwarden": {"srid": 4326}})
        """, """
        class Person(Base):
            __tablename__ = "people"
            __table_args__ = (
                sa.Index("ix_lower_name", sa.func.upper(sa.column("name"))),
                sa.Index("ix_hidden", "age"),
                sa.CheckConstraint("age < 150", name="ck_age"),
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(50))
            age: Mapped[int | None]
            home: Mapped[bytes] = mapped_column(GEOMETRY())
        """],
}

MARIADB_ONLY: dict[str, list[str]] = {
    "sequences, system versioning, ignored indexes, column checks": ["""
        ticket = sa.Sequence("ticket_seq", start=500, increment=5, metadata=Base.metadata)

        class Person(Base):
            __tablename__ = "people"
            __table_args__ = (
                sa.Index("ix_ignored", "age", info={"dbwarden": {"ignored": True}}),
                sa.Index("ix_desc", sa.desc("name")),
                {"info": {"dbwarden": {"system_versioning": True}}},
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(50))
            age: Mapped[int | None] = mapped_column(sa.CheckConstraint("age >= 0"))
            ticket: Mapped[int | None] = mapped_column(sa.BigInteger, server_default=sa.text("nextval(ticket_seq)"))
            uid: Mapped[str | None] = mapped_column(sa.Uuid)
            home: Mapped[bytes | None] = mapped_column(GEOMETRY())
        """, """
        ticket = sa.Sequence("ticket_seq", start=500, increment=5, metadata=Base.metadata)
        other = sa.Sequence("other_seq", start=-1, increment=-1, cycle=True, metadata=Base.metadata)

        class Person(Base):
            __tablename__ = "people"
            __table_args__ = (sa.Index("ix_ignored", "age"),)
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(sa.String(50))
            age: Mapped[int | None] = mapped_column(sa.CheckConstraint("age >= 1"))
            ticket: Mapped[int | None] = mapped_column(sa.BigInteger)
            uid: Mapped[str | None] = mapped_column(sa.Uuid)
            home: Mapped[bytes | None] = mapped_column(GEOMETRY())
        """],
}

# Spatial types: SQLAlchemy has no MySQL geometry types; a user type that prints the server's name.
SPATIAL_TYPES = '''

class _Spatial(sa.types.UserDefinedType):
    cache_ok = True
    name = "GEOMETRY"

    def get_col_spec(self, **kw):
        return self.name


class GEOMETRY(_Spatial):
    name = "GEOMETRY"


class POINT(_Spatial):
    name = "POINT"

'''


def with_spatial(source: str) -> str:
    """The model source, with the spatial user types defined first when it uses them."""
    source = textwrap.dedent(source)
    return SPATIAL_TYPES + source if "GEOMETRY(" in source or "POINT(" in source else source


HAND_WRITTEN_COMMON = [
    """CREATE TABLE customers (
        id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email varchar(190) NOT NULL UNIQUE,
        name varchar(100) CHARACTER SET latin1 COLLATE latin1_general_ci,
        status enum('new','vip','gone') NOT NULL DEFAULT 'new',
        flags set('a','b','c') DEFAULT 'a,c',
        created timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        score decimal(5,2) DEFAULT 0 CHECK (score >= 0),
        bits bit(4) DEFAULT b'1010',
        born year,
        profile json,
        FULLTEXT KEY ft_name (name)
    ) ENGINE=InnoDB AUTO_INCREMENT=100 DEFAULT CHARSET=utf8mb4 COMMENT='people who buy'""",
    """CREATE TABLE orders (
        id int NOT NULL AUTO_INCREMENT,
        customer_id bigint unsigned,
        total decimal(10,2),
        tax decimal(10,2) GENERATED ALWAYS AS (total * 0.2) STORED,
        code varchar(40) AS (concat('o-', total)) VIRTUAL,
        note text COMMENT 'free text',
        PRIMARY KEY (id),
        KEY ix_note (note(20)),
        FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
        CONSTRAINT ck_total CHECK (total >= 0)
    ) ROW_FORMAT=DYNAMIC""",
    "CREATE VIEW big_orders AS SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100",
    """CREATE TABLE audit (at datetime(6), who varchar(20), what json)
       PARTITION BY KEY (who) PARTITIONS 3""",
    "CREATE INDEX ix_audit_who ON audit (who DESC, at)",
]
