"""A run's entries as sorted streams read one page at a time, and the pages of lost entries.

The walk yields paths in blob-name order, the listing writes the unchanged files and the
partitions write what they stored in that order, so each kind of entry page
(``layout.ENTRY_PAGE_KINDS``), read in index order, is one sorted run. Merging the runs lazily
(``heapq.merge``, one page per run in memory) gives the run's entries in blob-name order
without ever holding the tree: the post-copy confirmation merge-joins that with the blob
listing, the snapshot writer with the previous snapshot.

A run can still go backwards (the tree changed while it was walked): the merge then yields
an entry out of order. Every consumer must cope (the confirmation looks such an entry up on
its own; the snapshot comparison only counts).

Lost entries: the confirmation writes the entries storage did not hold, tagged with the page
they came from (``{"kind", "index", "entry"}``), into the run's ``lost-<k>`` pages in the
order it met them, so per kind they come in page order. The snapshot writer reads them back
per kind, one lost page at a time, and writes each page that had one without it.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from sitebackup import layout, manifest
from sitebackup.manifest import Entry, ManifestError

log = logging.getLogger(__name__)

# Where an entry came from: its page's kind and index.
Source = tuple[str, int]
Tagged = tuple[Entry, Source]


def _path(item: Tagged) -> str:
    return item[0].path


def page_run(read: Callable[[int], list[Entry]], kind: str, pages: int) -> Iterator[Tagged]:
    """The entries of pages ``0 .. pages-1`` of one kind, reading a page only when the one
    before is used up."""
    for index in range(pages):
        for entry in read(index):
            yield entry, (kind, index)


def merged(runs: Iterable[Iterable[Tagged]]) -> Iterator[Tagged]:
    """Sorted runs merged by path, lazily (a run out of order stays out of order)."""
    return heapq.merge(*runs, key=_path)


def by_path(runs: Iterable[Iterable[Entry]]) -> Iterator[Entry]:
    return heapq.merge(*runs, key=lambda entry: entry.path)


class LostWriter:
    """Collects lost entries and writes them as pages of ``manifest.PAGE_ENTRIES``."""

    def __init__(self, write: Callable[[int, bytes], None]) -> None:
        self._write = write
        self._held: list[dict] = []
        self.pages = 0

    def add(self, entry: Entry, source: Source) -> None:
        kind, index = source
        self._held.append({"kind": kind, "index": index, "entry": entry.to_json()})
        if len(self._held) >= manifest.PAGE_ENTRIES:
            self._flush()

    def _flush(self) -> None:
        self._write(self.pages, manifest.encode_lines(self._held))
        self.pages += 1
        self._held = []

    def close(self) -> int:
        if self._held:
            self._flush()
        return self.pages


class LostReader:
    """The lost entries of one kind, page by page (``take(index)`` in increasing index)."""

    def __init__(self, read: Callable[[int], list[dict]], pages: int, kind: str) -> None:
        self._records = self._stream(read, pages, kind)
        self._next: tuple[int, Entry] | None = None
        self._advance()

    @staticmethod
    def _stream(
        read: Callable[[int], list[dict]], pages: int, kind: str
    ) -> Iterator[tuple[int, Entry]]:
        for page in range(pages):
            for record in read(page):
                if record.get("kind") != kind:
                    continue
                index = record.get("index")
                if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                    raise ManifestError(f"lost page {page}: a record has a bad index")
                yield index, Entry.from_json(record.get("entry"))

    def _advance(self) -> None:
        self._next = next(self._records, None)

    def take(self, index: int) -> Counter[Entry]:
        """The lost entries of page ``index`` (as a multiset: a page may repeat an entry)."""
        found: Counter[Entry] = Counter()
        while self._next is not None and self._next[0] <= index:
            at, entry = self._next
            if at == index:
                found[entry] += 1
            else:
                # Cannot happen as the confirmation writes them; keeping the entry in the
                # snapshot is what every run did before lost entries were left out.
                log.warning("a lost entry of page %d came after page %d; kept", at, index)
            self._advance()
        return found


def without(entries: list[Entry], lost: Counter[Entry]) -> list[Entry]:
    """``entries`` minus the ``lost`` ones (each as many times as it was lost)."""
    left = Counter(lost)
    kept = []
    for entry in entries:
        if left[entry] > 0:
            left[entry] -= 1
        else:
            kept.append(entry)
    return kept


def entry_runs(pages: Iterable[manifest.PageRef]) -> list[list[str]]:
    """A snapshot's page names grouped into its sorted runs: one per kind, in header order;
    a page of no known kind is a run of its own."""
    runs: dict[str, list[str]] = {}
    alone: list[list[str]] = []
    for page in pages:
        kind = layout.entry_page_kind(page.name)
        if kind is None:
            alone.append([page.name])
        else:
            runs.setdefault(kind, []).append(page.name)
    return [*runs.values(), *alone]
