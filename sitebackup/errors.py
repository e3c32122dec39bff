"""The backup package's exceptions: one base class, one subclass per kind of problem."""

from __future__ import annotations


class BackupError(Exception):
    """Base class of every error this package raises on purpose."""


class NamingError(BackupError, ValueError):
    """A path or prefix cannot become a blob name."""


class ConfigError(BackupError):
    """An app setting is missing or malformed; the message names the setting."""


class RequestError(BackupError):
    """A start request is malformed or asks for something not allowed (HTTP 400)."""


class JobError(BackupError, ValueError):
    """An orchestration or activity input is malformed."""


class StorageError(BackupError):
    """Blob storage failed in a way that is worth retrying (or that affects every file)."""
