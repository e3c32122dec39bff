from datetime import UTC, datetime, timedelta, timezone

from devhost.contracts import InstanceInfo, RuntimeStatus
from devhost.core import history as h
from devhost.front.status import format_time, history_events, parse_json_or_raw, status_payload

T0 = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def info(**changes) -> InstanceInfo:
    values = dict(
        instance_id="abc",
        name="E1_HelloSequence",
        runtime_status=RuntimeStatus.COMPLETED,
        input='"\\"Tokyo\\""',
        output='["Hello Tokyo!"]',
        custom_status=None,
        created_time=T0,
        last_updated_time=at(3.9),
    )
    values.update(changes)
    return InstanceInfo(**values)


def test_status_payload_keys_values_and_times() -> None:
    payload = status_payload(info())
    assert list(payload) == [
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    ]
    assert payload["runtimeStatus"] == "Completed"
    # SDK-started inputs are JSON string literals: the status shows the inner JSON text.
    assert payload["input"] == '"Tokyo"'
    assert payload["output"] == ["Hello Tokyo!"]
    assert payload["customStatus"] is None
    assert payload["createdTime"] == "2024-05-01T10:00:00Z"
    assert payload["lastUpdatedTime"] == "2024-05-01T10:00:04Z"
    assert "historyEvents" not in payload


def test_status_payload_hides_input_and_shows_raw_failure_text() -> None:
    failed = info(
        runtime_status=RuntimeStatus.FAILED,
        output="Orchestrator function 'X' failed: boom",
        custom_status='{"stage": 2}',
    )
    payload = status_payload(failed, show_input=False, history_events=[])
    assert payload["input"] is None
    assert payload["output"] == "Orchestrator function 'X' failed: boom"
    assert payload["customStatus"] == {"stage": 2}
    assert payload["historyEvents"] == []


def test_parse_json_or_raw_and_format_time() -> None:
    assert parse_json_or_raw(None) is None
    assert parse_json_or_raw("  ") == ""
    assert parse_json_or_raw(" 12 ") == 12
    assert parse_json_or_raw("not json") == "not json"
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2024, 5, 1, 12, 0, 1, 999999, tzinfo=plus_two)) == (
        "2024-05-01T10:00:01Z"
    )


def sample_history() -> list[dict]:
    started = h.execution_started(
        T0, instance_id="abc", execution_id="e1", name="Main", input='"x"'
    )
    return [
        h.orchestrator_started(at(0.1)),
        started,
        h.task_scheduled(at(0.2), 0, "SayHello", '"Tokyo"'),
        h.sub_orchestration_created(at(0.2), 1, "Child", "e1:1", None),
        h.timer_created(at(0.2), 2, at(5)),
        h.orchestrator_completed(at(0.2)),
        h.orchestrator_started(at(1)),
        h.task_completed(at(0.9), 0, '"Hello Tokyo!"'),
        h.event_raised(at(0.95), "Approval", '{"ok":true}'),
        h.sub_orchestration_failed(at(0.97), 1, "child failed", "details"),
        h.orchestrator_completed(at(1)),
        h.orchestrator_started(at(5)),
        h.timer_fired(at(0.2), 2, at(5)),
        h.execution_terminated(at(5), "enough"),
        h.execution_completed(at(5), 3, h.OrchestrationStatus.TERMINATED, "enough"),
        h.orchestrator_completed(at(5)),
    ]


def test_history_events_transformation() -> None:
    events = history_events(sample_history(), show_history_output=False, show_input=False)
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "TimerCreated",
        "TaskCompleted",
        "EventRaised",
        "SubOrchestrationInstanceFailed",
        "TimerFired",
        "ExecutionTerminated",
        "ExecutionCompleted",
    ]
    started, timer_created, completed, raised, sub_failed, fired, terminated, done = events
    assert started["FunctionName"] == "Main"
    for gone in ("Name", "OrchestrationInstance", "ParentInstance", "Version", "Tags", "Input"):
        assert gone not in started
    assert "EventId" not in timer_created and "IsPlayed" not in timer_created
    assert completed == {
        "EventType": "TaskCompleted",
        "Timestamp": h.format_timestamp(at(0.9)),
        "ScheduledTime": h.format_timestamp(at(0.2)),
        "FunctionName": "SayHello",
    }
    assert "Input" not in raised and raised["Name"] == "Approval"
    assert sub_failed["FunctionName"] == "Child"
    assert sub_failed["Reason"] == "child failed"
    assert "TaskScheduledId" not in sub_failed
    assert "TimerId" not in fired and "FireAt" in fired
    assert "Input" not in terminated
    assert done["OrchestrationStatus"] == "Terminated"
    assert "Result" not in done


def test_history_events_keep_inputs_unless_show_input_is_false() -> None:
    # EXT DurableClient.GetDurableOrchestrationStatusAsync removes Input only without showInput
    events = {e["EventType"]: e for e in history_events(sample_history(), False)}
    originals = {e["EventType"]: e for e in sample_history()}
    for name, number in (
        ("ExecutionStarted", h.EventType.EXECUTION_STARTED),
        ("EventRaised", h.EventType.EVENT_RAISED),
        ("ExecutionTerminated", h.EventType.EXECUTION_TERMINATED),
    ):
        assert "Input" in originals[number]
        assert events[name]["Input"] == originals[number]["Input"]
    assert events["ExecutionTerminated"]["Input"] == "enough"
    # a completion shows what its scheduling event held
    assert events["TaskCompleted"]["Input"] == '"Tokyo"'


def test_history_events_with_output_parse_results() -> None:
    events = history_events(sample_history(), show_history_output=True)
    completed = next(e for e in events if e["EventType"] == "TaskCompleted")
    assert completed["Result"] == "Hello Tokyo!"
    done = next(e for e in events if e["EventType"] == "ExecutionCompleted")
    # A terminated orchestration's result is its raw reason text.
    assert done["Result"] == "enough"


def test_unmatched_scheduling_events_stay() -> None:
    events = history_events(
        [
            h.orchestrator_started(T0),
            h.execution_started(T0, instance_id="a", execution_id="e", name="M", input=None),
            h.task_scheduled(at(1), 0, "Pending"),
            h.orchestrator_completed(at(1)),
        ],
        show_history_output=True,
    )
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskScheduled"]
    assert events[1]["Name"] == "Pending" and events[1]["Input"] is None
