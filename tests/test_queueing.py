"""Tests for sim.queueing: Erlang C, M/M/c means, lot-level scale and vehicle-level agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.queueing import (
    RHO_MAX,
    CrossingQueue,
    erlang_c,
    mmc_sojourn_mean,
    mmc_wait_mean,
    simulate_vehicles,
    simulate_vehicles_detailed,
)

AMB = {
    "capacity_per_day": 5500.0,
    "booths": 12,
    "load0_per_day": 3830.0,
    "median_min": 8.6,
    "p95_min": 33.5,
}


def erlang_c_sum(c: int, a: float) -> float:
    """Textbook explicit-sum Erlang C, independent of the Erlang B recursion."""
    rho = a / c
    top = a**c / math.factorial(c) / (1.0 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def amb() -> CrossingQueue:
    return CrossingQueue.calibrate(**AMB)  # type: ignore[arg-type]


# --- Erlang C and M/M/c means ---------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_erlang_c_single_server_is_rho(rho: float) -> None:
    assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-12, abs=1e-15)


def test_erlang_c_hand_values() -> None:
    # c=2, a=1: top = 1/(2*(1-1/2)) = 1; sum_{k<2} = 1 + 1 = 2 -> C = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-12)
    # c=10, a=8: textbook value ~0.409.
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)
    assert erlang_c(10, 8.0) == pytest.approx(erlang_c_sum(10, 8.0), rel=1e-12)


def test_erlang_c_large_c_is_stable() -> None:
    for c in (200, 500):
        val = erlang_c(c, 0.95 * c)
        assert 0.0 < val < 1.0 and math.isfinite(val)
    # Heavy-traffic (Halfin-Whitt) check: C -> 1 as rho -> 1, ~0 well below 1 for large c.
    assert erlang_c(500, 0.8 * 500) < 1e-6
    assert erlang_c(500, 0.9999 * 500) > 0.99


@pytest.mark.parametrize(("c", "a"), [(0, 0.5), (3, -0.1), (3, 3.0), (3, 4.0)])
def test_erlang_c_rejects_bad_input(c: int, a: float) -> None:
    with pytest.raises(ValueError):
        erlang_c(c, a)


def test_mm1_sojourn_and_wait() -> None:
    lam, mu = 0.7, 1.0
    assert mmc_sojourn_mean(lam, mu, 1) == pytest.approx(1.0 / (mu - lam), rel=1e-12)
    assert mmc_wait_mean(lam, mu, 1) == pytest.approx(lam / (mu * (mu - lam)), rel=1e-12)


def test_mmc_little_law() -> None:
    # Little: L = lam*T and L = Lq + a (a busy servers on average); Lq from the textbook formula.
    lam, mu, c = 5.0, 0.6, 10
    a, rho = lam / mu, lam / (c * mu)
    lq = erlang_c_sum(c, a) * rho / (1.0 - rho)
    assert lam * mmc_wait_mean(lam, mu, c) == pytest.approx(lq, rel=1e-10)
    assert lam * mmc_sojourn_mean(lam, mu, c) == pytest.approx(lq + a, rel=1e-10)
    with pytest.raises(ValueError):
        mmc_wait_mean(6.0, 0.6, 10)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.floats(0.0, 0.999))
def test_erlang_c_properties(c: int, frac: float) -> None:
    a = frac * c
    val = erlang_c(c, a)
    assert 0.0 <= val <= 1.0
    assert val == pytest.approx(erlang_c_sum(c, a), rel=1e-9, abs=1e-300)
    a2 = a + 0.5 * (c - a)  # larger load, same c
    assert erlang_c(c, a2) >= val
    assert erlang_c(c + 1, a) <= val  # more servers, same load


# --- Vehicle-level SimPy run ------------------------------------------------------------------


def test_vehicle_sim_matches_erlang_c() -> None:
    c, rho, s = 3, 0.7, 2.0
    lam = rho * c / s
    soj, wait = simulate_vehicles_detailed(lam, s, c, 50_000, np.random.default_rng(20240601))
    assert soj.shape == (50_000,) and np.all(soj >= wait)
    assert soj.mean() == pytest.approx(mmc_sojourn_mean(lam, 1.0 / s, c), rel=0.05)
    assert float(np.mean(wait > 0.0)) == pytest.approx(erlang_c(c, rho * c), abs=0.02)
    # Public wrapper returns the same sojourns for the same seed.
    soj2 = simulate_vehicles(lam, s, c, 50_000, np.random.default_rng(20240601))
    np.testing.assert_array_equal(soj, soj2)


# --- CrossingQueue ----------------------------------------------------------------------------


def test_calibration_reproduces_published_waits() -> None:
    q = amb()
    assert q.service_min == pytest.approx(12 * 1440 / 5500)
    assert q.scale(3830.0) == pytest.approx(1.0, abs=1e-3)
    mu = 1.0 / q.service_min
    assert q.sojourn0_min == pytest.approx(mmc_sojourn_mean(3830 / 1440, mu, 12), rel=1e-3)
    assert q.wait_quantile_min(0.5) == pytest.approx(8.6, rel=1e-9)
    assert q.wait_quantile_min(0.95) == pytest.approx(33.5, rel=1e-6)
    assert q.wait_quantile_min(0.95, scale=2.0) == pytest.approx(67.0, rel=1e-6)
    z = np.random.default_rng(7).standard_normal(200_000)
    w = q.sample_waits_min(z, 1.0)
    assert np.median(w) == pytest.approx(8.6, rel=0.02)
    assert np.quantile(w, 0.95) == pytest.approx(33.5, rel=0.02)
    # Lognormal mean: median * exp(sigma^2/2), sigma = ln(33.5/8.6)/1.6449.
    sigma = math.log(33.5 / 8.6) / 1.6448536
    assert q.wait_mean_min(3.0) == pytest.approx(3.0 * 8.6 * math.exp(sigma**2 / 2), rel=1e-6)
    assert w.mean() == pytest.approx(q.wait_mean_min(), rel=0.03)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity_per_day", 0.0),
        ("booths", 0),
        ("load0_per_day", 5500.0),
        ("load0_per_day", -1.0),
        ("median_min", 0.0),
        ("p95_min", 8.0),
    ],
)
def test_calibration_validation_names_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        CrossingQueue.calibrate(**{**AMB, field: value})  # type: ignore[arg-type]


def test_frozen() -> None:
    q = amb()
    with pytest.raises(AttributeError):
        q.booths = 3  # type: ignore[misc]


def test_daily_capacity_by_hand() -> None:
    q = amb()
    assert q.daily_capacity() == pytest.approx(5500.0)
    assert q.daily_capacity(0.5) == pytest.approx(2750.0)  # 6 booths
    assert q.daily_capacity(0.0) == 0.0
    assert q.daily_capacity(1.0, 2.0) == pytest.approx(2750.0)
    assert q.daily_capacity(0.01) == pytest.approx(55.0)  # fluid: 1 % of the capacity
    assert q.daily_capacity(0.75, 1.5) == pytest.approx(9 * 5500.0 / 12 / 1.5)
    assert q.daily_capacity(0.3) == pytest.approx(1650.0)  # 3.6 booths' worth, not 4
    one = CrossingQueue.calibrate(400.0, 1, 245.0, 5.5, 15.4)  # a one-booth crossing
    assert one.daily_capacity(0.5) == pytest.approx(200.0)  # a slowdown still halves it


def test_scale_with_a_fractional_booth_count_keeps_the_capacity() -> None:
    q = amb()
    # 0.3 x 12 = 3.6 booths: 4 servers, each slower, so that together they serve 1,650/day
    s_d = q.service_min * 4 / 3.6
    lam = 1200.0 / 1440
    want = mmc_sojourn_mean(lam, 1.0 / s_d, 4) / q.sojourn0_min
    assert q.scale(1200.0, 0.3) == pytest.approx(want, rel=2e-3)
    assert 4 * 1440 / s_d == pytest.approx(q.daily_capacity(0.3))


def test_scale_under_slowdown_matches_exact_ratio() -> None:
    q = amb()
    lam, s = 2400.0 / 1440, q.service_min  # rho = 0.87 with 6 booths, < RHO_MAX
    base = mmc_sojourn_mean(lam, 1.0 / s, 12)
    half_booths = mmc_sojourn_mean(lam, 1.0 / s, 6) / base
    slow = mmc_sojourn_mean(lam, 1.0 / (2 * s), 12) / base
    r0 = q.scale(2400.0)
    assert q.scale(2400.0, capacity_factor=0.5) / r0 == pytest.approx(half_booths, rel=2e-3)
    assert q.scale(2400.0, inspection_factor=2.0) / r0 == pytest.approx(slow, rel=2e-3)
    assert q.scale(2400.0, 0.5) > 1.0 and q.scale(2400.0, 1.0, 2.0) > 1.0
    assert q.scale(1000.0, 0.0) == math.inf


def test_scale_caps_utilisation() -> None:
    q = amb()
    cap = RHO_MAX * 5500.0
    assert q.scale(10 * 5500.0) == pytest.approx(q.scale(cap), rel=1e-12)
    assert q.scale(5500.0) == pytest.approx(q.scale(cap), rel=1e-12)
    assert q.scale(0.99 * 5500.0) == pytest.approx(q.scale(cap), rel=1e-12)
    assert q.scale(0.99 * 2750.0, 0.5) == pytest.approx(q.scale(0.98 * 2750.0, 0.5), rel=1e-12)
    exact = mmc_sojourn_mean(cap / 1440, 1.0 / q.service_min, 12) / q.sojourn0_min
    assert q.scale(cap) == pytest.approx(exact, rel=1e-3)
    with pytest.raises(ValueError):
        q.scale(-1.0)


@pytest.mark.parametrize("booths", [1, 2, 12, 40, 300])
def test_interpolation_error_below_1e_3(booths: int) -> None:
    q = CrossingQueue.calibrate(1000.0 * booths, booths, 500.0 * booths, 5.0, 20.0)
    mu = 1.0 / q.service_min
    for load in np.linspace(0.0, RHO_MAX * q.capacity_per_day, 997)[:-1].tolist():
        exact = mmc_sojourn_mean(load / 1440, mu, booths) / q.sojourn0_min
        assert q.scale(load) == pytest.approx(exact, rel=1e-3)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.0, 6000.0),
    st.floats(0.0, 6000.0),
    st.sampled_from([1.0, 0.5, 0.25]),
    st.floats(1.0, 3.0),
)
def test_scale_monotone_in_load(x: float, y: float, cf: float, insp: float) -> None:
    q = amb()
    lo, hi = min(x, y), max(x, y)
    # monotone up to float rounding (at light load the sojourn is flat and differs in the last bit)
    assert q.scale(lo, cf, insp) <= q.scale(hi, cf, insp) * (1 + 1e-12)


@pytest.mark.parametrize(("load", "cf"), [(4500.0, 1.0), (2000.0, 0.5)])
def test_lot_level_matches_vehicle_level(load: float, cf: float) -> None:
    q = amb()
    lot_mean = q.scale(load, cf) * q.sojourn0_min
    booths = round(12 * cf)
    soj = simulate_vehicles(load / 1440, q.service_min, booths, 50_000, np.random.default_rng(11))
    assert soj.mean() == pytest.approx(lot_mean, rel=0.05)
