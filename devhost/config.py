"""The app folder's settings: ``host.json`` and ``local.settings.json``.

Pure apart from reading the two files and, in ``apply_settings``, writing environment
variables. Nothing here logs a setting's value: settings hold connection strings and keys.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from devhost.contracts import HostError, HostOptions

DEFAULT_HUB_NAME = "TestHubName"
DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_CONNECTION_NAME = "Storage"
_HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,44}$")
_SETTING_REFERENCE = re.compile(r"^%([^%]+)%$")


class ConfigError(HostError):
    """host.json or local.settings.json cannot be used."""


@dataclass(frozen=True)
class LocalSettings:
    """What ``local.settings.json`` holds (values are never logged)."""

    values: Mapping[str, str] = field(default_factory=dict)
    host: Mapping[str, Any] = field(default_factory=dict)
    connection_strings: Mapping[str, str] = field(default_factory=dict)

    @property
    def local_http_port(self) -> int | None:
        port = _get_ci(self.host, "LocalHttpPort")
        return int(port) if port not in (None, "") else None


@dataclass(frozen=True)
class HostConfig:
    """The parts of ``host.json`` this host uses."""

    route_prefix: str = DEFAULT_ROUTE_PREFIX
    hub_name: str = DEFAULT_HUB_NAME
    connection_name: str = DEFAULT_CONNECTION_NAME
    max_concurrent_activities: int = 10
    max_concurrent_orchestrations: int = 10
    local_rpc_enabled: bool = True
    functions: tuple[str, ...] | None = None  # host.json "functions": load only these
    durable_task: Mapping[str, Any] = field(default_factory=dict)

    def host_options(self) -> HostOptions:
        return HostOptions(
            hub_name=self.hub_name,
            max_concurrent_activities=self.max_concurrent_activities,
            max_concurrent_orchestrations=self.max_concurrent_orchestrations,
            extra=dict(self.durable_task),
        )


def _get_ci(mapping: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    """Case-insensitive lookup: the real host binds host.json options that way."""
    if not isinstance(mapping, Mapping):
        return default
    lowered = key.lower()
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return default


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(f"cannot read {path.name}: {error}") from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{path.name} is not valid JSON: {error}") from error


def read_local_settings(app_dir: Path) -> LocalSettings:
    """``local.settings.json`` if present (it is optional, as under ``func start``)."""
    path = app_dir / "local.settings.json"
    if not path.exists():
        return LocalSettings()
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ConfigError("local.settings.json must hold a JSON object")
    if data.get("IsEncrypted") is True:
        raise ConfigError(
            "local.settings.json is encrypted (IsEncrypted: true); this host reads plain "
            "settings only: decrypt it with 'func settings decrypt' or set IsEncrypted to false"
        )
    values = data.get("Values") or {}
    if not isinstance(values, dict):
        raise ConfigError("local.settings.json: 'Values' must be an object of strings")
    host = data.get("Host") or {}
    connection_strings = data.get("ConnectionStrings") or {}
    return LocalSettings(
        values={str(k): _setting_text(v) for k, v in values.items() if v is not None},
        host=host if isinstance(host, dict) else {},
        connection_strings={
            str(k): _setting_text(v.get("ConnectionString") if isinstance(v, dict) else v)
            for k, v in connection_strings.items()
            if v is not None
        },
    )


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class AppliedSettings(NamedTuple):
    """Which ``Values`` went into the environment, and which an existing variable overrode."""

    applied: list[str]
    skipped: list[str]


def apply_settings(
    values: Mapping[str, str], environ: MutableMapping[str, str] | None = None
) -> AppliedSettings:
    """Put ``Values`` into the environment as ``func start`` does; a variable already set wins."""
    env = os.environ if environ is None else environ
    applied: list[str] = []
    skipped: list[str] = []
    for name, value in values.items():
        if name in env:
            skipped.append(name)
        else:
            env[name] = value
            applied.append(name)
    return AppliedSettings(applied, skipped)


def read_host_json(
    app_dir: Path,
    environ: Mapping[str, str] | None = None,
    cpu_count: int | None = None,
) -> HostConfig:
    """Parse ``host.json`` (required, as for the real host) into a HostConfig."""
    env = os.environ if environ is None else environ
    path = app_dir / "host.json"
    if not path.exists():
        raise ConfigError(
            f"no host.json in {app_dir}: this does not look like a function app folder"
        )
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ConfigError("host.json must hold a JSON object")
    version = data.get("version")
    if version is not None and str(version) != "2.0":
        raise ConfigError(f'host.json: version {version!r} is not supported; use "2.0"')

    extensions = _get_ci(data, "extensions", {}) or {}
    http = _get_ci(extensions, "http", {}) or {}
    route_prefix = _get_ci(http, "routePrefix", DEFAULT_ROUTE_PREFIX)
    if not isinstance(route_prefix, str):
        raise ConfigError("host.json: extensions.http.routePrefix must be a string")
    durable = _get_ci(extensions, "durableTask", {}) or {}
    if not isinstance(durable, dict):
        raise ConfigError("host.json: extensions.durableTask must be an object")

    hub_name = _hub_name(_get_ci(durable, "hubName"), env)
    default_concurrency = 10 * (cpu_count or os.cpu_count() or 1)
    max_activities = _positive_int(durable, "maxConcurrentActivityFunctions", default_concurrency)
    max_orchestrations = _positive_int(
        durable, "maxConcurrentOrchestratorFunctions", default_concurrency
    )
    provider = _get_ci(durable, "storageProvider", {}) or {}
    connection_name = (
        _get_ci(provider, "connectionName")
        or _get_ci(provider, "connectionStringName")
        or DEFAULT_CONNECTION_NAME
    )
    local_rpc = _get_ci(durable, "localRpcEndpointEnabled")
    functions = _get_ci(data, "functions")
    if functions is not None and not (
        isinstance(functions, list) and all(isinstance(f, str) for f in functions)
    ):
        raise ConfigError("host.json: 'functions' must be a list of function names")

    return HostConfig(
        route_prefix=route_prefix.strip("/"),
        hub_name=hub_name,
        connection_name=str(connection_name),
        max_concurrent_activities=max_activities,
        max_concurrent_orchestrations=max_orchestrations,
        local_rpc_enabled=local_rpc is not False,
        functions=tuple(functions) if functions is not None else None,
        durable_task=durable,
    )


def _positive_int(options: Mapping[str, Any], key: str, default: int) -> int:
    value = _get_ci(options, key)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"host.json: extensions.durableTask.{key} must be a whole number, not {value!r}"
        ) from None
    if number <= 0:
        raise ConfigError(f"host.json: extensions.durableTask.{key} must be > 0")
    return number


def _hub_name(configured: Any, env: Mapping[str, str]) -> str:
    if configured is None or configured == "":
        site = env.get("WEBSITE_SITE_NAME")
        if site:
            # The real host sanitises a site-derived default instead of rejecting it.
            cleaned = re.sub(r"[^A-Za-z0-9]", "", site)[:45]
            if cleaned and not cleaned[0].isalpha():
                cleaned = "t" + cleaned[:44]
            return cleaned if len(cleaned) >= 3 else DEFAULT_HUB_NAME
        return DEFAULT_HUB_NAME
    if not isinstance(configured, str):
        raise ConfigError("host.json: extensions.durableTask.hubName must be a string")
    name = configured
    reference = _SETTING_REFERENCE.match(name)
    if reference:
        setting = reference.group(1)
        if setting not in env:
            raise ConfigError(
                f"host.json: hubName refers to the app setting '{setting}', which is not set"
            )
        name = env[setting]
    if not _HUB_NAME.match(name):
        raise ConfigError(
            f"task hub name '{name}' should contain only alphanumeric characters, start with "
            "a letter, and have length between 3 and 45"
        )
    return name


def storage_connection(connection_name: str, environ: Mapping[str, str]) -> str | None:
    """How the durable storage connection resolves: ``"ok"``, ``"empty"`` or None (missing).

    The extension asks the WebJobs connection resolver for ``<name>`` (``Storage`` means the
    ``AzureWebJobsStorage`` setting): a non-empty value or an identity-based section
    (``<setting>__accountName``, ``__blobServiceUri``...) resolves it; a setting that is
    there but empty does not (``AzureStorageAccountProvider.GetStorageAccountDetails``).
    """
    lowered = {key.lower(): value for key, value in environ.items()}
    found_empty = False
    for setting in (f"AzureWebJobs{connection_name}", connection_name):
        key = setting.lower()
        value = lowered.get(key)
        if value is not None and value.strip():
            return "ok"
        if any(k.startswith(key + "__") and v.strip() for k, v in lowered.items()):
            return "ok"
        found_empty = found_empty or value is not None
    return "empty" if found_empty else None
