"""Numbers on screen reconcile: summary parts add up, money has units, intervals of non-negative KPIs
stay non-negative, one-sided KPIs are shown, sweeps pivot, TTS is paired, progress is logged."""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.metrics import tts_days
from sim.analysis.statistics import bootstrap_ci, paired_deltas, summarize
from sim.cli import _compare_row, cost_lines, fmt_kpi, main, sweep_pivot

_USD = re.compile(r"US\$([\d,]+\.\d\d)([BMk]?)")


def _cents(text: str) -> int:
    return round(float(text.replace(",", "")) * 100)


def _kpis(us: float, ca: float, os_: float, rev_us: float, rev_ca: float) -> dict[str, float]:
    return {
        "cost_total_usd": us + ca + os_ - rev_us - rev_ca,
        "cost_us_usd": us - rev_us, "cost_ca_usd": ca - rev_ca,
        "cost_us_private_usd": us, "cost_ca_private_usd": ca,
        "duty_revenue_us_usd": rev_us, "duty_revenue_ca_usd": rev_ca,
        "duty_usd": rev_us + rev_ca, "us_share_of_duty_cost": 0.6,
        **{f"cost_{k}_usd": 1.0 for k in ("transport", "holding", "delay", "downtime", "backlog",
                                          "lost_margin", "spoilage", "duty")},
    }  # fmt: skip


_AMOUNT = st.floats(0, 5e10, allow_nan=False)


@given(us=_AMOUNT, ca=_AMOUNT, os_=_AMOUNT, rev_us=st.floats(0, 1e10), rev_ca=st.floats(0, 1e10))
def test_summary_parts_add_up_to_the_total_as_shown(
    us: float, ca: float, os_: float, rev_us: float, rev_ca: float
) -> None:
    k = _kpis(us, ca, os_, rev_us, rev_ca)
    if k["cost_total_usd"] < 1000:
        return
    head = " ".join(cost_lines(k)[:2])
    found = _USD.findall(head)
    units = {u for _, u in found}
    assert len(units) == 1  # one unit: the shown numbers can be added as shown
    total, *parts = (_cents(x) for x, _ in found)
    signs = [1, 1, 1, -1][: len(parts)]
    assert total == sum(s * p for s, p in zip(signs, parts, strict=True)), head


def test_run_summary_names_who_pays_and_who_collects_the_duty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "talks_collapse", "--seed", "1", "--days", "200"]) == 0
    out = capsys.readouterr().out
    assert "+ overseas buyers US$" in out and "- the governments' duty revenue US$" in out
    assert re.search(r"duty US\$[\d.]+[BM]: paid by importers, collected by the US government", out)
    assert "borne after pass-through" in out and "duty nets to 0 (paid and collected)" in out
    assert "duty US$0" not in out


@pytest.mark.parametrize(
    ("kpi", "value", "shown"),
    [
        ("cost_total_usd", 2.287e8, "US$228.70M"),
        ("cost_total_usd", -2.287e11, "-US$228.70B"),
        ("backlog_peak", 1234.0, "US$1.23k"),
        ("backlog_days", 5e9, "US$5.00B·d"),
        ("fill_rate", 0.99953, "99.95%"),
        ("tts_days", 12.0, "12.0 d"),
        ("downtime_hours", 12345.6, "12,345.6 h"),
        ("events", 167469.0, "167,469"),
        ("tts_days", math.nan, "n/a"),
    ],
)
def test_kpis_are_shown_with_units_and_thousands(kpi: str, value: float, shown: str) -> None:
    assert fmt_kpi(kpi, value) == shown


def test_batch_table_has_no_exponents(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tiny), "--reps", "3", "--days", "20", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n", 1)[1].rsplit("\n", 2)[0]
    assert "US$" in table and not re.search(r"\d[eE][+-]\d", table), table


@given(st.lists(st.floats(0, 1e9), min_size=2, max_size=30))
def test_interval_of_a_non_negative_kpi_is_never_negative(xs: list[float]) -> None:
    row = summarize(pd.DataFrame({"k": xs})).iloc[0]
    assert row["ci_low"] >= 0 or math.isnan(row["ci_low"])


def test_rare_events_get_a_bootstrap_interval_within_the_data() -> None:
    xs = [0.0] * 9 + [100.0]  # t interval: 10 ± 22.6, reaching below 0
    row = summarize(pd.DataFrame({"k": xs})).iloc[0]
    assert row["interval"] == "bootstrap"
    assert row["ci_low"] == 0.0 and 20.0 <= row["ci_high"] <= 40.0  # P(two or more 100s) ~ 26 %
    lo, hi = bootstrap_ci(xs)
    assert (lo, hi) == (row["ci_low"], row["ci_high"])  # fixed seed: reproducible
    assert summarize(pd.DataFrame({"k": [10.0, 11.0, 12.0]})).iloc[0]["interval"] == "t"


