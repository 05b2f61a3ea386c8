"""The ``borderflow`` command line."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim import __version__
from sim.analysis.result import Result
from sim.analysis.statistics import main_kpis
from sim.batch import LIMITS, BatchError, BatchResult, compare, parse_set, run_batch, sweep
from sim.batch.sensitivity import sensitivity
from sim.batch.whopays import who_pays
from sim.engine.ledger import KINDS
from sim.errors import SimError
from sim.io.network import load_network
from sim.io.paths import NETWORK_DIR, builtin_scenarios, confinement
from sim.io.results_folder import KEEP, write_parquet
from sim.io.scenario import load_scenario
from sim.io.synthetic import write_synthetic_network
from sim.spec.network import Network
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


def _scale(x: float) -> tuple[float, str]:
    """The divisor and suffix US$ amounts of the size of ``x`` are shown in (B, M, k or none)."""
    return next(((d, u) for d, u in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if abs(x) >= d), (1.0, ""))


def _money(x: float) -> str:
    div, unit = _scale(x)
    return f"US${x / div:,.2f}{unit}" if unit else f"US${x:,.0f}"


def _parts_that_add_up(total: float, parts: list[float]) -> tuple[str, list[str]]:
    """Total and parts in the total's unit, rounded to 2 decimals so that the shown parts add up to
    the shown total (largest-remainder rounding); parts are shown without their sign."""
    div, unit = _scale(total)
    xs = [p / div * 100 for p in parts]
    # negative parts (revenue) are rounded as the duty line shows them; the others absorb the rest
    cents = [math.floor(x) if x >= 0 else round(x) for x in xs]
    short = round(total / div * 100) - sum(cents)
    free = sorted((i for i in range(len(xs)) if xs[i] >= 0), key=lambda i: cents[i] - xs[i])
    for i in free[: max(short, 0)]:
        cents[i] += 1
    return f"US${total / div:,.2f}{unit}", [f"US${abs(c) / 100:,.2f}{unit}" for c in cents]


def cost_lines(k: Mapping[str, Any]) -> list[str]:
    """The run summary's cost lines: the total and parts that add up to it, who pays the duty."""
    total, us, ca = k["cost_total_usd"], k["cost_us_usd"], k["cost_ca_usd"]
    rev_us, rev_ca = k["duty_revenue_us_usd"], k["duty_revenue_ca_usd"]
    gov = -(rev_us + rev_ca)  # revenue is a negative cost of the governments
    overseas = total - us - ca  # parties in no North American country: overseas buyers
    t, (pu, pc, po, pg) = _parts_that_add_up(
        total, [k["cost_us_private_usd"], k["cost_ca_private_usd"], overseas, gov]
    )
    lines = [
        f"  cost total {t} = US firms and consumers {pu} + Canadian firms and consumers {pc}",
        f"    + overseas buyers {po}" + (f" - the governments' duty revenue {pg}" if gov else ""),
    ]
    duty = k["duty_usd"]
    if duty:
        share = k["us_share_of_duty_cost"]
        lines.append(
            f"  duty {_money(duty)}: paid by importers, collected by the US government "
            f"{_money(rev_us)} and the Canadian government {_money(rev_ca)};\n"
            f"    borne after pass-through {share:.0%} by US parties, {1 - share:.0%} by Canadian "
            "and overseas parties"
        )
    else:
        lines.append("  duty none")
    kinds = [n for n in KINDS if n != "duty" and k[f"cost_{n}_usd"]]
    lines.append(
        "  by kind: "
        + ", ".join(f"{n} {_money(k[f'cost_{n}_usd'])}" for n in kinds)
        + (", duty nets to 0 (paid and collected)" if duty else "")
    )
    return lines


def _print_summary(res: Result) -> None:
    k = res.kpis
    print(f"scenario {k['scenario']}  seed {k['seed']}  rep {k['rep']}  days {k['days']}")
    print(
        f"  events {k['events']:,}  wall {k['wall_s']:.2f} s  mass-balance error {k['mass_balance_error']:.1e}"
    )
    print(f"  fill rate {k['fill_rate']:.2%}  backlog peak {_money(k['backlog_peak'])}")
    for line in cost_lines(k):
        print(line)
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
    """A plain number: thousands separators, never an exponent for ordinary magnitudes."""
    x = float(value)  # type: ignore[arg-type]
    if x != x:  # NaN
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    if x == 0 or abs(x) >= 1e-3:
        return f"{x:.4g}"
    return f"{x:.2e}"


