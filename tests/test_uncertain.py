"""Uncertain parameters: distributions, per-replication draws, validation, and Sobol' indices of a
known function through the sensitivity code path."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import load_scenario, run_batch, simulate
from sim.analysis import sensitivity as sa
from sim.batch.runner import engine_for, run_on
from sim.batch.whopays import pair_uncertain
from sim.cli import main
from sim.spec.params import draw_values, param_column, unit_draw, with_values
from sim.spec.uncertain import Uncertain

TINY = Path(__file__).resolve().parent.parent / "networks" / "tiny"
HEAD = f'network = "{TINY}"\nhorizon_days = 30\n'
UNC = """
[uncertain]
"market.pass_through.exporter" = { dist = "triangular", low = 0.0, mode = 0.1, high = 0.5 }
"market.switch_logit" = { dist = "normal", mean = 4.0, sd = 2.0, low = 2.0, high = 8.0 }
"costs.holding_rate_per_year" = { dist = "choice", values = [0.2, 0.25, 0.4] }
"market.elasticity.auto" = { dist = "uniform", low = -1.5, high = -0.5 }
"""


@pytest.fixture()
def unc(tmp_path: Path) -> Path:
    p = tmp_path / "unc.toml"
    p.write_text('name = "unc"\n' + HEAD + UNC, encoding="utf-8")
    return p


@given(st.floats(0, 1), st.floats(0, 1))
def test_ppf_is_monotone_and_stays_in_the_support(u: float, v: float) -> None:
    for d in (
        Uncertain("k", "uniform", low=-1.0, high=3.0),
        Uncertain("k", "triangular", low=0.0, mode=0.1, high=0.5),
        Uncertain("k", "normal", mean=4.0, sd=2.0, low=2.0, high=8.0),
        Uncertain("k", "choice", values=(0.2, 0.25, 0.4)),
    ):
        lo, hi = d.support
        a, b = d.ppf(min(u, v)), d.ppf(max(u, v))
        assert lo <= a <= b <= hi


def test_distributions_have_their_textbook_moments() -> None:
    u = (np.arange(200_000) + 0.5) / 200_000
    tri = np.array([Uncertain("k", "triangular", low=0.0, mode=0.1, high=0.5).ppf(x) for x in u])
    assert tri.mean() == pytest.approx((0.0 + 0.1 + 0.5) / 3, abs=1e-4)
    nrm = np.array(
        [Uncertain("k", "normal", mean=0.0, sd=1.0, low=-1.0, high=1.0).ppf(x) for x in u]
    )
    # truncated standard normal on [-1, 1]: variance 1 - 2 phi(1) / (2 Phi(1) - 1) = 0.29112
    assert nrm.mean() == pytest.approx(0.0, abs=1e-6)
    assert nrm.var() == pytest.approx(0.29112, abs=1e-4)


def test_draws_depend_on_seed_rep_and_key_only(unc: Path) -> None:
    sc = load_scenario(unc)
    a = draw_values(sc.uncertain, 7, 3)
    assert a == draw_values(sc.uncertain, 7, 3)
    assert a != draw_values(sc.uncertain, 7, 4)
    # another scenario declaring only one of the keys draws the same value for it
    one = draw_values(sc.uncertain[1:2], 7, 3)
    assert one == {sc.uncertain[1].key: a[sc.uncertain[1].key]}
    # parameters are drawn independently of each other: uniform, uncorrelated across replications
    u = np.array([[unit_draw(7, r, k) for k in ("a.b", "c.d")] for r in range(400)])
    assert abs(np.corrcoef(u.T)[0, 1]) < 0.15
    assert u.mean() == pytest.approx(0.5, abs=0.05)
    res = simulate(sc, seed=7, rep=3)
    for k, v in a.items():
        assert res.kpis[param_column(k)] == v
    # the drawn exporter share is the one the ledger used, the other parties rescaled to sum 1
    drawn = with_values(sc, a).market.pass_through
    assert drawn["exporter"] == a["market.pass_through.exporter"]
    assert sum(drawn.values()) == pytest.approx(1.0, abs=1e-12)


def test_batch_draws_are_the_same_serially_and_on_a_pool(unc: Path) -> None:
    serial = run_batch(unc, reps=3, seed=5, workers=1, quiet=True).kpis
    pool = run_batch(unc, reps=3, seed=5, workers=2, quiet=True).kpis
    cols = [c for c in serial.columns if c.startswith("param:")]
    assert len(cols) == 4
    assert serial[cols].equals(pool[cols])
    assert serial.drop(columns=["wall_s"]).equals(pool.drop(columns=["wall_s"]))
    assert serial[cols[0]].nunique() == 3


@pytest.mark.parametrize("workers", [1, 2])
def test_set_values_reach_each_replication_serially_and_on_a_pool(unc: Path, workers: int) -> None:
    # the values a batch drew, set per replication on the scenario without declarations: each
    # replication runs with its own set and reproduces the drawn run
    drawn = run_batch(unc, reps=3, seed=5, workers=1, quiet=True).kpis
    cols = [c for c in drawn.columns if c.startswith("param:")]
    keys = [c.removeprefix("param:") for c in cols]
    params = {r: dict(zip(keys, drawn.loc[r, cols], strict=True)) for r in (0, 2)}
    fixed = dataclasses.replace(load_scenario(unc), uncertain=())
    with engine_for([fixed], workers, None) as engine:
        got = run_on(engine, fixed, reps=3, seed=5, days=None, out=None, resume=False,
                     progress=False, quiet=True, params=params).kpis  # fmt: skip
    assert got[cols].iloc[[0, 2]].equals(drawn[cols].iloc[[0, 2]])
    assert got.loc[1, cols].isna().all()  # replication 1: files' values, nothing recorded
    same = drawn.drop(columns=["wall_s"]).iloc[[0, 2]]
    assert got.drop(columns=["wall_s"]).iloc[[0, 2]][same.columns].equals(same)


def test_paired_scenarios_get_the_union_of_declarations(unc: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.toml"
    plain.write_text('name = "plain"\n' + HEAD, encoding="utf-8")
    base, alt = pair_uncertain(load_scenario(plain), load_scenario(unc))
    assert [u.key for u in base.uncertain] == [u.key for u in alt.uncertain]
    assert draw_values(base.uncertain, 1, 2) == draw_values(alt.uncertain, 1, 2)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("market.pass_through.exporter", 0.3),
        ("market.pass_through.auto.sb.exporter", 0.6),
        ("market.pass_through.farm.consumer", 0.9),
        ("market.elasticity.farm", -0.9),
        ("market.switch_logit", 2.5),
        ("costs.holding_rate_per_year", 0.3),
    ],
)
def test_with_values_matches_an_override(unc: Path, key: str, value: float) -> None:
    over = load_scenario(unc, {key: value})
    direct = with_values(load_scenario(unc), {key: value})
    strip = {"overrides": (), "uncertain": ()}
    assert dataclasses.replace(over, **strip) == dataclasses.replace(direct, **strip)  # type: ignore[arg-type]


BAD = [
    ('"market.nope" = { dist = "uniform", low = 0, high = 1 }', "key 'uncertain.market.nope': 'nope' is not a numeric market parameter"),
    ('"market.switch_logit" = { dist = "beta", low = 0, high = 1 }', "key 'uncertain.market.switch_logit.dist': must be one of"),
    ('"market.switch_logit" = { dist = "uniform", low = 2 }', "key 'uncertain.market.switch_logit.high': required for dist 'uniform'"),
    ('"market.switch_logit" = { dist = "uniform", low = 2, high = 1 }', "must be greater than low"),
    ('"market.switch_logit" = { dist = "triangular", low = 1, mode = 9, high = 3 }', "key 'uncertain.market.switch_logit.mode': must lie in low..high"),
    ('"market.switch_logit" = { dist = "uniform", low = -1, high = 3 }', "key 'uncertain.market.switch_logit.low': value not allowed for market.switch_logit: must be in 0..1000 (got -1"),
    ('"market.pass_through.exporter" = { dist = "uniform", low = 0.5, high = 1.5 }', "key 'uncertain.market.pass_through.exporter.high': value not allowed"),
    ('"market.elasticity.auto" = { dist = "choice", values = [-1, 0.5] }', "key 'uncertain.market.elasticity.auto.values[1]': value not allowed"),
    ('"measures.nope.rate" = { dist = "uniform", low = 0, high = 1 }', "no measure with id 'nope'"),
    ('"market.switch_logit" = { dist = "normal", mean = 4, sd = 0, low = 2, high = 8 }', "key 'uncertain.market.switch_logit.sd': must be > 0"),
]  # fmt: skip


BAD_MARKET = [
    ("[market.pass_through.auto.sb]\nexporter = 0.5\nconsumer = 0.6\n", "key 'market.pass_through.auto.sb': shares must sum to 1 (got 1.1)"),
    ("[market.pass_through.auto.xb]\nexporter = 1.0\n", "key 'market.pass_through.auto.xb': unknown direction"),
    ("[market.pass_through.farm]\nexporter = 1.5\nconsumer = -0.5\n", "key 'market.pass_through.farm.exporter': must be in 0..1 (got 1.5)"),
    ("[market.pass_through.auto.sb]\nbank = 1.0\n", "key 'market.pass_through.auto.sb.bank': unknown party"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"), [(f"[uncertain]\n{line}\n", m) for line, m in BAD] + BAD_MARKET
)
def test_bad_uncertain_entries_and_pass_through_tables_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(HEAD + text, encoding="utf-8")
    assert main(["validate", str(p)]) == 2
    out = capsys.readouterr().out
    assert message in out and str(p) in out


def test_a_child_can_drop_a_parents_uncertain_parameter(unc: Path, tmp_path: Path) -> None:
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{unc}"\n[uncertain]\n"market.switch_logit" = {{ drop = true }}\n',
        encoding="utf-8",
    )
    keys = [u.key for u in load_scenario(child).uncertain]
    assert "market.switch_logit" not in keys and len(keys) == 3


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function() -> None:
    """Through the code path of `borderflow sensitivity`: a unit-cube design mapped by the
    parameters' inverse CDFs, then SALib's analysis. Analytic values (a = 7, b = 0.1):
    S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437."""
    params = [Uncertain(f"x{i}", "uniform", low=-math.pi, high=math.pi) for i in range(3)]
    unit = sa.unit_sample(params, 2048, "sobol", seed=1)
    values = sa.to_values(params, unit)
    x = np.array([[v[p.key] for p in params] for v in values])
    idx = sa.indices(params, unit, {"y": ishigami(x)}, "sobol", seed=1).set_index("parameter")
    assert idx["S1"].tolist() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.03)
    assert idx["ST"].tolist() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.03)
    assert (idx["S1_conf"] > 0).all() and (idx["ST_conf"] > 0).all()
    # a constant output has no variance to apportion: NaN indices, no SALib warning
    flat = sa.indices(params, unit, {"c": np.zeros(len(unit))}, "sobol", seed=1)
    assert flat["ST"].isna().all() and len(flat) == 3


def test_morris_elementary_effects_of_a_linear_function() -> None:
    """Morris on y = 3 x0 + x1 (x2 unused), each x uniform on 0..1: every elementary effect of a
    linear function is its coefficient, so mu* = 3, 1, 0 and sigma = 0; the Sobol' columns are
    NaN for this method."""
    params = [Uncertain(f"x{i}", "uniform", low=0.0, high=1.0) for i in range(3)]
    unit = sa.unit_sample(params, 20, "morris", seed=1)
    values = sa.to_values(params, unit)
    y = np.array([3.0 * v["x0"] + v["x1"] for v in values])
    idx = sa.indices(params, unit, {"y": y}, "morris", seed=1).set_index("parameter")
    assert idx["mu_star"].tolist() == pytest.approx([3.0, 1.0, 0.0], abs=1e-9)
    assert idx["sigma"].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert (idx["mu_star_conf"] >= 0).all()  # a confidence half-width, not missing
    assert idx[["S1", "ST"]].isna().all().all()


def test_break_even_interpolates_the_crossing() -> None:
    assert sa.break_even([0.0, 0.5, 1.0], [0.7, 0.6, 0.3], 0.5) == pytest.approx(2 / 3)
    assert math.isnan(sa.break_even([0.0, 1.0], [0.7, 0.6], 0.5))
    # a line through (0, 3) and (1, 1) crosses 0 at 1.5, outside the scan
    assert sa.extrapolated_zero([0.0, 0.5, 1.0], [3.0, 2.0, 1.0]) == pytest.approx(1.5)
