"""Network specs: commodities, sites, crossings, lanes, bills of materials, demand and the
alternative crossings traffic may take.

All specs are frozen dataclasses; nothing here reads files (:mod:`sim.io.network` does). A
:class:`Network`'s ``graph`` is a frozen ``networkx.DiGraph`` (nodes: sites and crossings; edges:
lanes, keyed by lane id in the ``lane`` attribute; parallel lanes between the same two sites are
listed in the edge's ``lanes`` tuple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:  # the same package; networkx itself is imported where a graph is built
    import networkx as nx


SiteKind = Literal["source", "plant", "storage", "port", "market"]
CrossingKind = Literal["road", "rail", "pipeline", "wire", "sea"]
Mode = Literal["truck", "rail", "pipeline", "wire", "ship"]
Country = Literal["CA", "US", "OS"]
Sector = Literal["auto", "farm", "energy", "multi"]

SITE_KINDS: tuple[str, ...] = get_args(SiteKind)
CROSSING_KINDS: tuple[str, ...] = get_args(CrossingKind)
MODES: tuple[str, ...] = get_args(Mode)
COUNTRIES: tuple[str, ...] = get_args(Country)
SECTORS: tuple[str, ...] = get_args(Sector)
UNMET: tuple[str, ...] = ("backorder", "lost")
DISTS: tuple[str, ...] = ("normal", "poisson")
POLICIES: tuple[str, ...] = ("base_stock", "sS")


@dataclass(frozen=True, slots=True)
class Commodity:
    """A good with a unit and a customs value per unit."""

    id: str
    name: str
    sector: str
    unit: str
    value_usd: float
    storable: bool = True
    shelf_life_days: float | None = None
    units_per_truck: float | None = None
    units_per_railcar: float | None = None
    # live animals: they do not spoil; held, they are fed (US$ per unit-day) and a few die
    holding_usd_per_day: float = 0.0
    death_rate_per_day: float = 0.0

    @property
    def perishable(self) -> bool:
        return self.shelf_life_days is not None

    @property
    def live(self) -> bool:
        """Live animals: a feeding cost or a death rate while held, no shelf life."""
        return self.holding_usd_per_day > 0 or self.death_rate_per_day > 0


@dataclass(frozen=True, slots=True)
class Site:
    """A graph node that holds stock: source, plant, storage, port or market."""

    id: str
    kind: str
    country: str
    sector: str
    name: str = ""
    lat: float = 0.0
    lon: float = 0.0
    commodity: str | None = None  # output of a source or plant
    capacity: float | None = None  # output per day; None = unlimited
    cover_days: float = 2.0  # safety stock, days of mean flow
    policy: str = "base_stock"
    s_days: float | None = None
    S_days: float | None = None
    downtime_usd_per_hour: float = 0.0
    region: str = ""  # state or province code (e.g. "MI", "ON"), from the coordinates


@dataclass(frozen=True, slots=True)
class Crossing:
    """A port of entry between Canada and the US."""

    id: str
    kind: str
    name: str = ""
    lat: float = 0.0
    lon: float = 0.0
    capacity_sb: float | None = None  # per day, Canada -> US
    capacity_nb: float | None = None  # per day, US -> Canada
    obs_sb: float | None = None  # observed 2024 vehicles/day (all traffic)
    obs_nb: float | None = None
    booths: int | None = None
    wait_median_min: float | None = None
    wait_p95_min: float | None = None
    trade_sb_usd: float | None = None  # published 2024 trade value per day, all vehicles, SB
    trade_nb_usd: float | None = None

    def trade(self, direction: str) -> float | None:
        return self.trade_sb_usd if direction == "sb" else self.trade_nb_usd

    def capacity(self, direction: str) -> float | None:
        return self.capacity_sb if direction == "sb" else self.capacity_nb

    def observed(self, direction: str) -> float | None:
        return self.obs_sb if direction == "sb" else self.obs_nb


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another crossing the traffic of ``crossing`` may take (one row of ``corridors.csv``).

    ``detour_hours`` is the extra driving time of the route through ``alternative`` and
    ``toll_usd`` the extra toll per vehicle there (negative when cheaper), both against the
    route through ``crossing``; they apply in both directions of travel.
    """

    crossing: str
    alternative: str
    detour_hours: float = 0.0
    toll_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class Lane:
    """A directed edge that moves one commodity from one site to another."""

    id: str
    origin: str
    dest: str
    commodity: str
    mode: str
    crossing: str | None = None
    transit_days: float = 1.0
    transit_cv: float = 0.0
    capacity: float | None = None
    base_flow: float = 0.0
    cost_per_unit_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class BomLine:
    """Units of ``input`` a plant consumes per unit of its output."""

    plant: str
    input: str
    qty_per_unit: float


