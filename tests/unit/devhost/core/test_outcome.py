"""Reading an orchestrator invocation's answer, including the SDK's exception tail."""

from __future__ import annotations

import json

import azure.durable_functions as df

from devhost.core import history as h
from devhost.core.outcome import outcome_from_exception, outcome_from_result
from tests.unit.devhost.core.builders import T0


def _first_episode() -> str:
    started = h.execution_started(T0, instance_id="i", execution_id="e", name="O", input=None)
    return h.orchestration_payload(instance_id="i", history=[h.orchestrator_started(T0), started])


def test_a_returned_state_is_parsed():
    def orchestrator(ctx):
        yield ctx.call_activity("A", 1)

    outcome = outcome_from_result(df.Orchestrator.create(orchestrator)(_first_episode()))
    assert outcome.error is None
    assert outcome.state["actions"] == [[{"actionType": 0, "functionName": "A", "input": "1"}]]


def test_the_state_rides_in_the_exception_raised_by_the_sdk():
    def crashing(ctx):
        raise ValueError("bad thing")
        yield  # a generator that fails on its first step

    try:
        df.Orchestrator.create(crashing)(_first_episode())
    except Exception as exc:  # the SDK raises with the state appended
        outcome = outcome_from_exception(exc)
    else:
        raise AssertionError("the SDK did not raise")
    assert outcome.state == {
        "isDone": False,
        "schemaVersion": 2,
        "actions": [[]],
        "error": "bad thing",
    }


def test_an_exception_without_state_gives_the_host_wording():
    outcome = outcome_from_exception(KeyError("missing"))
    assert outcome.state is None
    assert outcome.error == "KeyError: 'missing'"


def test_a_broken_tail_or_answer_is_an_error():
    outcome = outcome_from_exception(RuntimeError("boom\n\n$OutOfProcData$:{not json"))
    assert outcome.state is None
    assert outcome.error == "RuntimeError: boom"
    assert outcome_from_result(None).state is None
    assert outcome_from_result(json.dumps({"isDone": True})).state == {"isDone": True}
