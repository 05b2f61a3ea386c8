"""Who pays: the cumulative extra burden by country and party against the paired baseline.

The input is the tidy table of :func:`sim.analysis.folder.burden_table` (``day, date, country,
party, part, usd, cumulative_usd``; ``part`` is ``duty`` after pass-through, ``frictions`` or
``revenue``), so another burden accounting with the same columns draws the same figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from sim.viz.common import COUNTRY_COLORS, date_axis, legend_outside, money_axis, new_axes

PART_HATCH = {"duty": "", "frictions": "//", "revenue": ".."}
PART_LABEL = {
    "duty": "duty after pass-through",
    "frictions": "frictions (transport, delay, holding, downtime, backlog, lost margin, spoilage)",
    "revenue": "own-government duty revenue",
}
PARTY_ORDER = ("consumer", "downstream", "importer", "exporter", "government")


def _stack_order(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    keys = table[["country", "party", "part"]].drop_duplicates().itertuples(index=False, name=None)
    present = {tuple(map(str, k)) for k in keys}
    order = []
    for country in ("US", "CA", "OS"):
        for part in ("duty", "frictions", "revenue"):
            for party in PARTY_ORDER:
                if (country, party, part) in present:
                    order.append((country, party, part))
    return order


def who_pays(table: pd.DataFrame, ax: Axes | None = None, *, min_share: float = 0.01) -> Axes:
    """Cumulative extra burden (scenario minus paired baseline) over time, stacked by country,
    party and part: positive layers (costs) stack up from zero, negative ones (revenue, savings)
    down from zero; a black line is the net total. Layers whose final size is below ``min_share``
    of the largest are left out (named in the title's note).
    """
    ax = new_axes(ax, (11.0, 6.0))
    keys = _stack_order(table)
    wide = table.pivot_table(index="date", columns=["country", "party", "part"], values="cumulative_usd", aggfunc="sum").fillna(0.0)
    final = {k: float(wide[k].iloc[-1]) if k in wide else 0.0 for k in keys}
    biggest = max((abs(v) for v in final.values()), default=0.0)
    shown = [k for k in keys if biggest > 0 and abs(final[k]) >= min_share * biggest]
    dates = wide.index.to_numpy()
    pos_base = np.zeros(len(wide))
    neg_base = np.zeros(len(wide))
    for country, party, part in shown:
        y = wide[(country, party, part)].to_numpy()
        up = np.clip(y, 0, None)
        down = np.clip(y, None, 0)
        color = COUNTRY_COLORS.get(country, "0.5")
        alpha = {"consumer": 0.9, "downstream": 0.7, "importer": 0.5, "exporter": 0.35, "government": 0.6}.get(party, 0.5)
        label = f"{country} {party}: {part}"
        for lo, val in ((pos_base, up), (neg_base, down)):
            if np.any(val != 0):
                poly = ax.fill_between(dates, lo, lo + val, color=color, alpha=alpha, hatch=PART_HATCH[part], edgecolor="white", lw=0.3, label=label)
                poly.set_gid(f"burden:{country}:{party}:{part}")
                label = "_nolegend_"
        pos_base = pos_base + up
        neg_base = neg_base + down
    net = wide.sum(axis=1).to_numpy() if wide.shape[1] else np.zeros(0)
    ax.plot(dates, net, color="black", lw=1.5, label="net extra burden")
    ax.axhline(0, color="0.3", lw=0.6)
    money_axis(ax, "cumulative extra burden vs paired baseline (US$)")
    date_axis(ax, dates)
    hidden = len(keys) - len(shown)
    note = f" ({hidden} layers under {min_share:.0%} of the largest not drawn)" if hidden else ""
    ax.set_title("Who pays: cumulative extra burden by country and party" + note, loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False, title="hatch: none = duty, // = frictions, .. = revenue", title_fontsize=7.5)
    return ax


def us_share(share: pd.DataFrame, ax: Axes | None = None, *, min_total: float = 0.02) -> Axes:
    """US share of the cumulative extra private burden over time (table ``date, us_share``; with
    a ``total_usd`` column, days whose total is under ``min_total`` of its largest are left
    blank: a share of almost nothing swings wildly)."""
    ax = new_axes(ax, (11.0, 3.5))
    y = 100.0 * share["us_share"].to_numpy(dtype=float)
    if "total_usd" in share:
        tot = share["total_usd"].to_numpy(dtype=float)
        big = np.nanmax(tot) if np.isfinite(tot).any() else 0.0
        y = np.where(tot >= min_total * big, y, np.nan)
    ax.plot(share["date"].to_numpy(), y, color=COUNTRY_COLORS["US"], lw=1.6, label="US share")
    ax.axhline(50.0, color="0.4", ls="--", lw=0.8, label="half")
    ax.set_ylim(0, 100)
    ax.set_ylabel("US share of extra private burden (%)")
    date_axis(ax, share["date"].to_numpy())
    ax.set_title("Does the pressure invert? US share of the extra burden on firms and consumers", loc="left")
    legend_outside(ax)
    return ax
