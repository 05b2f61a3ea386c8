"""The SimPy model: one replication of a scenario on a network.

Shape (see "Why it is built this way" in the README): one global daily tick process steps every site in a fixed
order; shipments are lots (one per lane per day) whose arrival is a ``Timeout`` callback, never a
process per lot. Within day ``t`` the order is fixed and does not depend on SimPy's tie-breaking:

1. arrivals: lots due at time <= t are in stock before the tick (a lot due exactly at t was scheduled
   before the tick's own timeout, and every transit time is > 0, so nothing dispatched on day t
   arrives before day t + 1);
2. timed measures switch (scenario measures);
3. perishables older than their shelf life spoil;
4. markets draw demand and serve it from stock (backorders first);
5. every stock point orders from its suppliers (base-stock or (s, S) on inventory position);
6. sources, then plants (in file order), produce what their customers ordered plus the shortfall of
   their safety stock, within capacity and, for plants, within the inputs on hand;
7. every lane dispatches what its origin can ship (pro rata when short), within lane capacity and
   pipeline/wire crossing capacity (curtailed pro rata, :meth:`sim.engine.border.Border.limit_pipes`);
8. road and rail crossings serve the day's vehicles (modelled lots plus background traffic) FIFO up
   to their daily capacity; the rest queue to the next day (:meth:`sim.engine.border.Border.cross`);
9. stock of non-storable commodities (electricity) that is left is curtailed;
10. costs are booked (:meth:`sim.engine.ledger.Ledger.close_day`) and the day is recorded.
"""

from __future__ import annotations

import gc
import math
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import simpy
from simpy.events import Timeout

from sim.engine.border import Border, Lot
from sim.engine.ledger import Ledger
from sim.errors import MassBalanceError
from sim.spec.network import Network
from sim.spec.scenario import Scenario

MASS_BALANCE_TOL = 1e-9
WAIT_SAMPLES_PER_DAY = 16


def events_processed(env: simpy.Environment) -> int:
    """Number of events SimPy has processed so far (reads SimPy 4.1 internals; tested)."""
    return int(next(env._eid)) - len(env._queue)  # noqa: SLF001


@dataclass(frozen=True, slots=True)
class Point:
    """A stock point: one commodity held at one site."""

    site: str
    commodity: str


