"""The cost ledger of one run: cost categories, the day's bookings, and the rows they become.

Every US$ the model books goes to a category ``(party, country, sector, kind, region)``: party is
one of :data:`PARTIES`, kind one of :data:`KINDS`, region the state or province of the site behind
the cost (the stock point's site; a lane's destination, or its origin for the exporter's share of a
duty; ``""`` for government revenue, which is national). A :class:`Ledger` numbers the categories once per run
and keeps, per stock point and per lane, the category each kind of cost goes to (holding and
spoilage to the site's party, transport and delay to the lane's importer or downstream user, duty
split among the parties by the pass-through shares of the lane's sector and direction and credited to the government that
levies it). During the day the model adds to :attr:`Ledger.today`; :meth:`Ledger.close_day` books
holding and backlog costs and turns the day's non-zero totals into ``(day, category, usd)`` rows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.spec.network import Network
from sim.spec.scenario import Scenario

PARTIES = ("exporter", "importer", "downstream", "consumer", "government")
KINDS = ("duty", "transport", "holding", "delay", "downtime", "backlog", "lost_margin", "spoilage")

Plant = tuple[int, int, float, list[tuple[int, float]]]  # (site index, out point, capacity, BOM)


class Ledger:
    """Cost categories of one run and the US$ booked to them."""

    def __init__(
        self,
        net: Network,
        scenario: Scenario,
        point_keys: list[tuple[str, str]],
        plants: list[Plant],
    ) -> None:
        lanes = net.lanes
        self.cat_index: dict[tuple[str, str, str, str, str], int] = {}
        self.cats: list[tuple[str, str, str, str, str]] = []
        exporters = {ln.origin for ln in lanes if ln.crossing is not None}

        def cat(party: str, country: str, sector: str, kind: str, region: str = "") -> int:
            key = (party, country, sector, kind, region)
            if key not in self.cat_index:
                self.cat_index[key] = len(self.cats)
                self.cats.append(key)
            return self.cat_index[key]

        def site_party(site_id: str) -> str:
            s = net.site[site_id]
            if s.kind == "market":
                return "consumer"
            return "exporter" if site_id in exporters else "downstream"

        sector = [net.commodity[com].sector for _, com in point_keys]
        pctry = [net.site[site].country for site, _ in point_keys]
        preg = [net.site[site].region for site, _ in point_keys]
        self.p_hold_cat = [
            cat(site_party(site), pctry[i], sector[i], "holding", preg[i])
            for i, (site, _) in enumerate(point_keys)
        ]
        self.p_spoil_cat = [
            cat(site_party(site), pctry[i], sector[i], "spoilage", preg[i])
            for i, (site, _) in enumerate(point_keys)
        ]
        self.p_backlog_cat = [
            cat("consumer", pctry[i], sector[i], "backlog", preg[i]) for i in range(len(point_keys))
        ]
        self.p_lost_cat = [
            cat("downstream", pctry[i], sector[i], "lost_margin", preg[i])
            for i in range(len(point_keys))
        ]
        self.l_party = ["importer" if ln.crossing else "downstream" for ln in lanes]
        lsec = [net.commodity[ln.commodity].sector for ln in lanes]
        lctry = [net.site[ln.dest].country for ln in lanes]
        lreg = [net.site[ln.dest].region for ln in lanes]
        oreg = [net.site[ln.origin].region for ln in lanes]
        self.l_transport_cat = [
            cat(self.l_party[i], lctry[i], lsec[i], "transport", lreg[i]) for i in range(len(lanes))
        ]
        self.l_delay_cat = [
            cat(self.l_party[i], lctry[i], lsec[i], "delay", lreg[i]) for i in range(len(lanes))
        ]
        self.l_spoil_cat = [
            cat(self.l_party[i], lctry[i], lsec[i], "spoilage", lreg[i]) for i in range(len(lanes))
        ]
        self.plant_down_cat = [
            cat(
                site_party(net.sites[si].id),
                net.sites[si].country,
                net.commodity[net.sites[si].commodity or ""].sector,
                "downtime",
                net.sites[si].region,
            )
            for si, _, _, _ in plants
        ]
        self.plant_down_cost = [net.sites[si].downtime_usd_per_hour for si, _, _, _ in plants]
        mk = scenario.market
        order = ("exporter", "importer", "downstream", "consumer")
        # each lane's shares of a duty dollar: its sector's and direction's table (Market.shares)
        self.l_pass_through = [
            [mk.shares(lsec[i], net.direction(ln)).get(k, 0.0) for k in order]
            for i, ln in enumerate(lanes)
        ]
        # consumers at a market see their share of the duty embodied in what they buy: the shares
        # of goods entering the market's country across the border (sb into the US, nb into Canada)
        into = {"US": "sb", "CA": "nb"}
        self.p_consumer_share = [
            mk.shares(sector[i], into.get(pctry[i], "")).get("consumer", 0.0)
            for i in range(len(point_keys))
        ]
        octry = [net.site[ln.origin].country for ln in lanes]
        # duty rows per lane: exporter (origin), importer, downstream, consumer (destination), then the
        # government of the destination (tariff) and of the origin (levy)
        self.l_duty_cats = [
            (
                cat("exporter", octry[i], lsec[i], "duty", oreg[i]),
                cat("importer", lctry[i], lsec[i], "duty", lreg[i]),
                cat("downstream", lctry[i], lsec[i], "duty", lreg[i]),
                cat("consumer", lctry[i], lsec[i], "duty", lreg[i]),
                cat("government", lctry[i], lsec[i], "duty"),
                cat("government", octry[i], lsec[i], "duty"),
            )
            for i in range(len(lanes))
        ]
        self.l_octry, self.l_dctry = octry, lctry
        self.hold_rate = scenario.costs.holding_rate_per_year / 365.0
        self.backlog_penalty = scenario.costs.backlog_penalty_per_day
        self.today = [0.0] * len(self.cats)  # US$ booked so far today, per category
        self.p_hold_cat_a = np.asarray(self.p_hold_cat, dtype=np.intp)
        self.p_backlog_cat_a = np.asarray(self.p_backlog_cat, dtype=np.intp)
        self._arrays()
        self.chunks: list[NDArray[np.float64]] = []  # (day, category, usd) rows, an array a day
        self.assessed: dict[tuple[int, str], float] = {}  # (day, levying country) -> duty, US$

    def _arrays(self) -> None:
        """What the array steps book into: today's US$ per category, and duty per lane."""
        octry, lctry = self.l_octry, self.l_dctry
        self.today_a = np.zeros(len(self.cats))  # booked by the array steps (close_day adds it)
        self.l_duty_cats_a = np.asarray(self.l_duty_cats, dtype=np.intp).reshape(-1, 6)
        self.l_pass_through_a = np.asarray(self.l_pass_through, dtype=float).reshape(-1, 4)
        countries = sorted(set(octry) | set(lctry))
        self.countries = countries
        self.l_octry_i = np.asarray([countries.index(c) for c in octry], dtype=np.intp)
        self.l_dctry_i = np.asarray([countries.index(c) for c in lctry], dtype=np.intp)
        self.lane_tariff_usd = np.zeros(len(octry))  # duty booked today per lane (array steps)
        self.lane_levy_usd = np.zeros(len(octry))
        self.duty_today = False

    def book_duty(self, l: int, tariff_usd: float, levy_usd: float, t: int) -> None:
        """Book lane ``l``'s tariff (to its destination) and levy (to its origin) on day ``t``
        (split into the rows at the day's closing, as :meth:`book_duties`)."""
        if tariff_usd > 0:
            self.lane_tariff_usd[l] += tariff_usd
            self.duty_today = True
        if levy_usd > 0:
            self.lane_levy_usd[l] += levy_usd
            self.duty_today = True

    def add(self, cats: NDArray[np.intp], usd: NDArray[np.float64]) -> None:
        """Book ``usd[k]`` to category ``cats[k]`` today (array steps)."""
        self.today_a += np.bincount(cats, weights=usd, minlength=len(self.today_a))

    def book_duties(
        self, lanes: NDArray[np.intp], tariff_usd: NDArray[np.float64],
        levy_usd: NDArray[np.float64], t: int,
    ) -> None:
        """:meth:`book_duty` for many lanes at once (a lane may repeat)."""
        nl = len(self.l_dctry_i)
        self.lane_tariff_usd += np.bincount(lanes, weights=tariff_usd * (tariff_usd > 0), minlength=nl)
        self.lane_levy_usd += np.bincount(lanes, weights=levy_usd * (levy_usd > 0), minlength=nl)
        self.duty_today = True

    def _split_duties(self, t: int) -> None:
        """Today's duties per lane to their rows: exporter, downstream and consumer take their
        shares of the duty, the importer of record keeps the rest (so the private rows add up to
        the government's revenue), and the levying government books the revenue."""
        for amount, gov, ctry in (
            (self.lane_tariff_usd, 4, self.l_dctry_i), (self.lane_levy_usd, 5, self.l_octry_i),
        ):
            if not amount.any():
                continue
            pt, c = self.l_pass_through_a, self.l_duty_cats_a
            parts = amount[:, None] * pt[:, (0, 2, 3)]
            rest = amount - parts[:, 0] - parts[:, 1] - parts[:, 2]
            self.add(
                np.concatenate((c[:, 0], c[:, 2], c[:, 3], c[:, 1], c[:, gov])),
                np.concatenate((parts[:, 0], parts[:, 1], parts[:, 2], rest, -amount)),
            )
            by = np.bincount(ctry, weights=amount, minlength=len(self.countries))
            for k in np.flatnonzero(by).tolist():
                key = (t, self.countries[k])
                self.assessed[key] = self.assessed.get(key, 0.0) + float(by[k])
            amount[:] = 0.0
        self.duty_today = False

    @property
    def duty_by_day(self) -> list[tuple[int, str, float]]:
        """Duty assessed per (day, levying country), US$: the lots' side of duty == revenue."""
        return [(t, c, x) for (t, c), x in sorted(self.assessed.items())]

    def close_day_loop(
        self, t: int, on_hand: list[float], backlog: list[float], value: list[float]
    ) -> None:
        """:meth:`close_day` as a loop, for small networks (another summation order)."""
        hc, ct = self.p_hold_cat, self.today
        if self.duty_today:
            self._split_duties(t)
            for c in np.flatnonzero(self.today_a).tolist():
                ct[c] += float(self.today_a[c])
            self.today_a[:] = 0.0
        r = self.hold_rate
        for p, q in enumerate(on_hand):
            if q > 0:
                ct[hc[p]] += q * value[p] * r
        pen = self.backlog_penalty
        for p, b in enumerate(backlog):
            if b > 0:
                ct[self.p_backlog_cat[p]] += b * value[p] * pen
        rows = [(t, c, usd) for c, usd in enumerate(ct) if usd != 0.0]
        self.chunks.append(np.asarray(rows, dtype=np.float64).reshape(-1, 3))
        self.today = [0.0] * len(ct)

    def close_day(
        self, t: int, on_hand: NDArray[np.float64], backlog: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> None:
        """Book the day's holding and backlog costs, then turn today's totals into rows
        (array steps: :meth:`close_day_loop` in another summation order)."""
        if self.duty_today:
            self._split_duties(t)
        n = len(self.today_a)
        ct = self.today_a
        if any(self.today):
            ct += self.today
            self.today = [0.0] * n
        ct += np.bincount(
            self.p_hold_cat_a, weights=np.maximum(on_hand, 0.0) * value, minlength=n
        ) * self.hold_rate
        if self.backlog_penalty:
            ct += np.bincount(
                self.p_backlog_cat_a, weights=np.maximum(backlog, 0.0) * value, minlength=n
            ) * self.backlog_penalty
        nz = np.flatnonzero(ct)
        day = np.empty((len(nz), 3))
        day[:, 0] = t
        day[:, 1] = nz
        day[:, 2] = ct[nz]
        self.chunks.append(day)
        ct[:] = 0.0

    def table(self) -> NDArray[np.float64]:
        """Every row booked, ``(day, category, usd)``, in booking order, as a (rows, 3) array."""
        return np.concatenate(self.chunks) if self.chunks else np.zeros((0, 3))
