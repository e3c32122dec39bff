"""E2_GetFileList and E2_CopyFileToBlob against a real Azurite."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from sitebackup import activities, activity_setup, storage
from sitebackup.errors import ConfigError, StorageError
from tests.integration.app import blobs
from tests.integration.app.blobs import (
    TREE,
    assert_backup_matches,
    run_backup,
    statuses,
    write_tree,
)


@pytest.fixture
def site(sites):
    root = sites / "www"
    write_tree(root)
    return root


def job_for(root, env, **extra):
    return {"root": str(root), "container": env["BACKUP_CONTAINER"], "prefix": "www", **extra}


def test_the_whole_tree_round_trips_byte_for_byte(site, env, container):
    listing, results = run_backup(job_for(site, env), env)

    assert listing["containerCreated"] is True
    assert listing["filesTotal"] == len(TREE)
    assert set(statuses(results).values()) == {"copied"}
    assert sum(r["bytes"] for r in results) == sum(len(c) for c in TREE.values())
    assert assert_backup_matches(site, container, "www") == len(TREE)
    types = {blob.name: blob.content_settings.content_type for blob in container.list_blobs()}
    assert types["www/index.html"] == "text/html"
    assert types["www/css/site.css"] == "text/css"
    assert types["www/empty.txt"] == "text/plain"


def test_a_rerun_uploads_nothing(site, env, container):
    run_backup(job_for(site, env), env)
    etags = {blob.name: blob.etag for blob in container.list_blobs()}

    listing, results = run_backup(job_for(site, env), env)

    assert listing["containerCreated"] is False
    # The listing compared every file with its blob in bulk: no copy is left to run.
    assert listing["files"] == [] and results == []
    assert listing["unchangedCount"] == listing["filesTotal"] == len(TREE)
    assert listing["unchangedBytes"] == listing["bytesTotal"] == sum(map(len, TREE.values()))
    assert {blob.name: blob.etag for blob in container.list_blobs()} == etags


def test_the_blob_listing_is_read_page_by_page(site, env, container, monkeypatch):
    run_backup(job_for(site, env), env)
    monkeypatch.setattr(storage, "LIST_PAGE_SIZE", 3)

    listing = blobs.list_files(job_for(site, env), env)

    assert listing["files"] == [] and listing["unchangedCount"] == len(TREE)


def test_a_rerun_copies_new_and_changed_files_and_tells_which_are_new(site, env, container):
    run_backup(job_for(site, env), env)
    (site / "css/site.css").write_bytes(b"body { color: red; }")
    (site / "added.txt").write_bytes(b"added")
    container.delete_blob("www/index.html")

    listing, results = run_backup(job_for(site, env), env)

    assert {entry["path"]: entry.get("new", False) for entry in listing["files"]} == {
        "added.txt": True,
        "css/site.css": False,
        "index.html": True,
    }
    assert set(statuses(results).values()) == {"copied"}
    assert listing["unchangedCount"] == len(TREE) - 2
    assert assert_backup_matches(site, container, "www") == len(TREE) + 1


def test_a_file_sent_to_the_copy_after_all_is_still_skipped_when_its_blob_matches(
    site, env, container
):
    # What the copy does for a file the listing could not settle (past the hash budget, or
    # a blob that appeared meanwhile): it looks the blob up itself.
    run_backup(job_for(site, env), env)
    entry = {"path": "index.html", "size": 13, "mtimeNs": 0}

    result = activities.copy_one({"job": job_for(site, env), "file": entry}, env)

    assert result["status"] == "skipped"


def test_a_changed_file_is_uploaded_again_and_only_it(site, env, container):
    run_backup(job_for(site, env), env)
    (site / "css/site.css").write_bytes(b"body { color: red; }")

    _, results = run_backup(job_for(site, env), env)

    assert statuses(results) == {"css/site.css": "copied"}
    assert_backup_matches(site, container, "www")


def test_checksum_mode_catches_a_change_that_kept_size_and_mtime(site, env, container):
    path = site / "index.html"
    run_backup(job_for(site, env), env)
    before = path.stat()
    path.write_bytes(b"<h1>HOME</h1>")  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    fast, _ = run_backup(job_for(site, env, compare="mtime"), env)
    # The documented cost of the fast mode: the listing takes it as unchanged.
    assert fast["files"] == [] and fast["unchangedCount"] == len(TREE)

    _, thorough = run_backup(job_for(site, env), env)
    assert statuses(thorough) == {"index.html": "copied"}
    assert container.download_blob("www/index.html").readall() == b"<h1>HOME</h1>"


def test_files_without_a_blob_are_written_without_looking_first(site, env, container):
    run_backup(job_for(site, env), env)
    entry = {"path": "index.html", "size": 13, "mtimeNs": 0}
    before = container.get_blob_client("www/index.html").get_blob_properties().etag

    looked = activities.copy_one({"job": job_for(site, env), "file": entry}, env)
    blind = activities.copy_one(
        {"job": job_for(site, env), "file": entry, "newContainer": True}, env
    )
    new = activities.copy_one({"job": job_for(site, env), "file": {**entry, "new": True}}, env)

    assert looked["status"] == "skipped"
    assert blind["status"] == new["status"] == "copied"  # rewritten, identical, new etags
    after = container.get_blob_client("www/index.html").get_blob_properties()
    assert after.etag != before
    assert_backup_matches(site, container, "www")


def test_a_vanished_file_is_reported_not_raised(site, env, container):
    listing = blobs.list_files(job_for(site, env), env)
    entry = next(e for e in listing["files"] if e["path"] == "index.html")
    (site / "index.html").unlink()

    result = activities.copy_one({"job": job_for(site, env), "file": entry}, env)

    assert result == {
        "path": "index.html",
        "status": "failed",
        "bytes": 0,
        "error": "the file no longer exists",
    }
    assert not container.get_blob_client("www/index.html").exists()


def test_a_file_that_keeps_changing_is_not_committed(site, env, container):
    path = site / "big/blocks.bin"
    blobs.list_files(job_for(site, env), env)  # creates the container
    entry = {"path": "big/blocks.bin", "size": path.stat().st_size, "mtimeNs": 0}
    stop = threading.Event()

    def keep_touching() -> None:
        while not stop.is_set():
            os.utime(path)
            time.sleep(0.001)

    toucher = threading.Thread(target=keep_touching)
    toucher.start()
    try:
        result = activities.copy_one({"job": job_for(site, env), "file": entry}, env)
    finally:
        stop.set()
        toucher.join()

    assert result["status"] == "failed"
    assert "kept changing" in result["error"]
    assert not container.get_blob_client("www/big/blocks.bin").exists()


def test_a_root_outside_the_allowed_roots_is_refused_by_both_activities(tmp_path, env, container):
    outside = tmp_path / "elsewhere"
    write_tree(outside, {"secret.txt": b"no"})
    job = job_for(outside, env)

    listing = blobs.list_files(job, env)
    assert "outside the allowed roots" in listing["error"]
    result = activities.copy_one(
        {"job": job, "file": {"path": "secret.txt", "size": 2, "mtimeNs": 0}}, env
    )
    assert result["status"] == "failed" and "outside the allowed roots" in result["error"]
    assert not container.exists()


def test_a_file_whose_link_now_leaves_the_root_is_refused(tmp_path, site, env, container):
    (tmp_path / "secret.txt").write_text("secret")
    (site / "link.txt").symlink_to(site / "index.html")
    listing = blobs.list_files(job_for(site, env), env)
    entry = next(e for e in listing["files"] if e["path"] == "link.txt")
    (site / "link.txt").unlink()
    (site / "link.txt").symlink_to(tmp_path / "secret.txt")

    result = activities.copy_one({"job": job_for(site, env), "file": entry}, env)

    assert result["status"] == "failed"
    assert "outside the backup root" in result["error"]
    assert not container.get_blob_client("www/link.txt").exists()


def test_copies_never_create_the_container(site, env, container):
    entry = {"path": "index.html", "size": 13, "mtimeNs": 0}
    with pytest.raises(StorageError, match="storage request failed"):
        activities.copy_one({"job": job_for(site, env), "file": entry}, env)
    assert not container.exists()


def test_one_storage_client_per_process(site, env):
    tuning = activity_setup.tuning_for(activities.cfg.load(env))
    target = storage.resolve_target(env)
    first = storage.service_client(
        target, pool_size=32, single_put_size=tuning.single_put_limit, block_size=tuning.block_size
    )
    run_backup(job_for(site, env), env)
    again = storage.service_client(
        target, pool_size=32, single_put_size=tuning.single_put_limit, block_size=tuning.block_size
    )
    assert first is again
    name = env["BACKUP_CONTAINER"]
    assert storage.container_client(first, name) is storage.container_client(again, name)
    assert activity_setup.for_env(env).service is first


def test_the_setup_follows_a_change_of_settings(site, env):
    # Built once per process for the same settings, never kept past a change of them.
    first = activity_setup.for_env(env)
    assert activity_setup.for_env(dict(env)) is first
    changed = activity_setup.for_env({**env, "BACKUP_BLOCK_SIZE_MB": "8"})
    assert changed is not first and changed.tuning.block_size == 8 * 1024 * 1024
    with pytest.raises(ConfigError, match="BACKUP_BLOCK_SIZE_MB"):
        activity_setup.for_env({**env, "BACKUP_BLOCK_SIZE_MB": "zero"})
    # A bad value is read again on the next call, not remembered as an error.
    with pytest.raises(ConfigError):
        activity_setup.for_env({**env, "BACKUP_BLOCK_SIZE_MB": "zero"})
    assert activity_setup.for_env(env) is first


AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def unreachable(env: dict[str, str]) -> dict[str, str]:
    """The settings with backups going to a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        **env,
        "BACKUP_STORAGE_CONNECTION": (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        ),
    }


