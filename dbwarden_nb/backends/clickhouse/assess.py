"""ClickHouse's facts for assessing steps (see base/assess.py)."""

from __future__ import annotations

from ...operations import AddConstraint, Assessment, DataCheck
from ...schema import Check
from ..base.assess import Assessor


class ClickHouseAssessor(Assessor):
    def add_constraint(self, op: AddConstraint) -> Assessment | None:
        """ADD CONSTRAINT … CHECK never fails: the server checks the rows inserted from then on, and the ones that
        violate it already stay; they are counted first, so that adding it over them takes ``--force``."""
        c, t = op.constraint, op.parent
        if not isinstance(c, Check):
            return super().add_constraint(op)
        check = DataCheck(self.count(t, f"NOT ({c.expression})"), f"rows of {t.key} that violate check {c.name}, "
                          "which stay (ClickHouse checks the rows inserted after it only)")
        return Assessment("INFO", "rows that violate it already stay", op.default_irreversible, (check,))
