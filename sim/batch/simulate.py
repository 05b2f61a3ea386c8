"""Running one replication: :func:`simulate` loads what it needs, runs the engine, returns a
:class:`~sim.analysis.result.Result`."""

from __future__ import annotations

from sim.analysis.metrics import kpis as _kpis
from sim.analysis.result import Result
from sim.engine.run import Run
from sim.io.network import cached_network
from sim.io.paths import network_path
from sim.io.scenario import load_scenario
from sim.spec.network import Network
from sim.spec.scenario import Scenario


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
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    net = network if network is not None else network_for(sc)
    horizon = int(days if days is not None else sc.horizon_days)
    run = Run(net, sc, seed=seed, days=horizon, rep=rep)
    raw = run.run()
    meta = run.record()
    return Result(kpis=_kpis(meta, raw), meta=meta, raw=raw, plant_lanes=plant_lanes(net))


def plant_lanes(net: Network) -> dict[str, list[int]]:
    """Each plant's output lanes: indices of the lanes leaving it with its own commodity."""
    return {
        s.id: [i for i, ln in enumerate(net.lanes) if ln.origin == s.id and ln.commodity == s.commodity]
        for s in net.sites
        if s.kind == "plant" and s.commodity
    }
