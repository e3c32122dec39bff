"""The snapshot manifest's encoding: round trips, what readers refuse, change counts."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest

from sitebackup import manifest
from sitebackup.manifest import Changes, Entry, Header, ManifestError, PageRef


def entry(path: str, content: bytes, mtime_ns: int = 1_700_000_000_123_456_789) -> Entry:
    return Entry(path, len(content), mtime_ns, hashlib.md5(content).digest())


def header(**overrides) -> Header:
    values = dict(
        run_id="20261129T231500Z-1a2b3c4d",
        root="/srv/www",
        container="backups",
        prefix="www",
        started_ms=1_764_458_100_000,
        ended_ms=1_764_458_160_000,
        files=3,
        bytes=30,
        failed=1,
        changes=Changes(added=1, changed=1, deleted=2),
        previous_run_id="20261128T231500Z-00000000",
        pages=(PageRef("backups/www/runs/r/unchanged-00000.jsonl.gz", 2), PageRef("p2", 1)),
    )
    values.update(overrides)
    return Header(**values)


def test_an_entry_page_round_trips_and_is_gzipped_json_lines() -> None:
    entries = [
        entry("index.html", b"<h1>home</h1>"),
        entry("unicodé/première note.md", "é".encode()),
        # Times far outside datetime's range stay plain integers.
        entry("old.txt", b"", mtime_ns=-5_000_000_000),
        entry("future.txt", b"x", mtime_ns=300_000_000_000 * 10**9),
    ]
    data = manifest.encode_entries(entries)
    assert manifest.decode_entries(data) == entries
    # Readable with nothing but gzip and a JSON parser, as the docs promise.
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    first = json.loads(lines[0])
    assert first == {
        "path": "index.html",
        "size": 13,
        "mtimeNs": 1_700_000_000_123_456_789,
        "md5": base64.b64encode(hashlib.md5(b"<h1>home</h1>").digest()).decode(),
    }
    # The same page always encodes to the same bytes (a re-run rewrites an identical blob).
    assert manifest.encode_entries(entries) == data


def test_a_header_round_trips() -> None:
    original = header()
    decoded = manifest.decode_header(manifest.encode_header(original))
    assert decoded == original
    value = json.loads(manifest.encode_header(original))
    assert value["format"] == manifest.FORMAT
    assert (value["added"], value["changed"], value["deleted"]) == (1, 1, 2)


def test_a_first_snapshot_has_no_change_counts() -> None:
    decoded = manifest.decode_header(
        manifest.encode_header(header(changes=None, previous_run_id=None))
    )
    assert decoded.changes is None
    assert json.loads(manifest.encode_header(decoded))["added"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "sitebackup-snapshot/99"}, "unknown snapshot format"),
        ({"files": 4}, "do not add up"),
        ({"files": -1}, "at least 0"),
        ({"runId": ""}, "'runId'"),
        ({"endedMs": "soon"}, "'endedMs' must be an integer"),
        ({"pages": {"name": "x"}}, "'pages' must be a list"),
        ({"pages": [{"name": "x"}]}, "'count'"),
        ({"previousRunId": 7}, "previousRunId"),
        ({"bytes": True}, "'bytes' must be an integer"),
    ],
)
def test_a_bad_header_is_refused_with_a_reason(change: dict, message: str) -> None:
    value = {**header().to_json(), **change}
    with pytest.raises(ManifestError, match=message):
        manifest.decode_header(json.dumps(value).encode())


def test_not_json_is_refused() -> None:
    with pytest.raises(ManifestError, match="not JSON"):
        manifest.decode_header(b"{half")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"path": "a", "size": 1, "mtimeNs": 0, "md5": "not base64!"}', "not base64"),
        (b'{"path": "a", "size": 1, "mtimeNs": 0, "md5": "AAAA"}', "not 16 bytes"),
        (b'{"path": "", "size": 1, "mtimeNs": 0, "md5": "AAAA"}', "'path'"),
        (b'{"path": "a", "size": -1, "mtimeNs": 0, "md5": "AAAA"}', "'size'"),
        (b"[1, 2]", "not a JSON object"),
        (b"{oops", "not JSON"),
    ],
)
def test_a_bad_entry_is_refused_with_a_reason(line: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        manifest.decode_entries(gzip.compress(line + b"\n"))


def test_a_page_that_is_not_gzip_is_refused() -> None:
    with pytest.raises(ManifestError, match="not gzipped"):
        manifest.decode_entries(b'{"path": "a"}\n')


def test_changes_count_added_changed_and_deleted_paths() -> None:
    before = [entry("same", b"1"), entry("edited", b"old"), entry("gone", b"g"), entry("mv1", b"m")]
    after = [
        entry("same", b"1", mtime_ns=5),  # a touched file with the same content: unchanged
        entry("edited", b"new"),
        entry("mv2", b"m"),  # a rename is one deletion and one addition
        entry("fresh", b"f"),
    ]
    # By hand: added mv2 + fresh, changed edited, deleted gone + mv1. Snapshots stream in
    # path order.
    before.sort(key=lambda item: item.path)
    after.sort(key=lambda item: item.path)
    assert manifest.changes_between(before, after) == Changes(added=2, changed=1, deleted=2)
    assert manifest.changes_between([], after) == Changes(added=4, changed=0, deleted=0)
