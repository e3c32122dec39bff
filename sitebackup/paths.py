"""Path safety: every path is resolved with ``realpath`` and must stay inside a root."""

from __future__ import annotations

import os
from collections.abc import Sequence


def is_within(path: str, root: str) -> bool:
    """True when the resolved ``path`` is ``root`` or lies below it (both already real)."""
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:
        # Different drives on Windows, or a mix of absolute and relative paths.
        return False


def containing_root(resolved: str, allowed_roots: Sequence[str]) -> str | None:
    """The allowed root that contains ``resolved``, or None."""
    for root in allowed_roots:
        if is_within(resolved, root):
            return root
    return None


def local_path(root: str, rel_path: str) -> str:
    """The local path of a listed file (``rel_path`` uses '/' separators)."""
    return os.path.join(root, *rel_path.split("/"))


def root_problem(root: str, allowed_roots: Sequence[str]) -> str | None:
    """Why ``root`` may not be backed up, or None. ``root`` must already be resolved.

    Containment is checked before existence, so a caller learns nothing about paths outside
    the allowed roots.
    """
    if not allowed_roots:
        return "no allowed roots are configured"
    if containing_root(root, allowed_roots) is None:
        return "the path is outside the allowed roots"
    if not os.path.exists(root):
        return "the path does not exist"
    if not os.path.isdir(root):
        return "the path is not a directory"
    return None
