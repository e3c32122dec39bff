"""The dispatcher's pure rules over stored messages: which ones an episode takes, and when
pending completions are worth an episode at all."""

from __future__ import annotations

from datetime import UTC, datetime

from devhost.core import history
from devhost.core.batching import Message, Readiness, plan_batch

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def messages(*events: dict) -> list[Message]:
    return [Message(n, "i", None, T0, event) for n, event in enumerate(events)]


def started() -> dict:
    return history.execution_started(T0, instance_id="i", execution_id="e", name="O", input=None)


def done(task_id: int) -> dict:
    return history.task_completed(T0, task_id, None)


def failed(task_id: int) -> dict:
    return history.task_failed(T0, task_id, "r", "d")


RAISED = history.event_raised(T0, "E", None)
SUSPEND = history.execution_suspended(T0, "s")
RESUME = history.execution_resumed(T0, "r")
TERMINATE = history.execution_terminated(T0, "t")


def ids(batch_part) -> list[int]:
    return [m.id for m in batch_part]


# ---- plan_batch ---------------------------------------------------------------------------


def test_everything_pending_goes_into_one_episode() -> None:
    batch = plan_batch(messages(done(0), RAISED, done(1)), suspended=False, fresh=False)
    assert (batch.kind, ids(batch.take), ids(batch.leftover)) == ("run", [0, 1, 2], [])


def test_a_terminate_takes_everything_even_when_suspended() -> None:
    pending = messages(done(0), SUSPEND, RAISED, TERMINATE)
    for suspended in (False, True):
        batch = plan_batch(pending, suspended=suspended, fresh=False)
        assert (batch.kind, ids(batch.take)) == ("terminate", [0, 1, 2, 3])


def test_messages_before_a_suspend_are_delivered_first() -> None:
    batch = plan_batch(messages(done(0), SUSPEND, RAISED), suspended=False, fresh=False)
    assert (batch.kind, ids(batch.take), ids(batch.leftover)) == ("run", [0], [1, 2])
    then = plan_batch(batch.leftover, suspended=False, fresh=False)
    assert (then.kind, ids(then.take), ids(then.leftover)) == ("suspend", [1], [2])


def test_a_suspended_instance_holds_everything_but_a_resume() -> None:
    batch = plan_batch(messages(RAISED, SUSPEND, done(3)), suspended=True, fresh=False)
    assert batch.kind == "hold"
    assert (ids(batch.drop), ids(batch.leftover)) == ([1], [0, 2])


def test_a_resume_brings_what_waited_and_stops_at_the_next_suspend() -> None:
    pending = messages(RAISED, RESUME, done(0), SUSPEND, done(1))
    batch = plan_batch(pending, suspended=True, fresh=False)
    assert batch.kind == "resume"
    assert ids(batch.take) == [1, 0, 2]  # ExecutionResumed first
    assert ids(batch.leftover) == [3, 4]


def test_a_resume_without_a_suspension_is_dropped() -> None:
    batch = plan_batch(messages(RESUME, RAISED), suspended=False, fresh=False)
    assert (batch.kind, ids(batch.take), ids(batch.drop)) == ("run", [1], [0])
    alone = plan_batch(messages(RESUME), suspended=False, fresh=False)
    assert (alone.kind, ids(alone.drop)) == ("hold", [0])


def test_a_fresh_execution_starts_before_anything_else() -> None:
    pending = messages(SUSPEND, started(), RAISED)
    batch = plan_batch(pending, suspended=False, fresh=True)
    assert (batch.kind, ids(batch.take), ids(batch.leftover)) == ("run", [1], [0, 2])


# ---- when completions need an episode -------------------------------------------------


def test_quiet_completions_wait_until_the_last_one_arrives() -> None:
    live = Readiness()
    live.set_quiet(frozenset({0, 1, 2}))
    live.note(done(0))
    live.note(done(1))
    live.note(done(1))  # a duplicate counts once
    assert not live.wants_episode()
    live.note(done(2))
    assert live.wants_episode()


def test_anything_but_a_quiet_success_wakes_the_orchestrator() -> None:
    for event in (failed(0), done(7), RAISED, history.timer_fired(T0, 5, T0)):
        live = Readiness()
        live.set_quiet(frozenset({0, 1}))
        live.note(event)
        assert live.wants_episode(), event


def test_completions_that_arrived_during_an_episode_count_against_its_new_quiet_set() -> None:
    live = Readiness()
    live.set_quiet(frozenset({0, 1, 2, 3}))
    live.note(done(2))  # arrives while the episode that consumed 0 and 1 runs
    live.set_quiet(frozenset({2, 3}))
    assert not live.wants_episode()
    live.note(done(3))
    assert live.wants_episode()
    live.clear_pending()
    live.set_quiet(frozenset({4}))
    live.note(done(9))
    live.set_quiet(frozenset({4, 5}))  # 9 is no longer quiet: it needs an episode
    assert live.wants_episode()


def test_a_suspended_instance_only_wakes_for_control_messages() -> None:
    live = Readiness(suspended=True)
    live.note(RAISED)
    live.note(failed(1))
    assert not live.wants_episode()
    live.note(RESUME)
    assert live.wants_episode()
