"""Scenarios: a network, a start date, a horizon, cost parameters and timed measures.

Scenario files are TOML. Built-in scenarios live in ``experiments/scenarios/<name>.toml``;
:func:`load_scenario` accepts either a path or a built-in name, merges ``extends`` parents, applies
overrides (sweeps), validates everything at once and returns a frozen :class:`Scenario`.

Scenario file reference
-----------------------

Top level (all optional)::

    name          string   scenario name; default: the file name without .toml (never inherited)
    description   string   what the scenario assumes and which calibration rows it draws on
    network       string   built-in network name (networks/<name>) or a folder path relative to
                           this file; default "north_america"
    start         date     day 0 of the simulation, e.g. 2025-01-01 (default 2025-01-01)
    horizon_days  integer  1..36500 (default 730)
    extends       string   parent scenario: a path relative to this file, or a built-in name
    [costs]       table    cost parameters (numbers >= 0; *_share and backlog_penalty_per_day <= 1)
        holding_rate_per_year (0.25)  truck_hour_usd (90.89)  backlog_penalty_per_day (0.002)
        lost_margin_share (0.12)
    [market]      table    price response
        pass_through   table party -> share of each duty dollar; parties exporter, importer,
                       downstream, consumer; shares in [0, 1] summing to 1; replaces the default
                       table as a whole (parties not listed bear 0)
                       (default exporter 0.1, importer 0.2, downstream 0.3, consumer 0.4)
        elasticity     table sector -> price elasticity of demand (<= 0); sectors auto, farm,
                       energy, multi; sectors not listed keep their defaults
                       (default auto -1.0, farm -0.6, energy -0.2, multi -0.5)
        switch_logit (8.0)  qualification_days (60)  switch_ramp_days (90)
        prestock_max_days (21): numbers >= 0
    [[measures]]  array of tables, one per timed measure (below)

Measure tables. Every measure has::

    id     string, required, unique in the scenario; letters, digits, "_" and "-"
    kind   string, required: tariff | export_levy | slowdown | closure | outage | port_strike |
           plant_shutdown | demand_shock | lane_open
    start  date, required: first day the measure applies
    end    date: first day it no longer applies (exclusive); omitted = open-ended
    drop   boolean, only in a scenario that extends another: true removes the parent's measure

All dates lie in [start, start + horizon_days] of the scenario; the engine sees day numbers
(day = (date - scenario start).days). Lists are arrays of strings of ids from the network.
The other keys depend on the kind (a key a kind does not use is an error)::

    tariff        imposer ("US" | "CA", required) charges rate (required, 0..5 = 0..500 %) ad
                  valorem on goods entering its country from origin ("US" | "CA" | omitted = any
                  foreign; never the imposer) at a crossing.
                  sectors, commodities: goods hit (empty = all; commodities within sectors).
                  exempt_share (0..1): share of value exempt (USMCA/CUSMA-qualified).
                  content_basis "all" | "non_us" | "non_ca" (the imposer's own: US -> non_us,
                  CA -> non_ca) with domestic_content d (0..1): duty on (1 - d) of value only.
                  stack_group (string) / precedence (integer): among the ACTIVE measures of one
                  group that match a good only the highest precedence applies; groups add up.
                  Precedences are unique within a group, whose measures share kind and imposer.
                  announce (date <= start): importers learn of it and may order ahead.
                  transit_exempt (bool): goods shipped before start pay no duty.
    export_levy   imposer charges rate on its own exports of sectors/commodities; exempt_share,
                  stack_group, precedence, announce, transit_exempt as for tariff.
    slowdown      crossings (road or rail, required), direction "sb" | "nb" | "both" (default),
                  capacity_factor (0 < f <= 1, default 1), inspection_factor (>= 1, default 1),
                  secondary_share (0..1, default 0), secondary_hours (>= 0, default 0).
    closure       crossings (road or rail, required), direction.
    outage        crossings (pipeline, wire or rail) and/or lanes (at least one), direction,
                  capacity_factor (0..1, default 0 = down).
    port_strike   sites (ports, required), recovery_days (>= 0): linear recovery after end.
    plant_shutdown sites (plants or sources, required), capacity_factor (0..1, default 0).
    demand_shock  sites (markets, required), sectors, commodities, origin (omitted = goods of
                  any origin; "US"/"CA"/"OS" = only goods from there, i.e. a boycott; not the
                  market's own country), demand_factor (0..2, default 1).
    lane_open     lanes (required), capacity (target units per day > 0, required), ramp_days
                  (>= 0): the lane's capacity rises linearly from its base flow (0 for the
                  network's zero-base lanes) to the target over ramp_days; an overseas market
                  the lane feeds buys up to that much more (it takes what arrives: added
                  overseas demand that Canada cannot supply is neither backlog nor lost sales).

``extends``: the parent is loaded first (recursively), then this file overrides it: top-level
values replace the parent's; [costs] and [market] merge key by key; measures merge by id (a
measure whose id the parent has replaces the given keys of the parent's measure; with
``drop = true`` it removes it; new ids are appended). A cycle of extends is an error.

Overrides (sweeps): ``load_scenario(path, overrides={"measures.us_tariff.rate": 0.35})`` sets
dotted keys on the merged data before validation: ``name``, ``description``, ``network``,
``start``, ``horizon_days``, ``costs.<field>``, ``market.<field>``,
``market.pass_through.<party>``, ``market.elasticity.<sector>``, ``measures.<id>.<key>``
(``measures.<id>.drop = true`` removes a measure). :func:`parse_override` parses the command-line
form ``KEY=V1,V2,...``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sim.errors import NetworkError, Problem, ScenarioError
from sim.network import SECTORS, Network, load_network

ROOT = Path(os.environ.get("BORDERFLOW_HOME", Path(__file__).resolve().parent.parent))
SCENARIO_DIR = ROOT / "experiments" / "scenarios"
NETWORK_DIR = ROOT / "networks"


class FrozenMap(Mapping[str, float]):
    """A read-only, hashable ``str -> float`` mapping (keeps frozen specs frozen and hashable)."""

    __slots__ = ("_d",)

    def __init__(self, items: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        self._d: dict[str, float] = dict(items)

    def __getitem__(self, key: str) -> float:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        return hash(frozenset(self._d.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def __getstate__(self) -> dict[str, float]:
        return self._d

    def __setstate__(self, state: dict[str, float]) -> None:
        self._d = dict(state)


@dataclass(frozen=True, slots=True)
class Costs:
    """Cost parameters (defaults: calibration facts §7)."""

    holding_rate_per_year: float = 0.25  # §7.2: 20-40 %/yr, 25 % typical
    truck_hour_usd: float = 90.89  # §7.1 ATRI 2024 cost per truck-hour
    backlog_penalty_per_day: float = 0.002  # share of value per backordered unit-day (EST)
    lost_margin_share: float = 0.12  # §7.2: margin 30 % x 40 % of shoppers lost (EST)


PARTIES: tuple[str, ...] = ("exporter", "importer", "downstream", "consumer")
_PASS_THROUGH = {"exporter": 0.1, "importer": 0.2, "downstream": 0.3, "consumer": 0.4}
_ELASTICITY = {"auto": -1.0, "farm": -0.6, "energy": -0.2, "multi": -0.5}


@dataclass(frozen=True, slots=True)
class Market:
    """Price response: who absorbs a duty, and how demand answers the price.

    ``pass_through`` and ``elasticity`` are read-only mappings (:class:`FrozenMap`); a plain dict
    given to the constructor is converted.
    """

    # shares of each duty dollar borne by each party (sum to 1); the importer of record pays the
    # government, then recovers these shares by price: exporter price cut, downstream buyer,
    # consumer. Defaults: near-full pass-through to the importing country (calibration §7;
    # literature on the 2018-19 US tariffs); elasticities EST.
    pass_through: Mapping[str, float] = field(default_factory=lambda: FrozenMap(_PASS_THROUGH))
    elasticity: Mapping[str, float] = field(default_factory=lambda: FrozenMap(_ELASTICITY))
    switch_logit: float = 8.0  # sensitivity of supplier shares to relative landed cost
    qualification_days: float = 60.0  # before orders may move to another supplier
    switch_ramp_days: float = 90.0  # then shares move linearly over this many days
    prestock_max_days: float = 21.0  # an announced tariff: importers stock up to this many days

    def __post_init__(self) -> None:
        for name in ("pass_through", "elasticity"):
            value = getattr(self, name)
            if not isinstance(value, FrozenMap):
                object.__setattr__(self, name, FrozenMap(value))


@dataclass(frozen=True, slots=True)
class Measure:
    """A timed measure or disruption (one ``[[measures]]`` table of a scenario file).

    ``kind`` is one of :data:`MEASURE_KINDS`. Dates are day numbers from the scenario start;
    the measure applies on days ``start <= t < end`` (``end`` None = open-ended). Fields a kind
    does not use keep their defaults; ``capacity_factor`` is 0 for closure, outage, port_strike
    and plant_shutdown unless the file sets it.
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
    domestic_content: float = (
        0.0  # share of value that is the imposer's own content (for non_us/non_ca)
    )
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

    def active(self, day: float) -> bool:
        """Whether the measure applies on ``day`` (``start <= day < end``)."""
        return self.start <= day and (self.end is None or day < self.end)


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
    # files that made the scenario, this file first, then its extends chain
    sources: tuple[str, ...] = ()
    # overrides applied (key, value as TOML text), in order
    overrides: tuple[tuple[str, str], ...] = ()

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

    def day(self, date: dt.date | str) -> int:
        """Day number of a calendar date (a ``date`` or ISO text): ``(date - start).days``."""
        d = dt.date.fromisoformat(date) if isinstance(date, str) else date
        if isinstance(d, dt.datetime):
            d = d.date()
        return (d - self.start).days

    def date(self, day: float) -> dt.date:
        """Calendar date of a day number (fractions of a day are dropped)."""
        return self.start + dt.timedelta(days=math.floor(day))

    def measure(self, id: str) -> Measure:
        """The measure with this id (KeyError if none)."""
        for m in self.measures:
            if m.id == id:
                return m
        raise KeyError(id)


