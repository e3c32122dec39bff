"""Read one function's ``function.json`` into a FunctionSpec (pure apart from file reads).

Errors name the function and the cause, as the real host's "Functions in error" list does.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.contracts import HostError

DEFAULT_SCRIPT_FILE = "__init__.py"
DEFAULT_ENTRY_POINT = "main"
RETURN = "$return"

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE"})


class FunctionJsonError(HostError):
    """A function.json this host cannot use; the message names the function."""


class FunctionKind(enum.StrEnum):
    HTTP = "httpTrigger"
    ORCHESTRATOR = "orchestrationTrigger"
    ACTIVITY = "activityTrigger"
    ENTITY = "entityTrigger"
    TIMER = "timerTrigger"
    UNSUPPORTED = "unsupported"


_TRIGGER_KINDS = {
    "httptrigger": FunctionKind.HTTP,
    "orchestrationtrigger": FunctionKind.ORCHESTRATOR,
    "activitytrigger": FunctionKind.ACTIVITY,
    "entitytrigger": FunctionKind.ENTITY,
    "timertrigger": FunctionKind.TIMER,
}
CLIENT_TYPES = frozenset({"durableclient", "orchestrationclient"})


@dataclass(frozen=True)
class Binding:
    name: str
    type: str
    direction: str  # "in", "out" or "inout"
    raw: Mapping[str, Any]

    @property
    def type_key(self) -> str:
        return self.type.lower()

    @property
    def is_trigger(self) -> bool:
        return self.type_key.endswith("trigger")


@dataclass(frozen=True)
class FunctionSpec:
    """One function folder as function.json describes it."""

    name: str
    directory: Path
    script_file: Path
    entry_point: str
    disabled: bool
    bindings: tuple[Binding, ...]
    trigger: Binding

    @property
    def kind(self) -> FunctionKind:
        return _TRIGGER_KINDS.get(self.trigger.type_key, FunctionKind.UNSUPPORTED)

    @property
    def client_bindings(self) -> tuple[Binding, ...]:
        return tuple(b for b in self.bindings if b.type_key in CLIENT_TYPES)

    @property
    def http_outputs(self) -> tuple[Binding, ...]:
        return tuple(b for b in self.bindings if b.type_key == "http" and b.direction == "out")

    @property
    def route(self) -> str:
        """The HTTP route template (default: the function name), without slashes around it."""
        route = self.trigger.raw.get("route")
        return (route if isinstance(route, str) and route.strip("/") else self.name).strip("/")

    @property
    def methods(self) -> frozenset[str] | None:
        """Allowed HTTP methods, upper case; None means every method."""
        methods = self.trigger.raw.get("methods")
        if not methods:
            return None
        return frozenset(str(m).upper() for m in methods)

    def unsupported_bindings(self) -> list[Binding]:
        """Bindings this host cannot supply (blob, queue, table... inputs and outputs)."""
        supported: list[Binding] = []
        for binding in self.bindings:
            if binding is self.trigger:
                continue
            if binding.type_key in CLIENT_TYPES and binding.direction == "in":
                continue
            if (
                binding.type_key == "http"
                and binding.direction == "out"
                and self.kind is FunctionKind.HTTP
            ):
                continue
            supported.append(binding)
        return supported


def read_function_json(directory: Path) -> FunctionSpec:
    """Parse ``directory/function.json``; raises FunctionJsonError naming the function."""
    name = directory.name
    path = directory / "function.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise FunctionJsonError(f"Function '{name}': cannot read function.json: {error}") from None
    except ValueError as error:
        raise FunctionJsonError(
            f"Function '{name}': function.json is not valid JSON: {error}"
        ) from None
    return parse_function_json(name, directory, data)


def parse_function_json(name: str, directory: Path, data: Any) -> FunctionSpec:
    def fail(message: str) -> FunctionJsonError:
        return FunctionJsonError(f"Function '{name}': {message}")

    if not isinstance(data, dict):
        raise fail("function.json must hold a JSON object")
    raw_bindings = data.get("bindings")
    if not isinstance(raw_bindings, list) or not raw_bindings:
        raise fail("function.json has no 'bindings' list")

    bindings: list[Binding] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_bindings):
        if not isinstance(raw, dict):
            raise fail(f"binding #{index} is not an object")
        b_name, b_type, b_dir = raw.get("name"), raw.get("type"), raw.get("direction")
        if not isinstance(b_type, str) or not b_type:
            raise fail(f"binding #{index} has no 'type'")
        if not isinstance(b_name, str) or not b_name:
            raise fail(f"the {b_type} binding has no 'name'")
        direction = b_dir.lower() if isinstance(b_dir, str) else ""
        if direction not in ("in", "out", "inout"):
            raise fail(f"binding '{b_name}' has an invalid direction {b_dir!r} (in or out)")
        if b_name != RETURN and not b_name.isidentifier():
            raise fail(f"binding name '{b_name}' is not a valid Python identifier")
        if b_name.lower() in seen:
            raise fail(f"binding name '{b_name}' is used more than once")
        seen.add(b_name.lower())
        bindings.append(Binding(b_name, b_type, direction, raw))

    triggers = [b for b in bindings if b.is_trigger]
    if not triggers:
        raise fail("no trigger binding (a function needs exactly one *Trigger binding)")
    if len(triggers) > 1:
        names = ", ".join(f"'{b.name}'" for b in triggers)
        raise fail(f"more than one trigger binding ({names})")
    trigger = triggers[0]
    if trigger.direction != "in":
        raise fail(f"trigger binding '{trigger.name}' must have direction 'in'")

    script = data.get("scriptFile") or DEFAULT_SCRIPT_FILE
    if not isinstance(script, str):
        raise fail("'scriptFile' must be a string")
    script_path = (directory / script).resolve()
    if script_path.suffix != ".py":
        raise fail(f"scriptFile '{script}' is not a Python file")
    entry_point = data.get("entryPoint") or DEFAULT_ENTRY_POINT
    if not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise fail(f"entryPoint {entry_point!r} is not a valid Python name")

    methods = trigger.raw.get("methods")
    if methods is not None:
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise fail("httpTrigger 'methods' must be a list of strings")
        unknown = sorted({m.upper() for m in methods} - HTTP_METHODS)
        if unknown:
            raise fail(f"httpTrigger 'methods' has unknown HTTP methods: {', '.join(unknown)}")

    disabled = data.get("disabled", False)
    if isinstance(disabled, str):
        disabled = disabled.strip().lower() == "true"

    return FunctionSpec(
        name=name,
        directory=directory,
        script_file=script_path,
        entry_point=entry_point,
        disabled=bool(disabled),
        bindings=tuple(bindings),
        trigger=trigger,
    )
