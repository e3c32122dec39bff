import json
from pathlib import Path

import pytest

from devhost.config import (
    ConfigError,
    apply_settings,
    read_host_json,
    read_local_settings,
)


def write(folder: Path, name: str, value: object) -> None:
    (folder / name).write_text(value if isinstance(value, str) else json.dumps(value))


def test_host_json_defaults(tmp_path: Path) -> None:
    write(tmp_path, "host.json", {"version": "2.0"})
    config = read_host_json(tmp_path, environ={}, cpu_count=2)
    assert config.route_prefix == "api"
    assert config.hub_name == "TestHubName"
    assert config.connection_name == "Storage"
    # The extension's default is 10 x the processor count.
    assert config.max_concurrent_activities == 20
    assert config.max_concurrent_orchestrations == 20
    assert config.local_rpc_enabled is True
    assert config.functions is None


def test_host_json_options_are_read_case_insensitively(tmp_path: Path) -> None:
    write(
        tmp_path,
        "host.json",
        {
            "version": "2.0",
            "extensions": {
                "http": {"routePrefix": "/v1/"},
                "durableTask": {
                    "HubName": "BackupHub",
                    "MAXCONCURRENTACTIVITYFUNCTIONS": 7,
                    "maxConcurrentOrchestratorFunctions": "3",
                    "storageProvider": {"connectionStringName": "MyStorage"},
                    "localRpcEndpointEnabled": False,
                },
            },
            "functions": ["A", "B"],
        },
    )
    config = read_host_json(tmp_path, environ={})
    assert config.route_prefix == "v1"
    assert config.hub_name == "BackupHub"
    assert config.max_concurrent_activities == 7
    assert config.max_concurrent_orchestrations == 3
    assert config.connection_name == "MyStorage"
    assert config.local_rpc_enabled is False
    assert config.functions == ("A", "B")
    options = config.host_options()
    assert (options.hub_name, options.max_concurrent_activities) == ("BackupHub", 7)


def test_empty_route_prefix_serves_routes_at_the_root(tmp_path: Path) -> None:
    write(tmp_path, "host.json", {"version": "2.0", "extensions": {"http": {"routePrefix": ""}}})
    assert read_host_json(tmp_path, environ={}).route_prefix == ""


def test_hub_name_from_an_app_setting(tmp_path: Path) -> None:
    write(
        tmp_path,
        "host.json",
        {"version": "2.0", "extensions": {"durableTask": {"hubName": "%HUB%"}}},
    )
    assert read_host_json(tmp_path, environ={"HUB": "FromSetting"}).hub_name == "FromSetting"
    with pytest.raises(ConfigError, match="app setting 'HUB'"):
        read_host_json(tmp_path, environ={})


def test_hub_name_default_comes_from_the_site_name_sanitised(tmp_path: Path) -> None:
    write(tmp_path, "host.json", {"version": "2.0"})
    config = read_host_json(tmp_path, environ={"WEBSITE_SITE_NAME": "my-site-01"})
    assert config.hub_name == "mysite01"


@pytest.mark.parametrize("name", ["ab", "1hub", "hub-name", "x" * 46])
def test_invalid_hub_names_are_rejected_with_the_rule(tmp_path: Path, name: str) -> None:
    write(
        tmp_path, "host.json", {"version": "2.0", "extensions": {"durableTask": {"hubName": name}}}
    )
    with pytest.raises(ConfigError, match="alphanumeric characters, start with a letter"):
        read_host_json(tmp_path, environ={})


@pytest.mark.parametrize("value", [0, -1, "many"])
def test_concurrency_must_be_a_positive_number(tmp_path: Path, value: object) -> None:
    write(
        tmp_path,
        "host.json",
        {
            "version": "2.0",
            "extensions": {"durableTask": {"maxConcurrentActivityFunctions": value}},
        },
    )
    with pytest.raises(ConfigError, match="maxConcurrentActivityFunctions"):
        read_host_json(tmp_path, environ={})


def test_missing_or_broken_host_json_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no host.json"):
        read_host_json(tmp_path, environ={})
    write(tmp_path, "host.json", "{not json")
    with pytest.raises(ConfigError, match="host.json is not valid JSON"):
        read_host_json(tmp_path, environ={})
    write(tmp_path, "host.json", {"version": "1.0"})
    with pytest.raises(ConfigError, match="version '1.0' is not supported"):
        read_host_json(tmp_path, environ={})


def test_local_settings_values_become_environment_but_the_environment_wins(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "local.settings.json",
        {
            "IsEncrypted": False,
            "Values": {"A": "1", "B": "2", "FLAG": True, "NUM": 3},
            "Host": {"LocalHttpPort": 7072},
        },
    )
    settings = read_local_settings(tmp_path)
    assert settings.local_http_port == 7072
    env = {"B": "from-env"}
    applied, skipped = apply_settings(settings.values, env)
    assert env == {"A": "1", "B": "from-env", "FLAG": "true", "NUM": "3"}
    assert applied == ["A", "FLAG", "NUM"]
    assert skipped == ["B"]


def test_local_settings_are_optional_and_encrypted_ones_are_refused(tmp_path: Path) -> None:
    assert read_local_settings(tmp_path).values == {}
    write(tmp_path, "local.settings.json", {"IsEncrypted": True, "Values": {"A": "x"}})
    with pytest.raises(ConfigError, match="encrypted"):
        read_local_settings(tmp_path)
