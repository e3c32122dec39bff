"""Newest-first paging over a task hub's instances, with an in-memory list API."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from sitebackup.console import paging

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeHub:
    """The durable list API over a fixed set of instances: created times in microseconds,
    shown to the second, listed in instance-id order (as Azure Storage does)."""

    def __init__(self, instances: list[tuple[str, datetime, str]], cap: int = paging.WINDOW_CAP):
        self.instances = sorted(instances)
        self.cap = cap
        self.calls = 0

    async def fetch(self, prefix, low, high, statuses):
        self.calls += 1
        found = [
            {"instanceId": iid, "createdTime": stamp(created), "runtimeStatus": status}
            for iid, created, status in self.instances
            if iid.startswith(prefix)
            and low <= created <= high
            and (not statuses or status in statuses)
        ]
        if len(found) > self.cap:
            raise paging.TooMany(found[: self.cap])
        return found


def expected_order(instances, keep=lambda item: True):
    rows = [(stamp(created), iid) for iid, created, status in instances if keep((iid, status))]
    return [iid for _, iid in sorted(rows, reverse=True)]


def walk(hub, limit, **kwargs):
    seen, cursor, pages = [], None, 0
    while True:
        page = asyncio.run(
            paging.newest_first(
                hub.fetch, ["backup-"], limit=limit, now=NOW, cursor=cursor, **kwargs
            )
        )
        pages += 1
        seen.extend(item["instanceId"] for item in page.items)
        assert len(page.items) <= limit
        if page.next is None:
            return seen, pages
        cursor = paging.Cursor.decode(page.next.encode())
        assert pages < 10_000


def test_ten_thousand_instances_come_newest_first_in_pages_each_seen_once():
    rng = random.Random(7)
    instances = []
    for n in range(10_000):
        # Bursts: many instances share one second, others are days apart.
        created = NOW - timedelta(days=rng.choice([0, 0, 1, 30, 400]), seconds=rng.randrange(0, 50))
        created += timedelta(microseconds=rng.randrange(1_000_000))
        instances.append((f"backup-{n:05d}", created, rng.choice(["Completed", "Failed"])))
    instances.append(("other-1", NOW, "Completed"))  # another prefix: never listed
    hub = FakeHub(instances)
    seen, pages = walk(hub, 200)
    assert seen == expected_order([i for i in instances if i[0].startswith("backup-")])
    assert pages >= 10_000 // 200


def test_a_window_with_too_many_is_narrowed_and_nothing_is_lost():
    instances = [
        (f"backup-{n:04d}", NOW - timedelta(seconds=n // 30, microseconds=n), "Completed")
        for n in range(3000)
    ]
    hub = FakeHub(instances, cap=100)
    seen, _ = walk(hub, 50)
    assert seen == expected_order(instances)


def test_more_in_one_second_than_a_window_may_read_is_reported_not_hidden():
    instances = [(f"backup-{n:04d}", NOW - timedelta(hours=1), "Completed") for n in range(300)]
    page = asyncio.run(
        paging.newest_first(FakeHub(instances, cap=100).fetch, ["backup-"], limit=50, now=NOW)
    )
    assert page.truncated
    assert len(page.items) == 50


def test_status_and_time_filters_and_keep():
    instances = [
        (f"backup-{n:03d}", NOW - timedelta(minutes=n * 7), "Failed" if n % 3 else "Completed")
        for n in range(300)
    ]
    hub = FakeHub(instances)
    low, high = NOW - timedelta(hours=10), NOW - timedelta(hours=2)
    seen, _ = walk(
        hub,
        7,
        statuses=["Failed"],
        created_from=low,
        created_to=high,
        keep=lambda item: not item["instanceId"].endswith("5"),
    )
    wanted = [
        i for i in instances if i[2] == "Failed" and low <= i[1] <= high and not i[0].endswith("5")
    ]
    assert seen == expected_order(wanted)
    assert seen  # the filter leaves something to page through


def test_an_empty_hub_answers_one_empty_page_in_a_few_requests():
    hub = FakeHub([])
    page = asyncio.run(paging.newest_first(hub.fetch, ["backup-"], limit=25, now=NOW))
    assert page.items == [] and page.next is None
    assert hub.calls < 20


@pytest.mark.parametrize("text", ["", "x", "bm90IGpzb24", "WzEsMl0", "WyJub3QgYSB0aW1lIiwgImEiXQ"])
def test_a_cursor_this_module_did_not_make_is_refused(text):
    with pytest.raises(ValueError, match="reload the list"):
        paging.Cursor.decode(text)
