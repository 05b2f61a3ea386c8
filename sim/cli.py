"""The ``borderflow`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sim import __version__
from sim.analysis.result import Result
from sim.analysis.statistics import main_kpis
from sim.batch import BatchError, BatchResult, compare, parse_set, run_batch, sweep
from sim.engine.ledger import KINDS
from sim.errors import SimError
from sim.io.network import load_network
from sim.io.paths import builtin_scenarios
from sim.io.scenario import load_scenario
from sim.viz.output import plot, report


def _cmd_validate(args: argparse.Namespace) -> int:
    problems: list[str] = []
    for path in args.paths:
        if not os.path.exists(path) and path not in builtin_scenarios():
            problems.append(f"{path}: no such file, folder or built-in scenario")
            continue
        try:
            if os.path.isdir(path):
                load_network(path)
            else:
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
        f"  cost total {_money(k['cost_total_usd'])}  (paid by US firms and consumers "
        f"{_money(k['cost_us_private_usd'])}, Canadian {_money(k['cost_ca_private_usd'])})  "
        f"duty {_money(k['duty_usd'])}"
    )
    kinds = (*KINDS[1:], KINDS[0])  # duty last
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


def _fmt(value: object) -> str:
    x = float(value)  # type: ignore[arg-type]
    if x != x:  # NaN
        return "nan"
    if x == 0 or 1e-3 <= abs(x) < 1e6:
        return f"{x:,.4g}" if abs(x) >= 1e3 else f"{x:.4g}"
    return f"{x:.4g}"


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(
        "  "
        + "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for r in rows:
        print(
            "  "
            + "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def _print_batch_summary(batch: BatchResult) -> None:
    print(
        f"scenario {batch.scenario}  seed {batch.seed}  reps {batch.reps}  days {batch.days}  "
        f"({batch.mode}, {batch.workers} worker{'s' if batch.workers != 1 else ''})"
    )
    summ = batch.summary(main_kpis(list(batch.kpis.columns)))
    rows = [
        [
            str(r["kpi"]),
            str(r["n"]),
            *(_fmt(r[c]) for c in ("mean", "half_width", "ci_low", "ci_high")),
            f"{r['rel_half_width']:.1%}" if r["rel_half_width"] == r["rel_half_width"] else "-",
        ]
        for r in summ.to_dict("records")
    ]
    _print_table(["kpi", "n", "mean", "±95%", "ci_low", "ci_high", "rel"], rows)


def _done_line(batch: BatchResult) -> str:
    per = batch.wall_s / batch.ran if batch.ran else 0.0
    skipped = batch.reps - batch.ran
    tail = f", {skipped} resumed from {batch.out}" if skipped else ""
    return (
        f"{batch.ran} replication{'s' if batch.ran != 1 else ''} in {batch.wall_s:.1f} s "
        f"({per:.2f} s each, {batch.mode}, {batch.workers} worker{'s' if batch.workers != 1 else ''}{tail})"
    )


def _check_run_args(args: argparse.Namespace) -> None:
    if getattr(args, "resume", False) and not args.out:
        raise BatchError("--resume needs --out DIR (the results folder to resume)")


def _cmd_run(args: argparse.Namespace) -> int:
    _check_run_args(args)
    sc = load_scenario(args.scenario)
    if args.reps == 1 and args.scheduler is None:
        kept: list[Result] = []
        batch = run_batch(
            sc,
            reps=1,
            seed=args.seed,
            days=args.days,
            workers=1,
            out=args.out,
            resume=args.resume,
            quiet=True,
            on_result=kept.append,
        )
        if not args.quiet:
            if kept:
                _print_summary(kept[0])
            else:
                _print_batch_summary(batch)
    else:
        batch = run_batch(
            sc,
            **_batch_kwargs(args),
        )
        if not args.quiet:
            _print_batch_summary(batch)
            print(_done_line(batch))
    if args.out and not args.quiet:
        print(f"results written to {batch.out}/")
    return 0


def _batch_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The options `run`, `compare` and `sweep` pass on to the batch functions."""
    names = ("reps", "seed", "days", "workers", "scheduler", "out", "resume", "quiet")
    return {n: getattr(args, n) for n in names}


