"""The tests' names for the shared launcher (``devhost.child``) and poller (``devhost.poll``).

Tests start the host from the project folder, as ``./dev`` does.
"""

from __future__ import annotations

from pathlib import Path

from devhost.child import HostProcess, HostProcessError, running_host
from devhost.poll import TERMINAL, HttpAnswer, http_request, wait_for_status

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent

__all__ = [
    "PROJECT_DIR",
    "TERMINAL",
    "HostProcess",
    "HostProcessError",
    "HttpAnswer",
    "http_request",
    "running_host",
    "wait_for_status",
]
