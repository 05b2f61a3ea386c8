"""Global sensitivity of who pays to the scenario's uncertain parameters, and their break-even values.

:func:`sensitivity` samples the ``[uncertain]`` parameters of a scenario with SALib (Sobol' or
Morris, :mod:`sim.analysis.sensitivity`), runs every sample point as one replication of the
scenario and of its baseline with those parameter values (replication ``j`` of the batch seed:
each point has its own simulation noise, which is small against the parameters' effect; the same
``j`` for both scenarios, so each pair shares its random numbers), and computes the burden of each
pair (:func:`sim.analysis.burden.burden`). It reports first- and total-order indices of the
headline KPIs and, for each parameter, the break-even value at which the US share of the net
burden crosses 0.5: a one-dimensional scan over the parameter's support (``scan`` evenly spaced
points, the other parameters at the values the files give them), linearly interpolated between
the scan points. All points (design and scans) run as one batch on the serial, pool or Dask
engine.

The results folder holds ``indices.parquet`` (``kpi, parameter, S1, S1_conf, ST, ST_conf,
mu_star, mu_star_conf, sigma``), ``breakeven.parquet`` (``parameter, default, low, high,
share_at_low, share_at_high, gap_at_low_usd, gap_at_high_usd, break_even,
break_even_extrapolated``: the US-minus-Canada net burden at both ends of the scan, the value
where it crosses 0 inside the range — the US share of the net burden crossing 0.5 — and where the
straight line through the scan would cross it, possibly outside the range or the valid domain), ``samples.parquet`` (every point's parameter values
and headline KPIs, ``design`` = "sobol"/"morris"/"scan") and ``manifest.json``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis import sensitivity as sa
from sim.analysis.burden import HEADLINE, burden
from sim.batch.runner import check_args
from sim.batch.whopays import paired_accounts, paired_scenarios
from sim.errors import BatchError
from sim.io import results_folder as store
from sim.spec.params import current_value
from sim.spec.scenario import Scenario
from sim.spec.uncertain import DIST_KEYS, Uncertain

if TYPE_CHECKING:
    import pandas as pd

#: the KPIs whose indices are reported
KPIS = (*HEADLINE, "net_us_usd", "net_ca_usd", "net_gap_usd")


def _points(
    params: tuple[Uncertain, ...],
    unit: np.ndarray,
    method: str,
    scan: int,
) -> tuple[list[dict[str, float]], list[str], list[tuple[str, float]]]:
    """The design's points, then each parameter's scan points (the others at the files' values)."""
    points = sa.to_values(params, unit)
    design = [method] * len(points)
    scan_of: list[tuple[str, float]] = []
    for p in params:
        lo, hi = p.support
        grid = sorted(set(p.values)) if p.dist == "choice" else np.linspace(lo, hi, scan).tolist()
        for x in grid:
            points.append({p.key: float(x)})  # the others keep the files' values
            design.append("scan")
            scan_of.append((p.key, float(x)))
    return points, design, scan_of


def _break_even_table(
    params: tuple[Uncertain, ...], scan_df: pd.DataFrame, defaults: dict[str, float]
) -> pd.DataFrame:
    """Per parameter: its range, the US share of the net burden at both ends, the break-even."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for p in params:
        sub = scan_df[scan_df["_key"] == p.key].sort_values(p.key)
        xs, ys = sub[p.key].tolist(), sub["us_share_net"].tolist()
        gap = sub["net_gap_usd"].tolist()  # crosses 0 where the share crosses 0.5, but smoothly
        lo, hi = p.support
        rows.append(
            {
                "parameter": p.key,
                "default": defaults[p.key],
                "low": lo,
                "high": hi,
                "share_at_low": ys[0] if ys else math.nan,
                "share_at_high": ys[-1] if ys else math.nan,
                "gap_at_low_usd": gap[0] if gap else math.nan,
                "gap_at_high_usd": gap[-1] if gap else math.nan,
                "break_even": sa.break_even(xs, gap, 0.0),
                "break_even_extrapolated": sa.extrapolated_zero(xs, gap),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Sensitivity:
    """Indices (tidy, :data:`sim.analysis.sensitivity.COLUMNS`), break-even table and all points."""

    indices: pd.DataFrame
    break_even: pd.DataFrame
    samples: pd.DataFrame
    wall_s: float
    out: Path | None


def sensitivity(
    scenario: Scenario | str | os.PathLike[str],
    baseline: Scenario | str | os.PathLike[str] | None = None,
    *,
    samples: int,
    method: str = "sobol",
    scan: int = 5,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    quiet: bool = False,
) -> Sensitivity:
    """Sobol' (``samples`` = N, a power of 2: N x (k + 2) points) or Morris (N trajectories:
    N x (k + 1) points) indices of the burden KPIs, plus ``k x scan`` break-even scan points.

    Raises BatchError when the scenario declares no uncertain parameter or an argument is bad.
    """
    import pandas as pd

    check_args(1, seed, days, workers)
    if method not in sa.METHODS:
        raise BatchError(f"method must be one of {', '.join(sa.METHODS)} (got {method!r})")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise BatchError(f"samples must be an integer >= 2 (got {samples!r})")
    if method == "sobol" and samples & (samples - 1):
        raise BatchError(f"samples must be a power of 2 for Sobol' sampling (got {samples})")
    if isinstance(scan, bool) or not isinstance(scan, int) or scan < 2:
        raise BatchError(f"scan must be an integer >= 2 (got {scan!r})")
    base, alt = paired_scenarios(scenario, baseline)
    params = alt.uncertain
    if not params:
        raise BatchError(f"scenario {alt.name} declares no [uncertain] parameters")
    unit = sa.unit_sample(params, samples, method, seed)
    defaults = {p.key: current_value(alt, p.key) for p in params}
    points, design, scan_of = _points(params, unit, method, scan)
    table = dict(enumerate(points))
    fixed_alt = dataclasses.replace(alt, uncertain=())
    fixed_base = dataclasses.replace(base, uncertain=())
    base_keys = {p.key for p in base.uncertain}
    base_table = {j: {k: v for k, v in pt.items() if k in base_keys} for j, pt in table.items()}
    t0 = time.perf_counter()
    b, a = paired_accounts(
        fixed_base, fixed_alt, reps=len(points), seed=seed, days=days, workers=workers,
        scheduler=scheduler, progress=progress, quiet=quiet, params=(base_table, table),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    heads = [burden(a.extras[j], b.extras[j]).headline() for j in range(len(points))]
    rows = pd.DataFrame(points)
    rows.insert(0, "design", design)
    rows.insert(0, "point", range(len(points)))
    samples_df = pd.concat([rows, pd.DataFrame(heads)], axis=1)
    n_design = len(unit)
    outputs = {k: samples_df[k].to_numpy()[:n_design] for k in KPIS}
    idx = sa.indices(params, unit, outputs, method, seed)
    scan_df = samples_df.iloc[n_design:].assign(_key=[k for k, _ in scan_of])
    be = _break_even_table(params, scan_df, defaults)
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        store.write_parquet(idx, folder / "indices.parquet")
        store.write_parquet(be, folder / "breakeven.parquet")
        store.write_parquet(samples_df, folder / "samples.parquet")
        store.write_manifest(
            folder,
            {
                "kind": "sensitivity",
                "scenario": store.scenario_snapshot(alt),
                "baseline": base.name,
                "method": method,
                "samples": samples,
                "points": {"design": n_design, "scan": len(points) - n_design},
                "scan_points_per_parameter": scan,
                "seed": seed,
                "days": a.days,
                "parameters": [
                    {
                        k: v
                        for k, v in dataclasses.asdict(p).items()
                        if k in ("key", "dist") or k in DIST_KEYS[p.dist]
                    }
                    for p in params
                ],
                "kpis": list(KPIS),
                "break_even": "one-dimensional scan, others at the files' values, linear interpolation",
                "tables": ["indices.parquet", "breakeven.parquet", "samples.parquet"],
                "execution": {"mode": a.mode, "workers": a.workers},
                "versions": store.versions(),
                "git_revision": store.git_revision(),
                "wall_s": round(wall, 3),
            },
        )
    return Sensitivity(indices=idx, break_even=be, samples=samples_df, wall_s=wall, out=folder)
