"""Monte Carlo batches: replications run serially, on a local process pool or on Dask.

Replication ``rep`` of a batch seeded ``seed`` is ``simulate(scenario, seed=seed, rep=rep)``; its random
streams come from ``SeedSequence(seed, spawn_key=(rep,))``, so KPIs do not depend on where or in which
order replications run (bit-identical serially, on a pool or on a cluster), and two scenarios run
with the same seed see the same draws (common random numbers, used by :func:`compare`).

Execution
    ``workers=1``: in this process. ``workers=K`` (default: all cores): a local
    ``ProcessPoolExecutor``; it forks (fast, workers inherit the loaded network) when this process
    runs no other thread, else uses forkserver. ``scheduler="local"``: a Dask ``LocalCluster`` of
    single-threaded worker processes; ``scheduler="tcp://host:port"``: an existing Dask cluster (its
    workers need Borderflow installed and the network folders at the same paths).
    One task per replication; at most ``2 x workers`` tasks are in flight, and each result is
    processed as it completes, so the parent holds at most that many replications' tables.

Results folder (``out``)
    Each finished replication is written by the parent as Parquet parts (``parts/daily-rep00042.parquet``
    ... and, last, ``parts/kpis-rep00042.parquet``, which marks it complete), each atomically. At the
    end: ``kpis.parquet`` (all replications), ``summary.parquet``/``summary.csv``, the combined
    ``daily/ledger/crossings/flows/plants.parquet`` when reps <= 20 (larger batches: read the parts, e.g.
    ``pd.read_parquet(sorted(Path(out, "parts").glob("daily-rep*.parquet")))``), and ``manifest.json``
    (written at the start with ``complete: false``). ``keep="quantiles"`` writes only the parts the
    per-day quantiles and the figures read (series, crossings, flows). ``resume=True`` skips replications whose kpis
    part exists; folders of another scenario, seed, horizon, network or borderflow version are
    refused, and one written by another git revision gets a warning on stderr. A batch resumed past
    20 replications drops the combined tables of its smaller self.

Modules
    This module is the entry point and re-exports the rest: :mod:`sim.batch.engines` (the per-replication
    task and the serial, pool and Dask engines, :class:`BatchError`), :mod:`sim.batch.runner` (the batch
    loop, resume and the results folder, :class:`BatchResult`) and :mod:`sim.compare`
    (:func:`compare`, :func:`sweep`, :func:`parse_set`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sim.analysis.result import Result
from sim.batch.compare import compare, parse_set, sweep
from sim.batch.engines import RepOutput, pool_context, run_rep
from sim.batch.runner import LIMITS, BatchResult, check_args, engine_for, run_on
from sim.batch.simulate import as_scenario
from sim.errors import BatchError
from sim.io import results_folder as store
from sim.spec.scenario import Scenario

__all__ = [
    "LIMITS",
    "BatchError",
    "BatchResult",
    "RepOutput",
    "compare",
    "parse_set",
    "pool_context",
    "run_batch",
    "run_rep",
    "sweep",
]


def run_batch(
    scenario: Scenario | str | os.PathLike[str],
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
    on_result: Callable[[Result], None] | None = None,
    keep: str = "all",
) -> BatchResult:
    """Run replications ``0 .. reps-1`` of ``scenario`` seeded ``seed``; return their KPIs.

    Parameters
    ----------
    scenario : Scenario, or a scenario file path or built-in name.
    reps, seed, days : replications, batch seed (>= 0), horizon (default: the scenario's).
    workers : processes; None = all cores, 1 = in this process (no pool).
    scheduler : "local" for a Dask LocalCluster of ``workers`` processes, or a Dask scheduler
        address ("tcp://host:8786"); mutually exclusive with ``workers`` > 1 on a remote cluster.
    out : results folder (see the module docstring); None = keep KPIs in memory only.
    resume : continue the batch in ``out`` (same scenario, seed, horizon, network, borderflow
        version), running only the replications without a kpis part.
    overwrite : empty ``out`` first (only a folder Borderflow wrote: it has a manifest).
    progress : show a tqdm bar on stderr (default: when stderr is a terminal); quiet: never.
    on_result : called with each replication's full :class:`Result` when running in this
        process (``workers=1``); ignored by pools and clusters.
    keep : what ``out`` keeps of each replication besides its KPIs: ``"all"`` its tables, or
        ``"quantiles"`` only what the per-day quantiles and the figures read (series, crossings,
        flows; no daily, ledger or plants tables), which is much less to build and write.

    Raises :class:`BatchError` or :class:`sim.errors.ResultsFolderError` (both ``SimError``) for bad
    arguments or a results folder of another batch.
    """
    check_args(reps, seed, days, workers, keep)
    sc = as_scenario(scenario)
    if overwrite and out is not None:
        if resume:
            raise BatchError("--resume and --overwrite exclude each other")
        store.clear_for_overwrite(Path(out))
    with engine_for([sc], workers, scheduler) as engine:
        return run_on(
            engine,
            sc,
            reps=reps,
            seed=seed,
            days=days,
            out=out,
            resume=resume,
            progress=progress,
            quiet=quiet,
            on_result=on_result,
            keep=keep,
        )
