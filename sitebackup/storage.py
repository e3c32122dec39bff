"""Blob storage access: which account, one client per process, and error classification.

Connection lookup (first match wins):
1. ``BACKUP_STORAGE_CONNECTION``: a connection string.
2. ``BACKUP_STORAGE__blobServiceUri`` (or ``__accountName``): identity-based, with
   ``DefaultAzureCredential`` (``__clientId`` picks a user-assigned identity,
   ``__credential=managedidentity`` uses managed identity only). Needs ``azure-identity``.
3. ``AzureWebJobsStorage``: the app's own connection string.
4. ``AzureWebJobsStorage__blobServiceUri`` / ``__accountName``: identity-based, as above.

Secrets stay here: they are never logged, returned or put into an exception message.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient, ContainerClient, LinearRetry
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sitebackup.errors import ConfigError, StorageError

log = logging.getLogger(__name__)

# The SDK logs every request and response at INFO; with thousands of files that drowns the
# app's own messages in the Functions log stream.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

# Blobs per List Blobs page, for every listing of a whole prefix (the re-run listing, the
# confirmation, prune's sweeps). Not the service's maximum (5,000): the SDK turns a page into
# objects of about 13 KB per blob, so a page of 5,000 alone holds about 65 MiB. Smaller pages
# cost requests, and in-memory Azurite slows per request: confirming 100,000 files
# (bench/confirm_memory.py) took 142 MiB in 46-55 s with pages of 5,000, 94 MiB in 64 s
# with 2,000, and 76 MiB in 67-80 s with 1,000.
LIST_PAGE_SIZE = 2000

CONNECTION = "BACKUP_STORAGE_CONNECTION"
IDENTITY_PREFIX = "BACKUP_STORAGE"
APP_STORAGE = "AzureWebJobsStorage"

# The client's own retries, inside one activity attempt, only ride out blips (a reset
# connection, a moment of throttling): a request is retried at most twice, about a second
# apart, so storage that does not answer fails the attempt in about two seconds. Longer
# trouble is the orchestration's retry policy's job (BACKUP_RETRY_*), and beyond that the
# backup stops: retrying for minutes inside every queued copy would only delay that.
REQUEST_RETRIES = 2
RETRY_BACKOFF_S = 1.0
RETRY_JITTER_S = 0.3
CONNECT_TIMEOUT_S = 10
# The service's own default: long enough for a 4 MiB block on a slow link.
READ_TIMEOUT_S = 60

# Statuses worth another attempt later (throttling, timeouts, server trouble).
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses that concern the whole account or container, not one file.
ACCOUNT_STATUSES = frozenset({401, 403, 404})

_SECRET = re.compile(
    r"(AccountKey|SharedAccessSignature|SharedAccessKey|sig|AccessToken)=([^;&\s'\"]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """The text with every key, signature or token value replaced."""
    return _SECRET.sub(lambda match: f"{match.group(1)}=***", text)


@dataclass(frozen=True)
class StorageTarget:
    """Where backups go. ``secret`` (a connection string) is kept out of ``repr``."""

    source: str  # the app setting it came from, safe to show
    account_url: str | None = None
    secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    managed_identity_only: bool = False

    @property
    def cache_key(self) -> str:
        material = "\x00".join(
            (self.source, self.account_url or "", self.secret or "", self.client_id or "")
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _lookup(env: Mapping[str, str], name: str) -> str:
    """An app setting by name, ignoring case (Azure and local files differ in case habits)."""
    value = env.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in env.items() if k.lower() == lowered), None)
    return (value or "").strip()


def _identity_target(env: Mapping[str, str], prefix: str) -> StorageTarget | None:
    source = f"{prefix}__blobServiceUri"
    url = _lookup(env, source)
    if not url:
        source = f"{prefix}__accountName"
        account = _lookup(env, source)
        if not account:
            return None
        url = f"https://{account}.blob.core.windows.net"
    return StorageTarget(
        source=source,
        account_url=url,
        client_id=_lookup(env, f"{prefix}__clientId") or None,
        managed_identity_only=_lookup(env, f"{prefix}__credential").lower() == "managedidentity",
    )


def resolve_target(env: Mapping[str, str] | None = None) -> StorageTarget:
    """The storage account for backups, from the app settings (see the module docstring)."""
    env = os.environ if env is None else env
    connection = _lookup(env, CONNECTION)
    if connection:
        return StorageTarget(source=CONNECTION, secret=connection)
    target = _identity_target(env, IDENTITY_PREFIX)
    if target:
        return target
    connection = _lookup(env, APP_STORAGE)
    if connection:
        return StorageTarget(source=APP_STORAGE, secret=connection)
    target = _identity_target(env, APP_STORAGE)
    if target:
        return target
    raise ConfigError(
        f"no storage for backups is configured: set {CONNECTION} to a connection string, or "
        f"{IDENTITY_PREFIX}__blobServiceUri for an identity-based connection (falls back to "
        f"{APP_STORAGE})"
    )


def _credential(target: StorageTarget) -> Any:
    # Imported here: azure-identity is optional and heavy; connection strings do not need it.
    try:
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
    except ImportError:
        raise ConfigError(
            f"{target.source} asks for an identity-based connection, which needs the "
            "azure-identity package: add it to requirements.txt"
        ) from None
    if target.managed_identity_only:
        return ManagedIdentityCredential(client_id=target.client_id)
    return DefaultAzureCredential(managed_identity_client_id=target.client_id)


def _transport(pool_size: int) -> RequestsTransport:
    # requests keeps 10 connections per host by default; more concurrent uploads than that
    # wait for a connection or churn through new ones.
    session = requests.Session()
    # With no proxy in the environment, requests would still re-read the environment and
    # ~/.netrc on every request (a third of the client CPU per small file); read it once.
    session.trust_env = bool(urllib.request.getproxies())
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=pool_size,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(
        session=session,
        session_owner=False,
        connection_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def retry_policy() -> LinearRetry:
    """The client's short, bounded retry policy (see REQUEST_RETRIES)."""
    return LinearRetry(
        backoff=RETRY_BACKOFF_S, random_jitter_range=RETRY_JITTER_S, retry_total=REQUEST_RETRIES
    )


