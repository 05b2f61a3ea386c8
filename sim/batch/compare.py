"""Batches of batches: :func:`compare` two scenarios and :func:`sweep` a grid of overrides.

Both run every batch with the same seed and replications, so the scenarios or grid points see the
same random draws (common random numbers): :func:`compare` reports paired deltas ALT - BASE per KPI
with their variance reduction, :func:`sweep` one KPI summary per grid point. They share one engine
across their batches (see :mod:`sim.batch.runner`); :func:`parse_set` reads the command line's
``--set KEY=V1,V2`` grid axes.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.analysis.statistics import paired_deltas
from sim.batch.runner import check_args, engine_for, run_on
from sim.batch.simulate import as_scenario
from sim.batch.whopays import pair_uncertain
from sim.errors import BatchError
from sim.io import results_folder as store
from sim.io.scenario import load_scenario, parse_override
from sim.io.scenario_toml import toml_text
from sim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd


def compare(
    base: Scenario | str | os.PathLike[str],
    alt: Scenario | str | os.PathLike[str],
    *,
    reps: int,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
    keep: str = "all",
) -> pd.DataFrame:
    """Paired deltas ALT - BASE per KPI under common random numbers (same seed and reps); both
    scenarios draw the ``[uncertain]`` parameters either declares, with the same values per
    replication.

    Returns :func:`sim.analysis.statistics.paired_deltas`: mean delta with its paired 95 % CI, the unpaired
    (Welch) CI, and ``variance_reduction``. With ``out``: ``out/base/``, ``out/alt/`` (batch results
    folders, each keeping ``keep`` of its replications, see :func:`sim.batch.run_batch`) and
    ``out/compare.parquet``, with a ``manifest.json`` (kind ``compare``) guarded like a batch
    folder's (see :func:`sweep`).
    """
    check_args(reps, seed, days, workers, keep)
    # both draw the uncertain parameters either declares: replication i runs both with one value each
    sb, sa = pair_uncertain(as_scenario(base), as_scenario(alt))
    folder = Path(out) if out is not None else None
    if folder is not None:
        ident = {
            "base": sb.name, "alt": sa.name, "base_sha256": store.spec_hash(sb),
            "alt_sha256": store.spec_hash(sa), **_common_identity([sb, sa], seed, days),
        }  # fmt: skip
        _open_group(folder, "compare", ident, resume, overwrite)
    with engine_for([sb, sa], workers, scheduler) as engine:
        results = [
            run_on(
                engine,
                sc,
                reps=reps,
                seed=seed,
                days=days,
                out=folder / sub if folder is not None else None,
                resume=resume,
                progress=progress,
                quiet=quiet,
                extra={"compare": sub},
                keep=keep,
            )
            for sub, sc in (("base", sb), ("alt", sa))
        ]
    table = paired_deltas(results[0].kpis, results[1].kpis)
    table.insert(0, "alt", sa.name)
    table.insert(0, "base", sb.name)
    if folder is not None:
        store.write_parquet(table, folder / "compare.parquet")
        _close_group(folder, reps, ["base", "alt"], "compare.parquet")
    return table


def _common_identity(
    scenarios: Sequence[Scenario], seed: int, days: int | None
) -> dict[str, object]:
    return {
        "network_sha256": [store.scenario_snapshot(sc)["network_sha256"] for sc in scenarios],
        "seed": seed,
        "days": days,
        "borderflow": store.versions()["borderflow"],
    }


def _open_group(
    folder: Path, kind: str, ident: dict[str, object], resume: bool, overwrite: bool
) -> None:
    """Check (or empty, with ``overwrite``) a compare/sweep folder and write its manifest."""
    if overwrite:
        store.clear_for_overwrite(folder)
    old = store.check_group_folder(folder, kind, dict(ident), resume=resume)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {**(old or {}), "kind": kind, "identity": ident, "complete": False}
    store.write_manifest(folder, manifest)


def _close_group(folder: Path, reps: int, subfolders: list[str], table: str) -> None:
    manifest = store.read_manifest(folder) or {}
    manifest.update({"n_reps": reps, "folders": subfolders, "table": table, "complete": True})
    store.write_manifest(folder, manifest)


parse_set = parse_override  # ``"KEY=V1,V2"`` -> (key, values), the command line's ``--set``


def _point_dir(i: int, point: Mapping[str, object]) -> str:
    label = ",".join(f"{k}={v}" for k, v in point.items())
    return f"{i:03d}_" + re.sub(r"[^A-Za-z0-9._=,+-]", "_", label)[:120]


def sweep(
    scenario: str | os.PathLike[str],
    grid: Mapping[str, Sequence[object]],
    *,
    reps: int,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
    keep: str = "all",
) -> pd.DataFrame:
    """Run a batch at every point of the full grid of ``grid`` (dotted override keys -> values).

    Every point uses the same seed and replications (common random numbers across points). Returns
    a tidy table: one row per (point, KPI) with one column per grid key, then ``kpi, n, mean,
    half_width, ci_low, ci_high``. With ``out``: ``out/sweep.parquet`` and one batch results folder per
    point (``out/000_key=value,.../``), each keeping ``keep`` of its replications.
    """
    import pandas as pd

    check_args(reps, seed, days, workers, keep)
    if not grid:
        raise BatchError("sweep needs at least one --set KEY=V1,V2,...")
    keys = list(grid)
    for k in keys:
        if len(grid[k]) == 0:
            raise BatchError(f"--set {k}: no values")
    points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    scenarios = [load_scenario(scenario, overrides=dict(p)) for p in points]  # all errors before any run
    folder = Path(out) if out is not None else None
    if folder is not None:
        root = as_scenario(scenario)
        ident = {
            "scenario": root.name, "scenario_sha256": store.spec_hash(root),
            "grid": {k: [toml_text(v) for v in vs] for k, vs in grid.items()},
            **_common_identity([root], seed, days),
        }  # fmt: skip
        _open_group(folder, "sweep", ident, resume, overwrite)
    frames = []
    with engine_for(scenarios, workers, scheduler) as engine:
        for i, (point, sc) in enumerate(zip(points, scenarios, strict=True)):
            res = run_on(
                engine,
                sc,
                reps=reps,
                seed=seed,
                days=days,
                out=folder / _point_dir(i, point) if folder is not None else None,
                resume=resume,
                progress=progress,
                quiet=quiet,
                extra={"overrides": point, "sweep_point": i},
                keep=keep,
            )
            summ = res.summary()[["kpi", "n", "mean", "half_width", "ci_low", "ci_high"]]
            for k in reversed(keys):
                summ.insert(0, k, [point[k]] * len(summ))
            summ.insert(0, "point", i)
            frames.append(summ)
    table = pd.concat(frames, ignore_index=True)
    if folder is not None:
        store.write_parquet(table, folder / "sweep.parquet")
        dirs = [_point_dir(i, p) for i, p in enumerate(points)]
        _close_group(folder, reps, dirs, "sweep.parquet")
    return table
