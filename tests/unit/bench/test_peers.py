"""The peers: rclone uploads a tree into real Azurite; a peer that cannot be had says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import peers
from bench.peers import Tool, Unavailable, ensure_az, ensure_rclone, peer_row, peer_run
from bench.plan import quick_plan
from bench.results import AZ_CLI, RCLONE
from bench.runner import tree_rows
from bench.trees import KiB, TreeSpec, ensure_tree


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_rclone_stores_every_file_under_its_relative_path(tmp_path: Path) -> None:
    try:
        tool = ensure_rclone(tmp_path / "peers")
    except Unavailable as error:  # no root, or no package lists reachable
        pytest.skip(f"rclone cannot be installed here: {error}")
    tree = ensure_tree(tmp_path / "trees", TreeSpec("peer", 12, 3 * KiB))

    run = peer_run(tool, tmp_path / "peers", tree, timeout=120)

    # peer_run checks every blob name and size against the tree; what it measured is real.
    assert run.seconds > 0
    assert run.cpu_client_s > 0 and run.cpu_azurite_s > 0
    row = peer_row("A", tree, RCLONE, tool, [run], "")
    assert row.items_per_s and row.cpu_ms_per_item and row.cpu_client_s == run.cpu_client_s
    assert tool.version in row.note


def test_a_peer_that_uploads_less_than_the_tree_fails_its_row(tmp_path: Path) -> None:
    # A stand-in "rclone" that exits 0 without uploading anything: the check must catch it.
    fake = tmp_path / "bin" / "rclone"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    tree = ensure_tree(tmp_path / "trees", TreeSpec("tiny", 3, 1 * KiB))
    warmup = ensure_tree(tmp_path / "trees", TreeSpec("warmup", 1, 1 * KiB))
    tool = Tool(RCLONE, "0-fake", fake)

    rows = tree_rows(
        quick_plan(),
        tmp_path / "work",
        "A",
        tree,
        warmup,
        1,
        (2,),
        peers={RCLONE: tool, AZ_CLI: "pip could not install azure-cli"},
    )

    by_kind = {row.kind: row for row in rows}
    assert "stored 0 blobs" in (by_kind[RCLONE].error or "")
    assert by_kind[AZ_CLI].error is None and by_kind[AZ_CLI].seconds is None
    assert by_kind[AZ_CLI].note == "not run: pip could not install azure-cli"
    assert by_kind["ceiling"].seconds and by_kind["ours"].seconds  # the rest still ran


def test_an_az_install_that_fails_says_why(tmp_path: Path) -> None:
    # A requirement no index holds: pip fails at once, and the reason reaches the row.
    with pytest.raises(Unavailable, match="exited"):
        ensure_az(tmp_path, requirement="sitebackup-no-such-package==0.0.0")
    assert (tmp_path / "az-install.log").exists()


def test_without_apt_get_or_root_rclone_is_unavailable(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(Unavailable, match="no apt-get"):
        ensure_rclone(tmp_path)
    monkeypatch.setattr(
        shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )
    monkeypatch.setattr(peers.os, "geteuid", lambda: 1000)
    with pytest.raises(Unavailable, match="needs root"):
        ensure_rclone(tmp_path)