def unit_of(kpi: str) -> str:
    """The unit a KPI is shown in: US$, US$·d (backlog days), %, d, h or '' (a count or ratio)."""
    if kpi.startswith("backlog_days"):
        return "US$·d"
    if kpi.endswith("_usd") or kpi.startswith("backlog_peak"):
        return "US$"
    if kpi == "fill_rate" or "share" in kpi:
        return "%"
    if kpi.endswith("_days"):
        return "d"
    if kpi.endswith("_hours"):
        return "h"
    return ""


def fmt_kpi(kpi: str, value: object) -> str:
    """A KPI value with its unit: US$ with M/B and thousands, percentages, days."""
    x = float(value)  # type: ignore[arg-type]
    if x != x:
        return "n/a"
    unit = unit_of(kpi)
    if unit in ("US$", "US$·d"):
        text = _money(abs(x))
        return ("-" if x < 0 else "") + text + ("·d" if unit == "US$·d" else "")
    if unit == "%":
        return f"{x:.2%}"
    if unit in ("d", "h"):
        return f"{x:,.1f} {unit}"
    if kpi == "mass_balance_error":
        return f"{x:.1e}"
    return _fmt(x)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    for r in (header, *rows):  # the first column left-aligned, the others right-aligned
        cells = zip(r, widths, strict=True)
        print("  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(cells)))


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
            *(fmt_kpi(str(r["kpi"]), r[c]) for c in ("mean", "half_width", "ci_low", "ci_high")),
            f"{r['rel_half_width']:.1%}" if r["rel_half_width"] == r["rel_half_width"] else "-",
            str(r["interval"]),
        ]
        for r in summ.to_dict("records")
    ]
    _print_table(["kpi", "n", "mean", "±95%", "ci_low", "ci_high", "rel", "interval"], rows)


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
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        raise BatchError("--resume and --overwrite exclude each other")


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
            overwrite=args.overwrite,
            quiet=True,
            on_result=kept.append,
            keep=args.keep,
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
    names = ("reps", "seed", "days", "workers", "scheduler", "out", "resume", "overwrite", "quiet")
    return {n: getattr(args, n) for n in (*names, "keep")}


def _compare_row(r: Mapping[Any, Any]) -> list[str]:
    """One KPI of a comparison; a KPI defined on one side only shows that side and says so."""
    k = str(r["kpi"])
    base, alt = float(r["base_mean"]), float(r["alt_mean"])
    if int(r["n"]) == 0:
        note = "alt only" if base != base and alt == alt else "base only" if alt != alt else "-"
        return [k, fmt_kpi(k, base), fmt_kpi(k, alt), note, "-", "-", "-"]
    return [
        k,
        fmt_kpi(k, base),
        fmt_kpi(k, alt),
        fmt_kpi(k, r["delta_mean"]),
        fmt_kpi(k, r["half_width"]),
        fmt_kpi(k, r["unpaired_half_width"]),
        _fmt(r["variance_reduction"]),
    ]


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
    extra = ["duty_revenue_us_usd", "duty_revenue_ca_usd", "us_share_of_duty_cost", "tts_days"]
    present = list(table["kpi"])
    wanted = [*main_kpis(present), *(k for k in extra if k in present)]
    shown = table[table["kpi"].isin(wanted)]
    rows = [_compare_row(r) for r in shown.to_dict("records")]
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


