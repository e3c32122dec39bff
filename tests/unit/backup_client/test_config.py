"""Settings: storage connection lookup, app folder, allowed roots for the local host."""

import json
import os
from pathlib import Path

import pytest

from backup_client import config
from backup_client.errors import ConfigError
from backup_client.local_host import child_host, host_environment
from devhost import azurite

REAL = (
    "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;"
    "EndpointSuffix=core.windows.net"
)


def test_connection_lookup_order():
    env = {"AzureWebJobsStorage": "env-app", "BACKUP_STORAGE_CONNECTION": "env-backup"}
    local = {"AzureWebJobsStorage": "local-app", "BACKUP_STORAGE_CONNECTION": "local-backup"}
    assert config.resolve_connection("opt", env, local).connection_string == "opt"
    assert config.resolve_connection(None, env, local).connection_string == "env-backup"
    del env["BACKUP_STORAGE_CONNECTION"]
    found = config.resolve_connection(None, env, local)
    assert (found.connection_string, found.source) == (
        "env-app",
        "AzureWebJobsStorage (environment)",
    )
    found = config.resolve_connection(None, {}, local)
    assert found.connection_string == "local-backup"
    # An empty setting (local.settings.json ships one) does not count.
    found = config.resolve_connection(
        None, {}, {"BACKUP_STORAGE_CONNECTION": "", "AzureWebJobsStorage": "x"}
    )
    assert found.connection_string == "x"
    with pytest.raises(ConfigError, match="--connection-string"):
        config.resolve_connection(None, {}, {})


def test_development_storage_is_the_emulator_on_its_default_port():
    found = config.resolve_connection("UseDevelopmentStorage=true", {}, {})
    assert found.connection_string == azurite.connection_string({"blob": 10000})
    assert config.blob_endpoint("UseDevelopmentStorage=true") == (
        "http://127.0.0.1:10000/devstoreaccount1"
    )


def test_blob_endpoint():
    assert config.blob_endpoint(REAL) == "https://acct.blob.core.windows.net"
    assert config.blob_endpoint(
        "BlobEndpoint=http://127.0.0.1:1234/devstoreaccount1/;AccountName=x"
    ) == ("http://127.0.0.1:1234/devstoreaccount1")
    assert config.blob_endpoint("nonsense") is None


def test_container_lookup():
    assert config.resolve_container("c1", {"BACKUP_CONTAINER": "c2"}, {}) == "c1"
    assert (
        config.resolve_container(None, {"BACKUP_CONTAINER": "c2"}, {"BACKUP_CONTAINER": "c3"})
        == "c2"
    )
    assert config.resolve_container(None, {}, {"BACKUP_CONTAINER": "c3"}) == "c3"
    assert config.resolve_container(None, {}, {"BACKUP_CONTAINER": " "}) == "backups"


def test_find_app_dir_walks_up(tmp_path):
    (tmp_path / "host.json").write_text("{}")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert config.find_app_dir(nested) == tmp_path.resolve()


def test_read_local_settings(tmp_path):
    assert config.read_local_settings(tmp_path) == {}
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"A": "1", "B": None}}))
    assert config.read_local_settings(tmp_path) == {"A": "1"}
    (tmp_path / "local.settings.json").write_text("{broken")
    assert config.read_local_settings(tmp_path) == {}


def test_extend_roots_keeps_existing_entries_once():
    sep = os.pathsep
    assert config.extend_roots(None, "/srv/www") == "/srv/www"
    assert config.extend_roots(f"/a{sep}/b", "/srv/www") == f"/a{sep}/b{sep}/srv/www"
    assert config.extend_roots(f"/a{sep}/srv/www", "/srv/www") == f"/a{sep}/srv/www"


def test_host_environment_extends_the_allowed_roots(tmp_path):
    env = host_environment({"PATH": "/bin"}, {"BACKUP_ALLOWED_ROOTS": "/data"}, "/srv/www")
    assert env["BACKUP_ALLOWED_ROOTS"] == f"/data{os.pathsep}/srv/www"
    assert env["PATH"] == "/bin"
    # The environment's value wins over local.settings.json, as it does for the host.
    env = host_environment({"BACKUP_ALLOWED_ROOTS": "/e"}, {"BACKUP_ALLOWED_ROOTS": "/l"}, "/r")
    assert env["BACKUP_ALLOWED_ROOTS"] == f"/e{os.pathsep}/r"


def test_app_accepts_the_extended_roots(tmp_path):
    from sitebackup.settings import parse_allowed_roots

    value = config.extend_roots(str(tmp_path / "a"), str(tmp_path / "b"))
    assert parse_allowed_roots(value) == (str(tmp_path / "a"), str(tmp_path / "b"))


def test_host_command_uses_the_port_and_ready_file(tmp_path):
    command = child_host(tmp_path, 7391, tmp_path / "work", {}, 5.0).command()
    assert command[1:4] == ["-m", "devhost", str(tmp_path)]
    assert command[command.index("--port") + 1] == "7391"
    assert command[command.index("--ready-file") + 1] == str(tmp_path / "work" / "ready.json")
    # The app's own state folder and Azurite, as ``./dev host`` would use them.
    assert "--state-dir" not in command and "--no-azurite" not in command


def test_state_dir_follows_the_hosts_setting(tmp_path):
    from backup_client.local_host import state_dir

    assert state_dir(tmp_path, {}) == tmp_path / ".devhost"
    assert state_dir(tmp_path, {"DEVHOST_STATE_DIR": "/s"}) == Path("/s")


def test_development_storage_is_flagged():
    assert config.resolve_connection("UseDevelopmentStorage=true", {}, {}).development_storage
    assert not config.resolve_connection(REAL, {}, {}).development_storage
