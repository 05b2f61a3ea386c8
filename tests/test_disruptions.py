"""Timed disruptions on tiny networks: each kind does what it says, and overlaps compose."""

from __future__ import annotations

import numpy as np
import pytest

from sim import simulate
from sim.engine.queueing import mmc_sojourn_mean
from sim.engine.run import Run
from sim.spec.network import Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import Market, Measure, Scenario

W = Commodity("w", "Widget", "auto", "unit", 100.0, units_per_truck=1.0)
NO_PRICE = Market(elasticity={"auto": 0.0, "farm": 0.0, "energy": 0.0, "multi": 0.0})


def crossing_net(
    obs: float = 200.0,
    booths: int = 8,
    flow: float = 50.0,
    cv: float = 0.3,
    transit_cv: float = 0.2,
) -> Network:
    """A Canadian source selling to a US market across one road crossing of 1,000 trucks/day."""
    sites = [
        Site("CA", "source", "CA", "auto", commodity="w", capacity=1000.0),
        Site("US", "market", "US", "auto"),
    ]
    x = Crossing(
        "X",
        "road",
        capacity_sb=1000,
        obs_sb=obs,
        booths=booths,
        wait_median_min=10,
        wait_p95_min=30,
    )
    lanes = [
        Lane(
            "L",
            "CA",
            "US",
            "w",
            "truck",
            "X",
            transit_days=1.0,
            transit_cv=transit_cv,
            base_flow=flow,
        )
    ]
    return Network.build("x", [W], sites, lanes, [x], demand=[Demand("US", "w", flow, cv)])


def test_overlapping_slowdowns_compose_by_multiplying_capacity() -> None:
    net = crossing_net()
    a = Measure(id="a", kind="slowdown", start=10, end=40, crossings=("X",), capacity_factor=0.5)
    b = Measure(id="b", kind="slowdown", start=20, end=30, crossings=("X",), capacity_factor=0.5)
    base = simulate(Scenario("base"), seed=2, days=50, network=net)
    both = simulate(Scenario("both", measures=(a, b)), seed=2, days=50, network=net)
    veh = base.raw.cross_vehicles[:, 0]
    s = 8 * 1440 / 1000  # minutes per truck at one booth
    for d, booths in ((15, 4), (25, 2), (35, 4), (45, 8)):
        lam = veh[d] / 1440
        want = mmc_sojourn_mean(lam, 1 / s, booths) / mmc_sojourn_mean(lam, 1 / s, 8)
        assert both.raw.cross_p50[d, 0] / base.raw.cross_p50[d, 0] == pytest.approx(
            want, rel=2e-3
        )


def test_closure_stops_the_crossing_and_the_queue_clears_after() -> None:
    net = crossing_net()
    shut = Measure(id="c", kind="closure", start=10, end=16, crossings=("X",))
    res = simulate(Scenario("c", measures=(shut,)), seed=1, days=40, network=net)
    served = res.raw.cross_served[:, 0]
    queue = res.raw.cross_queue[:, 0]
    lost = res.raw.cross_bkg_lost[:, 0]
    assert np.all(served[10:16] == 0.0)
    assert queue[15] > 5 * 40  # about six days of modelled lots wait
    assert queue[-1] == 0.0  # after reopening the booths clear it
    # background waits at most bkg_patience_days (1): what arrived on day t and is still queued
    # after day t + 1 leaves the system, so from day 12 on a day's worth of background leaves daily
    assert lost[:12].sum() == 0.0 and np.all(lost[12:17] > 100)
    # delay cost: every modelled truck in the queue costs 24 truck-hours a day; without background
    # the queue is the modelled trucks alone
    alone = simulate(
        Scenario("c", measures=(shut,)), seed=1, days=40, network=crossing_net(obs=50.0)
    )
    q = alone.raw.cross_queue[:, 0]
    assert alone.kpis["cost_delay_usd"] > q[10:16].sum() * 24 * 90.89 * 0.99


def test_pipeline_outage_curtails_and_backlog_recovers() -> None:
    crude = Commodity("crude", "Crude", "energy", "kbbl", 50_000.0)
    sites = [
        Site("OIL", "source", "CA", "energy", commodity="crude", capacity=300.0),
        Site("REF", "market", "US", "energy"),
    ]
    pipe = Crossing("P", "pipeline", capacity_sb=250.0)
    lanes = [Lane("L", "OIL", "REF", "crude", "pipeline", "P", transit_days=2.0, base_flow=200.0)]
    net = Network.build(
        "p", [crude], sites, lanes, [pipe], demand=[Demand("REF", "crude", 200.0, 0.0)]
    )
    out = Measure(id="o", kind="outage", start=10, end=17, crossings=("P",), capacity_factor=0.0)
    res = simulate(Scenario("o", measures=(out,)), seed=0, days=60, network=net)
    shipped = res.raw.shipped[:, 0]
    assert np.all(shipped[10:17] == 0.0)
    assert np.all(shipped[17:] <= 250.0 + 1e-9)  # catch-up limited by the pipeline's capacity
    backlog = res.raw.backlog[:, res.meta.point_site.index("REF")]
    assert backlog.max() > 0 and backlog[-1] == pytest.approx(0.0, abs=1e-9)


