"""Which snapshots a retention policy keeps (pure): restic's ``forget`` rules.

- ``last=N``: the N newest snapshots.
- ``daily=D``: for the D most recent days that have snapshots, the newest of each day.
- ``weekly=W``: likewise per ISO week (Monday to Sunday), ``monthly=M`` per calendar month.

Days, weeks and months are counted in UTC over the days that *have* snapshots, not back from
today: a destination that was not backed up for a month keeps its last D daily snapshots. A
snapshot is kept when any rule keeps it. As in restic, each rule walks the snapshots newest
first and keeps one whenever its bucket (the day, week, month; for ``last`` every snapshot is a
bucket of its own) differs from the bucket of the last snapshot that rule kept, until its count
is spent. An empty policy keeps everything and is refused where it would delete (prune).
Applying a policy again to what it kept keeps all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sitebackup.errors import ConfigError

RULES = ("last", "daily", "weekly", "monthly")
# A rule above this is a typo, not a policy (restic's counts are similar in practice).
MAX_COUNT = 100_000


@dataclass(frozen=True)
class Policy:
    last: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0

    @property
    def empty(self) -> bool:
        return not any(getattr(self, rule) for rule in RULES)

    def to_json(self) -> dict[str, int]:
        return {rule: getattr(self, rule) for rule in RULES}

    def describe(self) -> str:
        parts = [f"{rule}={getattr(self, rule)}" for rule in RULES if getattr(self, rule)]
        return ",".join(parts) or "(none)"

    @classmethod
    def from_json(cls, value: object) -> Policy:
        if not isinstance(value, dict):
            raise ValueError('a retention policy must be an object like {"last": 7}')
        unknown = sorted(set(value) - set(RULES))
        if unknown:
            raise ValueError(f"unknown retention rule(s) {unknown}; known: {', '.join(RULES)}")
        counts = {}
        for rule in RULES:
            item = value.get(rule, 0)
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_COUNT:
                raise ValueError(
                    f"retention rule {rule!r} must be a whole number from 0 to {MAX_COUNT}, "
                    f"got {str(item)[:40]!r}"
                )
            counts[rule] = item
        return cls(**counts)

    @classmethod
    def parse(cls, text: str, setting: str = "BACKUP_RETENTION") -> Policy:
        """``last=7,daily=14,weekly=8`` (any order, spaces allowed). ConfigError names the
        setting and the part that is wrong."""
        counts: dict[str, object] = {}
        for part in (piece.strip() for piece in text.split(",")):
            if not part:
                continue
            rule, sep, number = (item.strip() for item in part.partition("="))
            if not sep or not number.isdigit():
                raise ConfigError(
                    f"{setting}: {part!r} is not rule=count (e.g. last=7,daily=14,weekly=8)"
                )
            if rule in counts:
                raise ConfigError(f"{setting}: rule {rule!r} is given twice")
            counts[rule] = int(number)
        try:
            return cls.from_json(counts)
        except ValueError as exc:
            raise ConfigError(f"{setting}: {exc}") from None


@dataclass(frozen=True)
class Decision:
    snapshot_id: str
    ended_ms: int
    keep: bool
    reasons: tuple[str, ...] = ()  # the rules that keep it, e.g. ("last", "daily")


def _day(moment: datetime) -> object:
    return moment.date()


def _week(moment: datetime) -> object:
    year, week, _ = moment.isocalendar()
    return (year, week)


def _month(moment: datetime) -> object:
    return (moment.year, moment.month)


_BUCKETS: dict[str, Callable[[datetime], object]] = {
    "daily": _day,
    "weekly": _week,
    "monthly": _month,
}


def apply(snapshots: Iterable[tuple[str, int]], policy: Policy) -> list[Decision]:
    """Decide for every ``(id, ended_ms)``; the result is newest first whatever the input."""
    ordered = sorted(snapshots, key=lambda item: (item[1], item[0]), reverse=True)
    remaining = {rule: getattr(policy, rule) for rule in RULES}
    last_bucket: dict[str, object] = {}
    decisions = []
    for number, (snapshot_id, ended_ms) in enumerate(ordered):
        moment = datetime.fromtimestamp(ended_ms / 1000, UTC)
        reasons = []
        for rule in RULES:
            if remaining[rule] <= 0:
                continue
            bucket = number if rule == "last" else _BUCKETS[rule](moment)
            if rule in last_bucket and last_bucket[rule] == bucket:
                continue
            last_bucket[rule] = bucket
            remaining[rule] -= 1
            reasons.append(rule)
        decisions.append(Decision(snapshot_id, ended_ms, bool(reasons), tuple(reasons)))
    return decisions
