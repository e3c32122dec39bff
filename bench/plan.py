"""What a benchmark run measures: the full plan of the issue, or a quick smoke plan."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench import BenchError
from bench.trees import KiB, MiB, TreeSpec

SCENARIOS = ("A", "B", "C", "D", "S", "engine", "restore")
PEER_NAMES = ("rclone", "az")


@dataclass(frozen=True)
class Plan:
    trees: dict[str, TreeSpec]  # "A", "B", "C"
    scaling: tuple[TreeSpec, ...]  # "D" at growing sizes
    scale: tuple[TreeSpec, ...]  # "S": many 1 KiB files, memory and history as trees grow
    runs: int  # best of
    workers: tuple[int, ...]  # ceiling thread pool sizes to try
    engine_sizes: tuple[int, ...]  # no-op activities in one task_all
    partitioned: int  # no-op activities over sub-orchestrations
    partition_size: int
    scenarios: frozenset[str] = frozenset(SCENARIOS)
    peers: tuple[str, ...] = PEER_NAMES  # run on trees A, B and C
    run_timeout: float = 600.0  # one backup or orchestration
    quick: bool = False


def full_plan() -> Plan:
    return Plan(
        trees={
            "A": TreeSpec("A", 2000, 16 * KiB),
            "B": TreeSpec("B", 200, 1 * MiB),
            "C": TreeSpec("C", 2, 256 * MiB),
        },
        scaling=tuple(TreeSpec(f"D{n // 1000}k", n, 16 * KiB) for n in (1000, 5000, 20000)),
        scale=tuple(TreeSpec(f"S{n // 1000}k", n, 1 * KiB) for n in (1000, 5000, 100_000)),
        runs=3,
        workers=(8, 16, 32, 64),
        engine_sizes=(1000, 10000),
        partitioned=100_000,
        partition_size=1000,
    )


def quick_plan() -> Plan:
    """Every scenario in miniature: proves the benchmark works, measures nothing worth keeping."""
    return Plan(
        trees={
            "A": TreeSpec("qA", 40, 16 * KiB),
            "B": TreeSpec("qB", 4, 1 * MiB),
            "C": TreeSpec("qC", 1, 80 * MiB),
        },
        scaling=(TreeSpec("qD20", 20, 16 * KiB), TreeSpec("qD60", 60, 16 * KiB)),
        scale=(TreeSpec("qS100", 100, 1 * KiB), TreeSpec("qS300", 300, 1 * KiB)),
        runs=1,
        workers=(16,),
        engine_sizes=(100,),
        partitioned=400,
        partition_size=100,
        run_timeout=120.0,
        quick=True,
    )


def parse_scenarios(text: str) -> frozenset[str]:
    """``"A,C,engine"`` -> the scenario names, case as in ``SCENARIOS``."""
    wanted = {s.strip().lower() for s in text.split(",") if s.strip()}
    known = {s.lower(): s for s in SCENARIOS}
    unknown = sorted(wanted - known.keys())
    if unknown:
        raise BenchError(
            f"unknown scenario(s) {', '.join(unknown)}; pick from {', '.join(SCENARIOS)}"
        )
    if not wanted:
        raise BenchError(f"no scenario given; pick from {', '.join(SCENARIOS)}")
    return frozenset(known[s] for s in wanted)


def parse_peers(text: str) -> tuple[str, ...]:
    """``"rclone,az"`` -> the peer names in their fixed order; ``"none"`` -> no peer."""
    wanted = {p.strip().lower() for p in text.split(",") if p.strip()}
    if wanted == {"none"}:
        return ()
    unknown = sorted(wanted - set(PEER_NAMES))
    if unknown or not wanted:
        raise BenchError(
            f"unknown peer(s) {', '.join(unknown) or '(none given)'}; pick from "
            f"{', '.join(PEER_NAMES)}, or none"
        )
    return tuple(p for p in PEER_NAMES if p in wanted)


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v.replace("_", "")) for v in text.split(",") if v.strip())
    except ValueError:
        raise BenchError(f"{what}: expected comma-separated integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise BenchError(f"{what}: expected positive integers, got {text!r}")
    return values


def customise(plan: Plan, **changes: object) -> Plan:
    """The plan with the options the user gave (``None`` keeps the plan's value)."""
    return replace(plan, **{k: v for k, v in changes.items() if v is not None})
