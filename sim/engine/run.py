"""One replication: a daily-step model on a SimPy clock, with lots on their way in a calendar.

Shape (see "Why it is built this way" in the README): one global daily tick process steps every
site in a fixed order; shipments are lots (one per lane per day) that wait in the arrival calendar
(:mod:`sim.engine.calendar`) until the day they are due, never a SimPy event or process per lot.
The daily steps run as loops over lists on a small network and as numpy operations over the run's
state arrays from :data:`VECTOR_MIN` stock points on (the two agree to rounding). Within day ``t``
the order is fixed:

1. arrivals: lots due at time <= t are in stock before the tick (every transit time is > 0, so
   nothing dispatched on day t arrives before day t + 1);
2. timed measures switch (scenario measures);
3. perishables older than their shelf life spoil;
4. markets draw demand and serve it from stock (backorders first);
5. every stock point orders from its suppliers (base-stock or (s, S) on inventory position);
6. sources, then plants (in file order), produce what their customers ordered plus the shortfall of
   their safety stock, within capacity and, for plants, within the inputs on hand;
7. every lane dispatches what its origin can ship (pro rata when short), within lane capacity and
   pipeline/wire crossing capacity (curtailed pro rata, :meth:`sim.engine.border.Border.limit_pipes`);
8. the day's vehicles (modelled lots plus background traffic) choose among each crossing and its
   alternatives (:mod:`sim.engine.routes`); road and rail crossings serve them FIFO up to their
   daily capacity; the rest queue to the next day (:meth:`sim.engine.border.Border.cross`); the
   run books duty, waiting and a diverted lot's detour and toll;
9. stock of non-storable commodities (electricity) that is left is curtailed;
10. costs are booked (:meth:`sim.engine.ledger.Ledger.close_day`) and the day is recorded.

Who does what: the :class:`~sim.engine.layout.Layout` holds the run's indices and constants, the
:class:`~sim.engine.factors.MeasureFactors` writes the day's factors, the
:class:`~sim.engine.border.Border` returns what crossed, the :class:`~sim.engine.ledger.Ledger`
keeps the costs, and the :class:`Run` owns the state (stock, backlog, orders, goods in transit),
reads the factors and books what the border returns; the
:class:`~sim.engine.calendar.Calendar` holds what is on its way. None of them calls the run.
"""

from __future__ import annotations

import gc
import itertools
import math
import time
from collections import deque
from typing import Any

import numpy as np
import simpy

from sim.engine.border import Border, Crossed, Lot
from sim.engine.calendar import Calendar
from sim.engine.factors import DayFactors, MeasureFactors
from sim.engine.layout import Layout, Point
from sim.engine.ledger import Ledger
from sim.engine.records import Recorder, RunArrays, RunRecord
from sim.errors import MassBalanceError
from sim.spec.network import Network
from sim.spec.scenario import Scenario

__all__ = ["MASS_BALANCE_TOL", "Point", "Run", "events_processed"]

MASS_BALANCE_TOL = 1e-9
VECTOR_MIN = 40  # stock points from which the daily steps run as arrays (bench_peers crossover, 20-80 retailers)
WAIT_SAMPLES_PER_DAY = 16
# an inventory position within this relative distance of its reorder point counts as at it: with
# steady flows the position often lands on the point exactly, and the order must not hinge on the
# last bit of a sum (whose order differs between the loop and array steps)
TIE = 1e-9


def events_processed(env: simpy.Environment) -> int:
    """Number of events SimPy has processed so far (reads SimPy 4.1 internals; tested)."""
    return int(next(env._eid)) - len(env._queue)  # noqa: SLF001


