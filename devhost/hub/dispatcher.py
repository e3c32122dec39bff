"""The episode loop: runs orchestration episodes over the store, with the activity pool
(``activities``) and the durable timer waiter (``timers``). ``client.TaskHub`` is the API
that feeds it.

Everything that touches the store or the in-memory bookkeeping runs on the event loop thread,
so a store write and the bookkeeping that follows it can never interleave with another one.
The orchestrator (the SDK's replay, CPU-bound) and the pure replay core run in worker threads.

An episode takes every visible inbox message of its instance, invokes the orchestrator once
with the whole history, asks ``replay.decide`` what that means and commits the answer in one
transaction. Completions that cannot change what the orchestrator does next (the "quiet" ids
of a ``task_all`` it is blocked on) stay in the inbox until they can: that keeps a 10,000-wide
fan-out at a handful of replays instead of one per completion batch.

Longer than most modules (about 450 lines) because it is one class: the in-memory
bookkeeping (``Readiness`` per instance, watchers, workers) is shared by every method, and
splitting it would spread that state over several files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from devhost.contracts import (
    EpisodeDecision,
    FunctionAppProtocol,
    HostOptions,
    OrchestratorOutcome,
    RuntimeStatus,
    SubOrchestrationWork,
)
from devhost.core import history, replay
from devhost.core.batching import Batch, Readiness, plan_batch, starts
from devhost.core.history import EventType
from devhost.hub import episode_writes
from devhost.hub.activities import ActivityPool
from devhost.hub.clock import Clock, RealClock
from devhost.hub.records import ChildStart, EpisodeWrite, InstanceRecord, TimerWrite, WorkItem
from devhost.hub.store import Store
from devhost.hub.timers import TimerWaiter

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Replayed:
    decision: EpisodeDecision
    invoked: bool


class Dispatcher:
    """The episode loop over a ``Store``; ``TaskHub`` (``client``) is its client API.

    Call ``start()`` on the running event loop before use and ``stop()`` at the end; the
    store stays open (its owner closes it). ``episode_counts`` counts orchestrator replays per
    instance, ``metrics`` a few totals.
    """

    def __init__(
        self,
        store: Store,
        app: FunctionAppProtocol,
        options: HostOptions,
        clock: Clock | None = None,
    ) -> None:
        self.hub_name = options.hub_name
        self.store = store
        self.app = app
        self.options = options
        self.clock: Clock = clock if clock is not None else RealClock()
        self.episode_counts: dict[str, int] = {}
        self.metrics: dict[str, int] = {
            "episodes": 0,
            "replays": 0,
            "activities_started": 0,
            "activities_completed": 0,
            "activities_requeued": 0,
            "results_dropped": 0,
        }
        self._live: dict[str, Readiness] = {}
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._activities = ActivityPool(
            store,
            app,
            self.clock,
            limit=options.max_concurrent_activities,
            metrics=self.metrics,
            on_result=self.note,
        )
        self._timers = TimerWaiter(self.clock, self._timer_due)
        self._watchers: dict[str, set[asyncio.Future[None]]] = {}
        self._episode_workers: dict[asyncio.Task[None], bool] = {}
        self._timer_task: asyncio.Task[None] | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._started = False
        self._stopping = False

    @property
    def tracked_instances(self) -> int:
        """Instances with in-memory bookkeeping: those with messages or unfinished work."""
        return len(self._live)

    # ---- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what the store holds and start the workers."""
        if self._started:
            return
        self._started = True
        self._threads = ThreadPoolExecutor(
            max_workers=max(1, self.options.max_concurrent_orchestrations),
            thread_name_prefix="orchestrator",
        )
        now = self.clock.now()
        recovered = self.store.work_items()
        pending = self.store.pending_instances(now)
        for instance_id in pending:
            self._live.setdefault(instance_id, Readiness()).other = True
            self._schedule(instance_id)
        for fire_at, instance_id in self.store.future_timers(now):
            self._timers.add(fire_at, instance_id)
        if recovered or pending or self._timers:
            log.info(
                "Task hub %s recovered: %d activities to run again, %d instances with "
                "messages, %d timers",
                self.hub_name,
                len(recovered),
                len(pending),
                len(self._timers),
            )
        for _ in range(max(1, self.options.max_concurrent_orchestrations)):
            task = asyncio.create_task(self._episode_worker(), name="episode-worker")
            self._episode_workers[task] = False
        self._activities.start(recovered)
        self._timer_task = asyncio.create_task(self._timers.run(), name="timer-loop")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work; let running episodes and activities finish for up to ``grace``
        seconds. Anything cut short is still in the store and runs again after a restart."""
        if not self._started or self._stopping:
            return
        self._stopping = True
        activities_idle = self._activities.stop_taking()
        if self._timer_task is not None:
            self._timer_task.cancel()
        workers = dict(self._episode_workers)
        busy: list[asyncio.Future] = [task for task, working in workers.items() if working]
        for task, working in workers.items():
            if not working:
                task.cancel()
        if activities_idle is not None:
            busy.append(activities_idle)
        if busy:
            _, late = await asyncio.wait(busy, timeout=grace)
            for task in late:
                task.cancel()
        running_activities = self._activities.cancel_running()
        await asyncio.gather(
            *workers,
            *running_activities,
            *[t for t in [self._timer_task] if t],
            return_exceptions=True,
        )
        self._activities.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
        for futures in self._watchers.values():
            for future in futures:
                if not future.done():
                    future.set_result(None)
        log.info("Task hub %s stopped", self.hub_name)

    async def watch(self, instance_id: str, timeout: float) -> None:
        """Return when ``instance_id`` changes, the hub stops, or ``timeout`` seconds pass."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        watchers = self._watchers.setdefault(instance_id, set())
        watchers.add(future)
        try:
            await asyncio.wait([future], timeout=max(0.0, timeout))
        finally:
            watchers.discard(future)
            if not watchers and self._watchers.get(instance_id) is watchers:
                del self._watchers[instance_id]

    # ---- messages and scheduling -------------------------------------------------------

    def send(self, instance_id: str, event: dict) -> None:
        self.store.add_message(instance_id, event, now=self.clock.now())
        self.note(instance_id, event)

    def note(self, instance_id: str, event: dict, *, fresh: bool = False) -> None:
        """A message for ``instance_id`` is in the store: schedule an episode if it needs one."""
        live = self._live.get(instance_id)
        if live is None or fresh:
            if live is None:
                live = self._live[instance_id] = Readiness()
            live.quiet = frozenset()
            live.suspended = live.finished = False
        live.note(event)
        self._schedule(instance_id)

    def _schedule(self, instance_id: str) -> None:
        live = self._live.get(instance_id)
        if live is None or live.queued or live.running or self._stopping:
            return
        if live.wants_episode():
            live.queued = True
            self._ready.put_nowait(instance_id)

    def _timer_due(self, instance_id: str) -> None:
        """A durable timer of ``instance_id`` fell due: its TimerFired is now visible."""
        live = self._live.get(instance_id)
        if live is None:
            live = self._live[instance_id] = Readiness()
        live.other = True
        self._schedule(instance_id)

    def forget(self, instance_id: str) -> None:
        live = self._live.get(instance_id)
        if live is None:
            return
        if live.running:
            live.finished = True  # its worker lets go of it after the episode
        else:
            del self._live[instance_id]

    def changed(self, instance_id: str) -> None:
        for future in self._watchers.pop(instance_id, ()):
            if not future.done():
                future.set_result(None)

    # ---- episodes ----------------------------------------------------------------------

    async def _episode_worker(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        while not self._stopping:
            instance_id = await self._ready.get()
            live = self._live.get(instance_id)
            if live is None:
                continue
            live.queued = False
            live.running = True
            self._episode_workers[me] = True
            try:
                await self._episode(instance_id, live)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bug or a store failure: nothing was committed, the messages are still in
                # the inbox. Retrying at once would loop; the instance waits for a new message.
                log.exception(
                    "Episode of instance %s failed; it will run again on new input", instance_id
                )
            finally:
                live.running = False
                self._episode_workers[me] = False
            if self._live.get(instance_id) is live:
                if live.finished and not live.wants_episode():
                    del self._live[instance_id]
                else:
                    self._schedule(instance_id)

    async def _episode(self, instance_id: str, live: Readiness) -> None:
        record = self.store.get_instance(instance_id)
        now = self.clock.now()
        messages = self.store.visible_messages(instance_id, now)
        live.clear_pending()
        if record is None or record.is_terminal:
            # Messages for an instance that is gone or finished are discarded.
            self.store.discard_messages([m.id for m in messages])
            self.forget(instance_id)
            return
        current = [m for m in messages if m.execution_id in (None, record.execution_id)]
        stale = [m for m in messages if m.execution_id not in (None, record.execution_id)]
        live.suspended = record.runtime_status is RuntimeStatus.SUSPENDED
        past = self.store.get_history(instance_id)
        batch = plan_batch(current, suspended=live.suspended, fresh=not past)
        if not past and batch.kind != "hold" and not starts(batch.take):
            # Cannot happen through this dispatcher (an instance and its ExecutionStarted are
            # written together); replaying without one would only crash the SDK.
            log.error("Instance %s has neither history nor ExecutionStarted", instance_id)
            self.store.discard_messages([m.id for m in stale])
            return
        for message in batch.leftover:
            live.note(message.event)
        consumed = [m.id for m in (*stale, *batch.drop, *batch.take)]
        if batch.kind == "hold":
            self.store.discard_messages([m.id for m in (*stale, *batch.drop)])
            return
        now = episode_writes.not_before(now, past)
        self.metrics["episodes"] += 1
        if batch.kind == "suspend":
            self._commit_suspend(record, batch, consumed, now)
            live.suspended = True
            return
        started = [history.orchestrator_started(now)]
        episode_events = started + [m.event for m in batch.take]
        began = time.perf_counter()
        replayed = await self._replay(record, [*past, *episode_events], batch.kind != "terminate")
        if replayed.invoked:
            self.metrics["replays"] += 1
            self.episode_counts[instance_id] = self.episode_counts.get(instance_id, 0) + 1
        replayed_at = time.perf_counter()
        self._commit_decision(record, live, replayed, episode_events, consumed, now)
        log.debug(
            "Episode of %s: %d past + %d new events, replay %.3fs, commit %.3fs",
            instance_id,
            len(past),
            len(episode_events),
            replayed_at - began,
            time.perf_counter() - replayed_at,
        )

    async def _replay(
        self, record: InstanceRecord, full_history: list[dict], invoke: bool
    ) -> _Replayed:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._threads, self._replay_sync, record, full_history, invoke
        )

    def _replay_sync(
        self, record: InstanceRecord, full_history: list[dict], invoke: bool
    ) -> _Replayed:
        """Invoke the orchestrator and decide (in a worker thread: both are CPU-bound)."""
        outcome: OrchestratorOutcome | None = None
        if invoke:
            payload = history.orchestration_payload(
                instance_id=record.instance_id,
                history=full_history,
                parent_instance_id=record.parent_instance_id,
            )
            try:
                outcome = self.app.invoke_orchestrator(record.name, payload)
            except Exception as error:  # noqa: BLE001 - the app's own guard failed
                outcome = OrchestratorOutcome(None, error=f"{type(error).__name__}: {error}")
        try:
            decision = replay.decide(
                full_history,
                outcome,
                orchestrator_name=record.name,
                execution_id=record.execution_id,
                activity_names=self.app.activity_names,
                orchestrator_names=self.app.orchestrator_names,
            )
        except Exception as error:  # noqa: BLE001 - fail the instance rather than spin
            log.exception("The replay of %s (%s) failed", record.name, record.instance_id)
            message = (
                f"Orchestrator function '{record.name}' failed: {type(error).__name__}: {error}"
            )
            started = full_history[history.last_orchestrator_started_index(full_history)]
            now = history.parse_timestamp(started["Timestamp"])
            next_id = 1 + max((e.get("EventId", -1) for e in full_history), default=-1)
            decision = EpisodeDecision(
                new_events=[
                    history.execution_completed(
                        now, next_id, history.OrchestrationStatus.FAILED, message
                    ),
                    history.orchestrator_completed(now),
                ],
                status=RuntimeStatus.FAILED,
                output=json.dumps(message),
            )
        return _Replayed(decision, invoke)

    def _commit_suspend(
        self, record: InstanceRecord, batch: Batch, consumed: list[int], now: datetime
    ) -> None:
        events = [
            history.orchestrator_started(now),
            batch.take[0].event,
            history.orchestrator_completed(now),
        ]
        write = EpisodeWrite(
            instance_id=record.instance_id,
            execution_id=record.execution_id,
            now=now,
            consumed=consumed,
            events=events,
            status=RuntimeStatus.SUSPENDED,
            # DTFX AzureTableTrackingStore.UpdateStateAsync: the suspend reason is the Output.
            output=batch.take[0].event.get("Reason"),
            custom_status=record.custom_status,
        )
        if self.store.commit_episode(write) is not None:
            self._status_changed(record, RuntimeStatus.SUSPENDED)

    def _commit_decision(
        self,
        record: InstanceRecord,
        live: Readiness,
        replayed: _Replayed,
        episode_events: list[dict],
        consumed: list[int],
        now: datetime,
    ) -> None:
        decision = replayed.decision
        instance_id, execution_id = record.instance_id, record.execution_id
        status = decision.status
        custom_status = decision.custom_status if replayed.invoked else record.custom_status
        new_execution = None
        if status is RuntimeStatus.CONTINUED_AS_NEW:
            new_execution = episode_writes.new_execution(
                record, decision.continue_as_new_input, now
            )
            status = RuntimeStatus.RUNNING
        timers = [
            TimerWrite(t.fire_at, history.timer_fired(now, t.timer_id, t.fire_at))
            for t in decision.timers
        ]
        output = decision.output
        if status is RuntimeStatus.RUNNING and new_execution is None:
            # DTFX AzureTableTrackingStore.UpdateStateAsync: only some events write the
            # instance's Output; ExecutionResumed writes its reason, the rest keep it.
            output = record.output
            for event in episode_events:
                if event.get("EventType") == EventType.EXECUTION_RESUMED:
                    output = event.get("Reason")
        write = EpisodeWrite(
            instance_id=instance_id,
            execution_id=execution_id,
            now=now,
            consumed=consumed,
            events=[*episode_events, *decision.new_events],
            status=status,
            output=output,
            custom_status=custom_status,
            activities=decision.activities,
            timers=timers,
            children=[self._child(record, work, now) for work in decision.sub_orchestrations],
            outgoing=episode_writes.parent_notice(record, decision, now),
            new_execution=new_execution,
        )
        written = self.store.commit_episode(write)
        if written is None:
            log.warning("Instance %s changed execution during its episode", instance_id)
            return
        # Bookkeeping after the commit: nothing below may fail the episode.
        if status.is_terminal:
            self.forget(instance_id)
        else:
            live.set_quiet(frozenset(decision.quiet_ids))
            live.suspended = False
            self._activities.add(
                WorkItem(instance_id, execution_id, work.task_id, work.name, work.input)
                for work in decision.activities
            )
            for timer in decision.timers:
                self._timers.add(timer.fire_at, instance_id)
        if new_execution is not None:
            live.quiet = frozenset()
            live.note(new_execution.started_event)
        for child in written.children_started:
            self.note(child, {"EventType": EventType.EXECUTION_STARTED}, fresh=True)
            self.changed(child)
        for _child_id in written.children_rejected:
            live.note({"EventType": EventType.SUB_ORCHESTRATION_INSTANCE_FAILED})
        for notice in write.outgoing:
            self.note(notice.instance_id, notice.event)
        self._status_changed(record, decision.status)

    def _status_changed(self, record: InstanceRecord, status: RuntimeStatus) -> None:
        if status is not record.runtime_status:
            log.info("Orchestration %s (%s) %s", record.name, record.instance_id, status.value)
        self.changed(record.instance_id)

    def _child(
        self, record: InstanceRecord, work: SubOrchestrationWork, now: datetime
    ) -> ChildStart:
        name = self.app.resolve_name(work.name) or work.name
        return episode_writes.child_start(record, work, name, now)
