"""Who pays: the duty split by pass-through in the ledger, duty revenue, burden accounting, and the
burden by region, checked against hand computations on deterministic networks."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import burden, burden_batch, cost_account, simulate
from sim.analysis.burden import us_share
from sim.engine.records import RunArrays
from sim.spec.network import Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import FrozenMap, Market, Measure, Scenario

PART = Commodity("part", "Part", "auto", "load", 100.0, units_per_truck=1.0)
FLAT = {"auto": 0.0, "farm": 0.0, "energy": 0.0, "multi": 0.0}  # no price response
# the top-level table must NOT be used for these lanes: a lookup falling back to it is caught
WRONG = {"exporter": 0.0, "importer": 1.0, "downstream": 0.0, "consumer": 0.0}
SB = {"exporter": 0.15, "importer": 0.25, "downstream": 0.2, "consumer": 0.4}
NB = {"exporter": 0.3, "importer": 0.1, "downstream": 0.5, "consumer": 0.1}


def one_lane(origin: str, dest: str, base: float = 100.0) -> Network:
    """One source in ``origin`` ships ``base`` parts a day by sea to a market in ``dest``."""
    reg = {"CA": "ON", "US": "MI"}
    sites = [
        Site("SRC", "source", origin, "auto", commodity="part", capacity=10 * base, region=reg[origin]),
        Site("MKT", "market", dest, "auto", cover_days=2.0, region=reg[dest]),
    ]  # fmt: skip
    lanes = [Lane("L", "SRC", "MKT", "part", "ship", "S", transit_days=2.0, base_flow=base)]
    return Network.build(
        "one", [PART], sites, lanes, [Crossing("S", "sea")], demand=[Demand("MKT", "part", base)]
    )


def scenario(imposer: str, rate: float, exempt: float) -> Scenario:
    origin = "US" if imposer == "CA" else "CA"
    m = Measure(id="t", kind="tariff", start=0, imposer=imposer, origin=origin, commodities=("part",),
                rate=rate, exempt_share=exempt)  # fmt: skip
    market = Market(
        pass_through=WRONG,
        elasticity=FLAT,
        pass_through_by=(("auto", "sb", FrozenMap(SB)), ("auto", "nb", FrozenMap(NB))),
    )
    return Scenario("t", market=market, measures=(m,))


def shipped_value(res_raw: RunArrays) -> float:
    """Units shipped over the horizon x value (a sea lot is assessed as it is dispatched)."""
    return float(res_raw.shipped[:, 0].sum()) * PART.value_usd


@pytest.mark.parametrize(
    ("imposer", "shares", "exporter_country", "importer_country", "exp_region", "imp_region"),
    [("US", SB, "CA", "US", "ON", "MI"), ("CA", NB, "US", "CA", "MI", "ON")],
    ids=["us_duty_on_canadian_goods", "canadian_counter_tariff"],
)
def test_duty_rows_follow_the_lanes_sector_and_direction_shares(
    imposer: str,
    shares: dict[str, float],
    exporter_country: str,
    importer_country: str,
    exp_region: str,
    imp_region: str,
) -> None:
    rate, exempt, days = 0.25, 0.4, 60
    origin = exporter_country
    res = simulate(
        scenario(imposer, rate, exempt),
        seed=0,
        days=days,
        network=one_lane(origin, importer_country),
    )
    # duty revenue = sum shipped x value x rate x (1 - exempt share), computed from the flows
    d = shipped_value(res.raw) * rate * (1 - exempt)
    assert res.raw.shipped[:, 0] == pytest.approx(100.0)  # deterministic: the base flow
    assert d > 0
    led = res.ledger
    duty = (
        led[led.kind == "duty"].groupby(["party", "country", "region"], observed=True)["usd"].sum()
    )
    duty = duty[duty != 0]
    want = {
        ("exporter", exporter_country, exp_region): shares["exporter"] * d,
        ("importer", importer_country, imp_region): shares["importer"] * d,
        ("downstream", importer_country, imp_region): shares["downstream"] * d,
        ("consumer", importer_country, imp_region): shares["consumer"] * d,
        ("government", importer_country, ""): -d,
    }
    assert set(duty.index) == set(want)
    for key, usd in want.items():
        assert duty[key] == pytest.approx(usd, rel=1e-12), key
    k = res.kpis
    assert k[f"duty_revenue_{importer_country.lower()}_usd"] == pytest.approx(d, rel=1e-12)
    us_borne = shares["exporter"] if exporter_country == "US" else 1 - shares["exporter"]
    assert k["us_share_of_duty_cost"] == pytest.approx(us_borne, rel=1e-12)


def test_sector_table_applies_in_both_directions_and_top_level_elsewhere() -> None:
    both = Market(elasticity=FLAT, pass_through=WRONG,
                  pass_through_by=(("auto", "", FrozenMap(SB)),))  # fmt: skip
    assert dict(both.shares("auto", "nb")) == SB and dict(both.shares("auto", "sb")) == SB
    assert dict(both.shares("farm", "sb")) == WRONG


def test_burden_of_a_hand_example() -> None:
    alt = {
        ("US", "MI", "auto", "duty"): 80.0,
        ("CA", "ON", "auto", "duty"): 20.0,
        ("US", "", "auto", "revenue"): 100.0,
        ("US", "MI", "auto", "delay"): 10.0,
        ("US", "TX", "farm", "holding"): 2.0,
        ("CA", "ON", "auto", "lost_export_margin"): 30.0,
    }
    base = {("US", "MI", "auto", "delay"): 4.0, ("US", "TX", "farm", "holding"): 2.0}
    b = burden(alt, base, {"MI": "US_Midwest", "TX": "rest_of_US", "ON": "Ontario"})
    assert b.duty == {"US": 80.0, "CA": 20.0}
    assert b.frictions == {"US": 6.0, "CA": 30.0}
    assert b.revenue == {"US": 100.0, "CA": 0.0}
    assert b.net == {"US": -14.0, "CA": 50.0}
    assert b.us_share_duty == pytest.approx(0.8)
    assert b.us_share_frictions == pytest.approx(6 / 36)
    assert b.us_share_net == 0.0  # the US side gains while Canada's pays
    reg = b.by_region.set_index(["country", "region"])
    assert reg.loc[("US", "US_Midwest"), "burden"] == pytest.approx(86.0)
    assert reg.loc[("US", "rest_of_US"), "burden"] == 0.0
    assert reg.loc[("CA", "Ontario"), "burden"] == pytest.approx(50.0)
    sec = b.by_sector.set_index(["country", "sector"])
    assert sec.loc[("US", "auto"), "net"] == pytest.approx(-14.0)
    # the batch form: two identical pairs give the same means and a zero-width interval
    s = burden_batch([alt, alt], [base, base])
    row = s.headline.set_index("kpi").loc["us_share_duty"]
    assert row["mean"] == pytest.approx(0.8) and row["ci_low"] == pytest.approx(0.8)


@given(st.floats(0, 1e9), st.floats(0, 1e9))
def test_us_share_is_the_plain_share_when_both_bear_a_cost(us: float, ca: float) -> None:
    if us + ca == 0:
        assert math.isnan(us_share(us, ca))
    else:
        assert us_share(us, ca) == pytest.approx(us / (us + ca), abs=1e-12)
        assert 0.0 <= us_share(-us, ca) <= 0.5 <= us_share(us, -ca) <= 1.0


def test_cost_account_adds_up_to_the_kpis() -> None:
    res = simulate("tariffs_2025", seed=3, days=120)  # tariffs from March; drawn parameters
    acc = cost_account(res)
    k = res.kpis
    for c in ("US", "CA"):
        private = sum(
            v
            for (cc, _, _, it), v in acc.items()
            if cc == c and it not in ("revenue", "lost_export_margin")
        )
        rev = sum(v for (cc, _, _, it), v in acc.items() if cc == c and it == "revenue")
        lost = sum(v for (cc, _, _, it), v in acc.items() if cc == c and it == "lost_export_margin")
        assert private == pytest.approx(k[f"cost_{c.lower()}_private_usd"], rel=1e-9)
        assert rev == pytest.approx(k[f"duty_revenue_{c.lower()}_usd"], rel=1e-9)
        assert lost == pytest.approx(k[f"lost_export_margin_{c.lower()}_usd"], rel=1e-9)
    assert all(r for (_, r, _, it) in acc if it != "revenue")  # every cost has its site's region


def test_whopays_out_writes_its_tables_and_offers_no_resume(tmp_path: Path) -> None:
    """``--out`` writes the summary tables; ``--resume``, which it cannot honour, is refused."""
    from sim.cli import main

    out = tmp_path / "wp"
    assert main(["whopays", "tariffs_2025", "--reps", "2", "--days", "60", "--workers", "1",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    for name in ("headline", "by_region", "by_sector", "reps"):
        assert len(pd.read_parquet(out / f"{name}.parquet")) > 0
    assert main(["whopays", "tariffs_2025", "--reps", "2", "--out", str(out), "--resume"]) == 2


def test_sensitivity_runs_paired_points_and_writes_its_tables(tmp_path: Path) -> None:
    """The sensitivity batch end to end: every Sobol' design point and scan point runs the
    scenario against its baseline (the extra US duty and revenue are positive, not the baseline's
    minus the scenario's), and the indices, break-even values and samples are written."""
    from sim.cli import main

    out = tmp_path / "sens"
    assert main(["sensitivity", "tariffs_2025", "--samples", "2", "--scan", "2", "--days", "90",
                 "--workers", "1", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    samples = pd.read_parquet(out / "samples.parquet")
    k = sum(c.startswith(("market.", "measures.")) for c in samples.columns)
    assert len(samples) == 2 * (k + 2) + 2 * k
    assert (samples["duty_us_usd"] > 0).all() and (samples["revenue_us_usd"] > 0).all()
    indices = pd.read_parquet(out / "indices.parquet")
    assert set(indices["parameter"]) == {c for c in samples.columns if c.startswith(("market.", "measures."))}
    assert len(pd.read_parquet(out / "breakeven.parquet")) == k
