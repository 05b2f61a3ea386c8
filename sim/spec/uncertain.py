"""Uncertain parameters: a dotted scenario key with a distribution, and its inverse CDF.

A scenario's ``[uncertain]`` table (see :mod:`sim.spec.scenario`) declares parameters whose value is
drawn per replication. Each :class:`Uncertain` maps a uniform number ``u`` in [0, 1) to a value with
:meth:`Uncertain.ppf` (the inverse CDF), so the same ``u`` gives comonotone values across scenarios
(paired comparisons) and a global sensitivity sample on the unit cube maps to the declared
distributions through the same function as the Monte Carlo draws.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

DISTRIBUTIONS: tuple[str, ...] = ("uniform", "triangular", "normal", "choice")
# keys each distribution takes besides ``dist`` (all required except normal's low/high)
DIST_KEYS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd", "low", "high"),  # truncated to [low, high]
    "choice": ("values",),
}
_STD = statistics.NormalDist()


@dataclass(frozen=True, slots=True)
class Uncertain:
    """One uncertain parameter: the dotted override key and its distribution.

    ``uniform`` on [low, high]; ``triangular`` on [low, high] with its peak at ``mode``; ``normal``
    with ``mean`` and ``sd`` truncated to [low, high]; ``choice``: each of ``values`` equally likely.
    ``default`` is the value the scenario holds when the parameter is not drawn (the file's value).
    """

    key: str
    dist: str
    # fields a distribution does not use stay 0.0 (not NaN: specs compare equal after pickling)
    low: float = 0.0
    high: float = 0.0
    mode: float = 0.0
    mean: float = 0.0
    sd: float = 0.0
    values: tuple[float, ...] = ()

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take."""
        if self.dist == "choice":
            return min(self.values), max(self.values)
        return self.low, self.high

    def ppf(self, u: float) -> float:
        """The value at quantile ``u`` (0 <= u < 1) of the distribution (inverse CDF)."""
        u = min(max(float(u), 0.0), 1.0)
        lo, hi = self.low, self.high
        if self.dist == "uniform":
            return lo + u * (hi - lo)
        if self.dist == "triangular":
            if hi <= lo:
                return lo
            c = (self.mode - lo) / (hi - lo)
            if u < c:
                return lo + math.sqrt(u * (hi - lo) * (self.mode - lo))
            return hi - math.sqrt((1.0 - u) * (hi - lo) * (hi - self.mode))
        if self.dist == "normal":
            if self.sd <= 0:
                return min(max(self.mean, lo), hi)
            a = _STD.cdf((lo - self.mean) / self.sd)
            b = _STD.cdf((hi - self.mean) / self.sd)
            p = a + u * (b - a)
            p = min(max(p, 1e-15), 1.0 - 1e-15)
            return min(max(self.mean + self.sd * _STD.inv_cdf(p), lo), hi)
        if self.dist == "choice":
            n = len(self.values)
            return self.values[min(int(u * n), n - 1)]
        raise ValueError(f"unknown distribution {self.dist!r}")
