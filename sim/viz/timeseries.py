"""Figures over calendar time: backlog bands with the policy timeline, crossings, plants.

Each function takes a results folder (a path or :class:`~sim.analysis.folder.Folder`) or the tidy
table it would read, and an optional matplotlib ``Axes``; it draws and returns the ``Axes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from sim.analysis.folder import Folder
from sim.io.network import load_network
from sim.viz.common import (
    KIND_COLORS,
    SECTOR_COLORS,
    date_axis,
    frame_or_folder,
    from_num,
    legend_outside,
    money_axis,
    new_axes,
    pretty,
    to_num,
)

BAND = "5–95 %"


def _bands(
    ax: Axes, table: pd.DataFrame, keys: list[str], colors: dict[str, str], reps: int | None
) -> None:
    """A median line and a 5–95 % band per key (rows ``key, date, q05, q50, q95``); one line
    per key, no band, for a single replication (``reps`` None: when the quantiles coincide)."""
    if reps is not None:
        spread = reps > 1
    else:
        spread = bool((table["q95"] - table["q05"]).abs().max() > 0) if len(table) else False
    for i, key in enumerate(keys):
        s = table[table["key"] == key].sort_values("date")
        color = colors.get(key, f"C{i}")
        if not spread:
            ax.plot(s["date"].to_numpy(), s["q50"].to_numpy(), color=color, lw=1.6, label=pretty(key))
            continue
        ax.fill_between(
            s["date"].to_numpy(),
            s["q05"].to_numpy(),
            s["q95"].to_numpy(),
            color=color,
            alpha=0.2,
            linewidth=0,
            label=f"{pretty(key)} {BAND}",
        )
        ax.plot(s["date"].to_numpy(), s["q50"].to_numpy(), color=color, lw=1.6, label=f"{pretty(key)} median")


def backlog(
    source: Folder | str | Path | pd.DataFrame,
    ax: Axes | None = None,
    *,
    measures: pd.DataFrame | None = None,
    timeline: bool = True,
) -> Axes:
    """Backlog by sector in US$ over calendar time: median and 5–95 % band across replications,
    with the policy timeline over it (each measure a labelled span, announcements marked).

    ``source``: a results folder, or a table ``key (sector), date, q05, q50, q95``; ``measures``
    (id, kind, start, end, announce) defaults to the folder's.
    """
    table, folder = frame_or_folder(source, "backlog_usd")
    if folder is not None and measures is None:
        measures = folder.measures
    ax = new_axes(ax, (11.0, 6.0))
    keys = [k for k in ("auto", "farm", "energy") if k in set(table["key"])]
    _bands(ax, table, keys, SECTOR_COLORS, folder.reps if folder is not None else None)
    money_axis(ax, "backlog (US$ at customs value)")
    date_axis(ax)
    ax.set_xlim(table["date"].min(), table["date"].max())
    ax.set_ylim(bottom=0)
    title = "Backlog by sector"
    if folder is not None:
        title += f": {folder.scenario}, {folder.reps} replication{'s' if folder.reps != 1 else ''}"
    ax.set_title(title, loc="left")
    if timeline and measures is not None and len(measures):
        policy_timeline(ax, measures)
    legend_outside(ax)
    return ax


def group_measures(measures: pd.DataFrame) -> list[dict[str, Any]]:
    """Measures of one kind with the same start, end and announcement, drawn as one bar.

    Returns dicts ``label, kind, start, end, announce, ids`` in order of start.
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    for r in measures.itertuples(index=False):
        key = (r.kind, r.start, r.end, r.announce)
        groups.setdefault(key, []).append(str(r.id))
    out = []
    for (kind, start, end, announce), ids in groups.items():
        if len(ids) == 1:
            label = ids[0]
        else:
            prefix = _common_prefix(ids)
            if len(ids) == 2:
                label = f"{ids[0]}, {ids[1]}"
            elif len(prefix) >= 3:
                label = f"{prefix}* ({len(ids)} {kind})"
            else:
                label = f"{ids[0]} +{len(ids) - 1}"
        out.append(
            {"label": label, "kind": kind, "start": start, "end": end, "announce": announce, "ids": ids}
        )
    return sorted(out, key=lambda g: (g["start"], g["label"]))


def _common_prefix(ids: list[str]) -> str:
    p = ids[0]
    for s in ids[1:]:
        while not s.startswith(p):
            p = p[:-1]
    return p[: p.rfind("_") + 1] if "_" in p else p


