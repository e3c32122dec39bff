"""Reading the engine app's counters and the backup's custom status (pure parts)."""

from __future__ import annotations

from bench.e2e import summary
from bench.engine import stats_delta


def test_stats_delta_leaves_out_the_warmup() -> None:
    before = {
        "episodes": {"warm": 2},
        "functions": {"FanOut": {"calls": 2, "seconds": 0.5}},
        "activities": 20,
    }
    after = {
        "episodes": {"warm": 2, "big": 3},
        "functions": {"FanOut": {"calls": 5, "seconds": 2.0}},
        "activities": 10020,
    }
    delta = stats_delta(before, after)
    assert delta["episodes"] == {"big": 3}
    assert delta["functions"] == {"FanOut": {"calls": 3, "seconds": 1.5}}
    assert delta["activities"] == 10000


def test_summary_reads_the_counters_of_the_custom_status() -> None:
    status = {
        "customStatus": {
            "phase": "done",
            "filesCopied": 0,
            "filesSkipped": 2000,
            "filesFailed": 0,
            "partitionsTotal": 4,
            "bytesTotal": 5,
        }
    }
    assert summary(status) == {
        "filesCopied": 0,
        "filesSkipped": 2000,
        "filesFailed": 0,
        "partitionsTotal": 4,
    }
    assert summary({"customStatus": "text"}) == {}
    assert summary({}) == {}