_clients: dict[tuple[str, int], BlobServiceClient] = {}
_clients_lock = threading.Lock()


def service_client(
    target: StorageTarget, *, pool_size: int, single_put_size: int, block_size: int
) -> BlobServiceClient:
    """The process-wide client for ``target`` (created once, then reused by every call)."""
    key = (target.cache_key, pool_size)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        options: dict[str, Any] = {
            "transport": _transport(pool_size),
            "retry_policy": retry_policy(),
            "max_single_put_size": single_put_size,
            "max_block_size": block_size,
            # Downloads (restore) hold one such chunk in memory per connection; the SDK's
            # 32 MiB first request would multiply by every concurrent activity.
            "max_single_get_size": block_size,
            "max_chunk_get_size": block_size,
        }
        try:
            if target.secret is not None:
                client = BlobServiceClient.from_connection_string(target.secret, **options)
            else:
                client = BlobServiceClient(
                    target.account_url, credential=_credential(target), **options
                )
        except ValueError:
            # The SDK's message may quote the malformed value; ours names the setting only.
            raise ConfigError(
                f"app setting {target.source} does not hold a valid storage connection"
            ) from None
        _clients[key] = client
        return client


_containers: dict[tuple[int, str], ContainerClient] = {}


def container_client(service: BlobServiceClient, name: str) -> ContainerClient:
    """The process-wide client of one container (building one costs as much as a request)."""
    key = (id(service), name)
    with _clients_lock:
        client = _containers.get(key)
        if client is None:
            client = _containers[key] = service.get_container_client(name)
        return client


def ensure_container(container: ContainerClient) -> bool:
    """Create the container unless it exists; True when it was created now."""
    try:
        container.create_container()
    except ResourceExistsError:
        return False
    except Exception as exc:
        raise failure(exc, f"creating container '{container.container_name}'") from None
    return True


def container_exists(container: ContainerClient) -> bool:
    """Whether the container exists, without creating it (a dry run writes nothing)."""
    try:
        return container.exists()
    except Exception as exc:
        raise failure(exc, f"looking up container '{container.container_name}'") from None


def describe(exc: BaseException) -> str:
    """A short, secret-free description of a storage exception."""
    if isinstance(exc, HttpResponseError):
        status = getattr(exc, "status_code", None)
        code = getattr(exc, "error_code", None)
        reason = getattr(exc, "reason", None) or ""
        text = f"HTTP {status} {code or reason}".strip()
    else:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        text = f"{type(exc).__name__}: {first_line}"
    return redact(text)[:300]


def is_file_specific(exc: BaseException) -> bool:
    """True when retrying cannot help and only this blob is affected (e.g. a bad name)."""
    if isinstance(exc, ClientAuthenticationError):
        return False
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        return 400 <= status < 500 and status not in TRANSIENT_STATUSES | ACCOUNT_STATUSES
    return False


def failure(exc: BaseException, action: str) -> StorageError:
    """The StorageError to raise for ``exc`` (so the orchestration's retry policy applies)."""
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        hint = "the storage service could not be reached"
    elif isinstance(exc, HttpResponseError) and exc.status_code in (401, 403):
        hint = "storage refused access; check the backup storage setting and its permissions"
    else:
        hint = "storage request failed"
    return StorageError(f"{action}: {hint} ({describe(exc)})")
