"""Do two revisions of the engine give the same results? KPIs of the same replications, side by side.

Runs ``--reps`` replications (seed ``--seed``, reps 0..n-1) of each scenario with this checkout and
with revision ``--against`` (in a temporary git worktree, in a fresh process), then prints per
scenario the largest relative difference of any KPI over the replications and, per KPI, the
mean of each, the paired difference of the means with its 95 % interval, and that difference in
units of the replications' standard deviation. A refactor that only reorders sums keeps a
scenario without thresholds (``baseline``) within 1e-9; in a scenario where a last-bit
difference can flip a discrete choice (route choice at slowed crossings) the runs part ways, and
what must hold is that the paired differences are noise: small against the spread between
replications, their intervals covering zero about as often as not.

    python benchmarks/bench_equivalence.py --against c9299d6 [--reps 20] [--days 730]
        [--scenarios baseline,talks_collapse] [--perturb]

``--perturb`` instead compares this checkout with itself after adding one unit in the last place
to every opening stock (what a change of summation order does): how far the runs part ways by
themselves.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from _revision import ROOT, checkout, run_probe

SKIP = {"wall_s", "events", "mass_balance_error", "cost_duty_usd", "rep", "seed", "days"}
# (measured; zero up to rounding; the run's identity)

_PROBE = r"""
import json, math, sys
sys.path.insert(0, sys.argv[1])
from sim import load_scenario, network_for, simulate
perturb = sys.argv[6] == "1"
out = {}
for name in sys.argv[5].split(","):
    sc = load_scenario(name)
    net = network_for(sc)
    if perturb:
        import sim.engine.layout as lay_mod
        build = lay_mod.Layout.__init__
        def nudged(self, *a, **k):
            build(self, *a, **k)
            self.opening = [math.nextafter(x, math.inf) if x > 0 else x for x in self.opening]
        lay_mod.Layout.__init__ = nudged
    out[name] = [
        {k: v for k, v in simulate(sc, seed=int(sys.argv[2]), rep=r, days=int(sys.argv[3]),
                                   network=net).kpis.items() if isinstance(v, (int, float))}
        for r in range(int(sys.argv[4]))
    ]
    if perturb:
        lay_mod.Layout.__init__ = build
print(json.dumps(out))
"""


def kpis(tree: Path, args: argparse.Namespace, perturb: bool = False) -> dict[str, list[dict[str, float]]]:
    """KPIs of every replication of every scenario, computed in a fresh process on ``tree``."""
    result: dict[str, list[dict[str, float]]] = run_probe(
        _PROBE, tree, str(args.seed), str(args.days), str(args.reps), args.scenarios,
        "1" if perturb else "0",
    )
    return result


def rel(a: float, b: float) -> float:
    """Relative difference of two numbers (0 when equal, or both NaN)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def report(name: str, old: list[dict[str, float]], new: list[dict[str, float]], label: str) -> None:
    """Print the largest relative difference and the paired KPI differences of one scenario."""
    keys = [k for k in old[0] if k not in SKIP and k in new[0]]
    worst = max((rel(o[k], n[k]), k) for o, n in zip(old, new, strict=True) for k in keys)
    print(f"\n{name}: {len(old)} replications; largest relative KPI difference {worst[0]:.2g} ({worst[1]})")
    if worst[0] <= 1e-9:
        return
    print(f"  KPIs that differ by more than 1e-9, largest paired difference (in sd of {label}) first")
    print(f"  {'KPI':34s} {'mean ' + label:>16s} {'mean this':>16s} {'this - ' + label + ' (95% CI)':>34s} {'/ sd':>6s}")
    rows = []
    for k in keys:
        a = [o[k] for o in old]
        b = [n[k] for n in new]
        if any(math.isnan(x) for x in a + b) or max(map(rel, a, b)) <= 1e-9:
            continue
        d = [y - x for x, y in zip(a, b, strict=True)]
        md = statistics.fmean(d)
        half = 1.96 * statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else math.inf
        sd = statistics.stdev(a) if len(a) > 1 else 0.0
        rows.append((abs(md / sd) if sd > 0 else 0.0, k, a, b, md, half, sd))
    inside = sum(abs(md) <= half for _, _, _, _, md, half, _ in rows)
    for _z, k, a, b, md, half, sd in sorted(rows, reverse=True):
        ratio = f"{md / sd:6.2f}" if sd > 0 else "     -"
        print(
            f"  {k:34s} {statistics.fmean(a):16.6g} {statistics.fmean(b):16.6g} "
            f"{md:14.4g} ({md - half:.3g}, {md + half:.3g}) {ratio}"
        )
    shown = len(rows)
    print(f"  intervals of the paired difference that cover 0: {inside} of {shown}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default=None, help="git revision to compare with")
    ap.add_argument("--perturb", action="store_true", help="compare with a last-bit nudge instead")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--scenarios", default="baseline,talks_collapse")
    args = ap.parse_args()
    if not args.against and not args.perturb:
        ap.error("give --against REV or --perturb")
    new = kpis(ROOT, args)
    if args.perturb:
        old, label = kpis(ROOT, args, perturb=True), "nudged"
    else:
        with checkout(args.against) as tree:
            old, label = kpis(tree, args), args.against[:8]
    for name in args.scenarios.split(","):
        report(name, old[name], new[name], label)


if __name__ == "__main__":
    main()
