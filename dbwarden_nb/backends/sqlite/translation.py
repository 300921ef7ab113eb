"""SQLite's rules for translation to SQLite: nothing to translate, types and expressions stay as written."""

from __future__ import annotations

from typing import ClassVar

from ..base.translation import TranslationRules


class SQLiteTranslation(TranslationRules):
    keeps_sql: ClassVar[bool] = True
