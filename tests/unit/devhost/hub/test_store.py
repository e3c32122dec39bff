"""The SQLite task hub store: transactions, fencing, continue-as-new, recovery queries, paging."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devhost.contracts import ActivityWork, InstanceExists, InstanceQuery, RuntimeStatus
from devhost.core import history
from devhost.hub.records import (
    ActivityResult,
    ChildStart,
    EpisodeWrite,
    NewExecution,
    Outgoing,
    TimerWrite,
)
from devhost.hub.store import HubLocked, Store

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    hub = Store.open(tmp_path, "UnitHub")
    try:
        yield hub
    finally:
        hub.close()


def start(store: Store, instance_id: str = "i1", execution_id: str = "e1", at: datetime = T0):
    started = history.execution_started(
        at, instance_id=instance_id, execution_id=execution_id, name="Orch", input='"x"'
    )
    return store.create_instance(
        instance_id=instance_id,
        name="Orch",
        execution_id=execution_id,
        input='"x"',
        started_event=started,
        now=at,
    )


def first_episode(store: Store, activities: int = 2, **extra) -> EpisodeWrite:
    """The episode that consumes ExecutionStarted and schedules ``activities`` tasks."""
    messages = store.visible_messages("i1", T0)
    events = [history.orchestrator_started(T0), *(m.event for m in messages)]
    events += [history.task_scheduled(T0, n, "Act") for n in range(activities)]
    events.append(history.orchestrator_completed(T0))
    write = EpisodeWrite(
        instance_id="i1",
        execution_id="e1",
        now=T0,
        consumed=[m.id for m in messages],
        events=events,
        status=RuntimeStatus.RUNNING,
        activities=[ActivityWork(n, "Act", str(n)) for n in range(activities)],
        **extra,
    )
    assert store.commit_episode(write) is not None
    return write


def completion(task_id: int, execution_id: str = "e1", instance_id: str = "i1") -> ActivityResult:
    return ActivityResult(
        instance_id, execution_id, task_id, history.task_completed(T0, task_id, str(task_id))
    )


# ---- opening and locking --------------------------------------------------------------


def test_open_creates_a_wal_database_named_after_the_hub(tmp_path: Path) -> None:
    hub = Store.open(tmp_path / "state", "MyHub")
    try:
        assert hub.path == tmp_path / "state" / "MyHub.sqlite"
        mode = sqlite3.connect(hub.path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    finally:
        hub.close()


def test_a_second_store_on_the_same_hub_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = Store.open(tmp_path, "Locked")
    try:
        with pytest.raises(HubLocked, match="in use by another host process"):
            Store.open(tmp_path, "Locked")
        Store.open(tmp_path, "OtherHub").close()  # another hub in the same folder is fine
    finally:
        first.close()
    Store.open(tmp_path, "Locked").close()


def test_the_lock_holds_across_processes(tmp_path: Path) -> None:
    hub = Store.open(tmp_path, "Shared")
    try:
        code = (
            "import sys\n"
            "from devhost.hub.store import Store, HubLocked\n"
            "try:\n"
            f"    Store.open({str(tmp_path)!r}, 'Shared')\n"
            "except HubLocked as exc:\n"
            "    print('locked:', exc)\n"
            "    sys.exit(3)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 3, done.stdout + done.stderr
        assert "Shared" in done.stdout
    finally:
        hub.close()


# ---- instances ------------------------------------------------------------------------


def test_create_instance_writes_a_pending_row_and_execution_started(store: Store) -> None:
    record = start(store)
    assert record.runtime_status is RuntimeStatus.PENDING
    assert (record.input, record.execution_id) == ('"x"', "e1")
    assert record.created_time == record.last_updated_time == T0
    messages = store.visible_messages("i1", T0)
    assert [m.event["EventType"] for m in messages] == [history.EventType.EXECUTION_STARTED]
    assert messages[0].execution_id == "e1"
    assert store.get_history("i1") == []


def test_create_instance_refuses_a_non_terminal_instance(store: Store) -> None:
    start(store)
    with pytest.raises(InstanceExists):
        start(store, execution_id="e2")
    assert store.get_instance("i1").execution_id == "e1"


def test_create_instance_replaces_a_terminal_instance(store: Store) -> None:
    start(store)
    first_episode(store, activities=1)
    finish = EpisodeWrite(
        instance_id="i1",
        execution_id="e1",
        now=T0,
        consumed=[],
        events=[history.orchestrator_started(T0)],
        status=RuntimeStatus.COMPLETED,
        output='"done"',
    )
    store.commit_episode(finish)
    later = T0 + timedelta(minutes=1)
    record = start(store, execution_id="e2", at=later)
    assert record.runtime_status is RuntimeStatus.PENDING
    assert (record.execution_id, record.output, record.created_time) == ("e2", None, later)
    assert store.get_history("i1") == []
    assert store.work_items() == []
    assert [m.execution_id for m in store.visible_messages("i1", later)] == ["e2"]


# ---- episodes ---------------------------------------------------------------------------


def test_an_episode_commit_appends_history_consumes_inbox_and_schedules_work(
    store: Store,
) -> None:
    start(store)
    store.add_message("i1", history.event_raised(T0, "Go", "1"), now=T0)
    write = first_episode(store, activities=3)
    assert store.get_history("i1") == list(write.events)
    assert store.visible_messages("i1", T0 + timedelta(days=1)) == []
    assert [w.task_id for w in store.work_items()] == [0, 1, 2]
    assert store.work_items()[1].input == "1"
    record = store.get_instance("i1")
    assert record.runtime_status is RuntimeStatus.RUNNING


def test_a_second_episode_appends_after_the_first(store: Store) -> None:
    start(store)
    first = first_episode(store, activities=1)
    later = T0 + timedelta(seconds=5)
    second = EpisodeWrite(
        instance_id="i1",
        execution_id="e1",
        now=later,
        consumed=[],
        events=[history.orchestrator_started(later), history.orchestrator_completed(later)],
        status=RuntimeStatus.RUNNING,
        custom_status='{"step":2}',
    )
    store.commit_episode(second)
    assert store.get_history("i1") == [*first.events, *second.events]
    record = store.get_instance("i1")
    assert (record.custom_status, record.last_updated_time) == ('{"step":2}', later)


def test_an_episode_for_a_replaced_execution_is_not_written(store: Store) -> None:
    start(store)
    stale = EpisodeWrite(
        instance_id="i1",
        execution_id="old",
        now=T0,
        consumed=[m.id for m in store.visible_messages("i1", T0)],
        events=[history.orchestrator_started(T0)],
        status=RuntimeStatus.COMPLETED,
    )
    assert store.commit_episode(stale) is None
    assert store.get_instance("i1").runtime_status is RuntimeStatus.PENDING
    assert len(store.visible_messages("i1", T0)) == 1
    assert store.get_history("i1") == []


def test_a_failing_write_leaves_nothing_behind(store: Store) -> None:
    start(store)
    broken = EpisodeWrite(
        instance_id="i1",
        execution_id="e1",
        now=T0,
        consumed=[m.id for m in store.visible_messages("i1", T0)],
        events=[history.orchestrator_started(T0), {"EventType": 4, "bad": {1, 2}}],
        status=RuntimeStatus.RUNNING,
        activities=[ActivityWork(0, "Act", None)],
    )
    with pytest.raises(TypeError):
        store.commit_episode(broken)
    assert store.get_history("i1") == []
    assert len(store.visible_messages("i1", T0)) == 1
    assert store.work_items() == []
    assert store.get_instance("i1").runtime_status is RuntimeStatus.PENDING


def test_timers_stay_invisible_until_their_fire_time(store: Store) -> None:
    start(store)
    fire_at = T0 + timedelta(minutes=5)
    first_episode(
        store,
        activities=0,
        timers=[TimerWrite(fire_at, history.timer_fired(T0, 0, fire_at))],
    )
    assert store.visible_messages("i1", fire_at - timedelta(microseconds=1)) == []
    assert store.future_timers(T0) == [(fire_at, "i1")]
    due = store.visible_messages("i1", fire_at)
    assert [m.event["EventType"] for m in due] == [history.EventType.TIMER_FIRED]
    assert store.pending_instances(fire_at) == ["i1"]
    assert store.pending_instances(T0) == []


def test_messages_are_delivered_in_order_of_visibility(store: Store) -> None:
    start(store)
    first_episode(store, activities=0)
    fire_at = T0 + timedelta(seconds=10)
    store.add_message("i1", history.timer_fired(T0, 0, fire_at), now=T0, visible_at=fire_at)
    store.add_message("i1", history.event_raised(T0, "early", None), now=T0 + timedelta(seconds=1))
    late = T0 + timedelta(seconds=20)
    store.add_message("i1", history.event_raised(late, "late", None), now=late)
    names = [m.event.get("Name") or "timer" for m in store.visible_messages("i1", late)]
    assert names == ["early", "timer", "late"]


def test_a_finished_instance_drops_its_work_and_messages_and_notifies_its_parent(
    store: Store,
) -> None:
    start(store)
    first_episode(store, activities=2)
    store.add_message("i1", history.event_raised(T0, "late", None), now=T0)
    notice = history.sub_orchestration_completed(T0, 7, '"out"')
    done = store.commit_episode(
        EpisodeWrite(
            instance_id="i1",
            execution_id="e1",
            now=T0,
            consumed=[],
            events=[history.orchestrator_started(T0)],
            status=RuntimeStatus.TERMINATED,
            output="stop",
            outgoing=[Outgoing("parent", "pe", notice)],
        )
    )
    assert done is not None and done.notified == ["parent"]
    assert store.work_items() == []
    assert store.visible_messages("i1", T0) == []
    to_parent = store.visible_messages("parent", T0)
    assert [(m.execution_id, m.event) for m in to_parent] == [("pe", notice)]
    assert store.complete_activities([completion(0)], T0) == []


def test_sub_orchestrations_start_in_the_parents_transaction(store: Store) -> None:
    start(store)
    start(store, instance_id="busy", execution_id="b1")
    children = [
        ChildStart(
            instance_id=child_id,
            name="Child",
            execution_id=f"c{n}",
            input='"\\"in\\""',
            started_event=history.execution_started(
                T0, instance_id=child_id, execution_id=f"c{n}", name="Child", input=None
            ),
            parent_task_id=n,
            conflict_event=history.sub_orchestration_failed(T0, n, "exists", None),
        )
        for n, child_id in enumerate(["kid", "busy"])
    ]
    write = first_episode(store, activities=0, children=children)
    assert write is not None
    kid = store.get_instance("kid")
    assert kid.runtime_status is RuntimeStatus.PENDING
    assert (kid.parent_instance_id, kid.parent_execution_id, kid.parent_task_id) == ("i1", "e1", 0)
    assert kid.parent_name == "Orch"
    assert [m.execution_id for m in store.visible_messages("kid", T0)] == ["c0"]
    # "busy" already runs: the parent hears about it instead of a second instance appearing.
    assert store.get_instance("busy").execution_id == "b1"
    rejected = store.visible_messages("i1", T0)
    assert [m.event["EventType"] for m in rejected] == [
        history.EventType.SUB_ORCHESTRATION_INSTANCE_FAILED
    ]


def test_continue_as_new_resets_the_generation_but_keeps_raised_events(store: Store) -> None:
    start(store)
    fire_at = T0 + timedelta(hours=1)
    first_episode(
        store, activities=1, timers=[TimerWrite(fire_at, history.timer_fired(T0, 1, fire_at))]
    )
    store.add_message("i1", history.event_raised(T0, "keep", '"k"'), now=T0)
    started = history.execution_started(
        T0, instance_id="i1", execution_id="e2", name="Orch", input='"2"'
    )
    store.commit_episode(
        EpisodeWrite(
            instance_id="i1",
            execution_id="e1",
            now=T0,
            consumed=[],
            events=[history.orchestrator_started(T0)],
            status=RuntimeStatus.RUNNING,
            new_execution=NewExecution("e2", '"2"', started),
        )
    )
    record = store.get_instance("i1")
    assert (record.execution_id, record.input, record.runtime_status) == (
        "e2",
        '"2"',
        RuntimeStatus.RUNNING,
    )
    assert store.get_history("i1") == []
    assert store.work_items() == []
    pending = store.visible_messages("i1", fire_at)
    assert [m.event.get("Name") for m in pending] == ["keep", "Orch"]
    assert store.complete_activities([completion(0)], T0) == []


# ---- activity completions -----------------------------------------------------------


def test_completions_are_accepted_once(store: Store) -> None:
    start(store)
    first_episode(store, activities=3)
    accepted = store.complete_activities([completion(0), completion(2), completion(0)], T0)
    assert [r.task_id for r in accepted] == [0, 2]
    assert [w.task_id for w in store.work_items()] == [1]
    inbox = store.visible_messages("i1", T0)
    assert [m.event["TaskScheduledId"] for m in inbox] == [0, 2]
    assert {m.execution_id for m in inbox} == {"e1"}
    assert store.complete_activities([completion(2)], T0) == []


def test_completions_for_another_execution_or_instance_are_dropped(store: Store) -> None:
    start(store)
    first_episode(store, activities=1)
    stale = [completion(0, execution_id="e0"), completion(0, instance_id="nobody")]
    assert store.complete_activities(stale, T0) == []
    assert len(store.work_items()) == 1
    assert store.visible_messages("i1", T0) == []


def test_a_batch_of_ten_thousand_completions_is_one_transaction(store: Store) -> None:
    start(store)
    first_episode(store, activities=10_000)
    results = [completion(n) for n in range(10_000)]
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        accepted = store.complete_activities(results, T0)
    finally:
        store._db.set_trace_callback(None)
    assert len(accepted) == 10_000
    assert store.count_work_items() == 0
    # How long it takes is the benchmark's business; one BEGIN is what keeps it short.
    assert sum(s.strip().upper().startswith("BEGIN") for s in statements) == 1


# ---- recovery ---------------------------------------------------------------------------


def test_state_survives_reopening(tmp_path: Path) -> None:
    hub = Store.open(tmp_path, "Durable")
    start(hub)
    first_episode(hub, activities=2)
    hub.complete_activities([completion(1)], T0)
    hub.close()

    reopened = Store.open(tmp_path, "Durable")
    try:
        assert [w.task_id for w in reopened.work_items()] == [0]
        assert reopened.pending_instances(T0) == ["i1"]
        assert reopened.get_instance("i1").runtime_status is RuntimeStatus.RUNNING
        assert len(reopened.get_history("i1")) == 5
    finally:
        reopened.close()


# ---- queries and purge --------------------------------------------------------------------


def finish(store: Store, instance_id: str, status: RuntimeStatus) -> None:
    record = store.get_instance(instance_id)
    store.commit_episode(
        EpisodeWrite(
            instance_id=instance_id,
            execution_id=record.execution_id,
            now=record.created_time,
            consumed=[],
            events=[],
            status=status,
        )
    )


def test_query_pages_in_creation_order_with_filters(store: Store) -> None:
    for n in range(7):
        start(store, instance_id=f"job-{n}", execution_id=f"e{n}", at=T0 + timedelta(seconds=n))
    start(store, instance_id="other", execution_id="o", at=T0 + timedelta(seconds=3))
    finish(store, "job-1", RuntimeStatus.COMPLETED)
    finish(store, "job-2", RuntimeStatus.FAILED)

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        rows, token = store.query_instances(
            InstanceQuery(instance_id_prefix="job-", top=3, continuation_token=token)
        )
        seen += [r.instance_id for r in rows]
        pages += 1
        if token is None:
            break
    assert seen == [f"job-{n}" for n in range(7)]
    assert pages == 3

    rows, _ = store.query_instances(
        InstanceQuery(statuses=frozenset({RuntimeStatus.COMPLETED, RuntimeStatus.FAILED}))
    )
    assert [r.instance_id for r in rows] == ["job-1", "job-2"]
    rows, _ = store.query_instances(
        InstanceQuery(created_from=T0 + timedelta(seconds=3), created_to=T0 + timedelta(seconds=4))
    )
    assert [r.instance_id for r in rows] == ["job-3", "other", "job-4"]


def test_a_foreign_continuation_token_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="continuation token"):
        store.query_instances(InstanceQuery(continuation_token="not-a-token!"))


def test_purge_deletes_terminal_instances_only(store: Store) -> None:
    start(store, instance_id="running", execution_id="r")
    start(store, instance_id="done", execution_id="d")
    finish(store, "done", RuntimeStatus.COMPLETED)
    assert store.purge("running") == 0
    assert store.purge("nobody") == 0
    assert store.purge("done") == 1
    assert store.get_instance("done") is None
    assert store.get_instance("running") is not None


def test_purge_many_respects_the_filter_and_spares_running_instances(store: Store) -> None:
    for n in range(4):
        start(store, instance_id=f"p{n}", execution_id=f"e{n}", at=T0 + timedelta(seconds=n))
    finish(store, "p0", RuntimeStatus.COMPLETED)
    finish(store, "p1", RuntimeStatus.FAILED)
    finish(store, "p2", RuntimeStatus.TERMINATED)
    only_failed = InstanceQuery(
        statuses=frozenset({RuntimeStatus.FAILED, RuntimeStatus.RUNNING, RuntimeStatus.PENDING})
    )
    assert store.purge_many(only_failed) == 1
    assert store.purge_many(InstanceQuery(created_from=T0 + timedelta(seconds=2))) == 1
    assert store.get_instance("p2") is None
    assert store.purge_many(InstanceQuery()) == 1
    assert [r.instance_id for r in store.query_instances(InstanceQuery())[0]] == ["p3"]
