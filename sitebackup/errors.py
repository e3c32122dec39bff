"""The backup package's exceptions: one base class, one subclass per kind of problem."""

from __future__ import annotations

# Characters of a caller's input an error message quotes: enough to recognise it, and the
# message stays small whatever was sent (a 16 MiB path must not come back as a 16 MiB body).
ECHO_LIMIT = 200


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """User input quoted for an error message (``repr``), clipped to ``limit`` characters + "…"."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "…")
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


class BackupError(Exception):
    """Base class of every error this package raises on purpose."""


class NamingError(BackupError, ValueError):
    """A path or prefix cannot become a blob name."""


class ConfigError(BackupError):
    """An app setting is missing or malformed; the message names the setting."""


class RequestError(BackupError):
    """A start request is malformed or asks for something not allowed (HTTP 400)."""


class RuleError(BackupError, ValueError):
    """An include/exclude pattern (request, setting or .backupignore) is not valid."""


class JobError(BackupError, ValueError):
    """An orchestration or activity input is malformed."""


class StorageError(BackupError):
    """Blob storage failed in a way that is worth retrying (or that affects every file)."""


class BackupHalted(BackupError):
    """A storage step (a copy, a run page, the confirmation, the snapshot) failed every
    attempt: storage or infrastructure trouble, not one file's problem.

    The backup stops instead of spending every remaining file's retries on the same trouble.
    """