def builtin_scenarios() -> dict[str, Path]:
    """Names and files of the built-in scenarios."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


# ---------------------------------------------------------------------------------------------
# Key tables
# ---------------------------------------------------------------------------------------------

_TOP_KEYS: tuple[str, ...] = ("name", "description", "network", "start", "horizon_days")
_TOP_KEYS += ("extends", "costs", "market", "measures")
_TOP_SCALARS = ("name", "description", "network", "start", "horizon_days")
_COST_KEYS = tuple(f.name for f in fields(Costs))
_MARKET_KEYS = tuple(f.name for f in fields(Market))
_MARKET_TABLES = ("pass_through", "elasticity")

# type of each measure key as written in TOML
_STR, _LIST, _DATE, _NUM, _INT, _BOOL = "str", "list", "date", "number", "int", "bool"
_MEASURE_TYPES: dict[str, str] = {
    "id": _STR, "kind": _STR, "start": _DATE, "end": _DATE, "announce": _DATE,
    "imposer": _STR, "origin": _STR, "sectors": _LIST, "commodities": _LIST, "crossings": _LIST,
    "direction": _STR, "sites": _LIST, "lanes": _LIST, "rate": _NUM, "exempt_share": _NUM,
    "content_basis": _STR, "domestic_content": _NUM, "stack_group": _STR, "precedence": _INT,
    "transit_exempt": _BOOL, "capacity_factor": _NUM, "inspection_factor": _NUM,
    "secondary_share": _NUM, "secondary_hours": _NUM, "demand_factor": _NUM, "ramp_days": _NUM,
    "capacity": _NUM, "recovery_days": _NUM, "drop": _BOOL,
}  # fmt: skip
_COMMON = ("id", "kind", "start", "end", "drop")
_TARIFF_KEYS: tuple[str, ...] = (
    "announce", "imposer", "sectors", "commodities", "rate", "exempt_share", "stack_group",
    "precedence", "transit_exempt",
)  # fmt: skip
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "tariff": _TARIFF_KEYS + ("origin", "content_basis", "domestic_content"),
    "export_levy": _TARIFF_KEYS,
    "slowdown": ("crossings", "direction", "capacity_factor", "inspection_factor",
                 "secondary_share", "secondary_hours"),
    "closure": ("crossings", "direction"),
    "outage": ("crossings", "lanes", "direction", "capacity_factor"),
    "port_strike": ("sites", "recovery_days"),
    "plant_shutdown": ("sites", "capacity_factor"),
    "demand_shock": ("sites", "sectors", "commodities", "origin", "demand_factor"),
    "lane_open": ("lanes", "capacity", "ramp_days"),
}  # fmt: skip
_REQUIRED: dict[str, tuple[str, ...]] = {
    "tariff": ("imposer", "rate"),
    "export_levy": ("imposer", "rate"),
    "slowdown": ("crossings",),
    "closure": ("crossings",),
    "port_strike": ("sites",),
    "plant_shutdown": ("sites",),
    "demand_shock": ("sites",),
    "lane_open": ("lanes", "capacity"),
}
_STOPS = ("closure", "outage", "port_strike", "plant_shutdown")  # capacity_factor defaults to 0
# numeric ranges: key -> (low, high, low inclusive, text)
_RANGES: dict[str, tuple[float, float, bool, str]] = {
    "rate": (0.0, 5.0, True, "a rate in 0..5 (0..500 %)"),
    "exempt_share": (0.0, 1.0, True, "a share in 0..1"),
    "domestic_content": (0.0, 1.0, True, "a share in 0..1"),
    "secondary_share": (0.0, 1.0, True, "a share in 0..1"),
    "inspection_factor": (1.0, math.inf, True, "a factor >= 1"),
    "secondary_hours": (0.0, math.inf, True, "hours >= 0"),
    "demand_factor": (0.0, 2.0, True, "a factor in 0..2"),
    "ramp_days": (0.0, math.inf, True, "days >= 0"),
    "recovery_days": (0.0, math.inf, True, "days >= 0"),
    "capacity": (0.0, math.inf, False, "a capacity per day > 0"),
}
_COUNTRIES = ("US", "CA")
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


# ---------------------------------------------------------------------------------------------
# Reading and merging (extends)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One measure table of the merged data, with the file that set each key."""

    data: dict[str, Any]
    src: dict[str, str]
    over: set[str] = field(default_factory=set)


