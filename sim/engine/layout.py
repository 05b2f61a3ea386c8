"""The static layout of one replication: stock points, lanes, producers and markets as indices.

A :class:`Layout` is built once per run from the network and the scenario and never changes
while the run goes on. Everything the daily step reads but does not write lives here: which lanes
leave and enter each stock point, their base flows and transit times, each point's demand rate,
lead time, safety cover and stock targets, the producers with their capacities and bills of
materials, and the markets. The run's mutable state (stock, backlog, orders, goods in transit) is
owned by :class:`sim.engine.run.Run`; the day's factors by :mod:`sim.engine.factors`.

Points are numbered in this order: every source's and plant's output, each plant's inputs, then
the two ends of every lane, then every market, skipping a (site, commodity) pair already numbered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.spec.network import Network, Site
from sim.spec.scenario import Scenario

# a producer: (site index, output point, capacity per day); a plant adds its BOM
Source = tuple[int, int, float]
Plant = tuple[int, int, float, list[tuple[int, float]]]  # (site, out point, capacity, [(in point, per unit)])
Market = tuple[int, float, float, bool]  # (point, mean demand per day, cv, unmet demand is lost)


@dataclass(frozen=True, slots=True)
class Point:
    """A stock point: one commodity held at one site."""

    site: str
    commodity: str


class Layout:
    """Indices and constants of one run (read-only once built)."""

    def __init__(self, net: Network, scenario: Scenario) -> None:
        self.net, self.scenario = net, scenario
        self._points()
        self._lanes()
        self._targets()
        self._producers()
        self._arrays()

    def _arrays(self) -> None:
        """The same indices and constants as numpy arrays, for the vectorised daily steps."""
        n = len(self.points)
        self.n_points = n
        self.l_op_a = np.asarray(self.l_op, dtype=np.intp)
        self.l_dp_a = np.asarray(self.l_dp, dtype=np.intp)
        self.rate_a = np.asarray(self.rate, dtype=float)
        self.target_a = np.asarray(self.target, dtype=float)
        self.reorder_a = np.asarray(self.reorder, dtype=float)
        self.is_sS = self.reorder_a != -math.inf
        self.has_in = np.asarray([bool(ins) for ins in self.in_lanes], dtype=bool)
        # the in-lanes of every point, point by point: the order of Layout.weights0 flattened
        self.in_flat = np.asarray([i for ins in self.in_lanes for i in ins], dtype=np.intp)
        self.p_value_a = np.asarray(self.p_value, dtype=float)
        self.p_com_a = np.asarray(self.p_com_i, dtype=np.intp)
        # points that keep FIFO batches (perishables), and lanes to and from them
        fifo = [bool(sh) for sh in self.p_shelf]
        self.p_fifo = fifo
        self.p_plain = np.asarray([not f for f in fifo], dtype=float)
        nl = len(self.lanes)
        self.l_plain = np.asarray([self.p_shelf[self.l_dp[i]] is None for i in range(nl)], dtype=bool)
        self.l_fifo_origin = np.asarray([fifo[self.l_op[i]] for i in range(nl)], dtype=bool)
        self.l_plain_origin = (~self.l_fifo_origin).astype(float)
        self.l_cost_a = np.asarray(self.l_cost, dtype=float)
        self._market_arrays()
        self._producer_arrays()
        live = self.live
        self.v_point = np.asarray([p for p, _, _ in live], dtype=np.intp)
        self.v_feed = np.asarray([f for _, f, _ in live], dtype=float)
        self.v_death = np.asarray([d for _, _, d in live], dtype=float)
        self.v_com = self.p_com_a[self.v_point]
        self.v_value = self.p_value_a[self.v_point]

    def _market_arrays(self) -> None:
        """The markets as arrays (the array steps use them when no point has two demand rows)."""
        mk, fifo = self.markets, self.p_fifo
        self.m_point = np.asarray([p for p, _, _, _ in mk], dtype=np.intp)
        self.m_unique = len(set(self.m_point.tolist())) == len(mk)
        self.m_mean = np.asarray([x for _, x, _, _ in mk], dtype=float)
        self.m_cv = np.asarray([x for _, _, x, _ in mk], dtype=float)
        self.m_lost = np.asarray([x for _, _, _, x in mk], dtype=bool)
        self.m_lost_f = self.m_lost.astype(float)
        self.m_keep = 1.0 - self.m_lost_f  # markets that keep a backlog
        self.m_any_lost = bool(self.m_lost.any())
        self.m_pois = np.asarray(self.m_poisson, dtype=bool)
        self.m_any_pois = bool(self.m_pois.any())
        self.m_elastic_a = np.asarray(self.m_elastic, dtype=float)
        self.m_elastic_on = self.m_elastic_a != 0
        self.m_any_elastic = bool(self.m_elastic_on.any())
        self.m_value = self.p_value_a[self.m_point]
        self.m_com = self.p_com_a[self.m_point]
        self.m_fifo = [k for k, (p, _, _, _) in enumerate(mk) if fifo[p]]
        self.m_plain = np.asarray([not fifo[p] for p, _, _, _ in mk], dtype=float)

    def _producer_arrays(self) -> None:
        """Sources, plants and the plants' bills of materials as arrays."""
        src, pl, fifo = self.sources, self.plants, self.p_fifo
        self.s_site = np.asarray([si for si, _, _ in src], dtype=np.intp)
        self.s_point = np.asarray([p for _, p, _ in src], dtype=np.intp)
        self.s_cap = np.asarray([c for _, _, c in src], dtype=float)
        self.s_buffer = np.asarray([self.buffer[p] for _, p, _ in src], dtype=float)
        self.k_site = np.asarray([si for si, _, _, _ in pl], dtype=np.intp)
        self.k_point = np.asarray([p for _, p, _, _ in pl], dtype=np.intp)
        self.k_cap = np.asarray([c for _, _, c, _ in pl], dtype=float)
        self.k_buffer = np.asarray([self.buffer[p] for _, p, _, _ in pl], dtype=float)
        bom = [(k, ip, per) for k, (_, _, _, b) in enumerate(pl) for ip, per in b]
        self.b_plant = np.asarray([k for k, _, _ in bom], dtype=np.intp)
        self.b_point = np.asarray([ip for _, ip, _ in bom], dtype=np.intp)
        self.b_per = np.asarray([per for _, _, per in bom], dtype=float)
        self.b_bind = self.b_per > 0  # an input with a positive rate limits its plant's output
        self.b_div = np.where(self.b_bind, self.b_per, 1.0)
        self.b_com = self.p_com_a[self.b_point]
        self.b_fifo = [j for j, (_, ip, _) in enumerate(bom) if fifo[ip]]
        self.b_plain = np.asarray([not fifo[ip] for _, ip, _ in bom], dtype=float)
        self.p_fifo_made = [p for _, p, _ in src if fifo[p]] + [p for _, p, _, _ in pl if fifo[p]]

    # ------------------------------------------------------------------ stock points
    def _points(self) -> None:
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
        self.p_value = [c.value_usd for c in coms]
        self.p_storable = [c.storable for c in coms]
        self.p_shelf = [c.shelf_life_days for c in coms]
        self.p_com_i = [net.commodities.index(c) for c in coms]
        self.p_site: list[Site] = [net.site[p.site] for p in points]
        self.in_lanes: list[list[int]] = [[] for _ in range(n)]
        self.out_lanes: list[list[int]] = [[] for _ in range(n)]
        self.nonstorable = [p for p in range(n) if not self.p_storable[p]]
        # live animals held at a point: (point, feeding US$ per unit-day, death rate per day)
        self.live = [
            (p, c.holding_usd_per_day, c.death_rate_per_day) for p, c in enumerate(coms) if c.live
        ]

    # ------------------------------------------------------------------ lanes
    def _lanes(self) -> None:
        lanes = self.net.lanes
        self.lanes = lanes
        self.l_op = [self.pidx[(ln.origin, ln.commodity)] for ln in lanes]
        self.l_dp = [self.pidx[(ln.dest, ln.commodity)] for ln in lanes]
        for i, (o, d) in enumerate(zip(self.l_op, self.l_dp, strict=True)):
            self.out_lanes[o].append(i)
            self.in_lanes[d].append(i)
        self.l_base = [ln.base_flow for ln in lanes]
        self.l_cap0 = [math.inf if ln.capacity is None else ln.capacity for ln in lanes]
        self.l_transit = [ln.transit_days for ln in lanes]
        self.l_sig = [math.sqrt(math.log1p(ln.transit_cv**2)) for ln in lanes]
        self.l_cost = [ln.cost_per_unit_usd for ln in lanes]
        self.lane_idx = {ln.id: i for i, ln in enumerate(lanes)}

    # ------------------------------------------------------------------ rates and targets
    def _targets(self) -> None:
        """Mean flow, lead time, safety cover, order-up-to targets and opening stock per point."""
        net, lanes = self.net, self.lanes
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
        self.p_lead = [0.0] * n
        self.p_cover = [0.0] * n
        self.weights0: list[list[float]] = [[] for _ in range(n)]
        self.target = [0.0] * n
        self.reorder = [-math.inf] * n
        self.buffer = [0.0] * n
        self.opening = [0.0] * n
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
            self.weights0[p] = [
                (self.l_base[i] / tot if tot > 0 else 0.0) for i in self.in_lanes[p]
            ]
            lead = lead_num[p] / tot if tot > 0 else 0.0
            self.p_lead[p] = lead
            cover = s.cover_days
            shelf = self.p_shelf[p]
            if shelf is not None:  # perishables: safety stock at most half the shelf life left on arrival
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
            days = cover if is_output else cover + 1
            self.opening[p] = r * days if self.p_storable[p] else 0.0
        for x in net.stock:  # explicit levels: S (and s) in units; the start is S less the pipeline
            p = self.pidx[(x.site, x.commodity)]
            self.target[p] = x.S
            self.reorder[p] = -math.inf if x.s is None else x.s
            self.opening[p] = max(0.0, x.S - self.rate[p] * self.p_lead[p])

    # ------------------------------------------------------------------ producers and markets
    def _producers(self) -> None:
        net = self.net
        self.sources: list[Source] = []
        self.plants: list[Plant] = []
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
        self.markets: list[Market] = [
            (self.pidx[(dm.site, dm.commodity)], dm.mean_per_day, dm.cv, dm.unmet == "lost")
            for dm in net.demand
        ]
        self.m_poisson = [dm.dist == "poisson" for dm in net.demand]
        self.market_of = {p: k for k, (p, _, _, _) in enumerate(self.markets)}
        el = self.scenario.market.elasticity
        self.m_elastic = [
            el.get(net.commodity[self.points[p].commodity].sector, 0.0)
            for p, _, _, _ in self.markets
        ]
        self.site_idx = {s.id: k for k, s in enumerate(net.sites)}
