"""Figures of KPI tables: batch distributions, paired deltas of ``compare``, the ``sweep``
heatmap, and tornado / Sobol bars for sensitivity tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.analysis.statistics import summarize
from sim.viz.common import money, money_axis, new_axes

KPI_LABELS = {
    "backlog_peak": "backlog peak (US$)",
    "backlog_days": "backlog (US$ x days)",
    "fill_rate": "fill rate (share of demand value)",
    "cost_total_usd": "total cost (US$)",
    "cost_us_private_usd": "cost to US firms and consumers (US$)",
    "cost_ca_private_usd": "cost to Canadian firms and consumers (US$)",
    "duty_usd": "duty paid (US$)",
    "us_share_of_duty_cost": "US share of duty cost",
    "exports_ca_us_usd": "Canada's exports to the US (US$)",
    "overseas_exports_usd": "Canada's overseas exports (US$)",
    "tts_days": "time to survive (days)",
}


def kpi_label(kpi: str) -> str:
    """A KPI's name with its unit."""
    if kpi in KPI_LABELS:
        return KPI_LABELS[kpi]
    if kpi.endswith("_usd") or kpi.startswith(("backlog_peak", "backlog_days")):
        return f"{kpi} (US$)"
    return kpi


def is_money(kpi: str) -> bool:
    return "(US$" in kpi_label(kpi)


