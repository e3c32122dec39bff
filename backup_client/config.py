"""Where the app is and which storage account it writes to (settings, no network)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from backup_client.errors import ConfigError
from devhost import azurite

log = logging.getLogger(__name__)

# The setting names, in the order they are looked up (the app's own order: its backup storage
# setting, falling back to the Functions runtime's storage).
CONNECTION_SETTINGS = ("BACKUP_STORAGE_CONNECTION", "AzureWebJobsStorage")
ALLOWED_ROOTS_SETTING = "BACKUP_ALLOWED_ROOTS"
RESTORE_ROOTS_SETTING = "BACKUP_RESTORE_ROOTS"
CONTAINER_SETTING = "BACKUP_CONTAINER"
DEFAULT_CONTAINER = "backups"


def find_app_dir(start: Path | None = None) -> Path:
    """The function app folder: the first folder with a ``host.json`` from ``start`` upwards,
    else the project this package is installed from (an editable install of a clone)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "host.json").is_file():
            return folder
    project = Path(__file__).resolve().parent.parent
    if (project / "host.json").is_file():
        return project
    raise ConfigError(
        f"no function app found: neither {here} nor a parent folder has a host.json; "
        "run the command in the project folder"
    )


def read_local_settings(app_dir: Path | None) -> dict[str, str]:
    """The ``Values`` of the app's ``local.settings.json`` ({} when there is none)."""
    if app_dir is None:
        return {}
    path = app_dir / "local.settings.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring %s: %s", path, error)
        return {}
    values = data.get("Values") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        return {}
    return {str(k): str(v) for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class ConnectionSetting:
    connection_string: str
    source: str  # where it came from, for messages
    development_storage: bool = False  # UseDevelopmentStorage=true: the local emulator


def resolve_connection(
    option: str | None,
    environ: Mapping[str, str],
    local_settings: Mapping[str, str],
) -> ConnectionSetting:
    """The storage connection string: the option, then the environment, then local.settings.

    ``UseDevelopmentStorage=true`` becomes the emulator's account on 127.0.0.1:10000.
    """
    found: ConnectionSetting | None = None
    if option:
        found = ConnectionSetting(option, "--connection-string")
    else:
        sources = (("environment", environ), ("local.settings.json", local_settings))
        for source_name, values in sources:
            for name in CONNECTION_SETTINGS:
                value = values.get(name)
                if value:
                    found = ConnectionSetting(value, f"{name} ({source_name})")
                    break
            if found:
                break
    if found is None:
        raise ConfigError(
            "no storage connection: pass --connection-string or set BACKUP_STORAGE_CONNECTION "
            "(or AzureWebJobsStorage)"
        )
    if is_development_storage(found.connection_string):
        return ConnectionSetting(
            azurite.connection_string({"blob": azurite.DEFAULT_PORTS["blob"]}),
            found.source,
            development_storage=True,
        )
    return found


def resolve_container(
    option: str | None, environ: Mapping[str, str], local_settings: Mapping[str, str]
) -> str:
    """The container: the option, else the app's BACKUP_CONTAINER setting, else ``backups``."""
    for value in (option, environ.get(CONTAINER_SETTING), local_settings.get(CONTAINER_SETTING)):
        if value and value.strip():
            return value.strip()
    return DEFAULT_CONTAINER


def is_development_storage(connection_string: str) -> bool:
    parts = parse_connection_string(connection_string)
    return parts.get("usedevelopmentstorage", "").lower() == "true"


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """``Key=Value;...`` as a dict with lower-case keys (values may contain ``=``)."""
    parts: dict[str, str] = {}
    for item in connection_string.split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            parts[key.strip().lower()] = value.strip()
    return parts


def blob_endpoint(connection_string: str) -> str | None:
    """The blob service endpoint a connection string points at, when it says."""
    if is_development_storage(connection_string):
        return f"http://127.0.0.1:{azurite.DEFAULT_PORTS['blob']}/{azurite.ACCOUNT_NAME}"
    parts = parse_connection_string(connection_string)
    if parts.get("blobendpoint"):
        return parts["blobendpoint"].rstrip("/")
    account = parts.get("accountname")
    if account:
        protocol = parts.get("defaultendpointsprotocol", "https")
        suffix = parts.get("endpointsuffix", "core.windows.net")
        return f"{protocol}://{account}.blob.{suffix}"
    return None


def extend_roots(existing: str | None, root: str, separator: str = os.pathsep) -> str:
    """An allowed-roots list (``separator``-joined) that also holds ``root``."""
    roots = [item for item in (existing or "").split(separator) if item.strip()]
    if root not in roots:
        roots.append(root)
    return separator.join(roots)
