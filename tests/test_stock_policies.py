"""Demand and stock policies a textbook states directly, with textbook answers: a single-stage
base-stock point with Poisson demand and a fixed lead time, an (s, S) point with steady demand, and
a warm-up left out of the KPIs. Network files: a stock.csv and a `dist` column load and validate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim import simulate
from sim.errors import NetworkError
from sim.io.network import load_network
from sim.spec.network import Commodity, Demand, Lane, Network, Site, StockLevel
from sim.spec.scenario import Market, Measure, Scenario

W = Commodity("w", "Widget", "multi", "unit", 10.0, units_per_truck=1.0)
FLAT = Market(elasticity={"multi": 0.0})


def single_stage(lam: float, lead: float, S: float, s: float | None = None, dist: str = "poisson",
                 cap: float | None = None) -> Network:  # fmt: skip
    sites = [
        Site("SRC", "source", "CA", "multi", commodity="w", capacity=cap),
        Site("M", "market", "CA", "multi"),
    ]
    lanes = [Lane("L", "SRC", "M", "w", "truck", transit_days=lead, base_flow=lam)]
    return Network.build(
        "one", [W], sites, lanes, demand=[Demand("M", "w", lam, 0.0, dist=dist)],
        stock=[StockLevel("M", "w", S, s)],
    )  # fmt: skip


def poisson_pmf(k: int, mu: float) -> float:
    return math.exp(-mu + k * math.log(mu) - math.lgamma(k + 1))


def expected_backorders(S: int, mu: float) -> float:
    """E[(X - S)+] for X ~ Poisson(mu) = mu - S + sum_{k<S} (S - k) P(X = k)."""
    return mu - S + sum((S - k) * poisson_pmf(k, mu) for k in range(S))


def test_poisson_base_stock_matches_the_textbook_formulas() -> None:
    lam, lead, S, warm, days = 4.0, 3, 14, 50, 20_000
    res = simulate(
        Scenario("bs", market=FLAT, warmup_days=warm, horizon_days=days), seed=7, days=days,
        network=single_stage(lam, lead, S),
    )  # fmt: skip
    m = res.meta.point_site.index("M")
    backlog = res.raw.backlog[warm:, m]
    stock = res.raw.stock[warm:, m]
    mu = lam * lead  # end-of-day net stock is S - D(L), D(L) ~ Poisson(lam L)
    eb = expected_backorders(S, mu)
    p_out = 1.0 - sum(poisson_pmf(k, mu) for k in range(S + 1))
    assert backlog.mean() == pytest.approx(eb, rel=0.06)
    assert (backlog > 0).mean() == pytest.approx(p_out, rel=0.06)
    assert stock.mean() == pytest.approx(S - mu + eb, rel=0.03)  # E[(S - X)+] = S - mu + E[(X - S)+]
    # fill rate of demand on the day it arises: 1 - (E[(D(L) - S)+] - E[(D(L-1) - S)+]) / lam
    fill = 1.0 - (eb - expected_backorders(S, lam * (lead - 1))) / lam
    assert res.kpis["fill_rate"] == pytest.approx(fill, abs=0.01)
    assert np.array_equal(backlog, np.round(backlog))  # integer demand, integer backorders


def test_poisson_demand_has_its_mean_and_variance() -> None:
    res = simulate(Scenario("p", market=FLAT), seed=3, days=5000, network=single_stage(6.0, 1, 40))
    demand = res.meta.demanded_value / W.value_usd / 5000
    assert demand == pytest.approx(6.0, rel=0.02)


def test_s_S_orders_the_gap_when_the_position_reaches_s() -> None:
    # demand exactly 1/day, lead 1, s = 2, S = 6: an order of 4 every 4 days; end-of-day stock
    # cycles 5, 4, 3, 2
    res = simulate(Scenario("sS", market=FLAT), seed=0, days=60,
                   network=single_stage(1.0, 1, 6, s=2, dist="normal"))  # fmt: skip
    m = res.meta.point_site.index("M")
    shipped = res.raw.shipped[20:, 0]
    assert set(np.round(shipped, 9)) == {0.0, 4.0}
    assert shipped.sum() == pytest.approx(len(shipped))  # one a day on average
    assert sorted(set(np.round(res.raw.stock[20:, m], 9))) == [2.0, 3.0, 4.0, 5.0]
    assert res.raw.backlog[:, m].max() == 0.0


def test_warmup_days_are_left_out_of_the_kpis() -> None:
    net = single_stage(10.0, 1, 25, dist="normal", cap=100.0)
    shut = Measure(id="s", kind="plant_shutdown", start=0, end=10, sites=("SRC",),
                   capacity_factor=0.0)
    full = simulate(Scenario("w", market=FLAT, measures=(shut,)), seed=0, days=60, network=net)
    warm = simulate(Scenario("w", market=FLAT, measures=(shut,), warmup_days=20), seed=0,
                    days=60, network=net)  # fmt: skip
    assert full.kpis["backlog_days"] > 0 and full.kpis["fill_rate"] < 1.0
    assert warm.kpis["backlog_days"] == 0.0  # recovered before day 20
    assert warm.kpis["fill_rate"] == 1.0
    assert warm.meta.demanded_value == pytest.approx(40 * 10.0 * W.value_usd)  # days 20..59
    assert np.array_equal(full.raw.backlog, warm.raw.backlog)  # the run itself is the same


def write(folder: Path, stock: str, dist: str = "poisson", cv: str = "0") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "commodities.csv").write_text(
        "id,name,sector,unit,value_usd,storable,shelf_life_days,units_per_truck,units_per_railcar\n"
        "w,W,multi,unit,10,1,,1,\n"
    )
    (folder / "sites.csv").write_text(
        "id,kind,country,sector,name,lat,lon,commodity,capacity,cover_days,policy,s_days,S_days,"
        "downtime_usd_per_hour\n"
        "SRC,source,CA,multi,,0,0,w,,1,base_stock,,,\nM,market,CA,multi,,0,0,,,1,base_stock,,,\n"
    )
    (folder / "crossings.csv").write_text("id,kind,name,lat,lon,capacity_sb,capacity_nb,obs_sb,"
                                          "obs_nb,booths,wait_median_min,wait_p95_min\n"
                                          "S,sea,,0,0,,,,,,,\n")  # fmt: skip
    (folder / "lanes.csv").write_text(
        "id,from,to,commodity,mode,crossing,transit_days,transit_cv,capacity,base_flow,"
        "cost_per_unit_usd\nL,SRC,M,w,truck,,2,0,,5,1\n"
    )
    (folder / "boms.csv").write_text("plant,input,qty_per_unit\n")
    (folder / "demand.csv").write_text(
        f"site,commodity,mean_per_day,cv,unmet,dist\nM,w,5,{cv},backorder,{dist}\n"
    )
    if stock:
        (folder / "stock.csv").write_text("site,commodity,S,s\n" + stock)
    return folder


def test_stock_file_and_dist_column_load(tmp_path: Path) -> None:
    net = load_network(write(tmp_path / "ok", "M,w,20,8\n"))
    assert net.stock == (StockLevel("M", "w", 20.0, 8.0),)
    assert net.demand[0].dist == "poisson"
    assert load_network(write(tmp_path / "none", "")).stock == ()


@pytest.mark.parametrize(
    ("stock", "dist", "cv", "message"),
    [
        ("M,w,20,25\n", "poisson", "0", "s must be < S (20)"),
        ("SRC,w,20,\n", "poisson", "0", "no lane brings this commodity to 'SRC'"),
        ("M,w,0,\n", "poisson", "0", "S must be a number > 0"),
        ("", "binomial", "0", "dist must be"),
        ("", "poisson", "0.2", "cv must be 0 with dist poisson"),
    ],
)
def test_bad_stock_levels_and_dists_are_named(
    tmp_path: Path, stock: str, dist: str, cv: str, message: str
) -> None:
    with pytest.raises(NetworkError) as e:
        load_network(write(tmp_path / "bad", stock, dist, cv))
    assert message in str(e.value)
