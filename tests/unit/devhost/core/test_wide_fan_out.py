"""A 10,000-wide fan-out: decided whole in one step, and run by the real hub in two episodes.

How fast it is lives in the benchmark's engine rows (``bench/engine.py``), not here: these
tests check the work done, which is what keeps it linear.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from devhost.contracts import OrchestratorOutcome, RuntimeStatus
from devhost.core import history as h
from devhost.core.replay import decide
from devhost.testing import StandInApp, memory_hub, wait_finished
from tests.unit.devhost.core.builders import T0, activity, state, when_all

WIDTH = 10_000


def _decide(history, state_json):
    return decide(
        history,
        OrchestratorOutcome(state=json.loads(state_json)),
        orchestrator_name="Fan",
        execution_id="e",
        activity_names={"Work"},
        orchestrator_names={"Fan"},
    )


def _fan_out_history(batches: int) -> list[dict]:
    history = [
        h.orchestrator_started(T0),
        h.execution_started(T0, instance_id="i", execution_id="e", name="Fan", input=None),
    ]
    history += [h.task_scheduled(T0, n, "Work") for n in range(WIDTH)]
    size = WIDTH // batches
    for batch in range(batches):
        history.append(h.orchestrator_completed(T0))
        history.append(h.orchestrator_started(T0 + timedelta(seconds=batch + 1)))
        history += [
            h.task_completed(T0, n, str(n)) for n in range(batch * size, (batch + 1) * size)
        ]
    return history


def test_the_first_episode_schedules_the_whole_fan_out_and_holds_it_quiet():
    fan = json.dumps(state([when_all(*[activity("Work", str(n)) for n in range(WIDTH)])]))
    history = _fan_out_history(1)[:2]
    decision = _decide(history, fan)
    assert [work.task_id for work in decision.activities] == list(range(WIDTH))
    assert decision.quiet_ids == frozenset(range(WIDTH))


def test_the_last_episode_completes_after_a_hundred_batches():
    fan = json.dumps(
        state(
            [when_all(*[activity("Work", str(n)) for n in range(WIDTH)])],
            done=True,
            output=list(range(WIDTH)),
        )
    )
    history = _fan_out_history(100)
    decision = _decide(history, fan)
    assert decision.status == RuntimeStatus.COMPLETED
    assert decision.new_events[0]["EventId"] == WIDTH
    assert decision.activities == [] and decision.quiet_ids == frozenset()


@pytest.mark.slow
def test_the_real_hub_runs_a_wide_fan_out_in_two_episodes():
    """Completions of a task_all the orchestrator is blocked on wait in the inbox until the
    last one: one episode schedules, one completes, whatever the order they arrive in."""

    def fan_out(ctx):
        results = yield ctx.task_all([ctx.call_activity("Work", n) for n in range(WIDTH)])
        return sum(results)

    async def body() -> None:
        async with memory_hub(StandInApp({"Fan": fan_out}, {"Work": lambda n: n})) as hub:
            await hub.start_instance("Fan", "fan", None)
            info = await wait_finished(hub, "fan", timeout=240)
            assert info.runtime_status is RuntimeStatus.COMPLETED
            assert json.loads(info.output) == sum(range(WIDTH))
            assert hub.episode_counts["fan"] == 2

    asyncio.run(body())
