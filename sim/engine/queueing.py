"""Queueing at road crossings: M/M/c formulas, lot-level daily waits and a vehicle-level check.

"The shape follows the data, the mean follows the queue": the published wait at a crossing
(median, p95 at the 2024 load) fixes a lognormal; on a simulated day its mean is multiplied by
``scale = T(load, booths_d, service_d) / T(load0, booths, service)``, where ``T`` is the M/M/c
mean sojourn time (Erlang C queue wait plus service). Utilisation is capped at :data:`RHO_MAX`;
the engine carries unserved trucks over to the next day separately.

Units: loads and capacities in trucks/day, times in minutes; crossings operate 24 h a day.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import cache
from statistics import NormalDist
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

__all__ = [
    "RHO_MAX",
    "CrossingQueue",
    "QueueDay",
    "erlang_c",
    "mmc_sojourn_mean",
    "mmc_wait_mean",
    "simulate_vehicles",
    "simulate_vehicles_detailed",
]

RHO_MAX: float = 0.98
"""Utilisation cap for the in-day M/M/c factor (the formula diverges at 1)."""

MIN_PER_DAY: float = 1440.0
_Z95: float = NormalDist().inv_cdf(0.95)  # 1.6449
_GRID_N: int = 2001
_GRID_STEP: float = RHO_MAX / (_GRID_N - 1)
_INV_STEP: float = 1.0 / _GRID_STEP
MEMO_MAX: int = 4096  # loads a QueueDay remembers (then it starts afresh)


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue.

    Parameters
    ----------
    c : int
        Number of servers, ``c >= 1``.
    a : float
        Offered load ``lam / mu`` (Erlangs), ``0 <= a < c``.

    Returns
    -------
    float
        Erlang C probability, computed stably via the Erlang B recursion.
    """
    if c < 1:
        raise ValueError(f"erlang_c: c must be >= 1, got {c!r}")
    if not a >= 0.0:
        raise ValueError(f"erlang_c: a must be >= 0, got {a!r}")
    if a >= c:
        raise ValueError(f"erlang_c: a must be < c ({c}), got {a!r}")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def _check_rates(lam: float, mu: float, c: int) -> None:
    if not lam >= 0.0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    if not mu > 0.0:
        raise ValueError(f"mu must be > 0, got {mu!r}")
    if c < 1:
        raise ValueError(f"c must be >= 1, got {c!r}")
    if lam >= c * mu:
        raise ValueError(f"unstable queue: lam ({lam!r}) must be < c*mu ({c * mu!r})")


def mmc_wait_mean(lam: float, mu: float, c: int) -> float:
    """Mean time in queue (before service) of M/M/c, in the units of ``1/lam``."""
    _check_rates(lam, mu, c)
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_sojourn_mean(lam: float, mu: float, c: int) -> float:
    """Mean sojourn time (queue wait + service) of M/M/c, in the units of ``1/lam``."""
    return mmc_wait_mean(lam, mu, c) + 1.0 / mu


@cache
def _g_table(c: int) -> list[float]:
    """``g(rho) = (1 - rho) * T / s = (1 - rho) + C(c, c*rho) / c`` on the utilisation grid.

    ``g`` is smooth and bounded (unlike ``T``), so linear interpolation in it is very accurate.
    """
    rho = np.linspace(0.0, RHO_MAX, _GRID_N)
    a = c * rho
    b = np.ones_like(a)
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    erl_c = b / (1.0 - rho * (1.0 - b))
    table: list[float] = ((1.0 - rho) + erl_c / c).tolist()
    return table


def _sojourn_interp(load_per_day: float, booths: int, service_min: float) -> float:
    """Interpolated M/M/c mean sojourn (minutes), utilisation capped at RHO_MAX."""
    return _sojourn(_g_table(booths), load_per_day * service_min / (booths * MIN_PER_DAY), service_min)


def _sojourn(table: list[float], rho: float, service_min: float) -> float:
    """Mean sojourn (minutes) at utilisation ``rho`` (capped at RHO_MAX) from ``g``'s table."""
    if rho > RHO_MAX:
        rho = RHO_MAX
    x = rho * _INV_STEP
    i = int(x)
    if i >= _GRID_N - 1:
        i = _GRID_N - 2
    g0 = table[i]
    g = g0 + (x - i) * (table[i + 1] - g0)
    return service_min * g / (1.0 - rho)


