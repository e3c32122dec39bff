"""History event factories and the orchestration-trigger payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import azure.durable_functions as df
import pytest

from devhost.core import history as h

T0 = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)

COMMON = ["EventType", "EventId", "IsPlayed", "Timestamp"]


@pytest.mark.parametrize(
    ("event", "event_type", "fields"),
    [
        (h.orchestrator_started(T0), 12, []),
        (h.orchestrator_completed(T0), 13, []),
        (
            h.execution_started(T0, instance_id="i", execution_id="e", name="O", input='"x"'),
            0,
            [
                "OrchestrationInstance",
                "ParentInstance",
                "Name",
                "Version",
                "Input",
                "Tags",
                "Correlation",
                "ParentTraceContext",
                "ScheduledStartTime",
                "Generation",
            ],
        ),
        (h.task_scheduled(T0, 3, "A"), 4, ["Name", "Version", "Input", "ParentTraceContext"]),
        (h.task_completed(T0, 3, "1"), 5, ["TaskScheduledId", "Result"]),
        (
            h.task_failed(T0, 3, "r", "d"),
            6,
            ["TaskScheduledId", "Reason", "Details", "FailureDetails"],
        ),
        (
            h.sub_orchestration_created(T0, 3, "C", "c1"),
            7,
            ["Name", "Version", "InstanceId", "Input", "ClientSpanId"],
        ),
        (h.sub_orchestration_completed(T0, 3, None), 8, ["TaskScheduledId", "Result"]),
        (
            h.sub_orchestration_failed(T0, 3, "r", None),
            9,
            ["TaskScheduledId", "Reason", "Details", "FailureDetails"],
        ),
        (h.timer_created(T0, 3, T0), 10, ["FireAt"]),
        (h.timer_fired(T0, 3, T0), 11, ["TimerId", "FireAt"]),
        (h.event_sent(T0, 3, "@c@k", "op", "{}"), 14, ["InstanceId", "Name", "Input"]),
        (h.event_raised(T0, "E", '"x"'), 15, ["Name", "Input", "ParentTraceContext"]),
        (
            h.execution_completed(T0, 3, h.OrchestrationStatus.COMPLETED, "1"),
            1,
            ["OrchestrationStatus", "Result", "FailureDetails"],
        ),
        (h.continue_as_new(T0, 3, '"2"'), 16, ["OrchestrationStatus", "Result", "FailureDetails"]),
        (h.execution_terminated(T0, "why"), 3, ["Input"]),
        (h.execution_suspended(T0, "why"), 19, ["Reason"]),
        (h.execution_resumed(T0, "why"), 20, ["Reason"]),
    ],
)
def test_factories_emit_every_field_of_the_wire_shape(event, event_type, fields):
    assert list(event) == COMMON + fields
    assert event["EventType"] == event_type
    assert event["IsPlayed"] is False
    assert event["Timestamp"] == "2024-05-01T10:00:00.123456Z"
    scheduling = {4, 7, 10, 14, 1, 16}
    assert (event["EventId"] == 3) if event_type in scheduling else (event["EventId"] == -1)
    json.dumps(event)  # plain JSON values only


def test_execution_started_parent_and_version():
    parent = h.parent_instance(name="P", instance_id="p1", execution_id="pe", task_schedule_id=4)
    event = h.execution_started(
        T0, instance_id="c1", execution_id="ce", name="C", input=None, parent=parent
    )
    assert event["Version"] == ""
    assert event["ParentInstance"] == {
        "Name": "P",
        "Version": "",
        "OrchestrationInstance": {"InstanceId": "p1", "ExecutionId": "pe"},
        "TaskScheduleId": 4,
    }
    assert event["OrchestrationInstance"] == {"InstanceId": "c1", "ExecutionId": "ce"}


def test_continue_as_new_and_terminated_statuses():
    assert h.continue_as_new(T0, 1, None)["OrchestrationStatus"] == 2
    assert (
        h.execution_completed(T0, 1, h.OrchestrationStatus.FAILED, "m")["OrchestrationStatus"] == 3
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), "2024-01-01T00:00:00Z"),
        (datetime(2024, 1, 1, 0, 0, 0, 100000, tzinfo=UTC), "2024-01-01T00:00:00.1Z"),
        (datetime(2024, 1, 1, 0, 0, 0, 120, tzinfo=UTC), "2024-01-01T00:00:00.00012Z"),
        (datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))), "2024-01-01T00:00:00Z"),
        (datetime(2024, 1, 1, 3, 4, 5), "2024-01-01T03:04:05Z"),
    ],
)
def test_format_timestamp(value, text):
    assert h.format_timestamp(value) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-05-01T10:00:00.1234567Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5+02:00", datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01T10:00:00.000000Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text, value):
    parsed = h.parse_timestamp(text)
    assert parsed == value
    assert parsed.tzinfo is not None


def test_timestamps_round_trip():
    value = datetime(2031, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert h.parse_timestamp(h.format_timestamp(value)) == value


def _history_two_episodes():
    t1, t2 = T0, T0 + timedelta(seconds=1)
    return [
        h.orchestrator_started(t1),
        h.execution_started(t1, instance_id="i", execution_id="e", name="O", input='"\\"in\\""'),
        h.task_scheduled(t1, 0, "A"),
        h.orchestrator_completed(t1),
        h.orchestrator_started(t2),
        h.task_completed(t2, 0, '"ok"'),
    ]


def test_payload_marks_played_events_before_the_last_episode_only():
    history = _history_two_episodes()
    payload = json.loads(h.orchestration_payload(instance_id="i", history=history))
    assert [e["IsPlayed"] for e in payload["history"]] == [False, True, False, False, False, False]
    assert payload["isReplaying"] is True
    assert payload["input"] == '"in"'
    assert payload["instanceId"] == "i"
    assert payload["parentInstanceId"] is None
    assert payload["upperSchemaVersion"] == 1
    assert payload["upperSchemaVersionNew"] == 2
    assert payload["longRunningTimerIntervalDuration"] == "3.00:00:00"
    assert payload["maximumShortTimerDuration"] == "6.00:00:00"
    assert payload["defaultHttpAsyncRequestSleepTimeMillseconds"] == 30000
    # The caller's events are left untouched.
    assert not any(e["IsPlayed"] for e in history)


def test_payload_of_a_first_episode_is_not_replaying_and_resets_stale_flags():
    history = _history_two_episodes()[:2]
    history[1] = {**history[1], "IsPlayed": True}
    payload = json.loads(h.orchestration_payload(instance_id="i", history=history))
    assert [e["IsPlayed"] for e in payload["history"]] == [False, False]
    assert payload["isReplaying"] is False


def test_payload_input_and_parent_from_the_history_or_the_arguments():
    parent = h.parent_instance(name="P", instance_id="p1", execution_id="pe", task_schedule_id=0)
    history = [
        h.orchestrator_started(T0),
        h.execution_started(
            T0, instance_id="c", execution_id="e", name="C", input=None, parent=parent
        ),
    ]
    payload = json.loads(h.orchestration_payload(instance_id="c", history=history))
    assert payload["parentInstanceId"] == "p1"
    assert payload["input"] is None
    payload = json.loads(h.orchestration_payload(instance_id="c", history=history, input="[1, 2]"))
    assert payload["input"] == [1, 2]
    payload = json.loads(
        h.orchestration_payload(instance_id="c", history=history, input="not json")
    )
    assert payload["input"] == "not json"


def test_the_sdk_reads_the_payload_and_sees_replay_flags():
    seen = []

    def orchestrator(ctx):
        seen.append(("start", ctx.is_replaying, ctx.get_input()))
        result = yield ctx.call_activity("A", "x")
        seen.append(("after A", ctx.is_replaying, result))
        return result

    handle = df.Orchestrator.create(orchestrator)
    answer = json.loads(
        handle(h.orchestration_payload(instance_id="i", history=_history_two_episodes()))
    )
    assert answer["isDone"] is True
    assert answer["output"] == "ok"
    assert seen == [("start", True, "in"), ("after A", False, "ok")]


def test_payload_of_a_large_history_marks_what_was_played():
    history = [h.orchestrator_started(T0)]
    history.append(h.execution_started(T0, instance_id="i", execution_id="e", name="O", input=None))
    history += [h.task_scheduled(T0, n, "A") for n in range(10_000)]
    history.append(h.orchestrator_completed(T0))
    history.append(h.orchestrator_started(T0))
    history += [h.task_completed(T0, n, str(n)) for n in range(10_000)]
    payload = h.orchestration_payload(instance_id="i", history=history)
    events = json.loads(payload)["history"]
    assert len(events) == len(history) == 20_004
    # Before the last OrchestratorStarted, ExecutionStarted counts as played (TaskScheduled
    # never does, as the extension sends it); the new completions after it are not played.
    assert events[1]["IsPlayed"] is True
    assert {e["IsPlayed"] for e in events[2:10_002]} == {False}
    assert [e["IsPlayed"] for e in events[10_004:]] == [False] * 10_000
