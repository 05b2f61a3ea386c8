"""Running one replication: :func:`simulate` loads what it needs, runs the engine, returns a
:class:`~sim.analysis.result.Result`."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Mapping

from sim.analysis.metrics import check_finite
from sim.analysis.metrics import kpis as _kpis
from sim.analysis.result import Result
from sim.engine.records import RunArrays, RunRecord
from sim.engine.run import Run
from sim.io.network import cached_network
from sim.io.paths import network_path
from sim.io.scenario import load_scenario
from sim.spec.network import Network
from sim.spec.params import draw_values, param_column, with_values
from sim.spec.scenario import Scenario


def as_scenario(scenario: Scenario | str | os.PathLike[str]) -> Scenario:
    """``scenario`` itself, or the scenario loaded from a file path or built-in name."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def network_for(scenario: Scenario) -> Network:
    """The scenario's network, loaded once per process (reloaded when the folder changes)."""
    return cached_network(network_path(scenario))


def simulate(
    scenario: Scenario | str,
    *,
    seed: int = 0,
    days: int | None = None,
    rep: int = 0,
    network: Network | None = None,
    params: Mapping[str, float] | None = None,
) -> Result:
    """Run one replication of ``scenario`` and return its :class:`Result`.

    Parameters
    ----------
    scenario : Scenario or str
        A scenario, a scenario file path, or the name of a built-in scenario.
    seed : int
        Seed of this replication's random streams (demand, transit, inspection, background).
    days : int, optional
        Horizon in days; defaults to the scenario's ``horizon_days``.
    rep : int
        Replication number: it selects the random streams (``SeedSequence(seed, spawn_key=(rep,))``,
        the same as ``SeedSequence(seed).spawn(n)[rep]``) and is recorded in the KPIs.
    network : Network, optional
        Use this network instead of loading the scenario's.
    params : mapping of dotted key -> value, optional
        Set these parameters (:func:`sim.spec.params.with_values`) instead of drawing the
        scenario's ``[uncertain]`` ones. By default each uncertain parameter is drawn from its own
        stream of (seed, rep) (:func:`sim.spec.params.draw_values`). Either way the values are
        recorded in the KPIs as ``param:<key>`` columns.
    """
    sc = as_scenario(scenario)
    values = dict(params) if params is not None else draw_values(sc.uncertain, seed, rep)
    if values:
        sc = with_values(sc, values)
    net = network if network is not None else network_for(sc)
    horizon = int(days if days is not None else sc.horizon_days)
    with _collector_paused():
        meta, raw = _run(net, sc, seed, horizon, rep)
    kpis = _kpis(meta, raw)
    check_finite(kpis)
    for k, v in values.items():
        kpis[param_column(k)] = float(v)
    return Result(kpis=kpis, meta=meta, raw=raw)


def _run(net: Network, sc: Scenario, seed: int, days: int, rep: int) -> tuple[RunRecord, RunArrays]:
    """Build and run one replication; the run itself is dropped on return."""
    run = Run(net, sc, seed=seed, days=days, rep=rep)
    raw = run.run()
    return run.record(), raw


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a replication is built and run.

    The run allocates hundreds of thousands of objects (lots, ledger rows, daily records) that
    outlive the collector's youngest generation only to die with the run: collected as they build
    up, they cost a full pass over all of them (~70 ms a replication of the default network). A
    finished run holds no reference cycle (:meth:`sim.engine.run.Run.run` closes its daily tick),
    so reference counting frees it as the block ends, before the collector runs again.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# bytes one replication holds per day and network entity (site, lane, crossing): its daily arrays and
# the long daily table built at the end (measured: ~210 B on the default network), plus a base
BYTES_PER_ENTITY_DAY = 256
BASE_BYTES = 64 * 2**20


def memory_estimate(net: Network, days: int) -> int:
    """Bytes one replication of ``days`` on ``net`` needs at its peak (an estimate, rounded up)."""
    entities = len(net.sites) + len(net.lanes) + len(net.crossings)
    return BASE_BYTES + days * entities * BYTES_PER_ENTITY_DAY


def available_memory() -> int | None:
    """Bytes of memory available to new work (MemAvailable on Linux), or None if unknown.

    ``BORDERFLOW_MEMORY_BYTES`` in the environment overrides it (a quota, or a test).
    """
    env = os.environ.get("BORDERFLOW_MEMORY_BYTES")
    if env is not None and env.strip().isdigit():
        return int(env)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
