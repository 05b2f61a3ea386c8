"""Route choice at the border on tiny networks whose answers can be computed by hand.

Two road crossings A and B join a Canadian source to a US market; the lane crosses at A, and B is
A's alternative (``corridors.csv``: detour 3 h, toll US$20). Closing A sends A's traffic to B,
where it queues by the crossing formulas; nothing else is scripted.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import NetworkError, load_network, simulate
from sim.engine.queueing import CrossingQueue
from sim.engine.routes import MIN_SHARE, Option, RouteChoice, logit
from sim.spec.network import (
    Alternative,
    BomLine,
    Commodity,
    Crossing,
    Demand,
    Lane,
    Network,
    Site,
)
from sim.spec.scenario import Costs, Market, Measure, Scenario

W = Commodity("w", "Widget", "auto", "load", 40_000.0, units_per_truck=1.0)
DETOUR, TOLL, TH = 3.0, 20.0, 90.89
NO_FORGO = Market(route_inertia_days=0.0, route_forgo_hours=1e6)


def two_crossings(
    cap_b: float = 1000.0, obs_a: float = 300.0, obs_b: float = 200.0, flow: float = 100.0,
    trade_a: float | None = None,
) -> Network:
    """Source CA -> market US over crossing A (lane L, ``flow`` trucks/day); B is A's alternative."""
    sites = [
        Site("CA", "source", "CA", "auto", commodity="w", capacity=10_000.0),
        Site("US", "market", "US", "auto", cover_days=2.0),
    ]
    xa = Crossing("A", "road", capacity_sb=1000.0, obs_sb=obs_a, booths=4,
                  wait_median_min=10.0, wait_p95_min=30.0, trade_sb_usd=trade_a)  # fmt: skip
    xb = Crossing("B", "road", capacity_sb=cap_b, obs_sb=obs_b, booths=4,
                  wait_median_min=20.0, wait_p95_min=50.0)  # fmt: skip
    lanes = [Lane("L", "CA", "US", "w", "truck", "A", transit_days=0.5, base_flow=flow)]
    return Network.build(
        "two", [W], sites, lanes, [xa, xb], demand=[Demand("US", "w", flow, 0.0)],
        alternatives=[Alternative("A", "B", DETOUR, TOLL)],
    )  # fmt: skip


def closed_a(market: Market = NO_FORGO, start: int = 5, end: int = 10) -> Scenario:
    shut = Measure(id="shut", kind="closure", start=start, end=end, crossings=("A",))
    return Scenario("closure", measures=(shut,), market=market, costs=Costs(truck_hour_usd=TH))


def test_closing_a_crossing_sends_all_its_traffic_to_the_alternative() -> None:
    net = two_crossings()
    res = simulate(closed_a(), seed=3, days=15, network=net)
    base = simulate(Scenario("b", market=NO_FORGO), seed=3, days=15, network=net)
    ga, gb = res.meta.crossing_keys.index(("A", "sb")), res.meta.crossing_keys.index(("B", "sb"))
    r, b = res.raw, base.raw
    shut = slice(5, 10)
    assert np.all(r.cross_vehicles[shut, ga] == 0.0)
    # B gets its own background plus everything that set out for A (the same random draws)
    want = b.cross_vehicles[shut, gb] + b.cross_vehicles[shut, ga]
    np.testing.assert_allclose(r.cross_vehicles[shut, gb], want, rtol=1e-12)
    # A's own traffic in the base run (on busy days a fraction of a vehicle tries B there too)
    home_a = b.cross_vehicles[shut, ga] + b.cross_div_out[shut, ga] - b.cross_div_in[shut, ga]
    np.testing.assert_allclose(r.cross_div_in[shut, gb], home_a, rtol=1e-12)
    np.testing.assert_allclose(r.cross_div_out[shut, ga], home_a, rtol=1e-12)
    # ... and its wait follows the queue formula at that load (B has room: no carry-over)
    q = CrossingQueue.calibrate(1000.0, 4, 200.0, 20.0, 50.0)
    for d in range(5, 10):
        p50 = q.wait_quantile_min(0.5, q.scale(float(r.cross_vehicles[d, gb])))
        assert r.cross_p50[d, gb] == pytest.approx(p50, rel=1e-9)
        assert r.cross_queue[d, gb] == 0.0
    # before the closure the runs are identical; after it, with no inertia, the choice snaps back
    # to what the base run does (a fraction of a vehicle on a busy day, by the 2024 logit)
    np.testing.assert_array_equal(r.cross_div_out[:5], b.cross_div_out[:5])
    assert np.all(r.cross_div_out[10:, ga] < 0.01)


