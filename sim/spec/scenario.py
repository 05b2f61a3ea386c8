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
    warmup_days   integer  0..horizon_days - 1 (default 0): days at the start left out of the KPIs
    extends       string   parent scenario: a path relative to this file, or a built-in name
    [costs]       table    cost parameters (numbers >= 0; *_share and backlog_penalty_per_day <= 1)
        holding_rate_per_year (0.25)  truck_hour_usd (90.89)  backlog_penalty_per_day (0.002)
        lost_margin_share (0.12)
    [market]      table    price response
        pass_through   table party -> share of each duty dollar; parties exporter, importer,
                       downstream, consumer; shares in [0, 1] summing to 1; replaces the default
                       table as a whole (parties not listed bear 0)
                       (default exporter 0.1, importer 0.2, downstream 0.3, consumer 0.4).
                       It may also hold a table per sector ([market.pass_through.auto]) and, in
                       it, per direction ([market.pass_through.auto.sb], "sb" = Canada -> US,
                       "nb" = US -> Canada), each a party table summing to 1: a duty on a lane
                       is split with the shares of its sector and direction, else its sector's,
                       else the top-level table's.
        elasticity     table sector -> price elasticity of demand (<= 0); sectors auto, farm,
                       energy, multi; sectors not listed keep their defaults
                       (default auto -1.0, farm -0.6, energy -0.2, multi -0.5)
        switch_logit, qualification_days, switch_ramp_days, duty_absorption: each a number (every
                       sector) or a table sector -> number (sectors not listed keep their
                       defaults); numbers >= 0, duty_absorption <= 1
                       (defaults by sector auto/farm/energy/multi: switch_logit 3/5/1.5/4,
                       qualification_days 180/30/90/60, switch_ramp_days 270/60/180/90,
                       duty_absorption 0.55/0/0/0)
        prestock_max_days (21)  route_logit (1.0, per hour) [0..1000]  route_inertia_days (1) [0..36500]
        route_forgo_hours (8) [0..8760]  bkg_patience_days (1) [0..36500]
    [[measures]]  array of tables, one per timed measure (below)
    [uncertain]   table  dotted override key -> distribution, drawn per replication:
                  {dist = "uniform", low, high}, {dist = "triangular", low, mode, high},
                  {dist = "normal", mean, sd, low, high} (truncated to [low, high]) or
                  {dist = "choice", values = [...]}; keys are numeric override keys (below):
                  costs.<key>, market.<key>, market.elasticity.<sector>,
                  market.pass_through[.<sector>[.<direction>]].<party> (setting one party's
                  share rescales the others of its table to keep the sum 1) and
                  measures.<id>.<numeric key>. Every value in the support must be valid.
                  Merged key by key over the parent's; {drop = true} removes a parent's key.

Measure tables: one per timed measure; each kind's keys, their types, ranges and defaults are
declared once in :mod:`sim.spec.measures` (the README's table is generated from them).

``extends``: the parent is loaded first (recursively), then this file overrides it: top-level
values replace the parent's; [costs], [market] and [uncertain] merge key by key; measures merge by id (a
measure whose id the parent has replaces the given keys of the parent's measure; with
``drop = true`` it removes it; new ids are appended). A cycle of extends is an error.

Overrides (sweeps): ``load_scenario(path, overrides={"measures.us_tariff.rate": 0.35})`` sets
dotted keys on the merged data before validation: ``name``, ``description``, ``network``,
``start``, ``horizon_days``, ``warmup_days``, ``costs.<field>``, ``market.<field>``,
``market.pass_through[.<sector>[.<direction>]].<party>`` (the other parties of that table are
rescaled to keep the sum 1), ``market.elasticity.<sector>``, ``measures.<id>.<key>``
(``measures.<id>.drop = true`` removes a measure). :func:`parse_override` parses the command-line
form ``KEY=V1,V2,...``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sim.spec.uncertain import Uncertain


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
DIRECTIONS: tuple[str, ...] = ("sb", "nb")  # Canada -> US, US -> Canada
# defaults of Market.pass_through and Market.elasticity
PASS_THROUGH = {"exporter": 0.1, "importer": 0.2, "downstream": 0.3, "consumer": 0.4}
ELASTICITY = {"auto": -1.0, "farm": -0.6, "energy": -0.2, "multi": -0.5}
# supplier switching by sector (behavioural parameters §2.2 S1-S4 and §3 W1-W7; §5 A1): the logit
# sensitivity beta ~ the elasticity of substitution between sources over a 6-18 month horizon; the
# qualification lag before orders move and the ramp over which they move; the share of a duty the
# importer (an OEM) absorbs in its margin before it re-sources (autos 2025: 0.55, range 0.35-0.80)
SWITCH_LOGIT = {"auto": 3.0, "farm": 5.0, "energy": 1.5, "multi": 4.0}
QUALIFICATION_DAYS = {"auto": 180.0, "farm": 30.0, "energy": 90.0, "multi": 60.0}
SWITCH_RAMP_DAYS = {"auto": 270.0, "farm": 60.0, "energy": 180.0, "multi": 90.0}
DUTY_ABSORPTION = {"auto": 0.55, "farm": 0.0, "energy": 0.0, "multi": 0.0}
SECTOR_TABLES: dict[str, dict[str, float]] = {
    "elasticity": ELASTICITY,
    "switch_logit": SWITCH_LOGIT,
    "qualification_days": QUALIFICATION_DAYS,
    "switch_ramp_days": SWITCH_RAMP_DAYS,
    "duty_absorption": DUTY_ABSORPTION,
}
"""The [market] keys that are tables sector -> number, with their defaults."""


