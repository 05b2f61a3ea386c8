"""Monte Carlo throughput: the same batch with 1 worker and with 2 workers, in one run.

Runs the built-in scenario ``talks_collapse`` if it exists, else ``baseline`` (and says which), prints
both wall times, the speedup (target >= 1.7x on a 2-core machine), checks the KPIs are identical, and
extrapolates the time of 1,000 replications of 730 days with 2 workers (target <= 10 minutes). It also
prints the CPU seconds per replication (this process and its pool workers) and the time 1,000
replications would take with both cores free for them: on a shared machine the wall times measure
the other jobs as much as Borderflow.

    python benchmarks/bench_batch.py [--reps 20] [--days 730] [--serial-reps N] [--out DIR [--keep quantiles]]

The two are run in interleaved rounds of ``--round`` replications (default 10, or one round when --reps > 40) so that drifting load
on a shared machine affects both alike. ``--reps 1000`` runs the real thing (the 1-worker reference
then runs only ``--serial-reps`` replications, default min(reps, 40); the speedup compares time per
replication). ``--out DIR`` also writes the
results folders (DIR/w1, DIR/w2: Parquet parts of every table), which costs extra time per replication;
with ``--keep quantiles`` only the parts the per-day quantiles and figures read (KPIs and quantiles).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from sim import builtin_scenarios, load_scenario, run_batch, simulate


def _fmt_s(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--serial-reps", type=int, default=None)
    ap.add_argument(
        "--round",
        type=int,
        default=None,
        help="replications per interleaved round (default 10; one round when --reps > 40)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write results folders under DIR")
    ap.add_argument(
        "--keep", default="all", choices=("all", "quantiles"), help="what the folders keep (--out)"
    )
    args = ap.parse_args()
    if args.round is None:
        args.round = 10 if args.reps <= 40 else args.reps
    return args


def _used() -> float:
    """CPU seconds of this process and its finished (reaped) children, e.g. a closed pool's workers."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    args = _args()
    name = "talks_collapse" if "talks_collapse" in builtin_scenarios() else "baseline"
    sc = load_scenario(name)
    serial_reps = args.serial_reps or min(args.reps, 40)
    print(
        f"scenario {name}"
        + ("" if name == "talks_collapse" else " (talks_collapse is not a built-in scenario)")
        + f", {args.days} days, seed {args.seed}; {os.cpu_count()} cores"
    )
    simulate(sc, seed=0, days=30)  # warm-up: imports, network cache (inherited by forked workers)

    cpu = {1: 0.0, 2: 0.0}  # CPU seconds of this process and its (finished) pool workers

    def batch(workers: int, reps: int, seed: int, tag: str) -> tuple[float, Any]:
        out = None
        if args.out:
            out = Path(args.out) / f"w{workers}-{tag}"
            shutil.rmtree(out, ignore_errors=True)
        c0, t0 = _used(), time.perf_counter()
        res = run_batch(
            sc, reps=reps, seed=seed, days=args.days, workers=workers, out=out, quiet=True,
            keep=args.keep,
        )  # the pool is shut down on return: its workers' CPU is counted
        cpu[workers] += _used() - c0
        return time.perf_counter() - t0, res

    # interleave 1-worker and 2-worker rounds so that drifting load on a shared machine hits both
    t1 = t2 = 0.0
    n1 = n2 = 0
    engine: list[float] = []
    same = True
    peak = 0
    for i, start in enumerate(range(0, args.reps, args.round)):
        n = min(args.round, args.reps - start)
        if n1 < serial_reps:
            m = min(n, serial_reps - n1)
            dt, r1 = batch(1, m, args.seed + i, f"r{i}")
            t1, n1 = t1 + dt, n1 + m
        dt, r2 = batch(2, n, args.seed + i, f"r{i}")
        t2, n2 = t2 + dt, n2 + n
        engine.extend(r2.kpis["wall_s"])
        peak = max(peak, r2.peak_in_flight)
        if i == 0:
            k = len(r1.kpis)
            same = r1.kpis.drop(columns="wall_s").equals(r2.kpis.drop(columns="wall_s").head(k))
    per1, per2 = t1 / n1, t2 / n2
    print(f"1 worker : {n1:5d} reps in {_fmt_s(t1):>9}  ({per1:.3f} s/rep)")
    print(
        f"2 workers: {n2:5d} reps in {_fmt_s(t2):>9}  ({per2:.3f} s/rep; "
        f"engine {sum(engine) / len(engine):.3f} s/rep in each worker; peak in flight {peak})"
    )
    speedup = per1 / per2
    print(f"speedup 2 vs 1 worker: {speedup:.2f}x (target >= 1.7x)")
    print(f"KPIs identical with 1 and 2 workers (except wall_s): {same}")
    est = per2 * 1000 * (730 / args.days)
    label = "measured" if args.reps >= 1000 and args.days == 730 else "extrapolated"
    what = f"; results folders keeping {args.keep}" if args.out else "; KPIs only, no results folder"
    print(f"1,000 reps x 730 days with 2 workers: {_fmt_s(est)} ({label}; target <= 10 min){what}")
    c1, c2 = cpu[1] / n1, cpu[2] / n2
    free = c2 * 1000 * (730 / args.days) / 2
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"CPU per replication: {c1:.3f} s with 1 worker, {c2:.3f} s with 2 (this process and its "
        f"workers); 1,000 reps x 730 days on 2 free cores: {_fmt_s(free)}; load average {load}"
    )


if __name__ == "__main__":
    main()
