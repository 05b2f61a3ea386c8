"""Border crossings of one run: road and rail queues, pipeline and wire capacity.

A :class:`Border` is built once per run from the network's lanes. Every road or rail (crossing,
direction) pair that a modelled lane uses, or that carries observed background traffic, is a group
``g`` with a :class:`~sim.engine.queueing.CrossingQueue` calibrated to its published waits and a Poisson
stream of background vehicles (observed traffic minus the modelled lanes' vehicles). Each day
:meth:`Border.cross` serves the group's carry-over queue, then the day's lots and background
vehicles, FIFO up to the crossing's daily capacity; what does not fit queues to the next day.
Before that, the traffic of a crossing with alternatives (``corridors.csv``) is split among them
by :class:`~sim.engine.routes.RouteChoice` on the waits expected today; a diverted lot crosses at
the alternative and carries the detour and toll per vehicle (:class:`Crossed`), which the run
books. Background vehicles carry a value (the crossing's published trade value per day, less the
modelled lanes', per background vehicle); what leaves the system is the background that forgoes
the trip and the background still queued after ``bkg_patience_days`` days (its value is
``trade lost``); background that crosses a day late or at another crossing is ``trade delayed``.
Pipelines and wires have no queue:
:meth:`Border.limit_pipes` curtails the day's dispatches through them pro rata to their capacity.
The border never calls the run: it reads the day's factors
(:class:`~sim.engine.factors.DayFactors`) it is given and returns what crossed (:class:`Crossed`)
and what is still waiting (:class:`Waiting`), in service order; the run books duty and delay and
schedules the arrivals. Records read ``keys``, ``queues``, ``day``, ``bkg``, ``bkg_value`` and the
run totals ``lost``, ``div_in`` and ``div_out``.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from sim.engine.factors import DayFactors
from sim.engine.queueing import CrossingQueue, QueueDay
from sim.engine.routes import Option, RouteChoice
from sim.spec.network import Network
from sim.spec.scenario import Market

RAIL_ROAD = ("road", "rail")

# a lot waiting for a road/rail crossing: (lane, quantity, transit days, born, dispatch day, duty/unit)
Lot = tuple[int, float, float, float, int, float]
# lots routed to a group: (lots, share of each lot's quantity, detour hours, toll US$ per vehicle)
_Batch = tuple[list[Lot], float, float, float]
# background routed to a group: (vehicles, US$ per vehicle, home group)
_Bkg = tuple[float, float, int]
# the day's record of a group: vehicles, served, queue, wait scale, extra wait days, diverted in,
# diverted out, background lost (vehicles), trade delayed (US$), trade lost (US$)
GroupDay = tuple[float, float, float, float, float, float, float, float, float, float]
_IDLE: GroupDay = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
_new = tuple.__new__  # builds a Crossed without the Python-level NamedTuple constructor
BKG = -1  # lane index of a background entry in a queue
ROUTE_ITERATIONS = 8  # damped iterations of the day's route choice (method of successive averages)
ROUTE_TOL = 5.0  # ... stopped once no crossing's load moves by this many vehicles a day


class Crossed(NamedTuple):
    """A quantity of one lane served at a road or rail crossing today."""

    lane: int
    qty: float
    wait_days: float  # in-day wait, secondary inspection and the days it queued
    transit_days: float  # the lot's transit time plus its detour, to which the wait adds
    born: float  # production day of its oldest unit (perishables)
    dispatched: int  # day the lot left its origin (transit-exempt duties)
    duty: float  # duty embodied per unit before this crossing, US$
    truck_hours: float | None  # waiting truck-hours at a road crossing, None at rail
    detour_hours: float = 0.0  # extra driving hours per vehicle (crossed at an alternative)
    toll_usd: float = 0.0  # extra toll per vehicle


class Waiting(NamedTuple):
    """Vehicles of one lane still queued at the end of the day (a day of waiting each)."""

    lane: int
    vehicles: float


class Border:
    """The crossing groups of one run, their queues, route choice and the factors measures set.

    Shortcuts that give the same numbers to the last bit as the plain computation are taken
    while :attr:`fast` is true (tests compare them with the plain computation): each group's
    queue model is rebuilt only when its factors change, and remembers the waits at whole
    loads; a wait is computed once per load; a queue with young background is not scanned for
    background that leaves; lots that all cross skip the queue arithmetic; zero route-choice
    moves are not added; unchanged shares are not averaged.
    """

    fast = True  #: take the shortcuts

    def __init__(
        self, net: Network, market: Market | None = None, truck_hour_usd: float = 90.89
    ) -> None:
        lanes = net.lanes
        mk = market or Market()
        self.keys: list[tuple[str, str]] = []  # (crossing id, direction) of group g
        self.queues: list[CrossingQueue] = []
        self.lanes: list[list[int]] = []  # modelled lanes of group g
        self.bkg: list[float] = []  # mean background vehicles per day
        self.bkg_value: list[float] = []  # US$ per background vehicle
        self.upv: dict[int, float] = {}  # units per vehicle of each road/rail lane
        self.lane_group = [-1] * len(lanes)  # group of each lane, -1 if not road/rail
        self.pipe_groups: dict[tuple[str, str], tuple[float, list[int]]] = {}
        modelled, mod_value = self._group_lanes(net)
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
            b = max(0.0, obs - mod)
            self.bkg.append(b)
            trade = cr.trade(key[1])
            value = (trade - mod_value.get(key, 0.0)) / b if trade is not None and b > 0 else 0.0
            self.bkg_value.append(max(0.0, value))
        ng = len(self.keys)
        self.patience = mk.bkg_patience_days
        self.queued: list[deque[list[Any]]] = [deque() for _ in range(ng)]
        self.road = [net.crossing[k[0]].kind == "road" for k in self.keys]
        self.day: list[GroupDay] = [_IDLE] * ng
        self.lost = [0.0] * ng  # background vehicles that left the system, run total
        self.div_in = [0.0] * ng  # vehicles diverted here from their home crossing, run total
        self.div_out = [0.0] * ng  # vehicles of this crossing diverted elsewhere, run total
        # lanes that cross without a queue (pipeline, wire, sea): duty is assessed at dispatch
        self.at_dispatch = [
            ln.crossing is not None and self.lane_group[i] < 0 for i, ln in enumerate(lanes)
        ]
        self._routes(net, mk, truck_hour_usd)
        # today's queue model of each group, rebuilt when its factors change (:meth:`today`)
        self._cf, self._insp = [1.0] * ng, [1.0] * ng
        self._qd: list[QueueDay] = [q.on_day() for q in self.queues]

    def _routes(self, net: Network, mk: Market, truck_hour_usd: float) -> None:
        """The options of every group whose crossing has alternatives in the same direction."""
        options: dict[int, list[Option]] = {}
        for alt in net.alternatives:
            for direc in ("sb", "nb"):
                h = self._gidx.get((alt.crossing, direc))
                j = self._gidx.get((alt.alternative, direc))
                if h is None or j is None:
                    continue
                opts = options.setdefault(h, [Option(h, 0.0, 0.0)])
                opts.append(Option(j, alt.detour_hours, alt.toll_usd))
        self.choice = RouteChoice(
            options,
            [q.wait_mean_min() / 60.0 for q in self.queues],
            mk.route_logit,
            mk.route_inertia_days,
            mk.route_forgo_hours,
            truck_hour_usd,
        )
        self.watched = sorted({o.group for opts in options.values() for o in opts})
        self._fixed = [g for g in self.watched if g not in options]  # watched, not a home
        self._home_groups = [(h, [o.group for o in opts]) for h, opts in options.items()]

    def _group(self, key: tuple[str, str]) -> int:
        if key not in self._gidx:
            self._gidx[key] = len(self.keys)
            self.keys.append(key)
            self.lanes.append([])
        return self._gidx[key]

    def _group_lanes(
        self, net: Network
    ) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
        """Group road/rail lanes by (crossing, direction) and pipeline/wire lanes by capacity;
        return the modelled vehicles and US$ per day of each road/rail group."""
        self._gidx: dict[tuple[str, str], int] = {}
        modelled: dict[tuple[str, str], float] = {}
        value: dict[tuple[str, str], float] = {}
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
                value[key] = value.get(key, 0.0) + ln.base_flow * com.value_usd
                g = self._group(key)
                self.lanes[g].append(i)
                self.lane_group[i] = g
            elif cr.kind in ("pipeline", "wire"):
                cap = cr.capacity(direc)
                if cap is not None:
                    old = self.pipe_groups.get(key, (cap, []))
                    old[1].append(i)
                    self.pipe_groups[key] = old
        return modelled, value

    def _add_background_only(self, net: Network) -> None:
        """Crossings no modelled lane uses still carry their background traffic."""
        for cr in net.crossings:
            if cr.kind not in RAIL_ROAD:
                continue
            for direc in ("sb", "nb"):
                key = (cr.id, direc)
                if key not in self._gidx and (cr.observed(direc) or 0.0) > 0 and cr.capacity(direc):
                    self._group(key)

    def limit_pipes(self, want: list[float] | NDArray[np.float64], fx: DayFactors) -> None:
        """Curtail the day's dispatches ``want`` (per lane; a list or a float array, changed in
        place) pro rata to pipeline/wire capacity."""
        vals: list[float] = want.tolist() if isinstance(want, np.ndarray) else want
        for key, (cap, lanes) in self.pipe_groups.items():
            c = cap * fx.pipe_factor[key]
            tot = sum(vals[i] for i in lanes)
            if tot > c:
                s = c / tot if tot > 0 else 0.0
                for i in lanes:
                    want[i] = vals[i] * s

    def today(self, fx: DayFactors) -> list[QueueDay]:
        """Each group's :class:`~sim.engine.queueing.QueueDay` at today's capacity and inspection
        factors (rebuilt only for the groups whose factors changed; lists or float arrays)."""
        cf, insp = fx.cap_factor, fx.insp_factor
        if not isinstance(cf, list) or not isinstance(insp, list):
            cf, insp = [float(x) for x in cf], [float(x) for x in insp]
        if cf != self._cf or insp != self._insp or not self.fast:
            for g, q in enumerate(self.queues):
                if cf[g] != self._cf[g] or insp[g] != self._insp[g] or not self.fast:
                    self._qd[g] = q.on_day(cf[g], insp[g])
            self._cf, self._insp = list(cf), list(insp)
        return self._qd

    def expected_wait_hours(self, g: int, fx: DayFactors, load: float) -> float:
        """The mean wait (hours; ``inf`` when closed) of a vehicle arriving at group ``g`` today
        with ``load`` vehicles: the carried-over queue ahead of it and half the day's excess over
        capacity, at today's capacity, plus the in-day wait at that load and secondary inspection."""
        qd = self.today(fx)[g]
        if qd.capacity <= 0:
            return math.inf
        return _wait_hours(qd, self.queued_vehicles(g), fx.sec_days[g], load)

    def queued_vehicles(self, g: int) -> float:
        """Vehicles queued at group ``g`` from earlier days."""
        ahead = 0.0
        for e in self.queued[g]:
            ahead += e[0]
        return ahead

    def cross(
        self, t: int, lots: list[list[Lot]], bkg: list[float], fx: DayFactors
    ) -> list[Crossed | Waiting]:
        """Serve day ``t``'s vehicles at every road/rail group; ``lots[g]`` and ``bkg[g]``
        background vehicles set out for group ``g``, and go where route choice sends them.
        Return what crossed and what waits, in order."""
        qd = self.today(fx)
        ng = len(self.queues)
        routed: list[list[_Batch]] = [
            [(lots[g], 1.0, 0.0, 0.0)] if lots[g] else [] for g in range(ng)
        ]
        back: list[list[_Bkg]] = [
            [(bkg[g], self.bkg_value[g], g)] if bkg[g] > 0 else [] for g in range(ng)
        ]
        moves = [0.0] * (3 * ng)  # forgone, diverted in, diverted out
        if self.choice.options:
            self._choose(fx, qd, lots, bkg, routed, back, moves)
        out: list[Crossed | Waiting] = []
        sec = fx.sec_days
        for g in range(ng):
            self._serve(t, g, qd[g], routed[g], back[g], sec[g], out)
            if moves[g] or moves[ng + g] or moves[2 * ng + g] or not self.fast:  # adding 0.0 or not
                self._tally(g, moves[g], moves[ng + g], moves[2 * ng + g])
        return out

    def _tally(self, g: int, forgone: float, moved_in: float, moved_out: float) -> None:
        """Add route choice's moves to group ``g``'s day and run totals."""
        a, served, queue, scale, extra, _, _, lost, delayed, lost_usd = self.day[g]
        lost += forgone
        lost_usd += forgone * self.bkg_value[g]
        self.lost[g] += forgone
        self.div_in[g] += moved_in
        self.div_out[g] += moved_out
        self.day[g] = (
            a, served, queue, scale, extra, moved_in, moved_out, lost, delayed, lost_usd
        )  # fmt: skip

    def _choose(
        self,
        fx: DayFactors,
        qd: list[QueueDay],
        lots: list[list[Lot]],
        bkg: list[float],
        routed: list[list[_Batch]],
        back: list[list[_Bkg]],
        moves: list[float],
    ) -> None:
        """Split each home group's lots and background over its options by today's shares;
        ``moves`` holds the background forgone, then the vehicles diverted in, then out."""
        ch = self.choice
        ch.commit(*self._shares(fx, qd, lots, bkg))
        upv, ng = self.upv, len(self.queues)
        # each home group's own traffic is split once (what arrives from elsewhere stays put)
        own_bkg = {h: back[h] for h in ch.options}
        for h in ch.options:
            routed[h], back[h] = [], []
        for h, opts in ch.options.items():
            s_lot, s_bkg, own = ch.lot[h], ch.bkg[h], lots[h]
            for k, o in enumerate(opts):
                s = s_lot[k]
                if s <= 0 or not own:
                    continue
                routed[o.group].append((own, s, o.detour_hours, o.toll_usd))
                if k:
                    for lot in own:
                        v = lot[1] * s / upv[lot[0]]
                        moves[2 * ng + h] += v
                        moves[ng + o.group] += v
            for b, value, _ in own_bkg[h]:
                for k, o in enumerate(opts):
                    x = b * s_bkg[k]
                    if x > 0:
                        back[o.group].append((x, value, h))
                        if k:
                            moves[2 * ng + h] += x
                            moves[ng + o.group] += x
                moves[h] += b * s_bkg[-1]

    def _shares(
        self, fx: DayFactors, qd: list[QueueDay], lots: list[list[Lot]], bkg: list[float]
    ) -> tuple[dict[int, list[float]], dict[int, list[float]], bool]:
        """Today's shares. Drivers see today's waits (published live): the shares are the fixed
        point of "waits at the loads the shares imply", found by iteration from yesterday's
        shares (one step, then the method of successive averages), stopped once no load moves
        by :data:`ROUTE_TOL` vehicles. Also whether they are the last proposal (not averaged)."""
        ch, upv = self.choice, self.upv
        # each home's own vehicles: (lots, background)
        vols = [
            (
                sum(lot[1] / upv[lot[0]] for lot in lots[h]) if lots[h] else 0.0,
                bkg[h] if bkg[h] > 0 else 0.0,
            )
            for h, _ in self._home_groups
        ]
        fixed = [0.0] * len(self.queues)  # traffic that stays where it is (no choice)
        for g in self._fixed:
            fixed[g] = sum(lot[1] / upv[lot[0]] for lot in lots[g])
            if bkg[g] > 0:
                fixed[g] += bkg[g]
        waits = _Waits(self, fx, qd)
        lot_s, bkg_s = ch.lot, ch.bkg
        load = self._loads(fixed, vols, lot_s, bkg_s)
        proposed = True
        for it in range(ROUTE_ITERATIONS):
            new_lot, new_bkg = ch.propose(waits.at(load))
            new_load = self._loads(fixed, vols, new_lot, new_bkg)
            moved = 0.0
            for g in self.watched:
                d = abs(new_load[g] - load[g])
                if d > moved:
                    moved = d
            proposed = it == 0 or moved < ROUTE_TOL
            if proposed:
                lot_s, bkg_s, load = new_lot, new_bkg, new_load
            else:
                w = 1.0 / (it + 1)  # method of successive averages
                lot_s = _average(lot_s, new_lot, w, self.fast)
                bkg_s = _average(bkg_s, new_bkg, w, self.fast)
                load = self._loads(fixed, vols, lot_s, bkg_s)
            if moved < ROUTE_TOL:
                break
        return lot_s, bkg_s, proposed

    def _loads(
        self,
        fixed: list[float],
        vols: list[tuple[float, float]],
        lot_s: dict[int, list[float]],
        bkg_s: dict[int, list[float]],
    ) -> list[float]:
        """Vehicles arriving at each group if the homes split their own vehicles ``vols`` (lots,
        background) by these shares."""
        load = fixed.copy()
        for i, (h, groups) in enumerate(self._home_groups):
            lv, bv = vols[i]
            lh, bh = lot_s[h], bkg_s[h]
            if len(groups) == 2:  # one alternative, unrolled
                g0, g1 = groups
                load[g0] += lv * lh[0] + bv * bh[0]
                load[g1] += lv * lh[1] + bv * bh[1]
                continue
            for k, g in enumerate(groups):
                load[g] += lv * lh[k] + bv * bh[k]
        return load

    def _leave(self, t: int, g: int) -> tuple[float, float]:
        """Background queued at group ``g`` for more than the patience leaves; (vehicles, US$)."""
        queued = self.queued[g]
        lost = lost_usd = 0.0
        if not queued or self.patience == math.inf:
            return lost, lost_usd
        # background joins the queue day by day, so the first background entry is the oldest
        oldest = next((e[5] for e in queued if e[1] == BKG), t)
        if t - oldest <= self.patience and self.fast:
            return lost, lost_usd
        keep: deque[list[Any]] = deque()
        for e in queued:
            if e[1] == BKG and t - e[5] > self.patience:
                lost += e[0]
                lost_usd += e[0] * e[6]
            else:
                keep.append(e)
        if len(keep) < len(queued):
            self.queued[g] = keep
            self.lost[g] += lost
        return lost, lost_usd

    def _serve_queue(
        self, g: int, cap: float, base_wait: float, out: list[Crossed | Waiting]
    ) -> tuple[float, float]:
        """Serve group ``g``'s carry-over queue first (the days it queued are behind it); return
        the capacity left and the value of background served late (US$)."""
        queued, upv, road = self.queued[g], self.upv, self.road[g]
        room, delayed = cap, 0.0
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
            i, x = e[1], e[2]
            sent = x * part
            if part < 1.0:
                e[2] = x - sent
            if i == BKG:  # background served a day late or more
                delayed += sent * e[6]
                continue
            hours = (sent / upv[i]) * wait_days * 24.0 if road else None
            det = e[7] / 24.0
            out.append(Crossed(i, sent, wait_days, e[3] + det, e[4], e[5], e[6], hours, e[7], e[8]))
        return room, delayed

    def _serve(
        self,
        t: int,
        g: int,
        qd: QueueDay,
        arriving: list[_Batch],
        back: list[_Bkg],
        sec_days: float,
        out: list[Crossed | Waiting],
    ) -> None:
        lost, lost_usd = self._leave(t, g) if self.queued[g] else (0.0, 0.0)
        cap = qd.capacity
        a = 0.0
        if arriving:
            upv = self.upv
            for batch, s, _, _ in arriving:
                for lot in batch:
                    a += lot[1] * s / upv[lot[0]]
        for entry in back:
            a += entry[0]
        # in-day wait (queue formula at today's load) plus secondary inspection, in days; a
        # vehicle also waits for the vehicles served before it today: (served so far) / capacity
        if cap > 0:
            scale = qd.scale_memo(a) if self.fast else qd.scale(a)
            base_wait = qd.wait0_min * scale / 1440.0 + sec_days
            if self.queued[g]:
                room, delayed = self._serve_queue(g, cap, base_wait, out)
            else:
                room, delayed = cap, 0.0
            extra = (cap - room) / cap
        else:
            scale = base_wait = extra = math.inf
            room = delayed = 0.0
        frac = 1.0 if a <= room else (room / a if a > 0 else 0.0)
        if arriving:
            self._serve_lots(g, arriving, frac, base_wait + extra, out)
        queued = self.queued[g]
        for veh, value, home in back:
            if home != g:  # crossed (or will) at an alternative: delayed by the detour
                delayed += veh * frac * value
            rest = veh * (1.0 - frac)
            if rest > 1e-12:
                queued.append([rest, BKG, rest, 0.0, 0.0, t, value, 0.0, 0.0])
        # a day in the queue costs 24 truck-hours per modelled truck still waiting
        qlen = 0.0
        if queued:
            road = self.road[g]
            for e in queued:
                qlen += e[0]
                if road and e[1] != BKG:
                    out.append(Waiting(e[1], e[0]))
        served = (cap - room) + frac * a if cap > 0 else 0.0
        self.day[g] = (
            a, served, qlen, scale, extra + sec_days, 0.0, 0.0, lost, delayed, lost_usd
        )  # fmt: skip

    def _serve_lots(
        self,
        g: int,
        arriving: list[_Batch],
        frac: float,
        wait_days: float,
        out: list[Crossed | Waiting],
    ) -> None:
        """The day's lots at group ``g``: the share ``frac`` crosses, the rest queues."""
        upv, road = self.upv, self.road[g]
        if frac == 1.0 and self.fast:  # all cross (x * 1.0 is x, and nothing is left to queue)
            for batch, s, det_h, toll in arriving:
                det_d = det_h / 24.0
                for i, x0, tau, born, dday, duty in batch:
                    x = x0 * s
                    if x > 0:
                        hours = (x / upv[i]) * wait_days * 24.0 if road else None
                        row = (i, x, wait_days, tau + det_d, born, dday, duty, hours, det_h, toll)
                        out.append(_new(Crossed, row))
            return
        queued = self.queued[g]
        for batch, s, det_h, toll in arriving:
            for i, x0, tau, born, dday, duty in batch:
                x = x0 * s
                sent = x * frac
                if sent > 0:
                    hours = (sent / upv[i]) * wait_days * 24.0 if road else None
                    tau_d = tau + det_h / 24.0
                    out.append(
                        Crossed(i, sent, wait_days, tau_d, born, dday, duty, hours, det_h, toll)
                    )
                rest = x - sent
                if rest > 1e-12:
                    queued.append([rest / upv[i], i, rest, tau, born, dday, duty, det_h, toll])


