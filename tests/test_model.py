"""The engine on tiny networks whose answers can be computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import load_scenario, simulate
from sim.engine.run import Run, events_processed
from sim.errors import MassBalanceError
from sim.spec.network import BomLine, Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import Scenario

SC = Scenario("test")
WIDGET = Commodity("widget", "Widget", "auto", "unit", 100.0, units_per_truck=1.0)


def one_lane(
    transit: float = 2.0, demand: float = 80.0, cap: float | None = 100.0, cv: float = 0.0
) -> Network:
    return Network.build(
        "one_lane",
        [WIDGET],
        [
            Site("S", "source", "CA", "auto", commodity="widget", capacity=cap),
            Site("M", "market", "CA", "auto"),
        ],
        [Lane("L", "S", "M", "widget", "truck", transit_days=transit, base_flow=demand)],
        demand=[Demand("M", "widget", demand, cv, "backorder")],
    )


def test_one_lane_delivers_demand_exactly() -> None:
    days = 50
    res = simulate(SC, seed=3, days=days, network=one_lane())
    shipped = res.raw.shipped[:, 0]
    assert np.allclose(shipped, 80.0)  # constant demand -> order = ship = 80 every day from day 0
    bal = res.meta.balance["widget"]
    assert bal["delivered"] == pytest.approx(80.0 * days)
    # lots dispatched on days 48 and 49 arrive on days 50 and 51: still in transit at the horizon
    assert bal["in_transit"] == pytest.approx(160.0)
    assert res.kpis["fill_rate"] == 1.0
    assert res.kpis["backlog_peak"] == 0.0
    # transport cost is 0 here; holding: stock value x 25 %/yr, every day
    assert res.kpis["mass_balance_error"] < 1e-12


def test_one_lane_capacity_short_builds_backlog_at_the_rate_of_the_shortfall() -> None:
    days = 40
    res = simulate(SC, seed=0, days=days, network=one_lane(cap=60.0))
    backlog = res.raw.backlog[:, res.meta.point_site.index("M")]
    # market starts with 80 x (2 cover + 1) + the lot due on day 0; after the stock is gone it falls
    # 20 behind per day: the late backlog grows by exactly 20/day
    assert np.allclose(np.diff(backlog[-10:]), 20.0)
    assert res.kpis["backlog_peak"] == pytest.approx(backlog.max() * 100.0)


def two_input_plant(b_capacity: float) -> Network:
    coms = [
        Commodity("a", "A", "auto", "unit", 10.0, units_per_truck=1.0),
        Commodity("b", "B", "auto", "unit", 10.0, units_per_truck=1.0),
        Commodity("car", "Car", "auto", "vehicle", 1000.0, units_per_truck=1.0),
    ]
    sites = [
        Site("SA", "source", "US", "auto", commodity="a", capacity=100.0),
        Site("SB", "source", "US", "auto", commodity="b", capacity=b_capacity),
        Site(
            "P", "plant", "US", "auto", commodity="car", capacity=10.0, downtime_usd_per_hour=1000.0
        ),
        Site("M", "market", "US", "auto"),
    ]
    lanes = [
        Lane("LA", "SA", "P", "a", "truck", transit_days=1.0, base_flow=20.0),
        Lane("LB", "SB", "P", "b", "truck", transit_days=1.0, base_flow=10.0),
        Lane("LC", "P", "M", "car", "truck", transit_days=1.0, base_flow=10.0),
    ]
    boms = [BomLine("P", "a", 2.0), BomLine("P", "b", 1.0)]
    return Network.build(
        "plant", coms, sites, lanes, boms=boms, demand=[Demand("M", "car", 10.0, 0.0)]
    )


def test_two_input_plant_consumes_by_its_bill_of_materials() -> None:
    days = 30
    res = simulate(SC, seed=0, days=days, network=two_input_plant(b_capacity=100.0))
    bal = res.meta.balance
    assert bal["car"]["produced"] == pytest.approx(10.0 * days)
    assert bal["a"]["consumed"] == pytest.approx(2 * bal["car"]["produced"])
    assert bal["b"]["consumed"] == pytest.approx(bal["car"]["produced"])
    assert res.kpis["downtime_hours"] == 0.0


def test_plant_stops_when_an_input_is_missing_and_pays_downtime_by_the_hour() -> None:
    days = 20
    res = simulate(SC, seed=0, days=days, network=two_input_plant(b_capacity=0.0))
    # b in the system at start: at the plant 10 x (2 cover + 1) + the lot due on day 0 = 40, and the
    # idle source's safety stock 10 x 2 = 20 -> 60 cars, 6 days at 10/day
    bal = res.meta.balance
    assert bal["car"]["produced"] == pytest.approx(60.0)
    # from day 6 the line is down all day: 24 h x 14 days at US$1,000/h
    assert res.kpis["downtime_hours"] == pytest.approx(24.0 * (days - 6))
    assert res.kpis["cost_downtime_usd"] == pytest.approx(1000.0 * 24.0 * (days - 6))


def test_sS_store_orders_S_minus_s_every_cycle() -> None:
    net = Network.build(
        "sS",
        [WIDGET],
        [
            Site("S", "source", "CA", "auto", commodity="widget", capacity=1000.0),
            Site("W", "storage", "CA", "auto", cover_days=2.0, policy="sS", s_days=2.0, S_days=6.0),
            Site("M", "market", "CA", "auto"),
        ],
        [
            Lane("IN", "S", "W", "widget", "truck", transit_days=1.0, base_flow=10.0),
            Lane("OUT", "W", "M", "widget", "truck", transit_days=1.0, base_flow=10.0),
        ],
        demand=[Demand("M", "widget", 10.0, 0.0)],
    )
    res = simulate(SC, seed=0, days=60, network=net)
    inbound = res.raw.shipped[:, 0]
    orders = inbound[inbound > 0]
    # demand 10/day; the store's inventory position falls 10/day from S to s, then orders S - s = 40
    assert np.allclose(orders[1:], 40.0)
    gaps = np.diff(np.flatnonzero(inbound > 0))
    assert np.all(gaps[1:] == 4)
    assert np.allclose(res.raw.shipped[:, 1], 10.0)  # the market never waits


def saturated_pipeline(demands: tuple[float, float] = (60.0, 90.0), cap: float = 100.0) -> Network:
    crude = Commodity("crude", "Crude", "energy", "kbbl", 50_000.0)
    sites = [
        Site("OIL", "source", "CA", "energy", commodity="crude", capacity=1000.0),
        Site("R1", "market", "US", "energy"),
        Site("R2", "market", "US", "energy"),
    ]
    pipe = Crossing("P", "pipeline", capacity_sb=cap)
    lanes = [
        Lane("L1", "OIL", "R1", "crude", "pipeline", "P", transit_days=3.0, base_flow=demands[0]),
        Lane("L2", "OIL", "R2", "crude", "pipeline", "P", transit_days=3.0, base_flow=demands[1]),
    ]
    dem = [Demand("R1", "crude", demands[0], 0.0), Demand("R2", "crude", demands[1], 0.0)]
    return Network.build("pipe", [crude], sites, lanes, [pipe], demand=dem)


def test_saturated_pipeline_curtails_pro_rata() -> None:
    res = simulate(SC, seed=0, days=60, network=saturated_pipeline())
    shipped = res.raw.shipped
    assert np.all(shipped.sum(axis=1) <= 100.0 + 1e-9)
    # once the markets' stock is gone, requests stand 60:90, so the 100 kbbl/d split 40:60
    assert shipped[-1, 0] == pytest.approx(40.0)
    assert shipped[-1, 1] == pytest.approx(60.0)
    backlog = res.raw.backlog.sum(axis=1)
    assert np.allclose(np.diff(backlog[-10:]), 50.0)  # 150 demanded, 100 delivered per day


def road_network(capacity: float, modelled: float = 100.0, obs: float = 100.0) -> Network:
    sites = [
        Site("S", "source", "CA", "auto", commodity="widget", capacity=1000.0),
        Site("M", "market", "US", "auto", cover_days=2.0),
    ]
    x = Crossing(
        "X",
        "road",
        capacity_sb=capacity,
        obs_sb=obs,
        booths=2,
        wait_median_min=10.0,
        wait_p95_min=30.0,
    )
    lanes = [Lane("L", "S", "M", "widget", "truck", "X", transit_days=1.0, base_flow=modelled)]
    return Network.build(
        "road", [WIDGET], sites, lanes, [x], demand=[Demand("M", "widget", modelled, 0.0)]
    )


def test_overloaded_road_crossing_serves_capacity_and_queues_the_rest() -> None:
    days = 30
    res = simulate(SC, seed=0, days=days, network=road_network(capacity=80.0))
    served = res.raw.cross_served[:, 0]
    queue = res.raw.cross_queue[:, 0]
    # the booths serve their capacity; the queue grows by what the booths could not serve
    assert np.all(served <= 80.0 + 1e-9)
    busy = queue > 0
    assert busy.sum() > 10
    assert np.allclose(served[busy], 80.0)  # a crossing with a queue serves its full capacity
    assert np.all(np.diff(queue) >= -1e-9)
    assert queue[-1] > 0
    bal = res.meta.balance["widget"]
    assert bal["delivered"] <= 80.0 * days + 400.0  # capacity x days + the market's opening stock


def test_same_seed_same_kpis_other_seed_differs() -> None:
    import pandas as pd

    net = one_lane(cv=0.3)
    a = pd.Series(simulate(SC, seed=11, days=100, network=net).kpis).drop("wall_s")
    b = pd.Series(simulate(SC, seed=11, days=100, network=net).kpis).drop("wall_s")
    c = pd.Series(simulate(SC, seed=12, days=100, network=net).kpis).drop("wall_s")
    assert a.equals(b)  # NaN-aware
    assert a["cost_total_usd"] != c["cost_total_usd"]


def test_events_processed_counts_simpy_events() -> None:
    env = simpy.Environment()

    def proc() -> simpy.events.ProcessGenerator:
        for _ in range(10):
            yield env.timeout(1)

    env.process(proc())
    env.run()
    # Initialize + 10 timeouts + the process's own completion event
    assert events_processed(env) == 12


def test_lot_due_at_a_tick_is_in_stock_for_that_tick() -> None:
    # transit exactly 1 day: dispatched on day t, usable on day t + 1, never on day t
    res = simulate(SC, seed=0, days=10, network=one_lane(transit=1.0, demand=10.0))
    stock = res.raw.stock[:, res.meta.point_site.index("M")]
    assert np.allclose(stock, stock[0])  # steady from day 0: each day's arrival replaces its demand


class _Leak:
    """A measure that creates goods from nowhere on one day: the end-of-run check must catch it."""

    def apply(self, run: Run, t: int) -> None:
        if t == 3:
            run.on_hand[0] += 1e-3


def test_goods_created_from_nowhere_break_the_mass_balance_and_raise() -> None:
    run = Run(one_lane(), SC, seed=0, days=10)
    run.hooks.append(_Leak())
    with pytest.raises(MassBalanceError, match="mass balance"):
        run.run()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    demand=st.floats(1.0, 500.0),
    cv=st.floats(0.0, 0.8),
    transit=st.floats(0.05, 6.0),
    tcv=st.floats(0.0, 0.6),
    cap_share=st.floats(0.3, 2.0),
    road_cap_share=st.floats(0.5, 3.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_mass_balances_and_stock_never_negative(
    demand: float,
    cv: float,
    transit: float,
    tcv: float,
    cap_share: float,
    road_cap_share: float,
    seed: int,
) -> None:
    sites = [
        Site("S", "source", "CA", "auto", commodity="widget", capacity=demand * cap_share),
        Site("H", "storage", "US", "auto"),
        Site("M", "market", "US", "auto"),
    ]
    x = Crossing(
        "X",
        "road",
        capacity_sb=demand * road_cap_share + 1,
        obs_sb=demand,
        booths=3,
        wait_median_min=9.0,
        wait_p95_min=30.0,
    )
    lanes = [
        Lane(
            "L1",
            "S",
            "H",
            "widget",
            "truck",
            "X",
            transit_days=transit,
            transit_cv=tcv,
            base_flow=demand,
        ),
        Lane(
            "L2",
            "H",
            "M",
            "widget",
            "truck",
            transit_days=transit,
            transit_cv=tcv,
            base_flow=demand,
        ),
    ]
    net = Network.build(
        "prop", [WIDGET], sites, lanes, [x], demand=[Demand("M", "widget", demand, cv)]
    )
    res = simulate(SC, seed=seed, days=60, network=net)
    assert res.kpis["mass_balance_error"] <= 1e-9
    assert np.all(res.raw.stock >= -1e-9 * demand)
    assert np.all(res.raw.backlog >= -1e-9 * demand)
    assert 0.0 <= res.kpis["fill_rate"] <= 1.0
    assert math.isfinite(res.kpis["cost_total_usd"])


def test_daily_table_matches_the_raw_series() -> None:
    res = simulate(SC, seed=2, days=20, network=road_network(capacity=500.0))
    d = res.daily
    assert len(d) == 20 * (
        2 * 2 + 2 * 1 + 10 * 1
    )  # 2 points x 2 metrics, 1 lane x 2, 1 crossing x 10
    row = d[(d.day == 7) & (d.entity == "site") & (d.id == "M") & (d.metric == "stock")]
    assert float(row.value.iloc[0]) == res.raw.stock[7, res.meta.point_site.index("M")]
    row = d[(d.day == 9) & (d.id == "X:sb") & (d.metric == "vehicles")]
    assert float(row.value.iloc[0]) == res.raw.cross_vehicles[9, 0]
    assert set(d[d.entity == "lane"]["commodity"]) == {"widget"}


def test_fill_rate_counts_backorders_first() -> None:
    # capacity 60 < demand 80: once the opening stock is gone every unit served pays off a backorder,
    # so no more demand is filled on the day it arises and the fill rate stops growing
    short = one_lane(cap=60.0)
    f100 = simulate(SC, seed=0, days=100, network=short).kpis["fill_rate"]
    f200 = simulate(SC, seed=0, days=200, network=short).kpis["fill_rate"]
    assert f200 * 200 == pytest.approx(f100 * 100, rel=1e-12)
    assert f100 < 0.3


def test_perishable_stock_stays_oldest_first() -> None:
    food = Commodity(
        "food", "Food", "farm", "load", 40_000.0, shelf_life_days=10.0, units_per_truck=1.0
    )
    net = Network.build(
        "f",
        [food],
        [
            Site("S", "source", "CA", "farm", commodity="food", capacity=100.0),
            Site("M", "market", "CA", "farm"),
        ],
        [Lane("L", "S", "M", "food", "truck", transit_days=1.0, base_flow=10.0)],
        demand=[Demand("M", "food", 10.0, 0.0, "lost")],
    )
    run = Run(net, SC, seed=0, days=5)
    p = run.pidx[("M", "food")]
    run.fifo[p].clear()  # type: ignore[union-attr]
    for born in (5.0, 2.0, 7.0, 3.0):
        run._add(p, 1.0, born)
    assert [b for b, _ in run.fifo[p]] == [2.0, 3.0, 5.0, 7.0]  # type: ignore[union-attr]
    assert run._take(p, 1.5) == 2.0  # the oldest unit goes first


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        ("baseline", {}),
        ("tariffs_2025", {}),
        # route choice is left out: its day-to-day caches and stopping rule (sim.engine.routes)
        # are thresholds that a last-bit difference can flip, after which the runs part ways
        ("talks_collapse", {"market.route_logit": 0.0}),
    ],
)
def test_daily_steps_as_arrays_match_the_loops(
    monkeypatch: pytest.MonkeyPatch, scenario: str, overrides: dict[str, object]
) -> None:
    """The daily steps run as numpy arrays on a large network and as loops on a small one. They
    add in different orders (a day's arrivals per point at once, duties per lane per day), so
    they agree to rounding, not bit for bit: every KPI within 1e-9 relative, every daily array
    within 1e-9 of its scale, under tariffs, counter-tariffs, slowdowns and switching."""
    import sim.engine.run as run_mod

    sc = load_scenario(scenario, overrides)
    monkeypatch.setattr(run_mod, "VECTOR_MIN", 0)
    arrays = simulate(sc, seed=3, days=400)
    monkeypatch.setattr(run_mod, "VECTOR_MIN", 10**9)
    loops = simulate(sc, seed=3, days=400)

    def close(x: object, y: object) -> bool:
        if not isinstance(x, float) or not isinstance(y, float):
            return x == y
        if np.isnan(x) or np.isnan(y):
            return bool(np.isnan(x) and np.isnan(y))
        return abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1.0)

    # duty net of revenue is zero up to rounding: compare it with the duty, not with itself
    skip = {"wall_s", "mass_balance_error", "cost_duty_usd"}
    for r in (arrays, loops):
        assert abs(r.kpis["cost_duty_usd"]) <= 1e-12 * max(1.0, r.kpis["duty_usd"])
    moved = [k for k in arrays.kpis if k not in skip and not close(arrays.kpis[k], loops.kpis[k])]
    assert not moved, {k: (arrays.kpis[k], loops.kpis[k]) for k in moved}
    for name in ("stock", "backlog", "shipped", "in_transit", "cross_vehicles", "plant_made"):
        x, y = getattr(arrays.raw, name), getattr(loops.raw, name)
        scale = max(1.0, float(np.abs(y).max(initial=0.0)))
        assert np.abs(x - y).max(initial=0.0) <= 1e-9 * scale, name
    assert arrays.kpis["duty_usd"] > 0 or scenario == "baseline"