def port_network() -> Network:
    """Grain by rail to a port, then by ship to Asia; no lane has a capacity of its own."""
    sites = [
        Site("SRC", "source", "CA", "farm", commodity="w", capacity=500.0),
        Site("PORT", "port", "CA", "multi"),
        Site("ASIA", "market", "OS", "multi"),
    ]
    lanes = [
        Lane("IN", "SRC", "PORT", "w", "rail", transit_days=1.0, base_flow=100.0),
        Lane("OUT", "PORT", "ASIA", "w", "ship", transit_days=10.0, base_flow=100.0),
    ]
    w = Commodity("w", "Grain", "farm", "t", 300.0, units_per_railcar=90.0)
    return Network.build("port", [w], sites, lanes, demand=[Demand("ASIA", "w", 100.0, 0.0)])


def test_port_strike_stops_then_recovers_linearly() -> None:
    net = port_network()
    strike = Measure(
        id="s", kind="port_strike", start=10, end=20, sites=("PORT",), recovery_days=10.0
    )
    run = Run(net, Scenario("s", measures=(strike,)), seed=0, days=40)
    factors = []

    class Probe:
        def apply(self, r: Run, t: int) -> None:
            factors.append(r.fx.lane_factor[1])

    run.hooks.append(Probe())
    run.run()
    assert factors[10:20] == [0.0] * 10
    # recovery starts on the end day (the first the strike no longer applies): 1/10, 2/10, ... 10/10
    assert factors[20:30] == pytest.approx([(k + 1) / 10 for k in range(10)])
    assert factors[30:] == [1.0] * 10


def test_plant_shutdown_books_downtime() -> None:
    from tests.test_model import two_input_plant

    net = two_input_plant(b_capacity=100.0)
    shut = Measure(id="p", kind="plant_shutdown", start=5, end=8, sites=("P",), capacity_factor=0.0)
    res = simulate(Scenario("p", measures=(shut,)), seed=0, days=30, network=net)
    base = simulate(Scenario("b"), seed=0, days=30, network=net)
    assert res.meta.balance["car"]["produced"] < base.meta.balance["car"]["produced"]
    assert res.raw.shipped[5:8, 2].sum() < base.raw.shipped[5:8, 2].sum()


def two_suppliers() -> Network:
    sites = [
        Site("CA", "source", "CA", "auto", commodity="w", capacity=1000.0),
        Site("US_SRC", "source", "US", "auto", commodity="w", capacity=1000.0),
        Site("US", "market", "US", "auto"),
    ]
    s = Crossing("S", "sea")
    lanes = [
        Lane("IMP", "CA", "US", "w", "ship", "S", transit_days=1.0, base_flow=50.0),
        Lane("DOM", "US_SRC", "US", "w", "truck", transit_days=1.0, base_flow=50.0),
    ]
    return Network.build("two", [W], sites, lanes, [s], demand=[Demand("US", "w", 100.0, 0.0)])


def test_boycott_shifts_orders_away_from_the_origin() -> None:
    boy = Measure(
        id="b", kind="demand_shock", start=10, sites=("US",), origin="CA", demand_factor=0.5
    )
    res = simulate(
        Scenario("b", market=NO_PRICE, measures=(boy,)), seed=0, days=60, network=two_suppliers()
    )
    imp, dom = res.raw.shipped[-1]
    # half of the Canadian half is not bought: demand 75 = 25 Canadian + 50 domestic
    assert imp == pytest.approx(25.0)
    assert dom == pytest.approx(50.0)


def test_lane_open_ramps_capacity_and_overseas_buyers_take_what_arrives() -> None:
    sites = [
        Site("SRC", "source", "CA", "farm", commodity="w", capacity=150.0),
        Site("US", "market", "US", "farm"),
        Site("ASIA", "market", "OS", "farm"),
    ]
    w = Commodity("w", "Canola", "farm", "t", 1000.0, units_per_truck=22.0)
    s = Crossing("S", "sea")
    lanes = [
        Lane("US_L", "SRC", "US", "w", "ship", "S", transit_days=1.0, base_flow=100.0),
        Lane("ASIA_L", "SRC", "ASIA", "w", "ship", transit_days=5.0, base_flow=0.0, capacity=500.0),
    ]
    dem = [Demand("US", "w", 100.0, 0.0), Demand("ASIA", "w", 0.0, 0.0)]
    net = Network.build("div", [w], sites, lanes, [s], demand=dem)
    open_ = Measure(
        id="o", kind="lane_open", start=10, lanes=("ASIA_L",), capacity=200.0, ramp_days=10.0
    )
    res = simulate(Scenario("o", market=NO_PRICE, measures=(open_,)), seed=0, days=80, network=net)
    asia = res.raw.shipped[:, 1]
    assert np.all(asia[:10] == 0.0)
    assert np.all(asia <= 200.0 + 1e-9)
    # the source (150/day) cannot serve 100 + 200: the two buyers share it, nobody backorders overseas
    assert asia[-20:].mean() > 0
    assert res.raw.backlog[:, res.meta.point_site.index("ASIA")].max() == 0.0
    assert res.kpis["overseas_exports_usd"] == pytest.approx(asia.sum() * 1000.0)


