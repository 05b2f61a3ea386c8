"""Global sensitivity with SALib: samples on the unit cube, mapped to the declared distributions.

:func:`unit_sample` draws a Sobol' (Saltelli) or Morris design on [0, 1]^k with SALib;
:func:`to_values` maps each column through the parameter's inverse CDF
(:meth:`sim.spec.uncertain.Uncertain.ppf`), so the model sees the declared distributions (Sobol'
indices are those of the declared inputs); :func:`indices` runs SALib's analysis on the model
outputs and returns one tidy table: ``kpi, parameter, S1, S1_conf, ST, ST_conf`` (Sobol') or
``mu_star, mu_star_conf, sigma`` (Morris; S columns NaN). :func:`break_even` finds where a scanned
output crosses a threshold by linear interpolation between scan points; :func:`extrapolated_zero`
where a straight line through them would cross zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.spec.uncertain import Uncertain

if TYPE_CHECKING:
    import pandas as pd

METHODS = ("sobol", "morris")
COLUMNS = ("kpi", "parameter", "S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf", "sigma")
MORRIS_LEVELS = 4


def problem(params: Sequence[Uncertain]) -> dict[str, object]:
    """The SALib problem of ``params`` on the unit cube."""
    return {
        "num_vars": len(params),
        "names": [p.key for p in params],
        "bounds": [[0.0, 1.0]] * len(params),
    }


def unit_sample(params: Sequence[Uncertain], n: int, method: str, seed: int) -> np.ndarray:
    """SALib's design on [0, 1]^k: Sobol' ``n * (k + 2)`` rows (first and total order; ``n`` a
    power of 2), Morris ``n * (k + 1)`` rows (``n`` trajectories, 4 levels)."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    prob = problem(params)
    if method == "sobol":
        return np.asarray(sobol_sample.sample(prob, n, calc_second_order=False, seed=seed))
    return np.asarray(morris_sample.sample(prob, n, num_levels=MORRIS_LEVELS, seed=seed))


def to_values(params: Sequence[Uncertain], unit: np.ndarray) -> list[dict[str, float]]:
    """Each row of a unit-cube design as parameter values (inverse CDF per column)."""
    return [{p.key: p.ppf(float(u)) for p, u in zip(params, row, strict=True)} for row in unit]


def indices(
    params: Sequence[Uncertain],
    unit: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    method: str,
    seed: int,
) -> pd.DataFrame:
    """SALib indices of each output (kpi) with respect to each parameter, one tidy table
    (columns :data:`COLUMNS`; confidence intervals at 95 % by bootstrap)."""
    import pandas as pd
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    prob = problem(params)
    rows: list[dict[str, object]] = []
    for kpi, y in outputs.items():
        y = np.asarray(y, dtype=float)
        if not np.isfinite(y).all() or float(np.std(y)) == 0.0:
            # a constant output (e.g. a share pinned at 0): no variance to apportion
            rows.extend(
                {"kpi": kpi, "parameter": p.key, **dict.fromkeys(COLUMNS[2:], math.nan)}
                for p in params
            )
            continue
        if method == "sobol":
            r = sobol_analyze.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=seed)
            names: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            r = morris_analyze.analyze(
                prob, unit, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed
            )
            names = ("mu_star", "mu_star_conf", "sigma")
        rows.extend(
            {
                "kpi": kpi,
                "parameter": p.key,
                **dict.fromkeys(COLUMNS[2:], math.nan),
                **{n: float(r[n][j]) for n in names},
            }
            for j, p in enumerate(params)
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def extrapolated_zero(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Where the least-squares line through the points ``(xs, ys)`` crosses 0 (it may lie outside
    the scanned range); NaN when the line is flat or there are fewer than two points."""
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    if len(pts) < 2:
        return math.nan
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    slope, icept = np.polyfit(x, y, 1)
    return float(-icept / slope) if slope != 0 else math.nan


def break_even(xs: Sequence[float], ys: Sequence[float], level: float = 0.5) -> float:
    """The first x at which ``ys`` crosses ``level`` (linear interpolation between scan points);
    NaN when it does not cross within the scan."""
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if y0 == level:
            return x0
        if (y0 - level) * (y1 - level) < 0:
            return x0 + (level - y0) * (x1 - x0) / (y1 - y0)
    if pts and pts[-1][1] == level:
        return pts[-1][0]
    return math.nan
