"""The HTTP starter's request: parse, check and turn into a ``Job`` (pure apart from stat calls).

Every problem raises ``RequestError`` with a message that says what is wrong and how to fix
it; the starter answers 400 with it and starts nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sitebackup import settings as cfg
from sitebackup.errors import NamingError, RequestError, RuleError, echo
from sitebackup.ignore_file import read_rules
from sitebackup.job import Job
from sitebackup.naming import container_name_problem, default_prefix, normalize_prefix
from sitebackup.paths import root_problem
from sitebackup.rules import check_patterns

OPTIONS = (
    "path",
    "container",
    "prefix",
    "compare",
    "include",
    "exclude",
    "ignoreFile",
    "dryRun",
    "takeOver",
)
_USAGE = (
    'send a JSON string with the directory, or {"path": "/abs/dir", "container": ..., '
    '"prefix": ...}'
)


@dataclass(frozen=True)
class StartRequest:
    job: Job
    instance_id: str
    take_over: bool = False  # the caller asks to take the destination over from another root


def _lone_surrogate(value: Any) -> bool:
    """True when a decoded JSON value holds a string that is not Unicode text anywhere.

    JSON may escape a lone surrogate (``"\\ud800"``); Python decodes it, and it fails later
    wherever the text is encoded (a file system call, a blob name, a hash): a 500 instead
    of a 400.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def decode(body: bytes, usage: str = _USAGE) -> Any:
    """The request body as JSON; RequestError (with ``usage``) when it is not."""
    if not body or not body.strip():
        raise RequestError(f"the request body is empty: {usage}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError("the request body is not UTF-8 text: send JSON") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"the request body is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}): {usage}"
        ) from None
    except RecursionError:
        # The decoder recurses once per nesting level; no backup request nests deeply.
        raise RequestError(f"the request body nests JSON too deeply: {usage}") from None
    except ValueError as exc:
        # Also JSON, yet not decodable here: e.g. an integer beyond Python's digit limit.
        raise RequestError(
            f"the request body cannot be decoded ({str(exc)[:100]}): {usage}"
        ) from None
    if _lone_surrogate(value):
        raise RequestError(
            "the request body holds a lone surrogate escape (\\ud800-\\udfff), which is not "
            "text: send paths and names as valid Unicode"
        )
    return value


def check_options(value: Any, known: tuple[str, ...], usage: str) -> dict[str, Any]:
    """``value`` as an options object with only ``known`` keys; RequestError otherwise."""
    if not isinstance(value, dict):
        raise RequestError(
            f"the request body must be a JSON object, got {json_type(value)}: {usage}"
        )
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise RequestError(
            f"unknown option(s) {', '.join(map(echo, unknown[:5]))}; known options: "
            f"{', '.join(known)}"
        )
    return value


def parse_body_object(body: bytes, known: tuple[str, ...], usage: str) -> dict[str, Any]:
    """The request body as a JSON object with only ``known`` options."""
    return check_options(decode(body, usage), known, usage)


def parse_body(body: bytes) -> dict[str, Any]:
    """The request body as an options dict (a bare JSON string becomes ``{"path": ...}``)."""
    value = decode(body)
    if isinstance(value, str):
        return {"path": value}
    if not isinstance(value, dict):
        raise RequestError(
            f"the request body must be a JSON string or object, got {json_type(value)}: {_USAGE}"
        )
    value = check_options(value, OPTIONS, _USAGE)
    if "path" not in value:
        raise RequestError(f"'path' is missing: {_USAGE}")
    return value


def json_type(value: Any) -> str:
    """How a wrong value is named in a message: its JSON type."""
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def string_option(options: dict[str, Any], key: str) -> str | None:
    """An optional string option; anything else but a missing one is a RequestError."""
    value = options.get(key)
    if value is not None and not isinstance(value, str):
        raise RequestError(f"'{key}' must be a string, got {json_type(value)}")
    return value


def checked_container(value: str | None, default: str) -> str:
    """The container a request names, else ``default``, if it is a valid container name."""
    container = value or default
    problem = container_name_problem(container)
    if problem:
        raise RequestError(f"'container' {echo(container)} is not valid: {problem}")
    return container


def checked_prefix(path: str | None, prefix: str | None) -> str:
    """The prefix a request names, else the one a backup of ``path`` gets by default."""
    try:
        return normalize_prefix(default_prefix(path) if prefix is None else prefix)
    except NamingError as exc:
        raise RequestError(f"'prefix' is not valid: {exc}") from None


