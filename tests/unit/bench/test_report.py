"""The table and the JSON: every row a line, every target next to its row."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import markdown, table, write_json
from bench.results import CEILING, ENGINE, OURS, Report, Row
from bench.targets import evaluate


def sample() -> Report:
    rows = [
        Row("A", CEILING, "A ceiling", 2000, 2000 * 16384, seconds=4.0, workers=16),
        Row(
            "A",
            OURS,
            "A ours",
            2000,
            2000 * 16384,
            seconds=8.0,
            peak_rss_mib=90.0,
            cpu_host_s=4.0,
            cpu_azurite_s=2.0,
            note="x|y",
        ),
        Row("engine", ENGINE, "engine: 10,000", 10000, error="BenchError: it broke"),
    ]
    return Report({"date": "today", "command": "python -m bench"}, rows, evaluate(rows))


def test_table_has_one_line_per_row_with_its_verdict() -> None:
    lines = table(sample()).splitlines()
    assert len(lines) == 2 + 3
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:3] == ["run", "files", "MiB"]
    ours = [c.strip() for c in lines[3].strip("|").split("|")]
    assert len(ours) == len(header)  # the | in the note did not split a cell
    assert ours[0] == "A ours"
    assert ours[header.index("files/s")] == "250"
    assert ours[header.index("x ceiling")] == "0.50x"
    assert ours[header.index("target")].startswith(">= 0.8 x ceiling: NOT met; ")
    assert ours[header.index("CPU ms per file")] == "3.00"  # (4 s + 2 s) / 2,000 files
    engine = [c.strip() for c in lines[4].strip("|").split("|")]
    assert engine[header.index("best s")] == "failed"
    assert "it broke" in engine[header.index("notes")]
    assert "NOT met" in engine[header.index("target")]


def test_markdown_lists_every_target(tmp_path: Path) -> None:
    text = markdown(sample())
    assert text.count("\n- **") == 12
    assert "targets met: 0 of 12" in text


def test_json_round_trips_rows(tmp_path: Path) -> None:
    report = sample()
    path = tmp_path / "out" / "results.json"
    write_json(report, path)
    data = json.loads(path.read_text())
    assert [r["key"] for r in data["rows"]] == ["A.ceiling", "A.ours", "engine10000.engine"]
    assert data["rows"][1]["items_per_s"] == 250
    assert data["rows"][1]["cpu_ms_per_item"] == 3.0
    assert Row.from_json(data["rows"][1]) == report.rows[1]
    assert {t["verdict"] for t in data["targets"]} == {"NOT met", "not measured"}
