"""Retention (restic forget rules); every expected set below was worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sitebackup import retention
from sitebackup.errors import ConfigError
from sitebackup.retention import Policy


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


# 2026-01-05 and 2026-01-12 are Mondays; 2026-02-01 is a Sunday (ISO week 5).
SNAPSHOTS = [
    ("s1", ms("2026-01-05T10:00")),  # week 2
    ("s2", ms("2026-01-05T18:00")),  # week 2, same day as s1
    ("s3", ms("2026-01-06T09:00")),  # week 2
    ("s4", ms("2026-01-07T09:00")),  # week 2
    ("s5", ms("2026-01-07T21:00")),  # week 2, same day as s4
    ("s6", ms("2026-01-12T08:00")),  # week 3
    ("s7", ms("2026-02-01T12:00")),  # week 5, February
]


def kept(policy: Policy, snapshots=SNAPSHOTS) -> set[str]:
    return {d.snapshot_id for d in retention.apply(snapshots, policy) if d.keep}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Policy(last=2), {"s7", "s6"}),
        # The newest of each of the 3 most recent days that have snapshots.
        (Policy(daily=3), {"s7", "s6", "s5"}),
        # One per day, all five days: the later snapshot of 01-05 and of 01-07.
        (Policy(daily=7), {"s7", "s6", "s5", "s3", "s2"}),
        (Policy(weekly=2), {"s7", "s6"}),
        (Policy(weekly=9), {"s7", "s6", "s5"}),
        (Policy(monthly=2), {"s7", "s6"}),
        (Policy(last=1, daily=2, weekly=3), {"s7", "s6", "s5"}),
        (Policy(last=4, monthly=1), {"s7", "s6", "s5", "s4"}),
        (Policy(last=100), {f"s{i}" for i in range(1, 8)}),
    ],
)
def test_the_policy_keeps_what_restic_forget_keeps(policy: Policy, expected: set[str]) -> None:
    assert kept(policy) == expected


def test_decisions_come_newest_first_with_their_reasons() -> None:
    decisions = retention.apply(reversed(SNAPSHOTS), Policy(last=1, daily=2))
    assert [d.snapshot_id for d in decisions] == ["s7", "s6", "s5", "s4", "s3", "s2", "s1"]
    assert decisions[0].reasons == ("last", "daily")
    assert decisions[1].reasons == ("daily",)
    assert not decisions[2].keep and decisions[2].reasons == ()


def test_applying_a_policy_to_what_it_kept_keeps_all_of_it() -> None:
    policy = Policy(last=1, daily=2, weekly=3)
    first = [(i, t) for i, t in SNAPSHOTS if i in kept(policy)]
    assert kept(policy, first) == {i for i, _ in first}


def test_an_empty_policy_is_empty() -> None:
    assert Policy().empty and not Policy(weekly=1).empty


def test_a_setting_parses_in_any_order_with_spaces() -> None:
    assert Policy.parse(" weekly=8, last=7 ,daily=14") == Policy(last=7, daily=14, weekly=8)
    assert Policy.parse("") == Policy()
    assert Policy.parse("last=7,daily=14").describe() == "last=7,daily=14"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("last", "not rule=count"),
        ("last=x", "not rule=count"),
        ("last=-1", "not rule=count"),
        ("yearly=1", "unknown retention rule"),
        ("last=1,last=2", "given twice"),
        ("last=100001", "from 0 to 100000"),
    ],
)
def test_a_bad_setting_names_itself_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        Policy.parse(text)
    assert "BACKUP_RETENTION" in str(raised.value)


def test_a_policy_round_trips_through_json() -> None:
    policy = Policy(last=3, monthly=2)
    assert Policy.from_json(policy.to_json()) == policy
    with pytest.raises(ValueError, match="whole number"):
        Policy.from_json({"last": True})
