"""Figures and reports of results folders: matplotlib, headless, never the engine or a batch.

Every figure function takes a results folder (or the tidy table it reads) and an optional
``Axes``, draws on it and returns it: :mod:`sim.viz.timeseries` (backlog bands with the policy
timeline, crossings, plants), :mod:`sim.viz.burden` (who pays), :mod:`sim.viz.maps` (network map),
:mod:`sim.viz.stats` (KPI distributions, paired deltas, sweep heatmap, tornado and Sobol bars);
:mod:`sim.viz.output` writes them as files or one self-contained HTML page.
"""

from sim.analysis.folder import us_share as burden_shares
from sim.viz.burden import us_share, who_pays
from sim.viz.maps import network_map, network_maps
from sim.viz.output import plot, report
from sim.viz.stats import compare_deltas, kpi_distribution, sobol_bars, sweep_heatmap, tornado
from sim.viz.timeseries import (
    backlog,
    crossing_load,
    crossing_waits,
    plant_downtime,
    plant_output,
    policy_timeline,
)

__all__ = [
    "backlog",
    "burden_shares",
    "compare_deltas",
    "crossing_load",
    "crossing_waits",
    "kpi_distribution",
    "network_map",
    "network_maps",
    "plant_downtime",
    "plant_output",
    "plot",
    "policy_timeline",
    "report",
    "sobol_bars",
    "sweep_heatmap",
    "tornado",
    "us_share",
    "who_pays",
]
