"""Find the app's functions and import their entry points, as the Python worker does.

Modules are imported as the Python worker imports them (``imports``: ``__app__.<Folder>``, the
app root last on ``sys.path``). A broken function is reported and the others still load.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.config import HostConfig
from devhost.contracts import HostError
from devhost.functions.bindings import (
    RETURN,
    FunctionJsonError,
    FunctionKind,
    FunctionSpec,
    read_function_json,
)
from devhost.functions.imports import load_function
from devhost.functions.routes import RouteError, RouteTemplate, parse_route
from devhost.functions.schedules import ScheduleError
from devhost.functions.timer_binding import TimerOptions, timer_options
from devhost.functions.worker import stack_text

__all__ = ["AppContents", "AppLoadError", "LoadedFunction", "load_functions"]

log = logging.getLogger("devhost.functions.app")

CONTEXT_PARAMETER = "context"
NOT_SUPPORTED = "not supported by this host"


class AppLoadError(HostError):
    """The app folder cannot be loaded at all."""


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    main: Callable[..., Any] | None = None
    error: str | None = None  # set when the function is in error (import failed...)
    is_async: bool = False
    parameters: frozenset[str] | None = None  # None: signature unknown, pass everything
    route: RouteTemplate | None = None
    timer: TimerOptions | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> FunctionKind:
        return self.spec.kind

    def wants(self, parameter: str) -> bool:
        return self.parameters is None or parameter in self.parameters

    @functools.cached_property
    def wants_context(self) -> bool:
        """Declares a ``context`` parameter that is not one of its bindings."""
        return (
            self.parameters is not None
            and CONTEXT_PARAMETER in self.parameters
            and all(b.name != CONTEXT_PARAMETER for b in self.spec.bindings)
        )


def _function_folders(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and (p / "function.json").is_file()),
        key=lambda p: p.name.lower(),
    )


def _is_disabled(spec: FunctionSpec, environ: Mapping[str, str]) -> bool:
    setting = environ.get(f"AzureWebJobs.{spec.name}.Disabled", "")
    return spec.disabled or setting.strip().lower() in ("1", "true")


@dataclass
class AppContents:
    """What an app folder holds, function by function."""

    root: Path
    functions: dict[str, LoadedFunction] = field(default_factory=dict)
    # Functions not loaded: bad function.json, disabled, or a trigger this host lacks.
    broken: dict[str, str] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def load_functions(
    root: Path, config: HostConfig, environ: Mapping[str, str] | None = None
) -> AppContents:
    """Read every ``*/function.json`` and import the functions.

    A broken function is reported (``broken`` or ``LoadedFunction.error``) and the others
    still load, as the real host keeps serving the functions that are fine.
    """
    env = os.environ if environ is None else environ
    root = root.resolve()
    if not root.is_dir():
        raise AppLoadError(f"app folder {root} does not exist")
    app = AppContents(root=root)
    wanted = {n.lower() for n in config.functions} if config.functions is not None else None
    for folder in _function_folders(root):
        if wanted is not None and folder.name.lower() not in wanted:
            continue
        try:
            spec = read_function_json(folder)
        except FunctionJsonError as error:
            app.broken[folder.name] = str(error)
            log.error("%s", error)
            continue
        if _is_disabled(spec, env):
            app.disabled.append(spec.name)
            log.info("Function '%s' is disabled", spec.name)
            continue
        if spec.kind is FunctionKind.UNSUPPORTED:
            reason = f"the {spec.trigger.type} trigger is {NOT_SUPPORTED}"
            app.skipped[spec.name] = reason
            log.warning("Function '%s' skipped: %s", spec.name, reason)
            continue
        app.functions[spec.name] = _load_function(spec, root, env)
    return app


def _load_function(spec: FunctionSpec, root: Path, env: Mapping[str, str]) -> LoadedFunction:
    function = LoadedFunction(spec)
    unsupported = spec.unsupported_bindings()
    if unsupported:
        b = unsupported[0]
        function.error = f"the {b.type} binding '{b.name}' ({b.direction}) is {NOT_SUPPORTED}"
    elif spec.kind is FunctionKind.HTTP:
        try:
            function.route = parse_route(spec.route)
        except RouteError as error:
            function.error = str(error)
    elif spec.kind is FunctionKind.TIMER:
        try:
            function.timer = timer_options(spec.name, spec.trigger.raw, env)
        except ScheduleError as error:
            # The host's indexing error, as "func start" and the portal show it.
            function.error = (
                f"Microsoft.Azure.WebJobs.Host: Error indexing method 'Functions.{spec.name}'. "
                f"{error.source}: {error}"
            )
            log.error("The '%s' function is in error: %s", spec.name, function.error)
            return function
    if function.error is None:
        try:
            function.main = _import_entry_point(spec, root)
            function.is_async = inspect.iscoroutinefunction(function.main)
            function.parameters = _check_signature(spec, function.main)
        except Exception as error:  # reported; the other functions still load
            function.main = None
            function.error = f"{type(error).__name__}: {error}"
            log.debug("Function '%s' import traceback:\n%s", spec.name, stack_text(error, __file__))
    if function.error:
        log.error("Function '%s' is in error: %s", spec.name, function.error)
    return function


def _import_entry_point(spec: FunctionSpec, root: Path) -> Callable[..., Any]:
    if not spec.script_file.is_file():
        raise FileNotFoundError(f"scriptFile {spec.script_file.name} not found in {spec.name}/")
    return load_function(spec.name, root, spec.script_file, spec.entry_point)


def _check_signature(spec: FunctionSpec, main: Callable[..., Any]) -> frozenset[str] | None:
    """The worker's rule: parameters and in/out bindings must match by name."""
    try:
        signature = inspect.signature(main)
    except (TypeError, ValueError):
        return None
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    names = {b.name for b in spec.bindings if b.name != RETURN}
    declared_only = sorted(
        p.name
        for p in parameters.values()
        if p.name not in names
        and p.name != CONTEXT_PARAMETER
        and p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL,)
    )
    if declared_only:
        raise TypeError(
            "the following parameters are declared in Python but not in function.json: "
            + ", ".join(declared_only)
        )
    missing = sorted(n for n in names if n not in parameters)
    if missing:
        raise TypeError(
            "the following parameters are declared in function.json but not in Python: "
            + ", ".join(missing)
        )
    return frozenset(parameters)