def backup_destination(
    options: dict[str, Any],
    default_container: str,
    read: Callable[[dict[str, Any], str], str | None],
    action: str,
    usage: str,
) -> tuple[str, str]:
    """The container and prefix of an existing backup a request acts on: the folder that was
    backed up ('path', for the default prefix) or 'container' and 'prefix'.

    ``read`` reads one string option (each request words a wrong type its own way).
    """
    path = read(options, "path")
    container = checked_container(read(options, "container"), default_container)
    prefix = read(options, "prefix")
    if prefix is None and not path:
        raise RequestError(
            f"say which backup to {action}: 'path' (the directory that was backed up) or "
            f"'container' and 'prefix'. {usage}"
        )
    return container, checked_prefix(path, prefix)


def resolve_root(path: Any, allowed_roots: tuple[str, ...]) -> str:
    """The real path of the directory to back up, after every safety check."""
    if not allowed_roots:
        raise RequestError(
            f"no allowed roots are configured: set the app setting {cfg.ALLOWED_ROOTS} to the "
            "directories that may be backed up (absolute paths separated by "
            f"'{os.pathsep}' or ',')"
        )
    if not isinstance(path, str):
        raise RequestError(f"'path' must be a string, got {json_type(path)}")
    if not path:
        raise RequestError("'path' is empty: give the absolute path of the directory")
    if "\x00" in path:
        raise RequestError("'path' contains a NUL character")
    if not os.path.isabs(path):
        raise RequestError(f"'path' must be absolute, got {echo(path)}")
    resolved = os.path.realpath(path)
    problem = root_problem(resolved, allowed_roots)
    if problem:
        hint = {
            "the path is outside the allowed roots": (
                f"back up a directory inside one of: {', '.join(allowed_roots)} "
                f"(app setting {cfg.ALLOWED_ROOTS})"
            ),
            "the path does not exist": "check the spelling; paths are on the server",
            "the path is not a directory": "give the directory that contains the files",
        }.get(problem, "")
        raise RequestError(f"cannot back up {echo(path)}: {problem}; {hint}".rstrip("; "))
    return resolved


def instance_id(container: str, prefix: str) -> str:
    """One id per destination (container + prefix), whatever the root: two backups into one
    destination never run at once, even of two roots whose folders share a name.
    """
    digest = hashlib.sha256("\x00".join((container, prefix)).encode("utf-8", "surrogatepass"))
    return "backup-" + digest.hexdigest()[:32]


def dry_run_instance_id(backup_id: str) -> str:
    """A dry run's own id: it never waits for, blocks or replaces the real backup's instance."""
    return "dryrun-" + backup_id.removeprefix("backup-")


def _flag(options: dict[str, Any], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RequestError(f"'{key}' must be true or false, got {json_type(value)}")
    return value


def _rules(options: dict[str, Any], root: str) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """The request's exclude and include lists and whether .backupignore counts, all checked.

    The ignore file is read here too, so a bad pattern in it is a 400 before anything starts
    (the listing reads it again: it may change before the backup reaches it).
    """
    try:
        exclude = check_patterns(options.get("exclude"), "'exclude'")
        include = check_patterns(options.get("include"), "'include'")
        ignore_file = _flag(options, "ignoreFile", True)
        if ignore_file:
            read_rules(root)
    except RuleError as exc:
        raise RequestError(f"{exc}") from None
    return exclude, include, ignore_file


def build(options: dict[str, Any], settings: cfg.Settings) -> StartRequest:
    """Check the options against the settings and build the job and its instance id."""
    root = resolve_root(options.get("path"), settings.allowed_roots)
    container = checked_container(string_option(options, "container"), settings.container)
    # The default prefix is the folder name as the caller wrote it, which is the name they
    # know even when the path goes through a symlink.
    prefix = checked_prefix(options["path"], string_option(options, "prefix"))
    compare = string_option(options, "compare") or settings.compare
    if compare not in cfg.COMPARE_MODES:
        raise RequestError(f"'compare' must be one of {', '.join(cfg.COMPARE_MODES)}")
    exclude, include, ignore_file = _rules(options, root)
    dry_run = _flag(options, "dryRun", False)
    take_over = _flag(options, "takeOver", False)
    job = Job(
        root=root,
        container=container,
        prefix=prefix,
        compare=compare,
        partition_size=settings.partition_size,
        partition_concurrency=settings.partition_concurrency,
        retry_first_interval_ms=settings.retry_first_interval_ms,
        retry_max_attempts=settings.retry_max_attempts,
        exclude_defaults=settings.exclude_defaults,
        exclude=exclude,
        include=include,
        ignore_file=ignore_file,
        dry_run=dry_run,
    )
    backup_id = instance_id(container, prefix)
    return StartRequest(
        job=job,
        instance_id=dry_run_instance_id(backup_id) if dry_run else backup_id,
        take_over=take_over,
    )


def parse(body: bytes, settings: cfg.Settings) -> StartRequest:
    """``parse_body`` then ``build``; the allowed-roots check comes first for every body."""
    if not settings.allowed_roots:
        resolve_root(None, settings.allowed_roots)
    return build(parse_body(body), settings)