def sweep_pivot(table: Any, keys: list[str]) -> tuple[list[str], list[str], list[list[str]]]:
    """KPIs by grid point (legend, header, rows): point P0's mean, then each other point's change
    from it (same seeds: the change is the effect of the keys alone)."""
    points = table.drop_duplicates("point").sort_values("point")
    legend = [
        f"  P{i}: " + ", ".join(f"{k} = {row[k]}" for k in keys)
        for i, row in enumerate(points.to_dict("records"))
    ]
    labels = [f"P{i}" for i in range(len(points))]
    kpis = main_kpis(list(dict.fromkeys(table["kpi"])))
    mean = table.pivot(index="kpi", columns="point", values="mean")
    first = points["point"].iloc[0]
    header = ["kpi", labels[0], *(f"{lab} - P0" for lab in labels[1:])]
    rows = []
    for k in kpis:
        if k not in mean.index or mean.loc[k].isna().all():
            continue
        base = float(mean.loc[k, first])
        cells = [fmt_kpi(k, base)]
        for p in points["point"].iloc[1:]:
            d = float(mean.loc[k, p]) - base
            text = fmt_kpi(k, d)
            cells.append(text if text.startswith("-") or text == "n/a" else "+" + text)
        rows.append([k, *cells])
    return legend, header, rows


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
    print(
        f"sweep of {len(table['point'].unique())} points x {args.reps} replications, seed {args.seed}"
    )
    legend, header, rows = sweep_pivot(table, list(grid))
    print("\n".join(legend))
    _print_table(header, rows)
    if args.out:
        print(f"results written to {args.out}/ (sweep.parquet, one folder per point)")
    return 0


def _pct(x: float) -> str:
    return "nan" if x != x else f"{x:.3f}"


def _cmd_whopays(args: argparse.Namespace) -> int:
    _check_run_args(args)
    summ = who_pays(
        args.scenario,
        args.baseline,
        reps=args.reps,
        seed=args.seed,
        days=args.days,
        workers=args.workers,
        scheduler=args.scheduler,
        fixed=args.fixed,
        quiet=args.quiet,
    )
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("headline", "by_region", "by_sector", "reps"):
            write_parquet(getattr(summ, name), out / f"{name}.parquet")
    if args.quiet:
        return 0
    h = {str(r["kpi"]): r for r in summ.headline.to_dict("records")}
    params = [c for c in summ.reps.columns if c.startswith("param:")]
    what = (
        "parameters fixed at the files' values"
        if args.fixed or not params
        else f"{len(params)} uncertain parameters drawn per replication"
    )
    print(
        f"who pays: {args.scenario} against {args.baseline or 'its measures removed'}, "
        f"{args.reps} paired replications, seed {args.seed}; {what}"
    )
    print("US share (0.5 = even; above 0.5 the US side bears more):")
    rows = []
    for k, label in (
        ("us_share_duty", "duty borne after pass-through"),
        ("us_share_frictions", "frictions (delay, holding, downtime, backlog, spoilage, ...)"),
        ("us_share_net", "net burden after own-government duty revenue"),
    ):
        r = h[k]
        rows.append(
            [
                label,
                _pct(r["mean"]),
                f"[{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]",
                f"[{_pct(r['p2_5'])}, {_pct(r['p97_5'])}]",
            ]
        )
    _print_table(["US share of", "mean", "95% CI of mean", "95% range over reps"], rows)
    rows = []
    for c in ("US", "CA"):
        cells = [c]
        for part in ("duty", "frictions", "revenue", "net"):
            cells.append(_money(float(h[f"{part}_{c.lower()}_usd"]["mean"])))
        rows.append(cells)
    _print_table(["country", "duty borne", "frictions", "own revenue", "net burden"], rows)
    print("by region (duty + frictions before revenue; mean [95% CI]):")
    rows = [
        [
            str(r["country"]),
            str(r["region"]),
            _money(r["duty"]),
            _money(r["frictions"]),
            f"{_money(r['burden'])} [{_money(r['burden_ci_low'])}, {_money(r['burden_ci_high'])}]",
        ]
        for r in summ.by_region.to_dict("records")
    ]
    _print_table(["country", "region", "duty", "frictions", "burden"], rows)
    print("by sector (mean):")
    rows = [
        [
            str(r["country"]),
            str(r["sector"]),
            *(_money(r[p]) for p in ("duty", "frictions", "revenue", "net")),
        ]
        for r in summ.by_sector.to_dict("records")
    ]
    _print_table(["country", "sector", "duty", "frictions", "revenue", "net"], rows)
    if args.out:
        print(f"tables written to {args.out}/")
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    res = sensitivity(
        args.scenario,
        args.baseline,
        samples=args.samples,
        method=args.method,
        scan=args.scan,
        seed=args.seed,
        days=args.days,
        workers=args.workers,
        scheduler=args.scheduler,
        out=args.out,
        quiet=args.quiet,
    )
    if args.quiet:
        return 0
    n = res.samples.shape[0]
    print(
        f"sensitivity of who pays in {args.scenario}: {args.method}, {args.samples} samples, "
        f"{n} points x 2 runs in {res.wall_s:.0f} s"
    )
    idx = res.indices
    for kpi in ("net_gap_usd", "us_share_duty"):
        sub = idx[idx["kpi"] == kpi]
        cols: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
        if args.method != "sobol":
            cols = ("mu_star", "mu_star_conf", "sigma")
        sub = sub.sort_values(cols[2] if args.method == "sobol" else cols[0], ascending=False)
        what = {
            "net_gap_usd": "US minus Canadian net burden (> 0: the US side bears more)",
            "us_share_duty": "US share of the duty borne",
        }[kpi]
        print(f"{kpi} ({what}):")
        rows = [
            [str(r["parameter"]), *(f"{r[c]:.3f}" for c in cols)] for r in sub.to_dict("records")
        ]
        _print_table(["parameter", *cols], rows)
    print("break-even of the US share of the net burden (0.5), one parameter at a time:")
    rows = [
        [
            str(r["parameter"]),
            f"{r['default']:.3g}",
            f"{r['low']:.3g}..{r['high']:.3g}",
            f"{r['share_at_low']:.3f}..{r['share_at_high']:.3f}",
            "none in range" if r["break_even"] != r["break_even"] else f"{r['break_even']:.3g}",
            f"{r['break_even_extrapolated']:.3g}",
        ]
        for r in res.break_even.to_dict("records")
    ]
    _print_table(
        ["parameter", "default", "range", "US share over range", "break-even", "linear extrap."],
        rows,
    )
    if res.out is not None:
        print(
            f"results written to {res.out}/ (indices.parquet, breakeven.parquet, samples.parquet)"
        )
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


