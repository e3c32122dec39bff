"""Call the backup's activities the way the worker does, and judge what they did.

The verdict rule for a file the backup met: either its blob holds exactly its bytes, or
the listing or the copy reported it with a reason. Nothing in between, nothing silent.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faults.blobcheck import BlobFacts, integrity_problems
from faults.trees import FileFacts
from tests.reliability.messy import display_forms

COPY = "E2_CopyFileToBlob"
LIST = "E2_GetFileList"
READ_PAGE = "E2_ReadFilePage"


def call(function: str, value: Any) -> Any:
    """The function folder's ``main`` with an already decoded input, as the worker calls it."""
    return importlib.import_module(function).main(value)


def job(root: Path, container: str, prefix: str = "site") -> dict[str, str]:
    return {"root": str(root), "container": container, "prefix": prefix, "compare": "checksum"}


@dataclass
class Outcome:
    """What one backup pass (list, then copy each listed file) reported."""

    listing: dict[str, Any]
    copies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def reported(self) -> dict[str, str]:
        """Relative path -> reason, for everything skipped at listing or failed at copy."""
        found = {entry["path"]: entry["reason"] for entry in self.listing.get("skipped", [])}
        for path, result in self.copies.items():
            if result.get("status") == "failed":
                found[path] = result.get("error") or ""
        return found


def list_run(descriptor: dict[str, str]) -> dict[str, Any]:
    """The listing as a backup run calls it (with a run id), plus ``files``: what its copy
    pages hold, read back through the page activity as the partitions read them."""
    run_id = f"20260101T000000Z-{uuid.uuid4().hex[:12]}"
    listing = call(LIST, {**descriptor, "runId": run_id})
    if listing.get("error"):
        return listing
    files: list[dict[str, Any]] = []
    for index in range(listing["partitions"]):
        files += call(READ_PAGE, {"job": descriptor, "runId": run_id, "index": index})
    return {**listing, "files": files}


def back_up(root: Path, container: str, prefix: str = "site") -> Outcome:
    descriptor = job(root, container, prefix)
    listing = list_run(descriptor)
    assert not listing.get("error"), listing
    outcome = Outcome(listing)
    for entry in listing["files"]:
        outcome.copies[entry["path"]] = call(COPY, {"job": descriptor, "file": entry})
    return outcome


def judge_tree(
    entries: dict[str, FileFacts | None],
    blobs: dict[str, BlobFacts],
    reported: dict[str, str],
    prefix: str,
) -> list[str]:
    """Every entry copied exactly or reported with a reason; no blob without a source."""
    problems = []
    for relative, facts in sorted(entries.items()):
        blob = blobs.get(f"{prefix}/{relative}")
        form = next((f for f in display_forms(relative) if f in reported), None)
        said = {relative: reported[form]} if form is not None else {}
        if facts is None and form is None:
            problems.append(f"{relative!r}: cannot be backed up, yet nothing reports it")
            continue
        problem = judge_file(relative, facts or FileFacts(-1, ""), blob, said)
        if problem:
            problems.append(problem)
    sources = {f"{prefix}/{relative}" for relative, facts in entries.items() if facts}
    problems += [f"blob {name!r} has no source file" for name in sorted(set(blobs) - sources)]
    return problems


def judge_file(
    relative: str, facts: FileFacts, blob: BlobFacts | None, reported: dict[str, str]
) -> str | None:
    """None when the file was copied exactly or reported with a reason; else what is wrong."""
    if relative in reported:
        if not reported[relative].strip():
            return f"{relative!r}: reported without a reason"
        if blob is not None:
            return f"{relative!r}: reported ({reported[relative]}) yet a blob exists"
        return None
    if blob is None:
        return f"{relative!r}: neither backed up nor reported"
    problems = integrity_problems(blob)
    if (blob.content_size, blob.content_md5) != (facts.size, facts.md5):
        problems.append(f"holds {blob.content_size} bytes md5 {blob.content_md5}, not the file's")
    return f"{relative!r}: " + "; ".join(problems) if problems else None
