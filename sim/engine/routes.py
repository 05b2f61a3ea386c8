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
    cmin = INF
    for c in costs:
        if c < cmin:
            cmin = c
    n = len(costs)
    if cmin == INF:
        return [0.0] * n
    w = [0.0] * n
    for k in range(n):
        c = costs[k]
        if c < INF:
            w[k] = math.exp(-beta * (c - cmin))
    tot = sum(w)
    for k in range(n):
        w[k] /= tot
    return w


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

    Notes
    -----
    An option's target share is positive only once its logit share rises :data:`MIN_SHARE`
    above its 2024 value. The logit share of option ``k`` is at most ``1 / (1 + exp(beta *
    (c_k - c_home)))`` (the home option alone in the denominator), so an option whose cost
    exceeds the home's by :attr:`quiet` hours (where that bound is half of ``MIN_SHARE`` above
    its 2024 share) has a target of exactly 0. When every option of a home is that far off, the
    target is "all at home" and the logit is not computed: the shares are the same to the bit.
    While :attr:`fast` is true, that shortcut is taken, homes with one alternative are computed
    without per-option loops, and a home's answer to costs it has already seen today is reused
    (tests compare these with the plain computation).
    """

    fast = True  #: take the shortcuts

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
        # per home: (option group, detour hours, toll in hours), and the cost margins over the
        # home option beyond which the lots' and the background's targets are all at home
        self.quiet: dict[int, tuple[list[float], list[float]]] = {}
        self._homes: list[tuple[int, list[tuple[int, float, float]]]] = []
        for h, opts in options.items():
            c0 = self.costs(opts, base_wait_hours)
            self.p0_lot[h] = logit(c0, beta)
            self.p0_bkg[h] = logit([*c0, forgo_hours], beta)
            self.lot[h] = [1.0] + [0.0] * (len(opts) - 1)
            self.bkg[h] = [1.0] + [0.0] * len(opts)
            self.quiet[h] = (_margins(self.p0_lot[h], beta), _margins(self.p0_bkg[h], beta))
            self._homes.append((h, [(o.group, o.detour_hours, o.toll_usd / self.th) for o in opts]))
        self._home = {n: [1.0] + [0.0] * (n - 1) for n in {len(p) for p in self.p0_bkg.values()}}
        self._home.update({n - 1: [1.0] + [0.0] * (n - 2) for n in self._home})
        self.seen: dict[int, list[float]] = {}  # costs the settled shares of a home answer
        self._seen_next: dict[int, list[float]] = {}
        # per home, today's last answer: (costs, lot shares, background shares, settled)
        self._memo: dict[int, tuple[list[float], list[float], list[float], bool]] = {}

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

    def commit(
        self, lot: dict[int, list[float]], bkg: dict[int, list[float]], proposed: bool = True
    ) -> None:
        """Keep shares ``lot`` and ``bkg`` as the day's choice: those of the last :meth:`propose`
        (``proposed``), or shares between proposals (then no home has settled)."""
        self.lot, self.bkg = lot, bkg
        self._memo.clear()
        self.seen = self._seen_next if proposed else {}

    def propose(
        self, wait_hours: list[float]
    ) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
        """Today's shares (lots, background) if the waits were ``wait_hours``; nothing is kept
        until :meth:`commit`. A home whose shares have settled on their target keeps them while
        no option's cost has moved by :data:`COST_TOL` since (no logit is computed)."""
        lot: dict[int, list[float]] = {}
        bkg: dict[int, list[float]] = {}
        seen: dict[int, list[float]] = {}
        memo = self._memo
        for h, spec in self._homes:
            if len(spec) == 2:
                (g0, d0, t0), (g1, d1, t1) = spec
                w0, w1 = wait_hours[g0], wait_hours[g1]
                c = [(w0 + d0) + t0 if w0 < INF else INF, (w1 + d1) + t1 if w1 < INF else INF]
            else:
                c = [(w + d) + tt if (w := wait_hours[g]) < INF else INF for g, d, tt in spec]
            old = self.seen.get(h)
            if old is not None and _near(c, old):
                lot[h], bkg[h], seen[h] = self.lot[h], self.bkg[h], old
                continue
            m = memo.get(h)
            if m is None or m[0] != c or not self.fast:  # same costs, same answer all day
                m = (c, *self._home_day(h, c))
                memo[h] = m
            _, lot[h], bkg[h], settled = m
            if settled:
                seen[h] = c
        self._seen_next = seen
        return lot, bkg

    def _home_day(self, h: int, c: list[float]) -> tuple[list[float], list[float], bool]:
        """Home ``h``'s shares (lots, background) one day on at costs ``c``, and whether both
        have reached their targets."""
        q_lot, q_bkg = self.quiet[h]
        if self.fast and len(c) == 2:  # one alternative: the same arithmetic, unrolled
            c0, c1 = c
            lot, still_l = _pair_lot(self, self.lot[h], c0, c1, self.p0_lot[h], q_lot)
            bkg, still_b = _pair_bkg(self, self.bkg[h], c0, c1, self.p0_bkg[h], q_bkg)
        else:
            lot, still_l = self._move(self.lot[h], c, self.p0_lot[h], q_lot, False)
            bkg, still_b = self._move(self.bkg[h], [*c, self.forgo], self.p0_bkg[h], q_bkg, True)
        return lot, bkg, still_l and still_b

    def _move(
        self, s: list[float], c: list[float], p0: list[float], quiet: list[float], forgo: bool
    ) -> tuple[list[float], bool]:
        """:meth:`_step` at today's logit, which is skipped when every option is quiet."""
        c0 = c[0]
        if self.fast and c0 < INF:
            for k in range(1, len(c)):
                if c[k] - c0 < quiet[k]:
                    break
            else:
                moved = self._toward(s, self._home[len(c)], c)
                if moved is not None:
                    return moved
        return self._step(s, logit(c, self.beta), p0, c, forgo)

    def _step(
        self, s: list[float], p: list[float], p0: list[float], c: list[float], forgo: bool
    ) -> tuple[list[float], bool]:
        """The shares one day on from ``s``, and whether they have reached their target."""
        n = len(p)
        target = [0.0] * n
        for k in range(1, n):
            d = p[k] - p0[k] - MIN_SHARE
            if d > 0.0:
                target[k] = d
        target[0] = max(0.0, 1.0 - sum(target))
        moved = self._toward(s, target, c)
        if moved is not None:
            return moved
        # every option is closed (or every open one had no share): spread over the open ones by
        # today's logit; lots with nothing open wait at home, background forgoes
        if any(ck < INF for ck in c):
            return p, False
        out = [0.0] * len(c)
        out[-1 if forgo else 0] = 1.0
        return out, False

    def _toward(
        self, s: list[float], target: list[float], c: list[float]
    ) -> tuple[list[float], bool] | None:
        """Shares ``s`` moved toward ``target`` (closed options get none), and whether they have
        reached it; ``None`` when no open option would have a share."""
        lam, n = self.adjust, len(s)
        new = [0.0] * n
        for k in range(n):
            if c[k] < INF:
                x = s[k]
                new[k] = x + lam * (target[k] - x)
        tot = sum(new)
        if not tot > 0:
            return None
        settled = True
        for k in range(n):
            x = new[k] / tot
            new[k] = x
            if settled and not abs(x - target[k]) < SETTLED:
                settled = False
        return new, settled


