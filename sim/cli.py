"""The ``borderflow`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.errors import SimError

if TYPE_CHECKING:
    from sim.results import Result


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.network import load_network

    problems: list[str] = []
    for path in args.paths:
        try:
            if os.path.isdir(path):
                load_network(path)
            else:
                from sim.scenario import load_scenario

                load_scenario(path)
        except SimError as exc:
            probs = getattr(exc, "problems", None)
            problems.extend(str(p) for p in probs) if probs else problems.append(str(exc))
    if problems:
        for line in problems:
            print(line)
        return 2
    print("ok")
    return 0


def _money(x: float) -> str:
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"US${x / div:,.2f}{unit}"
    return f"US${x:,.0f}"


def _print_summary(res: Result) -> None:
    k = res.kpis
    print(f"scenario {k['scenario']}  seed {k['seed']}  rep {k['rep']}  days {k['days']}")
    print(
        f"  events {k['events']:,}  wall {k['wall_s']:.2f} s  mass-balance error {k['mass_balance_error']:.1e}"
    )
    print(f"  fill rate {k['fill_rate']:.2%}  backlog peak {_money(k['backlog_peak'])}")
    print(
        f"  cost total {_money(k['cost_total_usd'])}  (US {_money(k['cost_us_usd'])}, "
        f"Canada {_money(k['cost_ca_usd'])})  duty {_money(k['duty_usd'])}"
    )
    kinds = (
        "transport",
        "holding",
        "delay",
        "downtime",
        "backlog",
        "lost_margin",
        "spoilage",
        "duty",
    )
    print(
        "  by kind: "
        + ", ".join(f"{n} {_money(k[f'cost_{n}_usd'])}" for n in kinds if k[f"cost_{n}_usd"])
    )
    cr = res.crossings
    road = cr[(cr["kind"] == "road") & (cr["direction"] == "sb")].sort_values(
        "vehicles_per_day", ascending=False
    )
    if len(road):
        print("  busiest road crossings southbound (trucks/day, wait p50/p95 min; published):")
        for row in road.head(5).itertuples():
            print(
                f"    {row.crossing:<10} {row.vehicles_per_day:7,.0f}/d  {row.wait_p50_min:5.1f}/{row.wait_p95_min:5.1f}"
                f"  ({row.published_p50_min}/{row.published_p95_min})"
            )


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.results import simulate
    from sim.scenario import load_scenario
    from sim.store import write_run

    sc = load_scenario(args.scenario)
    res = simulate(sc, seed=args.seed, days=args.days)
    if not args.quiet:
        _print_summary(res)
    if args.out:
        folder = write_run(args.out, sc, [res])
        if not args.quiet:
            print(f"results written to {folder}/")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sim.scenario import builtin_scenarios, load_scenario

    for name in builtin_scenarios():
        sc = load_scenario(name)
        text = " ".join(sc.description.split())
        first = text.split(". ")[0].rstrip(".")
        print(f"{name:<18} {first}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="borderflow", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check network folders and scenario files")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=_cmd_validate)
    r = sub.add_parser("run", help="run a scenario and write a results folder")
    r.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in name")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument(
        "--days", type=int, default=None, help="horizon in days (default: the scenario's)"
    )
    r.add_argument("--out", metavar="DIR", default=None, help="results folder to write")
    r.add_argument("--quiet", action="store_true", help="print nothing but errors")
    r.set_defaults(func=_cmd_run)
    s = sub.add_parser("scenarios", help="list the built-in scenarios")
    s.set_defaults(func=_cmd_scenarios)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except SimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