@dataclass
class _Doc:
    """Merged scenario data: top-level values (costs/market as tables) and measure entries."""

    file: str
    data: dict[str, Any] = field(default_factory=dict)
    src: dict[str, str] = field(default_factory=dict)  # dotted key -> file that set it
    over: set[str] = field(default_factory=set)  # dotted keys set by an override
    measures: list[_Entry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


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


def _read_toml(path: Path) -> dict[str, Any]:
    fname = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([Problem(fname, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(fname, "", "is a folder, not a scenario file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(fname, "", f"file cannot be read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Problem(fname, "", f"not valid TOML: {exc}")]) from None


def _find_parent(ext: str, child: Path) -> Path | None:
    """A parent named by ``extends``: a path relative to the child, else a built-in name."""
    rel = child.parent / ext
    for cand in (rel, rel.with_name(rel.name + ".toml")):
        if cand.is_file():
            return cand
    return builtin_scenarios().get(ext)


def _read_doc(path: Path, chain: tuple[Path, ...] = ()) -> _Doc:
    """Read a file and its extends chain into merged data (no validation yet)."""
    fname = str(path)
    raw = _read_toml(path)
    doc = _Doc(file=fname)
    ext = raw.pop("extends", None)
    here = chain + (path.resolve(),)
    if ext is not None:
        parent_path = _find_parent(ext, path) if isinstance(ext, str) and ext else None
        if not isinstance(ext, str) or not ext:
            doc.problems.append(
                Problem(fname, "key 'extends'", "must be a scenario name or file path", ext)
            )
        elif parent_path is None:
            known = ", ".join(builtin_scenarios())
            doc.problems.append(
                Problem(
                    fname,
                    "key 'extends'",
                    f"no such file (relative to this file) or built-in scenario (built-in: {known})",
                    ext,
                )
            )
        elif parent_path.resolve() in here:
            names = [str(p) for p in here] + [str(parent_path.resolve())]
            doc.problems.append(
                Problem(fname, "key 'extends'", f"extends cycle: {' -> '.join(names)}", ext)
            )
        else:
            parent = _read_doc(parent_path, here)
            doc.data, doc.src, doc.measures = parent.data, parent.src, parent.measures
            doc.files, doc.problems = parent.files, parent.problems + doc.problems
            doc.data.pop("name", None)  # a name is never inherited
            doc.src.pop("name", None)
    doc.files.insert(0, fname)
    _merge(doc, raw, fname)
    return doc


def _merge(doc: _Doc, raw: dict[str, Any], fname: str) -> None:
    """Lay the keys of one file over the (parent's) merged data."""
    for key, value in raw.items():
        if key == "measures":
            continue
        old = doc.data.get(key)
        if key in ("costs", "market") and isinstance(value, dict) and isinstance(old, dict):
            for k, v in value.items():
                old[k] = v
                doc.src[f"{key}.{k}"] = fname
        else:
            doc.data[key] = dict(value) if isinstance(value, dict) else value
            doc.src[key] = fname
            if isinstance(value, dict):
                for k in value:
                    doc.src[f"{key}.{k}"] = fname
    if "measures" not in raw:
        return
    tables = raw["measures"]
    if not isinstance(tables, list):
        doc.problems.append(
            Problem(
                fname,
                "key 'measures'",
                "must be an array of tables ([[measures]])",
                type(tables).__name__,
            )
        )
        return
    inherited = {e.data.get("id"): e for e in doc.measures if isinstance(e.data.get("id"), str)}
    seen: set[str] = set()
    gone: list[_Entry] = []
    for j, table in enumerate(tables):
        if not isinstance(table, dict):
            doc.problems.append(
                Problem(fname, f"key 'measures' entry {j}", "must be a table", table)
            )
            continue
        mid = table.get("id")
        drop = table.get("drop", False)
        target = inherited.get(mid) if isinstance(mid, str) and mid not in seen else None
        if isinstance(mid, str):
            seen.add(mid)
        if drop is True and target is None:
            doc.problems.append(
                Problem(
                    fname,
                    f"key 'measures ({mid}).drop'",
                    "drop = true needs a measure with this id in the parent scenario",
                    mid,
                )
            )
            continue
        if drop is True and target is not None:
            extra = sorted(set(table) - {"id", "drop"})
            if extra:
                doc.problems.append(
                    Problem(
                        fname,
                        f"key 'measures ({mid}).drop'",
                        "a measure with drop = true takes no other keys",
                        ", ".join(extra),
                    )
                )
            gone.append(target)
            continue
        body = {k: v for k, v in table.items() if not (k == "drop" and v is False)}
        if target is not None:
            target.data.update(body)
            target.src.update(dict.fromkeys(body, fname))
        else:
            doc.measures.append(_Entry(dict(body), dict.fromkeys(body, fname)))
    doc.measures = [e for e in doc.measures if all(e is not g for g in gone)]


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------


def _toml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_toml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _apply_overrides(doc: _Doc, overrides: Mapping[str, object]) -> None:
    fname = doc.file
    for key, value in overrides.items():
        parts = str(key).split(".")
        head = parts[0]
        bad = "unknown override key"
        if len(parts) == 1 and head in _TOP_SCALARS:
            doc.data[head] = value
            doc.src[head] = fname
            doc.over.add(head)
        elif head in ("costs", "market") and len(parts) == 2:
            if parts[1] not in (_COST_KEYS if head == "costs" else _MARKET_KEYS):
                names = ", ".join(_COST_KEYS if head == "costs" else _MARKET_KEYS)
                doc.problems.append(
                    Problem(fname, f"override '{key}'", f"{bad} (known: {names})", value)
                )
                continue
            table = doc.data.get(head)
            if not isinstance(table, dict):
                table = doc.data[head] = {}
            table[parts[1]] = dict(value) if isinstance(value, Mapping) else value
            doc.src[f"{head}.{parts[1]}"] = fname
            doc.over.add(f"{head}.{parts[1]}")
        elif head == "market" and len(parts) == 3 and parts[1] in _MARKET_TABLES:
            market = doc.data.get("market")
            if not isinstance(market, dict):
                market = doc.data["market"] = {}
            table = market.get(parts[1])
            if not isinstance(table, dict):
                default = _PASS_THROUGH if parts[1] == "pass_through" else {}
                table = market[parts[1]] = dict(default)
            table[parts[2]] = value
            doc.src[f"market.{parts[1]}"] = fname
            doc.over.add(f"market.{parts[1]}")
        elif head == "measures" and len(parts) == 3:
            mid, k = parts[1], parts[2]
            found = [e for e in doc.measures if e.data.get("id") == mid]
            if not found:
                ids = ", ".join(str(e.data.get("id")) for e in doc.measures)
                doc.problems.append(
                    Problem(fname, f"override '{key}'", f"no measure with id '{mid}' (ids: {ids})")
                )
            elif k not in _MEASURE_TYPES or k == "id":
                doc.problems.append(
                    Problem(fname, f"override '{key}'", f"{bad}: '{k}' is not a measure key", value)
                )
            elif k == "drop":
                if value is True:
                    doc.measures = [e for e in doc.measures if e.data.get("id") != mid]
                elif value is not False:
                    doc.problems.append(
                        Problem(fname, f"override '{key}'", "must be true or false", value)
                    )
            else:
                for e in found:
                    e.data[k] = list(value) if isinstance(value, tuple) else value
                    e.src[k] = fname
                    e.over.add(k)
        else:
            doc.problems.append(
                Problem(
                    fname,
                    f"override '{key}'",
                    f"{bad} (use name, description, network, start, horizon_days, costs.<key>, "
                    "market.<key>, market.pass_through.<party>, market.elasticity.<sector> or "
                    "measures.<id>.<key>)",
                    value,
                )
            )


def _split_values(text: str) -> list[str]:
    """Split on commas outside quotes, brackets and braces."""
    out: list[str] = []
    depth, quote, cur = 0, "", []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                cur.append(text[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return [s.strip() for s in out]


def parse_override(text: str) -> tuple[str, list[object]]:
    """Parse ``KEY=V1,V2,...`` (``borderflow sweep --set``) into the key and its values.

    Values are TOML values: numbers, booleans, dates, quoted strings, arrays; a bare word is a
    string. Raise ScenarioError if the text has no ``=``, no key or an empty value.
    """
    where = f"override '{text}'"
    key, eq, rest = text.partition("=")
    key = key.strip()
    if not eq or not key or any(not p for p in key.split(".")):
        raise ScenarioError(
            [Problem("--set", where, "must be KEY=VALUE[,VALUE...], e.g. measures.t1.rate=0.25")]
        )
    values: list[object] = []
    problems: list[Problem] = []
    for token in _split_values(rest):
        if not token:
            problems.append(Problem("--set", where, "empty value"))
            continue
        try:
            values.append(tomllib.loads(f"v = {token}")["v"])
        except tomllib.TOMLDecodeError:
            if token[0] in "\"'[{":
                problems.append(Problem("--set", where, "not a valid TOML value", token))
            else:
                values.append(token)
    if problems:
        raise ScenarioError(problems)
    return key, values


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _mtime(path: Path) -> float:
    try:
        return max((os.stat(path / f).st_mtime for f in os.listdir(path)), default=0.0)
    except OSError:
        return 0.0


@functools.lru_cache(maxsize=8)
def _cached_network(path: str, mtime: float) -> Network:
    return load_network(path)


def _network(path: Path) -> Network:
    """Load a network folder, cached per process until one of its files changes."""
    return _cached_network(str(path), _mtime(path))


def _hint(name: object, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ' (known: a, b, ...)'."""
    known = list(known)
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def _an(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_date(v: object) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


class _Checker:
    """Validate merged data and build the Scenario; every problem is collected."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = list(doc.problems)

    # -- reporting ------------------------------------------------------------------------------

    def top(self, key: str, rule: str, value: object = None) -> None:
        where = f"key '{key}'" + (" (override)" if key in self.doc.over else "")
        file = self.doc.src.get(key) or self.doc.src.get(key.split(".")[0]) or self.doc.file
        self.problems.append(Problem(file, where, rule, value))

    def mes(self, i: int, e: _Entry, key: str, rule: str, value: object = None) -> None:
        mid = e.data.get("id")
        label = f"measures[{i}] ({mid})" if isinstance(mid, str) and mid else f"measures[{i}]"
        base = key.split("[")[0]
        where = f"key '{label}.{key}'" + (" (override)" if base in e.over else "")
        file = e.src.get(base) or e.src.get("id") or self.doc.file
        self.problems.append(Problem(file, where, rule, value))

    # -- top level ------------------------------------------------------------------------------

    def run(self) -> Scenario:
        d = self.doc.data
        for key in d:
            if key not in _TOP_KEYS:
                self.top(key, "unknown key" + _hint(key, _TOP_KEYS), key)
        name = d.get("name", Path(self.doc.file).stem)
        if not isinstance(name, str) or not name.strip():
            self.top("name", "must be a non-empty string", name)
        description = d.get("description", "")
        if not isinstance(description, str):
            self.top("description", "must be a string", description)
            description = ""
        network = d.get("network", "north_america")
        if not isinstance(network, str) or not network.strip():
            self.top("network", "must be a network name or folder path", network)
            network = None
        start = d.get("start", dt.date(2025, 1, 1))
        if not _is_date(start):
            self.top("start", "must be a date like 2025-01-01", start)
            start = None
        horizon = d.get("horizon_days", 730)
        if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= 36500:
            self.top("horizon_days", "must be an integer in 1..36500", horizon)
            horizon = None
        costs = self.costs(d.get("costs", {}))
        market = self.market(d.get("market", {}))
        sc = Scenario(
            name=str(name),
            description=description,
            network=network or "north_america",
            start=start or dt.date(2025, 1, 1),
            horizon_days=horizon or 730,
            path=self.doc.file,
        )
        net = self.network(sc) if network else None
        measures = self.measures(sc, start is not None and horizon is not None, net)
        if self.problems:
            raise ScenarioError(self.problems)
        return Scenario(
            name=sc.name,
            description=sc.description,
            network=sc.network,
            start=sc.start,
            horizon_days=sc.horizon_days,
            costs=costs,
            market=market,
            measures=tuple(measures),
            path=sc.path,
            sources=tuple(self.doc.files),
        )

    def costs(self, table: object) -> Costs:
        if not isinstance(table, dict):
            self.top("costs", "must be a table", table)
            return Costs()
        kw: dict[str, float] = {}
        for k, v in table.items():
            key = f"costs.{k}"
            if k not in _COST_KEYS:
                self.top(key, "unknown cost parameter" + _hint(k, _COST_KEYS), k)
            elif not _is_number(v) or not math.isfinite(v):
                self.top(key, "must be a number", v)
            elif v < 0 or (k.endswith("_share") or k == "backlog_penalty_per_day") and v > 1:
                rng = "0..1" if k.endswith("_share") or k.startswith("backlog") else ">= 0"
                self.top(key, f"must be {rng}", v)
            else:
                kw[k] = float(v)
        return Costs(**kw)

    def market(self, table: object) -> Market:
        if not isinstance(table, dict):
            self.top("market", "must be a table", table)
            return Market()
        kw: dict[str, Any] = {}
        for k, v in table.items():
            key = f"market.{k}"
            if k not in _MARKET_KEYS:
                self.top(key, "unknown market parameter" + _hint(k, _MARKET_KEYS), k)
            elif k == "pass_through":
                shares = self.share_table(key, v, PARTIES, "party", 0.0, 1.0)
                if shares is not None:
                    total = sum(shares.values())
                    if abs(total - 1.0) > 1e-6:
                        self.top(key, "shares must sum to 1", round(total, 9))
                    else:
                        kw[k] = FrozenMap({p: shares.get(p, 0.0) for p in PARTIES})
            elif k == "elasticity":
                el = self.share_table(key, v, SECTORS, "sector", -math.inf, 0.0)
                if el is not None:
                    kw[k] = FrozenMap({**_ELASTICITY, **el})
            elif not _is_number(v) or not math.isfinite(v):
                self.top(key, "must be a number", v)
            elif v < 0:
                self.top(key, "must be >= 0", v)
            else:
                kw[k] = float(v)
        return Market(**kw)

    def share_table(
        self, key: str, v: object, names: tuple[str, ...], what: str, lo: float, hi: float
    ) -> dict[str, float] | None:
        if not isinstance(v, dict):
            self.top(key, f"must be a table {what} -> number", v)
            return None
        out: dict[str, float] = {}
        ok = True
        for name, x in v.items():
            if name not in names:
                self.top(f"{key}.{name}", f"unknown {what}" + _hint(name, names), name)
                ok = False
            elif not _is_number(x) or not math.isfinite(x):
                self.top(f"{key}.{name}", "must be a number", x)
                ok = False
            elif not lo <= x <= hi:
                rule = "must be in 0..1" if what == "party" else "elasticity must be <= 0"
                self.top(f"{key}.{name}", rule, x)
                ok = False
            else:
                out[name] = float(x)
        return out if ok else None

    def network(self, sc: Scenario) -> Network | None:
        path = sc.network_path()
        try:
            return _network(path)
        except NetworkError as exc:
            n = len(exc.problems)
            self.top(
                "network",
                f"network {path} does not load ({n} problem{'s' if n != 1 else ''}; "
                f"run borderflow validate {path})",
                sc.network,
            )
        return None

    # -- measures -------------------------------------------------------------------------------

    def measures(self, sc: Scenario, dates_ok: bool, net: Network | None) -> list[Measure]:
        out: list[Measure] = []
        first: dict[str, int] = {}
        groups: dict[tuple[str, int], int] = {}
        group_owner: dict[str, int] = {}
        entries = self.doc.measures
        for i, e in enumerate(entries):
            m = self.measure(i, e, sc, dates_ok, net)
            mid = e.data.get("id")
            if isinstance(mid, str):
                if mid in first:
                    j = first[mid]
                    self.mes(i, e, "id", f"duplicate measure id (also measures[{j}])", mid)
                else:
                    first[mid] = i
            if m is None:
                continue
            out.append(m)
            if m.kind in ("tariff", "export_levy") and m.stack_group:
                g = m.stack_group
                if g in group_owner:
                    o = entries[group_owner[g]].data
                    if (o.get("kind"), o.get("imposer")) != (m.kind, m.imposer):
                        self.mes(
                            i,
                            e,
                            "stack_group",
                            f"measures of stack_group '{g}' must share kind and imposer "
                            f"(measures[{group_owner[g]}] ({o.get('id')}) is "
                            f"{o.get('kind')} by {o.get('imposer')})",
                            g,
                        )
                else:
                    group_owner[g] = i
                if (g, m.precedence) in groups:
                    j = groups[(g, m.precedence)]
                    self.mes(
                        i,
                        e,
                        "precedence",
                        f"same stack_group '{g}' and precedence as measures[{j}] "
                        f"({entries[j].data.get('id')}): which one applies is ambiguous; "
                        "give them different precedences",
                        m.precedence,
                    )
                else:
                    groups[(g, m.precedence)] = i
        return out

    def measure(
        self, i: int, e: _Entry, sc: Scenario, dates_ok: bool, net: Network | None
    ) -> Measure | None:
        n0 = len(self.problems)
        d = e.data
        kind = d.get("kind")
        if "kind" not in d:
            self.mes(i, e, "kind", f"required (one of: {', '.join(MEASURE_KINDS)})")
            kind = None
        elif kind not in MEASURE_KINDS:
            self.mes(i, e, "kind", "unknown kind" + _hint(kind, MEASURE_KINDS), kind)
            kind = None
        allowed = set(_COMMON) | set(KIND_KEYS[kind]) if kind else set(_MEASURE_TYPES)
        for req in ("id", "start"):
            if req not in d:
                self.mes(i, e, req, "required")
        for req in _REQUIRED.get(kind, ()) if kind else ():
            if req not in d:
                self.mes(i, e, req, f"required for kind {kind!r}")
        if kind == "outage" and not d.get("crossings") and not d.get("lanes"):
            self.mes(i, e, "crossings", "an outage needs crossings or lanes")
        kw: dict[str, Any] = {}
        for k, v in d.items():
            t = _MEASURE_TYPES.get(k)
            if t is None:
                self.mes(i, e, k, "unknown key" + _hint(k, sorted(allowed)), k)
            elif k not in allowed:
                uses = ", ".join(KIND_KEYS[str(kind)])
                self.mes(i, e, k, f"not used by kind {kind!r} (it uses: {uses})", v)
            elif k == "drop":
                self.mes(i, e, k, "must be true or false", v)
            else:
                conv = self.typed(i, e, k, t, v, sc)
                if conv is not None:
                    kw[k] = conv
        if "id" in kw and not _ID.match(kw["id"]):
            self.mes(
                i, e, "id", "must be letters, digits, '_' or '-' (no dots or spaces)", kw["id"]
            )
        for k, (lo, hi, incl, text) in _RANGES.items():
            v = kw.get(k)
            if v is not None and not ((lo <= v if incl else lo < v) and v <= hi):
                self.mes(i, e, k, f"must be {text}", d[k])
        if kind:
            self.kind_rules(i, e, str(kind), kw, d)
        if dates_ok:
            self.dates(i, e, kw, sc)
        if net is not None and kind:
            self.ids(i, e, str(kind), kw, net)
        if len(self.problems) > n0 or not kind or not {"id", "start"} <= set(kw):
            return None
        if kind in _STOPS and "capacity_factor" not in kw:
            kw["capacity_factor"] = 0.0
        return Measure(**kw)

    def typed(self, i: int, e: _Entry, k: str, t: str, v: object, sc: Scenario) -> Any:
        """Check a value's TOML type; return it converted (dates -> day numbers) or None."""
        if t == _STR:
            if isinstance(v, str):
                return v
            self.mes(i, e, k, "must be a string", v)
        elif t == _NUM:
            if _is_number(v) and math.isfinite(v):  # type: ignore[arg-type]
                return float(v)  # type: ignore[arg-type]
            self.mes(i, e, k, "must be a number" if not _is_number(v) else "must be finite", v)
        elif t == _INT:
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            self.mes(i, e, k, "must be an integer", v)
        elif t == _BOOL:
            if isinstance(v, bool):
                return v
            self.mes(i, e, k, "must be true or false", v)
        elif t == _DATE:
            if _is_date(v):
                return sc.day(v)  # type: ignore[arg-type]
            shown = v.isoformat() if isinstance(v, dt.date | dt.time) else v
            self.mes(i, e, k, "must be a date like 2025-03-04 (no quotes, no time)", shown)
        elif t == _LIST:
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                dup = sorted({x for x in v if v.count(x) > 1})
                if dup:
                    self.mes(i, e, k, "lists an id twice", ", ".join(dup))
                    return None
                return tuple(v)
            self.mes(i, e, k, "must be an array of strings", v)
        return None

    def kind_rules(
        self, i: int, e: _Entry, kind: str, kw: dict[str, Any], d: dict[str, Any]
    ) -> None:
        imposer, origin = kw.get("imposer"), kw.get("origin")
        if imposer is not None and imposer not in _COUNTRIES:
            self.mes(i, e, "imposer", 'must be "US" or "CA"', imposer)
        if origin is not None and origin != "":
            ok = _COUNTRIES + ("OS",) if kind == "demand_shock" else _COUNTRIES
            if origin not in ok:
                self.mes(i, e, "origin", f"must be {' or '.join(ok)} (or omitted)", origin)
            elif origin == imposer:
                self.mes(i, e, "origin", "must differ from imposer", origin)
        if "direction" in kw and kw["direction"] not in ("sb", "nb", "both"):
            self.mes(i, e, "direction", 'must be "sb", "nb" or "both"', kw["direction"])
        basis = kw.get("content_basis")
        if basis is not None:
            own = {"US": "non_us", "CA": "non_ca"}.get(str(imposer))
            if basis not in ("all", "non_us", "non_ca"):
                self.mes(i, e, "content_basis", 'must be "all", "non_us" or "non_ca"', basis)
            elif basis != "all" and own is not None and basis != own:
                self.mes(
                    i, e, "content_basis", f'must be "{own}" (the imposer\'s own content)', basis
                )
        if "domestic_content" in kw and basis in (None, "all"):
            self.mes(
                i,
                e,
                "domestic_content",
                'applies only with content_basis "non_us" or "non_ca"',
                d["domestic_content"],
            )
        cf = kw.get("capacity_factor")
        if cf is not None:
            if kind == "slowdown" and not 0.0 < cf <= 1.0:
                self.mes(i, e, "capacity_factor", "must be a factor in 0 < f <= 1", cf)
            elif kind != "slowdown" and not 0.0 <= cf <= 1.0:
                self.mes(i, e, "capacity_factor", "must be a factor in 0..1", cf)
        if "stack_group" in kw and not kw["stack_group"].strip():
            self.mes(
                i, e, "stack_group", "must be a non-empty name (or omitted)", kw["stack_group"]
            )

    def dates(self, i: int, e: _Entry, kw: dict[str, Any], sc: Scenario) -> None:
        last = sc.date(sc.horizon_days)
        for k in ("start", "end", "announce"):
            day = kw.get(k)
            if day is not None and not 0 <= day <= sc.horizon_days:
                self.mes(
                    i, e, k, f"date outside the scenario ({sc.start} .. {last})", str(sc.date(day))
                )
        start, end, ann = kw.get("start"), kw.get("end"), kw.get("announce")
        if start is not None and end is not None and end <= start:
            self.mes(i, e, "end", f"must be after start ({sc.date(start)})", str(sc.date(end)))
        if start is not None and ann is not None and ann > start:
            self.mes(
                i,
                e,
                "announce",
                f"must be on or before start ({sc.date(start)})",
                str(sc.date(ann)),
            )

    def ids(self, i: int, e: _Entry, kind: str, kw: dict[str, Any], net: Network) -> None:
        for j, s in enumerate(kw.get("sectors", ())):
            if s not in SECTORS:
                self.mes(i, e, f"sectors[{j}]", "unknown sector" + _hint(s, SECTORS), s)
        sectors = set(kw.get("sectors", ()))
        for j, c in enumerate(kw.get("commodities", ())):
            com = net.commodity.get(c)
            if com is None:
                self.mes(i, e, f"commodities[{j}]", f"unknown commodity in network {net.name}", c)
            elif sectors and com.sector not in sectors:
                self.mes(
                    i,
                    e,
                    f"commodities[{j}]",
                    f"commodity of sector {com.sector!r}, not in the listed sectors: never matched",
                    c,
                )
        want = {
            "slowdown": ("road", "rail"),
            "closure": ("road", "rail"),
            "outage": ("pipeline", "wire", "rail"),
        }.get(kind, ())
        for j, x in enumerate(kw.get("crossings", ())):
            cr = net.crossing.get(x)
            if cr is None:
                self.mes(i, e, f"crossings[{j}]", f"unknown crossing in network {net.name}", x)
            elif cr.kind not in want:
                self.mes(
                    i,
                    e,
                    f"crossings[{j}]",
                    f"{_an(kind)} needs a {' or '.join(want)} crossing; {x} is {cr.kind}",
                    x,
                )
        site_kinds = {
            "port_strike": ("port",),
            "plant_shutdown": ("plant", "source"),
            "demand_shock": ("market",),
        }.get(kind, ())
        for j, s in enumerate(kw.get("sites", ())):
            site = net.site.get(s)
            if site is None:
                self.mes(i, e, f"sites[{j}]", f"unknown site in network {net.name}", s)
            elif site.kind not in site_kinds:
                self.mes(
                    i,
                    e,
                    f"sites[{j}]",
                    f"{_an(kind)} needs a {' or '.join(site_kinds)} site; {s} is {_an(site.kind)}",
                    s,
                )
            elif kind == "demand_shock" and kw.get("origin") == site.country:
                self.mes(i, e, "origin", f"is the country of market {s} itself", site.country)
        for j, lid in enumerate(kw.get("lanes", ())):
            ln = net.lane.get(lid)
            if ln is None:
                self.mes(i, e, f"lanes[{j}]", f"unknown lane in network {net.name}", lid)
            elif kind == "lane_open" and ln.base_flow > 0:
                cap = kw.get("capacity")
                if isinstance(cap, int | float) and cap <= ln.base_flow:
                    rule = (
                        f"{lid} already carries {ln.base_flow:g}/day: lane_open raises a lane, "
                        "so capacity must exceed its base flow"
                    )
                    self.mes(i, e, f"lanes[{j}]", rule, lid)
        origin = kw.get("origin") or ""
        if (
            kind in ("tariff", "export_levy")
            and kw.get("imposer") in _COUNTRIES
            and (not origin or origin in _COUNTRIES and origin != kw["imposer"])
        ):
            self.flows(i, e, kind, kw, net)

    def flows(self, i: int, e: _Entry, kind: str, kw: dict[str, Any], net: Network) -> None:
        """A tariff or levy whose goods never cross that way in the network is a mistake."""
        imp, origin = kw["imposer"], kw.get("origin") or ""
        coms = kw.get("commodities") or ()
        if not coms:
            return
        moving: set[str] = set()
        for ln in net.lanes:
            a, b = net.site[ln.origin].country, net.site[ln.dest].country
            if kind == "tariff" and b == imp and a != imp and (not origin or a == origin):
                moving.add(ln.commodity)
            if kind == "export_levy" and a == imp and b != imp:
                moving.add(ln.commodity)
        way = (
            f"into {imp}" + (f" from {origin}" if origin else "")
            if kind == "tariff"
            else f"out of {imp}"
        )
        for j, c in enumerate(coms):
            if c in net.commodity and c not in moving:
                self.mes(i, e, f"commodities[{j}]", f"no lane carries {c} {way}: never applies", c)


def load_scenario(
    name_or_path: str | os.PathLike[str], overrides: Mapping[str, object] | None = None
) -> Scenario:
    """Read and validate a scenario file or built-in scenario.

    Parameters
    ----------
    name_or_path
        A scenario file, or the name of a built-in scenario (``experiments/scenarios/<name>.toml``).
    overrides
        Dotted keys set on the merged data before validation, e.g.
        ``{"horizon_days": 365, "measures.us_tariff.rate": 0.35}`` (see the module docstring).

    Raises
    ------
    ScenarioError
        Listing every problem, each naming the file, the key, the rule and the value.
    """
    path = _resolve(name_or_path)
    doc = _read_doc(path)
    if overrides:
        _apply_overrides(doc, overrides)
    sc = _Checker(doc).run()
    if overrides:
        ov = tuple((str(k), _toml_text(v)) for k, v in overrides.items())
        sc = Scenario(
            name=sc.name,
            description=sc.description,
            network=sc.network,
            start=sc.start,
            horizon_days=sc.horizon_days,
            costs=sc.costs,
            market=sc.market,
            measures=sc.measures,
            path=sc.path,
            sources=sc.sources,
            overrides=ov,
        )
    return sc
