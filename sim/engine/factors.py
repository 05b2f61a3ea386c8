"""Timed measures at run time: tariffs, levies, slowdowns, closures, outages, strikes, shutdowns,
demand shocks, lane openings, and the supplier switching and pre-stocking they cause.

A :class:`MeasureState` is compiled once per run from the scenario's :class:`~sim.spec.scenario.Measure`
specs. On each day on which something switches (a start, an end, an announcement, a ramp step) it
recomputes every factor the engine reads from scratch, so overlapping measures compose the same way
whatever their order: capacity factors multiply, tariff groups add, and within a stacking group the
active measure of highest precedence replaces the others.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.spec.scenario import Measure

if TYPE_CHECKING:
    from sim.engine.run import Run

TARIFF_KINDS = ("tariff", "export_levy")


def _matches(m: Measure, commodity: str, sector: str) -> bool:
    if m.commodities and commodity not in m.commodities:
        return False
    return not (m.sectors and sector not in m.sectors)


class MeasureState:
    """The scenario's measures compiled against one run's indices."""

    def __init__(self, run: Run) -> None:
        self.run = run
        net = run.net
        self.measures = list(run.scenario.measures)
        lanes = net.lanes
        sc = run.scenario
        self.holding_per_day = sc.costs.holding_rate_per_year / 365.0
        self.prestock_max_days = sc.market.prestock_max_days
        # tariff lanes: lane -> [(measure index, effective rate)]
        self.lane_tariffs: dict[int, list[tuple[int, float]]] = {}
        self.lane_levies: dict[int, list[tuple[int, float]]] = {}
        for k, m in enumerate(self.measures):
            if m.kind not in TARIFF_KINDS:
                continue
            eff = m.rate * (1.0 - m.exempt_share)
            if m.content_basis in ("non_us", "non_ca"):
                eff *= 1.0 - m.domestic_content
            for i, ln in enumerate(lanes):
                if ln.crossing is None:
                    continue
                a, b = net.site[ln.origin].country, net.site[ln.dest].country
                com = net.commodity[ln.commodity]
                if not _matches(m, com.id, com.sector):
                    continue
                if m.kind == "tariff" and b == m.imposer and (not m.origin or a == m.origin):
                    self.lane_tariffs.setdefault(i, []).append((k, eff))
                elif m.kind == "export_levy" and a == m.imposer:
                    self.lane_levies.setdefault(i, []).append((k, eff))
        self.transit_exempt = any(m.transit_exempt for m in self.measures if m.kind in TARIFF_KINDS)
        # days on which factors must be recomputed
        days: set[int] = {0}
        for m in self.measures:
            for d in (m.start, m.end, m.announce):
                if d is not None:
                    days.add(d)
            ramp = m.ramp_days if m.kind == "lane_open" else 0.0
            if ramp > 0:
                days.update(range(m.start, m.start + int(math.ceil(ramp)) + 1))
            if m.kind == "port_strike" and m.end is not None and m.recovery_days > 0:
                days.update(range(m.end, m.end + int(math.ceil(m.recovery_days)) + 1))
        self.change_days = days
        # supplier switching
        mk = sc.market
        self.beta = mk.switch_logit
        self.qual = mk.qualification_days
        self.ramp = max(mk.switch_ramp_days, 1e-9)
        self.transitions: dict[int, tuple[list[float], list[float], int]] = {}
        self.switch_target: dict[int, list[float]] = {}
        self.factor: dict[int, list[float]] = {}
        self.prior: list[float] = list(run.l_base)
        self.lane_idx = {ln.id: i for i, ln in enumerate(lanes)}
        self.site_idx = {s.id: k for k, s in enumerate(net.sites)}
        self.market_of = {p: k for k, (p, _, _, _) in enumerate(run.markets)}
        lane_g = {key: g for g, key in enumerate(run.border.keys)}
        self.lane_g = lane_g

    # ------------------------------------------------------------------ duty rates
    def _stack(self, entries: list[tuple[int, float]], ok: list[bool]) -> float:
        best: dict[str, tuple[int, float]] = {}
        total = 0.0
        for k, eff in entries:
            if not ok[k]:
                continue
            m = self.measures[k]
            if not m.stack_group:
                total += eff
                continue
            cur = best.get(m.stack_group)
            if cur is None or m.precedence > self.measures[cur[0]].precedence:
                best[m.stack_group] = (k, eff)
        return total + sum(eff for _, eff in best.values())

    def rate_for(self, lane: int, t: int, dispatched: int) -> float:
        """Tariff rate on a lot of ``lane`` crossing on day ``t`` that was dispatched on ``dispatched``."""
        entries = self.lane_tariffs.get(lane)
        if not entries:
            return 0.0
        ok = [
            m.active(t) and not (m.transit_exempt and dispatched < m.start) for m in self.measures
        ]
        return self._stack(entries, ok)

    # ------------------------------------------------------------------ daily switch
    def apply(self, t: int) -> None:
        """Recompute every factor on a change day; move supplier shares along on other days."""
        if t in self.change_days:
            self._recompute(t)
        if self.transitions:
            self._step_transitions(t)

    def _recompute(self, t: int) -> None:
        run = self.run
        net = run.net
        active = [m.active(t) for m in self.measures]
        # reset
        run.l_tariff = [0.0] * len(run.lanes)
        run.l_levy = [0.0] * len(run.lanes)
        border = run.border
        border.cap_factor = [1.0] * len(border.keys)
        border.insp_factor = [1.0] * len(border.keys)
        border.sec_days = [0.0] * len(border.keys)
        for key in border.pipe_factor:
            border.pipe_factor[key] = 1.0
        run.l_factor = [1.0] * len(run.lanes)
        run.l_cap = list(run.l_cap0)
        run.site_factor = [1.0] * len(net.sites)
        run.demand_factor = [1.0] * len(run.markets)
        run.demand_extra = [0.0] * len(run.markets)
        run.target_extra = [0.0] * len(run.points)
        prior = list(run.l_base)
        origin_factor = [1.0] * len(run.lanes)
        for i, entries in self.lane_tariffs.items():
            run.l_tariff[i] = self._stack(entries, active)
        for i, entries in self.lane_levies.items():
            run.l_levy[i] = self._stack(entries, active)
        site_idx, market_of = self.site_idx, self.market_of
        self._prestock(t)
        opened: dict[int, float] = {}  # lane -> capacity today (several openings: the largest)
        for k, m in enumerate(self.measures):
            if (
                m.kind == "port_strike"
                and not active[k]
                and m.end is not None
                and m.recovery_days > 0
            ):
                done = (t - m.end + 1) / m.recovery_days  # day `end` is the first of recovery
                if 0 <= done < 1:
                    self._port(m, done)
            if not active[k]:
                continue
            if m.kind in ("slowdown", "closure", "outage"):
                for cid in m.crossings:
                    for d in ("sb", "nb"):
                        if m.direction not in ("both", d):
                            continue
                        key = (cid, d)
                        f = 0.0 if m.kind == "closure" else m.capacity_factor
                        if key in self.lane_g:
                            g = self.lane_g[key]
                            border.cap_factor[g] *= f
                            if m.kind == "slowdown":
                                border.insp_factor[g] *= m.inspection_factor
                                border.sec_days[g] += m.secondary_share * m.secondary_hours / 24.0
                        elif key in border.pipe_factor:
                            border.pipe_factor[key] *= f
                for lid in m.lanes:
                    run.l_factor[self.lane_idx[lid]] *= m.capacity_factor
            elif m.kind == "port_strike":
                self._port(m, 0.0)
            elif m.kind == "plant_shutdown":
                for sid in m.sites:
                    run.site_factor[site_idx[sid]] *= m.capacity_factor
            elif m.kind == "demand_shock":
                for p, kk in market_of.items():
                    pt = run.points[p]
                    com = net.commodity[pt.commodity]
                    if pt.site not in m.sites or not _matches(m, com.id, com.sector):
                        continue
                    if not m.origin:
                        run.demand_factor[kk] *= m.demand_factor
                        continue
                    ins = run.in_lanes[p]
                    tot = sum(run.l_base[i] for i in ins)
                    share = sum(
                        run.l_base[i]
                        for i in ins
                        if net.site[net.lanes[i].origin].country == m.origin
                    )
                    s_o = share / tot if tot > 0 else 0.0
                    run.demand_factor[kk] *= 1.0 - s_o + s_o * m.demand_factor
                    for i in ins:
                        if net.site[net.lanes[i].origin].country == m.origin:
                            origin_factor[i] *= m.demand_factor
            elif m.kind == "lane_open":
                frac = 1.0 if m.ramp_days <= 0 else min(1.0, (t - m.start + 1) / m.ramp_days)
                for lid in m.lanes:
                    i = self.lane_idx[lid]
                    b = run.l_base[i]
                    cap = b + ((m.capacity or 0.0) - b) * frac  # from the base flow to the target
                    opened[i] = max(opened.get(i, cap), cap)
        for i, cap in opened.items():
            b = run.l_base[i]
            run.l_cap[i] = cap if b <= 0 else max(run.l_cap0[i], cap)
            prior[i] = max(prior[i], cap)
            dp, op = run.l_dp[i], run.l_op[i]
            if dp in market_of and run.p_site[dp].country == "OS":
                run.demand_extra[market_of[dp]] += cap - b
            # the stock points the new flow passes hold stock for it as for any other flow
            if dp in market_of:
                run.target_extra[dp] += (cap - b) * (run.l_transit[i] + 1 + run.p_cover[dp])
            if run.p_site[op].kind in ("storage", "port"):
                run.target_extra[op] += (cap - b) * (run.p_lead[op] + 1 + run.p_cover[op])
        self.prior = [p * f for p, f in zip(prior, origin_factor, strict=True)]
        self._reweight(t)

    def _prestock(self, t: int) -> None:
        """Importers that know a duty will rise buy ahead: for each lane hit by a tariff announced
        but not yet in force, the rise is the stacked rate on the day it starts minus today's;
        buying ahead pays while the duty saved exceeds the holding cost, up to
        ``prestock_max_days`` of the lane's flow."""
        run = self.run
        ms = self.measures
        announced = {
            k
            for k, m in enumerate(ms)
            if m.kind == "tariff" and m.announce is not None and m.announce <= t < m.start
        }
        if not announced:
            return
        for i, entries in self.lane_tariffs.items():
            starts = {ms[k].start for k, _ in entries if k in announced}
            if not starts or not run.p_storable[run.l_dp[i]]:
                continue
            now = run.l_tariff[i]
            rise = max(self._stack(entries, [m.active(s) for m in ms]) - now for s in starts)
            if rise > 0:
                days = min(self.prestock_max_days, rise / self.holding_per_day)
                run.target_extra[run.l_dp[i]] += days * run.l_base[i]

    def _port(self, m: Measure, done: float) -> None:
        run = self.run
        for i, ln in enumerate(run.lanes):
            if ln.origin in m.sites or ln.dest in m.sites:
                run.l_factor[i] *= done

    # ------------------------------------------------------------------ supplier switching
    def _extra_cost(self, i: int) -> float:
        """What the measures add to lane ``i``'s landed cost per unit (duty and levy): the 2024
        base flows already reflect the base costs, so only this drives supplier switching."""
        run = self.run
        return run.p_value[run.l_dp[i]] * (run.l_tariff[i] + run.l_levy[i])

    def _reweight(self, t: int) -> None:
        """Order shares = prior (base flow, opened capacity, boycotts) x switching factor.

        Prior changes act at once; the switching factor exp(-beta x relative added landed cost) moves to a
        new value only after the qualification lag, then linearly over the ramp.
        """
        run = self.run
        for p, ins in enumerate(run.in_lanes):
            if not ins:
                continue
            if len(ins) > 1:
                v = run.p_value[p]
                costs = [self._extra_cost(i) for i in ins]
                cmin = min(costs)
                f_new = [math.exp(-self.beta * (c - cmin) / v) for c in costs]
                last = self.switch_target.get(p, [1.0] * len(ins))
                if any(abs(a - b) > 1e-12 for a, b in zip(last, f_new, strict=True)):
                    self.switch_target[p] = f_new
                    self.transitions[p] = (list(self.factor.get(p, [1.0] * len(ins))), f_new, t)
            self._set_weights(p)

    def _set_weights(self, p: int) -> None:
        run = self.run
        ins = run.in_lanes[p]
        f = self.factor.get(p)
        raw = [self.prior[i] * (f[j] if f else 1.0) for j, i in enumerate(ins)]
        tot = sum(raw)
        run.weights[p] = [x / tot for x in raw] if tot > 0 else [0.0] * len(ins)

    def _step_transitions(self, t: int) -> None:
        done = []
        for p, (f0, f1, t0) in self.transitions.items():
            x = (t - t0 - self.qual) / self.ramp
            if x <= 0:
                continue
            x = min(1.0, x)
            self.factor[p] = [a + (b - a) * x for a, b in zip(f0, f1, strict=True)]
            self._set_weights(p)
            if x >= 1.0:
                done.append(p)
        for p in done:
            del self.transitions[p]
