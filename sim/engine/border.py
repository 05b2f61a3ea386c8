"""Border crossings of one run: road and rail queues, pipeline and wire capacity.

A :class:`Border` is built once per run from the network's lanes. Every road or rail (crossing,
direction) pair that a modelled lane uses, or that carries observed background traffic, is a group
``g`` with a :class:`~sim.engine.queueing.CrossingQueue` calibrated to its published waits and a Poisson
stream of background vehicles (observed traffic minus the modelled lanes' vehicles). Each day
:meth:`Border.cross` serves the group's carry-over queue, then the day's lots and background
vehicles, FIFO up to the crossing's daily capacity; modelled lots that do not fit queue to the next
day, background traffic that does not fit diverts. Pipelines and wires have no queue:
:meth:`Border.limit_pipes` curtails the day's dispatches through them pro rata to their capacity.
The border never calls the run: it reads the day's factors
(:class:`~sim.engine.factors.DayFactors`) it is given and returns what crossed (:class:`Crossed`)
and what is still waiting (:class:`Waiting`), in service order; the run books duty and delay and
schedules the arrivals. Records read ``keys``, ``queues``, ``day``, ``bkg`` and ``diverted``.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, NamedTuple

from sim.engine.factors import DayFactors
from sim.engine.queueing import CrossingQueue
from sim.spec.network import Network

RAIL_ROAD = ("road", "rail")

# a lot waiting for a road/rail crossing: (lane, quantity, transit days, born, dispatch day, duty/unit)
Lot = tuple[int, float, float, float, int, float]


class Crossed(NamedTuple):
    """A quantity of one lane served at a road or rail crossing today."""

    lane: int
    qty: float
    wait_days: float  # in-day wait, secondary inspection and the days it queued
    transit_days: float  # the lot's transit time, to which the wait adds
    born: float  # production day of its oldest unit (perishables)
    dispatched: int  # day the lot left its origin (transit-exempt duties)
    duty: float  # duty embodied per unit before this crossing, US$
    truck_hours: float | None  # waiting truck-hours at a road crossing, None at rail


class Waiting(NamedTuple):
    """Vehicles of one lane still queued at the end of the day (a day of waiting each)."""

    lane: int
    vehicles: float


class Border:
    """The crossing groups of one run, their queues and the factors measures set on them."""

    def __init__(self, net: Network) -> None:
        lanes = net.lanes
        self.keys: list[tuple[str, str]] = []  # (crossing id, direction) of group g
        self.queues: list[CrossingQueue] = []
        self.lanes: list[list[int]] = []  # modelled lanes of group g
        self.bkg: list[float] = []  # mean background vehicles per day
        self.upv: dict[int, float] = {}  # units per vehicle of each road/rail lane
        self.lane_group = [-1] * len(lanes)  # group of each lane, -1 if not road/rail
        self.pipe_groups: dict[tuple[str, str], tuple[float, list[int]]] = {}
        modelled = self._group_lanes(net)
        self._add_background_only(net)
        for key in self.keys:
            cr = net.crossing[key[0]]
            cap = cr.capacity(key[1]) or 1e9
            obs = cr.observed(key[1]) or 0.0
            mod = modelled.get(key, 0.0)
            load0 = min(max(obs, mod, 1e-6), 0.97 * cap)
            median = cr.wait_median_min or 10.0
            p95 = cr.wait_p95_min or 3.0 * median
            self.queues.append(CrossingQueue.calibrate(cap, cr.booths or 1, load0, median, p95))
            self.bkg.append(max(0.0, obs - mod))
        ng = len(self.keys)
        self.diverted = [0.0] * ng  # background vehicles turned away by a full crossing
        self.queued: list[deque[list[Any]]] = [deque() for _ in range(ng)]
        self.road = [net.crossing[k[0]].kind == "road" for k in self.keys]
        # the day's record per group: (vehicles, served, queue, wait scale, extra wait days)
        self.day: list[tuple[float, float, float, float, float]] = [(0.0, 0.0, 0.0, 1.0, 0.0)] * ng
        # lanes that cross without a queue (pipeline, wire, sea): duty is assessed at dispatch
        self.at_dispatch = [
            ln.crossing is not None and self.lane_group[i] < 0 for i, ln in enumerate(lanes)
        ]

    def _group(self, key: tuple[str, str]) -> int:
        if key not in self._gidx:
            self._gidx[key] = len(self.keys)
            self.keys.append(key)
            self.lanes.append([])
        return self._gidx[key]

    def _group_lanes(self, net: Network) -> dict[tuple[str, str], float]:
        """Group road/rail lanes by (crossing, direction) and pipeline/wire lanes by capacity;
        return the modelled vehicles per day of each road/rail group."""
        self._gidx: dict[tuple[str, str], int] = {}
        modelled: dict[tuple[str, str], float] = {}
        for i, ln in enumerate(net.lanes):
            if ln.crossing is None:
                continue
            cr = net.crossing[ln.crossing]
            direc = net.direction(ln)
            key = (cr.id, direc)
            com = net.commodity[ln.commodity]
            if cr.kind in RAIL_ROAD:
                upv = com.units_per_truck if cr.kind == "road" else com.units_per_railcar
                self.upv[i] = float(upv or 1.0)
                modelled[key] = modelled.get(key, 0.0) + ln.base_flow / self.upv[i]
                g = self._group(key)
                self.lanes[g].append(i)
                self.lane_group[i] = g
            elif cr.kind in ("pipeline", "wire"):
                cap = cr.capacity(direc)
                if cap is not None:
                    old = self.pipe_groups.get(key, (cap, []))
                    old[1].append(i)
                    self.pipe_groups[key] = old
        return modelled

    def _add_background_only(self, net: Network) -> None:
        """Crossings no modelled lane uses still carry their background traffic."""
        for cr in net.crossings:
            if cr.kind not in RAIL_ROAD:
                continue
            for direc in ("sb", "nb"):
                key = (cr.id, direc)
                if key not in self._gidx and (cr.observed(direc) or 0.0) > 0 and cr.capacity(direc):
                    self._group(key)

    def limit_pipes(self, want: list[float], fx: DayFactors) -> None:
        """Curtail the day's dispatches ``want`` (per lane) pro rata to pipeline/wire capacity."""
        for key, (cap, lanes) in self.pipe_groups.items():
            c = cap * fx.pipe_factor[key]
            tot = sum(want[i] for i in lanes)
            if tot > c:
                s = c / tot if tot > 0 else 0.0
                for i in lanes:
                    want[i] *= s

    def cross(
        self, t: int, lots: list[list[Lot]], bkg: list[float], fx: DayFactors
    ) -> list[Crossed | Waiting]:
        """Serve day ``t``'s vehicles at every road/rail group; ``lots[g]`` arrive at group ``g``
        with ``bkg[g]`` background vehicles. Return what crossed and what waits, in order."""
        out: list[Crossed | Waiting] = []
        for g, q in enumerate(self.queues):
            self._serve(g, q, lots[g], bkg[g], fx, out)
        return out

    def _serve(
        self,
        g: int,
        q: CrossingQueue,
        arriving: list[Lot],
        bkg: float,
        fx: DayFactors,
        out: list[Crossed | Waiting],
    ) -> None:
        queued = self.queued[g]
        cap_f, insp_f = fx.cap_factor[g], fx.insp_factor[g]
        cap = q.daily_capacity(cap_f, insp_f)
        upv = self.upv
        a_mod = 0.0
        for lot in arriving:
            a_mod += lot[1] / upv[lot[0]]
        a = a_mod + bkg
        road = self.road[g]
        # in-day wait (queue formula at today's load) plus secondary inspection, in days; a
        # vehicle also waits for the vehicles served before it today: (served so far) / capacity
        if cap > 0:
            scale = q.scale(a, cap_f, insp_f)
            base_wait = q.wait_mean_min(scale) / 1440.0 + fx.sec_days[g]
        else:
            scale = base_wait = math.inf
        # serve the carry-over queue first (the days it has queued are already behind it)
        room = cap
        while queued and room > 0:
            e = queued[0]
            v = e[0]
            wait_days = base_wait + (cap - room) / cap
            if v <= room:
                queued.popleft()
                room -= v
                part = 1.0
            else:
                part = room / v
                e[0] = v - room
                room = 0.0
            i, x, tau, born, dday, duty = e[1], e[2], e[3], e[4], e[5], e[6]
            sent = x * part
            if part < 1.0:
                e[2] = x - sent
            hours = (sent / upv[i]) * wait_days * 24.0 if road else None
            out.append(Crossed(i, sent, wait_days, tau, born, dday, duty, hours))
        extra = (cap - room) / cap if cap > 0 else math.inf
        wait_days = base_wait + extra
        frac = 1.0 if a <= room else (room / a if a > 0 else 0.0)
        for i, x, tau, born, dday, duty in arriving:
            sent = x * frac
            if sent > 0:
                hours = (sent / upv[i]) * wait_days * 24.0 if road else None
                out.append(Crossed(i, sent, wait_days, tau, born, dday, duty, hours))
            rest = x - sent
            if rest > 1e-12:
                queued.append([rest / upv[i], i, rest, tau, born, dday, duty])
        # background traffic the crossing cannot serve today diverts to other crossings or waits
        # for better days; it never stands in the queue (modelled lots do)
        self.diverted[g] += bkg * (1 - frac)
        # a day in the queue costs 24 truck-hours per modelled truck still waiting
        if road:
            for e in queued:
                out.append(Waiting(e[1], e[0]))
        served = (cap - room) + frac * a if cap > 0 else 0.0
        self.day[g] = (a, served, sum(e[0] for e in queued), scale, extra + fx.sec_days[g])
