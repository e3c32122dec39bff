"""The whole benchmark in miniature: real Azurite, the real host, the real app, over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_quick_run_measures_every_scenario_and_judges_every_target(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            # The peers have tests of their own (test_peers.py); installing azure-cli here
            # would take minutes.
            "--peers",
            "none",
            "--work-dir",
            str(tmp_path / "work"),
            "--json-out",
            str(out),
            "--markdown-out",
            str(tmp_path / "RESULTS.md"),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=350,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"
    report = json.loads(out.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert set(rows) == {
        "A.ceiling",
        "A.ours",
        "A.rerun",
        "B.ceiling",
        "B.ours",
        "C.ceiling",
        "C.ceiling-single-put",
        "C.ours",
        "D20.ceiling",
        "D20.ours",
        "D60.ceiling",
        "D60.ours",
        "S100.ours",
        "S300.ours",
        "engine100.engine",
        "engine400.engine-partitioned",
        "A.restore-ceiling",
        "A.restore",
        "B.restore-ceiling",
        "B.restore",
        "C.restore-ceiling",
        "C.restore",
    }
    for key, row in rows.items():
        assert row["error"] is None, key
        assert row["seconds"] > 0 and row["items_per_s"] > 0, key
    for key in ("A.ours", "A.rerun", "B.ours", "C.ours", "D60.ours", "A.restore", "C.restore"):
        assert 10 < rows[key]["peak_rss_mib"] < 2000, key
        assert rows[key]["cpu_host_s"] > 0, key
        # The poller's CPU in a run this short can be below the clock's 10 ms tick: only its
        # presence as a number is checked.
        assert isinstance(rows[key]["cpu_client_s"], int | float), key
        assert rows[key]["cpu_ms_per_item"] > 0, key
    assert "skipped 40" in rows["A.rerun"]["note"]
    assert rows["A.ours"]["ratio"] > 0
    # The scale rows report the parent's history: counts and page names, no file list.
    for key in ("S100.ours", "S300.ours"):
        assert rows[key]["history_bytes"] > 0 and "parent history" in rows[key]["note"], key
    engine = rows["engine100.engine"]
    assert engine["instances"] == 1 and engine["episodes"] >= 1
    partitioned = rows["engine400.engine-partitioned"]
    assert partitioned["instances"] == 5  # the parent and 4 sub-orchestrations
    assert "400 activity runs" in partitioned["note"]
    verdicts = {t["key"]: t["verdict"] for t in report["targets"]}
    assert len(verdicts) == 20  # 12 of the backup and the engine, 4 of scale, 4 of the restore
    assert rows["C.restore"]["ratio"] > 0
    peer_targets = {"A.peers", "B.peers", "C.peers"}
    assert {verdicts[k] for k in peer_targets} == {"not measured"}  # no peer was asked for
    others = {k: v for k, v in verdicts.items() if k not in peer_targets}
    assert set(others.values()) <= {"met", "NOT met"}, verdicts
    # The table on the console and in RESULTS.md is the same.
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(rows)
    assert "\n".join(table) in (tmp_path / "RESULTS.md").read_text()
