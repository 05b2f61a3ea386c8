"""The model against two 2022 border episodes it was not calibrated on (experiments/replays/).

Each response must go the observed way and fall within a band justified from the sources in
``experiments/replays/OBSERVATIONS.md`` (section "Bands the tests use, and why"). The network's
crossings are calibrated to 2024 counts, so changes are measured against the same scenario run
without the episode's measures, under common random numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPLAYS = Path(__file__).resolve().parent.parent / "experiments" / "replays"
sys.path.insert(0, str(REPLAYS))

import ambassador_2022  # noqa: E402
import coutts_2022  # noqa: E402
import replay  # noqa: E402


@pytest.fixture(scope="module")
def ambassador() -> tuple[Any, dict[str, float]]:
    p = replay.run("ambassador_2022", reps=2, seed=2022)
    return p, ambassador_2022.measure(p)


@pytest.fixture(scope="module")
def coutts() -> dict[str, float]:
    return coutts_2022.measure(replay.run("coutts_2022", reps=2, seed=2022))


def test_blue_water_takes_a_share_of_the_ambassador_traffic(ambassador: Any) -> None:
    _, m = ambassador
    assert 0.30 <= m["bwb_sb_load"] <= 1.20
    assert 0.30 <= m["bwb_nb_load"] <= 1.20


def test_blue_water_waits_rise_several_fold_and_recover(ambassador: Any) -> None:
    _, m = ambassador
    for d in ("sb", "nb"):
        ratio = m[f"bwb_{d}_p50"] / m[f"bwb_{d}_p50_base"]
        assert 3.0 <= ratio <= 40.0
    base = m["bwb_sb_p50_base"]
    assert m["bwb_sb_p50_feb14"] > 2.0 * base  # still raised the day the bridge reopened
    assert m["bwb_sb_p50_feb16"] < 2.0 * base  # "fairly normal" by Wednesday


def test_detroit_loses_and_port_huron_gains_trucks_in_february(ambassador: Any) -> None:
    _, m = ambassador
    assert -0.30 <= m["detroit_feb_sb"] <= -0.10
    assert -0.40 <= m["detroit_feb_nb"] <= -0.10
    assert 0.02 <= m["port_huron_feb_sb"] <= 0.25
    assert 0.10 <= m["port_huron_share_of_lost"] <= 0.60


def test_the_closure_delays_and_stops_trade(ambassador: Any) -> None:
    _, m = ambassador
    # about US$340M a day crossed at Detroit; six days of closure put ~US$2B at stake
    assert 0.5e9 <= m["trade_delayed_usd"] + m["trade_lost_usd"] <= 4e9


def test_toyota_plants_lose_output_while_they_were_reported_down(ambassador: Any) -> None:
    p, _ = ambassador
    losses = p.plant_losses("2022-02-07", "2022-02-21")
    reported = {f"2022-02-{d}" for d in range(10, 15)}  # Toyota Canada down Feb 10-14
    for plant in ("CA_TOY_CAM", "CA_TOY_WDS"):
        assert set(losses.get(plant, [])) & reported


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the network's assembly plants hold 1.5 days of input cover, more than "
    "the detour and queue at Blue Water, so Stellantis Windsor never runs short (it lost "
    "shifts on Feb 8-10 2022)",
)
def test_windsor_assembly_loses_output_on_the_days_reported(ambassador: Any) -> None:
    p, _ = ambassador
    losses = p.plant_losses("2022-02-07", "2022-02-21")
    assert {"2022-02-08", "2022-02-09", "2022-02-10"} & set(losses.get("CA_STL_WIN", []))


def test_coutts_traffic_moves_to_carway_del_bonita_and_north_portal(coutts: dict[str, float]) -> None:
    m = coutts
    assert -0.60 <= m["sweetgrass_feb_sb"] <= -0.25
    assert -0.60 <= m["coutts_feb_nb"] <= -0.25
    assert 1_000 <= m["carway_delbonita_extra_sb"] <= 5_000
    assert m["north_portal_extra_sb"] > 0
    assert 0.40 <= m["reappeared_share"] <= 0.95


def test_replay_scripts_print_model_against_observation() -> None:
    for script in ("ambassador_2022.py", "coutts_2022.py"):
        proc = subprocess.run(
            [sys.executable, str(REPLAYS / script), "--reps", "1"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "observed" in proc.stdout and "BTS BCED" in proc.stdout
