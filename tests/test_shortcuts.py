"""Shortcuts on the replication path give what the straightforward computation gives, bit for bit.

* :class:`~sim.engine.factors.MeasureFactors` keeps the stacked duty rates of each pattern of active
  measures, a day's tariff rate per lane and dispatch day, and recomputes the order shares of the
  points whose inputs moved only: checked day by day against a copy that recomputes everything.
* The ledger travels as a (rows, 3) array; the KPIs' and the daily series' sums per category are
  ``np.bincount`` over it: checked against a loop over the rows.
* :func:`sim.simulate` holds the cyclic collector off while a replication runs: the finished run is
  freed by reference counting, and the collector's state is restored, also after an error.
"""

from __future__ import annotations

import gc
import math
import weakref
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.analysis import metrics, series
from sim.batch import simulate as simulate_mod
from sim.engine.factors import DayFactors, MeasureFactors
from sim.engine.records import ledger_array
from sim.engine.run import Run
from sim.errors import MassBalanceError

FIELDS = (
    "lane_tariff", "lane_levy", "cap_factor", "insp_factor", "sec_days", "lane_factor",
    "lane_cap", "site_factor", "demand_factor", "demand_extra", "target_extra",
)  # fmt: skip


class FreshFactors(MeasureFactors):
    """MeasureFactors computed the straightforward way: every duty rate stacked on every change
    day, every tariff rate on every call, every switching target and every point's order shares
    recomputed on every change day."""

    def _duties_when(self, active: list[bool]) -> tuple[list[float], list[float]]:
        return (
            [self._stack(e, active) for e in self.lane_tariffs.values()],
            [self._stack(e, active) for e in self.lane_levies.values()],
        )

    def rate_for(self, lane: int, t: int, dispatched: int) -> float:
        entries = self.lane_tariffs.get(lane)
        if not entries:
            return 0.0
        ok = [m.active(t) and not (m.transit_exempt and dispatched < m.start) for m in self.measures]
        return self._stack(entries, ok)

    def _reweight(self, t: int) -> None:
        lay = self.lay
        for p in self.multi:
            ins = lay.in_lanes[p]
            costs = [self._extra_cost(i) for i in ins]
            f_new = [math.exp(-self.p_beta[p] * (c - min(costs)) / lay.p_value[p]) for c in costs]
            last = self.switch_target.get(p, [1.0] * len(ins))
            if any(abs(a - b) > 1e-12 for a, b in zip(last, f_new, strict=True)):
                self.switch_target[p] = f_new
                self.transitions[p] = (list(self.factor.get(p, [1.0] * len(ins))), f_new, t)
        for p, ins in enumerate(lay.in_lanes):
            if ins:
                self._set_weights(p)
        self._cap_weights()


def _snapshot(fx: DayFactors) -> list[Any]:
    """The day's factors, floats as hex (so -0.0, NaN and the last bit count)."""

    def h(xs: list[float]) -> list[str]:
        return [float(x).hex() for x in xs]

    out: list[Any] = [h(getattr(fx, f)) for f in FIELDS]
    out.append([h(w) for w in fx.weights])
    out.append(sorted((k, v.hex()) for k, v in fx.pipe_factor.items()))
    return out


@pytest.mark.parametrize("name", ["talks_collapse", "tariffs_2025", "capitulation"])
def test_measure_factors_match_a_full_recomputation_every_day(name: str) -> None:
    sc = sim.load_scenario(name)
    run = Run(sim.network_for(sc), sc, seed=0, days=2)  # only its layout and crossing groups
    pipes = list(run.border.pipe_groups)
    fast = MeasureFactors(run.lay, run.border.keys, pipes)
    slow = FreshFactors(run.lay, run.border.keys, pipes)
    lanes = sorted(fast.lane_tariffs)
    switched = 0
    for t in range(730):
        fast.apply(t)
        slow.apply(t)
        assert _snapshot(fast.today) == _snapshot(slow.today), f"day {t}"
        switched += fast.today.weights != [list(w) for w in run.lay.weights0]
        # lots of several lanes and dispatch days cross on day t, some more than once
        for back in (0, 3, 1, 3, 40, 0):
            for lane in lanes[back % 3 :: 2]:
                d = t - back
                assert fast.rate_for(lane, t, d).hex() == slow.rate_for(lane, t, d).hex()
    assert lanes and switched > 100  # the scenario switches suppliers: the check is not vacuous


_ROWS = st.lists(
    st.tuples(
        st.integers(0, 9),
        st.integers(0, 5),
        st.floats(-1e12, 1e12, allow_nan=False, allow_subnormal=False),
    ),
    max_size=60,
)


@given(rows=_ROWS)
def test_ledger_array_keeps_every_row_in_order(rows: list[tuple[int, int, float]]) -> None:
    arr = ledger_array(rows)
    want = np.array(rows, dtype=float).reshape(-1, 3)
    assert arr.shape == want.shape and arr.tobytes() == want.tobytes()
    assert ledger_array(arr) is arr or ledger_array(arr).tobytes() == arr.tobytes()


@given(rows=_ROWS, first=st.integers(0, 10))
def test_kpi_cost_sums_equal_a_loop_over_the_rows(
    rows: list[tuple[int, int, float]], first: int
) -> None:
    loop = np.zeros(6)
    for day, c, usd in rows:
        if day >= first:
            loop[c] += usd
    raw: Any = SimpleNamespace(ledger=ledger_array(rows))
    assert metrics._by_category(6, raw, first).tobytes() == loop.tobytes()


@given(rows=_ROWS)
def test_daily_cost_sums_equal_a_loop_over_the_rows(rows: list[tuple[int, int, float]]) -> None:
    loop = np.zeros((10, 6))
    for day, c, usd in rows:
        loop[day, c] += usd
    raw: Any = SimpleNamespace(ledger=ledger_array(rows))
    assert series._ledger_by_cat(raw, 10, 6).tobytes() == loop.tobytes()


def test_a_finished_run_is_freed_without_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[weakref.ref[Run]] = []

    class Tracked(Run):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            runs.append(weakref.ref(self))

    monkeypatch.setattr(simulate_mod, "Run", Tracked)
    assert gc.isenabled()
    res = sim.simulate("talks_collapse", seed=1, days=40)
    assert gc.isenabled()
    assert len(runs) == 1 and runs[0]() is None  # gone before any collection could run
    assert res.raw.ledger.shape[1] == 3
    gc.disable()
    try:
        sim.simulate("baseline", seed=1, days=5)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_the_collector_is_back_after_a_failed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Run) -> float:
        return 1.0

    monkeypatch.setattr(Run, "mass_balance", broken)
    with pytest.raises(MassBalanceError):
        sim.simulate("baseline", seed=1, days=5)
    assert gc.isenabled()
