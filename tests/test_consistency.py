"""Consistency of the 2024 baseline with its own inputs (this is not validation).

The published 2024 figures below (cited per number; networks/north_america/SOURCES.md) are the very figures the network was
calibrated to: truck counts and waits are columns of ``crossings.csv``, flows are lanes' base
flows. These tests check that the simulated baseline stays consistent with its inputs (queues,
background traffic, order policies and route choice do not drift away from them); they cannot
show that the model behaves as the border did. That judgement is made on episodes the network
was not calibrated on: ``tests/test_replays.py`` and ``experiments/replays/``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim import simulate
from sim.analysis.result import Result

# Published 2024 figures, written here independently of the network files.
VEHICLES_CA_US_PER_YEAR = (
    1.1e6  # §2.1: ~1.1 M of the 1.3 M Canadian-built light vehicles exported to the US
)
CRUDE_INTO_US_KBD = 4100.0  # §4.1: US crude imports from Canada 4.1 MMb/d (EIA)
GAS_CA_US_MMCFD = 8600.0  # §4.5: Canadian gas exports to the US 8.6 Bcf/d (EIA)
ELECTRICITY_CA_US_TWH = 35.6  # §4.7: Canadian electricity exports to the US 35.6 TWh (CER)
# §3.1/§10.4: inbound (southbound) trucks per day 2024 [BTS-BCED]; Buffalo-Niagara split 55/45
TRUCKS_SB_PER_DAY = {
    "X_AMB": 3830,
    "X_BWB": 2510,
    "X_PEACE": 1350,
    "X_LQ": 1110,
    "X_TIB": 522,
    "X_LAC": 751,
    "X_QCVT": 491,
    "X_HOU": 245,
    "X_PAC": 960,
    "X_SUM": 389,
    "X_EMB": 679,
    "X_NPO": 265,
    "X_COU": 434,
}
# §3.4: Transport Canada TDIH Table RO8, southbound truck waits (median, p95), minutes
WAITS_SB_MIN = {
    "X_AMB": (8.6, 33.5),
    "X_BWB": (15.7, 41.6),
    "X_PEACE": (16.9, 52.3),
    "X_LQ": (11.3, 41.0),
    "X_TIB": (13.0, 33.3),
    "X_LAC": (8.4, 24.0),
    "X_EMB": (10.7, 21.0),
    "X_NPO": (8.5, 22.2),
    "X_COU": (7.2, 18.7),
    "X_PAC": (11.4, 32.1),
    "X_SUM": (10.3, 29.3),
    "X_HOU": (5.5, 15.4),
}


@pytest.fixture(scope="module")
def baseline() -> Result:
    return simulate("baseline", seed=1, days=730)


def _flow(res: Result, commodity: str, direction: str = "sb") -> float:
    f = res.flows
    return float(
        f[(f.commodity == commodity) & (f.direction == direction)]["shipped_per_day"].sum()
    )


def test_vehicles_canada_to_us(baseline: Result) -> None:
    assert _flow(baseline, "vehicles") * 365 == pytest.approx(VEHICLES_CA_US_PER_YEAR, rel=0.10)


def test_crude_into_the_us(baseline: Result) -> None:
    assert _flow(baseline, "crude") == pytest.approx(CRUDE_INTO_US_KBD, rel=0.10)


def test_gas_canada_to_us(baseline: Result) -> None:
    assert _flow(baseline, "gas") == pytest.approx(GAS_CA_US_MMCFD, rel=0.10)


def test_electricity_canada_to_us(baseline: Result) -> None:
    twh = _flow(baseline, "electricity") * 365 / 1e6
    assert twh == pytest.approx(ELECTRICITY_CA_US_TWH, rel=0.10)


@pytest.mark.parametrize("crossing", sorted(TRUCKS_SB_PER_DAY))
def test_trucks_per_crossing(baseline: Result, crossing: str) -> None:
    cr = baseline.crossings
    row = cr[(cr.crossing == crossing) & (cr.direction == "sb")]
    assert len(row) == 1, f"{crossing} carries no simulated traffic"
    assert float(row["vehicles_per_day"].iloc[0]) == pytest.approx(
        TRUCKS_SB_PER_DAY[crossing], rel=0.10
    )


@pytest.mark.parametrize("crossing", sorted(WAITS_SB_MIN))
def test_waits_at_calibrated_crossings(baseline: Result, crossing: str) -> None:
    cr = baseline.crossings
    row = cr[(cr.crossing == crossing) & (cr.direction == "sb")].iloc[0]
    median, p95 = WAITS_SB_MIN[crossing]
    assert row["wait_p50_min"] == pytest.approx(median, rel=0.25)
    assert row["wait_p95_min"] == pytest.approx(p95, rel=0.25)


def test_baseline_is_quiet(baseline: Result) -> None:
    k = baseline.kpis
    assert k["mass_balance_error"] < 1e-9
    assert k["duty_usd"] == 0.0
    assert k["fill_rate"] > 0.99
    # without disruption no road crossing carries trucks over to the next day (rail may, briefly,
    # when lumpy train loads exceed a day's capacity)
    cr = baseline.crossings
    assert float(cr[cr.kind == "road"]["queue_peak"].max()) < 1.0
    assert float(cr["queue_peak"].max()) < 0.15 * 2100


def test_every_calibrated_lane_flows_near_its_base(baseline: Result) -> None:
    f = baseline.flows
    f = f[f.base_flow > 0]
    ratio = f.shipped_per_day / f.base_flow
    bad = f[(ratio < 0.85) | (ratio > 1.15)]
    assert bad.empty, bad.to_string()


def test_cli_run_writes_a_results_folder(tmp_path: pd.DataFrame) -> None:
    from sim.cli import main

    out = tmp_path / "r"
    assert (
        main(["run", "baseline", "--seed", "1", "--days", "730", "--out", str(out), "--quiet"]) == 0
    )
    for name in ("manifest.json", "kpis.parquet", "daily.parquet", "ledger.parquet"):
        assert (out / name).is_file()
    kp = pd.read_parquet(out / "kpis.parquet")
    assert len(kp) == 1
    need = {
        "scenario", "rep", "seed", "days", "backlog_peak", "backlog_days", "fill_rate", "cost_total_usd",
        "cost_us_usd", "cost_ca_usd", "duty_usd", "mass_balance_error", "events", "wall_s",
    }  # fmt: skip
    assert need <= set(kp.columns)
    assert kp["days"].iloc[0] == 730


def test_same_seed_same_kpis_other_seed_differs_on_the_default_network() -> None:
    drop = ["wall_s"]
    a = pd.Series(simulate("baseline", seed=7, days=120).kpis).drop(drop)
    b = pd.Series(simulate("baseline", seed=7, days=120).kpis).drop(drop)
    c = pd.Series(simulate("baseline", seed=8, days=120).kpis).drop(drop)
    assert a.equals(b)
    assert a["cost_total_usd"] != c["cost_total_usd"]
    assert a["backlog_days"] != c["backlog_days"] or a["fill_rate"] != c["fill_rate"]