def test_with_the_alternative_full_the_carry_over_is_exactly_the_excess() -> None:
    net = two_crossings(cap_b=400.0, obs_b=200.0)
    res = simulate(closed_a(), seed=4, days=8, network=net)
    gb = res.meta.crossing_keys.index(("B", "sb"))
    r = res.raw
    arrivals = r.cross_vehicles[5, gb]
    assert arrivals > 400.0  # ~200 own + ~300 from A
    assert r.cross_served[5, gb] == pytest.approx(400.0, rel=1e-12)
    assert r.cross_queue[5, gb] == pytest.approx(arrivals - 400.0, rel=1e-12)


def test_a_diverted_lot_pays_the_detour_and_toll_there() -> None:
    # deterministic demand and transit: the lane ships the same every day in both runs, so the
    # transport cost differs by exactly the diverted trucks x (detour hours x truck-hour + toll)
    net = two_crossings()
    res = simulate(closed_a(), seed=5, days=15, network=net)
    base = simulate(Scenario("b", market=NO_FORGO), seed=5, days=15, network=net)
    np.testing.assert_allclose(res.raw.shipped, base.raw.shipped, rtol=1e-12)
    lot_trucks = float(res.raw.shipped[5:10, 0].sum())  # 1 unit per truck, all sent to B
    extra = res.kpis["cost_transport_usd"] - base.kpis["cost_transport_usd"]
    assert extra == pytest.approx(lot_trucks * (DETOUR * TH + TOLL), rel=1e-9)


def test_background_with_nowhere_to_go_is_lost_with_its_value() -> None:
    # A's 2024 trade is US$20M/day: the lane carries 100 x 40,000 = 4M, so each of the 200
    # background vehicles carries (20M - 4M) / 200 = US$80,000
    net = two_crossings(obs_a=300.0, trade_a=20e6)
    both = Measure(id="shut", kind="closure", start=5, end=10, crossings=("A", "B"))
    res = simulate(Scenario("c", measures=(both,), market=NO_FORGO), seed=6, days=15, network=net)
    base = simulate(Scenario("b", market=NO_FORGO), seed=6, days=15, network=net)
    ga = res.meta.crossing_keys.index(("A", "sb"))
    assert res.meta.crossing_bkg_value[ga] == pytest.approx(80_000.0)
    r = res.raw
    # nothing is open: background forgoes the trip at once; the lot waits in A's queue
    b = base.raw
    home_a = b.cross_vehicles[5:10, ga] + b.cross_div_out[5:10, ga] - b.cross_div_in[5:10, ga]
    bkg_a = home_a - b.shipped[5:10, 0]
    np.testing.assert_allclose(r.cross_bkg_lost[5:10, ga], bkg_a, rtol=1e-12)
    np.testing.assert_allclose(r.cross_trade_lost[5:10, ga], bkg_a * 80_000.0, rtol=1e-12)
    assert res.kpis["trade_lost_usd"] >= float(bkg_a.sum()) * 80_000.0 * (1 - 1e-12)
    assert r.cross_queue[9, ga] == pytest.approx(r.shipped[5:10, 0].sum(), rel=1e-12)


def test_background_diverted_to_the_alternative_is_delayed_trade() -> None:
    net = two_crossings(obs_a=300.0, trade_a=20e6)
    res = simulate(closed_a(), seed=7, days=15, network=net)
    gb = res.meta.crossing_keys.index(("B", "sb"))
    r = res.raw
    moved_bkg = r.cross_div_in[5:10, gb] - r.shipped[5:10, 0]
    np.testing.assert_allclose(r.cross_trade_delayed[5:10, gb], moved_bkg * 80_000.0, rtol=1e-9)


# ---------------------------------------------------------------- the choice rule by hand
def choice(inertia: float = 0.0, forgo: float = 8.0, beta: float = 1.0) -> RouteChoice:
    opts = {0: [Option(0, 0.0, 0.0), Option(1, 2.0, 0.0)]}
    return RouteChoice(opts, [0.25, 0.5], beta, inertia, forgo, TH)


def test_at_2024_costs_nothing_moves() -> None:
    ch = choice()
    ch.update([0.25, 0.5])
    assert ch.lot[0] == [1.0, 0.0] and ch.bkg[0] == [1.0, 0.0, 0.0]


def test_shares_follow_the_logit_rise_above_2024() -> None:
    ch = choice()
    ch.update([3.0, 0.5])  # home's wait rises to 3 h; the alternative costs 2.5 h
    p = logit([3.0, 2.5], 1.0)
    p0 = logit([0.25, 2.5], 1.0)
    assert ch.lot[0][1] == pytest.approx(p[1] - p0[1] - MIN_SHARE, rel=1e-12)
    assert ch.lot[0][0] == pytest.approx(1.0 - (p[1] - p0[1] - MIN_SHARE), rel=1e-12)
    pb, pb0 = logit([3.0, 2.5, 8.0], 1.0), logit([0.25, 2.5, 8.0], 1.0)
    assert ch.bkg[0][2] == pytest.approx(pb[2] - pb0[2] - MIN_SHARE, rel=1e-12)


