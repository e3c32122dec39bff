"""App settings (environment variables, as in Azure and in ``local.settings.json``).

Storage connection settings are read by ``sitebackup.storage`` only, so secrets never travel
with the other settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sitebackup.errors import ConfigError, RuleError
from sitebackup.layout import DEFAULT_META_CONTAINER
from sitebackup.naming import container_name_problem
from sitebackup.retention import Policy
from sitebackup.rules import parse_setting as parse_exclude_setting

ALLOWED_ROOTS = "BACKUP_ALLOWED_ROOTS"
RESTORE_ROOTS = "BACKUP_RESTORE_ROOTS"
CONTAINER = "BACKUP_CONTAINER"
PARTITION_SIZE = "BACKUP_PARTITION_SIZE"
PARTITION_CONCURRENCY = "BACKUP_PARTITION_CONCURRENCY"
RETRY_FIRST_INTERVAL_MS = "BACKUP_RETRY_FIRST_INTERVAL_MS"
RETRY_MAX_ATTEMPTS = "BACKUP_RETRY_MAX_ATTEMPTS"
COMPARE = "BACKUP_COMPARE"
BLOCK_SIZE_MB = "BACKUP_BLOCK_SIZE_MB"
UPLOAD_CONCURRENCY = "BACKUP_UPLOAD_CONCURRENCY"
DOWNLOAD_CONCURRENCY = "BACKUP_DOWNLOAD_CONCURRENCY"
HTTP_POOL_SIZE = "BACKUP_HTTP_POOL_SIZE"
META_CONTAINER = "BACKUP_META_CONTAINER"
RETENTION = "BACKUP_RETENTION"
EXCLUDE = "BACKUP_EXCLUDE"

DEFAULT_CONTAINER = "backups"
DEFAULT_PARTITION_SIZE = 100
DEFAULT_PARTITION_CONCURRENCY = 4
DEFAULT_RETRY_FIRST_INTERVAL_MS = 5000
DEFAULT_RETRY_MAX_ATTEMPTS = 3
DEFAULT_BLOCK_SIZE_MB = 4
DEFAULT_UPLOAD_CONCURRENCY = 2
DEFAULT_DOWNLOAD_CONCURRENCY = 4
DEFAULT_HTTP_POOL_SIZE = 32

# How a re-run decides that a blob already holds a file:
#   checksum: size and mtime (metadata) match, and the file's MD5 equals the blob's Content-MD5
#   mtime:    size and mtime match and the blob has a Content-MD5 (the file is not re-read)
COMPARE_MODES = ("checksum", "mtime")
DEFAULT_COMPARE = "checksum"


@dataclass(frozen=True)
class Settings:
    allowed_roots: tuple[str, ...] = ()
    restore_roots: tuple[str, ...] = ()
    container: str = DEFAULT_CONTAINER
    partition_size: int = DEFAULT_PARTITION_SIZE
    partition_concurrency: int = DEFAULT_PARTITION_CONCURRENCY
    retry_first_interval_ms: int = DEFAULT_RETRY_FIRST_INTERVAL_MS
    retry_max_attempts: int = DEFAULT_RETRY_MAX_ATTEMPTS
    compare: str = DEFAULT_COMPARE
    block_size_mb: int = DEFAULT_BLOCK_SIZE_MB
    upload_concurrency: int = DEFAULT_UPLOAD_CONCURRENCY
    download_concurrency: int = DEFAULT_DOWNLOAD_CONCURRENCY
    http_pool_size: int = DEFAULT_HTTP_POOL_SIZE
    meta_container: str = DEFAULT_META_CONTAINER
    # What prune keeps when the request names no rule (e.g. "last=7,daily=14,weekly=8");
    # empty: a prune must name its rules.
    retention: Policy = Policy()
    exclude_defaults: tuple[str, ...] = ()


def split_roots(value: str) -> list[str]:
    """Entries of a root list separated by the platform's path separator or commas."""
    entries = [value]
    for separator in (os.pathsep, ","):
        entries = [piece for entry in entries for piece in entry.split(separator)]
    return [entry.strip() for entry in entries if entry.strip()]


def parse_allowed_roots(value: str, setting: str = ALLOWED_ROOTS) -> tuple[str, ...]:
    """Resolved (``realpath``) allowed roots; raises ConfigError for a relative entry."""
    roots: list[str] = []
    for entry in split_roots(value):
        if "\x00" in entry or not os.path.isabs(entry):
            raise ConfigError(
                f"app setting {setting} must list absolute directories, got {entry!r}"
            )
        resolved = os.path.realpath(entry)
        if resolved not in roots:
            roots.append(resolved)
    return tuple(roots)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"app setting {name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(
            f"app setting {name} must be between {minimum} and {maximum}, got {value}"
        )
    return value


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every backup setting; ConfigError names the first bad one."""
    env = os.environ if env is None else env
    container = (env.get(CONTAINER) or "").strip() or DEFAULT_CONTAINER
    problem = container_name_problem(container)
    if problem:
        raise ConfigError(f"app setting {CONTAINER}={container!r} is not valid: {problem}")
    meta = (env.get(META_CONTAINER) or "").strip() or DEFAULT_META_CONTAINER
    problem = container_name_problem(meta)
    if problem:
        raise ConfigError(f"app setting {META_CONTAINER}={meta!r} is not valid: {problem}")
    compare = (env.get(COMPARE) or "").strip().lower() or DEFAULT_COMPARE
    if compare not in COMPARE_MODES:
        raise ConfigError(
            f"app setting {COMPARE} must be one of {', '.join(COMPARE_MODES)}, got {compare!r}"
        )
    try:
        exclude_defaults = parse_exclude_setting(env.get(EXCLUDE) or "")
    except RuleError as exc:
        raise ConfigError(f"app setting {EXCLUDE} is not valid: {exc}") from None
    return Settings(
        exclude_defaults=exclude_defaults,
        allowed_roots=parse_allowed_roots(env.get(ALLOWED_ROOTS) or ""),
        restore_roots=parse_allowed_roots(env.get(RESTORE_ROOTS) or "", RESTORE_ROOTS),
        container=container,
        partition_size=_int(env, PARTITION_SIZE, DEFAULT_PARTITION_SIZE, 1, 5000),
        partition_concurrency=_int(
            env, PARTITION_CONCURRENCY, DEFAULT_PARTITION_CONCURRENCY, 1, 100
        ),
        retry_first_interval_ms=_int(
            env, RETRY_FIRST_INTERVAL_MS, DEFAULT_RETRY_FIRST_INTERVAL_MS, 1, 3_600_000
        ),
        retry_max_attempts=_int(env, RETRY_MAX_ATTEMPTS, DEFAULT_RETRY_MAX_ATTEMPTS, 1, 100),
        compare=compare,
        block_size_mb=_int(env, BLOCK_SIZE_MB, DEFAULT_BLOCK_SIZE_MB, 1, 4000),
        upload_concurrency=_int(env, UPLOAD_CONCURRENCY, DEFAULT_UPLOAD_CONCURRENCY, 1, 32),
        download_concurrency=_int(env, DOWNLOAD_CONCURRENCY, DEFAULT_DOWNLOAD_CONCURRENCY, 1, 32),
        http_pool_size=_int(env, HTTP_POOL_SIZE, DEFAULT_HTTP_POOL_SIZE, 1, 1000),
        meta_container=meta,
        retention=Policy.parse(env.get(RETENTION) or "", RETENTION),
    )