_LISTS = ("crossings", "commodities", "lanes", "sites")


def _num_or_blank(x: float | None, unit: str = "") -> str:
    return "no limit" if x is None else f"{x:,.6g}{unit}"


def network_listing(net: Network, what: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of ``borderflow network ... WHAT``."""
    if what == "crossings":
        return ["id", "kind", "name", "capacity/day sb", "nb", "booths"], [
            [x.id, x.kind, x.name, _num_or_blank(x.capacity_sb), _num_or_blank(x.capacity_nb),
             str(x.booths or "-")]
            for x in net.crossings
        ]  # fmt: skip
    if what == "commodities":
        return ["id", "name", "sector", "unit", "value/unit"], [
            [c.id, c.name, c.sector, c.unit, _money(c.value_usd)] for c in net.commodities
        ]
    if what == "sites":
        return ["id", "kind", "country", "sector", "makes", "name"], [
            [s.id, s.kind, s.country, s.sector, s.commodity or "-", s.name] for s in net.sites
        ]
    direction = {"sb": "southbound CA->US", "nb": "northbound US->CA"}
    rows = []
    for ln in net.lanes:
        a, b = net.site[ln.origin].country, net.site[ln.dest].country
        where = direction.get(net.direction(ln)) or ("domestic" if a == b else f"{a}->{b}")
        unit = net.commodity[ln.commodity].unit
        rows.append([ln.id, f"{ln.origin} -> {ln.dest}", ln.commodity, ln.mode, where,
                     ln.crossing or "-", f"{ln.base_flow:,.1f} {unit}/d"])  # fmt: skip
    return ["id", "from -> to", "commodity", "mode", "direction", "crossing", "base flow"], rows


def _cmd_network(args: argparse.Namespace) -> int:
    items = list(args.items)
    what = items.pop() if items else ""
    if what not in _LISTS or len(items) > 1:
        raise BatchError(
            f"network [PATH] WHAT: WHAT must be one of {', '.join(_LISTS)} (got {what!r})"
        )
    where = items[0] if items else "north_america"
    folder = where if os.path.isdir(where) else str(NETWORK_DIR / where)
    if not os.path.isdir(folder):
        known = ", ".join(sorted(p.name for p in NETWORK_DIR.iterdir() if p.is_dir()))
        raise BatchError(f"{where}: no such network folder or built-in network (built-in: {known})")
    net = load_network(folder)
    header, rows = network_listing(net, what)
    print(f"{len(rows)} {what} in network {net.name} ({folder})")
    _print_table(header, rows)
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    mix = None
    if args.mix:
        try:
            mix = {k.strip(): float(v) for k, v in (kv.split("=") for kv in args.mix.split(","))}
        except ValueError:
            print(f"error: --mix must look like auto=0.5,farm=0.3,energy=0.2, got {args.mix!r}",
                  file=sys.stderr)  # fmt: skip
            return 2
    try:
        out = write_synthetic_network(
            args.out, args.n_sites, seed=args.seed, sector_mix=mix, bom_depth=args.bom_depth,
            cross_border_share=args.cross_border_share,
        )  # fmt: skip
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    net = load_network(out)
    crossing = sum(1 for ln in net.lanes if ln.crossing is not None)
    print(
        f"{out}: {len(net.sites):,} sites, {len(net.lanes):,} lanes "
        f"({crossing:,} cross-border), {len(net.crossings):,} crossings"
    )
    return 0


def _int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``low..high`` (the ranges are in ``sim.batch.LIMITS``)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer in {low}..{high:,}, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer in {low}..{high:,}, got {text}")
        return value

    return parse


_reps, _days = _int_in(*LIMITS["reps"]), _int_in(*LIMITS["days"])
_seed, _workers = _int_in(*LIMITS["seed"]), _int_in(*LIMITS["workers"])


def _batch_options(p: argparse.ArgumentParser, *, folder: bool = True) -> None:
    """Seed, horizon, where to run, and (``folder``) a resumable results folder; without
    ``folder`` the command writes its summary tables to ``--out`` and recomputes every time."""
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p.add_argument(
        "--days", type=_days, default=None, help="horizon in days (default: the scenario's)"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_workers,
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
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    if not folder:
        p.add_argument(
            "--out", metavar="DIR", default=None, help="write the summary tables (Parquet) into DIR"
        )
        p.set_defaults(resume=False, overwrite=False)
        return
    p.add_argument("--out", metavar="DIR", default=None, help="results folder to write")
    p.add_argument(
        "--keep",
        choices=tuple(KEEP),
        default="all",
        help="what --out keeps of each replication: all its tables (default), or only what the "
        "per-day quantiles and figures read (faster, smaller)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish the batch in --out, skipping done replications",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="empty --out first (only a results folder Borderflow wrote)",
    )


def _who_pays_parsers(sub: Any) -> None:
    """The ``whopays`` and ``sensitivity`` subcommands."""
    wp = sub.add_parser("whopays", help="who bears the extra burden of a scenario: US shares")
    wp.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in name")
    wp.add_argument(
        "--baseline",
        metavar="B",
        default=None,
        help="paired baseline scenario (default: SCENARIO without its measures)",
    )
    wp.add_argument("--reps", type=_reps, default=10, help="replications (default 10)")
    wp.add_argument(
        "--fixed", action="store_true", help="ignore [uncertain]: parameters at the files' values"
    )
    _batch_options(wp, folder=False)
    wp.set_defaults(func=_cmd_whopays)
    se = sub.add_parser(
        "sensitivity", help="Sobol'/Morris indices of who pays and break-even parameter values"
    )
    se.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in name")
    se.add_argument("--baseline", metavar="B", default=None, help="as for whopays")
    se.add_argument(
        "--samples",
        type=_int_in(2, 2**20),
        default=8,
        help="N: Sobol' base samples (a power of 2; N x (k+2) points) or Morris trajectories",
    )
    se.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    se.add_argument(
        "--scan", type=_int_in(2, 1000), default=3, help="break-even scan points per parameter"
    )
    _batch_options(se, folder=False)
    se.set_defaults(func=_cmd_sensitivity)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="borderflow", description=__doc__)
    p.add_argument("--debug", action="store_true", help="on an internal error, print the traceback")
    p.add_argument(
        "--allow-outside",
        action="store_true",
        help="let a scenario's extends and network point outside its folder, the built-in "
        "folders and the paths on the command line",
    )
    p.add_argument("--version", action="version", version=f"borderflow {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check network folders and scenario files")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=_cmd_validate)
    r = sub.add_parser("run", help="run replications of a scenario and write a results folder")
    r.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in name")
    r.add_argument("--reps", type=_reps, default=1, help="replications (default 1)")
    _batch_options(r)
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("compare", help="paired deltas ALT - BASE under common random numbers")
    c.add_argument("base", metavar="BASE", help="base scenario file or built-in name")
    c.add_argument("alt", metavar="ALT", help="alternative scenario file or built-in name")
    c.add_argument("--reps", type=_reps, default=10, help="replications (default 10)")
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
    w.add_argument("--reps", type=_reps, default=10, help="replications per point (default 10)")
    _batch_options(w)
    w.set_defaults(func=_cmd_sweep)
    _who_pays_parsers(sub)
    g = sub.add_parser("plot", help="draw the figures of a results folder into it")
    g.add_argument("dir", metavar="DIR", help="results folder (run, compare or sweep)")
    g.add_argument(
        "--format", choices=("png", "svg"), default="png", help="file format (default png)"
    )
    g.set_defaults(func=_cmd_plot)
    h = sub.add_parser("report", help="one self-contained HTML page of results folders")
    h.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="results folders (a baseline among them is paired with the others)",
    )
    h.add_argument(
        "--out", metavar="FILE", default=None, help="HTML file to write (default DIR/report.html)"
    )
    h.set_defaults(func=_cmd_report)
    n = sub.add_parser(
        "network",
        help="list a network's crossings, commodities, lanes or sites",
        description="borderflow network [PATH] {crossings,commodities,lanes,sites}: PATH is a "
        "network folder or built-in name (default north_america)",
    )
    n.add_argument("items", nargs="+", metavar="[PATH] WHAT")
    n.set_defaults(func=_cmd_network)
    y = sub.add_parser("synth", help="write a synthetic network folder of N sites (for scaling)")
    y.add_argument("n_sites", type=_int_in(2, 10_000_000), metavar="N")
    y.add_argument("out", metavar="OUT", help="folder to write")
    y.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    y.add_argument("--bom-depth", type=_int_in(1, 6), default=2, help="plant levels of auto chains")
    y.add_argument(
        "--cross-border-share", type=float, default=0.3, help="share of lanes that cross (0.3)"
    )
    y.add_argument("--mix", default=None, help="sector weights, e.g. auto=0.5,farm=0.3,energy=0.2")
    y.set_defaults(func=_cmd_synth)
    s = sub.add_parser("scenarios", help="list the built-in scenarios")
    s.set_defaults(func=_cmd_scenarios)
    return p


_DEBUG_HINT = "rerun with --debug for the traceback, and please report it"


def _explain_os_error(exc: OSError) -> str:
    """An OSError as one line naming the path (never the file's contents)."""
    what = exc.strerror or type(exc).__name__
    where = f": {exc.filename}" if exc.filename is not None else ""
    return f"{what}{where}" if exc.strerror else str(exc) or what


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C: workers stopped, one line printed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 1 internal fault, 130 stopped).

    No exception escapes: bad input is one ``error:`` line and exit 2; anything else is an internal
    fault, one line and exit 1 (``--debug`` prints the traceback as well).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    outside = "--allow-outside" in argv
    argv = [a for a in argv if a not in ("--debug", "--allow-outside")]  # accepted anywhere
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    given = [getattr(args, n, None) for n in ("scenario", "base", "alt")]
    roots = [p for p in [*given, *getattr(args, "paths", [])] if p and os.path.exists(p)]
    try:
        with confinement(roots, outside):
            return _dispatch(args, debug)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace, debug: bool) -> int:
    def fail(code: int, text: str) -> int:
        if debug:
            traceback.print_exc()
        print(f"error: {text}", file=sys.stderr)
        return code

    try:
        return int(args.func(args))
    except SimError as exc:
        return fail(2, str(exc))
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # unwritable results folder, missing file, full disk, ...
        return fail(2, _explain_os_error(exc))
    except RecursionError:
        return fail(2, "input nested too deeply (a TOML value or an extends chain)")
    except MemoryError:
        return fail(2, "out of memory: use fewer --days, --reps or --workers")
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("interrupted (finished replications are kept; rerun with --resume)", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal fault: one line, the traceback only with --debug
        head = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:300]
        return fail(1, head if debug else f"{head} ({_DEBUG_HINT})")


def entry() -> None:
    """The ``borderflow`` console script: :func:`main`, then exit with its status. After an
    interrupt (130) the process ends at once, once its one line is out: worker and client threads
    of a Dask cluster that are still shutting down cannot print into the terminal afterwards."""
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
