"""A whole backup of a messy tree over HTTP: copied exactly or reported, entry by entry.

The host runs without the privilege to ignore permission bits, so unreadable files and
folders are met as a service account would meet them.
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from faults.blobcheck import read_blobs
from tests.reliability.activities import judge_tree
from tests.reliability.backups import start_backup, started
from tests.reliability.conftest import PROJECT_DIR
from tests.reliability.messy import build_messy_tree, expected_entries
from tests.reliability.privileges import UnprivilegedHost, unprivileged_prefix
from tests.support.host_process import HostProcessError

# The app logs every entry it leaves out, with the path as a Python repr.
_LOGGED = re.compile(
    r"\] (?:skipped|warning: not backed up:) ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"): (.+)$"
)


def logged(log_text: str) -> dict[str, str]:
    """Every entry the app's log reports as not backed up, with its reason."""
    found = {}
    for line in log_text.splitlines():
        match = _LOGGED.search(line)
        if match:
            found[ast.literal_eval(match.group(1))] = match.group(2)
    return found


def listed_in_status(status: dict) -> dict[str, str]:
    """The first few entries not backed up, as the final status lists them (paths clipped)."""
    custom = status.get("customStatus") or {}
    found = {entry["path"]: entry["reason"] for entry in custom.get("skipped", [])}
    found.update({entry["path"]: entry["error"] for entry in custom.get("failed", [])})
    return found


def test_messy_tree_backup_copies_or_reports_everything(
    tmp_path: Path,
    allowed_root: Path,
    host_env: dict[str, str],
    storage_connection_string: str,
    unique_name: str,
) -> None:
    prefix = unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot be made to apply")
    root = allowed_root / "site"
    build_messy_tree(root, tmp_path / "outside", unreadable=True)
    entries = expected_entries(root)
    host = UnprivilegedHost(PROJECT_DIR, tmp_path / "state", host_env, prefix=tuple(prefix))
    host.start()
    try:
        _, url = started(start_backup(host, root, unique_name))
        final = host.wait_for_status(url, timeout=120)
    finally:
        with contextlib.suppress(HostProcessError):
            host.stop()
    assert final["runtimeStatus"] == "Completed", final
    container = BlobServiceClient.from_connection_string(
        storage_connection_string
    ).get_container_client(unique_name)
    blobs = read_blobs(container, "site")
    in_log = logged(host.log_path.read_text(errors="replace"))
    reported = {**in_log, **listed_in_status(final)}
    problems = judge_tree(entries, blobs, reported, "site")
    assert not problems, "\n".join(problems)
    # The status lists the first few and counts all; the log names every one.
    custom = final["customStatus"]
    must_report = sum(facts is None for facts in entries.values())
    assert must_report <= custom["skippedEntries"] + custom["filesFailed"] == len(in_log)
    assert "no-read.txt" in reported and "locked" in reported, reported
    assert "ermission" in reported["no-read.txt"] + reported["locked"], reported
    assert final["output"] == sum(blob.content_size for blob in blobs.values())
