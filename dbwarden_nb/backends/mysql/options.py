"""MySQL's (and MariaDB's) table options: the ``mysql_<keyword>`` / ``mariadb_<keyword>`` arguments of a ``Table``
and its ``info["dbwarden"]`` keys, as snapshots hold them and generated models spell them (base/options.py)."""

from __future__ import annotations

from ..base.options import OptionSpec, repr_str, same, upper

TABLE_OPTIONS = (
    OptionSpec("engine", ("engine",)),
    OptionSpec("collation", ("collate",)),
    OptionSpec("row_format", ("row_format",), type=upper),
    OptionSpec("partition_by", ("partition_by",)),
    OptionSpec("auto_increment", ("auto_increment",), type=int, code=repr_str),
    OptionSpec("partitions", ("partitions",), type=int, code=repr_str),
    # implied by the collation, which generated models give
    OptionSpec("charset", ("charset", "default_charset", "character_set"), code=None),
    OptionSpec("partition_definitions", info=True, type=same),
    OptionSpec("system_versioning", info=True, type=same),
)
# dialect keywords of a Table that are no CREATE TABLE option (every other one is kept in ``create_options``)
NOT_CREATE_OPTIONS = {"comment", "subpartition_by", "subpartitions", "with_parser", "length", "prefix", "using",
                      "ops", "default collate", "data_directory", "index_directory"}
PREFIXES = ("mysql", "mariadb")