def _near(c: list[float], old: list[float]) -> bool:
    """Whether no cost moved by :data:`COST_TOL` (an infinite cost only matches itself)."""
    for k in range(len(c)):
        x, y = c[k], old[k]
        if x < INF and y < INF:
            if not abs(x - y) < COST_TOL:
                return False
        elif x != y:
            return False
    return True


def _margins(p0: list[float], beta: float) -> list[float]:
    """Per option, the cost above the home option's (hours) beyond which its target share is 0:
    where ``1 / (1 + exp(beta * margin))`` is half of :data:`MIN_SHARE` above its 2024 share
    (the first entry, the home option, is unused). ``inf`` (never quiet) unless ``beta > 0``."""
    out = [INF]
    for b in p0[1:]:
        q = b + 0.5 * MIN_SHARE
        if not beta > 0:
            out.append(INF)
        elif q >= 1.0:
            out.append(-INF)
        else:
            out.append(math.log(1.0 / q - 1.0) / beta)
    return out


def _pair_lot(
    ch: RouteChoice, s: list[float], c0: float, c1: float, p0: list[float], quiet: list[float]
) -> tuple[list[float], bool]:
    """:meth:`RouteChoice._move` of a home's lots over two options (costs ``c0``, ``c1``)."""
    if c0 < INF and c1 - c0 >= quiet[1]:
        t0, t1 = 1.0, 0.0
    else:  # logit([c0, c1])[1], inlined
        cmin = INF
        if c0 < cmin:
            cmin = c0
        if c1 < cmin:
            cmin = c1
        p1 = 0.0
        if cmin < INF:
            beta = ch.beta
            w0 = math.exp(-beta * (c0 - cmin)) if c0 < INF else 0.0
            w1 = math.exp(-beta * (c1 - cmin)) if c1 < INF else 0.0
            p1 = w1 / (w0 + w1)
        d = p1 - p0[1] - MIN_SHARE
        t1 = d if d > 0.0 else 0.0
        d = 1.0 - t1
        t0 = d if d > 0.0 else 0.0
    lam = ch.adjust
    s0, s1 = s
    x0 = s0 + lam * (t0 - s0) if c0 < INF else 0.0
    x1 = s1 + lam * (t1 - s1) if c1 < INF else 0.0
    tot = x0 + x1
    if tot > 0:
        x0 /= tot
        x1 /= tot
        return [x0, x1], abs(x0 - t0) < SETTLED and abs(x1 - t1) < SETTLED
    if c0 < INF or c1 < INF:
        return logit([c0, c1], ch.beta), False
    return [1.0, 0.0], False