def kpi_distribution(kpis: pd.DataFrame, kpi: str, ax: Axes | None = None, *, legend: bool = True) -> Axes:
    """Histogram of one KPI across replications with its mean and 95 % confidence interval."""
    ax = new_axes(ax, (5.0, 3.5))
    x = kpis[kpi].to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    s = summarize(pd.DataFrame({kpi: x}), [kpi]).iloc[0]
    _, _, bars = ax.hist(x, bins=max(5, min(30, len(x) // 3)), color="0.65", edgecolor="white", label=f"{len(x)} replications")
    for b in bars:  # type: ignore[union-attr]
        b.set_gid("hist")  # type: ignore[union-attr]
    ax.axvline(s["mean"], color="black", lw=1.5, label="mean")
    ax.axvspan(s["ci_low"], s["ci_high"], color="C0", alpha=0.25, label="95 % CI of the mean")
    if is_money(kpi):
        money_axis(ax, kpi_label(kpi), axis="x")
    else:
        ax.set_xlabel(kpi_label(kpi))
    ax.set_ylabel("replications")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if legend:
        ax.legend(fontsize=7, framealpha=0.85, loc="best")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    return ax


def compare_deltas(table: pd.DataFrame, ax: Axes | None = None, *, kpis: list[str] | None = None) -> Axes:
    """Paired deltas ALT - BASE per KPI, as % of the base mean, with paired 95 % intervals (thick)
    and unpaired ones (thin) — the table of :func:`sim.compare`."""
    t = table if kpis is None else table[table["kpi"].isin(kpis)]
    zero = [str(k) for k in t.loc[t["base_mean"].abs() == 0, "kpi"]]
    t = t[(t["base_mean"].abs() > 0) & np.isfinite(t["delta_mean"])].reset_index(drop=True)
    ax = new_axes(ax, (9.0, 0.45 * len(t) + 1.5))
    base = t["base_mean"].abs().to_numpy()
    y = np.arange(len(t))[::-1]
    mid = 100 * t["delta_mean"].to_numpy() / base
    for lo, hi, lw, label in (("unpaired_ci_low", "unpaired_ci_high", 1.0, "unpaired 95 % CI"), ("ci_low", "ci_high", 4.0, "paired 95 % CI")):
        ax.hlines(y, 100 * t[lo].to_numpy() / base, 100 * t[hi].to_numpy() / base, lw=lw, color="C0" if lw > 2 else "0.5", label=label)
    ax.plot(mid, y, "o", color="black", ms=4, label="mean delta")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xscale("symlog", linthresh=1.0)  # deltas span 0.1 % to 10,000 %: linear within +-1 %
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f} %" if abs(v) >= 1 else f"{v:g} %"))
    ax.set_yticks(y, [kpi_label(k) for k in t["kpi"]], fontsize=8)
    ax.set_xlabel("change, % of the base mean (symmetric log scale)")
    if zero:
        ax.annotate("base mean 0, not shown: " + ", ".join(zero), (0, 0), xycoords="axes fraction", xytext=(0, -32), textcoords="offset points", fontsize=7.5, color="0.35", va="top")
    if len(t):
        ax.set_title(f"{t['alt'].iloc[0]} vs {t['base'].iloc[0]}: paired deltas", loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def sweep_heatmap(table: pd.DataFrame, kpi: str, ax: Axes | None = None) -> Axes:
    """Mean of ``kpi`` at every grid point of a sweep (the table of :func:`sim.sweep`): the first
    grid key down, the second across (one row when the grid has one key); cells annotated."""
    keys = [c for c in table.columns[1 : list(table.columns).index("kpi")]]
    t = table[table["kpi"] == kpi]
    rows_key = keys[0]
    cols_key = keys[1] if len(keys) > 1 else None
    grid = t.pivot_table(index=rows_key, columns=cols_key, values="mean", aggfunc="mean") if cols_key else t.set_index(rows_key)[["mean"]].T
    ax = new_axes(ax, (7.0, 4.5))
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    fmt = money if is_money(kpi) else (lambda v: f"{v:.3g}")
    for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
        ax.text(j, i, fmt(v), ha="center", va="center", fontsize=8, color="white" if float(im.norm(v)) < 0.6 else "black")  # type: ignore[arg-type]
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    if cols_key:
        ax.set_xlabel(cols_key)
        ax.set_ylabel(rows_key)
    else:
        ax.set_xlabel(rows_key)
        ax.set_yticks([], [])
    cb = ax.figure.colorbar(im, ax=ax) if ax.figure is not None else None
    if cb is not None:
        cb.set_label(kpi_label(kpi))
        if is_money(kpi):
            cb.ax.yaxis.set_major_formatter(FuncFormatter(money))
    ax.set_title(f"Sweep: mean {kpi_label(kpi)}", loc="left")
    return ax


def tornado(table: pd.DataFrame, ax: Axes | None = None, *, base: float | None = None, unit: str = "") -> Axes:
    """One-at-a-time sensitivity: a bar per ``parameter`` from the output at its ``low`` to its
    ``high`` value, widest on top; ``base`` (the output at the central values) marks the middle."""
    t = table.assign(width=(table["high"] - table["low"]).abs()).sort_values("width")
    ax = new_axes(ax, (8.0, 0.45 * len(t) + 1.5))
    y = np.arange(len(t))
    low, high = t["low"].to_numpy(dtype=float), t["high"].to_numpy(dtype=float)
    mid = np.full(len(t), base) if base is not None else np.minimum(low, high)
    ax.barh(y, low - mid, left=mid, color="C0", alpha=0.8, label="at the low value")
    bars = ax.barh(y, high - mid, left=mid, color="C1", alpha=0.8, label="at the high value")
    for b, p in zip(bars, t["parameter"], strict=True):
        b.set_gid(f"tornado:{p}")
    if base is not None:
        ax.axvline(base, color="black", lw=1, label="at the central values")
    if unit == "US$":
        ax.xaxis.set_major_formatter(FuncFormatter(money))
    ax.legend(fontsize=8, loc="lower right")
    ax.set_yticks(y, [str(p) for p in t["parameter"]], fontsize=8)
    ax.set_xlabel(f"output{f' ({unit})' if unit else ''} at the low and high value of each parameter")
    ax.set_title("Sensitivity (one at a time)", loc="left")
    ax.grid(axis="x", alpha=0.3)
    return ax


def sobol_bars(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Sobol indices per ``parameter``: first order ``S1`` and total ``ST`` side by side, with
    ``S1_conf`` / ``ST_conf`` as error bars when present (the layout of SALib's tables)."""
    t = table.sort_values("ST", ascending=False).reset_index(drop=True)
    ax = new_axes(ax, (8.0, 4.0))
    x = np.arange(len(t))
    for off, col, label in ((-0.2, "S1", "first order S1"), (0.2, "ST", "total ST")):
        err = t[f"{col}_conf"].to_numpy(dtype=float) if f"{col}_conf" in t else None
        ax.bar(x + off, t[col].to_numpy(dtype=float), width=0.4, yerr=err, capsize=3, label=label)
    ax.set_xticks(x, [str(p) for p in t["parameter"]], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Sobol index (share of output variance)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.set_title("Sensitivity (Sobol indices)", loc="left")
    return ax