@dataclass(frozen=True, slots=True)
class Market:
    """Price response: who absorbs a duty, and how demand answers the price.

    ``pass_through`` and the sector tables (:data:`SECTOR_TABLES`) are read-only mappings
    (:class:`FrozenMap`); a plain dict given to the constructor is converted (sectors it leaves
    out keep their defaults, except ``elasticity``, taken as given), and a number means that
    value for every sector.
    """

    # shares of each duty dollar borne by each party (sum to 1); the importer of record pays the
    # government, then recovers these shares by price: exporter price cut, downstream buyer,
    # consumer. Defaults: near-full pass-through to the importing country (calibration §7;
    # literature on the 2018-19 US tariffs); elasticities EST.
    pass_through: Mapping[str, float] = field(default_factory=lambda: FrozenMap(PASS_THROUGH))
    elasticity: Mapping[str, float] = field(default_factory=lambda: FrozenMap(ELASTICITY))
    # by sector: sensitivity of supplier shares to relative landed cost; days before orders may
    # move to another supplier; then days over which shares move linearly; share of a duty the
    # importer absorbs in its margin (it does not drive switching)
    switch_logit: Mapping[str, float] = field(default_factory=lambda: FrozenMap(SWITCH_LOGIT))
    qualification_days: Mapping[str, float] = field(
        default_factory=lambda: FrozenMap(QUALIFICATION_DAYS)
    )
    switch_ramp_days: Mapping[str, float] = field(
        default_factory=lambda: FrozenMap(SWITCH_RAMP_DAYS)
    )
    duty_absorption: Mapping[str, float] = field(default_factory=lambda: FrozenMap(DUTY_ABSORPTION))
    prestock_max_days: float = 21.0  # an announced tariff: importers stock up to this many days
    # route choice at the border (EST, see the README): a logit on generalised cost in hours
    route_logit: float = 1.0  # per hour: sensitivity of the choice among crossings
    route_inertia_days: float = 1.0  # each day shares close 1 / (1 + this) of the gap to target
    route_forgo_hours: float = 8.0  # background: cost of not crossing today (trip lost)
    bkg_patience_days: float = 1.0  # background still queued after this many days leaves
    # per-sector and per-direction pass-through tables: ((sector, direction or "", shares), ...)
    pass_through_by: tuple[tuple[str, str, FrozenMap], ...] = ()

    def __post_init__(self) -> None:
        for name in ("pass_through", "elasticity"):  # given as a whole
            if not isinstance(getattr(self, name), FrozenMap):
                object.__setattr__(self, name, FrozenMap(getattr(self, name)))
        for name, default in SECTOR_TABLES.items():
            value: object = getattr(self, name)
            if isinstance(value, FrozenMap):
                continue
            if isinstance(value, (int, float)):
                value = dict.fromkeys(default, float(value))
            assert isinstance(value, Mapping)
            object.__setattr__(self, name, FrozenMap({**default, **value}))
        by = tuple((sec, d, FrozenMap(t)) for sec, d, t in self.pass_through_by)
        object.__setattr__(self, "pass_through_by", by)

    def shares(self, sector: str, direction: str) -> Mapping[str, float]:
        """Pass-through shares of a duty on a lane of ``sector`` and ``direction`` ('sb', 'nb', '')."""
        by = {(sec, d): t for sec, d, t in self.pass_through_by}
        return by.get((sector, direction)) or by.get((sector, "")) or self.pass_through


def rescale_shares(shares: Mapping[str, float], party: str, value: float) -> dict[str, float]:
    """``shares`` with ``party`` set to ``value`` and the other parties scaled to keep the sum 1
    (split equally when they held nothing)."""
    others = [p for p in PARTIES if p != party]
    rest = sum(float(shares.get(p, 0.0)) for p in others)
    out = {party: float(value)}
    for p in others:
        x = float(shares.get(p, 0.0))
        out[p] = (1.0 - value) * (x / rest if rest > 0 else 1.0 / len(others))
    return out


@dataclass(frozen=True, slots=True)
class Measure:
    """A timed measure or disruption (one ``[[measures]]`` table of a scenario file).

    ``kind`` names one of the kinds of :mod:`sim.spec.measures`, which declares its keys. Dates are day numbers from the scenario start;
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
    remission_share: float = 0.0  # share of the duty remitted (e.g. Canada's auto remission quotas)
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


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated, inert scenario spec."""

    name: str
    description: str = ""
    network: str = "north_america"
    start: dt.date = dt.date(2025, 1, 1)
    horizon_days: int = 730
    warmup_days: int = 0  # KPIs count days >= warmup_days (the start-up transient left out)
    costs: Costs = field(default_factory=Costs)
    market: Market = field(default_factory=Market)
    measures: tuple[Measure, ...] = ()
    uncertain: tuple[Uncertain, ...] = ()  # parameters drawn per replication ([uncertain])
    path: str | None = None
    # files that made the scenario, this file first, then its extends chain
    sources: tuple[str, ...] = ()
    # overrides applied (key, value as TOML text), in order
    overrides: tuple[tuple[str, str], ...] = ()

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
