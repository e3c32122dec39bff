"""The Durable HTTP API and the RPC listener refuse inputs over the extension's message limit.

A 50 MB input used to be accepted, kept in memory and in the store (host memory went from
153 to 767 MB for good). Now it gets a 413 with a message, on both listeners, whether the
client declares the length or streams it in chunks, and the host's memory stays flat.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import psutil

from devhost.front.bodies import MAX_DURABLE_BODY
from tests.support.host_process import HostProcess

MIB = 1 << 20
HUGE = b'"' + b"x" * (50 * MIB) + b'"'
START = "/runtime/webhooks/durabletask/orchestrators/E2_BackupSiteContent"
RPC_START = "/durabletask/orchestrators/E2_BackupSiteContent"


def _post(base: str, path: str, body: bytes, chunked: bool = False) -> tuple[int, bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        if chunked:
            pieces = (body[i : i + MIB] for i in range(0, len(body), MIB))
            connection.request("POST", path, pieces, headers, encode_chunked=True)
        else:
            connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (BrokenPipeError, ConnectionResetError):
        # The host may close the connection once it has answered, before the body is sent.
        return 413, b"(connection closed after the answer)"
    finally:
        connection.close()


def test_a_50_mb_input_gets_413_and_the_host_stays_small(backup_host: HostProcess) -> None:
    process = psutil.Process(backup_host.process.pid)
    before = process.memory_info().rss
    status, body = _post(backup_host.url, START, HUGE)
    assert status == 413, (status, body[:300])
    assert str(f"{MAX_DURABLE_BODY:,}") in json.loads(body)["Message"]
    for _ in range(3):
        status, _ = _post(backup_host.url, START, HUGE, chunked=True)
        assert status == 413
        status, _ = _post(backup_host.rpc_url, RPC_START, HUGE)
        assert status == 413
    grown = process.memory_info().rss - before
    assert grown < 40 * MIB, f"the host grew by {grown / MIB:.0f} MiB"
    listing = backup_host.request("GET", "/runtime/webhooks/durabletask/instances")
    assert listing.json() == [], "an oversized input started an instance"
    # An input within the limit still starts (and fails on its bad path, as it should).
    status, body = _post(backup_host.url, START, json.dumps({"path": "/nowhere"}).encode())
    assert status == 202, body[:300]