def _pair_bkg(
    ch: RouteChoice, s: list[float], c0: float, c1: float, p0: list[float], quiet: list[float]
) -> tuple[list[float], bool]:
    """:meth:`RouteChoice._move` of a home's background over two options and forgoing."""
    f = ch.forgo
    if c0 < INF and c1 - c0 >= quiet[1] and f - c0 >= quiet[2]:
        t0, t1, t2 = 1.0, 0.0, 0.0
    else:
        p1, p2 = _logit12(c0, c1, f, ch.beta)
        d = p1 - p0[1] - MIN_SHARE
        t1 = d if d > 0.0 else 0.0
        d = p2 - p0[2] - MIN_SHARE
        t2 = d if d > 0.0 else 0.0
        d = 1.0 - (t1 + t2)
        t0 = d if d > 0.0 else 0.0
    lam = ch.adjust
    s0, s1, s2 = s
    x0 = s0 + lam * (t0 - s0) if c0 < INF else 0.0
    x1 = s1 + lam * (t1 - s1) if c1 < INF else 0.0
    x2 = s2 + lam * (t2 - s2) if f < INF else 0.0
    tot = sum((x0, x1, x2))
    if tot > 0:
        x0 /= tot
        x1 /= tot
        x2 /= tot
        settled = abs(x0 - t0) < SETTLED and abs(x1 - t1) < SETTLED and abs(x2 - t2) < SETTLED
        return [x0, x1, x2], settled
    if c0 < INF or c1 < INF or f < INF:
        return logit([c0, c1, f], ch.beta), False
    return [0.0, 0.0, 1.0], False


def _logit12(c0: float, c1: float, c2: float, beta: float) -> tuple[float, float]:
    """``logit([c0, c1, c2], beta)[1:]``, inlined."""
    cmin = INF
    if c0 < cmin:
        cmin = c0
    if c1 < cmin:
        cmin = c1
    if c2 < cmin:
        cmin = c2
    if cmin == INF:
        return 0.0, 0.0
    w0 = math.exp(-beta * (c0 - cmin)) if c0 < INF else 0.0
    w1 = math.exp(-beta * (c1 - cmin)) if c1 < INF else 0.0
    w2 = math.exp(-beta * (c2 - cmin)) if c2 < INF else 0.0
    tot = sum((w0, w1, w2))
    return w1 / tot, w2 / tot
