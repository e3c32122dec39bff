"""The resource monitor against a real child process that allocates and burns CPU."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.monitor import Monitor

MiB = 1024 * 1024

CHILD = """
import sys, time
block = bytearray(80 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1  # touch every page so it is resident
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
print("done", flush=True)
sys.stdin.read()
"""


def test_monitor_sees_the_peak_memory_and_cpu_of_a_process() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with Monitor({"child": child.pid}, interval=0.02) as monitor:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "done"
            deadline = time.monotonic() + 10
            while monitor.peak_rss["child"] < 80 * MiB:
                assert time.monotonic() < deadline, f"peak seen: {monitor.peak_rss}"
                time.sleep(0.02)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)
    assert monitor.usage is not None
    assert monitor.usage.peak_rss["child"] >= 80 * MiB
    assert monitor.usage.cpu["child"] >= 0.25


def test_a_process_that_is_gone_counts_as_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    with Monitor({"gone": child.pid}) as monitor:
        pass
    assert monitor.usage is not None
    assert monitor.usage.cpu == {"gone": 0.0}
    assert monitor.usage.peak_rss == {"gone": 0}
