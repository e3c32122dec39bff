"""Which names from storage and manifests may become files under a restore target (pure).

Every name that comes from storage or from a manifest is untrusted: whoever could write to
the container could have put any name there. A name is restored only when it is a plain
relative POSIX path whose every segment is an ordinary file or folder name; anything else is
refused for that file alone and reported, and the rest of the restore goes on.
"""

from __future__ import annotations

import hashlib

# The restore's own temporary files start with this. Restored names may not, so a temporary
# file can never be mistaken for (or overwrite) a restored file, and stale ones can be swept.
TEMP_PREFIX = ".site-backup-restore~"
TEMP_SUFFIX = ".part"
# Linux's NAME_MAX: a longer segment cannot be created anyway, and the temporary name
# derived from it must fit too.
MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096


class NameRefused(ValueError):
    """A stored name cannot be restored; the message says why (shown per file)."""


def segments(rel_path: object) -> list[str]:
    """The folder and file names of a stored relative path; NameRefused when it is unsafe."""
    if not isinstance(rel_path, str):
        raise NameRefused(f"the name is not text ({type(rel_path).__name__})")
    if not rel_path:
        raise NameRefused("the name is empty")
    if "\x00" in rel_path:
        raise NameRefused("the name contains a NUL character")
    if "\\" in rel_path:
        raise NameRefused("the name contains a backslash")
    if rel_path.startswith("/"):
        raise NameRefused("the name is an absolute path")
    if len(rel_path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise NameRefused(f"the name is longer than {MAX_PATH_BYTES} bytes")
    parts = rel_path.split("/")
    for part in parts:
        if part == "..":
            raise NameRefused("the name contains a '..' segment")
        if part in ("", "."):
            raise NameRefused("the name contains an empty or '.' segment")
        if len(part.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise NameRefused(f"a segment of the name is longer than {MAX_SEGMENT_BYTES} bytes")
    if parts[-1].startswith(TEMP_PREFIX):
        raise NameRefused(
            f"names starting with {TEMP_PREFIX!r} are reserved for restore's temporary files"
        )
    return parts


def problem(rel_path: object) -> str | None:
    """Why ``rel_path`` may not be restored, or None."""
    try:
        segments(rel_path)
    except NameRefused as exc:
        return str(exc)
    return None


def temp_name(leaf: str) -> str:
    """The temporary file a download of ``leaf`` writes first, in the same folder.

    The same for every attempt, so a later attempt finds (and replaces) what a crashed one
    left; fixed length, so it fits wherever the leaf fits.
    """
    digest = hashlib.sha256(leaf.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{TEMP_PREFIX}{digest}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)
