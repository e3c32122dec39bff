"""``decide`` with hand-built histories and action lists: ids, retries, events, failures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from devhost.contracts import OrchestratorOutcome, RuntimeStatus
from devhost.core import history as h
from devhost.core.replay import ReplayError
from tests.unit.devhost.core.builders import (
    T0,
    History,
    activity,
    continue_as_new,
    retry_activity,
    run,
    scheduled_ids,
    sub,
    sub_retry,
    timer,
    wait,
    when_all,
    when_any,
)

SEC = timedelta(seconds=1)


# -- ids ----------------------------------------------------------------------------------


def test_first_episode_schedules_in_ascending_id_order_and_ends_with_orchestrator_completed():
    decision = run(History(), [activity("A", '"x"'), activity("B")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 0)]
    assert decision.new_events[-1]["EventType"] == h.EventType.ORCHESTRATOR_COMPLETED
    assert [(w.task_id, w.name, w.input) for w in decision.activities] == [(0, "A", '"x"')]
    assert decision.status == RuntimeStatus.RUNNING
    assert all(e["Timestamp"] == h.format_timestamp(T0) for e in decision.new_events)


def test_when_any_then_next_action_takes_the_id_after_its_children():
    history = History().scheduled(0, "A").scheduled(1, "B").next().completed(1)
    decision = run(history, [when_any(activity("A"), activity("B")), activity("C")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 2)]
    # A is still open but nothing waits on it any more: only C may be held.
    assert decision.quiet_ids == frozenset({2})


def test_continuation_runs_inside_the_history_so_later_events_match_new_ids():
    history = History().scheduled(0, "A").next().completed(0).scheduled(1, "B").next().completed(1)
    decision = run(history, [activity("A"), activity("B"), activity("C")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 2)]


def test_empty_when_all_is_done_at_once():
    decision = run(History(), [when_all(), activity("A")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 0)]


def test_names_in_history_match_case_insensitively():
    history = History().scheduled(0, "a").next().completed(0)
    decision = run(history, [activity("A"), activity("b")], activities=frozenset({"A", "B"}))
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 1)]


def test_duplicate_completion_is_ignored():
    history = History().scheduled(0, "A").next().completed(0).scheduled(1, "B").next().completed(0)
    decision = run(history, [activity("A"), activity("B")])
    assert scheduled_ids(decision) == []
    assert decision.status == RuntimeStatus.RUNNING
    assert decision.quiet_ids == frozenset({1})


# -- retries ------------------------------------------------------------------------------


def test_retry_failures_take_timer_then_attempt_ids():
    history = History().scheduled(0, "A").next().failed(0)
    decision = run(history, [retry_activity("A", 1000, 3)])
    assert scheduled_ids(decision) == [("TIMER_CREATED", 1)]
    assert decision.timers[0].fire_at == history.now + SEC
    assert decision.quiet_ids == frozenset()  # the timer's firing schedules a new attempt

    history.timer(1, history.now + SEC).next(history.now + SEC).fired(1)
    decision = run(history, [retry_activity("A", 1000, 3)])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 2)]
    assert decision.quiet_ids == frozenset({2})


def test_retry_last_failure_takes_a_zero_delay_timer_then_fails():
    history = History().scheduled(0, "A").next().failed(0, "r1")
    history.timer(1, history.now + SEC).next(history.now + SEC).fired(1)
    history.scheduled(2, "A").next().failed(2, "r2")
    decision = run(history, [retry_activity("A", 1000, 2), activity("B")])
    assert scheduled_ids(decision) == [("TIMER_CREATED", 3)]
    assert decision.timers[0].fire_at == history.now  # "dummy timer for back-compat"

    history.timer(3, history.now).next().fired(3)
    decision = run(history, [retry_activity("A", 1000, 2), activity("B")])
    # The retry failed; the walk moves on to B.
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 4)]


def test_retry_backoff_and_max_interval_shape_the_delays():
    actions = [
        retry_activity("A", 1000, 5, backoffCoefficient=3.0, maxRetryIntervalInMilliseconds=5000)
    ]
    history = History().scheduled(0, "A").next().failed(0)
    assert run(history, actions).timers[0].fire_at == history.now + 1 * SEC
    history.timer(1, history.now + SEC).next(history.now + SEC).fired(1)
    history.scheduled(2, "A").next().failed(2)
    assert run(history, actions).timers[0].fire_at == history.now + 3 * SEC
    history.timer(3, history.now + 3 * SEC).next(history.now + 3 * SEC).fired(3)
    history.scheduled(4, "A").next().failed(4)
    assert run(history, actions).timers[0].fire_at == history.now + 5 * SEC  # 9 s capped


def test_retry_timeout_stops_retrying_without_a_timer():
    actions = [retry_activity("A", 1000, 5, retryTimeoutInMilliseconds=500), activity("B")]
    history = History().scheduled(0, "A").next(T0 + 2 * SEC).failed(0)
    decision = run(history, actions)
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 1)]


def test_retry_with_zero_attempts_succeeds_without_scheduling():
    decision = run(History(), [retry_activity("A", 1000, 0), activity("B")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 0)]
    assert decision.activities[0].name == "B"


def test_retry_interval_longer_than_the_provider_allows_fails_the_orchestration():
    decision = run(History(), [retry_activity("A", 7 * 24 * 3600 * 1000, 2)])
    assert decision.status == RuntimeStatus.FAILED
    assert "longer than the longest delay" in json.loads(decision.output)


# -- timers ---------------------------------------------------------------------------------


def test_cancelled_timer_is_recorded_but_not_awaited():
    fire = T0 + timedelta(minutes=5)
    history = History().timer(0, fire).next().raised("Go")
    actions = [when_any(wait("Go"), timer(fire, canceled=True))]
    decision = run(history, actions, done=True, output="went")
    assert decision.status == RuntimeStatus.COMPLETED
    assert scheduled_ids(decision) == [("EXECUTION_COMPLETED", 1)]

    # Cancelled before it was ever recorded: TimerCreated is still written, no timer work.
    decision = run(History(), actions, done=True, output="went")
    assert scheduled_ids(decision) == [("TIMER_CREATED", 0), ("EXECUTION_COMPLETED", 1)]
    assert not decision.timers


def test_open_timer_holds_completion_until_it_fires():
    fire = T0 + timedelta(hours=1)
    actions = [when_any(wait("Go"), timer(fire))]
    history = History().timer(0, fire).next().raised("Go")
    decision = run(history, actions, done=True, output="went")
    assert decision.status == RuntimeStatus.RUNNING
    assert decision.quiet_ids == frozenset()
    history.next(fire).fired(0, fire)
    decision = run(history, actions, done=True, output="went")
    assert decision.status == RuntimeStatus.COMPLETED
    assert decision.output == '"went"'


def test_long_timer_continuations_arrive_as_top_level_timers():
    jan4, jan7 = T0 + timedelta(days=3), T0 + timedelta(days=6)
    history = History().timer(0, jan4).next(jan4).fired(0, jan4)
    decision = run(history, [when_all(timer(jan4)), timer(jan7)])
    assert scheduled_ids(decision) == [("TIMER_CREATED", 1)]
    assert decision.timers[0].fire_at == jan7


def test_completion_for_a_timer_that_is_not_open_is_ignored():
    fire = T0 + SEC
    history = History().timer(0, fire).next().raised("Go").next(fire).fired(0, fire)
    actions = [when_any(wait("Go"), timer(fire, canceled=True)), activity("A")]
    decision = run(history, actions)
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 1)]


# -- external events --------------------------------------------------------------------------


def test_event_waiters_are_last_in_first_out():
    fire = T0 + timedelta(hours=1)
    actions = [when_any(when_all(wait("E"), timer(fire)), wait("E")), activity("A")]
    history = History().timer(0, fire).next().raised("E")
    decision = run(history, actions)
    # The newest waiter (the second one) got the event, so the WhenAny finished.
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 1)]


def test_event_raised_before_the_wait_is_buffered_first_in_first_out():
    history = History().scheduled(0, "A").next().raised("E").completed(0)
    decision = run(history, [activity("A"), wait("E"), wait("E"), activity("B")])
    assert scheduled_ids(decision) == []  # one event buffered, the second wait blocks
    history.next().raised("E")
    decision = run(history, [activity("A"), wait("E"), wait("E"), activity("B")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 1)]


def test_event_names_match_case_insensitively_in_the_host():
    history = History().next().raised("APPROVAL")
    decision = run(history, [wait("approval"), activity("A")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 0)]


# -- sub-orchestrations -----------------------------------------------------------------------


def test_sub_orchestration_default_and_explicit_ids_and_child_input():
    decision = run(History(), [when_all(sub("Child", input='"x"'), sub("Child", "kid"))])
    assert [(w.task_id, w.instance_id, w.input) for w in decision.sub_orchestrations] == [
        (0, "exec-1:0", json.dumps('"x"')),
        (1, "kid", json.dumps("null")),
    ]
    created = [e for e in decision.new_events if e["EventType"] == 7]
    assert [(e["EventId"], e["InstanceId"], e["Input"]) for e in created] == [
        (0, "exec-1:0", None),
        (1, "kid", None),
    ]
    assert decision.quiet_ids == frozenset({0, 1})


def test_sub_orchestration_retry_gets_a_new_default_id_per_attempt():
    history = History().sub(0, "Child", "exec-1:0").next().sub_failed(0)
    history.timer(1, history.now + SEC).next(history.now + SEC).fired(1)
    decision = run(history, [sub_retry("Child")])
    assert [(w.task_id, w.instance_id) for w in decision.sub_orchestrations] == [(2, "exec-1:2")]


@pytest.mark.parametrize(
    ("instance_id", "message"),
    [
        ("inst-1", "must be different than the instance ID of a parent orchestration"),
        ("INST-1", "must be different than the instance ID of a parent orchestration"),
        ("@counter@k", "Orchestration instance ids must not start with @"),
    ],
)
def test_invalid_sub_orchestration_ids_fail_the_orchestration(instance_id, message):
    decision = run(History(), [sub("Child", instance_id)])
    assert decision.status == RuntimeStatus.FAILED
    assert message in json.loads(decision.output)


def test_unknown_orchestrator_fails_with_the_extension_message():
    decision = run(History(), [sub("Nope")])
    assert json.loads(decision.output) == (
        "Orchestrator function 'Orch' failed: The function 'Nope' doesn't exist, is disabled, "
        "or is not an orchestrator function. Additional info: The following are the known "
        "orchestrator functions: 'Child', 'Orch'."
    )


def test_unknown_activity_with_no_activities_registered():
    decision = run(History(), [activity("A")], activities=frozenset())
    assert json.loads(decision.output).endswith("No activity functions are currently registered!")


# -- completion, failure, termination ---------------------------------------------------------


def test_completion_output_is_compact_json_and_takes_the_next_id():
    history = History().scheduled(0, "A").next().completed(0)
    decision = run(history, [activity("A")], done=True, output={"a": [1, "é"]}, custom=[1])
    assert scheduled_ids(decision) == [("EXECUTION_COMPLETED", 1)]
    completed = decision.new_events[0]
    assert completed["OrchestrationStatus"] == 1
    assert completed["Result"] == decision.output == '{"a":[1,"é"]}'
    assert decision.custom_status == "[1]"
    assert decision.quiet_ids == frozenset()


def test_completion_without_output_records_null():
    decision = run(History(), [], done=True)
    assert decision.status == RuntimeStatus.COMPLETED
    assert decision.output is None
    assert decision.new_events[0]["Result"] is None


def test_error_waits_for_open_tasks_then_fails_with_the_host_wording():
    history = History().scheduled(0, "A").scheduled(1, "B").next().failed(0)
    actions = [when_all(activity("A"), activity("B"))]
    decision = run(history, actions, error="boom")
    assert decision.status == RuntimeStatus.RUNNING
    assert decision.quiet_ids == frozenset({1})
    history.next().completed(1)
    decision = run(history, actions, error="boom")
    assert decision.status == RuntimeStatus.FAILED
    assert decision.output == json.dumps("Orchestrator function 'Orch' failed: boom")
    assert decision.new_events[0]["Result"] == "Orchestrator function 'Orch' failed: boom"
    assert decision.new_events[0]["EventId"] == 2


def test_outcome_without_state_fails_with_its_error():
    outcome = OrchestratorOutcome(state=None, error="TypeError: nope")
    decision = run(History(), outcome=outcome)
    assert decision.status == RuntimeStatus.FAILED
    assert json.loads(decision.output) == "Orchestrator function 'Orch' failed: TypeError: nope"


def test_continue_as_new_records_the_input_as_a_json_string():
    history = History().scheduled(0, "A").next().completed(0)
    decision = run(history, [activity("A"), continue_as_new('{"n": 2}')], done=True)
    assert decision.status == RuntimeStatus.CONTINUED_AS_NEW
    assert decision.continue_as_new_input == json.dumps('{"n": 2}')
    assert scheduled_ids(decision) == [("CONTINUE_AS_NEW", 1)]
    assert decision.new_events[0]["OrchestrationStatus"] == 2
    assert decision.new_events[0]["Result"] == json.dumps('{"n": 2}')


def test_continue_as_new_waits_for_an_open_timer():
    fire = T0 + SEC
    actions = [when_any(wait("Go"), timer(fire)), continue_as_new("1")]
    history = History().timer(0, fire).next().raised("Go")
    assert run(history, actions, done=True).status == RuntimeStatus.RUNNING


def test_terminate_ends_the_episode_and_schedules_nothing_new():
    history = History().scheduled(0, "A").next().completed(0).terminated("enough")
    decision = run(history, [activity("A"), activity("B")])
    assert decision.status == RuntimeStatus.TERMINATED
    assert decision.output == "enough"
    assert decision.activities == ()
    # B took id 1 when A completed, so the completion takes id 2.
    assert scheduled_ids(decision) == [("EXECUTION_COMPLETED", 2)]
    assert decision.new_events[0]["OrchestrationStatus"] == 5
    assert decision.new_events[0]["Result"] == "enough"


def test_terminate_without_running_the_orchestrator():
    history = History().scheduled(0, "A").scheduled(1, "B").next().terminated(None)
    decision = run(history, outcome=None)
    assert decision.status == RuntimeStatus.TERMINATED
    assert decision.output is None
    assert scheduled_ids(decision) == [("EXECUTION_COMPLETED", 2)]


def test_suspension_events_do_not_change_the_walk():
    history = History().scheduled(0, "A").next()
    history.add(h.execution_suspended(history.now, "pause")).next()
    history.add(h.execution_resumed(history.now, "go")).completed(0)
    decision = run(history, [activity("A"), activity("B")])
    assert scheduled_ids(decision) == [("TASK_SCHEDULED", 1)]
    assert decision.status == RuntimeStatus.RUNNING


def test_no_outcome_and_no_termination_is_a_caller_error():
    with pytest.raises(ReplayError):
        run(History().next(), outcome=None)


def test_history_without_orchestrator_started_is_a_caller_error():
    events = History().events[1:]
    with pytest.raises(ReplayError):
        run(events, [])


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"actionType": 7, "instanceId": "@c@k", "operation": "get", "input": "null"},
            "Durable entities (call_entity) is not supported by this host.",
        ),
        (
            {"actionType": 9, "instanceId": "@c@k", "operation": "add", "input": "1"},
            "Durable entities (signal_entity) is not supported by this host.",
        ),
        (
            {"actionType": 8, "httpRequest": {"method": "GET", "uri": "http://x"}},
            "Durable HTTP (call_http) is not supported by this host.",
        ),
        (
            {"actionType": 99},
            "Received an unexpected action type from the out-of-proc function: '99'.",
        ),
    ],
)
def test_unsupported_actions_fail_the_orchestration(action, message):
    history = History().scheduled(0, "A").next().completed(0)
    decision = run(history, [activity("A"), when_all(action)])
    assert decision.status == RuntimeStatus.FAILED
    assert json.loads(decision.output) == f"Orchestrator function 'Orch' failed: {message}"
    assert scheduled_ids(decision) == [("EXECUTION_COMPLETED", 1)]


def test_older_replay_schema_fails_clearly():
    outcome = OrchestratorOutcome(state={"isDone": False, "actions": [[activity("A")], []]})
    decision = run(History(), outcome=outcome)
    assert decision.status == RuntimeStatus.FAILED
    assert "schema" in json.loads(decision.output)


# -- non-determinism --------------------------------------------------------------------------

TAIL = "Was a change made to the orchestrator code after this instance had already started running?"


def test_non_determinism_missing_task():
    history = History().scheduled(0, "A").next().completed(0)
    decision = run(history, [], done=True)
    assert decision.status == RuntimeStatus.FAILED
    assert json.loads(decision.output) == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration "
        "scheduled an activity task with sequence ID 0 and name 'A' (version ''), but the "
        f"current replay execution hasn't (yet?) scheduled this task. {TAIL}"
    )
    assert decision.new_events[0]["Result"] == json.loads(decision.output)


def test_non_determinism_other_name():
    history = History().scheduled(0, "A").next().completed(0)
    decision = run(history, [activity("B")])
    assert json.loads(decision.output) == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration "
        "scheduled an activity task with sequence number 0 named 'A', but the current "
        "orchestration replay instead scheduled an activity task named 'B' with this sequence "
        f"number.  {TAIL}"
    )


def test_non_determinism_other_kind():
    history = History().scheduled(0, "A").next().completed(0)
    decision = run(history, [timer(T0 + SEC)])
    assert json.loads(decision.output) == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration "
        "scheduled an activity task with sequence number 0 named 'A', but the current "
        "orchestration replay instead produced a CreateTimerOrchestratorAction action with "
        f"this sequence number. {TAIL}"
    )


def test_non_determinism_timer_and_sub_orchestration():
    history = History().timer(0, T0 + SEC).next().fired(0)
    decision = run(history, [])
    assert "scheduled a timer task with sequence number 0 but" in json.loads(decision.output)
    history = History().sub(0, "Child", "exec-1:0").next().sub_completed(0)
    decision = run(history, [activity("A")])
    assert json.loads(decision.output).startswith(
        "Non-Deterministic workflow detected: A previous execution of this orchestration "
        "scheduled a sub-orchestration task with sequence ID 0 and name 'Child' (version '', "
        "instance ID 'exec-1:0'), but the current orchestration replay instead produced a "
        "ScheduleTaskOrchestratorAction action at this sequence number."
    )


# -- quiet ids ----------------------------------------------------------------------------------


def test_quiet_ids_are_the_children_a_when_all_still_needs():
    history = History().scheduled(0, "A").scheduled(1, "B").scheduled(2, "C").next().completed(1)
    decision = run(history, [when_all(activity("A"), activity("B"), activity("C"))])
    assert decision.quiet_ids == frozenset({0, 2})


def test_quiet_ids_follow_nested_when_all_but_not_when_any_or_timers():
    fire = T0 + timedelta(hours=1)
    actions = [
        when_all(
            when_all(activity("A"), activity("B")),
            when_any(activity("C"), activity("D")),
            timer(fire),
        )
    ]
    decision = run(History(), actions)
    assert decision.quiet_ids == frozenset({0, 1})


def test_quiet_ids_skip_losers_of_a_finished_when_any():
    history = History().scheduled(0, "A").scheduled(1, "B").scheduled(2, "C")
    history.next().completed(0)
    actions = [when_all(when_any(activity("A"), activity("B")), activity("C"))]
    decision = run(history, actions)
    assert scheduled_ids(decision) == []
    # C alone finishes the WhenAll; holding C until the loser B completes could stall it.
    assert decision.quiet_ids == frozenset({2})


def test_quiet_ids_after_the_orchestrator_is_done_are_the_open_tasks():
    history = History().scheduled(0, "A").scheduled(1, "B").next().completed(0)
    actions = [when_any(activity("A"), activity("B"))]
    assert run(history, actions, done=True, output=1).quiet_ids == frozenset({1})
    # Not done: the orchestrator may be waiting on B itself.
    assert run(history, actions).quiet_ids == frozenset()


def test_single_activity_is_quiet_by_itself():
    assert run(History(), [activity("A")]).quiet_ids == frozenset({0})
