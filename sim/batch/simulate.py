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


def _disruption_end(sc: Scenario) -> int | None:
    """Day the last disruption ends; None while one never ends (lane openings are permanent
    changes, not disruptions, and do not count)."""
    ends = [m.end for m in sc.measures if m.kind != "lane_open"]
    if not ends or any(e is None for e in ends):
        return None
    return max(e for e in ends if e is not None)


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
    meta = {
        "scenario": sc.name,
        "rep": rep,
        "seed": seed,
        "days": horizon,
        "point_site": [p.site for p in run.points],
        "point_commodity": [p.commodity for p in run.points],
        "point_value": run.p_value,
        "point_sector": [net.commodity[p.commodity].sector for p in run.points],
        "start": sc.start.isoformat(),
        "lane_id": [ln.id for ln in net.lanes],
        "lane_origin": [ln.origin for ln in net.lanes],
        "plants": [(s.id, s.commodity) for s in net.sites if s.kind == "plant" and s.commodity],
        "lane_commodity": [ln.commodity for ln in net.lanes],
        "lane_direction": [net.direction(ln) for ln in net.lanes],
        "lane_crossing": [ln.crossing or "" for ln in net.lanes],
        "lane_base": [ln.base_flow for ln in net.lanes],
        "lane_value": [net.commodity[ln.commodity].value_usd for ln in net.lanes],
        "lane_countries": [
            (net.site[ln.origin].country, net.site[ln.dest].country) for ln in net.lanes
        ],
        "lost_margin_share": sc.costs.lost_margin_share,
        "disruption_end": _disruption_end(sc),
        # lane openings are permanent changes, not disruptions (as for TTR); zero-length measures
        # never apply
        "first_disruption": min(
            (
                m.start
                for m in sc.measures
                if m.kind != "lane_open" and (m.end is None or m.end > m.start)
            ),
            default=None,
        ),
        "crossing_keys": run.border.keys,
        "crossing_kind": [net.crossing[c].kind for c, _ in run.border.keys],
        "crossing_bkg": run.border.bkg,
        "crossing_diverted": run.border.diverted,
        "crossing_obs": [net.crossing[c].observed(d) for c, d in run.border.keys],
        "crossing_pub": [
            (net.crossing[c].wait_median_min, net.crossing[c].wait_p95_min)
            for c, _ in run.border.keys
        ],
        "cost_cats": run.ledger.cats,
        "demanded_value": run.demanded_value,
        "filled_value": run.filled_value,
        "lost_value": run.lost_value,
        "downtime_hours": run.downtime_hours,
        "mass_balance_error": run.mass_balance_error,
        "balance": run.balance,
        "events": run.events,
        "wall_s": run.wall_s,
    }
    return Result(kpis=_kpis(meta, raw), meta=meta, raw=raw)
