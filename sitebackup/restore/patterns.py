"""The subset of a snapshot to restore: paths and gitignore-style glob patterns (pure).

``uploads/2024/`` restores a folder (anchored patterns start with ``/`` or contain one),
``index.html`` restores every file of that name, ``*.php`` every PHP file, ``!*.log`` leaves
logs out of what the patterns before it chose. No pattern at all means the whole snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pathspec import GitIgnoreSpec

from sitebackup.errors import echo

MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 1024


class PatternError(ValueError):
    """A pattern cannot be used; the message says which and why."""


def check(patterns: object) -> list[str]:
    """The patterns as given, after every check; PatternError otherwise."""
    if patterns is None:
        return []
    if not isinstance(patterns, list):
        raise PatternError("'include' must be a list of paths or glob patterns")
    if len(patterns) > MAX_PATTERNS:
        raise PatternError(f"'include' has more than {MAX_PATTERNS} patterns")
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise PatternError(f"every 'include' pattern must be a string, got {echo(pattern)}")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise PatternError(f"an 'include' pattern is longer than {MAX_PATTERN_LENGTH}")
        if "\x00" in pattern:
            raise PatternError("an 'include' pattern contains a NUL character")
        if not pattern.strip():
            raise PatternError("an 'include' pattern is empty")
        if ".." in pattern.strip("/").split("/"):
            raise PatternError(f"'include' pattern {echo(pattern)} contains '..'")
        try:
            spec = GitIgnoreSpec.from_lines([pattern])
        except (re.error, ValueError) as exc:
            raise PatternError(f"'include' pattern {echo(pattern)} is not valid: {exc}") from None
        if not spec.patterns or all(p.include is None for p in spec.patterns):
            raise PatternError(
                f"'include' pattern {echo(pattern)} matches nothing (a comment or an unclosed '['?)"
            )
    return list(patterns)


def matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """A predicate on relative paths: True for the files the patterns choose."""
    if not patterns:
        return lambda _path: True
    spec = GitIgnoreSpec.from_lines(patterns)
    return spec.match_file