@dataclass(frozen=True, slots=True)
class Demand:
    """Final demand for one commodity at one market."""

    site: str
    commodity: str
    mean_per_day: float
    cv: float = 0.0
    unmet: str = "backorder"
    dist: str = "normal"  # "normal": truncated normal with cv; "poisson": integer, variance = mean


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Explicit stock levels of one stock point, in units: order up to ``S`` every day
    (base stock), or, with ``s``, only when the inventory position is at or below ``s``
    ((s, S)). Replaces the site's cover-day policy for that point."""

    site: str
    commodity: str
    S: float
    s: float | None = None


def _digraph() -> nx.DiGraph:
    import networkx as nx

    return nx.DiGraph()


@dataclass(frozen=True, slots=True)
class Network:
    """A validated, inert network spec. Build with :meth:`Network.build` or :func:`load_network`."""

    name: str
    commodities: tuple[Commodity, ...]
    sites: tuple[Site, ...]
    crossings: tuple[Crossing, ...]
    lanes: tuple[Lane, ...]
    boms: tuple[BomLine, ...]
    demand: tuple[Demand, ...]
    path: str | None = None
    alternatives: tuple[Alternative, ...] = ()
    stock: tuple[StockLevel, ...] = ()
    graph: nx.DiGraph = field(default_factory=lambda: _digraph(), compare=False, repr=False)
    commodity: Mapping[str, Commodity] = field(default_factory=dict, compare=False, repr=False)
    site: Mapping[str, Site] = field(default_factory=dict, compare=False, repr=False)
    crossing: Mapping[str, Crossing] = field(default_factory=dict, compare=False, repr=False)
    lane: Mapping[str, Lane] = field(default_factory=dict, compare=False, repr=False)
    bills: Mapping[str, Mapping[str, float]] = field(
        default_factory=dict, compare=False, repr=False
    )  # plant -> input -> units per output unit, built once (see :meth:`bom`)

    @classmethod
    def build(
        cls,
        name: str,
        commodities: list[Commodity] | tuple[Commodity, ...],
        sites: list[Site] | tuple[Site, ...],
        lanes: list[Lane] | tuple[Lane, ...],
        crossings: list[Crossing] | tuple[Crossing, ...] = (),
        boms: list[BomLine] | tuple[BomLine, ...] = (),
        demand: list[Demand] | tuple[Demand, ...] = (),
        path: str | None = None,
        alternatives: list[Alternative] | tuple[Alternative, ...] = (),
        stock: list[StockLevel] | tuple[StockLevel, ...] = (),
    ) -> Network:
        """Assemble a network from specs (no validation; :func:`load_network` validates files)."""
        import networkx as nx  # here, not at the top: `import sim` stays fast (~50 ms less)

        g = nx.DiGraph()
        for s in sites:
            g.add_node(s.id, spec=s, kind=s.kind, country=s.country, sector=s.sector)
        for c in crossings:
            g.add_node(c.id, spec=c, kind="crossing", crossing_kind=c.kind)
        for ln in lanes:
            if g.has_edge(ln.origin, ln.dest):
                g.edges[ln.origin, ln.dest]["lanes"] += (ln,)
            else:
                g.add_edge(ln.origin, ln.dest, lane=ln.id, lanes=(ln,), commodity=ln.commodity)
        nx.freeze(g)
        bills: dict[str, dict[str, float]] = {}
        for b in boms:
            bills.setdefault(b.plant, {})[b.input] = b.qty_per_unit
        return cls(
            name=name,
            commodities=tuple(commodities),
            sites=tuple(sites),
            crossings=tuple(crossings),
            lanes=tuple(lanes),
            boms=tuple(boms),
            demand=tuple(demand),
            path=path,
            alternatives=tuple(alternatives),
            stock=tuple(stock),
            graph=g,
            commodity=MappingProxyType({c.id: c for c in commodities}),
            site=MappingProxyType({s.id: s for s in sites}),
            crossing=MappingProxyType({c.id: c for c in crossings}),
            lane=MappingProxyType({ln.id: ln for ln in lanes}),
            bills=MappingProxyType({p: MappingProxyType(b) for p, b in bills.items()}),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the specs and rebuild the graph and lookups on load (mappingproxy cannot pickle)."""
        args = (
            self.name,
            self.commodities,
            self.sites,
            self.lanes,
            self.crossings,
            self.boms,
            self.demand,
            self.path,
            self.alternatives,
            self.stock,
        )
        return (Network.build, args)

    def direction(self, lane: Lane) -> str:
        """``'sb'`` for a Canada->US lane, ``'nb'`` for US->Canada, ``''`` otherwise."""
        a, b = self.site[lane.origin].country, self.site[lane.dest].country
        if (a, b) == ("CA", "US"):
            return "sb"
        if (a, b) == ("US", "CA"):
            return "nb"
        return ""

    def bom(self, plant: str) -> dict[str, float]:
        """Bill of materials of a plant: input commodity -> units per output unit (a new dict)."""
        return dict(self.bills.get(plant, {}))