@dataclass(frozen=True, slots=True)
class CrossingQueue:
    """Calibrated wait model of one crossing direction.

    Parameters
    ----------
    capacity_per_day : float
        Trucks/day the crossing can process with all booths open.
    booths : int
        Parallel primary-inspection booths ``c``.
    load0_per_day : float
        Observed (2024) load in trucks/day at which the waits were published.
    median_min, p95_min : float
        Published median and 95th-percentile wait (queue + inspection), minutes.

    Attributes
    ----------
    service_min : float
        Mean inspection time per truck, ``booths * 1440 / capacity_per_day``.
    sigma, mu_ln : float
        Lognormal parameters of the published wait.
    sojourn0_min : float
        M/M/c mean sojourn at ``load0_per_day`` (interpolated, so ``scale(load0) == 1``).
    wait0_min : float
        Mean of the published wait, ``exp(mu_ln + sigma**2 / 2)`` (:meth:`wait_mean_min` at 1).
    """

    capacity_per_day: float
    booths: int
    load0_per_day: float
    median_min: float
    p95_min: float
    service_min: float = field(init=False)
    sigma: float = field(init=False)
    mu_ln: float = field(init=False)
    sojourn0_min: float = field(init=False)
    wait0_min: float = field(init=False)

    def __post_init__(self) -> None:
        def bad(name: str, rule: str, value: object) -> ValueError:
            return ValueError(f"CrossingQueue: {name} must be {rule}, got {value!r}")

        if not (math.isfinite(self.capacity_per_day) and self.capacity_per_day > 0):
            raise bad("capacity_per_day", "finite and > 0", self.capacity_per_day)
        if isinstance(self.booths, bool) or not isinstance(self.booths, int) or self.booths < 1:
            raise bad("booths", "an int >= 1", self.booths)
        if not 0 < self.load0_per_day < self.capacity_per_day:
            rule = f"> 0 and < capacity_per_day ({self.capacity_per_day!r})"
            raise bad("load0_per_day", rule, self.load0_per_day)
        if not (math.isfinite(self.median_min) and self.median_min > 0):
            raise bad("median_min", "finite and > 0", self.median_min)
        if not (math.isfinite(self.p95_min) and self.p95_min > self.median_min):
            raise bad("p95_min", f"finite and > median_min ({self.median_min!r})", self.p95_min)
        service = self.booths * MIN_PER_DAY / self.capacity_per_day
        object.__setattr__(self, "service_min", service)
        object.__setattr__(self, "sigma", math.log(self.p95_min / self.median_min) / _Z95)
        object.__setattr__(self, "mu_ln", math.log(self.median_min))
        sojourn0 = _sojourn_interp(self.load0_per_day, self.booths, service)
        object.__setattr__(self, "sojourn0_min", sojourn0)
        object.__setattr__(self, "wait0_min", math.exp(self.mu_ln + 0.5 * self.sigma**2))

    @classmethod
    def calibrate(
        cls,
        capacity_per_day: float,
        booths: int,
        load0_per_day: float,
        median_min: float,
        p95_min: float,
    ) -> CrossingQueue:
        """Build a calibrated crossing (same as the constructor; derived fields are computed)."""
        return cls(capacity_per_day, booths, load0_per_day, median_min, p95_min)

    def _booths_d(self, capacity_factor: float) -> int:
        if not capacity_factor >= 0.0:
            raise ValueError(f"capacity_factor must be >= 0, got {capacity_factor!r}")
        if capacity_factor == 0.0:
            return 0
        return max(1, round(self.booths * capacity_factor))

    def daily_capacity(self, capacity_factor: float = 1.0, inspection_factor: float = 1.0) -> float:
        """Trucks/day served: ``capacity_per_day * capacity_factor / inspection_factor`` (0 when
        ``capacity_factor == 0``). Capacity is fluid, so any factor cuts it exactly, even at a
        crossing with one booth."""
        if not inspection_factor > 0.0:
            raise ValueError(f"inspection_factor must be > 0, got {inspection_factor!r}")
        if not capacity_factor >= 0.0:
            raise ValueError(f"capacity_factor must be >= 0, got {capacity_factor!r}")
        return self.capacity_per_day * capacity_factor / inspection_factor

    def scale(
        self, load_per_day: float, capacity_factor: float = 1.0, inspection_factor: float = 1.0
    ) -> float:
        """Factor on the mean wait for a day with ``load_per_day`` arrivals.

        ``T(load, booths_d, service_d) / sojourn0_min`` with utilisation capped at RHO_MAX
        (table lookup, ~1 µs); ``inf`` when the crossing is closed. ``booths_d`` is
        ``booths * capacity_factor`` rounded (at least 1) and ``service_d`` the inspection time
        times ``inspection_factor``, stretched so that ``booths_d`` servers have exactly
        :meth:`daily_capacity` (the same as plain M/M/c when ``booths * capacity_factor`` is whole).
        """
        if not load_per_day >= 0.0:
            raise ValueError(f"load_per_day must be >= 0, got {load_per_day!r}")
        if not inspection_factor > 0.0:
            raise ValueError(f"inspection_factor must be > 0, got {inspection_factor!r}")
        booths_d, service_d = self._servers(capacity_factor, inspection_factor)
        if booths_d == 0:
            return math.inf
        sojourn = _sojourn_interp(load_per_day, booths_d, service_d)
        return sojourn / self.sojourn0_min

    def _servers(self, capacity_factor: float, inspection_factor: float) -> tuple[int, float]:
        """``(booths_d, service_d)`` of a day with these factors (see :meth:`scale`)."""
        booths_d = self._booths_d(capacity_factor)
        if booths_d == 0:
            return 0, math.inf
        service_d = (
            self.service_min * inspection_factor * booths_d / (self.booths * capacity_factor)
        )
        return booths_d, service_d

    def on_day(self, capacity_factor: float = 1.0, inspection_factor: float = 1.0) -> QueueDay:
        """This crossing on a day with these factors: :meth:`daily_capacity` and :meth:`scale`
        computed once for the day (:class:`QueueDay`), with the same numbers to the last bit."""
        cap = self.daily_capacity(capacity_factor, inspection_factor)
        booths_d, service_d = self._servers(capacity_factor, inspection_factor)
        return QueueDay(cap, booths_d, service_d, self.sojourn0_min, self.wait0_min)

    def wait_quantile_min(self, q: float, scale: float = 1.0) -> float:
        """Quantile ``q`` (0 < q < 1) of the wait in minutes, times ``scale``."""
        if not 0.0 < q < 1.0:
            raise ValueError(f"q must be in (0, 1), got {q!r}")
        return math.exp(self.mu_ln + self.sigma * NormalDist().inv_cdf(q)) * scale

    def wait_mean_min(self, scale: float = 1.0) -> float:
        """Mean wait in minutes, times ``scale``."""
        return self.wait0_min * scale

    def sample_waits_min(
        self, z: NDArray[np.float64], scale: float | NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Waits (minutes) ``exp(mu_ln + sigma*z) * scale`` from standard-normal draws ``z``."""
        out: NDArray[np.float64] = np.exp(self.mu_ln + self.sigma * np.asarray(z)) * scale
        return out


class QueueDay:
    """One crossing on a day with given capacity and inspection factors
    (:meth:`CrossingQueue.on_day`): what :meth:`CrossingQueue.daily_capacity` and
    :meth:`CrossingQueue.scale` recompute on every call, computed once. :meth:`scale_memo`
    remembers the loads it was asked for (exact floats, so the answers are the same to the last
    bit); a day's background is a whole number of vehicles, so the same loads come back day
    after day at a crossing that no modelled lane uses.

    Attributes
    ----------
    capacity : float
        Trucks/day served (:meth:`CrossingQueue.daily_capacity`).
    booths : int
        Booths open (0 when the crossing is closed).
    service_min : float
        Inspection time per truck at each open booth, minutes.
    wait0_min : float
        Mean of the published wait (:attr:`CrossingQueue.wait0_min`).
    """

    __slots__ = (
        "_minutes",
        "_sojourn0",
        "_table",
        "booths",
        "capacity",
        "memo",
        "service_min",
        "wait0_min",
    )

    def __init__(
        self,
        capacity: float,
        booths: int,
        service_min: float,
        sojourn0_min: float,
        wait0_min: float,
    ) -> None:
        self.capacity = capacity
        self.booths = booths
        self.service_min = service_min
        self._sojourn0 = sojourn0_min
        self.wait0_min = wait0_min
        self._table = _g_table(booths) if booths else []
        self._minutes = booths * MIN_PER_DAY
        self.memo: dict[float, float] = {}  # load -> scale

    def scale(self, load_per_day: float) -> float:
        """:meth:`CrossingQueue.scale` at this day's factors (``load_per_day >= 0``, unchecked):
        :func:`_sojourn_interp` with the day's table and minutes looked up once."""
        if not self.booths:
            return math.inf
        service = self.service_min
        return _sojourn(self._table, load_per_day * service / self._minutes, service) / self._sojourn0

    def scale_memo(self, load_per_day: float) -> float:
        """:meth:`scale`, remembered: for loads that come back (whole numbers of vehicles)."""
        s = self.memo.get(load_per_day)
        if s is None:
            s = self.scale(load_per_day)
            if len(self.memo) >= MEMO_MAX:
                self.memo.clear()
            self.memo[load_per_day] = s
        return s

    def wait_mean_min(self, scale: float) -> float:
        """:meth:`CrossingQueue.wait_mean_min`."""
        return self.wait0_min * scale


def simulate_vehicles_detailed(
    lam_per_min: float,
    service_min: float,
    booths: int,
    n: int,
    rng: np.random.Generator,
    warmup: int = 1000,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vehicle-level FIFO M/M/c in SimPy; see :func:`simulate_vehicles`.

    Returns
    -------
    sojourn, wait : ndarray
        Sojourn and queue-wait times (minutes) of trucks ``warmup .. warmup+n-1`` in arrival order.
    """
    if not (lam_per_min > 0 and service_min > 0 and booths >= 1 and n >= 1 and warmup >= 0):
        raise ValueError(
            f"need lam_per_min > 0, service_min > 0, booths >= 1, n >= 1, warmup >= 0; got "
            f"{lam_per_min!r}, {service_min!r}, {booths!r}, {n!r}, {warmup!r}"
        )
    total = n + warmup
    gaps: list[float] = rng.exponential(1.0 / lam_per_min, total).tolist()
    services: list[float] = rng.exponential(service_min, total).tolist()
    sojourn = [0.0] * total
    wait = [0.0] * total
    env = simpy.Environment()
    booth = simpy.Resource(env, capacity=booths)

    def truck(i: int) -> Generator[simpy.events.Event, Any, None]:
        arrived = env.now
        with booth.request() as req:
            yield req
            wait[i] = env.now - arrived
            yield env.timeout(services[i])
        sojourn[i] = env.now - arrived

    def source() -> Generator[simpy.events.Event, Any, None]:
        for i in range(total):
            yield env.timeout(gaps[i])
            env.process(truck(i))

    env.process(source())
    env.run()
    return np.asarray(sojourn[warmup:]), np.asarray(wait[warmup:])


def simulate_vehicles(
    lam_per_min: float,
    service_min: float,
    booths: int,
    n: int,
    rng: np.random.Generator,
    warmup: int = 1000,
) -> NDArray[np.float64]:
    """Vehicle-level M/M/c sojourn times for validating the formulas.

    Parameters
    ----------
    lam_per_min : float
        Poisson arrival rate, trucks/minute.
    service_min : float
        Mean exponential service time per booth, minutes.
    booths : int
        Parallel booths (``simpy.Resource`` capacity).
    n : int
        Number of trucks returned after the warm-up.
    rng : numpy.random.Generator
        Source of all randomness.
    warmup : int, default 1000
        Trucks discarded at the start (in arrival order).

    Returns
    -------
    ndarray
        ``n`` sojourn times (queue + service), minutes.
    """
    return simulate_vehicles_detailed(lam_per_min, service_min, booths, n, rng, warmup)[0]
