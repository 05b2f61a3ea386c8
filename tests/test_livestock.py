"""Live animals do not spoil: held at a closed crossing they are fed (a cost per head-day) and a few
die (a rate per day), and every head is accounted for; in the default network each packer's cattle
come over one crossing only, so a closure leaves it no other supply."""

from __future__ import annotations

from typing import Any

import pytest

from sim import load_scenario, network_for
from sim.engine.border import Crossed, Waiting
from sim.engine.run import Run
from sim.spec.network import Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import Market, Measure, Scenario

FEED, DEATH = 4.0, 0.01  # US$ per head-day; share dying per day (large, so it shows)


def cattle(live: bool) -> Network:
    c = Commodity(
        "cattle", "Cattle", "farm", "head", 2750.0, units_per_truck=40.0,
        shelf_life_days=None if live else 7.0,
        holding_usd_per_day=FEED if live else 0.0, death_rate_per_day=DEATH if live else 0.0,
    )  # fmt: skip
    sites = [
        Site("FEED", "source", "CA", "farm", commodity="cattle", capacity=400.0),
        Site("PACK", "market", "US", "farm"),
    ]
    x = Crossing("X", "road", capacity_sb=500, obs_sb=100, booths=4, wait_median_min=10,
                 wait_p95_min=30)  # fmt: skip
    lanes = [Lane("F", "FEED", "PACK", "cattle", "truck", "X", transit_days=1.0, base_flow=200.0)]
    return Network.build("cows", [c], sites, lanes, [x], demand=[Demand("PACK", "cattle", 200.0)])


CLOSE = Measure(id="c", kind="closure", start=5, end=15, crossings=("X",), capacity_factor=0.0)
FLAT = Market(elasticity={"farm": 0.0})


def run(live: bool) -> tuple[Run, list[tuple[Crossed, float]], float, float]:
    r = Run(cattle(live), Scenario("c", market=FLAT, measures=(CLOSE,)), seed=0, days=40)
    crossed: list[tuple[Crossed, float]] = []  # with the days held: queued + the day's wait
    at_points = [0.0]  # the dead among stock held at the points (the step starts with them)
    truck_hours = [0.0]  # hours of the trucks that waited (served today, or queued a whole day)

    class Probe:
        def apply(self, run: Run, day: int) -> None:
            at_points[0] += sum(max(q, 0.0) * DEATH for q in run.on_hand) if live else 0.0

    r.hooks.append(Probe())
    cross = r.border.cross

    def spy(*a: Any) -> Any:
        out = cross(*a)
        crossed.extend((c, a[0] - c.dispatched + c.wait_days) for c in out if isinstance(c, Crossed))
        truck_hours[0] += sum(c.truck_hours or 0.0 for c in out if isinstance(c, Crossed))
        truck_hours[0] += sum(c.vehicles * 24.0 for c in out if isinstance(c, Waiting))
        return out

    r.border.cross = spy  # type: ignore[method-assign]
    r.run()
    return r, crossed, at_points[0], truck_hours[0] * r.scenario.costs.truck_hour_usd


def test_cattle_held_at_a_closed_crossing_are_fed_not_written_off() -> None:
    r, crossed, at_points, trucks = run(live=True)
    held = [(c, h) for c, h in crossed if h > 1]
    # lots dispatched on days 5..14 wait for the reopening on day 15: 200 x (10 + 9 + ... + 1)
    head_days = sum(c.qty * h for c, h in held)  # the spy sees the lots before the deaths
    assert head_days == pytest.approx(200 * 55, rel=0.03)
    # the dead over each lot's wait, 1 - (1 - rate)^days, and at the points are all the losses
    dead = sum(c.qty * (1 - (1 - DEATH) ** h) for c, h in crossed)
    assert r.spoiled[0] == pytest.approx(dead + at_points, rel=1e-9)
    assert 0.04 < dead / sum(c.qty for c, _ in held) < 0.07  # 1 %/day over 1..10 days
    # feed for every head-day held is booked as a delay cost, beside the trucks' waiting hours
    delay = sum(usd for _, k, usd in r.ledger.table().tolist() if r.ledger.cats[int(k)][3] == "delay")
    fed = sum(c.qty * h for c, h in crossed) * FEED
    assert fed > 0.05 * trucks  # it shows
    assert delay == pytest.approx(trucks + fed, rel=1e-9)


def test_a_shelf_life_would_write_the_same_cattle_off() -> None:
    r, _, _, _ = run(live=False)
    assert r.spoiled[0] > 200 * 5  # lots held past 7 days are lost whole


def test_each_packer_gets_its_cattle_over_one_crossing_only() -> None:
    net = network_for(load_scenario("baseline"))
    packers = [s.id for s in net.sites if s.kind == "plant" and "cattle" in net.bom(s.id)]
    assert packers
    for p in packers:
        ins = {ln.crossing for ln in net.lanes if ln.dest == p and ln.commodity == "cattle"}
        assert len(ins) == 1, (p, ins)  # no alternative crossing or domestic supplier