def _cmd_compare(args: argparse.Namespace) -> int:
    _check_run_args(args)
    table = compare(
        args.base,
        args.alt,
        **_batch_kwargs(args),
    )
    if args.quiet:
        return 0

    base, alt = table["base"].iloc[0], table["alt"].iloc[0]
    print(
        f"{alt} - {base}: paired deltas over {args.reps} replications, seed {args.seed} (common random numbers)"
    )
    shown = table[table["kpi"].isin(main_kpis(list(table["kpi"])))]
    cols = (
        "base_mean",
        "alt_mean",
        "delta_mean",
        "half_width",
        "unpaired_half_width",
        "variance_reduction",
    )
    rows = [[str(r["kpi"]), *(_fmt(r[c]) for c in cols)] for r in shown.to_dict("records")]
    _print_table(["kpi", "base", "alt", "delta", "±95% paired", "±95% unpaired", "var.red."], rows)
    for k in ("cost_total_usd", "backlog_days"):
        row = table[table["kpi"] == k]
        if len(row):
            print(
                f"variance reduction from common random numbers, {k}: "
                f"{_fmt(float(row['variance_reduction'].iloc[0]))} (unpaired / paired variance)"
            )
    if args.out:
        print(f"results written to {args.out}/ (base/, alt/, compare.parquet)")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    _check_run_args(args)
    grid: dict[str, list[object]] = {}
    for text in args.set:
        key, values = parse_set(text)
        grid[key] = values
    table = sweep(
        args.scenario,
        grid,
        **_batch_kwargs(args),
    )
    if args.quiet:
        return 0
    shown = table[table["kpi"].isin(main_kpis(list(dict.fromkeys(table["kpi"]))))]
    shown = shown[shown["mean"].notna()]
    keys = list(grid)
    cols = [*keys, "kpi", "mean", "ci_low", "ci_high"]
    rows = [
        [*(str(v) for v in row[: len(keys)]), str(row[-4]), *(_fmt(float(x)) for x in row[-3:])]
        for row in shown[cols].itertuples(index=False)
    ]
    print(
        f"sweep of {len(table['point'].unique())} points x {args.reps} replications, seed {args.seed}"
    )
    _print_table([*keys, "kpi", "mean", "ci_low", "ci_high"], rows)
    if args.out:
        print(f"results written to {args.out}/ (sweep.parquet, one folder per point)")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    for path in plot(args.dir, args.format):
        print(path)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    print(report(args.dirs, args.out))
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    for name in builtin_scenarios():
        sc = load_scenario(name)
        text = " ".join(sc.description.split())
        first = text.split(". ")[0].rstrip(".")
        print(f"{name:<18} {first}")
    return 0


def _int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return value

    return parse


_positive = _int_at_least(1)
_non_negative = _int_at_least(0)


def _batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=_non_negative, default=0, help="random seed (default 0)")
    p.add_argument(
        "--days", type=_positive, default=None, help="horizon in days (default: the scenario's)"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="K",
        help="local worker processes (default: all cores; 1 = no pool)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run on Dask: 'local' (LocalCluster) or a scheduler address tcp://host:8786",
    )
    p.add_argument("--out", metavar="DIR", default=None, help="results folder to write")
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish the batch in --out, skipping done replications",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="borderflow", description=__doc__)
    p.add_argument("--version", action="version", version=f"borderflow {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check network folders and scenario files")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=_cmd_validate)
    r = sub.add_parser("run", help="run replications of a scenario and write a results folder")
    r.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in name")
    r.add_argument("--reps", type=_positive, default=1, help="replications (default 1)")
    _batch_options(r)
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("compare", help="paired deltas ALT - BASE under common random numbers")
    c.add_argument("base", metavar="BASE", help="base scenario file or built-in name")
    c.add_argument("alt", metavar="ALT", help="alternative scenario file or built-in name")
    c.add_argument("--reps", type=_positive, default=10, help="replications (default 10)")
    _batch_options(c)
    c.set_defaults(func=_cmd_compare)
    w = sub.add_parser("sweep", help="batches over a grid of scenario overrides")
    w.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in name")
    w.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="dotted scenario key and its values (repeat for a grid)",
    )
    w.add_argument("--reps", type=_positive, default=10, help="replications per point (default 10)")
    _batch_options(w)
    w.set_defaults(func=_cmd_sweep)
    g = sub.add_parser("plot", help="draw the figures of a results folder into it")
    g.add_argument("dir", metavar="DIR", help="results folder (run, compare or sweep)")
    g.add_argument("--format", choices=("png", "svg"), default="png", help="file format (default png)")
    g.set_defaults(func=_cmd_plot)
    h = sub.add_parser("report", help="one self-contained HTML page of results folders")
    h.add_argument("dirs", nargs="+", metavar="DIR", help="results folders (a baseline among them is paired with the others)")
    h.add_argument("--out", metavar="FILE", default=None, help="HTML file to write (default DIR/report.html)")
    h.set_defaults(func=_cmd_report)
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
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # unwritable results folder, missing file, ...
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted (finished replications are kept; rerun with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
