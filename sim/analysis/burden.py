"""Who pays: each country's extra burden of a scenario against its paired baseline.

The burden of a run is read from its cost ledger and its lost export margin. For each country the
extra burden (scenario minus baseline, same seed and replication) splits into

(a) ``duty``: duty its firms and consumers bear after pass-through (the exporter's share lands in
    the exporting country, the importer's, downstream buyers' and consumers' shares in the
    importing country);
(b) ``frictions``: what the simulation itself produces — delay, holding, downtime, backlog,
    spoilage, transport and lost-sales margin (ledger kinds) plus the exporters' margin on
    cross-border volume lost against the baseline (``lost_export_margin``);
(c) ``revenue``: its own government's duty and levy revenue (a gain, so it is subtracted).

``net = duty + frictions - revenue``. The three headline numbers are the US shares of the duty
(``us_share_duty``), of the frictions (``us_share_frictions``) and of the net burden
(``us_share_net``), each :func:`us_share`: ``US / (US + CA)`` when both sides bear a cost, 0 when
the US side gains (its revenue exceeds what it bears) while Canada's pays, 0.5 exactly when both
bear the same. Above 0.5 the US side bears more: "the pressure has inverted".

Regions and sectors: each ledger row carries the state or province of the site behind it
(:mod:`sim.engine.ledger`); a reporting-regions table (``networks/reporting_regions.csv``) groups
them. Government revenue is national (region ``""``); the tables by region show duty and frictions.

:func:`cost_account` reduces a :class:`~sim.analysis.result.Result` to a small picklable mapping (a
batch worker sends it back instead of the tables); :func:`burden` takes two results or accounts;
:func:`burden_batch` pairs replications and gives means, 95 % confidence intervals of the mean and the
2.5-97.5 % range over replications (the spread that parameter uncertainty produces).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis.metrics import _by_category, volume_short_usd
from sim.analysis.result import Result
from sim.analysis.statistics import t_quantile

if TYPE_CHECKING:
    import pandas as pd

#: an account: (country, region, sector, item) -> US$; item is a ledger kind borne by firms and
#: consumers, "lost_export_margin", or "revenue" (own government's duty revenue, positive)
Account = dict[tuple[str, str, str, str], float]

FRICTIONS = (
    "delay",
    "holding",
    "downtime",
    "backlog",
    "spoilage",
    "transport",
    "lost_margin",
    "lost_export_margin",
)
COUNTRIES = ("US", "CA")
HEADLINE = ("us_share_duty", "us_share_frictions", "us_share_net")


def cost_account(result: Result) -> Account:
    """What each country's firms, consumers and government booked in one run, by region and sector.

    Ledger rows of parties other than the government keep their kind (``duty`` is the duty borne
    after pass-through); government duty rows become ``revenue`` (sign flipped: revenue is
    positive). The exporters' lost margin on cross-border volume below the network's base flows
    (the ``lost_export_margin_*`` KPIs) is added per lane, in the origin's country and region.
    """
    cats = result.meta.cost_cats
    by_cat = _by_category(len(cats), result.raw, 0)
    out: Account = {}
    for (party, country, sector, kind, region), usd in zip(cats, by_cat, strict=True):
        if country not in COUNTRIES or usd == 0.0:
            continue
        item = "revenue" if party == "government" else kind
        key = (country, region if party != "government" else "", sector, item)
        out[key] = out.get(key, 0.0) + (-usd if party == "government" else usd)
    meta = result.meta
    short = volume_short_usd(meta, result.raw.shipped)
    margin = float(meta.lost_margin_share)
    for i, (o, d) in enumerate(meta.lane_countries):
        if {o, d} != set(COUNTRIES) or short[i] <= 0:
            continue
        key = (o, meta.lane_origin_region[i], meta.lane_sector[i], "lost_export_margin")
        out[key] = out.get(key, 0.0) + float(short[i]) * margin
    return out


def _as_account(x: Result | Mapping[tuple[str, str, str, str], float]) -> Account:
    return cost_account(x) if isinstance(x, Result) else dict(x)


def us_share(us: float, ca: float) -> float:
    """The US share of a burden both countries bear: ``us / (us + ca)`` when both are >= 0, and in
    general ``0.5 + 0.5 (us - ca) / (|us| + |ca|)``, which stays in 0..1: 0 when the US side gains
    while Canada's bears a cost, 1 in the mirror case, 0.5 exactly when both bear the same. NaN when
    both are 0."""
    tot = abs(us) + abs(ca)
    if tot == 0 or not math.isfinite(tot):
        return math.nan
    return 0.5 + 0.5 * ((us - ca) / tot)  # the ratio first: no underflow at tiny amounts


@dataclass(frozen=True)
class Burden:
    """Extra burden of a scenario against its paired baseline (US$; see the module docstring).

    ``duty``, ``frictions``, ``revenue`` and ``net`` map country -> US$. ``by_region``: one row per
    (country, reporting region) with columns ``country, region, duty, frictions, burden``
    (duty + frictions, before revenue); ``by_sector``: one row per (country, sector) with
    ``duty, frictions, revenue, net``.
    """

    duty: Mapping[str, float]
    frictions: Mapping[str, float]
    revenue: Mapping[str, float]
    net: Mapping[str, float]
    us_share_duty: float
    us_share_frictions: float
    us_share_net: float
    by_region: pd.DataFrame
    by_sector: pd.DataFrame

    def headline(self) -> dict[str, float]:
        """The three headline shares and the country totals, flat (one row of a batch table)."""
        out = {h: float(getattr(self, h)) for h in HEADLINE}
        for part in ("duty", "frictions", "revenue", "net"):
            for c in COUNTRIES:
                out[f"{part}_{c.lower()}_usd"] = float(getattr(self, part)[c])
        # US minus Canadian net burden: > 0 exactly when the US share of the net burden is > 0.5
        out["net_gap_usd"] = out["net_us_usd"] - out["net_ca_usd"]
        return out


def _extra(alt: Account, base: Account, regions: Mapping[str, str] | None) -> pd.DataFrame:
    import pandas as pd

    keys = sorted(set(alt) | set(base))
    df = pd.DataFrame(
        [(*k, alt.get(k, 0.0) - base.get(k, 0.0)) for k in keys],
        columns=["country", "region", "sector", "item", "usd"],
    )
    reg = regions or {}
    df["region"] = [reg.get(r, r) if r else "(national)" for r in df["region"].astype(str).tolist()]
    df["part"] = np.where(
        df["item"] == "duty", "duty", np.where(df["item"] == "revenue", "revenue", "frictions")
    )
    return df


def burden(
    scenario: Result | Mapping[tuple[str, str, str, str], float],
    baseline: Result | Mapping[tuple[str, str, str, str], float],
    regions: Mapping[str, str] | None = None,
) -> Burden:
    """Each country's extra burden of ``scenario`` over its paired ``baseline`` run.

    Parameters
    ----------
    scenario, baseline
        Results (or their :func:`cost_account`) of the same seed and replication.
    regions
        State/province code -> reporting region (:func:`sim.io.regions.load_reporting_regions`);
        None reports by state/province code.
    """
    df = _extra(_as_account(scenario), _as_account(baseline), regions)
    tot = df.groupby(["part", "country"])["usd"].sum()

    def get(part: str, c: str) -> float:
        return float(tot.get((part, c), 0.0))

    duty = {c: get("duty", c) for c in COUNTRIES}
    fric = {c: get("frictions", c) for c in COUNTRIES}
    rev = {c: get("revenue", c) for c in COUNTRIES}
    net = {c: duty[c] + fric[c] - rev[c] for c in COUNTRIES}
    wide = df.pivot_table(
        index=["country", "region"], columns="part", values="usd", aggfunc="sum", fill_value=0.0
    )
    for part in ("duty", "frictions", "revenue"):
        if part not in wide:
            wide[part] = 0.0
    by_region = wide[wide.index.get_level_values("region") != "(national)"][["duty", "frictions"]]
    by_region = by_region.assign(burden=by_region["duty"] + by_region["frictions"]).reset_index()
    sec = df.pivot_table(
        index=["country", "sector"], columns="part", values="usd", aggfunc="sum", fill_value=0.0
    )
    for part in ("duty", "frictions", "revenue"):
        if part not in sec:
            sec[part] = 0.0
    sec = sec[["duty", "frictions", "revenue"]]
    by_sector = sec.assign(net=sec["duty"] + sec["frictions"] - sec["revenue"]).reset_index()
    by_region.columns.name = None
    by_sector.columns.name = None
    return Burden(
        duty=duty,
        frictions=fric,
        revenue=rev,
        net=net,
        us_share_duty=us_share(duty["US"], duty["CA"]),
        us_share_frictions=us_share(fric["US"], fric["CA"]),
        us_share_net=us_share(net["US"], net["CA"]),
        by_region=by_region,
        by_sector=by_sector,
    )


@dataclass(frozen=True)
class BurdenSummary:
    """Burden over paired replications.

    ``reps``: one row per replication (``rep`` and :meth:`Burden.headline` columns, plus any
    ``param:<key>`` columns given). ``headline``: per headline column ``n, mean, ci_low, ci_high``
    (95 % Student-t interval of the mean) and ``p2_5, p97_5`` (the range over replications).
    ``by_region`` / ``by_sector``: mean and 95 % CI of the mean per row and column.
    """

    reps: pd.DataFrame
    headline: pd.DataFrame
    by_region: pd.DataFrame
    by_sector: pd.DataFrame


def _summary(values: pd.Series) -> dict[str, float]:
    xs = values.astype(float).dropna().to_numpy()
    n = len(xs)
    mean = float(xs.mean()) if n else math.nan
    half = t_quantile(0.975, n - 1) * float(xs.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return {
        "n": n,
        "mean": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "p2_5": float(np.quantile(xs, 0.025)) if n else math.nan,
        "p97_5": float(np.quantile(xs, 0.975)) if n else math.nan,
    }


def _mean_table(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    import pandas as pd

    allf = pd.concat([f.assign(_rep=i) for i, f in enumerate(frames)], ignore_index=True)
    cols = [c for c in allf.columns if c not in keys and c != "_rep"]
    # a row missing in a replication counts as 0 there
    full = allf.set_index([*keys, "_rep"])[cols].unstack("_rep", fill_value=0.0)
    rows = []
    for idx, row in full.iterrows():
        rec = dict(zip(keys, idx if isinstance(idx, tuple) else (idx,), strict=True))
        for c in cols:
            s = _summary(row[c])
            rec[c] = s["mean"]
            rec[f"{c}_ci_low"], rec[f"{c}_ci_high"] = s["ci_low"], s["ci_high"]
        rows.append(rec)
    return pd.DataFrame(rows)


def burden_batch(
    scenario: Sequence[Result | Mapping[tuple[str, str, str, str], float]],
    baseline: Sequence[Result | Mapping[tuple[str, str, str, str], float]],
    regions: Mapping[str, str] | None = None,
    params: pd.DataFrame | None = None,
) -> BurdenSummary:
    """:func:`burden` of each pair ``(scenario[i], baseline[i])`` (the same replication), summarised.

    ``params``: optional table, one row per replication in the same order, whose columns (e.g. the
    drawn ``param:<key>`` values) are copied into ``reps``.
    """
    import pandas as pd

    if len(scenario) != len(baseline) or not scenario:
        raise ValueError("burden_batch needs as many baseline as scenario runs (at least one)")
    bs = [burden(a, b, regions) for a, b in zip(scenario, baseline, strict=True)]
    reps = pd.DataFrame([b.headline() for b in bs])
    reps.insert(0, "rep", range(len(bs)))
    if params is not None:
        for c in params.columns:
            reps[c] = params[c].to_numpy()
    head = pd.DataFrame([{"kpi": c, **_summary(reps[c])} for c in reps.columns if c != "rep"])
    return BurdenSummary(
        reps=reps,
        headline=head,
        by_region=_mean_table([b.by_region for b in bs], ["country", "region"]),
        by_sector=_mean_table([b.by_sector for b in bs], ["country", "sector"]),
    )