def test_time_to_recover_counts_days_after_the_end_until_back_in_band() -> None:
    from sim.analysis.metrics import ttr_days

    net = crossing_net()
    shut = Measure(id="c", kind="closure", start=10, end=16, crossings=("X",))
    base = simulate(Scenario("b"), seed=3, days=60, network=net)
    alt = simulate(Scenario("c", measures=(shut,)), seed=3, days=60, network=net)
    ttr = ttr_days(alt, base)
    # by hand: backlog (US$) and shipments (US$) per day against the paired baseline
    val = 100.0
    b = lambda r: r.raw.backlog.sum(axis=1) * val  # noqa: E731
    s = lambda r: r.raw.shipped.sum(axis=1) * val  # noqa: E731
    band = 0.05 * s(base).mean()
    ok = (abs(b(alt) - b(base)) <= band) & (abs(s(alt) - s(base)) <= 0.05 * s(base))
    assert not ok[16]  # the queue is still clearing the day the crossing reopens
    d = 16 + int(ttr)
    assert ok[d:].all() and not ok[d - 1]
    # no end, no TTR; an identical run recovers at once
    assert np.isnan(
        ttr_days(
            simulate(
                Scenario(
                    "c", measures=(Measure(id="o", kind="closure", start=10, crossings=("X",)),)
                ),
                seed=3,
                days=60,
                network=net,
            ),
            base,
        )
    )
    assert np.isnan(ttr_days(base, base))  # the baseline has no disruption to recover from


def test_a_measure_that_changes_nothing_changes_no_flow() -> None:
    # two suppliers with different transport costs: their 2024 shares already reflect those costs,
    # so a measure that adds no cost must not move orders (common random numbers stay common)
    import dataclasses

    net = two_suppliers()
    lanes = [dataclasses.replace(net.lanes[0], cost_per_unit_usd=30.0), net.lanes[1]]
    net = Network.build(
        "two",
        list(net.commodities),
        list(net.sites),
        lanes,
        list(net.crossings),
        demand=list(net.demand),
    )
    noop = Measure(id="n", kind="tariff", start=100, end=101, imposer="US", origin="CA", rate=0.0)
    a = simulate(Scenario("a"), seed=4, days=90, network=net)
    b = simulate(Scenario("b", measures=(noop,)), seed=4, days=90, network=net)
    assert np.array_equal(a.raw.shipped, b.raw.shipped)


def test_queued_lots_wait_only_for_the_vehicles_served_before_them() -> None:
    from sim.engine.queueing import CrossingQueue

    net = crossing_net(obs=100.0, booths=10, flow=100.0, cv=0.0, transit_cv=0.0)
    shut = Measure(id="c", kind="closure", start=10, end=12, crossings=("X",))
    res = simulate(Scenario("c", measures=(shut,)), seed=0, days=14, network=net)
    led = res.ledger
    paid = led[(led.kind == "delay") & (led.day == 12)]["usd"].sum()
    # day 12: the lots of days 10 and 11 (100 trucks each, no background) then day 12's own 100
    q = CrossingQueue.calibrate(1000.0, 10, 100.0, 10.0, 30.0)
    base = q.wait_mean_min(q.scale(100.0)) / 1440
    hours = 24 * (100 * base + 100 * (base + 0.1) + 100 * (base + 0.2))
    assert paid == pytest.approx(hours * 90.89, rel=1e-9)


def test_port_strike_on_lanes_without_a_capacity_ships_nothing_and_stays_finite() -> None:
    """A stopped lane with no capacity of its own (inf x 0) carries nothing: before this was
    checked, the port's stock turned to NaN on the first strike day and the mass-balance check,
    comparing NaN, let it through."""
    net = port_network()
    strike = Measure(id="s", kind="port_strike", start=10, end=20, sites=("PORT",))
    res = simulate(Scenario("s", measures=(strike,)), seed=0, days=40, network=net)
    assert np.isfinite(res.raw.stock).all() and np.isfinite(res.raw.shipped).all()
    assert (res.raw.shipped[10:20] == 0.0).all()
    assert (res.raw.shipped[25:] > 0).all()
