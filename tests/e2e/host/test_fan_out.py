"""task_all over many activities: one episode schedules them all, the output sums them."""

import json

from tests.support.host_process import HostProcess

COUNT = 300


def test_fan_out_fan_in(fan_out_host: HostProcess) -> None:
    answer = fan_out_host.request(
        "POST", "/api/orchestrators/FanOut", json.dumps(COUNT), {"Content-Type": "application/json"}
    )
    assert answer.status == 202
    links = answer.json()
    assert "taskHub=FanOutHub&connection=Storage" in links["statusQueryGetUri"]
    status = fan_out_host.wait_for_status(links["id"], {"Completed"}, timeout=60)
    assert status["output"] == {"count": COUNT, "sum": sum(i * i for i in range(COUNT))}
    assert status["customStatus"] == {"done": COUNT}
    events = fan_out_host.request(
        "GET", links["statusQueryGetUri"] + "&showHistory=true&showHistoryOutput=true"
    ).json()["historyEvents"]
    completed = [e for e in events if e["EventType"] == "TaskCompleted"]
    assert len(completed) == COUNT
    assert sorted(e["Result"] for e in completed) == sorted(i * i for i in range(COUNT))
    assert not [e for e in events if e["EventType"] == "TaskScheduled"]  # all matched
