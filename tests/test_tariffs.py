"""Tariffs, pass-through and timed disruptions, checked against hand computations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import simulate
from sim.engine.queueing import mmc_sojourn_mean
from sim.engine.run import Run
from sim.spec.measures import ExportLevy, Tariff
from sim.spec.network import BomLine, Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import Market, Measure, Scenario

PART = Commodity("part", "Part", "auto", "load", 100.0, units_per_truck=1.0)
SUB = Commodity("subassy", "Sub-assembly", "auto", "load", 150.0, units_per_truck=1.0)
CAR = Commodity("car", "Car", "auto", "vehicle", 1000.0, units_per_truck=8.0)
NO_PRICE = Market(elasticity={"auto": 0.0, "farm": 0.0, "energy": 0.0, "multi": 0.0})


def three_crossings() -> Network:
    """A part made in Canada crosses to a US cluster, comes back inside a sub-assembly, and rides
    in a car assembled in Canada across a third time."""
    x = Crossing("X", "road", capacity_sb=5000, capacity_nb=5000, obs_sb=100, obs_nb=100, booths=4,
                 wait_median_min=10, wait_p95_min=30)  # fmt: skip
    sites = [
        Site("CA_PARTS", "source", "CA", "auto", commodity="part", capacity=100.0),
        Site("US_CLUSTER", "plant", "US", "auto", commodity="subassy", capacity=100.0),
        Site("CA_ASSY", "plant", "CA", "auto", commodity="car", capacity=100.0),
        Site("US_MKT", "market", "US", "auto"),
    ]
    lanes = [
        Lane(
            "L1", "CA_PARTS", "US_CLUSTER", "part", "truck", "X", transit_days=1.0, base_flow=20.0
        ),
        Lane(
            "L2", "US_CLUSTER", "CA_ASSY", "subassy", "truck", "X", transit_days=1.0, base_flow=20.0
        ),
        Lane("L3", "CA_ASSY", "US_MKT", "car", "truck", "X", transit_days=1.0, base_flow=10.0),
    ]
    boms = [BomLine("US_CLUSTER", "part", 1.0), BomLine("CA_ASSY", "subassy", 2.0)]
    return Network.build(
        "three", [PART, SUB, CAR], sites, lanes, [x], boms, [Demand("US_MKT", "car", 10.0, 0.0)]
    )


def tariff(id: str, imposer: str, commodity: str, rate: float, **kw: object) -> Measure:
    origin = "US" if imposer == "CA" else "CA"
    return Measure(id=id, kind="tariff", start=kw.pop("start", 0), imposer=imposer, origin=origin,  # type: ignore[arg-type]
                   commodities=(commodity,), rate=rate, **kw)  # type: ignore[arg-type]  # fmt: skip


def embodied_at_market(res_run: Run) -> float:
    return res_run.embodied[res_run.pidx[("US_MKT", "car")]]


def run_with(measures: tuple[Measure, ...], days: int = 300, net: Network | None = None) -> Run:
    sc = Scenario("t", market=NO_PRICE, measures=measures)
    run = Run(net or three_crossings(), sc, seed=0, days=days)
    run.run()
    return run


@pytest.mark.parametrize(
    ("exempt", "domestic", "expected"),
    [
        # part 100 x 25 % = 25 (US), sub-assembly 150 x 10 % = 15 (CA); the car carries 2 x (25 + 15)
        # and pays 1000 x 20 % = 200 on the full value
        (0.0, 0.0, 2 * (25.0 + 15.0) + 200.0),
        # 80 % of the part qualifies for USMCA: 100 x 25 % x 0.2 = 5
        (0.8, 0.0, 2 * (5.0 + 15.0) + 200.0),
        # non-US-content rule: the car pays only on the 60 % that is not US content: 1000 x 20 % x 0.6
        (0.0, 0.4, 2 * (25.0 + 15.0) + 120.0),
    ],
)
def test_duty_carried_through_three_crossings(
    exempt: float, domestic: float, expected: float
) -> None:
    measures = (
        tariff("us_parts", "US", "part", 0.25, exempt_share=exempt),
        tariff("ca_sub", "CA", "subassy", 0.10),
        tariff("us_cars", "US", "car", 0.20, content_basis="non_us", domestic_content=domestic),
    )
    run = run_with(measures)
    assert embodied_at_market(run) == pytest.approx(expected, rel=1e-9)
    # steady state: every day 20 parts, 20 sub-assemblies, 10 cars cross; revenue by government
    us_day = {d: 0.0 for d in range(250, 300)}
    ca_day = dict(us_day)
    for t, country, amount in run.ledger.duty_by_day:
        if t in us_day:
            (us_day if country == "US" else ca_day)[t] += amount
    part_duty = 100 * 0.25 * (1 - exempt)
    car_duty = 1000 * 0.20 * (1 - domestic)
    assert all(v == pytest.approx(20 * part_duty + 10 * car_duty) for v in us_day.values())
    assert all(v == pytest.approx(20 * 150 * 0.10) for v in ca_day.values())


def test_no_tariff_no_duty() -> None:
    run = run_with(())
    assert embodied_at_market(run) == 0.0
    assert run.ledger.duty_by_day == []


def rate_on(run: Run, lane: str) -> float:
    return run.fx.lane_tariff[[ln.id for ln in run.lanes].index(lane)]


@pytest.mark.parametrize(
    ("measures", "expected"),
    [
        # same group: the higher precedence replaces the lower
        ((("a", 0.25, "g", 1, 0, None), ("b", 0.35, "g", 2, 0, None)), 0.35),
        # precedence, not order in the file, decides
        ((("b", 0.35, "g", 2, 0, None), ("a", 0.25, "g", 1, 0, None)), 0.35),
        # different groups add
        ((("a", 0.25, "g", 1, 0, None), ("b", 0.10, "h", 1, 0, None)), 0.35),
        # no group: adds to everything
        ((("a", 0.25, "g", 1, 0, None), ("b", 0.10, "", 0, 0, None)), 0.35),
        # the replacing measure has ended: the replaced one applies again
        ((("a", 0.25, "g", 1, 0, None), ("b", 0.35, "g", 2, 0, 5)), 0.25),
        # the replacing measure has not started yet
        ((("a", 0.25, "g", 1, 0, None), ("b", 0.35, "g", 2, 50, None)), 0.25),
    ],
)
def test_stacking_precedence(
    measures: tuple[tuple[str, float, str, int, int, int | None], ...], expected: float
) -> None:
    ms = tuple(
        tariff(i, "US", "part", r, stack_group=g, precedence=p, start=s, end=e)
        for i, r, g, p, s, e in measures
    )
    run = run_with(ms, days=20)
    assert rate_on(run, "L1") == pytest.approx(expected)


def test_transit_exempt_goods_shipped_before_the_start_pay_nothing() -> None:
    # a road crossing closed on days 5-9 holds lots dispatched before the tariff starts on day 8
    net = three_crossings()
    closure = Measure(id="shut", kind="closure", start=5, end=10, crossings=("X",))
    exempt = tariff("t", "US", "part", 0.5, start=8, transit_exempt=True)
    plain = dataclasses.replace(exempt, transit_exempt=False)
    a = run_with((closure, exempt), days=12, net=net)
    b = run_with((closure, plain), days=12, net=net)
    paid_a = sum(x for t, c, x in a.ledger.duty_by_day if t == 10 and c == "US")
    paid_b = sum(x for t, c, x in b.ledger.duty_by_day if t == 10 and c == "US")
    # on day 10 the queue of lots shipped on days 5-9 clears: only those shipped on 8-9 pay if exempt
    assert 0 < paid_a < paid_b


def one_import_lane(base: float = 100.0) -> Network:
    sites = [
        Site("CA_SRC", "source", "CA", "auto", commodity="part", capacity=10 * base),
        Site("US_MKT", "market", "US", "auto", cover_days=2.0),
    ]
    pipe = Crossing("S", "sea")
    lanes = [Lane("L", "CA_SRC", "US_MKT", "part", "ship", "S", transit_days=2.0, base_flow=base)]
    return Network.build(
        "imp", [PART], sites, lanes, [pipe], demand=[Demand("US_MKT", "part", base, 0.0)]
    )


def test_announcement_causes_prestocking_surge_then_trough() -> None:
    m = tariff("t", "US", "part", 0.25, start=40, announce=20)
    sc = Scenario("t", market=NO_PRICE, measures=(m,))
    res = simulate(sc, seed=0, days=120, network=one_import_lane())
    shipped = res.raw.shipped[:, 0]
    assert np.allclose(shipped[:20], 100.0)  # before the announcement: the normal flow
    # 25 % duty vs 25 %/yr holding: worth buying up to 365 days ahead, capped at 21 days of flow
    surge = shipped[20:40].sum() - 20 * 100.0
    assert surge == pytest.approx(21 * 100.0, rel=1e-9)
    after = shipped[40:]
    assert after[:21].sum() == pytest.approx(
        0.0, abs=1e-9
    )  # the trough: stock on hand covers demand
    assert np.allclose(after[25:], 100.0)  # then back to the normal flow


def test_duty_equals_government_revenue_and_ledger_equals_kpis() -> None:
    measures = (
        tariff("us_parts", "US", "part", 0.25),
        tariff("ca_sub", "CA", "subassy", 0.10),
        Measure(
            id="levy", kind="export_levy", start=3, imposer="CA", commodities=("car",), rate=0.05
        ),
    )
    sc = Scenario("t", measures=measures)
    res = simulate(sc, seed=4, days=60, network=three_crossings())
    led = res.ledger
    duty = led[led.kind == "duty"]
    gov = duty[duty.party == "government"].groupby(["day", "country"], observed=True)["usd"].sum()
    priv = duty[duty.party != "government"]["usd"].sum()
    # every duty dollar paid by private parties is one dollar of revenue for a government
    assert priv == pytest.approx(-duty[duty.party == "government"]["usd"].sum(), rel=1e-12)
    # per country and day: revenue booked == duty assessed on the lots that crossed
    assessed: dict[tuple[int, str], float] = {}
    for t, c, x in res.raw.duty_by_day:
        assessed[(t, c)] = assessed.get((t, c), 0.0) + x
    assert set(assessed) == set(gov.index)
    for key, x in assessed.items():
        assert -gov[key] == pytest.approx(x, rel=1e-12)
    # ledger totals equal the KPI totals
    k = res.kpis
    assert led["usd"].sum() == pytest.approx(k["cost_total_usd"], rel=1e-12)
    assert led[led.country == "US"]["usd"].sum() == pytest.approx(k["cost_us_usd"], rel=1e-12)
    assert led[led.country == "CA"]["usd"].sum() == pytest.approx(k["cost_ca_usd"], rel=1e-12)
    assert k["duty_usd"] == pytest.approx(priv, rel=1e-12)


def _same_kpis(a: dict[str, object], b: dict[str, object]) -> bool:
    """Equal KPIs apart from wall time (NaN equals NaN)."""
    import pandas as pd

    return bool(pd.Series(a).drop("wall_s").equals(pd.Series(b).drop("wall_s")))


ZERO_LENGTH = [
    Measure(
        id="z",
        kind="slowdown",
        start=10,
        end=10,
        crossings=("X",),
        capacity_factor=0.5,
        inspection_factor=3.0,
    ),
    Measure(id="z", kind="closure", start=10, end=10, crossings=("X",)),
    Measure(id="z", kind="tariff", start=10, end=10, imposer="US", origin="CA", rate=0.5),
    Measure(
        id="z", kind="plant_shutdown", start=10, end=10, sites=("CA_ASSY",), capacity_factor=0.0
    ),
    Measure(id="z", kind="demand_shock", start=10, end=10, sites=("US_MKT",), demand_factor=0.5),
]


@settings(max_examples=10, deadline=None)
@given(m=st.sampled_from(ZERO_LENGTH), seed=st.integers(0, 1000))
def test_zero_length_disruption_changes_nothing(m: Measure, seed: int) -> None:
    net = three_crossings()
    a = simulate(Scenario("t"), seed=seed, days=40, network=net)
    b = simulate(Scenario("t", measures=(m,)), seed=seed, days=40, network=net)
    assert _same_kpis(a.kpis, b.kpis)


def test_halving_a_crossing_raises_waits_as_its_queue_says() -> None:
    base_flow = 400.0  # 50 car loads / day at 8 per truck, plus 150 background trucks
    sites = [
        Site("CA_SRC", "source", "CA", "auto", commodity="car", capacity=10 * base_flow),
        Site("US_MKT", "market", "US", "auto"),
    ]
    x = Crossing(
        "X", "road", capacity_sb=1000, obs_sb=200, booths=8, wait_median_min=10, wait_p95_min=30
    )
    lanes = [
        Lane(
            "L",
            "CA_SRC",
            "US_MKT",
            "car",
            "truck",
            "X",
            transit_days=1.0,
            transit_cv=0.2,
            base_flow=base_flow,
        )
    ]
    net = Network.build(
        "x", [CAR], sites, lanes, [x], demand=[Demand("US_MKT", "car", base_flow, 0.3)]
    )
    slow = Measure(id="s", kind="slowdown", start=20, end=60, crossings=("X",), capacity_factor=0.5)
    a = simulate(Scenario("a"), seed=5, days=80, network=net)
    b = simulate(Scenario("b", measures=(slow,)), seed=5, days=80, network=net)
    veh = a.raw.cross_vehicles[:, 0]
    assert np.allclose(
        veh, b.raw.cross_vehicles[:, 0]
    )  # common random numbers: the same traffic
    # queue arithmetic: 8 booths, exponential service of 8 x 1440 / 1000 min; halved: 4 booths
    s = 8 * 1440 / 1000
    for d in range(20, 60):
        lam = veh[d] / 1440
        want = mmc_sojourn_mean(lam, 1 / s, 4) / mmc_sojourn_mean(lam, 1 / s, 8)
        assert b.raw.cross_p50[d, 0] / a.raw.cross_p50[d, 0] == pytest.approx(want, rel=2e-3)
        assert want > 1.0
    assert np.allclose(
        a.raw.cross_p50[60:, 0], b.raw.cross_p50[60:, 0]
    )  # and back after the end
    # capacity arithmetic: 4 booths serve 4 x 1440 / s = 500 trucks a day
    assert b.raw.cross_served[20:60, 0].max() <= 500.0 + 1e-9


def test_no_prestocking_ahead_of_a_duty_cut() -> None:
    # a 25 % duty in force; a replacing measure of higher precedence lowers it to 10 % on day 40,
    # announced on day 20: importers have nothing to gain by buying ahead
    in_force = tariff("a", "US", "part", 0.25, stack_group="g", precedence=1)
    cut = tariff("b", "US", "part", 0.10, stack_group="g", precedence=2, start=40, announce=20)
    sc = Scenario("t", market=NO_PRICE, measures=(in_force, cut))
    res = simulate(sc, seed=0, days=80, network=one_import_lane())
    assert np.allclose(res.raw.shipped[:, 0], 100.0)


def test_prestocking_counts_the_stacked_rise_once() -> None:
    # two announced measures of one group start together: only the higher (35 %) applies, so the
    # importer buys ahead for a 35 % rise once, capped at 21 days, not 21 days per measure
    a = tariff("a", "US", "part", 0.25, stack_group="g", precedence=1, start=40, announce=20)
    b = tariff("b", "US", "part", 0.35, stack_group="g", precedence=2, start=40, announce=20)
    sc = Scenario("t", market=NO_PRICE, measures=(a, b))
    res = simulate(sc, seed=0, days=80, network=one_import_lane())
    surge = res.raw.shipped[20:40, 0].sum() - 20 * 100.0
    assert surge == pytest.approx(21 * 100.0, rel=1e-9)


def test_two_openings_of_one_lane_compose_whatever_their_order() -> None:
    sites = [
        Site("SRC", "source", "CA", "farm", commodity="part", capacity=1000.0),
        Site("ASIA", "market", "OS", "farm"),
    ]
    lanes = [
        Lane("L", "SRC", "ASIA", "part", "ship", transit_days=5.0, base_flow=0.0, capacity=900.0)
    ]
    net = Network.build("o", [PART], sites, lanes, demand=[Demand("ASIA", "part", 0.0, 0.0)])
    o1 = Measure(id="o1", kind="lane_open", start=5, lanes=("L",), capacity=200.0)
    o2 = Measure(id="o2", kind="lane_open", start=5, lanes=("L",), capacity=300.0)
    a = simulate(Scenario("a", market=NO_PRICE, measures=(o1, o2)), seed=1, days=40, network=net)
    b = simulate(Scenario("b", market=NO_PRICE, measures=(o2, o1)), seed=1, days=40, network=net)
    assert np.array_equal(a.raw.shipped, b.raw.shipped)
    assert a.raw.shipped[:, 0].max() == pytest.approx(300.0)  # the larger opening


def test_which_border_lanes_a_duty_hits() -> None:
    """A tariff hits goods entering the imposer's country (from ``origin`` only, when given); an
    export levy hits the imposer's own exports, whatever their destination."""
    from_ca = tariff("t", "US", "part", 0.25)
    t = dataclasses.replace(from_ca, origin="")
    levy = dataclasses.replace(t, kind="export_levy", imposer="CA")
    hit = {
        (name, a, b): kind.lane_rate(m, a, b, "part", "auto")
        for name, kind, m in (("t", Tariff, t), ("t_ca", Tariff, from_ca), ("e", ExportLevy, levy))
        for a, b in (("CA", "US"), ("US", "CA"), ("OS", "US"), ("CA", "OS"))
    }
    assert {k for k, v in hit.items() if v is not None} == {
        ("t", "CA", "US"), ("t", "OS", "US"), ("t_ca", "CA", "US"),
        ("e", "CA", "US"), ("e", "CA", "OS"),
    }  # fmt: skip
    assert all(v == 0.25 for v in hit.values() if v is not None)
