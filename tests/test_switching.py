"""Supplier switching on tiny networks with hand-computed answers: bounded by the gaining
supplier's spare capacity, reversed when the tariff ends, damped by the duty the importer absorbs,
and Canadian exports moving onto an existing overseas lane within its spare capacity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim import simulate
from sim.engine.run import Run
from sim.spec.measures import Tariff
from sim.spec.network import Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import Market, Measure, Scenario

W = Commodity("w", "Widget", "auto", "unit", 100.0, units_per_truck=1.0)
BETA, QUAL, RAMP = 8.0, 20.0, 10.0
MK = Market(
    elasticity={"auto": 0.0},
    switch_logit=BETA,
    qualification_days=QUAL,
    switch_ramp_days=RAMP,
    duty_absorption=0.0,
)
F = math.exp(-BETA * 0.25)  # switching factor of a lane whose landed cost is 25 % higher


def net(
    us_capacity: float = 1000.0,
    asia: tuple[float, float] | None = None,
    dom_capacity: float | None = None,
) -> Network:
    """A Canadian and a US source, 50/day each, into a US market of 100/day; optionally a lane
    from the Canadian source to an overseas market with (base flow, capacity)."""
    sites = [
        Site("CA", "source", "CA", "auto", commodity="w", capacity=1000.0),
        Site("US_SRC", "source", "US", "auto", commodity="w", capacity=us_capacity),
        Site("US", "market", "US", "auto"),
    ]
    lanes = [
        Lane("IMP", "CA", "US", "w", "ship", "S", transit_days=1.0, base_flow=50.0),
        Lane("DOM", "US_SRC", "US", "w", "truck", transit_days=1.0, base_flow=50.0,
             capacity=dom_capacity),  # fmt: skip
    ]
    demand = [Demand("US", "w", 100.0, 0.0)]
    if asia is not None:
        sites.append(Site("ASIA", "market", "OS", "auto"))
        lanes.append(
            Lane(
                "OS1",
                "CA",
                "ASIA",
                "w",
                "ship",
                transit_days=5.0,
                base_flow=asia[0],
                capacity=asia[1],
            )  # fmt: skip
        )
        demand.append(Demand("ASIA", "w", asia[0], 0.0))
    return Network.build("two", [W], sites, lanes, [Crossing("S", "sea")], demand=demand)


def weights_by_day(
    network: Network, market: Market, measures: tuple[Measure, ...], days: int
) -> tuple[Run, list[list[float]]]:
    run = Run(network, Scenario("t", market=market, measures=measures), seed=0, days=days)
    out: list[list[float]] = []

    class Probe:
        def apply(self, r: Run, day: int) -> None:
            out.append(list(r.fx.weights[r.pidx[("US", "w")]]))

    run.hooks.append(Probe())
    run.run()
    return run, out


def tariff(end: int | None = None, **kw: float) -> Measure:
    return Measure(
        id="t", kind="tariff", start=10, end=end, imposer="US", origin="CA", rate=0.25, **kw
    )  # type: ignore[arg-type]


def test_receiving_plant_takes_no_more_than_its_spare_capacity() -> None:
    # uncapped the US source would take 1/(1+F) = 88 % of 100/day; it has 60 - 50 = 10/day spare
    _, w = weights_by_day(net(us_capacity=60.0), MK, (tariff(),), 80)
    assert w[45] == pytest.approx([0.4, 0.6])
    res = simulate(
        Scenario("t", market=MK, measures=(tariff(),)), seed=0, days=120, network=net(60.0)
    )
    imp, dom = res.raw.shipped[-1]
    assert dom == pytest.approx(60.0)  # at capacity
    assert imp == pytest.approx(40.0)  # the rest stays with the Canadian supplier


def test_gaining_lane_takes_no_more_than_its_own_spare_capacity() -> None:
    _, w = weights_by_day(net(dom_capacity=55.0), MK, (tariff(),), 80)
    assert w[45] == pytest.approx([0.45, 0.55])  # 5/day of room on the domestic lane


def test_plant_at_capacity_takes_nothing_more() -> None:
    _, w = weights_by_day(net(us_capacity=50.0), MK, (tariff(),), 80)
    assert w[45] == pytest.approx([0.5, 0.5])


def test_switch_waits_the_lag_ramps_and_reverses_the_same_way_when_the_tariff_ends() -> None:
    _, w = weights_by_day(net(), MK, (tariff(end=60),), 120)
    switched = [F / (1 + F), 1 / (1 + F)]
    assert w[29] == pytest.approx([0.5, 0.5])  # qualification lag: nothing moves for 20 days
    half = 1 + (F - 1) * 0.5  # half-way up the ramp the switching factor is half-way to F
    assert w[35][0] == pytest.approx(half / (1 + half))
    assert w[45] == pytest.approx(switched)  # after the 10-day ramp
    assert w[80] == pytest.approx(switched)  # the tariff ended on day 60: the lag again
    assert w[85][0] == pytest.approx(half / (1 + half))  # half-way down the ramp back
    assert w[95] == pytest.approx([0.5, 0.5])  # back where it started


def test_duty_absorbed_in_margin_does_not_move_orders() -> None:
    mk = Market(elasticity={"auto": 0.0}, switch_logit=BETA, qualification_days=QUAL,
                switch_ramp_days=RAMP, duty_absorption={"auto": 0.6})  # fmt: skip
    _, w = weights_by_day(net(), mk, (tariff(),), 60)
    f = math.exp(-BETA * 0.25 * 0.4)  # only the 40 % the importer passes on drives switching
    assert w[45] == pytest.approx([f / (1 + f), 1 / (1 + f)])
    assert w[45][0] > F / (1 + F)  # less switching than with no absorption


def test_sector_parameters_apply_to_the_points_sector() -> None:
    mk = Market(elasticity={"auto": 0.0}, switch_logit={"auto": BETA, "farm": 1.0},
                qualification_days={"auto": QUAL, "farm": 0.0},
                switch_ramp_days={"auto": RAMP, "farm": 1.0}, duty_absorption=0.0)  # fmt: skip
    _, w = weights_by_day(net(), mk, (tariff(),), 60)
    assert w[29] == pytest.approx([0.5, 0.5])  # the auto lag, not the farm one
    assert w[45] == pytest.approx([F / (1 + F), 1 / (1 + F)])


@pytest.mark.parametrize(
    ("cap", "extra"),
    [
        (30.0, 10.0),  # spare 10 < shed: the lane's spare capacity is the bound
        (70.0, 50.0 - 100.0 * F / (1 + F)),  # spare 50 > shed: all that the US stopped buying
    ],
)
def test_exports_move_overseas_within_the_lanes_spare_capacity(cap: float, extra: float) -> None:
    run, w = weights_by_day(net(asia=(20.0, cap)), MK, (tariff(),), 160)
    assert run.fx.demand_extra[run.lay.market_of[run.pidx[("ASIA", "w")]]] == pytest.approx(extra)
    # nothing moves before the switching lag, like the shares
    res = simulate(Scenario("t", market=MK, measures=(tariff(),)), seed=0, days=160,
                   network=net(asia=(20.0, cap)))  # fmt: skip
    shipped = res.raw.shipped[:, 2]
    assert shipped[25] == pytest.approx(20.0)
    assert shipped[150] == pytest.approx(20.0 + extra)


def test_no_diversification_without_a_tariff() -> None:
    res = simulate(Scenario("t", market=MK), seed=0, days=60, network=net(asia=(20.0, 70.0)))
    assert res.raw.shipped[:, 2] == pytest.approx([20.0] * 60)


def test_remission_share_reduces_the_duty() -> None:
    m = tariff(remission_share=0.6)
    assert Tariff.effective_rate(m) == pytest.approx(0.25 * 0.4)
    res = simulate(Scenario("t", market=MK, measures=(m,)), seed=0, days=15, network=net())
    # Canadian flow is 50/day at US$100 until switching starts: 5 days of duty at 10 %
    assert res.kpis["duty_revenue_us_usd"] == pytest.approx(5 * 50 * 100 * 0.1)


def test_diversification_onto_an_overseas_lane_without_capacity_stays_finite(tmp_path: Path) -> None:
    """An overseas lane with a blank capacity has unlimited room: the share it takes must be a
    number (a closure on the tiny network once made in-transit infinite from day 0)."""
    tiny = Path(__file__).resolve().parents[1] / "networks" / "tiny"
    p = tmp_path / "closure.toml"
    p.write_text(
        f'name = "closure"\nnetwork = "{tiny.as_posix()}"\nhorizon_days = 60\n'
        '[[measures]]\nid = "shut"\nkind = "closure"\ncrossings = ["ambassador"]\n'
        'direction = "sb"\nstart = 2025-01-06\nend = 2025-01-26\n',
        encoding="utf-8",
    )
    res = simulate(str(p), seed=0)
    assert math.isfinite(res.kpis["cost_total_usd"])
    assert np.isfinite(res.raw.in_transit).all()
