"""Speed of one replication of the default network, against a bare SimPy loop and (optionally) an
earlier revision of Borderflow, in the same run.

Prints the median CPU and wall time of a 730-day replication of ``baseline`` and ``talks_collapse``
(targets: <= 1 s, and <= 0.3 s inside ``simulate`` for the scale issue), microseconds per lot and
per site-day, and the ratio to a bare SimPy loop that schedules one timeout per lot (the shape the
engine had before arrivals moved to per-day buckets). With ``--against REV`` the same measurement
runs, interleaved, in a temporary git worktree of revision REV (e.g. the commit before a refactor),
and the ratio current/REV is printed: a shared, noisy machine slows both alike.

    python benchmarks/bench_replication.py [--days 730] [--repeat 5] [--against REV]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from _revision import ROOT, add_arguments, checkout, run_probe

SCENARIOS = ("baseline", "talks_collapse")

_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
try:
    from sim import load_scenario, network_for, simulate
except ImportError:  # revisions before the layered package
    from sim.results import network_for, simulate
    from sim.scenario import load_scenario
out = {}
for name in sys.argv[4].split(","):
    sc = load_scenario(name)
    net = network_for(sc)
    simulate(sc, seed=0, days=30, network=net)
    cpu, wall = [], []
    for i in range(int(sys.argv[3])):
        c0, w0 = time.process_time(), time.perf_counter()
        simulate(sc, seed=i, days=int(sys.argv[2]), network=net)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    out[name] = {"cpu": sorted(cpu)[len(cpu) // 2], "wall": sorted(wall)[len(wall) // 2]}
print(json.dumps(out))
"""


def probe(tree: Path, days: int, repeat: int) -> dict[str, dict[str, float]]:
    """Median CPU and wall seconds per replication, measured in a fresh process on ``tree``."""
    result: dict[str, dict[str, float]] = run_probe(
        _PROBE, tree, str(days), str(repeat), ",".join(SCENARIOS)
    )
    return result


def bare_simpy_per_lot(n_lots: int) -> float:
    """Seconds per event of a bare SimPy loop: one daily process plus one timeout per lot."""
    import simpy

    env = simpy.Environment()
    per_day = max(1, n_lots // 730)

    def proc() -> simpy.events.ProcessGenerator:
        while True:
            for k in range(per_day):
                env.timeout(1.0 + k / per_day).callbacks.append(lambda _e: None)
            yield env.timeout(1)

    env.process(proc())
    t0 = time.process_time()
    env.run(until=730)
    return (time.process_time() - t0) / (per_day * 730)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap)
    args = ap.parse_args()

    from sim import load_scenario, network_for, simulate

    sc = load_scenario("baseline")
    net = network_for(sc)
    res = simulate(sc, seed=0, days=args.days, network=net)
    lots = int((res.raw.shipped > 0).sum())
    site_days = len(net.sites) * args.days
    print(
        f"default network: {len(net.sites)} sites, {len(net.crossings)} crossings, "
        f"{len(net.lanes)} lanes; {lots:,} lots in {args.days} days; load {os.getloadavg()[0]:.1f}"
    )
    here = [probe(ROOT, args.days, args.repeat)]
    base: list[dict[str, dict[str, float]]] = []
    if args.against:
        with checkout(args.against) as tree:
            for _ in range(args.rounds):
                base.append(probe(tree, args.days, args.repeat))
                here.append(probe(ROOT, args.days, args.repeat))
    for name in SCENARIOS:
        cpu = statistics.median(h[name]["cpu"] for h in here)
        wall = statistics.median(h[name]["wall"] for h in here)
        line = f"{name}: one {args.days}-day replication: CPU {cpu:.3f} s, wall {wall:.3f} s"
        line += f"; {1e6 * cpu / max(lots, 1):.2f} us/lot, {1e6 * cpu / site_days:.2f} us/site-day"
        if base:
            old = statistics.median(b[name]["cpu"] for b in base)
            line += f"; CPU vs {args.against}: {cpu / old:.2f}x ({old:.3f} s)"
        print(line)
    per_lot = bare_simpy_per_lot(lots)
    cpu = statistics.median(h["baseline"]["cpu"] for h in here)
    print(
        f"bare SimPy, one timeout per lot: {1e6 * per_lot:.2f} us/lot; Borderflow's whole day per "
        f"lot / bare SimPy timeout per lot: {cpu / max(lots, 1) / per_lot:.2f}"
    )
    for name in SCENARIOS:
        c = statistics.median(h[name]["cpu"] for h in here)
        print(
            f"{name}: target <= 1 s per replication (CPU) {'met' if c <= 1.0 else 'NOT met'}; "
            f"<= 0.3 s inside simulate {'met' if c <= 0.3 else 'NOT met'} ({c:.3f} s)"
        )


if __name__ == "__main__":
    main()
