"""HTTP-trigger route templates, as ASP.NET Core spells them (pure).

Supported: literal segments (matched case-insensitively), ``{name}``, optional ``{name?}``,
defaults ``{name=value}``, catch-all ``{*name}``, several parameters in one segment
(``{file}.{ext}``) and the common inline constraints (``int``, ``long``, ``bool``, ``guid``,
``alpha``, ``double``, ``decimal``, ``float``, ``datetime``, ``minlength(n)``, ``maxlength(n)``,
``length(n[,m])``, ``min(n)``, ``max(n)``, ``range(a,b)``, ``regex(...)``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

from devhost.contracts import HostError

T = TypeVar("T")
Check = Callable[[str], bool]


class RouteError(HostError):
    """A route template this host cannot parse."""


@dataclass(frozen=True)
class Parameter:
    name: str
    optional: bool = False
    default: str | None = None
    catch_all: bool = False
    constraints: tuple[str, ...] = ()
    checks: tuple[Check, ...] = field(default=(), compare=False, repr=False)

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.checks)


def _int_range(low: int, high: int) -> Check:
    def check(value: str) -> bool:
        try:
            return low <= int(value) <= high
        except ValueError:
            return False

    return check


def _number(value: str) -> bool:
    try:
        Decimal(value)
        return value.strip() == value and value.lower() not in ("nan", "inf", "-inf")
    except InvalidOperation:
        return False


def _guid(value: str) -> bool:
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


def _datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


def _args(text: str) -> list[str]:
    return [a.strip() for a in text.split(",")]


def _constraint_check(spec: str, template: str) -> Check:
    match = re.fullmatch(r"(\w+)(?:\((.*)\))?", spec, re.S)
    if not match:
        raise RouteError(f"route '{template}': cannot parse the constraint '{spec}'")
    kind, arg = match.group(1).lower(), match.group(2)
    try:
        if kind == "int":
            return _int_range(-(2**31), 2**31 - 1)
        if kind == "long":
            return _int_range(-(2**63), 2**63 - 1)
        if kind == "bool":
            return lambda v: v.lower() in ("true", "false")
        if kind == "guid":
            return _guid
        if kind == "alpha":
            return lambda v: bool(re.fullmatch(r"[A-Za-z]+", v))
        if kind in ("double", "decimal", "float"):
            return _number
        if kind == "datetime":
            return _datetime
        if kind in ("required", "nonfile"):
            return lambda v: bool(v)
        if kind == "file":
            return lambda v: "." in v
        if kind == "minlength":
            return lambda v, n=int(arg): len(v) >= n
        if kind == "maxlength":
            return lambda v, n=int(arg): len(v) <= n
        if kind == "length":
            bounds = [int(a) for a in _args(arg)]
            low, high = (bounds[0], bounds[0]) if len(bounds) == 1 else bounds
            return lambda v, lo=low, hi=high: lo <= len(v) <= hi
        if kind == "min":
            return lambda v, n=int(arg): _int_range(n, 2**63)(v)
        if kind == "max":
            return lambda v, n=int(arg): _int_range(-(2**63), n)(v)
        if kind == "range":
            low, high = (int(a) for a in _args(arg))
            return _int_range(low, high)
        if kind == "regex":
            pattern = re.compile(arg, re.IGNORECASE)
            return lambda v: bool(pattern.search(v))
    except (TypeError, ValueError, re.error) as error:
        raise RouteError(
            f"route '{template}': bad argument in constraint '{spec}': {error}"
        ) from None
    raise RouteError(f"route '{template}': the constraint '{kind}' is not known")


_PARAM = re.compile(r"\{([^{}]*(?:\([^)]*\))?[^{}]*)\}")


def _parse_parameter(body: str, template: str) -> Parameter:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default: str | None = None
    optional = False
    # "name:c1:c2(arg)=default" or "name:c?" -- split constraints on ':' outside parentheses
    parts: list[str] = []
    depth, current = 0, ""
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == ":" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    last = parts[-1]
    if depth == 0 and "=" in last and not last.startswith("regex("):
        last, default = last.split("=", 1)
    if last.endswith("?"):
        optional, last = True, last[:-1]
    parts[-1] = last
    name, constraints = parts[0].strip(), tuple(p for p in parts[1:] if p)
    if not name.isidentifier():
        raise RouteError(f"route '{template}': '{name}' is not a valid parameter name")
    checks = tuple(_constraint_check(c, template) for c in constraints)
    return Parameter(name, optional or catch_all, default, catch_all, constraints, checks)


@dataclass(frozen=True)
class RouteTemplate:
    """A compiled template; ``match(path)`` gives the route values or None."""

    template: str
    regex: re.Pattern[str]
    parameters: tuple[Parameter, ...]
    rank: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(path.strip("/"))
        if not found:
            return None
        values: dict[str, str] = {}
        for param in self.parameters:
            value = found.group(param.name)
            if value is None or value == "":
                if param.default is not None:
                    values[param.name] = param.default
                elif not param.optional:
                    return None
                continue
            if not param.accepts(value):
                return None
            values[param.name] = value
        return values


def parse_route(template: str) -> RouteTemplate:
    """Compile an ASP.NET-style route template; raises RouteError."""
    text = template.strip().strip("/")
    if "?" in _PARAM.sub("", text) or "#" in text:
        raise RouteError(f"route '{template}': '?' and '#' are not allowed outside parameters")
    segments = text.split("/") if text else []
    pattern = ""
    parameters: list[Parameter] = []
    rank: list[int] = []
    for index, segment in enumerate(segments):
        if not segment:
            raise RouteError(f"route '{template}': empty segment")
        pieces = _PARAM.split(segment)  # literal, param, literal, param, ...
        if "{" in "".join(pieces[::2]) or "}" in "".join(pieces[::2]):
            raise RouteError(f"route '{template}': unbalanced braces in '{segment}'")
        params_here = [_parse_parameter(p, template) for p in pieces[1::2]]
        parameters.extend(params_here)
        sep = "/" if index else ""
        if len(params_here) == 1 and pieces[0] == "" and pieces[2] == "":
            param = params_here[0]
            if param.catch_all:
                if index != len(segments) - 1:
                    raise RouteError(f"route '{template}': a catch-all must be the last segment")
                pattern += f"(?:{sep}(?P<{param.name}>.*))?"
                rank.append(5)
            elif param.optional or param.default is not None:
                if index != len(segments) - 1:
                    raise RouteError(f"route '{template}': only the last segment may be optional")
                pattern += f"(?:{sep}(?P<{param.name}>[^/]+))?"
                rank.append(4)
            else:
                pattern += f"{sep}(?P<{param.name}>[^/]+)"
                rank.append(3 if param.constraints else 4)
            continue
        body = ""
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                body += re.escape(piece)
            else:
                param = params_here[i // 2]
                if param.catch_all:
                    raise RouteError(f"route '{template}': a catch-all must be a whole segment")
                quantifier = "*" if param.optional else "+"
                body += f"(?P<{param.name}>[^/]{quantifier}?)"
        pattern += sep + body
        rank.append(1 if not params_here else 2)
    names = [p.name.lower() for p in parameters]
    if len(names) != len(set(names)):
        raise RouteError(f"route '{template}': a parameter name is used twice")
    return RouteTemplate(
        template, re.compile(pattern, re.IGNORECASE), tuple(parameters), tuple(rank)
    )


@dataclass(frozen=True)
class RouteEntry(Generic[T]):
    route: RouteTemplate
    methods: frozenset[str] | None
    target: T


@dataclass
class RouteMatch(Generic[T]):
    target: T
    values: dict[str, str]


class RouteTable(Generic[T]):
    """Routes ordered like ASP.NET's precedence: literal segments before parameters."""

    def __init__(self, entries: Iterable[RouteEntry[T]] = ()) -> None:
        self._entries: list[RouteEntry[T]] = []
        for entry in entries:
            self.add(entry)

    def add(self, entry: RouteEntry[T]) -> None:
        self._entries.append(entry)
        self._entries.sort(key=lambda e: (e.route.rank, e.route.template.lower()))

    @property
    def entries(self) -> Sequence[RouteEntry[T]]:
        return tuple(self._entries)

    def match(self, method: str, path: str) -> RouteMatch[T] | None:
        """The first route matching both path and method (a wrong method is no match: 404)."""
        method = method.upper()
        for entry in self._entries:
            if entry.methods is not None and method not in entry.methods:
                continue
            values = entry.route.match(path)
            if values is not None:
                return RouteMatch(entry.target, values)
        return None
