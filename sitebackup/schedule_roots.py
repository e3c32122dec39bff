"""``BACKUP_SCHEDULE_ROOTS``: what the scheduled backup backs up (pure).

Two forms (also in the README):

- a list of directories separated by commas or the path separator:
  ``/srv/www,/srv/blog``
- a JSON array whose items are a directory (string) or an object with the options of an
  HTTP start request: ``[{"path": "/srv/www", "container": "nightly", "exclude": ["*.log"]},
  "/srv/blog"]``

Each entry becomes the body of one start request, checked by the same code as an HTTP
start (``sitebackup.request``), so a scheduled backup and a manual one of the same
directory and destination share one instance id.
"""

from __future__ import annotations

import json
from typing import Any

from sitebackup.errors import ConfigError, echo
from sitebackup.request import OPTIONS
from sitebackup.settings import split_roots

SETTING = "BACKUP_SCHEDULE_ROOTS"
SCHEDULE_SETTING = "BACKUP_SCHEDULE"
# A scheduled run is a real backup (a dry run on a timer would only fill the logs), and it
# never takes a destination over from another root night after night.
SCHEDULE_OPTIONS = tuple(option for option in OPTIONS if option not in ("dryRun", "takeOver"))


def parse(value: str) -> list[dict[str, Any]]:
    """The start options of every configured root, in order; ConfigError names a bad one."""
    text = value.strip()
    if not text:
        return []
    if not text.startswith("["):
        return [{"path": path} for path in split_roots(text)]
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"app setting {SETTING} looks like a JSON array but is not valid JSON ({exc.msg} "
            f"at column {exc.colno})"
        ) from None
    if not isinstance(items, list):
        raise ConfigError(f"app setting {SETTING} must be a JSON array")
    roots = []
    for index, item in enumerate(items):
        where = f"app setting {SETTING}[{index}]"
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a directory or an object, got {echo(item)}")
        unknown = sorted(set(item) - set(SCHEDULE_OPTIONS))
        if unknown:
            raise ConfigError(
                f"{where} has unknown option(s) {', '.join(map(echo, unknown))}; known: "
                f"{', '.join(SCHEDULE_OPTIONS)}"
            )
        if not isinstance(item.get("path"), str) or not item["path"]:
            raise ConfigError(f"{where} needs 'path' (the directory to back up)")
        roots.append(item)
    return roots
