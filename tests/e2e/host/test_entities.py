"""Entities are not supported by this host: every path says so, nothing hangs."""

from tests.support.host_process import HostProcess

WEBHOOK = "/runtime/webhooks/durabletask"


def test_entity_functions_are_listed_as_not_supported(entities_host: HostProcess) -> None:
    log = entities_host.log_tail(20000)
    assert "CounterEntity: entityTrigger (entities are not supported by this host)" in log


def test_an_orchestration_calling_an_entity_fails_clearly(entities_host: HostProcess) -> None:
    answer = entities_host.request("POST", "/api/orchestrators/UsesEntity")
    assert answer.status == 202
    status = entities_host.wait_for_status(answer.json()["id"], {"Failed"}, timeout=20)
    assert "not supported by this host" in status["output"]


def test_entity_endpoints_and_the_sdk_client_say_not_supported(
    entities_host: HostProcess,
) -> None:
    for method, path in [
        ("GET", "/entities/CounterEntity/k"),
        ("GET", "/entities/CounterEntity"),
        ("POST", "/entities/CounterEntity/k?op=add"),
        ("DELETE", "/entities/CounterEntity/k"),
    ]:
        answer = entities_host.request(method, WEBHOOK + path)
        assert answer.status == 501, (method, path)
        assert "Entities are not supported by this host" in answer.json()["Message"]
    signal = entities_host.request("POST", "/api/signal")
    assert signal.status == 409
    assert b"unexpected status code 501" in signal.body
