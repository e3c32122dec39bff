"""The post-copy confirmation: what the run recorded against one listing of the blobs.

The expected outcome of every case comes from a plain dict of the stored blobs (what Get
Blob Properties would answer for each name), not from the merge under test.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import pytest

from sitebackup.confirm import MISSING, confirm
from sitebackup.manifest import Entry
from sitebackup.summary import Totals


@dataclass
class Settings:
    content_md5: bytes | None


@dataclass
class Blob:
    name: str
    size: int
    content_settings: Settings
    metadata: dict | None = None


def entry(path: str, content: bytes) -> Entry:
    return Entry(path, len(content), 1, hashlib.md5(content).digest())


def blob(name: str, content: bytes, md5: bytes | None = None) -> Blob:
    return Blob(name, len(content), Settings(md5 or hashlib.md5(content).digest()))


class Storage:
    """The blobs as a dict: the test's oracle, and Get Blob Properties for the code."""

    def __init__(self, blobs: list[Blob]) -> None:
        self.by_name = {item.name: item for item in blobs}
        self.checked: list[str] = []

    def check(self, name: str) -> Blob | None:
        self.checked.append(name)
        return self.by_name.get(name)

    def listing(self, order=None) -> list[Blob]:
        return sorted(self.by_name.values(), key=order or (lambda item: item.name))

    def expect(self, entries: list[Entry], prefix: str) -> tuple[int, int, int, list[str]]:
        confirmed = missing = mismatched = 0
        lost = []
        for item in entries:
            stored = self.by_name.get(f"{prefix}/{item.path}" if prefix else item.path)
            md5 = stored and stored.content_settings.content_md5
            if stored is None:
                missing += 1
            elif stored.size == item.size and md5 == item.md5:
                confirmed += 1
                continue
            else:
                mismatched += 1
            lost.append(item.path)
        return confirmed, missing, mismatched, lost


def run(entries: list[Entry], storage: Storage, prefix: str, listing=None):
    lost: list[str] = []
    result = confirm(
        ((item, index) for index, item in enumerate(entries)),
        storage.listing() if listing is None else listing,
        prefix,
        storage.check,
        lambda item, tag: lost.append((item.path, tag)),
    )
    return result, lost


def test_every_entry_is_confirmed_missing_or_different():
    entries = [
        entry("a.txt", b"aaa"),
        entry("c.txt", b"c"),
        entry("d/b.txt", b"bb"),
        entry("e", b""),
    ]
    storage = Storage(
        [
            blob("www/a.txt", b"aaa"),
            blob("www/d/b.txt", b"XX"),  # same size, other content
            blob("www/other.txt", b"not in this run"),
            blob("www/e", b""),
        ]
    )
    result, lost = run(entries, storage, "www")
    assert (result.confirmed, result.missing, result.mismatched) == (2, 1, 1)
    assert result.lost_bytes == 1 + 2
    problems = {item["path"]: item["error"] for item in result.problems}
    assert problems["c.txt"] == MISSING
    assert "MD5" in problems["d/b.txt"]
    assert lost == [("c.txt", 1), ("d/b.txt", 2)]
    # Sorted, order-safe names: the merge decided everything from the listing, and only
    # the missing file was looked up before being reported.
    assert storage.checked == ["www/c.txt"]


def test_a_blob_without_content_md5_is_not_confirmed():
    storage = Storage([Blob("a", 1, Settings(None))])
    result, _ = run([entry("a", b"x")], storage, "")
    assert result.mismatched == 1 and result.confirmed == 0


def test_lost_files_count_as_failed_and_leave_the_backed_up_bytes():
    totals = Totals(
        files_done=3, files_copied=2, files_skipped=1, bytes_done=30, bytes_backed_up=30
    )
    storage = Storage([blob("a", b"x" * 10)])
    result, _ = run([entry("a", b"x" * 10), entry("b", b"y" * 10)], storage, "")
    totals.add_confirmation(result.to_dict())
    assert (totals.files_copied, totals.files_skipped, totals.files_failed) == (1, 1, 1)
    assert totals.bytes_backed_up == 20
    assert totals.failed == [{"path": "b", "error": MISSING}]
    assert (totals.confirmed, totals.lost) == (1, 1)


