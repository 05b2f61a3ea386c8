"""Shared pieces of the figures: a headless Axes, money and date axes, sector colours."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.analysis.folder import Folder

if TYPE_CHECKING:
    import pandas as pd

SECTOR_COLORS = {"auto": "#1f77b4", "farm": "#2ca02c", "energy": "#d62728", "multi": "#7f7f7f"}
COUNTRY_COLORS = {"US": "#3b6fb6", "CA": "#c8102e", "OS": "#8c8c8c"}
KIND_COLORS = {
    "tariff": "#9467bd",
    "export_levy": "#8c564b",
    "slowdown": "#ff7f0e",
    "closure": "#d62728",
    "outage": "#e377c2",
    "port_strike": "#bcbd22",
    "plant_shutdown": "#7f7f7f",
    "demand_shock": "#17becf",
    "lane_open": "#2ca02c",
}


def new_axes(ax: Axes | None, size: tuple[float, float] = (10.0, 5.0)) -> Axes:
    """``ax`` itself, or the Axes of a new headless figure (no pyplot, no GUI backend)."""
    if ax is not None:
        return ax
    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def as_folder(source: Folder | str | Path) -> Folder:
    """A :class:`Folder`, opening a path if given one."""
    return source if isinstance(source, Folder) else Folder.open(source)


def money(x: float, _pos: Any = None) -> str:
    """US$ with a k/M/B suffix and up to four significant digits: ``US$1.525B``."""
    for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"US${x / div:,.4g}{unit}"
    return f"US${x:,.0f}"


def money_axis(ax: Axes, label: str, axis: str = "y") -> None:
    """Label an axis in US$ and format its ticks with :func:`money`."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(money))
    target.set_label_text(label)


def date_axis(ax: Axes, dates: Any = None) -> None:
    """Concise calendar-date ticks on the x axis, limited to ``dates``' range when given, and a
    light grid."""
    if dates is not None and len(dates):
        ax.set_xlim(min(dates), max(dates))
    loc = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))  # type: ignore[no-untyped-call]
    ax.grid(alpha=0.3)


def legend_outside(ax: Axes) -> None:
    """The legend to the right of the axes, small and frameless."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def to_num(when: Any) -> float:
    """Matplotlib's date number of a date or Timestamp."""
    return float(mdates.date2num(when))  # type: ignore[no-untyped-call]


def from_num(x: float) -> pd.Timestamp:
    """The (naive) Timestamp of a matplotlib date number."""
    import pandas as pd

    return pd.Timestamp(mdates.num2date(x)).tz_localize(None)  # type: ignore[no-untyped-call]


def pretty(key: str) -> str:
    """A series key as a reader sees it: ``X_AMB:sb`` -> ``X_AMB southbound``."""
    return key.replace(":sb", " southbound").replace(":nb", " northbound")


def frame_or_folder(source: Any, *groups: str) -> tuple[pd.DataFrame, Folder | None]:
    """(source, None) for a DataFrame; else the folder's quantile rows of the series ``groups``
    (:meth:`Folder.series`, each row's group also in a ``metric`` column) and the folder."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source, None
    folder = as_folder(source)
    rows = [folder.series(g).assign(metric=g) for g in groups]
    return pd.concat(rows, ignore_index=True), folder
