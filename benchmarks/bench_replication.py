"""Speed of one replication of the default network, against a bare SimPy loop in the same run.

Prints the median wall time of a 730-day baseline replication (target: <= 2 s on a 2-core machine),
the model's events per second, a bare SimPy loop's events per second, and their ratio; also
microseconds per lot and per site-day, since the model's design removes events.

    python benchmarks/bench_replication.py [--days 730] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import simpy

from sim import load_scenario, network_for, simulate


def bare_simpy(n_events: int, n_procs: int = 100) -> float:
    """Events per second of a bare SimPy loop: n_procs processes each yielding timeout(1)."""
    env = simpy.Environment()
    per = max(1, n_events // n_procs)

    def proc() -> simpy.events.ProcessGenerator:
        for _ in range(per):
            yield env.timeout(1)

    for _ in range(n_procs):
        env.process(proc())
    t0 = time.perf_counter()
    env.run()
    return (per * n_procs) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sc = load_scenario("baseline")
    net = network_for(sc)
    simulate(sc, seed=0, days=30, network=net)  # warm-up: imports, caches
    walls, rates, bare = [], [], []
    events = lots = 0
    for i in range(args.repeat):
        t0 = time.perf_counter()
        res = simulate(sc, seed=i, days=args.days, network=net)
        walls.append(time.perf_counter() - t0)
        events = res.kpis["events"]
        lots = int((res.raw.shipped > 0).sum())
        rates.append(events / res.kpis["wall_s"])
        bare.append(bare_simpy(events))
    wall = statistics.median(walls)
    rate, bare_rate = statistics.median(rates), statistics.median(bare)
    site_days = len(net.sites) * args.days
    print(
        f"default network: {len(net.sites)} sites, {len(net.crossings)} crossings, {len(net.lanes)} lanes"
    )
    print(
        f"one {args.days}-day replication: median {wall:.3f} s over {args.repeat} (min {min(walls):.3f}, max {max(walls):.3f})"
    )
    print(f"events per replication: {events:,}; lots: {lots:,}")
    print(
        f"model: {rate:,.0f} events/s; bare SimPy loop: {bare_rate:,.0f} events/s; ratio {rate / bare_rate:.3f}"
    )
    print(
        f"model: {1e6 * wall / max(lots, 1):.2f} us per lot, {1e6 * wall / site_days:.2f} us per site-day"
    )
    print(f"target <= 2 s per replication: {'met' if wall <= 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
