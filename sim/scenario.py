"""Scenarios: a network, a start date, a horizon, cost parameters and timed measures.

Scenario files are TOML. Built-in scenarios live in ``experiments/scenarios/<name>.toml``;
``load_scenario`` accepts either a path or a built-in name.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sim.errors import Problem, ScenarioError

ROOT = Path(os.environ.get("BORDERFLOW_HOME", Path(__file__).resolve().parent.parent))
SCENARIO_DIR = ROOT / "experiments" / "scenarios"
NETWORK_DIR = ROOT / "networks"


@dataclass(frozen=True, slots=True)
class Costs:
    """Cost parameters (defaults: calibration facts §7)."""

    holding_rate_per_year: float = 0.25  # §7.2: 20-40 %/yr, 25 % typical
    truck_hour_usd: float = 90.89  # §7.1 ATRI 2024 cost per truck-hour
    backlog_penalty_per_day: float = 0.002  # share of value per backordered unit-day (EST)
    lost_margin_share: float = 0.12  # §7.2: margin 30 % x 40 % of shoppers lost (EST)


@dataclass(frozen=True, slots=True)
class Market:
    """Price response: who absorbs a duty, and how demand answers the price."""

    # shares of each duty dollar borne by each party (sum to 1); the importer of record pays the
    # government, then recovers these shares by price: exporter price cut, downstream buyer, consumer
    pass_through: dict[str, float] = field(
        default_factory=lambda: {"exporter": 0.1, "importer": 0.2, "downstream": 0.3, "consumer": 0.4}
    )
    elasticity: dict[str, float] = field(
        default_factory=lambda: {"auto": -1.0, "farm": -0.6, "energy": -0.2, "multi": -0.5}
    )
    switch_logit: float = 8.0  # sensitivity of supplier shares to relative landed cost
    qualification_days: float = 60.0  # before orders may move to another supplier
    switch_ramp_days: float = 90.0  # then shares move linearly over this many days


@dataclass(frozen=True, slots=True)
class Measure:
    """A timed measure or disruption (one ``[[measures]]`` table of a scenario file).

    ``kind`` is one of :data:`MEASURE_KINDS`. Dates are day numbers from the scenario start
    (``end`` None = open-ended). Fields a kind does not use keep their defaults.
    """

    id: str
    kind: str
    start: int
    end: int | None = None
    announce: int | None = None  # tariffs: day importers learn of it (pre-stocking before start)
    # targets
    imposer: str = ""  # tariff / levy: country that imposes ("US" or "CA")
    origin: str = ""  # tariff: origin country of the goods hit ("" = any foreign)
    sectors: tuple[str, ...] = ()  # empty = all
    commodities: tuple[str, ...] = ()  # empty = all (within sectors)
    crossings: tuple[str, ...] = ()
    direction: str = "both"  # "sb", "nb", "both" for crossings
    sites: tuple[str, ...] = ()
    lanes: tuple[str, ...] = ()
    # tariff parameters
    rate: float = 0.0
    exempt_share: float = 0.0  # share of value qualifying for USMCA/CUSMA exemption
    content_basis: str = "all"  # "all" | "non_us" | "non_ca": duty on that share of value only
    domestic_content: float = 0.0  # share of value that is the imposer's own content (for non_us/non_ca)
    stack_group: str = ""  # measures of one group replace each other; highest precedence wins
    precedence: int = 0
    transit_exempt: bool = False  # goods already shipped at the effective date pay no duty
    # disruption parameters
    capacity_factor: float = 1.0
    inspection_factor: float = 1.0
    secondary_share: float = 0.0
    secondary_hours: float = 0.0
    demand_factor: float = 1.0
    ramp_days: float = 0.0
    capacity: float | None = None  # lane_open target capacity per day
    recovery_days: float = 0.0  # port strike: days to recover linearly after the end


MEASURE_KINDS: tuple[str, ...] = (
    "tariff",  # ad valorem duty at the border (also counter-tariffs)
    "export_levy",  # duty the exporting country charges on its own exports (e.g. energy)
    "slowdown",  # crossing capacity factor, inspection-time factor, secondary inspection
    "closure",  # crossing closed
    "outage",  # pipeline, wire or rail crossing capacity factor (0 = down), or lanes
    "port_strike",  # port sites stop, then recover
    "plant_shutdown",  # plant or source capacity factor
    "demand_shock",  # market demand factor (boycott), optionally only goods of one origin
    "lane_open",  # open or ramp up a lane (diversification); overseas demand follows
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated, inert scenario spec."""

    name: str
    description: str = ""
    network: str = "north_america"
    start: dt.date = dt.date(2025, 1, 1)
    horizon_days: int = 730
    costs: Costs = field(default_factory=Costs)
    market: Market = field(default_factory=Market)
    measures: tuple[Measure, ...] = ()
    path: str | None = None

    def network_path(self) -> Path:
        """Folder of the scenario's network: a built-in name, or a path relative to the file."""
        p = Path(self.network)
        if p.is_absolute():
            return p
        if self.path is not None:
            rel = Path(self.path).parent / p
            if rel.is_dir():
                return rel
        return NETWORK_DIR / p


def builtin_scenarios() -> dict[str, Path]:
    """Names and files of the built-in scenarios."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return p
    known = builtin_scenarios()
    if str(name_or_path) in known:
        return known[str(name_or_path)]
    raise ScenarioError(
        [
            Problem(
                str(name_or_path),
                "",
                f"no such file or built-in scenario (built-in: {', '.join(known)})",
            )
        ]
    )


def load_scenario(name_or_path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file or built-in scenario; raise ScenarioError listing every problem."""
    path = _resolve(name_or_path)
    fname = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([Problem(fname, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(fname, "", f"file cannot be read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Problem(fname, "", f"not valid TOML: {exc}")]) from None
    problems: list[Problem] = []
    known = {"name", "description", "network", "start", "horizon_days", "costs", "measures"}
    for key in data:
        if key not in known:
            problems.append(Problem(fname, f"key '{key}'", "unknown key", key))
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        problems.append(Problem(fname, "key 'name'", "must be a non-empty string", name))
    start = data.get("start", dt.date(2025, 1, 1))
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        problems.append(Problem(fname, "key 'start'", "must be a date like 2025-01-01", start))
        start = dt.date(2025, 1, 1)
    horizon = data.get("horizon_days", 730)
    if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= 36500:
        problems.append(
            Problem(fname, "key 'horizon_days'", "must be an integer in 1..36500", horizon)
        )
        horizon = 730
    costs_in = data.get("costs", {})
    cost_kw: dict[str, float] = {}
    if not isinstance(costs_in, dict):
        problems.append(Problem(fname, "key 'costs'", "must be a table", costs_in))
    else:
        names = {f.name for f in fields(Costs)}
        for k, v in costs_in.items():
            if k not in names:
                problems.append(Problem(fname, f"key 'costs.{k}'", "unknown cost parameter", k))
            elif isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1e9:
                problems.append(Problem(fname, f"key 'costs.{k}'", "must be a number >= 0", v))
            else:
                cost_kw[k] = float(v)
    network = data.get("network", "north_america")
    if not isinstance(network, str):
        problems.append(Problem(fname, "key 'network'", "must be a string", network))
        network = "north_america"
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        name=str(name),
        description=str(data.get("description", "")),
        network=network,
        start=start,
        horizon_days=int(horizon),
        costs=Costs(**cost_kw),
        path=str(path),
    )
