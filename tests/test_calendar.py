"""The arrival calendar: lots come out on the day they are due, in SimPy's order, and the ring
gives the same day-by-lane totals as single lots in buckets."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.calendar import Calendar


def test_a_lot_is_due_on_the_day_after_its_arrival_time_and_in_simpy_order() -> None:
    cal = Calendar(days=10, n_lanes=3, ring_lanes=None, depth=5)
    cal.add(0.0, 0, 5.0, 1.5, -1.0, 0.0)  # due 1.5 -> day 2
    cal.add(0.0, 1, 7.0, 2.0, 0.0, 0.0)  # due exactly 2.0 -> day 2, after 1.5
    cal.add(0.0, 2, 1.0, 1.5, 0.0, 0.0)  # same time as the first: scheduled later, comes later
    cal.add(0.0, 0, 2.0, 0.25, 0.0, 0.0)  # due 0.25 -> day 1
    assert cal.take_bucket(0) == []
    assert [lot[2:4] for lot in cal.take_bucket(1)] == [(0, 2.0)]
    assert [lot[2:4] for lot in cal.take_bucket(2)] == [(0, 5.0), (2, 1.0), (1, 7.0)]
    assert cal.take_bucket(2) == []  # taken once


def test_the_horizon_bucket_gives_only_lots_due_before_the_end() -> None:
    cal = Calendar(days=3, n_lanes=2, ring_lanes=np.array([True, True]), depth=4)
    cal.add(1.0, 0, 4.0, 1.5, 0.0, 0.0)  # due 2.5 -> day 3 = the horizon: a bucket, not the ring
    cal.add(1.0, 1, 6.0, 2.0, 0.0, 0.0)  # due exactly 3.0: after the run
    assert cal.take_ring(3) is None
    assert [lot[2:4] for lot in cal.take_bucket(3, before=3.0)] == [(0, 4.0)]
    assert [lot[2:4] for lot in cal.take_bucket(3)] == [(1, 6.0)]  # still there


def test_ring_lanes_sum_per_day_and_carry_duty() -> None:
    cal = Calendar(days=30, n_lanes=3, ring_lanes=np.array([True, False, True]), depth=6)
    cal.add(0.0, 0, 10.0, 2.0, 0.0, 0.5)
    cal.add(0.0, 0, 30.0, 1.2, 0.0, 0.0)
    cal.add(0.0, 1, 3.0, 2.0, 0.0, 0.0)  # not a ring lane: a bucket
    cal.add(0.0, 2, 1.0, 9.0, 0.0, 0.0)  # beyond the ring's depth: a bucket
    got = cal.take_ring(2)
    assert got is not None
    q, dq = got
    assert q.tolist() == [40.0, 0.0, 0.0]
    assert dq is not None and dq.tolist() == [5.0, 0.0, 0.0]  # 10 units x US$0.5
    assert cal.take_ring(2) is None  # emptied
    assert [lot[2] for lot in cal.take_bucket(2)] == [1]
    assert [lot[2] for lot in cal.take_bucket(9)] == [2]


lots = st.lists(
    st.tuples(
        st.integers(0, 3),  # lane
        st.floats(0.1, 100.0),  # units
        st.floats(0.05, 12.0),  # delay, days
        st.sampled_from([0.0, 0.0, 0.25, 1.5]),  # duty per unit
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(lots, st.integers(0, 5), st.booleans(), st.integers(1, 20))
def test_ring_and_buckets_give_the_same_totals_by_day_and_lane(
    batch: list[tuple[int, float, float, float]], t: int, unique: bool, days: int
) -> None:
    """The same lots, left on day ``t`` of a ``days``-day run, added one by one into buckets
    and in one call into a calendar with a ring (lanes 0-2, depth 6): per due day and lane, the
    same units and duty, up to and past the horizon."""
    if unique:  # one lot per lane, as a day's dispatch is
        batch = list({lot[0]: lot for lot in batch}.values())
    nl = 4
    ring_lanes = np.array([True, True, True, False])
    plain = Calendar(days, nl, None, 1)
    mixed = Calendar(days, nl, ring_lanes, 6)
    for lane, qty, delay, duty in batch:
        plain.add(float(t), lane, qty, delay, float(t), duty)
    arr = np.array(batch)
    mixed.add_many(
        t, arr[:, 0].astype(np.intp), arr[:, 1], arr[:, 2], None, arr[:, 3], unique=unique
    )
    for day in range(t, t + 14):
        want_q = np.zeros(nl)
        want_d = np.zeros(nl)
        for _, _, lane, qty, _, duty in plain.take_bucket(day, before=float(days) if day == days else math.inf):
            want_q[lane] += qty
            want_d[lane] += duty * qty
        got_q = np.zeros(nl)
        got_d = np.zeros(nl)
        ring = mixed.take_ring(day)
        if ring is not None:
            got_q += ring[0]
            if ring[1] is not None:
                got_d += ring[1]
        for _, _, lane, qty, _, duty in mixed.take_bucket(day, before=float(days) if day == days else math.inf):
            got_q[lane] += qty
            got_d[lane] += duty * qty
        assert np.allclose(got_q, want_q, rtol=1e-12, atol=0.0), day
        assert np.allclose(got_d, want_d, rtol=1e-12, atol=0.0), day