def test_unreachable_storage_raises_for_the_retry_policy_without_leaking_the_key(site, env):
    env = unreachable(env)
    with pytest.raises(StorageError) as caught:
        blobs.list_files(job_for(site, env), env)
    assert "could not be reached" in str(caught.value)
    assert AZURITE_KEY not in str(caught.value)


class HangingUp:
    """A storage endpoint that takes every connection and hangs up at once, counting them."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed: the test is over
            self.connections += 1
            client.close()

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=10)


@pytest.fixture
def hanging_up():
    endpoint = HangingUp()
    yield endpoint
    endpoint.close()


def test_storage_that_hangs_up_fails_a_copy_attempt_after_the_client_retries(site, env, hanging_up):
    env = {
        **env,
        "BACKUP_STORAGE_CONNECTION": (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{hanging_up.port}/devstoreaccount1;"
        ),
    }
    entry = {"path": "index.html", "size": len(TREE["index.html"]), "mtimeNs": 1}
    with pytest.raises(StorageError) as caught:
        activities.copy_one({"job": job_for(site, env), "file": entry}, env)
    assert "uploading 'www/index.html': the storage service could not be reached" in str(
        caught.value
    )
    assert AZURITE_KEY not in str(caught.value)
    # The first request and the client's two quick retries, each on a new connection; the
    # orchestration's retry policy does the rest (a longer client retry would hold every
    # queued copy for minutes of an outage).
    assert hanging_up.connections == 3


def test_listing_reports_skipped_entries(site, env, container):
    (site / "outside-link").symlink_to("/etc")
    os.mkfifo(site / "pipe")
    listing = blobs.list_files(job_for(site, env), env)
    assert listing["skippedCount"] == 2
    assert {entry["path"] for entry in listing["skipped"]} == {"outside-link", "pipe"}


def test_identity_settings_without_azure_identity_say_what_to_install(site, env):
    env = {k: v for k, v in env.items() if k != "BACKUP_STORAGE_CONNECTION"}
    env["BACKUP_STORAGE__blobServiceUri"] = "https://acct.blob.core.windows.net"
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        listing = blobs.list_files(job_for(site, env), env)
        assert "needs the azure-identity package" in listing["error"]
    else:
        pytest.skip("azure-identity is installed here")
