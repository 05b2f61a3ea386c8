"""Replays of historical border episodes the network was not calibrated on: shared helpers.

Each episode is a scenario file (``<episode>.toml``: the closure at the dates it happened, the
scenario starting on 2022-01-01) and a script (``<episode>.py``) that runs it with and without its
measures under common random numbers and prints the model against the observations, each with its
source (``OBSERVATIONS.md``). The network's crossings are calibrated to 2024 counts, so levels
are compared as changes against the same run without the episode.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import Result, load_scenario, simulate

HERE = Path(__file__).resolve().parent
START = dt.date(2022, 1, 1)  # day 0 of both replay scenarios


def day(date: str) -> int:
    """Day number of an ISO date in the replay scenarios."""
    return (dt.date.fromisoformat(date) - START).days


@dataclass(frozen=True)
class Pair:
    """The episode and the same scenario without its measures, one per replication."""

    alt: list[Result]
    base: list[Result]

    def group(self, crossing: str, direction: str) -> int:
        return self.alt[0].meta.crossing_keys.index((crossing, direction))

    def mean(self, which: str, array: str, crossing: str, direction: str, a: str, b: str,
             how: str = "mean") -> float:  # fmt: skip
        """Mean over replications of ``array`` at a crossing over days [a, b), summed or averaged."""
        g = self.group(crossing, direction)
        out = []
        for r in getattr(self, which):
            x = getattr(r.raw, array)[day(a) : day(b), g]
            out.append(float(np.nansum(x) if how == "sum" else np.nanmean(x)))
        return float(np.mean(out))

    def change(self, array: str, crossing: str, direction: str, a: str, b: str,
               how: str = "mean") -> float:  # fmt: skip
        """Relative change, episode against base."""
        alt = self.mean("alt", array, crossing, direction, a, b, how)
        base = self.mean("base", array, crossing, direction, a, b, how)
        return alt / base - 1.0

    def extra(self, array: str, crossing: str, direction: str, a: str, b: str) -> float:
        """Absolute difference of the sum over [a, b), episode minus base."""
        return self.mean("alt", array, crossing, direction, a, b, "sum") - self.mean(
            "base", array, crossing, direction, a, b, "sum"
        )

    def plant_losses(self, a: str, b: str, threshold: float = 0.02) -> dict[str, list[str]]:
        """Plants whose output fell by more than ``threshold`` of their base output, by day."""
        out: dict[str, list[str]] = {}
        for alt, base in zip(self.alt, self.base, strict=True):
            made, made0 = alt.raw.plant_made, base.raw.plant_made
            for d in range(day(a), day(b)):
                for k, site in enumerate(alt.meta.plant_site):
                    if made0[d, k] > 0 and made[d, k] < (1 - threshold) * made0[d, k]:
                        date = (START + dt.timedelta(days=d)).isoformat()
                        if date not in out.setdefault(site, []):
                            out[site].append(date)
        return {s: sorted(v) for s, v in sorted(out.items())}

    def kpi(self, name: str) -> float:
        """Mean over replications of a KPI's difference, episode minus base."""
        return float(np.mean([a.kpis[name] - b.kpis[name] for a, b in zip(self.alt, self.base, strict=True)]))


def run(episode: str, reps: int = 2, seed: int = 2022) -> Pair:
    """Run ``<episode>.toml`` and its measure-free twin for ``reps`` replications."""
    path = HERE / f"{episode}.toml"
    sc = load_scenario(path)
    base = load_scenario(path, overrides={f"measures.{m.id}.drop": True for m in sc.measures})
    return Pair(
        [simulate(sc, seed=seed, rep=r) for r in range(reps)],
        [simulate(base, seed=seed, rep=r) for r in range(reps)],
    )


def show(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Print (quantity, model, observed, source) rows."""
    print(title)
    w = max(len(r[0]) for r in rows)
    for what, model, obs, src in rows:
        print(f"  {what:<{w}}  model {model:>16}  observed {obs:>22}  [{src}]")


def pct(x: float) -> str:
    return f"{x:+.1%}"


def args(doc: str) -> Any:
    import argparse

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2022)
    return ap.parse_args()
