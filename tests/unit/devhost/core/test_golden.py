"""Golden histories: replay every recorded episode through the real SDK and ``decide``.

Each file in ``tests/golden`` holds a history recorded with the episode driver. Every episode
of it is replayed: the SDK gets the history up to that episode's new events, ``decide`` must
produce exactly the events recorded after them, and the last episode must end with the
recorded status and output. A file with ``replay_with`` is replayed once with another
orchestrator and must fail as non-deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path

import azure.durable_functions as df
import pytest

from devhost.contracts import RuntimeStatus
from devhost.core import history as h
from devhost.core.replay import decide
from devhost.testing import invoke_orchestrator
from tests.unit.devhost.core.golden_scenarios import GOLDEN_DIR, ORCHESTRATORS, SCENARIOS

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))

# Events the host appends after running the orchestrator; everything else is an input.
DECISION_TYPES = {
    int(h.EventType.TASK_SCHEDULED),
    int(h.EventType.TIMER_CREATED),
    int(h.EventType.SUB_ORCHESTRATION_INSTANCE_CREATED),
    int(h.EventType.EVENT_SENT),
    int(h.EventType.EXECUTION_COMPLETED),
    int(h.EventType.CONTINUE_AS_NEW),
    int(h.EventType.ORCHESTRATOR_COMPLETED),
}


def episodes(history: list[dict]) -> list[tuple[int, int]]:
    """(end of the episode's inputs, end of its decision events) for every episode."""
    bounds = []
    index = 0
    while index < len(history):
        assert history[index]["EventType"] == h.EventType.ORCHESTRATOR_STARTED, index
        decision_start = index + 1
        while history[decision_start]["EventType"] not in DECISION_TYPES:
            decision_start += 1
        end = decision_start
        while history[end]["EventType"] != h.EventType.ORCHESTRATOR_COMPLETED:
            end += 1
        bounds.append((decision_start, end + 1))
        index = end + 1
    return bounds


def replay(golden: dict, history: list[dict], orchestrator: str):
    handle = df.Orchestrator.create(ORCHESTRATORS[orchestrator])
    outcome = invoke_orchestrator(handle, golden["instance_id"], history)
    return decide(
        history,
        outcome,
        orchestrator_name=golden["orchestrator"],
        execution_id=golden["execution_id"],
        activity_names=frozenset(golden["activities"]),
        orchestrator_names=frozenset(golden["orchestrators"]),
    )


def test_the_golden_set_is_complete():
    names = {path.stem for path in GOLDEN_FILES}
    assert {
        "fan_out_fan_in",
        "retries",
        "sub_orchestrations",
        "timers_and_events",
        "continue_as_new",
        "non_deterministic",
    } <= names


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_golden_history_replays_to_the_same_decisions(path: Path):
    golden = json.loads(path.read_text())
    history = golden["history"]
    expected = golden["expected"]

    if "replay_with" in golden:
        decision = replay(golden, history, golden["replay_with"])
        assert decision.status == RuntimeStatus.FAILED
        assert decision.output == expected["output"]
        assert json.loads(decision.output).startswith("Non-Deterministic workflow detected: ")
        assert [e["EventType"] for e in decision.new_events] == [1, 13]
        assert not decision.activities
        # The unchanged orchestrator replays the same history without complaint.
        decision = replay(golden, history, golden["orchestrator"])
        assert decision.status == RuntimeStatus.COMPLETED
        return

    bounds = episodes(history)
    assert len(bounds) >= 2
    decision = None
    for inputs_end, decision_end in bounds:
        decision = replay(golden, history[:inputs_end], golden["orchestrator"])
        assert list(decision.new_events) == history[inputs_end:decision_end], (
            f"episode ending at event {decision_end} decided differently"
        )
    assert decision is not None
    assert decision.status.value == expected["status"]
    assert decision.output == expected["output"]
    assert decision.custom_status == expected["custom_status"]
    assert not decision.activities and not decision.timers and not decision.sub_orchestrations


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_recording_the_scenario_again_gives_the_committed_file(name: str):
    recorded = json.loads(json.dumps(SCENARIOS[name]()))
    committed = json.loads((GOLDEN_DIR / f"{name}.json").read_text())
    assert recorded == committed, (
        f"{name}: the driver or the replay core now records a different history; if that is "
        "intended, run `python -m tests.unit.devhost.core.golden_scenarios` and review the diff"
    )
