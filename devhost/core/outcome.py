"""Turn what an orchestrator invocation answered into an ``OrchestratorOutcome``.

The SDK returns the OrchestratorState JSON, or, when the user code raised, raises an
exception whose message carries that JSON after ``"\\n\\n$OutOfProcData$:"``. The extension
parses the tail and treats it like a normal answer; anything else fails the orchestration
with the exception text.
"""

from __future__ import annotations

import json
from typing import Any

from devhost.contracts import OrchestratorOutcome

__all__ = ["OUT_OF_PROC_MARKER", "outcome_from_exception", "outcome_from_result"]

OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


def _state(text: str) -> dict[str, Any] | None:
    try:
        state = json.loads(text)
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def outcome_from_result(result: Any) -> OrchestratorOutcome:
    """The outcome of an invocation that returned ``result`` (the SDK returns a JSON str)."""
    if isinstance(result, bytes | bytearray):
        result = result.decode("utf-8")
    if isinstance(result, str):
        state = _state(result)
        if state is not None:
            return OrchestratorOutcome(state=state)
    if isinstance(result, dict):
        return OrchestratorOutcome(state=result)
    return OrchestratorOutcome(
        state=None,
        error="Out of proc orchestrators must return a valid JSON schema",
    )


def outcome_from_exception(exc: BaseException) -> OrchestratorOutcome:
    """The outcome of an invocation that raised ``exc``."""
    message = str(exc)
    head, marker, tail = message.partition(OUT_OF_PROC_MARKER)
    if marker:
        state = _state(tail)
        if state is not None:
            return OrchestratorOutcome(state=state)
    return OrchestratorOutcome(state=None, error=f"{type(exc).__name__}: {head or message}")
