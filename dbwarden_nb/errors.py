"""The project's own error types. Every user mistake surfaces as one of these, shown as one line."""

from __future__ import annotations


class DbwardenError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the one line the CLI prints."""

    exit_code = 1


class UsageError(DbwardenError):
    """Wrong command-line or magic arguments."""

    exit_code = 2


class CheckFailed(DbwardenError):
    """A check that found what it looks for (exit code 2, like a usage error, but no mistake of the user's)."""

    exit_code = 2


class DifferencesFound(CheckFailed):
    """``diff --check``: the two sides differ."""


class RisksFound(CheckFailed):
    """``check``: a pending migration destroys data, depends on data, locks, or cannot be undone."""


class ConfigError(DbwardenError):
    """Bad or missing configuration (dbwarden.py, database_config, URLs)."""


class MigrationFileError(DbwardenError):
    """A migration file that cannot be parsed, or a broken migration chain on disk."""


class IntegrityError(DbwardenError):
    """History and files disagree: checksum mismatch, deleted applied file, partial migration."""


class MigrationError(DbwardenError):
    """A statement of a migration failed while being applied."""


class FailedAfterEffect(MigrationError):
    """A statement the server reports as failed although its change is in place (ClickHouse: an ALTER whose
    definition change was made but whose mutation, the rewrite of the rows, failed)."""


class LockError(DbwardenError):
    """The migration lock is held by someone else or could not be taken."""


class SnapshotError(DbwardenError):
    """A snapshot document that is malformed, tampered with or of an unknown format."""


class BackendError(DbwardenError):
    """A backend cannot do what was asked (unsupported operation, unknown type)."""


class TranslationError(DbwardenError):
    """A schema that cannot be translated for the dev database: a name clash, or strict mode refusing a loss."""


class HookError(DbwardenError):
    """A ``hooks={...}`` callable raised: before_migrate (nothing was applied), after_migrate or on_failure."""
