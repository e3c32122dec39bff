"""Blob names for backed-up files: ``<prefix>/<path relative to the root>``.

The client's ``verify`` command imports these to find the blob of each local file, so the
rules here are the single definition of where a file lands in the container.
"""

from __future__ import annotations

import os
import re

from sitebackup.errors import NamingError, echo

# Azure limits (Blob service naming rules).
MAX_BLOB_NAME_LENGTH = 1024
MAX_PATH_SEGMENTS = 254
MAX_PREFIX_LENGTH = 512

_CONTAINER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
# XML 1.0 cannot carry most control characters, so blobs named with them cannot be listed.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _posix(rel_path: str) -> str:
    # Only the platform's own separators mean "folder"; a backslash in a POSIX file name is
    # part of the name and stays as it is.
    if os.sep != "/":
        rel_path = rel_path.replace(os.sep, "/")
    if os.altsep and os.altsep != "/":
        rel_path = rel_path.replace(os.altsep, "/")
    return rel_path


def _split_relative(rel_path: str) -> list[str]:
    parts = [part for part in _posix(rel_path).split("/") if part]
    if not parts:
        raise NamingError(f"relative path {echo(rel_path)} names no file")
    if any(part in (".", "..") for part in parts):
        raise NamingError(f"relative path {echo(rel_path)} must not contain '.' or '..' segments")
    return parts


def normalize_prefix(prefix: str) -> str:
    """A prefix as stored: '/'-separated, no leading, trailing or doubled slashes.

    Backslashes count as separators here: the prefix is a name in the container, not a
    local path, and users on Windows type them.
    """
    if not isinstance(prefix, str):
        raise NamingError(f"prefix must be a string, got {type(prefix).__name__}")
    if _CONTROL_CHARS.search(prefix):
        raise NamingError("prefix must not contain control characters")
    parts = [part for part in prefix.replace("\\", "/").split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise NamingError(f"prefix {echo(prefix)} must not contain '.' or '..' segments")
    normalized = "/".join(parts)
    if len(normalized) > MAX_PREFIX_LENGTH:
        raise NamingError(f"prefix is longer than {MAX_PREFIX_LENGTH} characters")
    return normalized


def blob_name(prefix: str, rel_path: str) -> str:
    """``<prefix>/<rel_path>`` with '/' separators; just ``rel_path`` when the prefix is empty.

    ``rel_path`` is relative to the backup root and may use the platform's separator.
    """
    parts = _split_relative(rel_path)
    head = prefix.strip("/")
    return "/".join([head, *parts]) if head else "/".join(parts)


def default_prefix(root: str) -> str:
    """The name of the root folder (``/srv/www/`` -> ``www``); empty for a filesystem root."""
    return os.path.basename(os.path.normpath(root)) if root else ""


def blob_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be stored and listed back unchanged, or None when it can."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8"
    if _CONTROL_CHARS.search(name):
        return "the file name contains control characters, which blob listings cannot carry"
    if "\\" in name:
        return "the file name contains a backslash, which the Blob service turns into '/'"
    if len(name) > MAX_BLOB_NAME_LENGTH or len(encoded) > 3 * MAX_BLOB_NAME_LENGTH:
        return f"the blob name would be longer than {MAX_BLOB_NAME_LENGTH} characters"
    if name.count("/") + 1 > MAX_PATH_SEGMENTS:
        return f"the path has more than {MAX_PATH_SEGMENTS} segments"
    return None


def container_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid container name, or None."""
    if not isinstance(name, str) or not _CONTAINER_NAME.match(name):
        return (
            "a container name must be 3-63 characters of lowercase letters, digits and "
            "single hyphens, starting and ending with a letter or digit"
        )
    return None
