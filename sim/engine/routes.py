"""Route choice at the border: which crossing the traffic of a crossing takes today.

Every road or rail crossing group ``h`` (crossing, direction) whose crossing has alternatives in
the network (``corridors.csv``) is a *home*: the traffic that the 2024 counts put on it (modelled
lots and background vehicles) chooses each day among the home crossing and its alternatives in the
same direction; background traffic may also *forgo* the trip (postpone it past the horizon, move it
to another mode, or cancel it). The generalised cost of an option, in hours, is

    home h:          W_h
    alternative j:   W_j + detour_hours(h, j) + toll_usd(h, j) / truck_hour_usd
    forgo:           route_forgo_hours   (background only)

where ``W`` is the wait expected today at a crossing (its carried-over queue divided by today's
capacity, the mean in-day wait at yesterday's load and today's capacity, secondary inspection),
infinite when it is closed. A logit ``P_k = exp(-beta c_k) / sum exp(-beta c)`` gives the shares
at today's costs. The 2024 counts already hold the traffic that chose each crossing at 2024 costs,
so only the rise of an option's share above its 2024 value ``P_k(c0)`` moves traffic: the target
share of an alternative (or of forgoing) is ``max(0, P_k(c) - P_k(c0) - MIN_SHARE)`` (a
rise smaller than :data:`MIN_SHARE` is day-to-day noise) and the home crossing keeps the rest; at
2024 costs nothing moves. Shares then close ``1 / (1 + route_inertia_days)`` of
the gap to the target each day (partial adjustment, so choice does not flip-flop); a closed
crossing is known at once and gets no traffic (its share is spread over the open options in
proportion). Lots that find every option closed wait at home; background forgoes.

:class:`RouteChoice` is pure arithmetic over the costs it is given; the border computes the costs
and moves the traffic (:meth:`sim.engine.border.Border.cross`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INF = math.inf
MIN_SHARE = 1e-3  # a rise of a share by less than this moves nothing (day-to-day noise)
COST_TOL = 5.0 / 60.0  # hours: settled shares stay while no option's cost moves by 5 minutes
SETTLED = 1e-4  # shares this close to their target have settled


@dataclass(frozen=True, slots=True)
class Option:
    """One way out of a home crossing group: a group to cross at, and what the detour adds."""

    group: int  #: crossing group served (the home group itself for the first option)
    detour_hours: float  #: extra driving time per vehicle
    toll_usd: float  #: extra toll per vehicle


def logit(costs: list[float], beta: float) -> list[float]:
    """Multinomial-logit shares of options with ``costs`` (hours; ``inf`` = unavailable)."""
    finite = [c for c in costs if c < INF]
    if not finite:
        return [0.0] * len(costs)
    cmin = min(finite)
    w = [math.exp(-beta * (c - cmin)) if c < INF else 0.0 for c in costs]
    tot = sum(w)
    return [x / tot for x in w]


class RouteChoice:
    """Daily shares of each home group's traffic over its options.

    Parameters
    ----------
    options
        Per home group, its options: the home group first (detour 0), then its alternatives.
    base_wait_hours
        Expected wait of every group at 2024 load and full capacity (the reference costs).
    beta, inertia_days, forgo_hours, truck_hour_usd
        The choice parameters (``sim.spec.scenario.Market``) and the value of a truck-hour.
    """

    def __init__(
        self,
        options: dict[int, list[Option]],
        base_wait_hours: list[float],
        beta: float,
        inertia_days: float,
        forgo_hours: float,
        truck_hour_usd: float,
    ) -> None:
        self.options = options
        self.beta = beta
        self.adjust = 1.0 / (1.0 + inertia_days)
        self.forgo = forgo_hours
        self.th = truck_hour_usd if truck_hour_usd > 0 else 1.0
        self.p0_lot: dict[int, list[float]] = {}
        self.p0_bkg: dict[int, list[float]] = {}
        self.lot: dict[int, list[float]] = {}  # shares of modelled lots over the options
        self.bkg: dict[int, list[float]] = {}  # shares of background over options + forgo
        for h, opts in options.items():
            c0 = self.costs(opts, base_wait_hours)
            self.p0_lot[h] = logit(c0, beta)
            self.p0_bkg[h] = logit([*c0, forgo_hours], beta)
            self.lot[h] = [1.0] + [0.0] * (len(opts) - 1)
            self.bkg[h] = [1.0] + [0.0] * len(opts)
        self.seen: dict[int, list[float]] = {}  # costs the settled shares of a home answer
        self._seen_next: dict[int, list[float]] = {}
        self._last: tuple[dict[int, list[float]], dict[int, list[float]]] = ({}, {})

    def costs(self, opts: list[Option], wait_hours: list[float]) -> list[float]:
        """Generalised cost (hours) of each option, given each group's expected wait."""
        return [
            wait_hours[o.group] + o.detour_hours + o.toll_usd / self.th
            if wait_hours[o.group] < INF
            else INF
            for o in opts
        ]

    def update(self, wait_hours: list[float]) -> None:
        """Move every home group's shares one day toward today's targets."""
        self.commit(*self.propose(wait_hours))

    def commit(self, lot: dict[int, list[float]], bkg: dict[int, list[float]]) -> None:
        """Keep the shares of the last :meth:`propose` (the day's choice)."""
        self.lot, self.bkg = lot, bkg
        # only shares that are exactly the last proposal's answer those costs
        last_l, last_b = self._last
        self.seen = {
            h: c for h, c in self._seen_next.items()
            if lot[h] is last_l[h] and bkg[h] is last_b[h]
        }  # fmt: skip

    def propose(
        self, wait_hours: list[float]
    ) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
        """Today's shares (lots, background) if the waits were ``wait_hours``; nothing is kept
        until :meth:`commit`. A home whose shares have settled on their target keeps them while
        no option's cost has moved by :data:`COST_TOL` since (no logit is computed)."""
        lot: dict[int, list[float]] = {}
        bkg: dict[int, list[float]] = {}
        seen: dict[int, list[float]] = {}
        for h, opts in self.options.items():
            c = self.costs(opts, wait_hours)
            old = self.seen.get(h)
            if old is not None and all(
                abs(x - y) < COST_TOL if x < INF and y < INF else x == y
                for x, y in zip(c, old, strict=True)
            ):
                lot[h], bkg[h], seen[h] = self.lot[h], self.bkg[h], old
                continue
            lot[h], still_l = self._step(self.lot[h], logit(c, self.beta), self.p0_lot[h], c, False)
            cb = [*c, self.forgo]
            bkg[h], still_b = self._step(
                self.bkg[h], logit(cb, self.beta), self.p0_bkg[h], cb, True
            )
            if still_l and still_b:
                seen[h] = c
        self._seen_next = seen
        self._last = (lot, bkg)
        return lot, bkg

    def _step(
        self, s: list[float], p: list[float], p0: list[float], c: list[float], forgo: bool
    ) -> tuple[list[float], bool]:
        """The shares one day on from ``s``, and whether they have reached their target."""
        target = [0.0] + [
            d if (d := a - b - MIN_SHARE) > 0.0 else 0.0 for a, b in zip(p[1:], p0[1:], strict=True)
        ]
        target[0] = max(0.0, 1.0 - sum(target))
        lam = self.adjust
        new = [x + lam * (y - x) for x, y in zip(s, target, strict=True)]
        new = [x if ck < INF else 0.0 for x, ck in zip(new, c, strict=True)]
        tot = sum(new)
        if tot > 0:
            new = [x / tot for x in new]
            return new, all(abs(x - y) < SETTLED for x, y in zip(new, target, strict=True))
        # every option is closed (or every open one had no share): spread over the open ones by
        # today's logit; lots with nothing open wait at home, background forgoes
        if any(ck < INF for ck in c):
            return p, False
        out = [0.0] * len(c)
        out[-1 if forgo else 0] = 1.0
        return out, False
