"""A small harness that drives an orchestrator ``main`` with hand-built histories.

Histories are built with ``devhost.core.history`` (the extension's wire shape); each call of
``run`` hands the whole history to the real SDK through the function's ``main`` and returns
the parsed OrchestratorState. The test decides which events come next, so ids and timings
are exactly what the test says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devhost.core import history as h

T0 = datetime(2024, 1, 1, tzinfo=UTC)
OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


def encode(value: Any) -> str | None:
    """An activity or sub-orchestration result as the host stores it (compact JSON)."""
    return None if value is None else json.dumps(value, separators=(",", ":"))


@dataclass
class State:
    raw: dict[str, Any]

    @property
    def done(self) -> bool:
        return bool(self.raw.get("isDone"))

    @property
    def error(self) -> str | None:
        return self.raw.get("error")

    @property
    def output(self) -> Any:
        return self.raw.get("output")

    @property
    def custom_status(self) -> Any:
        return self.raw.get("customStatus")

    @property
    def actions(self) -> list[dict[str, Any]]:
        """Top-level actions (schema V3: one inner list)."""
        (inner,) = self.raw["actions"]
        return inner

    def atomic_actions(self) -> list[dict[str, Any]]:
        """Every non-compound action, depth first, in the order the SDK numbers them."""
        found: list[dict[str, Any]] = []

        def walk(action: dict[str, Any]) -> None:
            if action.get("compoundActions") is not None:
                for child in action["compoundActions"]:
                    walk(child)
            else:
                found.append(action)

        for action in self.actions:
            walk(action)
        return found


class Episodes:
    """One orchestration instance's history, grown episode by episode by the test."""

    def __init__(
        self,
        main: Any,
        name: str,
        input_value: Any,
        *,
        instance_id: str = "backup-0123456789abcdef",
        raw_input: str | None = None,
    ) -> None:
        self.main = main
        self.instance_id = instance_id
        self.now = T0
        stored_input = raw_input if raw_input is not None else json.dumps(json.dumps(input_value))
        self.history: list[dict] = [
            h.orchestrator_started(self.now),
            h.execution_started(
                self.now,
                instance_id=instance_id,
                execution_id="0" * 32,
                name=name,
                input=stored_input,
            ),
        ]

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def run(self) -> State:
        """Invoke the orchestrator on the current history (the episode's new events last)."""
        payload = h.orchestration_payload(instance_id=self.instance_id, history=self.history)
        try:
            return State(json.loads(self.main(payload)))
        except Exception as exc:
            _, marker, tail = str(exc).partition(OUT_OF_PROC_MARKER)
            if not marker:
                raise
            return State(json.loads(tail))

    def close(self, *scheduled: dict) -> None:
        """End the episode: the scheduling events the host records, then OrchestratorCompleted."""
        self.history.extend(scheduled)
        self.history.append(h.orchestrator_completed(self.now))

    def open(self, *events: dict) -> None:
        """Start the next episode with these new events."""
        self.history.append(h.orchestrator_started(self.tick()))
        self.history.extend(events)

    # Shortcuts for the events the tests use most ------------------------------------------

    def scheduled(self, task_id: int, name: str) -> dict:
        return h.task_scheduled(self.now, task_id, name)

    def completed(self, task_id: int, value: Any) -> dict:
        return h.task_completed(self.now, task_id, encode(value))

    def failed(self, task_id: int, name: str, message: str) -> dict:
        return h.task_failed(
            self.now,
            task_id,
            f"Activity function '{name}' failed:  {message}",
            '{"$type":"System.Exception","ClassName":"System.Exception"}',
        )

    def sub_created(self, task_id: int, name: str) -> dict:
        return h.sub_orchestration_created(self.now, task_id, name, f"{'0' * 32}:{task_id}")

    def sub_completed(self, task_id: int, value: Any) -> dict:
        return h.sub_orchestration_completed(self.now, task_id, encode(value))

    def sub_failed(self, task_id: int, reason: str) -> dict:
        return h.sub_orchestration_failed(self.now, task_id, reason, "details")

    def timer(self, task_id: int, fire_at: datetime) -> tuple[dict, dict]:
        return h.timer_created(self.now, task_id, fire_at), h.timer_fired(fire_at, task_id, fire_at)
