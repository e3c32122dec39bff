"""Comparing a local tree with its backup (pure), and the streaming MD5 it relies on."""

import hashlib

import pytest

from backup_client.storage import file_md5
from backup_client.verify import LISTED, LocalFile, RemoteBlob, compare
from sitebackup.naming import blob_name

CONTENT = {
    "index.html": b"<h1>hi</h1>",
    "a/same.txt": b"one",
    "b/same.txt": b"two",
    "empty": b"",
    "sp ace/\u00e9t\u00e9.md": "\u00e9t\u00e9".encode(),
}


def local(content: dict[str, bytes]) -> list[LocalFile]:
    return [LocalFile(rel, len(data), rel) for rel, data in content.items()]


def md5_of_content(content: dict[str, bytes]):
    calls: list[str] = []

    def md5_of(file: LocalFile) -> bytes:
        calls.append(file.rel_path)
        return hashlib.md5(content[file.rel_path]).digest()

    return md5_of, calls


def blobs_for(content: dict[str, bytes], prefix: str = "site") -> dict[str, RemoteBlob]:
    result = {}
    for rel, data in content.items():
        name = blob_name(prefix, rel)
        result[name] = RemoteBlob(name, len(data), hashlib.md5(data).digest())
    return result


def test_identical_tree_matches():
    md5_of, calls = md5_of_content(CONTENT)
    report = compare(
        local(CONTENT), blobs_for(CONTENT), lambda r: blob_name("site", r), md5_of, "backups/site"
    )
    assert report.ok
    assert report.matched == len(CONTENT)
    assert report.matched_bytes == sum(len(d) for d in CONTENT.values())
    assert sorted(calls) == sorted(CONTENT)
    assert report.lines()[-1][1].startswith(f"OK: all {len(CONTENT)} files")


def test_every_kind_of_difference_is_reported():
    changed = dict(CONTENT)
    changed["index.html"] = b"<h1>HI</h1>"  # same size, other bytes
    changed["a/same.txt"] = b"longer now"  # other size
    changed["new.txt"] = b"new"  # no blob
    blobs = blobs_for(CONTENT)
    blobs["site/old.txt"] = RemoteBlob("site/old.txt", 3, b"x" * 16)  # no local file
    blobs["site/empty"] = RemoteBlob("site/empty", 0, None)  # uploaded without Content-MD5
    md5_of, calls = md5_of_content(changed)

    report = compare(local(changed), blobs, lambda r: blob_name("site", r), md5_of, "b/site")

    assert not report.ok
    assert report.missing == [("new.txt", "site/new.txt")]
    reasons = {d.rel_path: d.reason for d in report.different}
    assert reasons["a/same.txt"] == "10 bytes locally, 3 in the blob"
    assert reasons["index.html"].startswith("same size, different content")
    assert reasons["empty"] == "the blob has no Content-MD5 to compare with"
    assert report.extra == ["site/old.txt"]
    assert report.matched == 2  # b/same.txt and the unicode file
    # Hashing is skipped when the size or the blob already tells.
    assert "a/same.txt" not in calls and "new.txt" not in calls and "empty" not in calls
    verdict = report.lines()[-1][1]
    assert verdict.startswith("DIFFERENT: 1 missing, 3 different, 1 extra;")


def test_a_file_that_cannot_be_read_is_a_difference():
    def md5_of(file: LocalFile) -> bytes:
        raise PermissionError(13, "Permission denied")

    report = compare(
        local({"x": b"1"}), blobs_for({"x": b"1"}), lambda r: blob_name("site", r), md5_of
    )
    assert report.unreadable == [("x", "Permission denied")]
    assert not report.ok


def test_empty_prefix_names_blobs_by_relative_path():
    md5_of, _ = md5_of_content(CONTENT)
    report = compare(local(CONTENT), blobs_for(CONTENT, ""), lambda r: blob_name("", r), md5_of)
    assert report.ok and report.matched == len(CONTENT)


def test_long_lists_are_cut_with_a_count():
    content = {f"f{i:03}": b"x" for i in range(LISTED + 4)}
    md5_of, _ = md5_of_content(content)
    report = compare(local(content), {}, lambda r: blob_name("p", r), md5_of)
    rows = report.lines()
    assert rows[0] == ("missing", "f000  (no blob p/f000)")
    assert ("", "... and 4 more") in rows
    assert report.to_json()["missing"][LISTED + 3] == {
        "path": f"f{LISTED + 3:03}",
        "blob": f"p/f{LISTED + 3:03}",
    }


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 3 * 1024 * 1024 + 7])
def test_file_md5_streams_any_size(tmp_path, size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_md5(LocalFile("f.bin", size, str(path))) == hashlib.md5(data).digest()
