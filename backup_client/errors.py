"""The client's errors and the exit codes the command line turns them into."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes of ``site-backup`` (documented in docs/client.md)."""

    OK = 0
    DIFFERENCES = 1  # verify: the backup does not match the local tree
    USAGE = 2  # bad command line (click's own code)
    FILES_FAILED = 3  # the backup completed, but some files could not be copied
    BACKUP_FAILED = 4  # the orchestration failed
    BACKUP_TERMINATED = 5  # the orchestration was terminated or canceled
    API_ERROR = 6  # the host answered with an error (bad path, already running, unknown id...)
    HOST_UNREACHABLE = 7  # nothing answers at the URL, or the local host did not start
    STORAGE_ERROR = 8  # verify could not read the storage account
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class ClientError(Exception):
    """Base class of the client's errors; ``exit_code`` is what the command line exits with."""

    exit_code: ExitCode = ExitCode.API_ERROR


class ApiError(ClientError):
    """The host answered a request with an error status."""

    exit_code = ExitCode.API_ERROR

    def __init__(self, message: str, status: int, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class AlreadyRunning(ApiError):
    """A backup of the same root is already running (HTTP 409)."""

    def __init__(self, message: str, body: object = None, status_url: str | None = None) -> None:
        super().__init__(message, 409, body)
        self.status_url = status_url


class InstanceNotFound(ApiError):
    """The host knows no instance with that id (HTTP 404 from the status API)."""


class HostUnreachable(ClientError):
    """Nothing answers at the host URL (connection refused, DNS, timeout)."""

    exit_code = ExitCode.HOST_UNREACHABLE


class LocalHostError(ClientError):
    """The local host could not be started (or is not usable with the given URL)."""

    exit_code = ExitCode.HOST_UNREACHABLE


class StorageError(ClientError):
    """The storage account could not be reached or read (verify)."""

    exit_code = ExitCode.STORAGE_ERROR


class ConfigError(ClientError):
    """Settings are missing or inconsistent (no connection string, no app folder...)."""

    exit_code = ExitCode.USAGE
