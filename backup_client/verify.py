"""Compare a local tree with its backup (pure: the caller lists, hashes and reads)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from backup_client.progress import format_bytes

# How many entries of each kind of difference are listed by name; the rest are counted.
LISTED = 10


@dataclass(frozen=True)
class LocalFile:
    rel_path: str  # relative to the root, "/" separators
    size: int
    path: str  # where to read it


@dataclass(frozen=True)
class RemoteBlob:
    name: str
    size: int
    content_md5: bytes | None


@dataclass(frozen=True)
class Difference:
    rel_path: str
    blob_name: str
    reason: str


@dataclass
class VerifyReport:
    location: str  # container/prefix, for messages
    matched: int = 0
    matched_bytes: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, blob name)
    different: list[Difference] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # blob names
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, error)
    # Files with no blob that the backup reported leaving out on purpose: (rel_path, why).
    excluded: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.different or self.extra or self.unreadable)

    @property
    def files(self) -> int:
        return self.matched + len(self.missing) + len(self.different) + len(self.unreadable)

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) rows for the terminal, problems first, the verdict last."""
        rows: list[tuple[str, str]] = []
        rows += _listed("missing", [f"{rel}  (no blob {name})" for rel, name in self.missing])
        rows += _listed("different", [f"{d.rel_path}: {d.reason}" for d in self.different])
        rows += _listed("extra", [f"{name}  (no local file)" for name in self.extra])
        rows += _listed("unreadable", [f"{rel}: {error}" for rel, error in self.unreadable])
        rows += _listed("excluded", [f"{rel}: {why}" for rel, why in self.excluded])
        rows += [("note", note) for note in self.notes]
        if self.ok:
            verdict = (
                f"OK: all {self.matched:,} files ({format_bytes(self.matched_bytes)}) match "
                f"their blobs in {self.location}"
            )
            if self.excluded:
                verdict += f"; {len(self.excluded):,} left out by the backup on purpose"
        else:
            problems = [
                f"{len(items):,} {label}"
                for label, items in (
                    ("missing", self.missing),
                    ("different", self.different),
                    ("extra", self.extra),
                    ("unreadable", self.unreadable),
                )
                if items
            ]
            verdict = (
                f"DIFFERENT: {', '.join(problems)}; {self.matched:,} of {self.files:,} files "
                f"match their blobs in {self.location}"
            )
        rows.append(("verify", verdict))
        return rows

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "location": self.location,
            "matched": self.matched,
            "matchedBytes": self.matched_bytes,
            "missing": [{"path": rel, "blob": name} for rel, name in self.missing],
            "different": [
                {"path": d.rel_path, "blob": d.blob_name, "reason": d.reason}
                for d in self.different
            ],
            "extra": list(self.extra),
            "unreadable": [{"path": rel, "error": error} for rel, error in self.unreadable],
            "excluded": [{"path": rel, "reason": why} for rel, why in self.excluded],
            "notes": list(self.notes),
        }


def _listed(label: str, items: list[str]) -> list[tuple[str, str]]:
    rows = [(label if index == 0 else "", item) for index, item in enumerate(items[:LISTED])]
    if len(items) > LISTED:
        rows.append(("", f"... and {len(items) - LISTED:,} more"))
    return rows


def compare(
    files: Iterable[LocalFile],
    blobs: Mapping[str, RemoteBlob],
    blob_name: Callable[[str], str],
    md5_of: Callable[[LocalFile], bytes],
    location: str = "",
    left_out: Callable[[str], str | None] = lambda rel_path: None,
) -> VerifyReport:
    """Match every local file with its blob by size and MD5; blobs nobody claims are extra.

    ``blobs`` holds what the backup's prefix contains; ``md5_of`` is called only for files
    whose size matches (hashing is the expensive part) and may raise ``OSError``.
    ``left_out`` says why the backup left a file out on purpose (None: it did not): such a
    file without a blob is reported as excluded, not missing.
    """
    report = VerifyReport(location=location)
    claimed: set[str] = set()
    for file in sorted(files, key=lambda f: f.rel_path):
        name = blob_name(file.rel_path)
        claimed.add(name)
        blob = blobs.get(name)
        if blob is None:
            why = left_out(file.rel_path)
            if why is None:
                report.missing.append((file.rel_path, name))
            else:
                report.excluded.append((file.rel_path, why))
            continue
        if blob.size != file.size:
            reason = f"{file.size:,} bytes locally, {blob.size:,} in the blob"
            report.different.append(Difference(file.rel_path, name, reason))
            continue
        if not blob.content_md5:
            reason = "the blob has no Content-MD5 to compare with"
            report.different.append(Difference(file.rel_path, name, reason))
            continue
        try:
            digest = md5_of(file)
        except OSError as error:
            report.unreadable.append((file.rel_path, error.strerror or str(error)))
            continue
        if bytes(blob.content_md5) != digest:
            reason = f"same size, different content (MD5 {digest.hex()} locally, "
            reason += f"{bytes(blob.content_md5).hex()} in the blob)"
            report.different.append(Difference(file.rel_path, name, reason))
            continue
        report.matched += 1
        report.matched_bytes += file.size
    report.extra = sorted(name for name in blobs if name not in claimed)
    return report
