"""The arrival calendar of one run: lots on their way, by the day they are due.

A lot due at time ``at`` is due on day ``ceil(at)`` and is in stock before that day's tick, as a
SimPy timeout due at ``at`` would be (every transit time is > 0), but it costs no SimPy event.
Lots wait in per-day buckets of single lots (a calendar queue), taken in order of arrival time,
then of scheduling (SimPy's order). Lanes marked ``ring_lanes`` (lanes to points without FIFO
batches, where the order of arrival within a day changes only the order of a sum) are instead
added into a ring of per-day lane arrays ``depth`` days deep: a day's arrivals on those lanes
are two arrays, quantity and quantity times embodied duty per lane. Lots due beyond the ring,
or on the horizon's last day or later, go to the buckets.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: a lot in a bucket: (due time, scheduling order, lane, quantity, born, duty per unit US$)
Due = tuple[float, int, int, float, float, float]


class Calendar:
    """Lots on their way, by the day they are due.

    Parameters
    ----------
    days
        The run's horizon; lots due on day ``days`` or later always wait in buckets (the last
        bucket is taken in part, :meth:`take_bucket` ``before``).
    n_lanes
        Lanes of the run.
    ring_lanes
        Which lanes go into the ring, or ``None`` for buckets only.
    depth
        Days the ring looks ahead.
    """

    def __init__(
        self, days: int, n_lanes: int, ring_lanes: NDArray[np.bool_] | None, depth: int
    ) -> None:
        self.days = days
        self.ring_lanes = ring_lanes
        self.depth = depth if ring_lanes is not None else 1
        width = n_lanes if ring_lanes is not None else 0
        self.qty = np.zeros((self.depth, width))  # units due per day slot and lane
        self.duty = np.zeros((self.depth, width))  # ... times their embodied duty, US$
        self.used = np.zeros(self.depth, dtype=bool)
        self.taxed = np.zeros(self.depth, dtype=bool)
        self.buckets: dict[int, list[Due]] = {}
        self._seq = itertools.count()

    def add(self, now: float, lane: int, qty: float, delay: float, born: float, duty: float) -> None:
        """``qty`` units on ``lane``, due ``delay`` days after ``now``."""
        at = now + delay
        day = math.ceil(at)
        rl = self.ring_lanes
        if rl is not None and rl[lane] and day < self.days and day - now < self.depth:
            slot = day % self.depth
            self.qty[slot, lane] += qty
            self.used[slot] = True
            if duty:
                self.duty[slot, lane] += duty * qty
                self.taxed[slot] = True
            return
        bucket = self.buckets.get(day)
        if bucket is None:
            bucket = self.buckets[day] = []
        bucket.append((at, next(self._seq), lane, qty, born, duty))

    def add_many(
        self, t: int, lanes: Any, qty: Any, delay: Any, born: Any, duty: Any, unique: bool = False
    ) -> None:
        """:meth:`add` for many lots leaving on day ``t`` (arrays; ``born`` None: born on day
        ``t``); ``unique``: no lane twice. Needs the ring."""
        assert self.ring_lanes is not None
        day = np.ceil(t + delay).astype(np.intp)
        ok = self.ring_lanes[lanes] & (day < min(self.days, t + self.depth))
        every = bool(ok.all())
        if not every:
            day, lanes_r, qty_r, duty_r = day[ok], lanes[ok], qty[ok], duty[ok]
        else:
            lanes_r, qty_r, duty_r = lanes, qty, duty
        slot = day % self.depth
        if unique:  # (slot, lane) pairs differ: a plain fancy add is exact
            self.qty[slot, lanes_r] += qty_r
        else:
            np.add.at(self.qty, (slot, lanes_r), qty_r)
        self.used[slot] = True
        dq = duty_r * qty_r
        if dq.any():
            taxed = dq != 0
            np.add.at(self.duty, (slot[taxed], lanes_r[taxed]), dq[taxed])
            self.taxed[slot[taxed]] = True
        if every:
            return
        now = float(t)
        for k in np.flatnonzero(~ok).tolist():
            b = now if born is None else float(born[k])
            self.add(now, int(lanes[k]), float(qty[k]), float(delay[k]), b, float(duty[k]))

    def take_ring(self, day: int) -> tuple[NDArray[np.float64], NDArray[np.float64] | None] | None:
        """The ring's arrivals of ``day`` per lane: (units, units times duty or ``None`` when no
        lot carried duty), or ``None`` when none are due; the slot is emptied."""
        slot = day % self.depth
        if self.ring_lanes is None or day >= self.days or not self.used[slot]:
            return None
        q = self.qty[slot].copy()
        self.qty[slot] = 0.0
        self.used[slot] = False
        dq = None
        if self.taxed[slot]:
            dq = self.duty[slot].copy()
            self.duty[slot] = 0.0
            self.taxed[slot] = False
        return q, dq

    def take_bucket(self, day: int, before: float = math.inf) -> list[Due]:
        """Bucket ``day``'s lots in order of arrival time, then of scheduling; with ``before``,
        only the lots due strictly before it (the rest stay)."""
        bucket = self.buckets.pop(day, None)
        if not bucket:
            return []
        bucket.sort()
        for k, lot in enumerate(bucket):
            if lot[0] >= before:
                self.buckets[day] = bucket[k:]
                return bucket[:k]
        return bucket
