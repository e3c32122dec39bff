"""The loaded function app: invoke its functions the way the Python worker does.

Values cross the boundary through the ``azure-functions`` library's own converters
(``OrchestrationTriggerConverter``, ``ActivityTriggerConverter``, ``HttpRequestConverter``,
``HttpResponseConverter``, ``DurableClientConverter``), so functions see exactly the objects
they see under the real worker. Loading the folder is ``loader``'s job; the activity threads
are ``threads``', the worker processes ``processes``'.

Longer than most modules (about 470 lines): ``FunctionApp`` is the one object the hub and the
front call for all three kinds of function, and its pools (threads, worker processes, HTTP)
are shared between them.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.functions.durable_functions import (
    ActivityTriggerConverter,
    DurableClientConverter,
    OrchestrationTriggerConverter,
)
from azure.functions.http import HttpResponseConverter
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter

from devhost import logs
from devhost.config import HostConfig
from devhost.contracts import ActivityOutcome, OrchestratorOutcome
from devhost.functions.bindings import RETURN, FunctionKind
from devhost.functions.failure_details import activity_failure_details, worker_stack
from devhost.functions.loader import CONTEXT_PARAMETER, AppLoadError, LoadedFunction, load_functions
from devhost.functions.processes import WorkerProcesses, thread_count, worker_process_count
from devhost.functions.threads import ActivityThreads
from devhost.functions.timer_binding import TimerOptions
from devhost.functions.worker import (
    OUT_OF_PROC_MARKER,
    HttpInvocation,
    HttpResult,
    InvocationContext,
    InvocationIds,
    OutValue,
    activity_failure,
    compact_json,
    http_request,
    http_result,
    stack_text,
    state_from,
)

log = logging.getLogger("devhost.functions.app")

__all__ = ["ActivityThreads", "AppLoadError", "FunctionApp", "LoadedFunction", "load_app"]

# An activity cut short by shutdown runs again after the restart instead of failing.
_STOPPING = ActivityOutcome(failed=True, retryable=True, reason="host is stopping")
_NULL_INPUT = Datum("null", "json")


@dataclass
class FunctionApp:
    """The loaded app: implements ``FunctionAppProtocol`` and invokes HTTP functions."""

    root: Path
    config: HostConfig
    functions: dict[str, LoadedFunction] = field(default_factory=dict)
    # Functions not loaded: bad function.json, disabled, or a trigger this host lacks.
    broken: dict[str, str] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    http_threads: int = 0
    _by_lower: dict[str, str] = field(default_factory=dict, repr=False)
    _activity_pool: ActivityThreads | None = field(default=None, repr=False)
    _workers: WorkerProcesses | None = field(default=None, repr=False)
    _workers_started: bool = field(default=False, repr=False)
    _local_running: int = field(default=0, repr=False)
    _local_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _http_pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _closing: bool = field(default=False, repr=False)
    _ids: InvocationIds = field(default_factory=InvocationIds, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        """Refresh the case-insensitive name index after ``functions`` changed."""
        self._by_lower = {name.lower(): name for name in self.functions}

    # ---- FunctionAppProtocol ---------------------------------------------------------

    def _names(self, kind: FunctionKind) -> frozenset[str]:
        return frozenset(n for n, f in self.functions.items() if f.kind is kind)

    @property
    def orchestrator_names(self) -> frozenset[str]:
        return self._names(FunctionKind.ORCHESTRATOR)

    @property
    def activity_names(self) -> frozenset[str]:
        return self._names(FunctionKind.ACTIVITY)

    @property
    def entity_names(self) -> frozenset[str]:
        return self._names(FunctionKind.ENTITY)

    @property
    def http_functions(self) -> list[LoadedFunction]:
        return [f for f in self.functions.values() if f.kind is FunctionKind.HTTP]

    @property
    def timers(self) -> list[TimerOptions]:
        """The timer functions that loaded (a bad schedule puts a function in error)."""
        return [
            f.timer
            for f in self.functions.values()
            if f.timer is not None and f.error is None and f.main is not None
        ]

    def resolve_name(self, name: str) -> str | None:
        return self._by_lower.get(name.lower())

    def _get(self, name: str, kind: FunctionKind) -> LoadedFunction | None:
        resolved = self.resolve_name(name)
        function = self.functions.get(resolved) if resolved else None
        return function if function is not None and function.kind is kind else None

    def invoke_orchestrator(self, name: str, context_json: str) -> OrchestratorOutcome:
        function = self._get(name, FunctionKind.ORCHESTRATOR)
        if function is None:
            return OrchestratorOutcome(
                None,
                error=f"The function '{name}' doesn't exist, is disabled, or is not an "
                "orchestrator function.",
            )
        if function.error or function.main is None:
            return OrchestratorOutcome(None, error=function.error)
        invocation_id = self._ids.next()
        started = time.perf_counter()
        logs.executing(log, logging.DEBUG, function.name, logs.REASON_DURABLE, invocation_id)
        outcome = self._run_orchestrator(function, context_json, invocation_id)
        failed = outcome.state is None or bool(outcome.state.get("error"))
        logs.executed(log, logging.DEBUG, function.name, not failed, invocation_id, started)
        return outcome

    def _run_orchestrator(
        self, function: LoadedFunction, context_json: str, invocation_id: str
    ) -> OrchestratorOutcome:
        assert function.main is not None
        try:
            context = OrchestrationTriggerConverter.decode(
                Datum(context_json, "string"), trigger_metadata=None
            )
            kwargs = self._kwargs(function, {function.spec.trigger.name: context}, invocation_id)
            result = function.main(**kwargs)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError(
                    "an orchestrator's main must be synchronous "
                    "(main = df.Orchestrator.create(generator_function))"
                )
            datum = OrchestrationTriggerConverter.encode(result, expected_type=None)
            return OrchestratorOutcome(state_from(datum.value))
        except Exception as error:  # every failure becomes the outcome
            message = str(error)
            _, marker, tail = message.partition(OUT_OF_PROC_MARKER)
            if marker:
                try:
                    # The SDK raises its own exception from the user's: the stack shows where
                    # that one was raised.
                    raised = error.__cause__ or error
                    stack = worker_stack(_user_frames(raised.__traceback__))
                    return OrchestratorOutcome(state_from(tail.strip()), stack=stack)
                except ValueError:
                    pass  # a tail we cannot read: report the exception itself
            return OrchestratorOutcome(None, error=f"{type(error).__name__}: {message}")

    def _activity(self, name: str) -> LoadedFunction | ActivityOutcome:
        """The activity to run, or the outcome that answers for it (unknown, broken, stopping)."""
        function = self._get(name, FunctionKind.ACTIVITY)
        if function is None:
            return activity_failure(
                name,
                f"The function '{name}' doesn't exist, is disabled, or is not an "
                "activity function.",
                "",
            )
        if function.error or function.main is None:
            return activity_failure(function.name, function.error or "not loaded", "")
        if self._closing:
            return _STOPPING
        return function

    async def invoke_activity(self, name: str, input_json: str | None) -> ActivityOutcome:
        function = self._activity(name)
        if isinstance(function, ActivityOutcome):
            return function
        if not function.is_async:
            # Decode, call and encode in one trip to the pool: the loop only gets the outcome.
            loop = asyncio.get_running_loop()
            try:
                pool = self._activities()
                return await loop.run_in_executor(
                    pool, self._run_sync_activity, function, input_json
                )
            except RuntimeError:
                if self._closing:  # the pool is shut down: run it again after the restart
                    return _STOPPING
                raise
        invocation_id = self._ids.next()
        started = time.perf_counter()
        logs.executing(log, logging.DEBUG, function.name, logs.REASON_DURABLE, invocation_id)
        try:
            value = _decode_activity_input(input_json)
            kwargs = self._activity_kwargs(function, value, invocation_id)
            result = await self._call(function, kwargs, self._activities())
            outcome = _activity_result(result)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # every failure becomes TaskFailed
            outcome = self._activity_error(function, error)
        logs.executed(log, logging.DEBUG, function.name, not outcome.failed, invocation_id, started)
        return outcome

    def submit_activity(
        self, name: str, input_json: str | None, done: Callable[[ActivityOutcome], None]
    ) -> bool:
        """Run a synchronous activity in the activity pool; ``done(outcome)`` is called in the
        pool's thread when it ends. False when the activity is not one to run this way (async,
        unknown, broken, host stopping): ``invoke_activity`` answers for it then.

        The same invocation as ``invoke_activity``, without a trip through the event loop per
        activity: the caller collects outcomes and hands them to its loop in batches.
        """
        function = self._activity(name)
        if isinstance(function, ActivityOutcome) or function.is_async:
            return False
        workers = self._worker_processes()
        if workers is not None:
            running, child = workers.least_busy()
            # Ties go to the child: this process also replays orchestrators and runs the loop.
            to_child = child is not None and running <= self._local_running
            if to_child and child.send(name, input_json, done):
                return True
        try:
            pool = self._activities()
        except RuntimeError:  # the pool is shut down: the host is stopping
            return False
        with self._local_lock:
            self._local_running += 1
        try:
            pool.run(self._report_sync_activity, function, input_json, done)
        except RuntimeError:  # shut down meanwhile
            with self._local_lock:
                self._local_running -= 1
            return False
        return True

    @property
    def worker_pids(self) -> list[int]:
        """The child worker processes started so far (none with one worker process)."""
        return self._workers.pids if self._workers is not None else []

    def run_activity(self, name: str, input_json: str | None) -> ActivityOutcome:
        """One synchronous activity invocation in the calling thread (a worker process's)."""
        function = self._activity(name)
        if isinstance(function, ActivityOutcome):
            return function
        return self._run_sync_activity(function, input_json)

    def _worker_processes(self) -> WorkerProcesses | None:
        """The child worker processes FUNCTIONS_WORKER_PROCESS_COUNT asks for, started on the
        first activity (None with the default of one worker: this process)."""
        if not self._workers_started and not self._closing:
            self._workers_started = True
            count = worker_process_count()
            if count > 1:
                threads = thread_count(self.config.max_concurrent_activities)
                self._workers = WorkerProcesses(self.root, self.config, count - 1, threads)
                log.info("Started %d more worker processes: %s", count - 1, self._workers.pids)
        return self._workers

    def _report_sync_activity(
        self,
        function: LoadedFunction,
        input_json: str | None,
        done: Callable[[ActivityOutcome], None],
    ) -> None:
        try:
            outcome = self._run_sync_activity(function, input_json)
        except BaseException as error:  # noqa: BLE001 - done() must hear of every activity
            outcome = _activity_failure(function.name, error)
        with self._local_lock:
            self._local_running -= 1
        done(outcome)

    def _run_sync_activity(
        self, function: LoadedFunction, input_json: str | None
    ) -> ActivityOutcome:
        """One invocation of a synchronous activity, in a pool thread."""
        assert function.main is not None
        invocation_id = self._ids.next()
        started = time.perf_counter()
        logs.executing(log, logging.DEBUG, function.name, logs.REASON_DURABLE, invocation_id)
        try:
            value = _decode_activity_input(input_json)
            kwargs = self._activity_kwargs(function, value, invocation_id)
            result = function.main(**kwargs)
            if inspect.isawaitable(result):
                result = asyncio.run(_awaited(result))
            outcome = _activity_result(result)
        except Exception as error:  # every failure becomes TaskFailed
            outcome = self._activity_error(function, error)
        logs.executed(log, logging.DEBUG, function.name, not outcome.failed, invocation_id, started)
        return outcome

    def _activity_kwargs(
        self, function: LoadedFunction, value: Any, invocation_id: str
    ) -> dict[str, Any]:
        name = function.spec.trigger.name
        kwargs = {name: value} if function.wants(name) else {}
        if function.wants_context:
            kwargs[CONTEXT_PARAMETER] = InvocationContext(invocation_id, function.spec)
        return kwargs

    def _activity_error(self, function: LoadedFunction, error: Exception) -> ActivityOutcome:
        if self._closing:
            # Host stopping: the activity must run again, not be recorded as failed.
            return _STOPPING
        outcome = _activity_failure(function.name, error)
        log.warning("%s", outcome.reason)
        return outcome

    # ---- HTTP functions --------------------------------------------------------------

    async def invoke_http(
        self, name: str, request: HttpInvocation, client_json: str | None
    ) -> HttpResult:
        """Run an httpTrigger function; an exception answers 500 with an empty body."""
        function = self._get(name, FunctionKind.HTTP)
        if function is None:
            return HttpResult(404)
        invocation_id = self._ids.next()
        started = time.perf_counter()
        logs.executing(log, logging.INFO, function.name, logs.REASON_HTTP, invocation_id)
        try:
            if function.error or function.main is None:
                raise AppLoadError(function.error or "not loaded")
            result = await self._run_http(function, request, client_json, invocation_id)
        except Exception as error:  # the real host answers 500
            _log_failure(function, error, invocation_id, started)
            return HttpResult(500)
        logs.executed(log, logging.INFO, function.name, True, invocation_id, started)
        return result

    async def _run_http(
        self,
        function: LoadedFunction,
        request: HttpInvocation,
        client_json: str | None,
        invocation_id: str,
    ) -> HttpResult:
        spec = function.spec
        values: dict[str, Any] = {spec.trigger.name: http_request(request)}
        for binding in spec.client_bindings:
            values[binding.name] = DurableClientConverter.decode(
                Datum(client_json, "string"), trigger_metadata=None
            )
        outs = {b.name: OutValue() for b in spec.http_outputs if b.name != RETURN}
        values.update(outs)
        kwargs = self._kwargs(function, values, invocation_id, request.trace_parent)
        returned = await self._call(function, kwargs, self._http())
        has_return = any(b.name == RETURN for b in spec.bindings)
        if returned is not None and not has_return:
            raise TypeError(
                f"function {spec.name!r} without a $return binding returned a non-None value"
            )
        response = returned
        if response is None:
            response = next((o.get() for o in outs.values() if o.get() is not None), None)
        if response is None:
            return HttpResult(204)
        return http_result(HttpResponseConverter.encode(response, expected_type=None))

    # ---- timer functions -------------------------------------------------------------

    async def invoke_timer(self, name: str, timer_json: str, client_json: str | None) -> bool:
        """Run a timerTrigger function with ``func.TimerRequest``; True when it succeeded."""
        function = self._get(name, FunctionKind.TIMER)
        if function is None or function.main is None:
            return False
        invocation_id = self._ids.next()
        started = time.perf_counter()
        reason = f"Timer fired at {datetime.now(UTC).astimezone().isoformat()}"
        logs.executing(log, logging.INFO, function.name, reason, invocation_id)
        spec = function.spec
        try:
            # The worker decodes the host's TimerInfo JSON with the library's converter.
            values: dict[str, Any] = {
                spec.trigger.name: TimerRequestConverter.decode(
                    Datum(timer_json, "json"), trigger_metadata=None
                )
            }
            for binding in spec.client_bindings:
                values[binding.name] = DurableClientConverter.decode(
                    Datum(client_json, "string"), trigger_metadata=None
                )
            kwargs = self._kwargs(function, values, invocation_id)
            await self._call(function, kwargs, self._http())
        except Exception as error:  # logged like the real host; the schedule goes on
            _log_failure(function, error, invocation_id, started)
            return False
        logs.executed(log, logging.INFO, function.name, True, invocation_id, started)
        return True

    # ---- plumbing --------------------------------------------------------------------

    def _kwargs(
        self,
        function: LoadedFunction,
        values: Mapping[str, Any],
        invocation_id: str,
        trace_parent: str = "",
    ) -> dict[str, Any]:
        kwargs = {k: v for k, v in values.items() if function.wants(k)}
        if function.wants_context:
            kwargs[CONTEXT_PARAMETER] = InvocationContext(
                invocation_id, function.spec, trace_parent
            )
        return kwargs

    async def _call(self, function: LoadedFunction, kwargs: dict[str, Any], pool: Executor) -> Any:
        assert function.main is not None
        if function.is_async:
            return await function.main(**kwargs)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(pool, functools.partial(function.main, **kwargs))
        if inspect.isawaitable(result):
            result = await result
        return result

    def _activities(self) -> ActivityThreads:
        if self._closing:
            raise RuntimeError("host is stopping")
        if self._activity_pool is None:
            self._activity_pool = ActivityThreads(
                thread_count(self.config.max_concurrent_activities), name="activity"
            )
        return self._activity_pool

    def _http(self) -> ThreadPoolExecutor:
        if self._closing:
            raise RuntimeError("host is stopping")
        if self._http_pool is None:
            workers = self.http_threads or min(32, (os.cpu_count() or 1) + 4)
            self._http_pool = ThreadPoolExecutor(workers, thread_name_prefix="http")
        return self._http_pool

    def close(self, wait: bool = True) -> None:
        """Stop the thread pools (activities already running finish when ``wait``)."""
        self._closing = True
        if self._workers is not None:
            self._workers.stop(wait)
        for pool in (self._activity_pool, self._http_pool):
            if pool is not None:
                pool.shutdown(wait=wait, cancel_futures=True)


def _activity_failure(name: str, error: BaseException) -> ActivityOutcome:
    """TaskFailed as the extension records it: reason and serialised exception details."""
    message = f"{type(error).__name__}: {error}"
    stack = worker_stack(_user_frames(error.__traceback__))
    return activity_failure(name, message, activity_failure_details(message, stack))


def _user_frames(tb: Any) -> Any:
    """The traceback without this module's frames, as the worker's starts at its own."""
    here = os.path.abspath(__file__)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == here:
        tb = tb.tb_next
    return tb


def _decode_activity_input(input_json: str | None) -> Any:
    datum = _NULL_INPUT if input_json is None else Datum(input_json, "json")
    return ActivityTriggerConverter.decode(datum, trigger_metadata=None)


def _activity_result(result: Any) -> ActivityOutcome:
    if result is None:
        return ActivityOutcome()  # the converter's "null": TaskCompleted.Result is null
    datum = ActivityTriggerConverter.encode(result, expected_type=None)
    return ActivityOutcome(result=compact_json(datum.value))


async def _awaited(awaitable: Any) -> Any:
    # A synchronous main that returns an awaitable: the worker awaits it.
    return await awaitable


def load_app(
    root: Path, config: HostConfig, environ: Mapping[str, str] | None = None
) -> FunctionApp:
    """Read every ``*/function.json`` and import the functions (see ``loader``)."""
    found = load_functions(root, config, environ)
    return FunctionApp(
        root=found.root,
        config=config,
        functions=found.functions,
        broken=found.broken,
        disabled=found.disabled,
        skipped=found.skipped,
    )


def _log_failure(
    function: LoadedFunction, error: BaseException, invocation_id: str, started: float
) -> None:
    """A function that raised, logged in the real host's words."""
    logs.executed(log, logging.INFO, function.name, False, invocation_id, started)
    log.error(
        "Exception while executing function: Functions.%s. Result: Failure\n"
        "Exception: %s: %s\nStack: %s",
        function.name,
        type(error).__name__,
        error,
        stack_text(error, __file__),
    )