def test_names_the_two_orders_sort_differently_are_looked_up_not_guessed():
    # U+FFFD sorts after U+1F600 in UTF-16 (surrogates D83D...) but before it by code point.
    names = ["a", "b\ufffd", "b\U0001f600", "c"]
    entries = [entry(name, name.encode()) for name in sorted(names)]
    storage = Storage([blob(name, name.encode()) for name in names])
    utf16 = storage.listing(order=lambda item: item.name.encode("utf-16-be"))
    result, lost = run(entries, storage, "", listing=utf16)
    assert (result.confirmed, result.missing, result.mismatched) == (4, 0, 0)
    assert lost == []
    assert sorted(storage.checked) == ["b\ufffd", "b\U0001f600"]


def test_an_entry_out_of_order_is_looked_up_not_reported_missing():
    # The walk went backwards: "a/z" comes after "b" (the tree changed under it).
    entries = [entry("a/x", b"1"), entry("b", b"2"), entry("a/z", b"3"), entry("c", b"4")]
    storage = Storage([blob("a/x", b"1"), blob("a/z", b"3"), blob("b", b"2"), blob("c", b"4")])
    result, lost = run(entries, storage, "")
    assert (result.confirmed, result.missing, result.mismatched) == (4, 0, 0)
    assert lost == [] and storage.checked == ["a/z"]


def test_a_lost_container_makes_every_entry_missing():
    entries = [entry(f"f{i}", b"x") for i in range(5)] + [entry("\ue000odd", b"y")]
    storage = Storage([])
    result, lost = run(entries, storage, "www", listing=[])
    assert (result.confirmed, result.missing, result.mismatched) == (0, 6, 0)
    assert [path for path, _ in lost] == [item.path for item in entries]


ALPHABET = ["a", "b", "-", "/", " ", "é", "\ue000", "\uffff", "\U0001f600", "z"]


def _random_name(rng: random.Random) -> str:
    """A relative path as the walk gives them: no empty segment."""
    name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))
    return "/".join(part for part in name.split("/") if part) or "x"


@pytest.mark.parametrize("seed", range(60))
def test_random_runs_match_the_dict_oracle(seed: int):
    rng = random.Random(seed)
    prefix = rng.choice(["", "www", "a/b"])
    paths = sorted({_random_name(rng) for _ in range(rng.randint(0, 60))})
    entries = [entry(path, f"{path}{seed}".encode()) for path in paths]
    if entries and rng.random() < 0.3:
        entries.insert(rng.randrange(len(entries) + 1), rng.choice(entries))  # a duplicate
    if len(entries) > 2 and rng.random() < 0.3:
        i = rng.randrange(len(entries) - 1)  # the walk went backwards once
        entries[i], entries[i + 1] = entries[i + 1], entries[i]
    stored = []
    head = f"{prefix}/" if prefix else ""
    for item in entries:
        fate = rng.random()
        if fate < 0.15:
            continue  # lost
        content = f"{item.path}{seed}".encode()
        if fate < 0.25:
            content = content[:-1] + b"!"  # overwritten with other bytes, same size
        stored.append(blob(head + item.path, content))
    stored += [blob(head + _random_name(rng) + "~extra", b"e") for _ in range(rng.randint(0, 8))]
    storage = Storage(stored)
    order = rng.choice(
        [
            lambda item: item.name,
            lambda item: item.name.encode("utf-16-be"),
            lambda item: rng.random(),  # a listing out of order: trust nothing
        ]
    )
    listing = storage.listing(order=order)
    expected = Storage(stored).expect(entries, prefix)

    result, lost = run(entries, storage, prefix, listing=listing)

    assert (result.confirmed, result.missing, result.mismatched) == expected[:3]
    assert [path for path, _ in lost] == expected[3]
    assert result.lost_bytes == sum(item.size for item in entries if item.path in expected[3])


def test_neither_side_is_read_more_than_a_step_ahead_of_the_other():
    count = 20_000
    read = {"entries": 0, "blobs": 0}

    def entries():
        for i in range(count):
            assert i <= read["blobs"] + 2, "the entries were read ahead of the listing"
            read["entries"] += 1
            yield entry(f"f{i:06d}", b"x"), i

    def blobs():
        for i in range(count):
            assert i <= read["entries"] + 2, "the listing was read ahead of the entries"
            read["blobs"] += 1
            yield blob(f"www/f{i:06d}", b"x")

    result = confirm(entries(), blobs(), "www", lambda name: pytest.fail(f"looked up {name}"))
    assert result.confirmed == count
