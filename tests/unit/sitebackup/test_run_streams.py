"""A run's entries as sorted streams: the lazy merge, the lost pages, and the snapshot
comparison's merge-join, each checked against a dict or a sort written here."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest

from sitebackup import layout, manifest, run_streams
from sitebackup.manifest import Changes, Entry, PageRef


def entry(path: str, content: bytes = b"x", mtime_ns: int = 1) -> Entry:
    return Entry(path, len(content), mtime_ns, hashlib.md5(content).digest())


def pages_of(entries: list[Entry], size: int) -> list[list[Entry]]:
    return [entries[i : i + size] for i in range(0, len(entries), size)]


def test_entry_page_kinds_come_from_the_page_names():
    name = layout.run_page("backups", "www", "run-1", layout.STORED_PAGE, 3)
    kept = layout.kept_page("backups", "www", "run-1", layout.UNCHANGED_PAGE, 12)
    assert layout.entry_page_kind(name) == layout.STORED_PAGE
    assert layout.entry_page_kind(kept) == layout.UNCHANGED_PAGE
    assert layout.entry_page_kind(layout.run_page("b", "", "r", layout.COPY_PAGE, 0)) is None
    assert layout.entry_page_kind(layout.run_page("b", "", "r", layout.LOST_PAGE, 0)) is None
    assert layout.entry_page_kind("elsewhere/stored-00001.jsonl.gz") is None


def test_a_snapshots_pages_group_into_one_run_per_kind_in_header_order():
    def ref(kind: str, index: int, kept: bool = False) -> PageRef:
        make = layout.kept_page if kept else layout.run_page
        return PageRef(make("b", "www", "r", kind, index), 1)

    refs = [
        ref("unchanged", 0),
        ref("unchanged", 1, kept=True),
        ref("stored", 0, kept=True),
        PageRef("fixtures/page-a.jsonl.gz", 1),
        ref("stored", 1),
    ]
    runs = run_streams.entry_runs(refs)
    assert runs == [
        [refs[0].name, refs[1].name],
        [refs[2].name, refs[4].name],
        [refs[3].name],
    ]


def test_the_merge_reads_a_page_only_when_its_run_gets_there():
    rng = random.Random(7)
    paths = sorted(f"d{rng.randrange(100)}/f{i:05d}" for i in range(20_000))
    kinds = {"unchanged": [], "stored": []}
    for path in paths:
        kinds[rng.choice(list(kinds))].append(entry(path))
    size = 500
    pages = {kind: pages_of(items, size) for kind, items in kinds.items()}
    yielded = Counter()

    def reader(kind):
        def read(index):
            # Page `index` is read only once every entry of the pages before it (but the
            # one the merge holds) has been handed on.
            assert yielded[kind] >= index * size - 1, (kind, index, yielded[kind])
            return pages[kind][index]

        return read

    merged = run_streams.merged(
        run_streams.page_run(reader(kind), kind, len(pages[kind])) for kind in kinds
    )
    seen = []
    for item, (kind, index) in merged:
        yielded[kind] += 1
        assert item in pages[kind][index]
        seen.append(item.path)
    assert seen == paths


def test_lost_pages_round_trip_per_kind_in_page_order():
    written: dict[int, bytes] = {}
    writer = run_streams.LostWriter(lambda index, data: written.__setitem__(index, data))
    lost = [(entry(f"s{i:05d}"), ("stored", i // 100)) for i in range(manifest.PAGE_ENTRIES + 7)]
    unchanged = [(entry("u1"), ("unchanged", 0)), (entry("u2"), ("unchanged", 4))]
    for item, source in [unchanged[0], *lost, unchanged[1]]:
        writer.add(item, source)
    assert writer.close() == 2 == len(written)

    def read(index):
        return list(manifest.decode_lines(written[index]))

    stored = run_streams.LostReader(read, 2, "stored")
    for index in range(lost[-1][1][1] + 1):
        expect = Counter(item for item, (_, at) in lost if at == index)
        assert stored.take(index) == expect
    reader = run_streams.LostReader(read, 2, "unchanged")
    assert [reader.take(index) for index in range(5)] == [
        Counter([entry("u1")]),
        Counter(),
        Counter(),
        Counter(),
        Counter([entry("u2")]),
    ]


def test_without_leaves_out_each_lost_entry_as_often_as_it_was_lost():
    a, b, c = entry("a"), entry("b"), entry("c")
    assert run_streams.without([a, b, b, c], Counter([b])) == [a, b, c]
    assert run_streams.without([a, b, c], Counter([entry("b", b"other")])) == [a, b, c]
    assert run_streams.without([a], Counter()) == [a]


def oracle_changes(previous: list[Entry], current: list[Entry]) -> Changes:
    before = {item.path: item.md5 for item in previous}
    after = {item.path: item.md5 for item in current}
    return Changes(
        added=len(after.keys() - before.keys()),
        changed=sum(1 for path in after.keys() & before.keys() if after[path] != before[path]),
        deleted=len(before.keys() - after.keys()),
    )


def _snapshot(rng: random.Random, names: list[str]) -> list[Entry]:
    return [entry(name, rng.choice([b"1", b"2"])) for name in names if rng.random() < 0.7]


@pytest.mark.parametrize("seed", range(40))
def test_the_merge_join_counts_as_a_dict_of_both_snapshots_would(seed: int):
    rng = random.Random(seed)
    names = sorted(
        {"".join(rng.choice("ab/-é\ue000\U0001f600") for _ in range(4)) for _ in range(80)}
    )
    previous, current = _snapshot(rng, names), _snapshot(rng, names)

    def runs(entries):
        # Split into two sorted runs, as a run's unchanged and stored pages are.
        split = [[], []]
        for item in entries:
            split[rng.randrange(2)].append(item)
        return run_streams.by_path(iter(run) for run in split)

    assert manifest.changes_between(runs(previous), runs(current)) == oracle_changes(
        previous, current
    )


@pytest.mark.parametrize("seed", range(40))
def test_a_stream_that_goes_backwards_keeps_the_counts_consistent(seed: int):
    rng = random.Random(seed)
    names = sorted({f"p{rng.randrange(500):03d}" for _ in range(120)})
    previous, current = _snapshot(rng, names), _snapshot(rng, names)
    for side in (previous, current):
        for _ in range(rng.randint(1, 3)):  # the tree changed while a walk went through it
            if len(side) > 2:
                i, j = sorted(rng.sample(range(len(side)), 2))
                side[i], side[j] = side[j], side[i]
        if side and rng.random() < 0.3:
            side.insert(rng.randrange(len(side)), rng.choice(side))  # met twice
    changes = manifest.changes_between(iter(previous), iter(current))
    # Each entry counts once: as added/deleted, or as one side of a pair.
    pairs = len(current) - changes.added
    assert pairs == len(previous) - changes.deleted
    assert 0 <= changes.changed <= pairs
    # A pair joins equal paths: at most as many as both sides hold of each path.
    both = Counter(item.path for item in previous) & Counter(item.path for item in current)
    assert pairs <= sum(both.values())


def test_the_merge_join_holds_one_entry_of_each_side():
    count = 50_000
    taken = {"previous": 0, "current": 0}

    def side(name, other):
        for i in range(count):
            assert taken[name] <= taken[other] + 1, f"{name} read ahead"
            taken[name] += 1
            yield entry(f"f{i:06d}", b"a" if name == "previous" or i % 10 else b"b")

    changes = manifest.changes_between(side("previous", "current"), side("current", "previous"))
    assert changes == Changes(added=0, changed=count // 10, deleted=0)