class Run:
    """All state of one replication. Build, then call :meth:`run`."""

    def __init__(
        self, net: Network, scenario: Scenario, seed: int, days: int, rep: int = 0
    ) -> None:
        self.net, self.scenario, self.seed, self.days, self.rep = net, scenario, seed, days, rep
        self.env = simpy.Environment()
        lay = self.lay = Layout(net, scenario)
        self.points, self.pidx, self.lanes = lay.points, lay.pidx, lay.lanes
        self.border = Border(net, scenario.market, scenario.costs.truck_hour_usd)
        self.ledger = Ledger(net, scenario, [(p.site, p.commodity) for p in lay.points], lay.plants)
        self.measures = MeasureFactors(lay, self.border.keys, list(self.border.pipe_groups))
        self.fx: DayFactors = self.measures.today
        # the daily steps as numpy arrays (large networks) or loops (small); see _order
        self.arrays = len(lay.points) >= VECTOR_MIN
        self._state()
        self._draw_random()
        self._calendar()
        self.hooks: list[Any] = []  # extra objects with .apply(run, day), called after the measures
        self.lane_live = [net.commodity[ln.commodity].live for ln in lay.lanes]

    def _state(self) -> None:
        """The mutable state: stock, backlog, FIFO batches, orders, goods in transit, totals."""
        lay = self.lay
        n, nl, ncom = len(lay.points), len(lay.lanes), len(self.net.commodities)
        # per stock point (numpy arrays when the daily steps run as arrays, else lists)
        self.on_hand: Any = np.array(lay.opening, dtype=float) if self.arrays else list(lay.opening)
        self.backlog: Any = np.zeros(n) if self.arrays else [0.0] * n
        # duty embodied per unit of stock (US$), carried through BOMs
        self.embodied: Any = np.zeros(n) if self.arrays else [0.0] * n
        self.fifo: list[deque[list[float]] | None] = [deque() if f else None for f in lay.p_fifo]
        for p, fifo in enumerate(self.fifo):
            if fifo is not None and self.on_hand[p] > 0:
                fifo.append([0.0, self.on_hand[p]])
        # per lane: ordered and not yet shipped, on the way, shipped today (numpy arrays when the
        # daily steps run as arrays, else lists)
        self.outstanding: Any = np.zeros(nl) if self.arrays else [0.0] * nl
        self.in_transit: Any = np.zeros(nl) if self.arrays else [0.0] * nl
        self.shipped_today: Any = np.zeros(nl) if self.arrays else [0.0] * nl
        self.now = 0.0
        self.produced: Any = np.zeros(ncom) if self.arrays else [0.0] * ncom
        self.consumed: Any = np.zeros(ncom) if self.arrays else [0.0] * ncom
        self.delivered: Any = np.zeros(ncom) if self.arrays else [0.0] * ncom
        self.spoiled: Any = np.zeros(ncom) if self.arrays else [0.0] * ncom
        self.curtailed = [0.0] * ncom
        self.initial = [0.0] * ncom
        self.downtime_hours = 0.0
        npl = len(lay.plants)
        # today's output, shortfall and lost line-hours per plant
        self.plant_made: Any = [0.0] * npl
        self.plant_short: Any = [0.0] * npl
        self.plant_down: Any = [0.0] * npl
        self.demanded_value = 0.0
        self.filled_value = 0.0
        self.lost_value = 0.0
        self.lost_by_day = [0.0] * self.days
        self.rec = Recorder(self.days, len(self.lay.points), len(self.lay.lanes))
        self.fifo_points = [p for p, f in enumerate(lay.p_fifo) if f]
        self.events = 0
        self.wall_s = 0.0
        self.mass_balance_error = 0.0
        self.balance: dict[str, dict[str, float]] = {}

    def _draw_random(self) -> None:
        # replication `rep` of a batch seeded `seed`: the same stream as SeedSequence(seed).spawn(n)[rep],
        # so a replication never depends on how many others run, or where
        lay = self.lay
        ss = np.random.SeedSequence(self.seed, spawn_key=(self.rep,))
        demand_ss, transit_ss, inspect_ss, bkg_ss, poisson_ss = ss.spawn(5)
        self.rng_poisson = np.random.default_rng(poisson_ss)  # integer demand, drawn day by day
        days = self.days
        z_demand = np.random.default_rng(demand_ss).standard_normal((days, len(lay.markets)))
        self.z_demand: Any = z_demand if self.arrays else z_demand.tolist()
        # transit times of every (day, lane) lot: lognormal with the lane's mean and CV
        z = np.random.default_rng(transit_ss).standard_normal((days, len(lay.lanes)))
        sig = np.asarray(lay.l_sig, dtype=float)
        mult = np.exp(sig * z - 0.5 * sig * sig)
        tau = np.asarray(lay.l_transit, dtype=float) * mult
        self.tau: Any = tau if self.arrays else tau.tolist()
        ng = len(self.border.keys)
        self.z_wait = np.random.default_rng(inspect_ss).standard_normal(
            (days, ng, WAIT_SAMPLES_PER_DAY)
        )
        self.bkg_draw = (
            np.random.default_rng(bkg_ss)
            .poisson(np.asarray(self.border.bkg, dtype=float), (days, ng))
            .astype(float)
            .tolist()
            if ng
            else [[] for _ in range(days)]
        )

    def _calendar(self) -> None:
        """The arrival calendar (:mod:`sim.engine.calendar`): in array mode lots bound for a
        point without FIFO batches go into its ring, as deep as the longest transit time drawn
        plus a week. Then what the array steps read from the ledger and the border, and the run
        totals they keep."""
        lay, led = self.lay, self.ledger
        nl = len(lay.lanes)
        longest = float(np.max(self.tau)) if self.arrays and nl and self.days else 0.0
        depth = min(self.days + 1, int(math.ceil(longest)) + 8)
        self.cal = Calendar(self.days, nl, lay.l_plain if self.arrays else None, depth)
        self.taxing = False  # some lane has a duty or levy today (array mode)
        self.rate_a = self.levy_a = np.zeros(nl)
        self.l_dcat_a = np.asarray(led.l_delay_cat, dtype=np.intp)
        self.l_tcat_a = np.asarray(led.l_transport_cat, dtype=np.intp)
        self.l_upv = np.asarray([self.border.upv.get(i, 1.0) for i in range(nl)], dtype=float)
        self.l_grouped = np.asarray([g >= 0 for g in self.border.lane_group], dtype=bool)
        self.l_at_dispatch = np.asarray(self.border.at_dispatch, dtype=bool)
        self.m_cons = np.asarray(led.p_consumer_share, dtype=float)[lay.m_point]
        self.m_lost_cat = np.asarray(led.p_lost_cat, dtype=np.intp)[lay.m_point]
        self.k_down_cat = np.asarray(led.plant_down_cat, dtype=np.intp)
        self.k_down_cost = np.asarray(led.plant_down_cost, dtype=float)
        self.v_spoil_cat = np.asarray(led.p_spoil_cat, dtype=np.intp)[lay.v_point]
        self.v_hold_cat = np.asarray(led.p_hold_cat, dtype=np.intp)[lay.v_point]
        # run totals per market, point and BOM row (array mode), added to the commodities' at the end
        self.m_took = np.zeros(len(lay.markets))
        self.k_made = np.zeros(lay.n_points)
        self.b_used = np.zeros(len(lay.b_plant))

    # ------------------------------------------------------------------ stock helpers
    def _add(self, p: int, qty: float, born: float, duty: float = 0.0) -> None:
        have = self.on_hand[p]
        if duty or self.embodied[p]:
            tot = max(have, 0.0) + qty
            self.embodied[p] = (
                (self.embodied[p] * max(have, 0.0) + duty * qty) / tot if tot > 0 else 0.0
            )
        self.on_hand[p] = have + qty
        self._add_batch(p, qty, born)

    def _add_batch(self, p: int, qty: float, born: float) -> None:
        """Record ``qty`` units born on ``born`` in point ``p``'s FIFO batches (if it keeps them)."""
        fifo = self.fifo[p]
        if fifo is not None:  # kept oldest first: lots arrive out of birth order
            if not fifo or fifo[-1][0] <= born:
                fifo.append([born, qty])
            else:
                k = len(fifo) - 1
                while k > 0 and fifo[k - 1][0] > born:
                    k -= 1
                fifo.insert(k, [born, qty])

    def _take(self, p: int, qty: float) -> float:
        """Remove qty from stock point p; return the birth day of the oldest unit taken."""
        self.on_hand[p] -= qty
        fifo = self.fifo[p]
        if fifo is None or qty <= 0:
            return self.now
        born = fifo[0][0] if fifo else self.now
        left = qty
        while left > 0 and fifo:
            b = fifo[0]
            if b[1] <= left:
                left -= b[1]
                fifo.popleft()
            else:
                b[1] -= left
                left = 0.0
        return born

    # ------------------------------------------------------------------ arrivals
    def _arrive(self, at: float, l: int, qty: float, born: float, duty: float) -> None:
        self.in_transit[l] -= qty
        lay = self.lay
        p = lay.l_dp[l]
        shelf = lay.p_shelf[p]
        if shelf is not None and at - born > shelf:
            self.spoiled[lay.p_com_i[p]] += qty
            self.ledger.today[self.ledger.l_spoil_cat[l]] += qty * lay.p_value[p]
            return
        self._add(p, qty, born, duty)

    def schedule(self, l: int, qty: float, delay: float, born: float, duty: float = 0.0) -> None:
        """Put ``qty`` units on lane ``l``'s way, to arrive ``delay`` days from now (a lot in the
        arrival calendar, not a SimPy event)."""
        self.cal.add(self.env.now, l, qty, delay, born, duty)

    def _receive(self, day: int, before: float = math.inf) -> None:
        """Take in the lots due on ``day`` (with ``before``, only those due strictly before it)."""
        ring = self.cal.take_ring(day)
        if ring is not None:
            self._take_in(*ring)
        arrive = self._arrive
        for at, _, l, qty, born, duty in self.cal.take_bucket(day, before):
            arrive(at, l, qty, born, duty)

    def _take_in(self, q: Any, dq: Any) -> None:
        """Take in ``q`` units per lane (``dq``: times their duty per unit): stock and embodied
        duty per point, as the lots one by one would (the duty is the stock-weighted mean of
        what was there and what came)."""
        lay = self.lay
        n = lay.n_points
        self.in_transit -= q
        inc = np.bincount(lay.l_dp_a, weights=q, minlength=n)
        oh = np.asarray(self.on_hand)
        emb = np.asarray(self.embodied)
        if dq is not None:
            dinc = np.bincount(lay.l_dp_a, weights=dq, minlength=n)
            upd = (inc > 0) & ((dinc != 0) | (emb != 0))
        else:
            dinc = None
            upd = (inc > 0) & (emb != 0)
        if upd.any():
            have = np.maximum(oh, 0.0)
            tot = have + inc
            mixed = emb * have if dinc is None else emb * have + dinc
            new = np.divide(mixed, tot, out=np.zeros(n), where=tot > 0)
            self.embodied = np.where(upd, new, emb)
        oh += inc

    def assess(self, l: int, qty: float, t: int, dispatched: int) -> float:
        """Book the duty (and levy) on ``qty`` units of lane ``l`` crossing on day ``t``; return US$/unit."""
        fx = self.fx
        rate = fx.lane_tariff[l]
        if rate and dispatched < t and self.measures.transit_exempt:
            rate = self.measures.rate_for(l, t, dispatched)
        levy = fx.lane_levy[l]
        if not rate and not levy:
            return 0.0
        v = self.lay.p_value[self.lay.l_dp[l]]
        self.ledger.book_duty(l, qty * v * rate, qty * v * levy, t)
        return v * (rate + levy)

    # ------------------------------------------------------------------ the day
    def _start(self) -> None:
        """Lots already on the way at day 0 (dispatched on days -1, -2, ...) and opening totals."""
        lay = self.lay
        for l, ln in enumerate(lay.lanes):
            b = ln.base_flow
            if b <= 0:
                continue
            j = 1
            while ln.transit_days - j > 0:
                self.in_transit[l] += b
                self.schedule(l, b, ln.transit_days - j, -float(j))
                j += 1
            self._add(lay.l_dp[l], b, -float(j))  # the lot due at day 0 is in stock
        for p, q in enumerate(self.on_hand):
            self.initial[lay.p_com_i[p]] += q
        for l, q in enumerate(self.in_transit):
            self.initial[lay.p_com_i[lay.l_op[l]]] += q

    def tick(self) -> Any:
        """The daily process: one step a day, in the fixed order of the module docstring."""
        env = self.env
        self._start()
        measured = bool(self.scenario.measures)
        while True:
            t = int(env.now)
            self.now = float(t)
            self._receive(t)
            if measured:
                self.measures.apply(t)
            for h in self.hooks:
                h.apply(self, t)
            self.step(t)
            yield env.timeout(1)

    def step(self, t: int) -> None:
        """Everything that happens on day ``t`` after the measures switch."""
        if t and t == self.scenario.warmup_days:  # KPIs count from the end of the warm-up
            self.demanded_value = self.filled_value = self.lost_value = self.downtime_hours = 0.0
        if self.arrays and (self.scenario.measures or self.hooks or t == 0):
            self._factor_arrays()
        self._spoil(t)
        self._demand(t)
        self._order()
        self._produce()
        lots = self._dispatch(t)
        self._book_crossings(t, self.border.cross(t, lots, self.bkg_draw[t], self.fx))
        self._curtail()
        if self.arrays:
            self.ledger.close_day(t, self.on_hand, self.backlog, self.lay.p_value_a)
        else:
            self.ledger.close_day_loop(t, self.on_hand, self.backlog, self.lay.p_value)
        self.rec.append_day(
            self.on_hand, self.backlog, self.shipped_today, self.in_transit, self.border.day
        )
        self.rec.append_plants(self.plant_made, self.plant_short, self.plant_down)

    def _factor_arrays(self) -> None:
        """The day's factors as arrays for the array steps (converted once a day, and only
        when measures or hooks can change them)."""
        fx, lay = self.fx, self.lay
        self.rate_a = np.asarray(fx.lane_tariff, dtype=float)
        self.levy_a = np.asarray(fx.lane_levy, dtype=float)
        self.taxing = bool(self.rate_a.any() or self.levy_a.any())
        self.site_f = np.asarray(fx.site_factor, dtype=float)
        self.demand_f = np.asarray(fx.demand_factor, dtype=float)
        self.demand_x = np.asarray(fx.demand_extra, dtype=float)
        self.any_extra = bool(self.demand_x.any())
        self.target_x = np.asarray(fx.target_extra, dtype=float)
        w = np.zeros(len(lay.lanes))
        w[lay.in_flat] = np.fromiter(
            itertools.chain.from_iterable(fx.weights), dtype=float, count=len(lay.in_flat)
        )
        self.weights_a = w
        factor = np.asarray(fx.lane_factor, dtype=float)
        cap = np.zeros(len(factor))
        np.multiply(np.asarray(fx.lane_cap, dtype=float), factor, out=cap, where=factor > 0)
        self.lane_cap_a = cap  # what a lane can carry today (0 when its factor is 0)
        # the (s, S) test and which points order at all depend on the factors only
        te = self.target_x
        self.s_today = np.where(lay.is_sS, lay.reorder_a, 0.0) + te
        self.s_today += TIE * np.abs(self.s_today)
        self.may_order = lay.has_in & ((lay.rate_a > 0) | (te > 0))
        self.target_today = lay.target_a + te

    def _live_arrays(self) -> None:
        """Live animals over arrays: a day's deaths (from stock held) and feed."""
        lay = self.lay
        oh, led, lp = self.on_hand, self.ledger, lay.v_point
        have = oh[lp]
        dead = np.where(have > 0, have * lay.v_death, 0.0)
        oh[lp] = have - dead
        self.spoiled += np.bincount(lay.v_com, weights=dead, minlength=len(self.spoiled))
        led.add(self.v_spoil_cat, dead * lay.v_value)
        led.add(self.v_hold_cat, np.where(have > 0, oh[lp] * lay.v_feed, 0.0))

    def _spoil(self, t: int) -> None:
        """Live animals are fed, and a few die, instead of spoiling; perishables older than their
        shelf life spoil."""
        lay = self.lay
        if self.arrays:
            if lay.live:
                self._live_arrays()
        else:
            for p, feed, death in lay.live:
                have = self.on_hand[p]
                if have > 0:
                    self._die(p, have * death, self.ledger.p_spoil_cat[p])
                    self.ledger.today[self.ledger.p_hold_cat[p]] += self.on_hand[p] * feed
        for p in self.fifo_points:
            fifo = self.fifo[p]
            if not fifo:
                continue
            limit = t - (lay.p_shelf[p] or 0.0)
            lost = 0.0
            while fifo and fifo[0][0] < limit:
                lost += fifo.popleft()[1]
            if lost > 0:
                self.on_hand[p] -= lost
                self.spoiled[lay.p_com_i[p]] += lost
                self.ledger.today[self.ledger.p_spoil_cat[p]] += lost * lay.p_value[p]

    def _die(self, p: int, dead: float, cat: int) -> None:
        """Book ``dead`` animals of point ``p`` (taken from its stock when held there)."""
        if dead > 0:
            lay = self.lay
            self.on_hand[p] -= dead
            self.spoiled[lay.p_com_i[p]] += dead
            self.ledger.today[cat] += dead * lay.p_value[p]

    def _produce(self) -> None:
        if self.arrays:
            self._produce_arrays()
            return
        lay = self.lay
        oh, out, os_ = self.on_hand, lay.out_lanes, self.outstanding
        site_factor = self.fx.site_factor
        npl = len(lay.plants)
        self.plant_made, self.plant_short, self.plant_down = [0.0] * npl, [0.0] * npl, [0.0] * npl
        # what each point's customers ordered, summed in lane order
        ordered_l = [0.0] * lay.n_points
        for i, p in enumerate(lay.l_op):
            ordered_l[p] += os_[i]
        for si, p, cap in lay.sources:
            want = (ordered_l[p] if out[p] else 0) + lay.buffer[p] - oh[p]
            q = min(cap * site_factor[si], want)
            if q > 0:
                self._add(p, q, self.now)
                self.produced[lay.p_com_i[p]] += q
        for k, (si, p, cap, bom) in enumerate(lay.plants):
            c = cap * site_factor[si]
            want = (ordered_l[p] if out[p] else 0) + lay.buffer[p] - oh[p]
            plan = min(c, want)
            if plan <= 0:
                continue
            self._make(k, p, c, plan, bom)

    def _produce_arrays(self) -> None:
        """:meth:`_produce` over all sources and plants at once. Every producer's points (its
        output, and a plant's inputs) are its own site's, so no producer reads another's stock
        within the step: the order of the loop changes nothing."""
        lay = self.lay
        n = lay.n_points
        oh = self.on_hand
        ordered = np.bincount(lay.l_op_a, weights=self.outstanding, minlength=n)
        made = np.zeros(n)
        # sources: up to capacity, what was ordered plus the shortfall of the safety stock
        sp = lay.s_point
        if len(sp):
            q = np.minimum(lay.s_cap * self.site_f[lay.s_site], ordered[sp] + lay.s_buffer - oh[sp])
            made[sp] = np.where(q > 0, q, 0.0)
        duty = self._plants(oh, ordered, made) if len(lay.k_point) else None
        self._made(oh, made, duty)
        self.k_made += made

    def _plants(self, oh: Any, ordered: Any, made: Any) -> Any:
        """Plants make their plan within the inputs on hand (``made`` gets their output); book
        what they use and the line-hours they lose; return the duty embodied per unit made."""
        lay = self.lay
        pp = lay.k_point
        cap = lay.k_cap * self.site_f[lay.k_site]
        plan = np.minimum(cap, ordered[pp] + lay.k_buffer - oh[pp])
        q = plan.copy()
        ratio = np.maximum(0.0, oh[lay.b_point]) / lay.b_div
        np.minimum.at(q, lay.b_plant[lay.b_bind], ratio[lay.b_bind])
        q = np.where((plan > 0) & (q > 0), q, 0.0)
        use = q[lay.b_plant] * lay.b_per
        per_unit = np.bincount(
            lay.b_plant, weights=lay.b_per * self.embodied[lay.b_point], minlength=len(pp)
        )
        made[pp] = q
        oh -= np.bincount(lay.b_point, weights=use * lay.b_plain, minlength=len(oh))
        for j in lay.b_fifo:  # inputs held in FIFO batches
            if use[j] > 0:
                self._take(int(lay.b_point[j]), float(use[j]))
        self.b_used += use
        short = plan - q
        down = (plan > 0) & (short > 1e-9) & (cap > 0) & np.isfinite(cap)
        self.plant_made = q
        self.plant_short = np.where(down, short, 0.0)
        hours = np.where(down, 24.0 * self.plant_short / np.where(down, cap, 1.0), 0.0)
        self.plant_down = hours
        if down.any():
            self.downtime_hours += float(hours.sum())
            self.ledger.add(self.k_down_cat, hours * self.k_down_cost)
        duty = np.zeros(len(oh))
        duty[pp] = per_unit
        return duty

    def _made(self, oh: Any, made: Any, duty: Any) -> None:
        """Put the day's output into stock (FIFO batches where kept), with its embodied duty."""
        lay = self.lay
        emb = self.embodied
        new_duty = emb != 0 if duty is None else (duty != 0) | (emb != 0)
        upd = (made > 0) & new_duty
        if upd.any():
            have = np.maximum(oh, 0.0)
            tot = have + made
            mixed = emb * have if duty is None else emb * have + duty * made
            new = np.divide(mixed, tot, out=np.zeros(len(oh)), where=tot > 0)
            self.embodied = np.where(upd, new, emb)
        oh += made * lay.p_plain
        for p in lay.p_fifo_made:
            if made[p] > 0:
                oh[p] += made[p]
                self._add_batch(p, float(made[p]), self.now)

    def _make(self, k: int, p: int, c: float, plan: float, bom: list[tuple[int, float]]) -> None:
        """Plant ``k`` makes up to ``plan`` of point ``p`` within its inputs; books lost hours."""
        lay, oh = self.lay, self.on_hand
        q = plan
        for ip, per in bom:
            if per > 0:
                q = min(q, max(0.0, oh[ip]) / per)
        if q > 0:
            duty = 0.0
            for ip, per in bom:
                use = q * per
                duty += per * self.embodied[ip]
                self._take(ip, use)
                self.consumed[lay.p_com_i[ip]] += use
            self._add(p, q, self.now, duty)
            self.produced[lay.p_com_i[p]] += q
            self.plant_made[k] = q
        short = plan - q
        if short > 1e-9 and c > 0 and math.isfinite(c):
            hours = 24.0 * short / c
            self.plant_short[k] = short
            self.plant_down[k] = hours
            self.downtime_hours += hours
            led = self.ledger
            led.today[led.plant_down_cat[k]] += hours * led.plant_down_cost[k]

    def _demand_arrays(self, t: int) -> None:
        """:meth:`_demand` over the markets at once (each market point once): the same draws in
        the same order; served, backlog, lost sales and overseas buyers per market. A market
        whose unmet demand is lost never has a backlog, so ``demand + backlog`` is what every
        market wants today."""
        lay = self.lay
        mp = lay.m_point
        m = lay.m_mean * self.demand_f
        if lay.m_any_elastic:
            emb = self.embodied[mp]
            el = (emb > 0) & lay.m_elastic_on
            if el.any():  # consumers see their share of the duty in the price
                m[el] *= (1.0 + self.m_cons[el] * emb[el] / lay.m_value[el]) ** lay.m_elastic_a[el]
        d = m * np.maximum(0.0, 1.0 + lay.m_cv * self.z_demand[t])
        if lay.m_any_pois:
            d[lay.m_pois] = self.rng_poisson.poisson(m[lay.m_pois])
        oh, bl = self.on_hand, self.backlog
        have, owed = oh[mp], bl[mp]
        want = d + owed
        served = np.minimum(np.maximum(have, 0.0), want)
        value = lay.m_value
        self.demanded_value += float(d @ value)
        # backorders are served first: only what is left fills today's demand
        self.filled_value += float(np.maximum(served - owed, 0.0) @ value)
        short = want - served
        bl[mp] = short * lay.m_keep
        if lay.m_any_lost:
            gone = short * lay.m_lost_f
            if (gone > 0).any():
                usd = np.maximum(gone, 0.0) * value
                tot = float(usd.sum())
                self.lost_value += tot
                self.lost_by_day[t] += tot
                self.ledger.add(self.m_lost_cat, usd * self.scenario.costs.lost_margin_share)
        took = served
        if self.any_extra:  # new overseas buyers of a lane a scenario opened
            extra = self.demand_x
            after = have - served
            took = served + np.where((extra > 0) & (after > 0), np.minimum(after, extra), 0.0)
        oh[mp] = have - took * lay.m_plain
        for k in lay.m_fifo:  # markets holding FIFO batches take from them
            if took[k] > 0:
                self._take(int(mp[k]), float(took[k]))
        self.m_took += took

    def _demand(self, t: int) -> None:
        if self.arrays and self.lay.m_unique:
            self._demand_arrays(t)
            return
        lay, fx = self.lay, self.fx
        z = self.z_demand[t]
        oh = self.on_hand
        cons = self.ledger.p_consumer_share
        extra, pois = fx.demand_extra, lay.m_poisson
        for k, (p, mean, cv, lost) in enumerate(lay.markets):
            m = mean * fx.demand_factor[k]
            emb = self.embodied[p]
            if emb > 0 and lay.m_elastic[k]:  # consumers see their share of the duty in the price
                m *= (1.0 + cons[p] * emb / lay.p_value[p]) ** lay.m_elastic[k]
            d = float(self.rng_poisson.poisson(m)) if pois[k] else m * max(0.0, 1.0 + cv * z[k])
            self._serve(t, p, d, lost)
            if extra[k] > 0 and oh[p] > 0:
                # new overseas buyers (a lane a scenario opened) take what arrives, up to the lane's
                # capacity; what Canada cannot supply them is neither backlog nor a lost sale
                take = min(oh[p], extra[k])
                self._take(p, take)
                self.delivered[lay.p_com_i[p]] += take

    def _serve(self, t: int, p: int, d: float, lost: bool) -> None:
        """Serve demand ``d`` at market point ``p`` (backorders first); book what is lost."""
        lay, oh, bl = self.lay, self.on_hand, self.backlog
        value = lay.p_value[p]
        self.demanded_value += d * value
        want = d if lost else d + bl[p]
        served = min(max(0.0, oh[p]), want)
        if served > 0:
            self._take(p, served)
            self.delivered[lay.p_com_i[p]] += served
        # backorders are served first: only what is left fills today's demand
        fresh = served if lost else max(0.0, served - bl[p])
        self.filled_value += fresh * value
        if not lost:
            bl[p] = want - served
            return
        gone = d - served
        if gone > 0:
            self.lost_value += gone * value
            self.lost_by_day[t] += gone * value
            self.ledger.today[self.ledger.p_lost_cat[p]] += (
                gone * value * self.scenario.costs.lost_margin_share
            )

    def _order(self) -> None:
        """Orders of the day: numpy over points and lanes for a large network, a loop for a small
        one (where numpy's per-call cost outweighs the loop); the two agree to rounding."""
        if self.arrays:
            self._order_arrays()
        else:
            self._order_loop()

    def _order_loop(self) -> None:
        lay, fx = self.lay, self.fx
        oh, bl, os_, it = self.on_hand, self.backlog, self.outstanding, self.in_transit
        target_extra, weights = fx.target_extra, fx.weights
        for p, ins in enumerate(lay.in_lanes):
            if not ins or (lay.rate[p] <= 0 and target_extra[p] <= 0):
                continue
            ip = oh[p] - bl[p]
            for i in ins:
                ip += os_[i] + it[i]
            s_ = lay.reorder[p] + target_extra[p]
            if s_ != -math.inf and ip > s_ + TIE * abs(s_):
                continue
            q = lay.target[p] + target_extra[p] - ip
            if q <= 0:
                continue
            for i, w in zip(ins, weights[p], strict=True):
                if w > 0:
                    os_[i] += q * w

    def _order_arrays(self) -> None:
        """Every stock point orders up to its target on inventory position (base stock), or when
        at or below its reorder point ((s, S)); the order splits over its in-lanes by the day's
        weights. Vectorised over points and lanes."""
        lay = self.lay
        os_a = self.outstanding
        ip = self.on_hand - self.backlog
        ip += np.bincount(lay.l_dp_a, weights=os_a + self.in_transit, minlength=lay.n_points)
        q = self.target_today - ip
        go = self.may_order & (q > 0) & ~((ip > self.s_today) & lay.is_sS)
        if not go.any():
            return
        w = self.weights_a
        add = go[lay.l_dp_a] & (w > 0)
        os_a += np.where(add, q[lay.l_dp_a] * w, 0.0)

    def _dispatch(self, t: int) -> list[list[Lot]]:
        """Ship what each origin can (pro rata when short); return the lots bound for road/rail
        crossings, by crossing group; lots of other lanes are on their way. A lane whose capacity
        factor is 0 carries nothing, whatever its capacity."""
        if self.arrays:
            want_a = self._want_arrays()
            self.border.limit_pipes(want_a, self.fx)
            return self._ship_arrays(t, want_a)
        want = self._want_loop()
        self.border.limit_pipes(want, self.fx)
        return self._ship(t, want)

    def _want_loop(self) -> list[float]:
        lay, fx = self.lay, self.fx
        oh, os_ = self.on_hand, self.outstanding
        want = [0.0] * len(lay.lanes)
        l_cap, l_factor = fx.lane_cap, fx.lane_factor
        for p, lanes in enumerate(lay.out_lanes):
            if not lanes:
                continue
            req = 0.0
            for i in lanes:
                req += os_[i]
            if req <= 0:
                continue
            have = oh[p]
            f = 1.0 if have >= req else (have / req if have > 0 else 0.0)
            for i in lanes:
                x = os_[i] * f
                cap = l_cap[i] * l_factor[i] if l_factor[i] > 0 else 0.0
                want[i] = x if x < cap else cap
        return want

    def _want_arrays(self) -> Any:
        """What each lane ships: each origin's requests summed in lane order, pro rata when short."""
        lay = self.lay
        os_a = self.outstanding
        req = np.bincount(lay.l_op_a, weights=os_a, minlength=lay.n_points)
        have = np.maximum(self.on_hand, 0.0)
        # the share of its requests an origin can fill: 1, or what it has over what is asked
        f = np.divide(have, req, out=np.ones(lay.n_points), where=have < req)
        x = os_a * f[lay.l_op_a]
        return np.where(req[lay.l_op_a] > 0, np.minimum(x, self.lane_cap_a), 0.0)

    def _ship(self, t: int, want: list[float]) -> list[list[Lot]]:
        lay = self.lay
        taus = self.tau[t]
        lots: list[list[Lot]] = [[] for _ in self.border.keys]
        shipped = self.shipped_today
        oh, os_ = self.on_hand, self.outstanding
        l_op, emb, fifo, it = lay.l_op, self.embodied, self.fifo, self.in_transit
        ct, tcat, lcost, l_g, border = (
            self.ledger.today,
            self.ledger.l_transport_cat,
            lay.l_cost,
            self.border.lane_group,
            self.border.at_dispatch,
        )
        now = float(t)
        for i, x in enumerate(want):
            shipped[i] = x
            if x <= 0:
                continue
            p = l_op[i]
            duty = emb[p]
            if fifo[p] is None:
                oh[p] -= x
                born = now
            else:
                born = self._take(p, x)
            os_[i] -= x
            it[i] += x
            ct[tcat[i]] += x * lcost[i]
            g = l_g[i]
            if g >= 0:
                lots[g].append((i, x, taus[i], born, t, duty))
            else:
                if border[i]:  # pipeline, wire, sea: enters at dispatch
                    duty += self.assess(i, x, t, t)
                self.schedule(i, x, taus[i], born, duty)
        return lots

    def _ship_arrays(self, t: int, want: Any) -> list[list[Lot]]:
        """:meth:`_ship` over arrays: every lane's dispatch at once. Lanes out of a point with
        FIFO batches take from them one by one (in lane order, as the loop does); lanes to a road
        or rail crossing become the border's lots; the rest leave for their destination."""
        lay = self.lay
        x = np.where(want > 0, want, 0.0)
        self.shipped_today = want
        lots: list[list[Lot]] = [[] for _ in self.border.keys]
        go = x > 0
        if not go.any():
            return lots
        self.outstanding -= x
        self.in_transit += x
        self.ledger.add(self.l_tcat_a, x * lay.l_cost_a)
        oh = np.asarray(self.on_hand)
        oh -= np.bincount(lay.l_op_a, weights=x * lay.l_plain_origin, minlength=lay.n_points)
        now = float(t)
        born = None
        taking = np.flatnonzero(go & lay.l_fifo_origin).tolist()
        if taking:
            born = np.full(len(x), now)
            for i in taking:
                born[i] = self._take(lay.l_op[i], float(x[i]))
        duty = np.asarray(self.embodied)[lay.l_op_a]
        tau = self.tau[t]
        grouped = np.flatnonzero(go & self.l_grouped)
        if len(grouped):
            bs = [now] * len(grouped) if born is None else born[grouped].tolist()
            lg = self.border.lane_group
            for i, q, tt, b, d in zip(
                grouped.tolist(), x[grouped].tolist(), tau[grouped].tolist(), bs,
                duty[grouped].tolist(), strict=True,
            ):
                lots[lg[i]].append((i, q, tt, b, t, d))
        free = np.flatnonzero(go & ~self.l_grouped)
        if len(free):
            xf, df = x[free], duty[free]
            at_d = np.flatnonzero(self.l_at_dispatch[free]) if self.taxing else ()
            if len(at_d):  # pipeline, wire and sea crossings: duty at dispatch
                df = df.copy()
                df[at_d] += self._assess(free[at_d], xf[at_d], t, None)
            self.cal.add_many(
                t, free, xf, tau[free], None if born is None else born[free], df, unique=True
            )
        return lots

    def _assess(self, lanes: Any, qty: Any, t: int, dispatched: Any) -> Any:
        """:meth:`assess` for many lanes (a lane may repeat): book the duty, return US$/unit."""
        lay = self.lay
        rate = self.rate_a[lanes]
        levy = self.levy_a[lanes]
        if dispatched is not None and self.measures.transit_exempt:
            for k in np.flatnonzero((rate != 0) & (dispatched < t)).tolist():
                rate[k] = self.measures.rate_for(int(lanes[k]), t, int(dispatched[k]))
        taxed = (rate != 0) | (levy != 0)
        if not taxed.any():
            return np.zeros(len(lanes))
        v = lay.p_value_a[lay.l_dp_a[lanes]]
        self.ledger.book_duties(lanes[taxed], (qty * v * rate)[taxed], (qty * v * levy)[taxed], t)
        return np.where(taxed, v * (rate + levy), 0.0)

    def _book_crossings(self, t: int, crossed: list[Any]) -> None:
        """Book what the border served today (duty, arrival, delay, a detour's driving hours and
        toll) and a day of waiting."""
        if self.arrays:
            self._book_crossings_arrays(t, crossed)
            return
        th = self.scenario.costs.truck_hour_usd
        ct, delay_cat = self.ledger.today, self.ledger.l_delay_cat
        tcat, upv = self.ledger.l_transport_cat, self.border.upv
        for c in crossed:
            if isinstance(c, Crossed):
                if self.lane_live[c.lane]:
                    c = self._held_at_border(c, t - c.dispatched + c.wait_days)
                duty = c.duty + self.assess(c.lane, c.qty, t, c.dispatched)
                self.schedule(c.lane, c.qty, c.transit_days + c.wait_days, c.born, duty)
                if c.truck_hours is not None:
                    ct[delay_cat[c.lane]] += c.truck_hours * th
                if c.detour_hours or c.toll_usd:
                    ct[tcat[c.lane]] += (c.qty / upv[c.lane]) * (c.detour_hours * th + c.toll_usd)
            else:
                ct[delay_cat[c.lane]] += c.vehicles * 24.0 * th

    def _book_crossings_arrays(self, t: int, crossed: list[Any]) -> None:
        """:meth:`_book_crossings` over arrays (the same bookings)."""
        th = self.scenario.costs.truck_hour_usd
        led = self.ledger
        done: list[Crossed] = []
        wait_l: list[int] = []
        wait_v: list[float] = []
        live = self.lane_live
        for c in crossed:
            if type(c) is Crossed:
                done.append(self._held_at_border(c, t - c.dispatched + c.wait_days)
                            if live[c.lane] else c)  # fmt: skip
            else:
                wait_l.append(c.lane)
                wait_v.append(c.vehicles)
        if wait_l:
            led.add(self.l_dcat_a[wait_l], np.asarray(wait_v) * (24.0 * th))
        if not done:
            return
        lane_t, qty_t, wait_t, transit_t, born_t, disp_t, duty_t, hours_t, det_t, toll_t = zip(
            *done, strict=True
        )
        lanes = np.asarray(lane_t, dtype=np.intp)
        qty = np.asarray(qty_t)
        duty = np.asarray(duty_t)
        if self.taxing:
            duty = duty + self._assess(lanes, qty, t, np.asarray(disp_t))
        self.cal.add_many(
            t, lanes, qty, np.asarray(transit_t) + np.asarray(wait_t), np.asarray(born_t), duty
        )
        road = [k for k, h in enumerate(hours_t) if h is not None]
        if road:
            hours = np.asarray([hours_t[k] for k in road])
            led.add(self.l_dcat_a[lanes[road]], hours * th)
        det, toll = np.asarray(det_t), np.asarray(toll_t)
        moved = (det != 0) | (toll != 0)
        if moved.any():
            li = lanes[moved]
            led.add(
                self.l_tcat_a[li],
                (qty[moved] / self.l_upv[li]) * (det[moved] * th + toll[moved]),
            )

    def _held_at_border(self, c: Crossed, held: float) -> Crossed:
        """Live animals held at the border ``held`` days (queued days and the day's wait): fed for
        those days (US$ per head-day, a delay cost), and the death rate applied over them; the
        survivors cross."""
        lay, led = self.lay, self.ledger
        com = self.net.commodity[lay.points[lay.l_dp[c.lane]].commodity]
        led.today[led.l_delay_cat[c.lane]] += c.qty * held * com.holding_usd_per_day
        dead = c.qty * (1.0 - (1.0 - com.death_rate_per_day) ** held)
        if dead <= 0:
            return c
        self.in_transit[c.lane] -= dead
        self.spoiled[lay.p_com_i[lay.l_dp[c.lane]]] += dead
        led.today[led.l_spoil_cat[c.lane]] += dead * lay.p_value[lay.l_dp[c.lane]]
        return c._replace(qty=c.qty - dead)

    def _curtail(self) -> None:
        oh, com_i = self.on_hand, self.lay.p_com_i
        for p in self.lay.nonstorable:
            if oh[p] > 0:
                self.curtailed[com_i[p]] += oh[p]
                oh[p] = 0.0

    # ------------------------------------------------------------------ run
    def run(self) -> RunArrays:
        """Run the replication; check the mass balance; return the daily arrays."""
        t0 = time.perf_counter()
        gc_was = gc.isenabled()
        gc.disable()
        daily = self.tick()
        try:
            self.env.process(daily)
            self.env.run(until=self.days)
            self._receive(self.days, before=float(self.days))  # due before the horizon ends
            self._fold_totals()
        finally:
            # the suspended tick's frame holds the run, and the environment's pending timeout holds
            # the tick: closing it breaks that cycle, so a finished run is freed at once rather
            # than by the cyclic collector (a serial batch's memory stays flat)
            daily.close()
            if gc_was:
                gc.enable()
        self.wall_s = time.perf_counter() - t0
        err = self.mass_balance()
        self.events = events_processed(self.env)
        if not err <= MASS_BALANCE_TOL:  # NaN too
            raise MassBalanceError(
                f"mass balance broken: relative error {err:.3g} > {MASS_BALANCE_TOL}"
            )
        self.mass_balance_error = err
        ledger = self.ledger
        return self.rec.finish(
            self.border.queues, self.z_wait, ledger.table(), ledger.duty_by_day, self.lost_by_day
        )

    def record(self) -> RunRecord:
        """What the replication was, how its arrays are indexed, and its totals (after :meth:`run`)."""
        net, sc, lay, border = self.net, self.scenario, self.lay, self.border
        disruptions = [m for m in sc.measures if m.kind != "lane_open"]
        ends = [m.end for m in disruptions]
        return RunRecord(
            scenario=sc.name,
            rep=self.rep,
            seed=self.seed,
            days=self.days,
            point_site=[p.site for p in lay.points],
            point_commodity=[p.commodity for p in lay.points],
            point_value=lay.p_value,
            point_sector=[net.commodity[p.commodity].sector for p in lay.points],
            lane_id=[ln.id for ln in net.lanes],
            lane_commodity=[ln.commodity for ln in net.lanes],
            lane_direction=[net.direction(ln) for ln in net.lanes],
            lane_crossing=[ln.crossing or "" for ln in net.lanes],
            lane_base=[ln.base_flow for ln in net.lanes],
            lane_value=[net.commodity[ln.commodity].value_usd for ln in net.lanes],
            lane_countries=[
                (net.site[ln.origin].country, net.site[ln.dest].country) for ln in net.lanes
            ],
            lane_sector=[net.commodity[ln.commodity].sector for ln in net.lanes],
            lane_origin_region=[net.site[ln.origin].region for ln in net.lanes],
            lost_margin_share=sc.costs.lost_margin_share,
            # lane openings are permanent changes, not disruptions, and do not count; the end is
            # None while one never ends; zero-length measures never apply
            disruption_end=(
                None if not ends or any(e is None for e in ends)
                else max(e for e in ends if e is not None)
            ),
            first_disruption=min(
                (m.start for m in disruptions if m.end is None or m.end > m.start), default=None
            ),
            crossing_keys=border.keys,
            crossing_kind=[net.crossing[c].kind for c, _ in border.keys],
            crossing_bkg=border.bkg,
            crossing_bkg_value=border.bkg_value,
            crossing_lost=border.lost,
            crossing_div_in=border.div_in,
            crossing_div_out=border.div_out,
            plant_site=[net.sites[si].id for si, _, _, _ in lay.plants],
            crossing_obs=[net.crossing[c].observed(d) for c, d in border.keys],
            crossing_pub=[
                (net.crossing[c].wait_median_min, net.crossing[c].wait_p95_min)
                for c, _ in border.keys
            ],
            cost_cats=self.ledger.cats,
            demanded_value=self.demanded_value,
            filled_value=self.filled_value,
            lost_value=self.lost_value,
            downtime_hours=self.downtime_hours,
            mass_balance_error=self.mass_balance_error,
            balance=self.balance,
            events=self.events,
            wall_s=self.wall_s,
            warmup=min(self.scenario.warmup_days, self.days - 1),
        )

    def _fold_totals(self) -> None:
        """Array mode keeps run totals per market, point and BOM row: add them to the
        commodities' totals (once, at the end)."""
        lay = self.lay
        if not self.arrays:
            return
        ncom = len(self.produced)
        self.delivered += np.bincount(lay.m_com, weights=self.m_took, minlength=ncom)
        self.produced += np.bincount(lay.p_com_a, weights=self.k_made, minlength=ncom)
        self.consumed += np.bincount(lay.b_com, weights=self.b_used, minlength=ncom)
        self.m_took[:] = 0.0
        self.k_made[:] = 0.0
        self.b_used[:] = 0.0

    def mass_balance(self) -> float:
        """Largest relative mass-balance error over commodities."""
        ncom = len(self.net.commodities)
        stock = [0.0] * ncom
        for p, q in enumerate(self.on_hand):
            stock[self.lay.p_com_i[p]] += q
        transit = [0.0] * ncom
        for l, q in enumerate(self.in_transit):
            transit[self.lay.p_com_i[self.lay.l_op[l]]] += q
        worst = 0.0
        for c in range(ncom):
            src = self.initial[c] + self.produced[c]
            use = (
                self.consumed[c]
                + self.delivered[c]
                + self.spoiled[c]
                + self.curtailed[c]
                + stock[c]
                + transit[c]
            )
            worst = max(worst, abs(src - use) / max(src, use, 1.0))
        self.balance = {
            self.net.commodities[c].id: {
                "initial": self.initial[c],
                "produced": self.produced[c],
                "consumed": self.consumed[c],
                "delivered": self.delivered[c],
                "spoiled": self.spoiled[c],
                "curtailed": self.curtailed[c],
                "stock": stock[c],
                "in_transit": transit[c],
            }
            for c in range(ncom)
        }
        return worst
