"""The day's factors: what the scenario's measures change, and the supplier switching they cause.

:class:`DayFactors` holds every number the daily step reads that a measure can change: duty and
levy rates per lane, lane capacity factors and capacities, producer capacity factors, demand
factors, extra stock targets, order shares, and the crossings' capacity, inspection and
secondary-inspection factors. The run reads them; only :class:`MeasureFactors` writes them.

A :class:`MeasureFactors` is compiled once per run from the scenario's measures. On each day on
which something switches (a start, an end, an announcement, a ramp or recovery step; each kind says
which, :meth:`sim.spec.measures.MeasureKind.change_days`) it recomputes every factor from scratch,
so overlapping measures compose the same way whatever their order: capacity factors multiply,
tariff groups add, and within a stacking group the active measure of highest precedence replaces
the others. Each kind's effect is its own (:meth:`sim.spec.measures.MeasureKind.apply`); this
module implements the :class:`sim.spec.measures.Factors` operations they call, pre-stocking ahead
of announced tariffs, and supplier switching.
"""

from __future__ import annotations

import math

from sim.engine.layout import Layout
from sim.spec.measures import DutyKind, Tariff, kind_of
from sim.spec.scenario import Measure

CrossingKey = tuple[str, str]  # (crossing id, "sb" | "nb")


class DayFactors:
    """The factors of the current day (neutral values when no measure is active)."""

    def __init__(self, lay: Layout, groups: list[CrossingKey], pipes: list[CrossingKey]) -> None:
        self.n_groups = len(groups)  # road/rail crossing groups
        self.weights = [list(w) for w in lay.weights0]  # order shares of each point's in-lanes
        self.pipe_factor: dict[CrossingKey, float] = dict.fromkeys(pipes, 1.0)
        self.reset(lay)

    def reset(self, lay: Layout) -> None:
        """Neutral values, before a change day's measures are applied (order shares are kept:
        supplier switching moves them)."""
        nl, ng = len(lay.lanes), self.n_groups
        self.lane_tariff = [0.0] * nl  # ad valorem duty charged by the destination country
        self.lane_levy = [0.0] * nl  # ad valorem levy charged by the origin country
        self.cap_factor = [1.0] * ng
        self.insp_factor = [1.0] * ng
        self.sec_days = [0.0] * ng  # mean extra days from secondary inspection
        for key in self.pipe_factor:
            self.pipe_factor[key] = 1.0
        self.lane_factor = [1.0] * nl
        self.lane_cap = list(lay.l_cap0)
        self.site_factor = [1.0] * len(lay.net.sites)
        self.demand_factor = [1.0] * len(lay.markets)
        self.demand_extra = [0.0] * len(lay.markets)  # overseas buyers of an opened lane
        self.target_extra = [0.0] * len(lay.points)  # pre-stocking; stock for opened lanes