def test_inertia_closes_a_fixed_share_of_the_gap_each_day() -> None:
    ch = choice(inertia=1.0)  # half the gap a day
    target = logit([3.0, 2.5], 1.0)[1] - logit([0.25, 2.5], 1.0)[1] - MIN_SHARE
    for day in range(1, 5):
        ch.update([3.0, 0.5])
        assert ch.lot[0][1] == pytest.approx(target * (1 - 0.5**day), rel=1e-12)


def test_a_closed_option_gets_nothing_at_once_and_lots_wait_when_all_are_closed() -> None:
    ch = choice(inertia=5.0)
    ch.update([math.inf, 0.5])
    assert ch.lot[0] == [0.0, 1.0]
    ch.update([math.inf, math.inf])
    assert ch.lot[0] == [1.0, 0.0]  # lots wait at home
    assert ch.bkg[0] == [0.0, 0.0, 1.0]  # background forgoes


@given(
    st.lists(st.floats(0.0, 50.0), min_size=2, max_size=2),
    st.floats(0.0, 5.0),
    st.floats(0.01, 5.0),
)
def test_shares_are_a_distribution(waits: list[float], inertia: float, beta: float) -> None:
    ch = choice(inertia=inertia, beta=beta)
    for _ in range(3):
        ch.update(waits)
        for s in (ch.lot[0], ch.bkg[0]):
            assert all(x >= 0.0 for x in s)
            assert sum(s) == pytest.approx(1.0, rel=1e-12)


# ---------------------------------------------------------------- corridors.csv
def test_corridors_file_rules_are_reported_with_file_row_column(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "networks" / "tiny"
    for f in src.glob("*.csv"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    load_network(tmp_path)  # no corridors.csv: no alternatives, still valid
    crossings = [r.split(",")[0] for r in (src / "crossings.csv").read_text().splitlines()[1:]]
    road = crossings[0]
    (tmp_path / "corridors.csv").write_text(
        "crossing,alternative,detour_hours,toll_usd\n"
        f"{road},NOPE,1,0\n"
        f"{road},{road},1,0\n"
        f"{road},{road},-1,x\n",
        encoding="utf-8",
    )
    with pytest.raises(NetworkError) as exc:
        load_network(tmp_path)
    text = str(exc.value)
    assert "corridors.csv" in text
    assert "row 2, column 'alternative'" in text and "unknown crossing" in text
    assert "a crossing cannot be its own alternative" in text
    assert "row 4, column 'detour_hours': detour_hours must be a number >= 0" in text
    assert "row 4, column 'toll_usd'" in text


def test_the_default_network_has_alternatives() -> None:
    net = load_network(Path(__file__).resolve().parent.parent / "networks" / "north_america")
    pairs = {(a.crossing, a.alternative) for a in net.alternatives}
    assert {("X_AMB", "X_BWB"), ("X_COU", "X_CARWAY"), ("X_COU", "X_DELB")} <= pairs


# ---------------------------------------------------------------- per-plant outputs
def test_plant_table_accounts_for_output_shortfall_and_downtime() -> None:
    parts = Commodity("parts", "Parts", "auto", "load", 50_000.0, units_per_truck=1.0)
    cars = Commodity("cars", "Cars", "auto", "vehicle", 40_000.0, units_per_truck=8.0)
    sites = [
        Site("S", "source", "CA", "auto", commodity="parts", capacity=500.0),
        Site("P", "plant", "US", "auto", commodity="cars", capacity=100.0, cover_days=1.0),
        Site("M", "market", "US", "auto"),
    ]
    x = Crossing("A", "road", capacity_sb=1000.0, obs_sb=300.0, booths=4,
                 wait_median_min=10.0, wait_p95_min=30.0)  # fmt: skip
    lanes = [
        Lane("L1", "S", "P", "parts", "truck", "A", transit_days=0.5, base_flow=80.0),
        Lane("L2", "P", "M", "cars", "truck", None, transit_days=1.0, base_flow=80.0),
    ]
    net = Network.build(
        "plant", [parts, cars], sites, lanes, [x], boms=[BomLine("P", "parts", 1.0)],
        demand=[Demand("M", "cars", 80.0, 0.0)],
    )  # fmt: skip
    shut = Measure(id="shut", kind="closure", start=5, end=15, crossings=("A",))
    res = simulate(Scenario("c", measures=(shut,)), seed=1, days=30, network=net)
    plant = res.plants.set_index("day")
    # the parts stop crossing: the plant runs short, and each hour lost is 24 x short / capacity
    assert (plant.shortfall > 0).any() and plant.produced.iloc[8:14].max() == 0.0
    np.testing.assert_allclose(plant.downtime_hours, 24.0 * plant.shortfall / 100.0, rtol=1e-12)
    assert plant.downtime_hours.sum() == pytest.approx(res.kpis["downtime_hours"], rel=1e-12)
    # every car made is in the table
    assert plant.produced.sum() == pytest.approx(res.meta.balance["cars"]["produced"], rel=1e-12)
