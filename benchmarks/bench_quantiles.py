"""Per-day quantiles of a 1,000-replication batch built from its series parts, against reading them.

A batch folder without ``quantiles.parquet`` (a killed or resumed batch) has them built from its
``parts/series-*.parquet`` when a chart or ``borderflow report`` first reads the folder. This runs a
small real batch of ``talks_collapse`` (``--sample-reps`` replications of ``--days`` days), copies
its parts to ``--reps`` replications (replication i is sample i mod ``--sample-reps``), then, each
in a fresh process, times

* ``sim.Folder.open(DIR).quantiles`` (builds ``quantiles.parquet`` from the parts), and
* the floor: reading every series part once with pyarrow, doing nothing with the values,

and prints wall, CPU and peak memory of both and their ratio (target for the whole report of a
1,000-replication batch: < 30 s and < 1 GB).

    python benchmarks/bench_quantiles.py [--reps 1000] [--sample-reps 4] [--days 730] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim import builtin_scenarios, load_scenario, run_batch

# each child prints its own peak resident memory (VmHWM: that of the process since its exec)
PEAK = "print(next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')).split()[1])"
BUILD = f"import sys, sim; sim.Folder.open(sys.argv[1]).quantiles; {PEAK}"
FLOOR = f"""
import sys, pathlib, pyarrow.parquet as pq
for p in sorted(pathlib.Path(sys.argv[1], "parts").glob("series-rep*.parquet")):
    with pq.ParquetFile(p) as f:
        f.read(use_threads=False)
{PEAK}
"""


def _child(code: str, folder: Path) -> tuple[float, float, float]:
    """Wall s, CPU s and peak resident memory (MB) of ``python -c code folder`` (Linux)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder)], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(done.stdout.split()[-1]) / 1024


def _grow(src: Path, dst: Path, reps: int) -> None:
    """A folder of ``reps`` replications from the series and kpis parts of ``src``."""
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    k = int(manifest["n_reps"])
    (dst / "parts").mkdir(parents=True)
    for r in range(reps):
        for table in ("series", "kpis"):
            shutil.copyfile(
                src / "parts" / f"{table}-rep{r % k:05d}.parquet",
                dst / "parts" / f"{table}-rep{r:05d}.parquet",
            )
    manifest.update(n_reps=reps, reps=list(range(reps)), seeds=[manifest["seed"]] * reps)
    (dst / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--sample-reps", type=int, default=4)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--keep", default=None, help="write the folders under DIR and keep them")
    args = ap.parse_args()
    name = "talks_collapse" if "talks_collapse" in builtin_scenarios() else "baseline"
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_quantiles-"))
    try:
        src, big = root / "sample", root / f"reps{args.reps}"
        for d in (src, big):
            shutil.rmtree(d, ignore_errors=True)
        t0 = time.perf_counter()
        run_batch(
            load_scenario(name),
            reps=args.sample_reps,
            seed=1,
            days=args.days,
            workers=1,
            out=src,
            quiet=True,
        )
        print(
            f"{name}: {args.sample_reps} replications of {args.days} days in {time.perf_counter() - t0:.1f} s"
        )
        _grow(src, big, args.reps)
        size = sum(p.stat().st_size for p in (big / "parts").glob("series-*")) / 1e6
        print(f"{args.reps} replications: {size:.0f} MB of series parts")
        floor = _child(FLOOR, big)
        build = _child(BUILD, big)
        for label, (wall, cpu, rss) in (
            ("read every part once", floor),
            ("build quantiles.parquet", build),
        ):
            print(f"{label:24}: wall {wall:6.1f} s  cpu {cpu:6.1f} s  peak {rss:6.0f} MB")
        print(
            f"quantiles / reading the parts: {build[0] / floor[0]:.2f}x wall, {build[1] / floor[1]:.2f}x cpu"
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
