"""A broken function.json or an import error names the function; the others keep serving."""

from tests.support.host_process import HostProcess

WEBHOOK = "/runtime/webhooks/durabletask"


def test_the_working_function_still_answers(broken_host: HostProcess) -> None:
    answer = broken_host.request("GET", "/api/ping")
    assert (answer.status, answer.body) == (200, b"pong")
    assert broken_host.request("GET", "/api/off").status == 404  # disabled
    assert broken_host.request("GET", "/api/WrongParams").status == 500  # in error


def test_errors_are_logged_with_the_function_and_the_cause(broken_host: HostProcess) -> None:
    log = broken_host.log_tail(50000)
    assert "Function 'BadJson': function.json is not valid JSON" in log
    assert "Function 'NoTrigger': no trigger binding" in log
    assert (
        "Function 'ImportFails' is in error: ModuleNotFoundError: "
        "No module named 'module_that_does_not_exist'"
    ) in log
    # the worker's message (azure_functions_worker/loader.py load_function)
    assert (
        "Function 'MissingMain' is in error: RuntimeError: cannot load function MissingMain: "
        "function main() is not present in MissingMain/__init__.py"
    ) in log
    assert "Function 'OrchestratorBroken' is in error: ZeroDivisionError" in log
    assert "Scheduled: timerTrigger" in log  # timers run (test_timer_triggers.py)
    assert "Function 'BlobOut' is in error" in log and "not supported by this host" in log
    assert "Function 'Off' is disabled" in log
    assert "Ping: [GET] " in log
    assert "Functions not loaded:" in log


def test_orchestrations_using_broken_functions_fail_instead_of_hanging(
    broken_host: HostProcess,
) -> None:
    started = broken_host.request("POST", f"{WEBHOOK}/orchestrators/UsesBrokenActivity/u1")
    assert started.status == 202
    status = broken_host.wait_for_status("u1", {"Failed"})
    assert (
        "Activity function 'ImportFails' failed:  ModuleNotFoundError: "
        "No module named 'module_that_does_not_exist'"
    ) in status["output"]

    started = broken_host.request("POST", f"{WEBHOOK}/orchestrators/OrchestratorBroken/o1")
    assert started.status == 202
    status = broken_host.wait_for_status("o1", {"Failed"})
    assert status["output"].startswith("Orchestrator function 'OrchestratorBroken' failed: ")
    assert "ZeroDivisionError: division by zero" in status["output"]


def test_starting_a_function_that_is_not_an_orchestrator(broken_host: HostProcess) -> None:
    answer = broken_host.request("POST", f"{WEBHOOK}/orchestrators/Ping")
    assert answer.status == 400
    assert answer.json()["ExceptionMessage"] == (
        "The function 'Ping' doesn't exist, is disabled, or is not an orchestrator function. "
        "Additional info: The following are the known orchestrator functions: "
        "'OrchestratorBroken', 'UsesBrokenActivity'."
    )