class MeasureFactors:
    """The scenario's measures compiled against one run's layout; writes :attr:`today`."""

    def __init__(self, lay: Layout, groups: list[CrossingKey], pipes: list[CrossingKey]) -> None:
        self.lay = lay
        self.today = DayFactors(lay, groups, pipes)
        sc = lay.scenario
        self.measures = list(sc.measures)
        self.holding_per_day = sc.costs.holding_rate_per_year / 365.0
        self.prestock_max_days = sc.market.prestock_max_days
        self._compile_duties()
        self.change_days: set[int] = {0}
        for m in self.measures:
            self.change_days |= kind_of(m).change_days(m)
        self._switching(lay)
        self.lane_g = {key: g for g, key in enumerate(groups)}
        # scratch of one recomputation
        self._opened: dict[int, float] = {}
        self._origin_factor: list[float] = []
        # caches of pure functions of the (immutable) measures: see _duties_when, rate_for, _retarget
        self._duties: dict[tuple[bool, ...], tuple[list[float], list[float]]] = {}
        self._rate_day = -1
        self._rates: dict[tuple[int, int], float] = {}  # (lane, dispatch day) -> rate today
        self._applies: dict[int, list[bool]] = {}  # dispatch day -> which measures apply today
        self._costs_seen: tuple[list[float], list[float]] | None = None

    def _switching(self, lay: Layout) -> None:
        """Constants of supplier switching: per point its sector's parameters; per lane the
        producer whose spare capacity bounds it; the export lanes diversification reads."""
        mk, net = lay.scenario.market, lay.net
        sec = [net.commodity[pt.commodity].sector for pt in lay.points]
        self.p_beta = [mk.switch_logit.get(s, 0.0) for s in sec]
        self.p_qual = [mk.qualification_days.get(s, 0.0) for s in sec]
        self.p_ramp = [max(mk.switch_ramp_days.get(s, 0.0), 1e-9) for s in sec]
        self.p_keep = [1.0 - mk.duty_absorption.get(s, 0.0) for s in sec]  # share driving switching
        self.transitions: dict[int, tuple[list[float], list[float], int]] = {}
        self.switch_target: dict[int, list[float]] = {}
        self.factor: dict[int, list[float]] = {}
        self.prior: list[float] = list(lay.l_base)
        self.raw: list[list[float]] = [list(w) for w in lay.weights0]  # before capacity caps
        # per lane, the prior its point's shares were last computed from (NaN: never)
        self.prior_seen: list[float] = [math.nan] * len(lay.lanes)
        self.multi = [p for p, ins in enumerate(lay.in_lanes) if len(ins) > 1]
        self.moved: set[int] = set()
        self.in_base = [sum(lay.l_base[i] for i in ins) for ins in lay.in_lanes]
        # a lane out of a producer's output point: the producer's spare capacity bounds its gains
        self.l_site = [-1] * len(lay.lanes)
        self.site_spare0: dict[int, tuple[float, float]] = {}  # site -> (capacity, base outflow)
        producers = [(si, p, cap) for si, p, cap in lay.sources]
        producers += [(si, p, cap) for si, p, cap, _ in lay.plants]
        for si, p, cap in producers:
            if not math.isfinite(cap):
                continue
            outs = lay.out_lanes[p]
            self.site_spare0[si] = (cap, sum(lay.l_base[i] for i in outs))
            for i in outs:
                self.l_site[i] = si
        # endogenous diversification: per commodity, the Canada->US border lanes whose lost share
        # Canadian exporters may sell overseas, and the existing (base flow > 0) lanes from Canada
        # to overseas markets that can carry it within their spare capacity
        self.div_us: dict[int, list[tuple[int, int, int]]] = {}  # commodity -> [(lane, point, j)]
        self.div_os: dict[int, list[int]] = {}  # commodity -> [lane]
        for i, ln in enumerate(lay.lanes):
            a, b = net.site[ln.origin].country, net.site[ln.dest].country
            c = lay.p_com_i[lay.l_dp[i]]
            if (a, b) == ("CA", "US") and ln.crossing is not None:
                p = lay.l_dp[i]
                self.div_us.setdefault(c, []).append((i, p, lay.in_lanes[p].index(i)))
            elif a == "CA" and b == "OS" and ln.base_flow > 0 and lay.l_dp[i] in lay.market_of:
                self.div_os.setdefault(c, []).append(i)
        self.div_os = {c: v for c, v in self.div_os.items() if c in self.div_us}
        self.diverted: dict[int, float] = {}  # lane -> extra flow overseas applied to today

    def _compile_duties(self) -> None:
        """Per border lane, the (measure, effective rate) of every tariff and levy that hits it."""
        net = self.lay.net
        self.lane_tariffs: dict[int, list[tuple[int, float]]] = {}
        self.lane_levies: dict[int, list[tuple[int, float]]] = {}
        border = [
            (i, net.site[ln.origin].country, net.site[ln.dest].country, net.commodity[ln.commodity])
            for i, ln in enumerate(self.lay.lanes)
            if ln.crossing is not None
        ]
        exempt = False
        for k, m in enumerate(self.measures):
            kind = kind_of(m)
            if not issubclass(kind, DutyKind):
                continue
            exempt = exempt or m.transit_exempt
            table = self.lane_tariffs if kind.by_destination else self.lane_levies
            for i, a, b, com in border:
                eff = kind.lane_rate(m, a, b, com.id, com.sector)
                if eff is not None:
                    table.setdefault(i, []).append((k, eff))
        self.transit_exempt = exempt

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
        """Tariff rate on a lot of ``lane`` crossing on day ``t`` that was dispatched on ``dispatched``
        (kept for the rest of day ``t``: many lots of a lane and dispatch day cross together)."""
        entries = self.lane_tariffs.get(lane)
        if not entries:
            return 0.0
        if t != self._rate_day:
            self._rate_day, self._rates, self._applies = t, {}, {}
        rate = self._rates.get((lane, dispatched))
        if rate is None:
            ok = self._applies.get(dispatched)
            if ok is None:
                ok = self._applies[dispatched] = [
                    m.active(t) and not (m.transit_exempt and dispatched < m.start)
                    for m in self.measures
                ]
            rate = self._rates[(lane, dispatched)] = self._stack(entries, ok)
        return rate

    # ------------------------------------------------------------------ the day
    def apply(self, t: int) -> None:
        """Recompute every factor on a change day; move supplier shares along on other days."""
        if t in self.change_days:
            self._recompute(t)
        if self.transitions:
            self._step_transitions(t)

    def _recompute(self, t: int) -> None:
        lay, fx = self.lay, self.today
        fx.reset(lay)
        active = [m.active(t) for m in self.measures]
        tariffs, levies = self._duties_when(active)
        for i, rate in zip(self.lane_tariffs, tariffs, strict=True):
            fx.lane_tariff[i] = rate
        for i, rate in zip(self.lane_levies, levies, strict=True):
            fx.lane_levy[i] = rate
        self._prestock(t)
        self._opened = {}  # lane -> capacity today (several openings: the largest)
        self._origin_factor = [1.0] * len(lay.lanes)
        for m in self.measures:
            kind_of(m).apply(m, self, t)
        prior = list(lay.l_base)
        self._open_lanes(prior)
        self.prior = [p * f for p, f in zip(prior, self._origin_factor, strict=True)]
        self.diverted = {}  # the reset cleared what diversification had added
        self._reweight(t)

    def _duties_when(self, active: list[bool]) -> tuple[list[float], list[float]]:
        """The stacked tariff and levy of each lane in :attr:`lane_tariffs` / :attr:`lane_levies`
        (their order) when the measures flagged in ``active`` apply; computed once per pattern
        (a ramp recomputes the factors daily while the same duties apply)."""
        key = tuple(active)
        got = self._duties.get(key)
        if got is None:
            got = self._duties[key] = (
                [self._stack(e, active) for e in self.lane_tariffs.values()],
                [self._stack(e, active) for e in self.lane_levies.values()],
            )
        return got

    def _open_lanes(self, prior: list[float]) -> None:
        lay, fx = self.lay, self.today
        for i, cap in self._opened.items():
            b = lay.l_base[i]
            fx.lane_cap[i] = cap if b <= 0 else max(lay.l_cap0[i], cap)
            prior[i] = max(prior[i], cap)
            dp, op = lay.l_dp[i], lay.l_op[i]
            if dp in lay.market_of and lay.p_site[dp].country == "OS":
                fx.demand_extra[lay.market_of[dp]] += cap - b
            # the stock points the new flow passes hold stock for it as for any other flow
            if dp in lay.market_of:
                fx.target_extra[dp] += (cap - b) * (lay.l_transit[i] + 1 + lay.p_cover[dp])
            if lay.p_site[op].kind in ("storage", "port"):
                fx.target_extra[op] += (cap - b) * (lay.p_lead[op] + 1 + lay.p_cover[op])

    def _prestock(self, t: int) -> None:
        """Importers that know a duty will rise buy ahead: for each lane hit by a tariff announced
        but not yet in force, the rise is the stacked rate on the day it starts minus today's;
        buying ahead pays while the duty saved exceeds the holding cost, up to
        ``prestock_max_days`` of the lane's flow."""
        lay, fx, ms = self.lay, self.today, self.measures
        announced = {
            k
            for k, m in enumerate(ms)
            if kind_of(m) is Tariff and m.announce is not None and m.announce <= t < m.start
        }
        if not announced:
            return
        for i, entries in self.lane_tariffs.items():
            starts = {ms[k].start for k, _ in entries if k in announced}
            if not starts or not lay.p_storable[lay.l_dp[i]]:
                continue
            now = fx.lane_tariff[i]
            rise = max(self._stack(entries, [m.active(s) for m in ms]) - now for s in starts)
            if rise > 0:
                days = min(self.prestock_max_days, rise / self.holding_per_day)
                fx.target_extra[lay.l_dp[i]] += days * lay.l_base[i]

    # ------------------------------------------------------------------ Factors (spec.measures)
    def scale_crossings(
        self,
        crossings: tuple[str, ...],
        direction: str,
        capacity: float,
        inspection: float | None = None,
        secondary_days: float | None = None,
    ) -> None:
        fx = self.today
        for cid in crossings:
            for d in ("sb", "nb"):
                if direction not in ("both", d):
                    continue
                key = (cid, d)
                g = self.lane_g.get(key)
                if g is not None:
                    fx.cap_factor[g] *= capacity
                    if inspection is not None:
                        fx.insp_factor[g] *= inspection
                    if secondary_days is not None:
                        fx.sec_days[g] += secondary_days
                elif key in fx.pipe_factor:
                    fx.pipe_factor[key] *= capacity

    def scale_lane(self, lane: str, factor: float) -> None:
        self.today.lane_factor[self.lay.lane_idx[lane]] *= factor

    def scale_lanes_at(self, sites: tuple[str, ...], factor: float) -> None:
        fx = self.today
        for i, ln in enumerate(self.lay.lanes):
            if ln.origin in sites or ln.dest in sites:
                fx.lane_factor[i] *= factor

    def scale_site(self, site: str, factor: float) -> None:
        self.today.site_factor[self.lay.site_idx[site]] *= factor

    def scale_demand(self, m: Measure) -> None:
        lay, fx = self.lay, self.today
        net = lay.net
        for p, kk in lay.market_of.items():
            pt = lay.points[p]
            com = net.commodity[pt.commodity]
            if pt.site not in m.sites or not kind_of(m).matches(m, com.id, com.sector):
                continue
            if not m.origin:
                fx.demand_factor[kk] *= m.demand_factor
                continue
            ins = lay.in_lanes[p]
            tot = sum(lay.l_base[i] for i in ins)
            share = sum(
                lay.l_base[i] for i in ins if net.site[net.lanes[i].origin].country == m.origin
            )
            s_o = share / tot if tot > 0 else 0.0
            fx.demand_factor[kk] *= 1.0 - s_o + s_o * m.demand_factor
            for i in ins:
                if net.site[net.lanes[i].origin].country == m.origin:
                    self._origin_factor[i] *= m.demand_factor

    def open_lane(self, lane: str, capacity: float, progress: float) -> None:
        i = self.lay.lane_idx[lane]
        b = self.lay.l_base[i]
        cap = b + (capacity - b) * progress  # from the base flow to the target
        self._opened[i] = max(self._opened.get(i, cap), cap)

    # ------------------------------------------------------------------ supplier switching
    def _extra_cost(self, i: int) -> float:
        """What the measures add to lane ``i``'s landed cost per unit (duty and levy) that the
        buyer acts on: the 2024 base flows already reflect the base costs, and the share of the
        duty the importer absorbs in its margin (``duty_absorption``) does not move orders."""
        lay, fx = self.lay, self.today
        p = lay.l_dp[i]
        return lay.p_value[p] * (fx.lane_tariff[i] + fx.lane_levy[i]) * self.p_keep[p]

    def _reweight(self, t: int) -> None:
        """Order shares = prior (base flow, opened capacity, boycotts) x switching factor, within
        the spare capacity of the suppliers that gain.

        Prior changes act at once; the switching factor exp(-beta x relative added landed cost)
        moves toward a new target only after the qualification lag, then linearly over the ramp,
        from wherever it is: when the cost gap closes (a tariff ends) the target is 1 again and
        shares move back with the same lag and ramp.
        """
        self._retarget(t)
        # only the points whose in-lanes' priors moved: the others' shares are what they were
        # (their switching factors move only in _step_transitions, which resets them itself)
        l_dp, seen = self.lay.l_dp, self.prior_seen
        dirty = {l_dp[i] for i, (a, b) in enumerate(zip(self.prior, seen, strict=True)) if a != b}
        for p in sorted(dirty):
            self._set_weights(p)
        self._cap_weights()

    def _retarget(self, t: int) -> None:
        """New switching targets of the points whose landed-cost gaps changed (set on day ``t``);
        they depend on the day's duty and levy rates only, so nothing moves while those stay."""
        fx = self.today
        seen = self._costs_seen
        if seen is not None and seen[0] == fx.lane_tariff and seen[1] == fx.lane_levy:
            return
        self._costs_seen = (list(fx.lane_tariff), list(fx.lane_levy))
        lay = self.lay
        for p in self.multi:
            ins = lay.in_lanes[p]
            v = lay.p_value[p]
            costs = [self._extra_cost(i) for i in ins]
            cmin = min(costs)
            f_new = [math.exp(-self.p_beta[p] * (c - cmin) / v) for c in costs]
            last = self.switch_target.get(p, [1.0] * len(ins))
            if any(abs(a - b) > 1e-12 for a, b in zip(last, f_new, strict=True)):
                self.switch_target[p] = f_new
                self.transitions[p] = (list(self.factor.get(p, [1.0] * len(ins))), f_new, t)

    def _set_weights(self, p: int) -> None:
        """Point ``p``'s order shares before capacity caps: prior x switching factor, normalised."""
        ins = self.lay.in_lanes[p]
        f = self.factor.get(p)
        prior, seen = self.prior, self.prior_seen
        for i in ins:
            seen[i] = prior[i]
        raw = [prior[i] * (f[j] if f else 1.0) for j, i in enumerate(ins)]
        tot = sum(raw)
        w = [x / tot for x in raw] if tot > 0 else [0.0] * len(ins)
        self.raw[p] = w
        self.today.weights[p] = w
        if len(ins) > 1:  # the points whose shares left their base shares (capacity caps apply)
            if any(abs(a - b) > 1e-12 for a, b in zip(w, self.lay.weights0[p], strict=True)):
                self.moved.add(p)
            else:
                self.moved.discard(p)

    def _cap_weights(self) -> None:
        """Bound what the gaining suppliers take by their spare capacity, then diversify.

        A lane whose share rose above its base share wants (share - base share) x the point's base
        inflow more per day; that is at most its own spare capacity (capacity x factor - base
        flow) and, summed over every lane out of a producer, at most the producer's spare capacity
        (capacity x site factor - base outflow; a plant at capacity takes nothing more). What a
        gaining lane may not take stays with the lanes that lost share, in proportion to their
        losses.
        """
        lay, fx = self.lay, self.today
        moved = sorted(self.moved)
        want, by_site, capped = self._wanted(moved)
        scale: dict[int, float] = {}
        for si, d in by_site.items():
            cap, out = self.site_spare0[si]
            spare = max(0.0, cap * fx.site_factor[si] - out)
            if d > spare:
                scale[si] = spare / d
        if scale:
            capped.update(
                p
                for p in moved
                if any(self.l_site[i] in scale for i in lay.in_lanes[p] if i in want)
            )
        for p in moved:
            fx.weights[p] = self._capped(p, want, scale) if p in capped else self.raw[p]
        self._diversify()

    def _wanted(self, moved: list[int]) -> tuple[dict[int, float], dict[int, float], set[int]]:
        """Per gaining lane the extra flow it would take within its own room; per producer the sum;
        the points where some lane's room binds."""
        lay, fx = self.lay, self.today
        want: dict[int, float] = {}
        by_site: dict[int, float] = {}
        capped: set[int] = set()
        raw, l_site, lane_cap, lane_factor, base = (
            self.raw, self.l_site, fx.lane_cap, fx.lane_factor, lay.l_base
        )
        for p in moved:
            r = self.in_base[p]
            w0, w = lay.weights0[p], raw[p]
            for j, i in enumerate(lay.in_lanes[p]):
                d = (w[j] - w0[j]) * r
                if d > 1e-9 * r:
                    room = lane_cap[i] * lane_factor[i] - base[i]
                    if d > room:
                        d = max(0.0, room)
                        capped.add(p)
                    want[i] = d
                    si = l_site[i]
                    if si >= 0:
                        by_site[si] = by_site.get(si, 0.0) + d
        return want, by_site, capped

    def _capped(self, p: int, want: dict[int, float], scale: dict[int, float]) -> list[float]:
        """Point ``p``'s shares with its gaining lanes held to what they may take; the rest goes
        back to the lanes that lost share, in proportion to their losses."""
        lay = self.lay
        w, w0, r = self.raw[p], lay.weights0[p], self.in_base[p]
        new = list(w)
        freed = lost = 0.0
        for j, i in enumerate(lay.in_lanes[p]):
            if i in want:
                new[j] = w0[j] + want[i] * scale.get(self.l_site[i], 1.0) / r
                freed += w[j] - new[j]
            elif w[j] < w0[j]:
                lost += w0[j] - w[j]
        if freed > 0 and lost > 0:
            back = min(1.0, freed / lost)
            for j, i in enumerate(lay.in_lanes[p]):
                if i not in want and w[j] < w0[j]:
                    new[j] = w[j] + back * (w0[j] - w[j])
        tot = sum(new)
        return [x / tot for x in new] if tot > 0 else new

    def _diversify(self) -> None:
        """Endogenous diversification: the share Canada->US lanes of a commodity lost (below their
        base flow) goes to that commodity's existing lanes from Canada to overseas markets, within
        their spare capacity (capacity x factor - base flow), in proportion to it. The overseas
        buyers take it as extra demand, and the stock points on the way hold stock for it, as for
        a lane a scenario opened; it follows the switching lag and ramp because the shares do."""
        lay, fx = self.lay, self.today
        for c, os_lanes in self.div_os.items():
            shed = 0.0
            for i, p, j in self.div_us[c]:
                shed += max(0.0, lay.l_base[i] - fx.weights[p][j] * self.in_base[p])
            room = [max(0.0, fx.lane_cap[i] * fx.lane_factor[i] - lay.l_base[i]) for i in os_lanes]
            if any(math.isinf(r) for r in room):  # lanes without a capacity share it equally
                room = [1.0 if math.isinf(r) else 0.0 for r in room]
                take, tot = shed, sum(room)
            else:
                tot = sum(room)
                take = min(shed, tot)
            for i, r in zip(os_lanes, room, strict=True):
                if i in self._opened:  # a lane the scenario opens takes its own capacity
                    continue
                x = take * r / tot if tot > 0 else 0.0
                dx = x - self.diverted.get(i, 0.0)
                if abs(dx) <= 1e-12:
                    continue
                self.diverted[i] = x
                dp, op = lay.l_dp[i], lay.l_op[i]
                fx.demand_extra[lay.market_of[dp]] += dx
                fx.target_extra[dp] += dx * (lay.l_transit[i] + 1 + lay.p_cover[dp])
                if lay.p_site[op].kind in ("storage", "port"):
                    fx.target_extra[op] += dx * (lay.p_lead[op] + 1 + lay.p_cover[op])
                self.prior[i] = lay.l_base[i] * self._origin_factor_of(i) + x
                if len(lay.in_lanes[dp]) > 1:
                    self._set_weights(dp)

    def _origin_factor_of(self, i: int) -> float:
        return self._origin_factor[i] if self._origin_factor else 1.0

    def _step_transitions(self, t: int) -> None:
        moved = False
        done = []
        for p, (f0, f1, t0) in self.transitions.items():
            x = (t - t0 - self.p_qual[p]) / self.p_ramp[p]
            if x <= 0:
                continue
            x = min(1.0, x)
            self.factor[p] = [a + (b - a) * x for a, b in zip(f0, f1, strict=True)]
            self._set_weights(p)
            moved = True
            if x >= 1.0:
                done.append(p)
        for p in done:
            del self.transitions[p]
        if moved:
            self._cap_weights()