class Run:
    """All state of one replication. Build, then call :meth:`run`."""

    def __init__(
        self, net: Network, scenario: Scenario, seed: int, days: int, rep: int = 0
    ) -> None:
        self.net, self.scenario, self.seed, self.days, self.rep = net, scenario, seed, days, rep
        self.env = simpy.Environment()
        self._build_points()
        self._build_lanes()
        self.border = Border(net)
        self.ledger = Ledger(
            net, scenario, [(p.site, p.commodity) for p in self.points], self.plants
        )
        self._draw_random()
        self.hooks: list[Any] = []  # extra objects with .apply(run, day), called after the measures

    # ------------------------------------------------------------------ build
    def _build_points(self) -> None:
        net = self.net
        idx: dict[tuple[str, str], int] = {}
        points: list[Point] = []

        def point(site: str, com: str) -> int:
            key = (site, com)
            if key not in idx:
                idx[key] = len(points)
                points.append(Point(site, com))
            return idx[key]

        for s in net.sites:
            if s.kind in ("source", "plant") and s.commodity:
                point(s.id, s.commodity)
            if s.kind == "plant":
                for com in net.bom(s.id):
                    point(s.id, com)
        for ln in net.lanes:
            point(ln.origin, ln.commodity)
            point(ln.dest, ln.commodity)
        for d in net.demand:
            point(d.site, d.commodity)
        self.points, self.pidx = points, idx
        n = len(points)
        coms = [net.commodity[p.commodity] for p in points]
        site = [net.site[p.site] for p in points]
        self.p_value = [c.value_usd for c in coms]
        self.p_storable = [c.storable for c in coms]
        self.p_shelf = [c.shelf_life_days for c in coms]
        self.p_com_i = [net.commodities.index(c) for c in coms]
        self.p_site = site
        self.on_hand = [0.0] * n
        self.backlog = [0.0] * n
        self.fifo: list[deque[list[float]] | None] = [
            deque() if sh else None for sh in self.p_shelf
        ]
        self.in_lanes: list[list[int]] = [[] for _ in range(n)]
        self.out_lanes: list[list[int]] = [[] for _ in range(n)]

    def _build_lanes(self) -> None:
        net = self.net
        lanes = net.lanes
        self.lanes = lanes
        self.l_op = [self.pidx[(ln.origin, ln.commodity)] for ln in lanes]
        self.l_dp = [self.pidx[(ln.dest, ln.commodity)] for ln in lanes]
        for i, (o, d) in enumerate(zip(self.l_op, self.l_dp, strict=True)):
            self.out_lanes[o].append(i)
            self.in_lanes[d].append(i)
        self.l_base = [ln.base_flow for ln in lanes]
        self.l_cap = [math.inf if ln.capacity is None else ln.capacity for ln in lanes]
        self.l_cap0 = list(self.l_cap)
        self.l_factor = [1.0] * len(lanes)
        self.l_tariff = [0.0] * len(lanes)  # ad valorem duty charged by the destination country
        self.l_levy = [0.0] * len(lanes)  # ad valorem levy charged by the origin country
        self.l_transit = [ln.transit_days for ln in lanes]
        sig = [math.sqrt(math.log1p(ln.transit_cv**2)) for ln in lanes]
        self.l_sig = sig
        self.l_cost = [ln.cost_per_unit_usd for ln in lanes]
        self.outstanding = [0.0] * len(lanes)
        self.in_transit = [0.0] * len(lanes)
        # mean flow per point, lead times, targets
        n = len(self.points)
        out_flow = [0.0] * n
        in_flow = [0.0] * n
        lead_num = [0.0] * n
        for i, ln in enumerate(lanes):
            out_flow[self.l_op[i]] += ln.base_flow
            in_flow[self.l_dp[i]] += ln.base_flow
            lead_num[self.l_dp[i]] += ln.base_flow * ln.transit_days
        demand = {(d.site, d.commodity): d for d in net.demand}
        self.rate = [0.0] * n
        self.target_extra = [0.0] * n  # pre-stocking ahead of a tariff; flows through opened lanes
        self.p_lead = [0.0] * n
        self.p_cover = [0.0] * n
        self.embodied = [0.0] * n  # duty embodied per unit of stock (US$), carried through BOMs
        self.weights: list[list[float]] = [[] for _ in range(n)]
        self.target = [0.0] * n
        self.reorder = [-math.inf] * n
        self.buffer = [0.0] * n
        for p, pt in enumerate(self.points):
            s = self.p_site[p]
            dem = demand.get((pt.site, pt.commodity))
            is_output = s.kind in ("source", "plant") and s.commodity == pt.commodity
            r = (
                dem.mean_per_day
                if dem
                else (out_flow[p] if is_output or s.kind in ("storage", "port") else in_flow[p])
            )
            if s.kind == "plant" and not is_output:
                r = in_flow[p]
            self.rate[p] = r
            tot = in_flow[p]
            self.weights[p] = [(self.l_base[i] / tot if tot > 0 else 0.0) for i in self.in_lanes[p]]
            lead = lead_num[p] / tot if tot > 0 else 0.0
            self.p_lead[p] = lead
            cover = s.cover_days
            shelf = self.p_shelf[p]
            if (
                shelf is not None
            ):  # perishables: safety stock at most half the shelf life left on arrival
                cover = min(cover, max(0.0, 0.5 * (shelf - lead - 1.0)))
            if not self.p_storable[p]:
                cover = 0.0
            self.buffer[p] = r * cover
            self.p_cover[p] = cover
            if s.policy == "sS" and s.s_days is not None and s.S_days is not None:
                self.reorder[p] = r * (lead + 1 + s.s_days)
                self.target[p] = r * (lead + 1 + s.S_days)
            else:
                self.target[p] = r * (lead + 1 + cover)
            # outputs are made and shipped on the same day, so a producer starts at its safety stock;
            # every other point starts with the day's use on top of it
            opening = cover if is_output else cover + 1
            self.on_hand[p] = r * opening if self.p_storable[p] else 0.0
            fifo = self.fifo[p]
            if fifo is not None and self.on_hand[p] > 0:
                fifo.append([0.0, self.on_hand[p]])
        # production units
        self.sources: list[tuple[int, int, float]] = []  # (site index, out point, capacity)
        self.plants: list[tuple[int, int, float, list[tuple[int, float]]]] = []
        self.site_factor = [1.0] * len(net.sites)
        for si, s in enumerate(net.sites):
            if s.kind not in ("source", "plant") or not s.commodity:
                continue
            p = self.pidx[(s.id, s.commodity)]
            cap = math.inf if s.capacity is None else s.capacity
            if s.kind == "source":
                self.sources.append((si, p, cap))
            else:
                bom = [(self.pidx[(s.id, c)], q) for c, q in net.bom(s.id).items()]
                self.plants.append((si, p, cap, bom))
        # markets
        self.markets: list[tuple[int, float, float, bool]] = []  # (point, mean, cv, lost)
        for dm in net.demand:
            self.markets.append(
                (self.pidx[(dm.site, dm.commodity)], dm.mean_per_day, dm.cv, dm.unmet == "lost")
            )
        self.demand_factor = [1.0] * len(self.markets)
        self.demand_extra = [0.0] * len(self.markets)
        el = self.scenario.market.elasticity
        self.m_elastic = [
            el.get(net.commodity[self.points[p].commodity].sector, 0.0)
            for p, _, _, _ in self.markets
        ]

    def _draw_random(self) -> None:
        # replication `rep` of a batch seeded `seed`: the same stream as SeedSequence(seed).spawn(n)[rep],
        # so a replication never depends on how many others run, or where
        ss = np.random.SeedSequence(self.seed, spawn_key=(self.rep,))
        demand_ss, transit_ss, inspect_ss, bkg_ss = ss.spawn(4)
        days = self.days
        self.z_demand = (
            np.random.default_rng(demand_ss).standard_normal((days, len(self.markets))).tolist()
        )
        # transit times of every (day, lane) lot: lognormal with the lane's mean and CV
        z = np.random.default_rng(transit_ss).standard_normal((days, len(self.lanes)))
        sig = np.asarray(self.l_sig, dtype=float)
        mult = np.exp(sig * z - 0.5 * sig * sig)
        self.tau = (np.asarray(self.l_transit, dtype=float) * mult).tolist()
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

    # ------------------------------------------------------------------ stock helpers
    def _add(self, p: int, qty: float, born: float, duty: float = 0.0) -> None:
        have = self.on_hand[p]
        if duty or self.embodied[p]:
            tot = max(have, 0.0) + qty
            self.embodied[p] = (
                (self.embodied[p] * max(have, 0.0) + duty * qty) / tot if tot > 0 else 0.0
            )
        self.on_hand[p] = have + qty
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
    def _arrive(self, l: int, qty: float, born: float, duty: float, _ev: object) -> None:
        self.in_transit[l] -= qty
        p = self.l_dp[l]
        shelf = self.p_shelf[p]
        if shelf is not None and self.env.now - born > shelf:
            self.spoiled[self.p_com_i[p]] += qty
            self.ledger.today[self.ledger.l_spoil_cat[l]] += qty * self.p_value[p]
            return
        self._add(p, qty, born, duty)

    def schedule(self, l: int, qty: float, delay: float, born: float, duty: float = 0.0) -> None:
        """Put ``qty`` units on lane ``l``'s way, to arrive ``delay`` days from now."""
        ev = Timeout(self.env, delay)
        ev.callbacks.append(partial(self._arrive, l, qty, born, duty))

    def assess(self, l: int, qty: float, t: int, dispatched: int) -> float:
        """Book the duty (and levy) on ``qty`` units of lane ``l`` crossing on day ``t``; return US$/unit."""
        rate = self.l_tariff[l]
        if rate and dispatched < t and self.ms is not None and self.ms.transit_exempt:
            rate = self.ms.rate_for(l, t, dispatched)
        levy = self.l_levy[l]
        if not rate and not levy:
            return 0.0
        v = self.p_value[self.l_dp[l]]
        self.ledger.book_duty(l, qty * v * rate, qty * v * levy, t)
        return v * (rate + levy)

    # ------------------------------------------------------------------ the day
    def tick(self) -> Any:
        env = self.env
        ncom = len(self.net.commodities)
        self.produced = [0.0] * ncom
        self.consumed = [0.0] * ncom
        self.delivered = [0.0] * ncom
        self.spoiled = [0.0] * ncom
        self.curtailed = [0.0] * ncom
        self.initial = [0.0] * ncom
        # lots already on the way at day 0 (dispatched on days -1, -2, ...)
        for l, ln in enumerate(self.lanes):
            b = ln.base_flow
            if b <= 0:
                continue
            j = 1
            while ln.transit_days - j > 0:
                self.in_transit[l] += b
                self.schedule(l, b, ln.transit_days - j, -float(j))
                j += 1
            self._add(self.l_dp[l], b, -float(j))  # the lot due at day 0 is in stock
        for p, q in enumerate(self.on_hand):
            self.initial[self.p_com_i[p]] += q
        for l, q in enumerate(self.in_transit):
            self.initial[self.p_com_i[self.l_op[l]]] += q
        rec = self.rec
        while True:
            t = int(env.now)
            self.now = float(t)
            if self.ms is not None:
                self.ms.apply(t)
            for h in self.hooks:
                h.apply(self, t)
            self._spoil(t)
            self._demand(t)
            self._order()
            self._produce()
            lots = self._dispatch(t)
            self.border.cross(self, t, lots)
            self._curtail()
            self.ledger.close_day(t, self.on_hand, self.backlog, self.p_value)
            rec.append_day(self)
            yield env.timeout(1)

    def _spoil(self, t: int) -> None:
        for p, fifo in enumerate(self.fifo):
            if not fifo:
                continue
            limit = t - (self.p_shelf[p] or 0.0)
            lost = 0.0
            while fifo and fifo[0][0] < limit:
                lost += fifo.popleft()[1]
            if lost > 0:
                self.on_hand[p] -= lost
                self.spoiled[self.p_com_i[p]] += lost
                self.ledger.today[self.ledger.p_spoil_cat[p]] += lost * self.p_value[p]

    def _produce(self) -> None:
        oh, out, os_ = self.on_hand, self.out_lanes, self.outstanding
        for si, p, cap in self.sources:
            want = sum(os_[i] for i in out[p]) + self.buffer[p] - oh[p]
            q = min(cap * self.site_factor[si], want)
            if q > 0:
                self._add(p, q, self.now)
                self.produced[self.p_com_i[p]] += q
        for k, (si, p, cap, bom) in enumerate(self.plants):
            c = cap * self.site_factor[si]
            want = sum(os_[i] for i in out[p]) + self.buffer[p] - oh[p]
            plan = min(c, want)
            if plan <= 0:
                continue
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
                    self.consumed[self.p_com_i[ip]] += use
                self._add(p, q, self.now, duty)
                self.produced[self.p_com_i[p]] += q
            short = plan - q
            if short > 1e-9 and c > 0 and math.isfinite(c):
                hours = 24.0 * short / c
                self.downtime_hours += hours
                led = self.ledger
                led.today[led.plant_down_cat[k]] += hours * led.plant_down_cost[k]

    def _demand(self, t: int) -> None:
        z = self.z_demand[t]
        oh, bl = self.on_hand, self.backlog
        cons = self.ledger.p_consumer_share
        extra = self.demand_extra
        for k, (p, mean, cv, lost) in enumerate(self.markets):
            m = mean * self.demand_factor[k]
            emb = self.embodied[p]
            if emb > 0 and self.m_elastic[k]:  # consumers see their share of the duty in the price
                m *= (1.0 + cons[p] * emb / self.p_value[p]) ** self.m_elastic[k]
            d = m * max(0.0, 1.0 + cv * z[k])
            self.demanded_value += d * self.p_value[p]
            want = d if lost else d + bl[p]
            served = min(max(0.0, oh[p]), want)
            if served > 0:
                self._take(p, served)
                self.delivered[self.p_com_i[p]] += served
            # backorders are served first: only what is left fills today's demand
            fresh = served if lost else max(0.0, served - bl[p])
            self.filled_value += fresh * self.p_value[p]
            if lost:
                gone = d - served
                if gone > 0:
                    self.lost_value += gone * self.p_value[p]
                    self.lost_by_day[t] += gone * self.p_value[p]
                    self.ledger.today[self.ledger.p_lost_cat[p]] += (
                        gone * self.p_value[p] * self.scenario.costs.lost_margin_share
                    )
            else:
                bl[p] = want - served
            if extra[k] > 0 and oh[p] > 0:
                # new overseas buyers (a lane a scenario opened) take what arrives, up to the lane's
                # capacity; what Canada cannot supply them is neither backlog nor a lost sale
                take = min(oh[p], extra[k])
                self._take(p, take)
                self.delivered[self.p_com_i[p]] += take

    def _order(self) -> None:
        oh, bl, os_, it = self.on_hand, self.backlog, self.outstanding, self.in_transit
        for p, ins in enumerate(self.in_lanes):
            if not ins or (self.rate[p] <= 0 and self.target_extra[p] <= 0):
                continue
            ip = oh[p] - bl[p]
            for i in ins:
                ip += os_[i] + it[i]
            if ip > self.reorder[p] + self.target_extra[p] and self.reorder[p] != -math.inf:
                continue
            q = self.target[p] + self.target_extra[p] - ip
            if q <= 0:
                continue
            for i, w in zip(ins, self.weights[p], strict=True):
                if w > 0:
                    os_[i] += q * w

    def _dispatch(self, t: int) -> list[list[Lot]]:
        oh, os_, out = self.on_hand, self.outstanding, self.out_lanes
        want = [0.0] * len(self.lanes)
        l_cap, l_factor = self.l_cap, self.l_factor
        for p, lanes in enumerate(out):
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
                cap = l_cap[i] * l_factor[i]
                want[i] = x if x < cap else cap
        self.border.limit_pipes(want)
        taus = self.tau[t]
        lots: list[list[Lot]] = [[] for _ in self.border.keys]
        shipped = self.shipped_today
        l_op, emb, fifo, it = self.l_op, self.embodied, self.fifo, self.in_transit
        ct, tcat, lcost, l_g, border = (
            self.ledger.today,
            self.ledger.l_transport_cat,
            self.l_cost,
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

    def _curtail(self) -> None:
        oh = self.on_hand
        for p in self.nonstorable:
            if oh[p] > 0:
                self.curtailed[self.p_com_i[p]] += oh[p]
                oh[p] = 0.0

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        """Run the replication; return raw arrays for :mod:`sim.engine.records`."""
        from sim.engine.records import Recorder

        self.rec = Recorder(self)
        self.now = 0.0
        self.downtime_hours = 0.0
        self.demanded_value = 0.0
        self.filled_value = 0.0
        self.lost_value = 0.0
        self.shipped_today = [0.0] * len(self.lanes)
        self.nonstorable = [p for p in range(len(self.points)) if not self.p_storable[p]]
        self.lost_by_day = [0.0] * self.days
        from sim.engine.factors import MeasureState

        self.ms = MeasureState(self) if self.scenario.measures else None
        t0 = time.perf_counter()
        gc_was = gc.isenabled()
        gc.disable()
        try:
            self.env.process(self.tick())
            self.env.run(until=self.days)
        finally:
            if gc_was:
                gc.enable()
        wall = time.perf_counter() - t0
        err = self.mass_balance()
        self.events = events_processed(self.env)
        self.wall_s = wall
        if err > MASS_BALANCE_TOL:
            raise MassBalanceError(
                f"mass balance broken: relative error {err:.3g} > {MASS_BALANCE_TOL}"
            )
        self.mass_balance_error = err
        return self.rec.finish(self)

    def mass_balance(self) -> float:
        """Largest relative mass-balance error over commodities."""
        ncom = len(self.net.commodities)
        stock = [0.0] * ncom
        for p, q in enumerate(self.on_hand):
            stock[self.p_com_i[p]] += q
        transit = [0.0] * ncom
        for l, q in enumerate(self.in_transit):
            transit[self.p_com_i[self.l_op[l]]] += q
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
