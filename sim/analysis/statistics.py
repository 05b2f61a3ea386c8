"""Monte Carlo summaries: means with Student-t confidence intervals, paired (CRN) deltas.

No scipy: the t quantile comes from the exact t distribution function (regularised incomplete beta by
continued fraction), inverted by Newton's method from a Cornish-Fisher start; accurate to ~1e-10.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: columns of a KPI table that identify a replication rather than measure it
ID_COLUMNS = ("rep", "seed", "days")
#: the KPIs the command line shows after a multi-replication run (plus share/diverted columns)
MAIN_KPIS = (
    "backlog_peak",
    "backlog_days",
    "fill_rate",
    "cost_total_usd",
    "cost_us_private_usd",
    "cost_ca_private_usd",
    "duty_usd",
    "lost_export_margin_ca_usd",
    "lost_export_margin_us_usd",
)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(ln_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Distribution function of Student's t with ``df`` degrees of freedom."""
    if math.isinf(df):
        return NormalDist().cdf(t)
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def _t_pdf(t: float, df: float) -> float:
    ln = (
        math.lgamma((df + 1.0) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * math.log(df * math.pi)
        - (df + 1.0) / 2.0 * math.log1p(t * t / df)
    )
    return math.exp(ln)


def t_quantile(p: float, df: float) -> float:
    """Quantile ``p`` of Student's t with ``df`` > 0 degrees of freedom (``inf`` = normal)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    z = NormalDist().inv_cdf(p)
    if math.isinf(df):
        return z
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    # Cornish-Fisher expansion (error O(df^-4)): the answer itself for very large df, else the start
    t = (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )
    if df > 1e5:
        return t
    for _ in range(50):
        step = (t_cdf(t, df) - p) / _t_pdf(t, df)
        t -= step
        if abs(step) < 1e-13 * max(1.0, abs(t)):
            break
    return t


def kpi_columns(df: pd.DataFrame, exclude: Sequence[str] = ID_COLUMNS) -> list[str]:
    """Numeric, non-boolean KPI columns of a KPI table, in table order (identifiers excluded)."""
    import pandas as pd

    return [
        c
        for c in df.columns
        if c not in exclude
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]


def main_kpis(columns: Sequence[str]) -> list[str]:
    """The headline KPIs present among ``columns``: :data:`MAIN_KPIS` plus share/diverted columns."""
    extra = [c for c in columns if ("share" in c or "diverted" in c) and c not in MAIN_KPIS]
    return [c for c in MAIN_KPIS if c in columns] + extra


def _mean_ci(values: Sequence[float], level: float) -> tuple[int, float, float, float]:
    """n, mean, std (ddof=1), CI half-width of the values that are not NaN."""
    xs = [float(v) for v in values if not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = math.fsum(xs) / n
    if n == 1:
        return 1, mean, math.nan, math.nan
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile(0.5 + level / 2.0, n - 1) * std / math.sqrt(n)
    return n, mean, std, half


def summarize(
    kpis: pd.DataFrame, columns: Sequence[str] | None = None, *, level: float = 0.95
) -> pd.DataFrame:
    """Mean and Student-t confidence interval of each numeric KPI column over replications.

    Returns one row per KPI: ``kpi, n, mean, std`` (ddof=1), ``half_width`` =
    t_{(1+level)/2, n-1} * std / sqrt(n), ``ci_low, ci_high``, ``rel_half_width`` = half_width / |mean|
    (NaN when the mean is 0), and ``interval``: ``t``, or ``bootstrap`` for a KPI whose values are
    all >= 0 but whose t interval would reach below 0 (a few rare events: the percentile bootstrap
    interval of :func:`bootstrap_ci` instead, and half_width is half its width). NaN values are
    left out (``n`` counts the rest).
    """
    import pandas as pd

    cols = list(columns) if columns is not None else kpi_columns(kpis)
    rows = []
    for c in cols:
        values = kpis[c].tolist()
        n, mean, std, half = _mean_ci(values, level)
        low, high, how = mean - half, mean + half, "t"
        xs = [float(v) for v in values if not math.isnan(float(v))]
        if n > 1 and low < 0 and min(xs) >= 0:  # a non-negative KPI: never a negative bound
            low, high = bootstrap_ci(xs, level)
            half, how = (high - low) / 2.0, "bootstrap"
        rows.append(
            {
                "kpi": c,
                "n": n,
                "mean": mean,
                "std": std,
                "half_width": half,
                "ci_low": low,
                "ci_high": high,
                "rel_half_width": half / abs(mean)
                if mean != 0 and not math.isnan(mean)
                else math.nan,
                "interval": how,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "kpi",
            "n",
            "mean",
            "std",
            "half_width",
            "ci_low",
            "ci_high",
            "rel_half_width",
            "interval",
        ],
    )


def bootstrap_ci(
    xs: Sequence[float], level: float = 0.95, resamples: int = 4000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``xs`` (fixed seed: the same data give the
    same interval). Its bounds lie within [min(xs), max(xs)], so a non-negative KPI's interval
    is never negative."""
    import numpy as np

    data = np.asarray(xs, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def paired_deltas(
    base: pd.DataFrame,
    alt: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Paired deltas ALT - BASE per KPI over replications matched by ``rep`` (common random numbers).

    Per KPI: ``n, base_mean, alt_mean, delta_mean``, the paired ``delta_std``, ``half_width``,
    ``ci_low, ci_high`` (Student t, n-1 degrees of freedom, from the per-replication differences),
    the unpaired (Welch) ``unpaired_half_width, unpaired_ci_low, unpaired_ci_high`` the same two
    samples would give if they were independent (standard error sqrt(s_a²/n + s_b²/n), Welch-
    Satterthwaite degrees of freedom), and ``variance_reduction`` = var_unpaired / var_paired, the
    ratio of the squared standard errors (inf when the paired differences do not vary at all).

    Every statistic of a KPI uses the same replications: those where both values are finite
    (a KPI such as ``tts_days`` can be NaN); ``n`` counts them. A KPI defined on one side only
    (``n`` = 0) keeps that side's mean in ``base_mean`` or ``alt_mean``; its deltas are NaN.
    """
    import pandas as pd

    if "rep" not in base.columns or "rep" not in alt.columns:
        raise ValueError("both KPI tables need a 'rep' column")
    drop = (*ID_COLUMNS, "wall_s")
    cols = (
        list(columns)
        if columns is not None
        else [c for c in kpi_columns(base, drop) if c in set(kpi_columns(alt, drop))]
    )
    merged = base.merge(alt, on="rep", suffixes=("__base", "__alt"), validate="one_to_one")
    if len(merged) == 0:
        raise ValueError("the two KPI tables share no replication")
    q = 0.5 + level / 2.0
    rows = []
    for c in cols:
        pairs = [
            (x, y)
            for x, y in zip(
                merged[f"{c}__base"].astype(float), merged[f"{c}__alt"].astype(float), strict=True
            )
            if math.isfinite(x) and math.isfinite(y)
        ]
        a = [x for x, _ in pairs]
        b = [y for _, y in pairs]
        n, amean, sa, _ = _mean_ci(a, level)
        _, bmean, sb, _ = _mean_ci(b, level)
        if n == 0:  # defined on one side only (e.g. tts_days without a disruption): its own mean
            amean = _mean_ci(merged[f"{c}__base"].astype(float).tolist(), level)[1]
            bmean = _mean_ci(merged[f"{c}__alt"].astype(float).tolist(), level)[1]
        _, dmean, dstd, half = _mean_ci([y - x for x, y in pairs], level)
        var_unp = (sa * sa + sb * sb) / n if n > 1 else math.nan
        var_pair = dstd * dstd / n if n > 1 else math.nan
        if n > 1 and var_unp > 0:
            welch_df = var_unp**2 / ((sa**4 + sb**4) / (n * n * (n - 1)))
            u_half = t_quantile(q, welch_df) * math.sqrt(var_unp)
        else:
            u_half = 0.0 if var_unp == 0 else math.nan
        if math.isnan(var_pair) or math.isnan(var_unp):
            vr = math.nan
        elif var_pair > 0:
            vr = var_unp / var_pair
        else:
            vr = math.inf if var_unp > 0 else math.nan
        rows.append(
            {
                "kpi": c,
                "n": n,
                "base_mean": amean,
                "alt_mean": bmean,
                "delta_mean": dmean,
                "delta_std": dstd,
                "half_width": half,
                "ci_low": dmean - half,
                "ci_high": dmean + half,
                "unpaired_half_width": u_half,
                "unpaired_ci_low": dmean - u_half,
                "unpaired_ci_high": dmean + u_half,
                "variance_reduction": vr,
            }
        )
    return pd.DataFrame(rows)