def _average(
    old: dict[int, list[float]], new: dict[int, list[float]], w: float, fast: bool
) -> dict[int, list[float]]:
    """Shares ``old`` moved the fraction ``w`` of the way to ``new``."""
    out: dict[int, list[float]] = {}
    for h, xs in old.items():
        ys = new[h]
        if fast and (ys is xs or ys == xs):  # x + w * 0.0 is x
            out[h] = xs
            continue
        avg = xs.copy()
        for k in range(len(xs)):
            x = xs[k]
            avg[k] = x + w * (ys[k] - x)
        out[h] = avg
    return out


def _wait_hours(qd: QueueDay, ahead: float, sec_days: float, load: float) -> float:
    """:meth:`Border.expected_wait_hours` at an open crossing with ``ahead`` vehicles queued."""
    cap = qd.capacity
    room = cap - ahead
    over = load - (room if room > 0.0 else 0.0)
    ahead += 0.5 * (over if over > 0.0 else 0.0)
    in_day = qd.wait_mean_min(qd.scale(load)) / 60.0
    return 24.0 * (ahead / cap + sec_days) + in_day


class _Waits:
    """The waits (hours) route choice sees today at the watched groups, by load: the queue
    ahead, the capacity and secondary inspection are today's (:func:`_wait_hours`, inlined), and
    a group's wait is computed once per load."""

    def __init__(self, border: Border, fx: DayFactors, qd: list[QueueDay]) -> None:
        self.waits = [0.0] * len(qd)
        self.groups: list[tuple[int, QueueDay, float, float]] = []
        for g in border.watched:
            if qd[g].capacity <= 0:
                self.waits[g] = math.inf
                continue
            self.groups.append((g, qd[g], border.queued_vehicles(g), fx.sec_days[g]))
        self.seen = [-1.0] * len(qd)  # the load each wait is for
        self.fast = border.fast

    def at(self, load: list[float]) -> list[float]:
        waits, seen = self.waits, self.seen
        for g, qd, ahead, sec in self.groups:
            x = load[g]
            if x == seen[g] and self.fast:
                continue
            seen[g] = x
            cap = qd.capacity
            room = cap - ahead
            over = x - (room if room > 0.0 else 0.0)
            behind = ahead + 0.5 * (over if over > 0.0 else 0.0)
            waits[g] = 24.0 * (behind / cap + sec) + qd.wait0_min * qd.scale(x) / 60.0
        return waits
