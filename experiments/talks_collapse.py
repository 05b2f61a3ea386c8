"""When tariff talks collapse, who pays? The built-in scenarios side by side under common random numbers.

For each scenario and replication (the same seeds for every scenario, so differences are not noise)
this script reports backlog by sector over time, time to survive (TTS) and time to recover (TTR), cost
by party and country relative to the baseline, the share of the tariff cost borne by US parties
("does the pressure invert?") and the exports Canada diverts overseas.

    python experiments/talks_collapse.py [--reps N] [--seed S] [--days D] [--out DIR]

Outputs go to ``results/talks_collapse/``: ``table.csv`` (the printed table), ``kpis.parquet`` (every
replication), ``backlog_by_sector.parquet`` (daily mean backlog by scenario and sector).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import pandas as pd

from sim import simulate, ttr_days, tts_days

SEED = 2025
N_REPS = 4
HORIZON = 730
SCENARIOS = ("baseline", "tariffs_2025", "talks_collapse", "capitulation", "diversify_only")
OUT = Path("results/talks_collapse")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=N_REPS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--days", type=int, default=HORIZON)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows, backlog = [], []
    for rep in range(args.reps):
        base = simulate("baseline", seed=args.seed, rep=rep, days=args.days)
        for name in SCENARIOS:
            res = (
                base
                if name == "baseline"
                else simulate(name, seed=args.seed, rep=rep, days=args.days)
            )
            k = dict(res.kpis)
            k["ttr_days"] = ttr_days(res, base)
            k["tts_days"] = tts_days(res, base)  # only shortfalls the baseline does not have
            rows.append(k)
            b = res.backlog_by_sector
            b["scenario"], b["rep"] = name, rep
            backlog.append(b)
    kp = pd.DataFrame(rows)
    kp.to_parquet(args.out / "kpis.parquet", index=False)
    bl = pd.concat(backlog, ignore_index=True)
    bl.groupby(["scenario", "day"])[["auto", "farm", "energy"]].mean().reset_index().to_parquet(
        args.out / "backlog_by_sector.parquet", index=False
    )
    # paired differences against the baseline, replication by replication
    base = kp[kp.scenario == "baseline"].set_index("rep")
    table = []
    for name in SCENARIOS:
        alt = kp[kp.scenario == name].set_index("rep")
        d = alt.drop(columns=["scenario"]).sub(base.drop(columns=["scenario"]))
        # burden on each country's firms and consumers: private costs (duty after pass-through,
        # logistics, holding, downtime, backlog, spoilage) plus exporters' margin on lost volume
        extra_us = (d["cost_us_private_usd"] + d["lost_export_margin_us_usd"]).mean()
        extra_ca = (d["cost_ca_private_usd"] + d["lost_export_margin_ca_usd"]).mean()
        both = extra_us + extra_ca
        table.append(
            {
                "scenario": name,
                "backlog_peak_auto_$M": alt["backlog_peak_auto"].mean() / 1e6,
                "backlog_peak_farm_$M": alt["backlog_peak_farm"].mean() / 1e6,
                "backlog_peak_energy_$M": alt["backlog_peak_energy"].mean() / 1e6,
                "tts_days": alt["tts_days"].mean(),
                "ttr_days": alt["ttr_days"].mean(),
                "duty_paid_$B": alt["duty_usd"].mean() / 1e9,
                "US_duty_revenue_$B": alt["duty_revenue_us_usd"].mean() / 1e9,
                "CA_duty_revenue_$B": alt["duty_revenue_ca_usd"].mean() / 1e9,
                "extra_burden_US_$B": extra_us / 1e9,
                "extra_burden_CA_$B": extra_ca / 1e9,
                "US_share_of_extra_burden": extra_us / both if abs(both) > 0 else math.nan,
                **{
                    f"extra_cost_{party}_$B": d[f"cost_{party}_usd"].mean() / 1e9
                    for party in ("exporter", "importer", "downstream", "consumer", "government")
                },
                "US_share_of_duty_cost": alt["us_share_of_duty_cost"].mean(),
                "exports_to_US_change_$B": d["exports_ca_us_usd"].mean() / 1e9,
                "CA_exporters_lost_margin_$B": d["lost_export_margin_ca_usd"].mean() / 1e9,
                "US_exporters_lost_margin_$B": d["lost_export_margin_us_usd"].mean() / 1e9,
                "diverted_overseas_$B": d["overseas_exports_usd"].mean() / 1e9,
            }
        )
    tab = pd.DataFrame(table).set_index("scenario")
    tab.to_csv(args.out / "table.csv")
    with pd.option_context(
        "display.width", 200, "display.max_columns", 30, "display.float_format", "{:,.3f}".format
    ):
        print(
            f"talks collapse: {args.reps} replications x {args.days} days, seed {args.seed}, common random numbers"
        )
        print(
            "(costs over the whole horizon; extra = scenario minus baseline, paired by replication)"
        )
        print(tab.T.to_string())
    print(f"written to {args.out}/ in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
