"""Option tables (base/options.py): what generate-models writes for a table's options reads back as the same
options, for every row of a backend's table; a keyword no row names is left to the backend."""

from __future__ import annotations

import sqlalchemy as sa

from dbwarden_nb.backends import get_backend
from dbwarden_nb.backends.base.options import model_options, option_kwargs
from dbwarden_nb.backends.mysql.options import PREFIXES, TABLE_OPTIONS
from dbwarden_nb.schema import Column, Table

# a value for each MySQL table option, as the snapshot holds it
MYSQL_VALUES = {"engine": "InnoDB", "collation": "utf8mb4_bin", "row_format": "DYNAMIC", "partition_by": "HASH (id)",
                "auto_increment": 5, "partitions": 4, "charset": "utf8mb4",
                "partition_definitions": "(PARTITION p0 VALUES LESS THAN (10))", "system_versioning": True}


def test_every_row_has_a_sample() -> None:
    assert set(MYSQL_VALUES) == {spec.key for spec in TABLE_OPTIONS}


def test_generated_keywords_read_back_as_the_same_options() -> None:
    backend = get_backend("mysql")
    written = {spec.key: MYSQL_VALUES[spec.key] for spec in TABLE_OPTIONS if spec.code is not None}
    table = Table("t", columns=(Column("id", "int", nullable=False),), options=written)
    kwargs = {k: eval(v) for k, v in backend.table_kwargs(table).items()}  # the code generate-models writes
    info = backend.table_info(table)
    model = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer), info={"dbwarden": info}, **kwargs)
    assert backend.table_options(model) == written


def test_aliases_and_unknown_keywords() -> None:
    options, rest = model_options(TABLE_OPTIONS, {"mariadb_default_charset": "latin1", "mysql_KEY_BLOCK_SIZE": 8,
                                                  "mysql_engine": None, "postgresql_with": {}}, {}, PREFIXES)
    assert options == {"charset": "latin1"} and rest == {"key_block_size": 8}
    assert option_kwargs(TABLE_OPTIONS, {"charset": "latin1", "engine": ""}, "mysql") == {}  # implied, or empty
