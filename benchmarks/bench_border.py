"""What the border costs in one replication of the default network, and (optionally) against an
earlier revision of Borderflow in the same run.

For ``baseline`` and ``talks_collapse`` (730 days) it prints the median CPU of a replication
(``time.process_time``, ``--repeat`` runs after a warm-up) and, from one run under cProfile, the
cumulative time of ``Border.cross`` (crossing queues and route choice) and its share of
``simulate``. cProfile inflates small functions, so read the share, not the seconds, and compare
revisions measured alike. With ``--against REV`` the measurements alternate between this tree and
a temporary git worktree of REV for ``--rounds`` rounds (a shared machine slows both alike) and the
ratios this/REV are printed.

    python benchmarks/bench_border.py [--days 730] [--repeat 5] [--against REV] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from _revision import ROOT, add_arguments, checkout, run_probe

SCENARIOS = ("baseline", "talks_collapse")

_PROBE = r"""
import cProfile, json, pstats, sys, time
sys.path.insert(0, sys.argv[1])
from sim import load_scenario, network_for, simulate
days, repeat = int(sys.argv[2]), int(sys.argv[3])
out = {}
for name in sys.argv[4].split(","):
    sc = load_scenario(name)
    net = network_for(sc)
    simulate(sc, seed=0, days=30, network=net)
    cpu = []
    for i in range(repeat):
        c0 = time.process_time()
        simulate(sc, seed=1, days=days, network=net)
        cpu.append(time.process_time() - c0)
    prof = cProfile.Profile()
    prof.runcall(simulate, sc, seed=1, days=days, network=net)
    stats = pstats.Stats(prof).stats
    cross = sum(v[3] for (f, _, fn), v in stats.items()
                if fn == "cross" and f.endswith("border.py"))
    total = sum(v[3] for (f, _, fn), v in stats.items() if fn == "simulate")
    out[name] = {"cpu": sorted(cpu)[len(cpu) // 2], "cross": cross, "total": total}
print(json.dumps(out))
"""


def probe(tree: Path, days: int, repeat: int) -> dict[str, dict[str, float]]:
    """Median CPU per replication and profiled Border.cross time, in a fresh process on ``tree``."""
    result: dict[str, dict[str, float]] = run_probe(
        _PROBE, tree, str(days), str(repeat), ",".join(SCENARIOS)
    )
    return result


def median(runs: list[dict[str, dict[str, float]]], name: str, key: str) -> float:
    return statistics.median(r[name][key] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} (2 shared cores: compare within one run)")
    here: list[dict[str, dict[str, float]]] = []
    base: list[dict[str, dict[str, float]]] = []
    if args.against:
        with checkout(args.against) as tree:
            for _ in range(args.rounds):
                base.append(probe(tree, args.days, args.repeat))
                here.append(probe(ROOT, args.days, args.repeat))
    else:
        here.append(probe(ROOT, args.days, args.repeat))
    for name in SCENARIOS:
        cpu, cross, total = (median(here, name, k) for k in ("cpu", "cross", "total"))
        line = (
            f"{name}: {args.days}-day replication CPU {cpu:.3f} s; under cProfile Border.cross "
            f"{cross:.3f} s of {total:.3f} s ({100 * cross / total:.0f} %)"
        )
        if base:
            b_cpu, b_cross, b_total = (median(base, name, k) for k in ("cpu", "cross", "total"))
            line += (
                f"\n    {args.against}: CPU {b_cpu:.3f} s, Border.cross {b_cross:.3f} s of "
                f"{b_total:.3f} s ({100 * b_cross / b_total:.0f} %); this/{args.against}: CPU "
                f"{cpu / b_cpu:.2f}x, Border.cross {cross / b_cross:.2f}x"
            )
        print(line)


if __name__ == "__main__":
    main()
