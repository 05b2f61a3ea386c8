"""KPIs of one replication: pure functions of the raw arrays a run returns."""

from __future__ import annotations

from typing import Any

import numpy as np

SECTORS = ("auto", "farm", "energy", "multi")
PARTIES = ("exporter", "importer", "downstream", "consumer", "government")
COST_KINDS = (
    "duty",
    "transport",
    "holding",
    "delay",
    "downtime",
    "backlog",
    "lost_margin",
    "spoilage",
)


def kpis(meta: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Per-replication KPIs with the names of DESIGN.md (costs in US$, backlog valued in US$)."""
    value = np.asarray(meta["point_value"], dtype=float)
    sector = np.asarray(meta["point_sector"])
    backlog_usd = raw["backlog"] * value  # days x points
    total = backlog_usd.sum(axis=1) if backlog_usd.size else np.zeros(0)
    out: dict[str, Any] = {
        "scenario": meta["scenario"],
        "rep": meta["rep"],
        "seed": meta["seed"],
        "days": meta["days"],
        "backlog_peak": float(total.max()) if total.size else 0.0,
        "backlog_days": float(total.sum()),
    }
    for s in SECTORS[:3]:
        col = backlog_usd[:, sector == s].sum(axis=1) if backlog_usd.size else np.zeros(0)
        out[f"backlog_peak_{s}"] = float(col.max()) if col.size else 0.0
        out[f"backlog_days_{s}"] = float(col.sum())
    dem = meta["demanded_value"]
    out["fill_rate"] = meta["filled_value"] / dem if dem > 0 else 1.0
    cats = meta["cost_cats"]
    by_cat = np.zeros(len(cats))
    for _, c, usd in raw["ledger"]:
        by_cat[c] += usd
    party = np.array([c[0] for c in cats])
    country = np.array([c[1] for c in cats])
    kind = np.array([c[3] for c in cats])
    out["cost_total_usd"] = float(by_cat.sum())
    out["cost_us_usd"] = float(by_cat[country == "US"].sum()) if cats else 0.0
    out["cost_ca_usd"] = float(by_cat[country == "CA"].sum()) if cats else 0.0
    out["duty_usd"] = (
        float(by_cat[(kind == "duty") & (party != "government")].sum()) if cats else 0.0
    )
    for p in PARTIES:
        out[f"cost_{p}_usd"] = float(by_cat[party == p].sum()) if cats else 0.0
    for k in COST_KINDS:
        out[f"cost_{k}_usd"] = float(by_cat[kind == k].sum()) if cats else 0.0
    out["lost_sales_usd"] = meta["lost_value"]
    out["downtime_hours"] = meta["downtime_hours"]
    out["mass_balance_error"] = meta["mass_balance_error"]
    out["events"] = meta["events"]
    out["wall_s"] = meta["wall_s"]
    return out