def test_compare_shows_a_kpi_defined_only_in_the_alternative() -> None:
    base = pd.DataFrame({"rep": [0, 1, 2], "tts_days": [math.nan] * 3, "x": [1.0, 2.0, 3.0]})
    alt = pd.DataFrame({"rep": [0, 1, 2], "tts_days": [10.0, 20.0, 30.0], "x": [2.0, 3.0, 4.0]})
    table = paired_deltas(base, alt).set_index("kpi", drop=False)
    row = table.loc["tts_days"]
    assert row["n"] == 0 and math.isnan(row["base_mean"]) and row["alt_mean"] == 20.0
    assert _compare_row(row.to_dict()) == ["tts_days", "n/a", "20.0 d", "alt only", "-", "-", "-"]
    assert table.loc["x", "delta_mean"] == 1.0


def test_compare_prints_who_pays_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "baseline", "talks_collapse", "--reps", "2", "--days", "150",
                 "--workers", "1", "--quiet"]) == 0  # fmt: skip
    assert main(["compare", "baseline", "talks_collapse", "--reps", "2", "--days", "150",
                 "--workers", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    for k in ("cost_us_private_usd", "cost_ca_private_usd", "duty_revenue_us_usd",
              "duty_revenue_ca_usd", "us_share_of_duty_cost"):  # fmt: skip
        assert re.search(rf"^  {k} ", out, flags=re.M), k
    assert not re.search(r"\d[eE][+-]\d", out) and " nan " not in out


def test_sweep_pivot_shows_point_zero_and_the_deltas_from_it() -> None:
    table = pd.DataFrame(
        {
            "point": [0, 0, 1, 1, 2, 2],
            "costs.truck_hour_usd": [90, 90, 120, 120, 150, 150],
            "kpi": ["cost_total_usd", "fill_rate"] * 3,
            "mean": [1.0e9, 0.99, 1.5e9, 0.98, 0.9e9, 0.99],
        }
    )
    legend, header, rows = sweep_pivot(table, ["costs.truck_hour_usd"])
    assert legend == ["  P0: costs.truck_hour_usd = 90", "  P1: costs.truck_hour_usd = 120",
                      "  P2: costs.truck_hour_usd = 150"]  # fmt: skip
    assert header == ["kpi", "P0", "P1 - P0", "P2 - P0"]
    assert rows == [
        ["fill_rate", "99.00%", "-1.00%", "+0.00%"],
        ["cost_total_usd", "US$1.00B", "+US$500.00M", "-US$100.00M"],
    ] or rows == [
        ["cost_total_usd", "US$1.00B", "+US$500.00M", "-US$100.00M"],
        ["fill_rate", "99.00%", "-1.00%", "+0.00%"],
    ]


def _fake(backlog: list[float], lost: list[float], start: int | None) -> SimpleNamespace:
    return SimpleNamespace(
        meta=SimpleNamespace(
            point_value=[1.0], first_disruption=start, demanded_value=1000.0 * len(lost)
        ),
        raw=SimpleNamespace(backlog=np.array(backlog, dtype=float)[:, None], lost_by_day=lost),
    )


def test_paired_tts_ignores_shortfalls_the_baseline_has_on_the_same_seed() -> None:
    days = 20
    noise = [0.0] * days
    noise[12] = 50.0  # the baseline itself falls short on day 12 (5 % of a day's demand)
    alt_lost = list(noise)
    alt_lost[15] = 80.0  # the disruption's own first shortfall: day 15
    base, alt = _fake([0.0] * days, noise, None), _fake([0.0] * days, alt_lost, 10)
    assert tts_days(alt, base) == 5.0  # day 15 - start 10; day 12 is the baseline's noise
    assert math.isnan(tts_days(_fake([0.0] * days, noise, 10), base))  # no extra shortfall
    assert math.isnan(tts_days(_fake([0.0] * days, alt_lost, None), base))  # no disruption
    growing = [0.0] * 17 + [100.0, 300.0, 300.0]  # backorders growing from day 17
    assert tts_days(_fake(growing, noise, 10), base) == 7.0


@pytest.mark.parametrize(("reps", "lines"), [(10, 10), (20, 10), (5, 5), (2, 2)])
def test_progress_without_a_terminal_is_one_line_per_ten_percent(
    tiny: Path, capsys: pytest.CaptureFixture[str], reps: int, lines: int
) -> None:
    from sim.batch import run_batch

    run_batch(tiny, reps=reps, days=5, workers=1)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == lines, err
    assert err[-1].startswith(f"tiny: {reps}/{reps} replications (100%) in ")
    run_batch(tiny, reps=reps, days=5, workers=1, quiet=True)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "   \n# x\n"])
def test_an_empty_scenario_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    p = tmp_path / "empty.toml"
    p.write_text(text, encoding="utf-8")
    assert main(["validate", str(p)]) == 2
    assert f"{p}: empty scenario: no name and no measures" in capsys.readouterr().out
    assert main(["run", str(p)]) == 2
    assert "empty scenario: no name and no measures" in capsys.readouterr().err
