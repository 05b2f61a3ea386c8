"""Who pays over a Monte Carlo batch: a scenario and its paired baseline, burden per replication.

:func:`who_pays` runs ``reps`` replications of the scenario and of its baseline with the same seed
(common random numbers) on the serial, pool or Dask engine; each worker reduces its run to a
:func:`~sim.analysis.burden.cost_account`, and :func:`~sim.analysis.burden.burden_batch` pairs
them. Uncertain parameters (``[uncertain]``) are drawn per replication from streams that depend
only on (seed, rep, key), and :func:`pair_uncertain` gives both scenarios the union of their
declarations, so each pair runs with the same parameter values. ``fixed=True`` drops the
declarations: every replication runs with the files' values.
"""

from __future__ import annotations

import dataclasses
import os

from sim.analysis.burden import BurdenSummary, burden_batch, cost_account
from sim.batch.runner import BatchResult, check_args, engine_for, run_on
from sim.batch.simulate import as_scenario
from sim.io.regions import load_reporting_regions, regions_file
from sim.spec.params import key_problem, param_column
from sim.spec.scenario import Scenario


def without_measures(sc: Scenario) -> Scenario:
    """The default baseline of ``sc``: the same scenario with no measures (and no uncertain
    parameter that names one)."""
    keep = tuple(u for u in sc.uncertain if not u.key.startswith("measures."))
    return dataclasses.replace(sc, name=f"{sc.name} without measures", measures=(), uncertain=keep)


def pair_uncertain(base: Scenario, alt: Scenario) -> tuple[Scenario, Scenario]:
    """Both scenarios with the uncertain parameters either declares and both can set (the alt's
    declaration wins for a key both declare), so a replication draws the same values in both."""
    decl = {u.key: u for u in base.uncertain}
    decl.update({u.key: u for u in alt.uncertain})

    def with_all(sc: Scenario) -> Scenario:
        own = {u.key for u in sc.uncertain}
        add = [u for k, u in decl.items() if k not in own and key_problem(k, sc) is None]
        mine = [decl[u.key] if key_problem(u.key, sc) is None else u for u in sc.uncertain]
        return dataclasses.replace(sc, uncertain=tuple(mine + add))

    return with_all(base), with_all(alt)


def paired_scenarios(
    scenario: Scenario | str | os.PathLike[str],
    baseline: Scenario | str | os.PathLike[str] | None,
    *,
    fixed: bool = False,
) -> tuple[Scenario, Scenario]:
    """(baseline, scenario), the baseline defaulting to the scenario without its measures, both
    drawing the same uncertain parameters (none with ``fixed``)."""
    alt = as_scenario(scenario)
    base = without_measures(alt) if baseline is None else as_scenario(baseline)
    if fixed:
        alt = dataclasses.replace(alt, uncertain=())
        base = dataclasses.replace(base, uncertain=())
    return pair_uncertain(base, alt)


def paired_accounts(
    base: Scenario,
    alt: Scenario,
    *,
    reps: int,
    seed: int,
    days: int | None,
    workers: int | None,
    scheduler: str | None,
    progress: bool | None,
    quiet: bool,
    params: tuple[dict[int, dict[str, float]], dict[int, dict[str, float]]] | None = None,
) -> tuple[BatchResult, BatchResult]:
    """Replications ``0 .. reps-1`` of ``base`` and ``alt`` on one engine, each reduced by its
    worker to a :func:`~sim.analysis.burden.cost_account` (in ``BatchResult.extras``); ``params``:
    per replication, the parameter values each runs with instead of drawing them."""
    tables = params if params is not None else (None, None)
    with engine_for([base, alt], workers, scheduler) as engine:
        b, a = (
            run_on(
                engine,
                sc,
                reps=reps,
                seed=seed,
                days=days,
                out=None,
                resume=False,
                progress=progress,
                quiet=quiet,
                reduce=cost_account,
                params=tab,
            )
            for sc, tab in zip((base, alt), tables, strict=True)
        )
    return b, a


def who_pays(
    scenario: Scenario | str | os.PathLike[str],
    baseline: Scenario | str | os.PathLike[str] | None = None,
    *,
    reps: int,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    fixed: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
) -> BurdenSummary:
    """Extra burden of ``scenario`` over ``baseline`` (default: the scenario without its measures),
    replication by replication, summarised (see :class:`sim.analysis.burden.BurdenSummary`).

    ``fixed``: ignore ``[uncertain]`` (every replication uses the files' values). The drawn values
    are in ``BurdenSummary.reps`` as ``param:<key>`` columns.
    """
    check_args(reps, seed, days, workers)
    base, alt = paired_scenarios(scenario, baseline, fixed=fixed)
    regions = load_reporting_regions(regions_file(alt))
    b, a = paired_accounts(
        base, alt, reps=reps, seed=seed, days=days, workers=workers, scheduler=scheduler,
        progress=progress, quiet=quiet,
    )  # fmt: skip
    cols = [param_column(u.key) for u in alt.uncertain]
    params = a.kpis[[c for c in cols if c in a.kpis]] if cols else None
    return burden_batch(
        [a.extras[r] for r in range(reps)],
        [b.extras[r] for r in range(reps)],
        regions,
        params=params,
    )
