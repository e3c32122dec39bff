"""Console logging in the shape ``func start`` prints: ``[2024-05-01T10:00:00.123Z] message``."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# What the real host writes as the reason of an invocation.
REASON_HTTP = "This function was programmatically called via the host APIs."
REASON_DURABLE = "(null)"


class HostFormatter(logging.Formatter):
    """UTC timestamps with milliseconds and a ``Z``; the level only when it is a problem."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        millis = int(record.msecs)
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname.lower()}: {text}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return f"[{stamp}.{millis:03d}Z] {text}"


def configure(level: str | int = "info", stream: IO[str] | None = None) -> None:
    """Route the host's loggers to ``stream`` (stderr); quiet the chatty libraries."""
    if isinstance(level, str):
        level = LEVELS.get(level.lower(), logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(HostFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp logs every request at INFO; the real host does not.
    logging.getLogger("aiohttp.access").setLevel(max(level, logging.WARNING))
    logging.getLogger("azure").setLevel(max(level, logging.WARNING))


def executing(log: logging.Logger, level: int, name: str, reason: str, invocation_id: str) -> None:
    if log.isEnabledFor(level):
        log.log(level, "Executing 'Functions.%s' (Reason='%s', Id=%s)", name, reason, invocation_id)


def executed(
    log: logging.Logger,
    level: int,
    name: str,
    succeeded: bool,
    invocation_id: str,
    started: float,
) -> None:
    if log.isEnabledFor(level):
        millis = round((time.perf_counter() - started) * 1000)
        outcome = "Succeeded" if succeeded else "Failed"
        log.log(
            level,
            "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
            name,
            outcome,
            invocation_id,
            millis,
        )
