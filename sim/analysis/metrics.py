"""KPIs of one replication: pure functions of the raw arrays a run returns."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine.ledger import KINDS, PARTIES
from sim.engine.records import RunArrays, RunRecord
from sim.errors import NonFiniteError
from sim.spec.network import SECTORS

COST_KINDS = KINDS


def kpis(meta: RunRecord, raw: RunArrays) -> dict[str, Any]:
    """Per-replication KPIs with the names of DESIGN.md (costs in US$, backlog valued in US$).

    Days before the scenario's warm-up (``meta.warmup``) are left out of every KPI except the
    time to survive, which is measured from the first disruption.
    """
    w = meta.warmup
    value = np.asarray(meta.point_value, dtype=float)
    sector = np.asarray(meta.point_sector)
    backlog_usd = raw.backlog[w:] * value  # days x points
    total = backlog_usd.sum(axis=1) if backlog_usd.size else np.zeros(0)
    out: dict[str, Any] = {
        "scenario": meta.scenario,
        "rep": meta.rep,
        "seed": meta.seed,
        "days": meta.days,
        "backlog_peak": float(total.max()) if total.size else 0.0,
        "backlog_days": float(total.sum()),
    }
    for s in SECTORS[:3]:
        col = backlog_usd[:, sector == s].sum(axis=1) if backlog_usd.size else np.zeros(0)
        out[f"backlog_peak_{s}"] = float(col.max()) if col.size else 0.0
        out[f"backlog_days_{s}"] = float(col.sum())
    dem = meta.demanded_value
    out["fill_rate"] = meta.filled_value / dem if dem > 0 else 1.0
    cats = meta.cost_cats
    by_cat = _by_category(len(cats), raw, w)
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
    gov = party == "government"
    for ctry in ("US", "CA"):  # what the country's firms and consumers pay, duty revenue left out
        out[f"cost_{ctry.lower()}_private_usd"] = (
            float(by_cat[(country == ctry) & ~gov].sum()) if cats else 0.0
        )
    duty_priv = (kind == "duty") & ~gov
    tot_duty = float(by_cat[duty_priv].sum()) if cats else 0.0
    us_duty = float(by_cat[duty_priv & (country == "US")].sum()) if cats else 0.0
    # who bears the tariff cost: share of all duty dollars (after pass-through) borne by US parties
    out["us_share_of_duty_cost"] = us_duty / tot_duty if tot_duty > 0 else float("nan")
    for ctry in ("US", "CA"):  # revenue is booked as a negative cost of the government
        rev = float(by_cat[(kind == "duty") & gov & (country == ctry)].sum()) if cats else 0.0
        out[f"duty_revenue_{ctry.lower()}_usd"] = 0.0 - rev  # 0.0 - x: no negative zero
    shipped = raw.shipped[w:]
    lane_val = np.asarray(meta.lane_value, dtype=float)
    to_os = np.asarray([o == "CA" and d == "OS" for o, d in meta.lane_countries], dtype=bool)
    out["overseas_exports_usd"] = (
        float((shipped[:, to_os] * lane_val[to_os]).sum()) if shipped.size else 0.0
    )
    ca_us = np.asarray([o == "CA" and d == "US" for o, d in meta.lane_countries], dtype=bool)
    out["exports_ca_us_usd"] = (
        float((shipped[:, ca_us] * lane_val[ca_us]).sum()) if shipped.size else 0.0
    )
    # exporters' lost volume: cross-border shipments below the calibrated 2024 base flows, valued at
    # the lost-margin share (a KPI, not a ledger row: it is an opportunity cost against 2024)
    for origin, dest in (("CA", "US"), ("US", "CA")):
        sel = np.asarray([o == origin and d == dest for o, d in meta.lane_countries], dtype=bool)
        out[f"lost_export_margin_{origin.lower()}_usd"] = float(
            volume_short_usd(meta, shipped, sel).sum() * meta.lost_margin_share
        )
    full = total if w == 0 or not raw.backlog.size else (raw.backlog * value).sum(axis=1)
    out["tts_days"] = _tts(meta, raw, full)
    out["lost_sales_usd"] = meta.lost_value
    out["downtime_hours"] = meta.downtime_hours
    out.update(_border_kpis(raw, w))
    out.update(mass_balance_error=meta.mass_balance_error, events=meta.events, wall_s=meta.wall_s)
    return out


def volume_short_usd(
    meta: RunRecord, shipped: np.ndarray, lanes: np.ndarray | None = None
) -> np.ndarray:
    """Per lane (those of the boolean mask ``lanes``, or all), the customs value of what it shipped
    below its base flow over the days of ``shipped`` (days x lanes), US$; 0 for a lane that
    shipped at least its base flow."""
    base = np.asarray(meta.lane_base, dtype=float)
    value = np.asarray(meta.lane_value, dtype=float)
    if lanes is not None:
        base, value, shipped = base[lanes], value[lanes], shipped[:, lanes]
    if not shipped.size:
        return np.zeros(len(base))
    short: np.ndarray = np.maximum((base * shipped.shape[0] - shipped.sum(axis=0)) * value, 0.0)
    return short


def _border_kpis(raw: RunArrays, w: int) -> dict[str, float]:
    """Trade value of background traffic delayed and lost, vehicles diverted and lost (days
    from ``w``, the end of the warm-up)."""
    return {
        "trade_delayed_usd": float(raw.cross_trade_delayed[w:].sum()),
        "trade_lost_usd": float(raw.cross_trade_lost[w:].sum()),
        "vehicles_diverted": float(raw.cross_div_out[w:].sum()),
        "background_lost": float(raw.cross_bkg_lost[w:].sum()),
    }
# KPIs that are NaN by definition in some runs (no disruption, no duty); every other one is finite
MAY_BE_NAN = ("tts_days", "us_share_of_duty_cost")


def check_finite(kpis: dict[str, Any]) -> None:
    """Raise :class:`NonFiniteError` naming every KPI that is inf, or NaN where it must not be."""
    bad = [
        f"{k} = {v}"
        for k, v in kpis.items()
        if isinstance(v, float | np.floating)
        and (np.isinf(v) or (np.isnan(v) and k not in MAY_BE_NAN))
    ]
    if bad:
        raise NonFiniteError(
            f"scenario {kpis.get('scenario')} seed {kpis.get('seed')} rep {kpis.get('rep')}: "
            f"KPIs are not finite ({', '.join(bad)}); check the network's and scenario's numbers"
        )


def _by_category(n: int, raw: RunArrays, first_day: int) -> np.ndarray:
    """US$ booked per cost category on days >= ``first_day``: each category's rows added in
    booking order (``np.bincount`` adds its weights one by one, as a loop over the rows would)."""
    rows = np.asarray(raw.ledger, dtype=np.float64).reshape(-1, 3)
    keep = rows[:, 0] >= first_day
    by_cat: np.ndarray = np.bincount(
        rows[keep, 1].astype(np.intp), weights=rows[keep, 2], minlength=n
    )
    return by_cat


def _tts(meta: RunRecord, raw: RunArrays, backlog_usd: np.ndarray) -> float:
    """Time to survive: days from the first disruption's start to the first day demand goes unmet
    (backorders grow or sales are lost by more than 0.1 % of a day's demand). NaN without a
    disruption, or when demand is always met."""
    start = meta.first_disruption
    if start is None:
        return float("nan")
    lost = np.asarray(raw.lost_by_day, dtype=float)
    grow = np.diff(backlog_usd, prepend=backlog_usd[:1]) if backlog_usd.size else np.zeros(0)
    unmet = np.maximum(grow, 0.0) + lost
    days = meta.days
    daily_demand = meta.demanded_value / max(days, 1)
    normal = np.quantile(unmet[:start], 0.99) if start > 0 else 0.0
    hit = np.flatnonzero((np.arange(days) >= start) & (unmet > normal + 1e-3 * daily_demand))
    return float(hit[0] - start) if hit.size else float("nan")


def ttr_days(alt: Any, base: Any, band: float = 0.05) -> float:
    """Time to recover: days from the end of the last disruption of ``alt`` until its backlog and
    throughput are back within ``band`` of the paired ``base`` run, for good (both arguments are
    :class:`sim.analysis.result.Result` of the same seed and replication). Backlog is compared against
    ``band`` x the base run's mean daily throughput (both in US$). NaN while a disruption never
    ends, or when the run never recovers within its horizon."""
    end = alt.meta.disruption_end
    days = alt.kpis["days"]
    if end is None or end >= days:
        return float("nan")
    value = np.asarray(alt.meta.point_value, dtype=float)
    lane_val = np.asarray(alt.meta.lane_value, dtype=float)
    b_alt = (alt.raw.backlog * value).sum(axis=1)
    b_base = (base.raw.backlog * value).sum(axis=1)
    t_alt = (alt.raw.shipped * lane_val).sum(axis=1)
    t_base = (base.raw.shipped * lane_val).sum(axis=1)
    scale = max(float(t_base.mean()), 1.0)
    ok = (np.abs(b_alt - b_base) <= band * scale) & (np.abs(t_alt - t_base) <= band * t_base)
    bad = np.flatnonzero(~ok[end:])
    if bad.size == 0:
        return 0.0
    first_good = int(bad[-1]) + 1  # after the last day out of the band
    return float(first_good) if end + first_good < len(ok) else float("nan")


def _unmet_by_day(res: Any) -> np.ndarray:
    """US$ of demand not met each day: backorder growth plus lost sales."""
    value = np.asarray(res.meta.point_value, dtype=float)
    backlog = (res.raw.backlog * value).sum(axis=1) if res.raw.backlog.size else np.zeros(0)
    grow = np.diff(backlog, prepend=backlog[:1]) if backlog.size else np.zeros(0)
    lost = np.asarray(res.raw.lost_by_day, dtype=float)
    out: np.ndarray = np.maximum(grow, 0.0) + lost
    return out


def tts_days(alt: Any, base: Any, tol: float = 1e-3) -> float:
    """Time to survive against the paired ``base`` run (same seed and replication, both
    :class:`sim.analysis.result.Result`): days from the first disruption's start to the first day
    ``alt`` leaves more demand unmet than ``base`` did that day, by more than ``tol`` x a day's
    demand. Shortfalls the baseline has on the same seed (ordinary noise) do not count. NaN without
    a disruption, or when ``alt`` never falls short of ``base``."""
    start = alt.meta.first_disruption
    if start is None:
        return float("nan")
    extra = _unmet_by_day(alt) - _unmet_by_day(base)
    days = len(extra)
    daily_demand = alt.meta.demanded_value / max(days, 1)
    hit = np.flatnonzero((np.arange(days) >= start) & (extra > tol * daily_demand))
    return float(hit[0] - start) if hit.size else float("nan")
