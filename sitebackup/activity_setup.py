"""What every activity call needs from the app settings, built once per process and settings.

An activity runs once per file, so reading and checking the settings, finding the storage
account and building its client per call costs more CPU than a small file's own upload
request. In Azure the app settings are fixed for the life of a worker process (changing one
restarts the app); here the key is the backup and storage settings themselves, so a process
whose environment changes (tests, the local host) gets a fresh setup, never a stale one.

The allowed roots are deliberately not part of this: they are resolved at every call, as a
folder on the way to a root may be replaced between two backups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from azure.storage.blob import BlobServiceClient

from sitebackup import settings as cfg
from sitebackup import storage
from sitebackup.upload import MIB, UploadTuning

# Every setting the backup reads starts with one of these, compared ignoring case as the
# storage lookup does: BACKUP_* and AzureWebJobsStorage (with its __ variants).
_PREFIXES = ("backup_", "azurewebjobsstorage")


@dataclass(frozen=True)
class Setup:
    settings: cfg.Settings
    tuning: UploadTuning
    service: BlobServiceClient


def tuning_for(settings: cfg.Settings) -> UploadTuning:
    block = settings.block_size_mb * MIB
    return UploadTuning(
        single_put_limit=block, block_size=block, concurrency=settings.upload_concurrency
    )


def _relevant(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in env.items() if k.lower().startswith(_PREFIXES)))


@lru_cache(maxsize=16)
def _build(relevant: tuple[tuple[str, str], ...]) -> Setup:
    # A ConfigError raised here is not cached: the next call reads the settings again.
    env = dict(relevant)
    settings = cfg.load(env)
    tuning = tuning_for(settings)
    service = storage.service_client(
        storage.resolve_target(env),
        pool_size=settings.http_pool_size,
        single_put_size=tuning.single_put_limit,
        block_size=tuning.block_size,
    )
    return Setup(settings, tuning, service)


def for_env(env: Mapping[str, str]) -> Setup:
    """The settings, upload tuning and storage client for ``env``; raises ConfigError."""
    return _build(_relevant(env))
