"""A map of the network: sites at their coordinates coloured by sector, lanes by flow, crossings
by their 95th-percentile wait; baseline beside scenario with one colour scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from sim.analysis.folder import Folder
from sim.io.network import load_network
from sim.spec.network import Network
from sim.viz.common import SECTOR_COLORS, as_folder, money, new_axes

EXTENT = (-135.0, -52.0, 24.0, 62.0)  # lon min, lon max, lat min, lat max: Canada and the US
WAIT_CMAP = "YlOrRd"


def map_tables(folder: Folder) -> tuple[Network, pd.DataFrame, pd.DataFrame]:
    """The folder's network, lane flows (``lane, usd_per_day``: mean over replications) and
    crossing slowdowns (``crossing, slowdown``: the worst day's median 95th-percentile wait over the
    published 95th-percentile wait, the worse direction; NaN where nothing is published)."""
    net = load_network(folder.manifest["scenario"]["network"])
    flows = folder.table("flows").groupby("lane", observed=True)["shipped_per_day"].mean()
    value = {ln.id: net.commodity[ln.commodity].value_usd for ln in net.lanes}
    lanes = pd.DataFrame({"lane": flows.index.astype(str), "usd_per_day": [float(v) * value.get(str(k), 0.0) for k, v in flows.items()]})
    q = folder.series("wait_p95_min")
    peak = q.groupby("key")["q50"].max()
    rows = []
    for c in net.crossings:
        pub = c.wait_p95_min
        worst = max((float(peak[k]) for k in (f"{c.id}:sb", f"{c.id}:nb") if k in peak.index), default=np.nan)
        rows.append({"crossing": c.id, "slowdown": worst / pub if pub else np.nan})
    return net, lanes, pd.DataFrame(rows)


def _inside(p: tuple[float, float]) -> bool:
    return EXTENT[0] <= p[0] <= EXTENT[1] and EXTENT[2] <= p[1] <= EXTENT[3]


def network_map(
    source: Folder | str | Path,
    ax: Axes | None = None,
    *,
    slowdown_max: float | None = None,
    flow_max: float | None = None,
    colorbar: bool = True,
) -> Axes:
    """Draw the network of a results folder: lanes (width by mean US$ per day shipped; lanes to
    or from overseas are left out, their total named in the legend), sites (colour by sector),
    crossings (colour by slowdown: the worst day's p95 wait over the published p95)."""
    folder = as_folder(source)
    net, lanes, waits = map_tables(folder)
    ax = new_axes(ax, (10.0, 6.0))
    pos = {s.id: (s.lon, s.lat) for s in net.sites}
    cpos = {c.id: (c.lon, c.lat) for c in net.crossings}
    usd = dict(zip(lanes["lane"], lanes["usd_per_day"], strict=True))
    top = flow_max if flow_max is not None else max(usd.values(), default=1.0) or 1.0
    far = 0.0
    for ln in net.lanes:
        f = usd.get(ln.id, 0.0)
        if f <= 0:
            continue
        if not all(_inside(pos[s]) for s in (ln.origin, ln.dest)):
            far += f
            continue
        pts = [pos[ln.origin], *([cpos[ln.crossing]] if ln.crossing else []), pos[ln.dest]]
        xs, ys = zip(*pts, strict=True)
        sector = net.commodity[ln.commodity].sector
        ax.plot(xs, ys, color=SECTOR_COLORS.get(sector, "0.5"), alpha=0.45, lw=0.3 + 5.0 * np.sqrt(f / top), solid_capstyle="round", zorder=1, gid=f"lane:{ln.id}")
    for sector, color in SECTOR_COLORS.items():
        sites = [s for s in net.sites if s.sector == sector and _inside((s.lon, s.lat))]
        if sites:
            ax.scatter([s.lon for s in sites], [s.lat for s in sites], s=14, color=color, edgecolor="white", lw=0.4, zorder=3, label=f"{sector} sites", gid=f"sites:{sector}")
    w = dict(zip(waits["crossing"], waits["slowdown"], strict=True))
    vals = np.asarray([w.get(c.id, np.nan) for c in net.crossings], dtype=float)
    top_s = slowdown_max if slowdown_max is not None else float(np.nanmax(vals)) if np.isfinite(vals).any() else 2.0
    norm = LogNorm(1.0, max(top_s, 2.0))  # slowdowns span 1x to 100x: a log scale shows both
    sc = ax.scatter([c.lon for c in net.crossings], [c.lat for c in net.crossings], c=vals, cmap=WAIT_CMAP, norm=norm, marker="D", s=30, edgecolor="black", lw=0.5, zorder=4, gid="crossings")
    if colorbar and ax.figure is not None:
        cb = ax.figure.colorbar(sc, ax=ax, shrink=0.7, pad=0.01)
        cb.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}x"))
        cb.ax.yaxis.set_minor_formatter(NullFormatter())
        cb.set_label("crossing slowdown: worst p95 wait / published p95 (x, log scale)")
    ax.set_xlim(EXTENT[0], EXTENT[1])
    ax.set_ylim(EXTENT[2], EXTENT[3])
    ax.set_aspect(1.0 / np.cos(np.radians(45.0)))
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    total = sum(usd.values())
    ax.set_title(f"{folder.scenario}: lanes carry {money(total)} per day", loc="left", fontsize=10)
    handles = [Line2D([], [], color=c, lw=3, label=s if s != "multi" else "multi (containers)") for s, c in SECTOR_COLORS.items()]
    handles.append(Line2D([], [], color="0.5", lw=0.3 + 5.0, label=f"lane width: {money(top)}/day"))
    if far > 0:
        handles.append(Line2D([], [], color="none", label=f"overseas lanes ({money(far)}/day) not drawn"))
    ax.legend(handles=handles, loc="lower left", fontsize=7.5, framealpha=0.8)
    return ax


def network_maps(scenario: Folder | str | Path, baseline: Folder | str | Path, fig: Figure | None = None) -> tuple[Axes, Axes]:
    """Baseline (left) beside scenario (right) on one wait colour scale and one lane width scale."""
    fs, fb = as_folder(scenario), as_folder(baseline)
    _, ls, ws = map_tables(fs)
    _, lb, wb = map_tables(fb)
    slowdown_max = float(np.nanmax(np.concatenate([ws["slowdown"].to_numpy(), wb["slowdown"].to_numpy(), [2.0]])))
    flow_max = float(max(ls["usd_per_day"].max(), lb["usd_per_day"].max(), 1.0))
    fig = fig if fig is not None else Figure(figsize=(16.0, 5.8), layout="constrained")
    a, b = fig.subplots(1, 2)
    network_map(fb, a, slowdown_max=slowdown_max, flow_max=flow_max, colorbar=False)
    network_map(fs, b, slowdown_max=slowdown_max, flow_max=flow_max, colorbar=True)
    return a, b
