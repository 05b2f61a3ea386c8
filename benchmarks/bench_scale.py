"""How one replication scales with the size of the network: synthetic networks of 100 to 30,000 sites.

For each size, writes a synthetic network (``sim.write_synthetic_network``, seed 1), then, in a fresh
Python process (so that peak memory is that size's alone), loads and validates it and runs one
replication with no measures. Prints per size: loading+validation time, wall and CPU time of the
replication, SimPy events, peak RSS of the process, and CPU microseconds per site-day; then the ratio
of the cost per site-day at the largest size to that at the smallest (target <= 1.3 at 10,000 against
100), and the targets for 10,000 sites (<= 30 s wall, <= 1 GB, loading <= 2 s).

    python benchmarks/bench_scale.py                          # 100 and 1,000 sites, 365 days
    python benchmarks/bench_scale.py --sizes 100,1000,10000,30000
    python benchmarks/bench_scale.py --sizes 10000 --profile profile.txt   # cProfile, top 40

Networks are written under ``--dir`` (default: a temporary folder, removed afterwards).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim import load_network, load_scenario, simulate, write_synthetic_network


def child(folder: Path, days: int, profile: str | None) -> None:
    """Load, validate and run one replication in this process; print one JSON line of figures."""
    t0, c0 = time.perf_counter(), time.process_time()
    net = load_network(folder)
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    sc_file = folder / "scenario.toml"
    sc_file.write_text(f'name = "synthetic"\nnetwork = "{folder}"\nhorizon_days = {days}\n')
    sc = load_scenario(sc_file)
    prof = cProfile.Profile() if profile else None
    w0, c0 = time.perf_counter(), time.process_time()
    if prof is not None:
        prof.enable()
    res = simulate(sc, seed=1, days=days, network=net)
    if prof is not None:
        prof.disable()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    if prof is not None and profile:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(40)
        Path(profile).write_text(out.getvalue())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        json.dumps(
            {
                "sites": len(net.sites),
                "lanes": len(net.lanes),
                "crossings": len(net.crossings),
                "load_s": load_s,
                "load_cpu_s": load_cpu,
                "wall_s": wall,
                "cpu_s": cpu,
                "events": int(res.kpis["events"]),
                "rss_mb": rss_mb,
                "fill_rate": float(res.kpis["fill_rate"]),
                "mass_balance_error": float(res.kpis["mass_balance_error"]),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="100,1000", help="comma-separated site counts")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1, help="seed of the synthetic networks")
    ap.add_argument("--dir", default=None, help="write the networks here (kept)")
    ap.add_argument("--profile", default=None, help="cProfile the largest size; top 40 to FILE")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child), args.days, args.profile)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    tmp = None if args.dir else tempfile.TemporaryDirectory(prefix="bench_scale_")
    base = Path(args.dir or (tmp.name if tmp else "."))
    print(
        f"{args.days} days, one replication per size, each in a fresh process; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    header = (
        f"{'sites':>7} {'lanes':>7} {'load+validate wall/CPU':>22} {'wall':>8} {'CPU':>8} "
        f"{'events':>11} {'peak RSS':>9} {'CPU/site-day':>13} {'fill rate':>9}"
    )
    print(header)
    rows = []
    try:
        for n in sizes:
            folder = write_synthetic_network(base / f"syn{n}", n, seed=args.seed)
            cmd = [sys.executable, __file__, "--child", str(folder), "--days", str(args.days)]
            if args.profile and n == sizes[-1]:
                cmd += ["--profile", args.profile]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            r["us_per_site_day"] = 1e6 * r["cpu_s"] / (r["sites"] * args.days)
            rows.append(r)
            print(
                f"{r['sites']:>7,} {r['lanes']:>7,} {r['load_s']:>11.2f} s /{r['load_cpu_s']:>6.2f} s "
                f"{r['wall_s']:>6.1f} s "
                f"{r['cpu_s']:>6.1f} s {r['events']:>11,} {r['rss_mb']:>6.0f} MB "
                f"{r['us_per_site_day']:>10.1f} us {r['fill_rate']:>9.4f}",
                flush=True,
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    lo, hi = rows[0], rows[-1]
    print(
        f"cost per site-day, {hi['sites']:,} sites / {lo['sites']:,} sites: "
        f"{hi['us_per_site_day'] / lo['us_per_site_day']:.2f}x (linear = 1.00; target <= 1.3)"
    )
    for r in rows:
        if r["sites"] == 10_000:
            ok = {
                "wall <= 30 s": r["wall_s"] <= 30,
                "peak RSS <= 1 GB": r["rss_mb"] <= 1024,
                "load+validate <= 2 s": r["load_s"] <= 2,
                "(CPU <= 2 s)": r["load_cpu_s"] <= 2,
            }
            print(
                "10,000 sites: "
                + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in ok.items())
            )
    if args.profile:
        print(f"profile of {sizes[-1]:,} sites written to {args.profile}")


if __name__ == "__main__":
    main()
