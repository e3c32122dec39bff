"""The durable engine alone: no-op fan-outs of the engine app on the local host.

The app (``bench/apps/engine``) counts orchestrator episodes per instance and the time spent
in each orchestrator invocation inside the host process, and serves them at ``GET /stats``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import BenchError
from bench.host import Host, running_host
from bench.httpapi import request, start_orchestration, wait_until_done
from bench.monitor import Monitor, Usage
from bench.results import ENGINE, ENGINE_PARTITIONED, MiB, Row, error_text
from bench.storage import fresh_azurite

log = logging.getLogger(__name__)

ENGINE_APP = Path(__file__).resolve().parent / "apps" / "engine"
WARMUP_ACTIVITIES = 20


@dataclass(frozen=True)
class EngineRun:
    seconds: float
    output: Any
    stats: dict[str, Any]
    usage: Usage


def fan_out(host: Host, orchestrator: str, payload: dict, timeout: float) -> tuple[float, Any]:
    """Start ``orchestrator`` and wait for it; (seconds from POST to Completed, output)."""
    started = time.perf_counter()
    status_url = start_orchestration(f"{host.url}/orchestrators/{orchestrator}", payload)
    try:
        status = wait_until_done(status_url, timeout, interval=0.1)
    except BenchError as error:
        raise BenchError(f"{error}\nhost log tail:\n{host.log_tail()}") from None
    seconds = time.perf_counter() - started
    if status.get("runtimeStatus") != "Completed":
        raise BenchError(
            f"{orchestrator} {payload} ended {status.get('runtimeStatus')}: "
            f"{str(status.get('output'))[:1000]}"
        )
    return seconds, status.get("output")


def read_stats(host: Host) -> dict[str, Any]:
    answer = request("GET", f"{host.url}/stats")
    if answer.status != 200:
        raise BenchError(f"GET /stats answered {answer.status}: {answer.body[:500]!r}")
    return answer.json()


def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the counters grew by between two ``GET /stats`` answers."""
    old_episodes = before.get("episodes") or {}
    episodes = {
        instance: count - old_episodes.get(instance, 0)
        for instance, count in (after.get("episodes") or {}).items()
        if count - old_episodes.get(instance, 0) > 0
    }
    old_functions = before.get("functions") or {}
    functions = {}
    for name, now in (after.get("functions") or {}).items():
        then = old_functions.get(name, {"calls": 0, "seconds": 0.0})
        functions[name] = {
            "calls": now["calls"] - then["calls"],
            "seconds": now["seconds"] - then["seconds"],
        }
    activities = after.get("activities", 0) - before.get("activities", 0)
    return {"episodes": episodes, "functions": functions, "activities": activities}


def measured_fan_out(
    workdir: Path, label: str, orchestrator: str, payload: dict, timeout: float
) -> EngineRun:
    """One fan-out on a fresh host (a new task hub) after a small untimed one, with the
    resources it used and the counters of the engine app."""
    state = workdir / "hosts" / label
    if state.exists():
        shutil.rmtree(state)
    with fresh_azurite(workdir / "azurite") as server:
        env = {"AzureWebJobsStorage": server.connection_string}
        with running_host(ENGINE_APP, state, env) as host:
            # Untimed: the first orchestration of a fresh host pays one-time costs.
            fan_out(host, "FanOut", {"n": WARMUP_ACTIVITIES}, timeout)
            before = read_stats(host)
            pids = {"host": host.pid, "client": os.getpid(), "azurite": server.process.pid}
            with Monitor(pids, with_children=frozenset({"host"})) as monitor:
                seconds, output = fan_out(host, orchestrator, payload, timeout)
            stats = stats_delta(before, read_stats(host))
    assert monitor.usage is not None
    check_fan_out(orchestrator, payload, output, stats)
    return EngineRun(seconds, output, stats, monitor.usage)


def check_fan_out(orchestrator: str, payload: dict, output: Any, stats: dict[str, Any]) -> None:
    """The fan-out really ran: its output counts ``n`` results and the app's own counter
    saw ``n`` activity executions (an engine that skipped them would look fast)."""
    if output != payload["n"]:
        raise BenchError(f"{orchestrator} {payload} completed with output {output!r}")
    if stats.get("activities") != payload["n"]:
        raise BenchError(
            f"{orchestrator} {payload}: the app counted {stats.get('activities')!r} activity "
            f"executions, expected {payload['n']}"
        )


def _describe(row: Row, run: EngineRun) -> Row:
    row.seconds = run.seconds
    row.runs = [round(run.seconds, 4)]
    row.peak_rss_mib = run.usage.peak_rss["host"] / MiB
    row.cpu_host_s = run.usage.cpu["host"]
    row.cpu_client_s = run.usage.cpu["client"]
    row.cpu_azurite_s = run.usage.cpu["azurite"]
    episodes = run.stats.get("episodes") or {}
    row.instances = len(episodes)
    row.episodes = sum(episodes.values())
    replay_seconds = sum(f["seconds"] for f in (run.stats.get("functions") or {}).values())
    activities = run.stats.get("activities", 0)
    most = max(episodes.values(), default=0)
    row.note = (
        f"episodes: {row.episodes} over {row.instances} instance(s), at most {most} per "
        f"instance; {replay_seconds:.1f} s in orchestrator code; {activities} activity runs"
    )
    return row


def measure_engine(
    workdir: Path, sizes: tuple[int, ...], partitioned: int, partition_size: int, timeout: float
) -> list[Row]:
    """One row per task_all width, and one for the partitioned fan-out (0 skips it)."""
    rows = []
    for n in sizes:
        row = Row("engine", ENGINE, f"engine: {n:,} no-op activities, one task_all", n)
        try:
            run = measured_fan_out(workdir, f"engine-{n}", "FanOut", {"n": n}, timeout)
            rows.append(_describe(row, run))
        except Exception as error:  # a benchmark reports a failure and goes on
            log.exception("engine N=%d failed", n)
            row.error = error_text(error)
            rows.append(row)
    if partitioned:
        parts = -(-partitioned // partition_size)
        row = Row(
            "engine",
            ENGINE_PARTITIONED,
            f"engine: {partitioned:,} no-op activities, {parts} sub-orchestrations",
            partitioned,
        )
        payload = {"n": partitioned, "partition": partition_size}
        try:
            run = measured_fan_out(
                workdir, f"engine-p{partitioned}", "FanOutPartitioned", payload, timeout
            )
            rows.append(_describe(row, run))
        except Exception as error:  # a benchmark reports a failure and goes on
            log.exception("engine partitioned N=%d failed", partitioned)
            row.error = error_text(error)
            rows.append(row)
    return rows
