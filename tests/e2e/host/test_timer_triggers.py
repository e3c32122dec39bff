"""Timer triggers in the local host, through the real host process and the durable client.

Sources: azure-webjobs-sdk-extensions ``Extensions/Timers`` (``TimerSchedule.Create``,
``TimerListener``, ``ScheduleMonitor.CheckPastDueAsync``, ``TimerInfo``), the Functions host's
``AzureWebJobs.<name>.Disabled`` setting and its "function is in error" report, and the
``azure-functions`` library's ``TimerRequestConverter`` (what the function receives).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.host_process import HostProcess, running_host

APP = Path(__file__).resolve().parents[2] / "apps" / "timers"
WEBHOOK = "/runtime/webhooks/durabletask"
BASE_ENV = {"TZ": "UTC", "AzureWebJobs.Switched.Disabled": "true"}


@pytest.fixture(scope="module")
def timers_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with running_host(APP, tmp_path_factory.mktemp("timers"), env=BASE_ENV) as host:
        yield host


def records(host: HostProcess, prefix: str) -> list[dict]:
    """Completed Record orchestrations a timer function started, oldest first."""
    answer = host.request(
        "GET", f"{WEBHOOK}/instances?instanceIdPrefix={prefix}-&runtimeStatus=Completed"
    )
    assert answer.status == 200, answer
    return sorted(answer.json(), key=lambda s: s["createdTime"])


def wait_for_records(host: HostProcess, prefix: str, count: int, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = records(host, prefix)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(
        f"{len(found)} '{prefix}' runs within {timeout} s, wanted {count}\n{host.log_tail()}"
    )


def test_a_timer_runs_on_schedule_with_a_durable_client(timers_host: HostProcess) -> None:
    runs = wait_for_records(timers_host, "tick", 2)
    seen = runs[0]["output"]
    assert seen["type"] == "TimerRequest"
    assert seen["past_due"] is False
    assert seen["schedule"] == {"AdjustForDST": True}
    # every 2 s is more than once a minute: the extension turns the monitor off
    assert seen["schedule_status"] == {}


def test_run_on_startup_runs_once_at_start(timers_host: HostProcess) -> None:
    [run] = wait_for_records(timers_host, "startup", 1)
    seen = run["output"]
    assert seen["past_due"] is False
    status = seen["schedule_status"]
    next_new_year = datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC)
    assert datetime.fromisoformat(status["Next"]) == next_new_year
    assert status["Next"].endswith("+00:00")


def test_an_invalid_schedule_puts_only_that_function_in_error(timers_host: HostProcess) -> None:
    wait_for_records(timers_host, "tick", 1)
    assert timers_host.request("GET", "/api/Ping").body == b"pong"
    log = timers_host.log_tail(200000)
    assert (
        "The 'BadSchedule' function is in error: Microsoft.Azure.WebJobs.Host: Error indexing "
        "method 'Functions.BadSchedule'. Microsoft.Azure.WebJobs.Extensions: The schedule "
        "expression '0 0 0 11 0 *' was not recognized as a valid cron expression or timespan "
        "string."
    ) in log
    assert (
        "The 'Nightly' function is in error: Microsoft.Azure.WebJobs.Host: Error indexing "
        "method 'Functions.Nightly'. Microsoft.Azure.WebJobs.Host: '%NIGHTLY_SCHEDULE%' does "
        "not resolve to a value."
    ) in log


def test_the_disabled_setting_keeps_a_timer_from_running(timers_host: HostProcess) -> None:
    wait_for_records(timers_host, "tick", 3)
    assert records(timers_host, "switched") == []
    assert "Function 'Switched' is disabled" in timers_host.log_tail(200000)


def test_schedules_follow_website_time_zone(tmp_path: Path) -> None:
    env = {**BASE_ENV, "WEBSITE_TIME_ZONE": "Asia/Tokyo"}
    with running_host(APP, tmp_path / "state", env=env) as host:
        [run] = wait_for_records(host, "startup", 1)
    status = run["output"]["schedule_status"]
    tokyo = ZoneInfo("Asia/Tokyo")
    next_new_year = datetime(datetime.now(tokyo).year + 1, 1, 1, tzinfo=tokyo)
    assert status["Next"] == next_new_year.isoformat()


def _up_and_down_before_an_occurrence(tmp_path: Path) -> tuple[HostProcess, datetime]:
    """A host (stopped again) that ran before its 'Nightly' occurrence ``due``, and ``due``.

    The occurrence must come while the host is down. On a loaded machine the host can take
    longer to start than the lead given: then the setup is tried again with a longer lead
    (a precondition of the test, not a limit on the host's speed).
    """
    for lead in (12, 30, 90):
        due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
        env = {**BASE_ENV, "NIGHTLY_SCHEDULE": f"{due.second} {due.minute} {due.hour} * * *"}
        host = HostProcess(APP, tmp_path / f"state-{lead}", env=env)
        try:
            host.start()
            wait_for_records(host, "startup", 1)
            early = datetime.now(UTC) < due - timedelta(seconds=2)  # time left to stop
        finally:
            if host.running:
                host.stop()
        if early and not ran_nightly(host):
            return host, due
    pytest.fail("the host never started and stopped before its occurrence, even 90 s ahead")


def ran_nightly(host: HostProcess) -> bool:
    """Whether a stopped host's log says it ran 'Nightly' (then the setup did not hold)."""
    return "Executing 'Functions.Nightly'" in host.log_tail(1_000_000)


def test_a_missed_occurrence_runs_once_at_the_next_start_as_past_due(tmp_path: Path) -> None:
    host, due = _up_and_down_before_an_occurrence(tmp_path)
    try:
        while datetime.now(UTC) <= due + timedelta(seconds=1):
            time.sleep(0.2)  # the host is down while the occurrence passes
        host.start()
        [run] = wait_for_records(host, "nightly", 1)
        assert run["output"]["past_due"] is True
        assert datetime.fromisoformat(run["output"]["schedule_status"]["Next"]) == due
        # A third start is not past due: the run moved Next to tomorrow. The listeners decide
        # before the host reports ready, so the log is complete once start() returns.
        host.stop()
        host.start()
        log = host.log_tail(1_000_000)
        assert log.count("The next 5 occurrences of the 'Nightly' schedule") == 3
        assert log.count("Function 'Nightly' is past due on startup. Executing now.") == 1
        assert len(records(host, "nightly")) == 1
    finally:
        if host.running:
            host.stop()


def test_the_admin_api_runs_a_timer_function_now(timers_host: HostProcess) -> None:
    # Functions host AdminController.Invoke (what "Manually run a non HTTP-triggered
    # function" describes): 202, the run uses the stored status and is not past due.
    before = len(wait_for_records(timers_host, "startup", 1))
    answer = timers_host.request(
        "POST", "/admin/functions/startup", '{"input": ""}', {"Content-Type": "application/json"}
    )
    assert answer.status == 202
    runs = wait_for_records(timers_host, "startup", before + 1)
    assert runs[-1]["output"]["past_due"] is False
    assert (
        runs[-1]["output"]["schedule_status"]["Next"]
        == (runs[0]["output"]["schedule_status"]["Next"])
    )
    assert timers_host.request("POST", "/admin/functions/Missing", "{}").status == 404
    assert timers_host.request("POST", "/admin/functions/Ping", "{}").status == 400
    assert timers_host.request("POST", "/admin/functions/Startup", "not json").status == 400