def policy_timeline(ax: Axes, measures: pd.DataFrame, *, band: float | None = None) -> Axes:
    """Draw the measures over ``ax`` (x axis in dates): a light span over the data per measure
    group, and in a band at the top of the axes one labelled bar per group, an announcement as a
    triangle with a dotted lead-in to the start. Bars carry the gid ``measure:<label>``,
    announcements ``announce:<label>``. The y limits grow so the data stay below the band.
    """
    groups = group_measures(measures)
    if not groups:
        return ax
    x0, x1 = ax.get_xlim()
    lo, hi = from_num(x0), from_num(x1)
    n = len(groups)
    frac = band if band is not None else min(0.42, 0.028 * n + 0.02)
    ymin, ymax = ax.get_ylim()
    top = ymax if ymax > ymin else ymin + 1.0
    ax.set_ylim(ymin, ymin + (top - ymin) / (1.0 - frac))
    ticks = [t for t in ax.get_yticks() if ymin <= t <= top]
    ax.set_yticks(ticks)
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    row = frac / n
    base = 1.0 - frac
    ax.axhspan(ymin + (top - ymin), ax.get_ylim()[1], color="white", zorder=2)
    ax.axhline(ymin + (top - ymin), color="0.6", lw=0.6, zorder=3)
    for i, g in enumerate(groups):
        color = KIND_COLORS.get(g["kind"], "0.4")
        start = pd.Timestamp(g["start"])
        end = pd.Timestamp(g["end"]) if pd.notna(g["end"]) else pd.Timestamp(hi)
        s_num, e_num = to_num(max(start, lo)), to_num(min(end, hi))
        if e_num <= s_num:
            continue
        if pd.notna(g["end"]):  # a bounded disruption: shade it over the data too
            ax.axvspan(s_num, e_num, ymax=base, color=color, alpha=0.1, lw=0, zorder=0)
        y = base + row * (n - 1 - i) + row * 0.15
        rect = Rectangle((s_num, y), e_num - s_num, row * 0.7, transform=trans, color=color, alpha=0.55, lw=0, zorder=4)
        rect.set_gid(f"measure:{g['label']}")
        ax.add_patch(rect)
        at = (s_num - x0) / (x1 - x0)
        ha, xt = ("right", s_num - (x1 - x0) * 0.004) if at > 0.62 else ("left", s_num + (x1 - x0) * 0.004)
        ax.text(xt, y + row * 0.35, g["label"], transform=trans, ha=ha, va="center", fontsize=7, zorder=5, clip_on=True)
        if pd.notna(g["announce"]):
            a_num = to_num(pd.Timestamp(g["announce"]))
            (mark,) = ax.plot([a_num], [y + row * 0.35], marker="v", ms=5, color=color, transform=trans, zorder=5, ls="none")
            mark.set_gid(f"announce:{g['label']}")
            ax.plot([a_num, s_num], [y + row * 0.35] * 2, ls=":", color=color, lw=1, transform=trans, zorder=4)
            ax.axvline(a_num, ymax=base, ls=":", color=color, lw=0.8, zorder=1)
    ax.text(1.0, 1.0, "▼ announced", transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    return ax


def _top_crossings(folder: Folder, n: int) -> list[str]:
    v = folder.series("vehicles")
    busiest = v.groupby("key")["mean"].mean().sort_values(ascending=False)
    return [k for k in busiest.index if k.endswith(":sb")][:n]


def crossing_waits(
    source: Folder | str | Path | pd.DataFrame,
    ax: Axes | None = None,
    *,
    crossings: list[str] | None = None,
    top: int = 4,
) -> Axes:
    """Median (solid) and 95th-percentile (dashed) wait per crossing over time, minutes: the
    medians across replications of each day's p50 and p95. ``source`` may be a table
    ``metric (wait_p50_min | wait_p95_min), key, date, q50``."""
    table, folder = frame_or_folder(source, "wait_p50_min", "wait_p95_min")
    if folder is not None:
        table = table[table["key"].isin(crossings or _top_crossings(folder, top))]
    keys = crossings or list(dict.fromkeys(table["key"]))
    ax = new_axes(ax, (11.0, 5.0))
    for i, key in enumerate(keys):
        for metric, ls, tag in (("wait_p50_min", "-", "p50"), ("wait_p95_min", "--", "p95")):
            s = table[(table["key"] == key) & (table["metric"] == metric)].sort_values("date")
            ax.plot(s["date"].to_numpy(), s["q50"].to_numpy(), ls=ls, color=f"C{i}", lw=1.3, label=f"{pretty(key)} {tag}")
    ax.set_ylabel("wait at the border (min)")
    ax.set_ylim(bottom=0)
    date_axis(ax, table["date"].to_numpy())
    ax.set_title(f"Waits at the {len(keys)} busiest southbound crossings (median across replications)", loc="left")
    legend_outside(ax)
    return ax


def crossing_load(
    source: Folder | str | Path | pd.DataFrame,
    ax: Axes | None = None,
    *,
    crossings: list[str] | None = None,
    top: int = 4,
) -> Axes:
    """Vehicles arriving per day per crossing (incl. background; what a slowed crossing turns
    away diverts elsewhere): median and 5–95 % band. ``source`` may be a table
    ``key, date, q05, q50, q95``."""
    table, folder = frame_or_folder(source, "vehicles")
    if folder is not None:
        table = table[table["key"].isin(crossings or _top_crossings(folder, top))]
    keys = crossings or list(dict.fromkeys(table["key"]))
    ax = new_axes(ax, (11.0, 5.0))
    _bands(ax, table, keys, {}, folder.reps if folder is not None else None)
    if folder is not None:  # traffic the route choice moved away from, or onto, each crossing
        cr = folder.table("crossings")
        g = cr.groupby(["crossing", "direction"], observed=True)[["diverted_out", "diverted_in"]].mean()
        moved = {(str(c), str(d)): (float(o), float(i)) for (c, d), o, i in zip(g.index, g["diverted_out"], g["diverted_in"], strict=True)}
        for ln in ax.get_lines():
            key = next((k for k in keys if ln.get_label() in (pretty(k), f"{pretty(k)} median")), None)
            if key is None:
                continue
            c, d = key.split(":")
            out, into = moved.get((c, d), (0.0, 0.0))
            if out > 0 or into > 0:
                ln.set_label(f"{ln.get_label()} ({out:,.0f} rerouted away, {into:,.0f} here, over the run)")
    ax.set_ylabel("vehicles per day (trucks or railcars)")
    ax.set_ylim(bottom=0)
    date_axis(ax, table["date"].to_numpy())
    ax.set_title(f"Load at the {len(keys)} busiest southbound crossings", loc="left")
    legend_outside(ax)
    return ax


def plant_base_output(folder: Folder) -> dict[str, float]:
    """Each plant's 2024 base outflow (sum of its output lanes' base flows), units per day."""
    net = load_network(folder.manifest["scenario"]["network"])
    out: dict[str, float] = {}
    for s in net.sites:
        if s.kind == "plant" and s.commodity:
            out[s.id] = sum(ln.base_flow for ln in net.lanes if ln.origin == s.id and ln.commodity == s.commodity)
    return out


def plant_output(
    source: Folder | str | Path | pd.DataFrame,
    ax: Axes | None = None,
    *,
    top: int = 6,
    base: dict[str, float] | None = None,
) -> Axes:
    """Output of the plants hit hardest, % of their 2024 base outflow (median across
    replications): the just-in-time stoppage picture. ``source`` may be a table
    ``key (plant), date, q50`` with ``base`` giving each plant's base outflow."""
    table, folder = frame_or_folder(source, "plant_output")
    if folder is not None:
        base = plant_base_output(folder)
    assert base is not None
    table = table[table["key"].map(lambda k: base.get(k, 0.0) > 0)].copy()
    table["pct"] = 100.0 * table["q50"] / table["key"].map(base)
    worst = table.groupby("key")["pct"].min().sort_values().index[:top]
    ax = new_axes(ax, (11.0, 5.0))
    for i, key in enumerate(worst):
        s = table[table["key"] == key].sort_values("date")
        ax.plot(s["date"].to_numpy(), s["pct"].to_numpy(), color=f"C{i}", lw=1.3, label=key)
    ax.axhline(100.0, color="0.4", lw=0.8, ls="--")
    ax.set_ylabel("output (% of 2024 base outflow)")
    ax.set_ylim(0, 200)  # catch-up days above 200 % would flatten the dips
    date_axis(ax, table["date"].to_numpy())
    ax.set_title(f"Plant output: the {len(worst)} plants hit hardest", loc="left")
    legend_outside(ax)
    return ax


def plant_downtime(
    source: Folder | str | Path | pd.DataFrame, ax: Axes | None = None, *, top: int = 6
) -> Axes:
    """Line-hours lost per day at the plants that lost most, for want of inputs (mean across
    replications), stacked; the rest summed as one layer. ``source`` may be a table
    ``key (plant), date, mean``."""
    table, folder = frame_or_folder(source, "plant_downtime_h")
    wide = table.pivot_table(index="date", columns="key", values="mean", aggfunc="sum").fillna(0.0)
    order = wide.sum().sort_values(ascending=False)
    order = order[order > 0]
    keep = list(order.index[:top])
    rest = list(order.index[top:])
    ax = new_axes(ax, (11.0, 4.0))
    layers = [wide[k].to_numpy() for k in keep]
    labels = list(keep)
    if rest:
        layers.append(wide[rest].sum(axis=1).to_numpy())
        labels.append(f"{len(rest)} other plants")
    if layers:
        polys = ax.stackplot(wide.index.to_numpy(), *layers, labels=labels, alpha=0.85)
        for poly, label in zip(polys, labels, strict=True):
            poly.set_gid(f"downtime:{label}")
        legend_outside(ax)
    ax.set_ylabel("line-hours lost per day")
    ax.set_ylim(bottom=0)
    date_axis(ax, table["date"].to_numpy())
    ax.set_title("Plant downtime for want of inputs, mean across replications", loc="left")
    return ax
