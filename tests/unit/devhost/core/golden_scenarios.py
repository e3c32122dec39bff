"""Orchestrators and scenarios behind the golden histories in ``tests/golden``.

Run ``python -m tests.unit.devhost.core.golden_scenarios`` to record them again after a deliberate
change of the replay core; ``test_golden.py`` replays them on every run.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df

from devhost.core import history as h
from tests.support.driver import Driver, Instance

GOLDEN_DIR = Path(__file__).resolve().parents[3] / "golden"

log = logging.getLogger(__name__)


# -- orchestrators ----------------------------------------------------------------------------


def fan_out_fan_in(ctx):
    files = yield ctx.call_activity("ListFiles", ctx.get_input())
    sizes = yield ctx.task_all([ctx.call_activity("Copy", name) for name in files])
    ctx.set_custom_status({"copied": len(sizes)})
    return sum(sizes)


def retries(ctx):
    options = df.RetryOptions(2000, 3)
    flaky = yield ctx.call_activity_with_retry("Flaky", options, "first")
    try:
        yield ctx.call_activity_with_retry("Broken", df.RetryOptions(1000, 2), "second")
    except Exception as exc:
        return [flaky, str(exc).split(" \n ")[0]]
    return [flaky, None]


def child(ctx):
    value = ctx.get_input()
    doubled = yield ctx.call_activity("Double", value)
    if value < 0:
        raise ValueError(f"negative input {value}")
    return doubled


def parent(ctx):
    auto = yield ctx.call_sub_orchestrator("Child", 2)
    named = yield ctx.call_sub_orchestrator("Child", 5, f"{ctx.instance_id}-named")
    try:
        yield ctx.call_sub_orchestrator("Child", -1)
    except Exception as exc:
        return [auto, named, str(exc).split(" \n ")[0]]
    return [auto, named, None]


def timers_and_events(ctx):
    start = ctx.current_utc_datetime
    yield ctx.create_timer(start + timedelta(minutes=10))
    timeout = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
    approval = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
    early = yield ctx.wait_for_external_event("Early")
    return {"approved": approval.result, "early": early}


def counter(ctx):
    value = ctx.get_input() or 0
    yield ctx.call_activity("Double", value)
    if value < 2:
        ctx.continue_as_new(value + 1)
        return None
    return value


def order_v1(ctx):
    yield ctx.call_activity("Reserve", "item")
    yield ctx.call_activity("Charge", "card")
    return "shipped"


def order_v2(ctx):
    # A later deployment replaced "Charge" by "Invoice" under running instances.
    yield ctx.call_activity("Reserve", "item")
    yield ctx.call_activity("Invoice", "account")
    return "shipped"


ORCHESTRATORS: dict[str, Callable[..., Any]] = {
    "FanOutFanIn": fan_out_fan_in,
    "Retries": retries,
    "Parent": parent,
    "Child": child,
    "TimersAndEvents": timers_and_events,
    "Counter": counter,
    "OrderV1": order_v1,
    "OrderV2": order_v2,
}


def _flaky() -> Callable[[Any], Any]:
    calls = itertools.count(1)

    def flaky(value):
        if next(calls) == 1:
            raise ConnectionError("transient network error")
        return f"{value} done"

    return flaky


def _broken(value):
    raise PermissionError(f"cannot process {value}")


def activities() -> dict[str, Callable[..., Any]]:
    return {
        "ListFiles": lambda root: [f"{root}/a.txt", f"{root}/b.txt", f"{root}/c.txt", f"{root}/d"],
        "Copy": len,
        "Flaky": _flaky(),
        "Broken": _broken,
        "Double": lambda n: 2 * n,
        "Reserve": lambda item: f"reserved {item}",
        "Charge": lambda card: f"charged {card}",
        "Invoice": lambda account: f"invoiced {account}",
    }


# -- scenarios ----------------------------------------------------------------------------------


def _driver() -> Driver:
    counter = itertools.count(1)
    return Driver(ORCHESTRATORS, activities(), new_id=lambda: f"{next(counter):032x}")


def _record(driver: Driver, instance: Instance, description: str, **extra: Any) -> dict:
    return {
        "description": description,
        "orchestrator": instance.name,
        "instance_id": instance.instance_id,
        "execution_id": instance.execution_id,
        "activities": sorted(driver.activities),
        "orchestrators": sorted(driver.handles),
        "expected": {
            "status": instance.status.value,
            "output": instance.output,
            "custom_status": instance.custom_status,
        },
        "history": instance.history,
        **extra,
    }


def record_fan_out() -> dict:
    driver = _driver()
    instance = driver.instance(driver.start("FanOutFanIn", "site", instance_id="fan-out"))
    driver.run(activities_per_step=2)
    return _record(driver, instance, "List files, copy them in parallel (completions in pairs).")


def record_retries() -> dict:
    driver = _driver()
    instance = driver.instance(driver.start("Retries", instance_id="retries"))
    driver.run()
    return _record(
        driver,
        instance,
        "Activity retry that succeeds on the second attempt, then one that exhausts its "
        "attempts (with the final zero-delay timer) and is caught.",
    )


def record_sub_orchestrations() -> dict:
    driver = _driver()
    instance = driver.instance(driver.start("Parent", instance_id="parent"))
    driver.run()
    return _record(
        driver,
        instance,
        "Sub-orchestrations with the default '<ExecutionId>:<id>' instance id, an explicit "
        "id, and a child that fails.",
    )


def record_timers_and_events() -> dict:
    driver = _driver()
    instance = driver.instance(driver.start("TimersAndEvents", instance_id="timers"))
    driver.run(fire_timers=False)
    driver.advance(timedelta(minutes=10))
    driver.run(fire_timers=False)
    driver.raise_event(instance.instance_id, "Early", "before the wait")
    driver.advance(timedelta(minutes=1))
    driver.run(fire_timers=False)
    driver.raise_event(instance.instance_id, "Approval", {"by": "ops"})
    driver.run(fire_timers=False)
    return _record(
        driver,
        instance,
        "A durable timer, task_any of an event and a timeout timer that is then cancelled, "
        "and an event raised before the orchestrator waits for it.",
    )


def record_continue_as_new() -> dict:
    driver = _driver()
    instance = driver.instance(driver.start("Counter", 0, instance_id="counter"))
    driver.run()
    return _record(
        driver, instance, "Two continue-as-new generations; the last generation's history."
    )


def record_non_deterministic() -> dict:
    driver = _driver()
    instance = driver.instance(driver.start("OrderV1", instance_id="order"))
    driver.run_episode(instance.instance_id)
    driver.run_activities()
    driver.run_episode(instance.instance_id)
    assert [w.name for w in instance.decisions[-1].activities] == ["Charge"]
    driver.run_activities()
    # The next episode's input, to be replayed with the changed orchestrator.
    history = [*instance.history, h.orchestrator_started(driver.now), *instance.inbox]
    message = (
        "Non-Deterministic workflow detected: A previous execution of this orchestration "
        "scheduled an activity task with sequence number 1 named 'Charge', but the current "
        "orchestration replay instead scheduled an activity task named 'Invoice' with this "
        "sequence number.  Was a change made to the orchestrator code after this instance had "
        "already started running?"
    )
    record = _record(
        driver,
        instance,
        "History recorded with OrderV1 (Reserve, Charge) replayed with OrderV2 (Reserve, "
        "Invoice): the DTFx non-determinism failure.",
        replay_with="OrderV2",
    )
    record["history"] = history
    record["expected"] = {"status": "Failed", "output": json.dumps(message), "custom_status": None}
    return record


SCENARIOS: dict[str, Callable[[], dict]] = {
    "fan_out_fan_in": record_fan_out,
    "retries": record_retries,
    "sub_orchestrations": record_sub_orchestrations,
    "timers_and_events": record_timers_and_events,
    "continue_as_new": record_continue_as_new,
    "non_deterministic": record_non_deterministic,
}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    GOLDEN_DIR.mkdir(exist_ok=True)
    for name, scenario in SCENARIOS.items():
        path = GOLDEN_DIR / f"{name}.json"
        path.write_text(json.dumps(scenario(), indent=1, ensure_ascii=False) + "\n")
        log.info("recorded %s", path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
