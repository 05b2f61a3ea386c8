"""Measure kinds: one class per kind of timed measure or disruption.

Each kind declares, once, everything about it:

* its keys (:class:`Key`): TOML type, whether required, default, and range or choices; the
  scenario checker (:mod:`sim.io.scenario_check`), the reader's key types and the README's key
  table (:func:`key_table`) are all driven from these declarations;
* its rules across keys (:meth:`MeasureKind.rules`) and against the network: which kinds of
  crossing or site it may name (:attr:`MeasureKind.crossing_kinds`, :attr:`MeasureKind.site_kinds`);
* its effect on a day's factors (:meth:`MeasureKind.apply`), through the :class:`Factors`
  interface the engine implements; duties (tariff, export levy) instead say which lanes they hit
  and at what effective rate (:meth:`DutyKind.lane_rate`); the engine stacks them.

Adding a kind is one class here (registered in :data:`KINDS`) and its tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from sim.spec.scenario import Measure

STR, LIST, DATE, NUM, INT, BOOL = "str", "list", "date", "number", "int", "bool"
COUNTRIES = ("US", "CA")

# the checker's per-measure report with the measure bound: (key, rule, value)
Report = Callable[[str, str, object], None]


def _or(choices: Iterable[str]) -> str:
    q = [f'"{c}"' for c in choices]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " or " + q[-1]


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a measure table: its TOML type, default, and allowed values.

    ``low``/``high`` bound numbers (``low_open``: ``low < v`` instead of ``low <= v``); ``choices``
    lists the allowed strings; ``text`` is how the range reads in an error ("must be <text>").
    ``default`` is the value the measure takes when the key is absent (``None``: no value).
    """

    name: str
    type: str
    doc: str
    required: bool = False
    default: object = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    text: str = ""

    def problem(self, v: Any) -> str | None:
        """The rule a converted value breaks, or None."""
        if self.choices and v not in self.choices:
            return f"must be {_or(self.choices)}"
        if self.low is None and self.high is None:
            return None
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        ok = (lo < v if self.low_open else lo <= v) and v <= hi
        return None if ok else f"must be {self.text}"

    def describe(self) -> str:
        """The key's type, range and default as one line of the README table."""
        kind = {STR: "string", LIST: "array of ids", DATE: "date", NUM: "number",
                INT: "integer", BOOL: "boolean"}[self.type]  # fmt: skip
        parts = [kind]
        if self.choices:
            parts.append(_or(self.choices).replace('"', "`"))
        elif self.text:
            parts.append(self.text)
        if self.required:
            parts.append("**required**")
        elif self.default is not None:
            parts.append(f"default {str(self.default).lower() if isinstance(self.default, bool) else self.default}")
        return ", ".join(parts)


# keys every measure has
COMMON: tuple[Key, ...] = (
    Key("id", STR, "unique in the scenario; letters, digits, `_` and `-`", required=True),
    Key("kind", STR, "one of the kinds below", required=True),
    Key("start", DATE, "first day the measure applies", required=True),
    Key("end", DATE, "first day it no longer applies (omitted: open-ended)"),
)
DROP = Key("drop", BOOL, "in a scenario that extends another: true removes the parent's measure")


class Factors(Protocol):
    """What a measure may change on a day (implemented by :mod:`sim.engine.factors`).

    Factors start each recomputation at their neutral values (1 for factors, 0 for added delays)
    and every active measure's effect is applied in scenario order; capacity and inspection
    factors multiply, secondary-inspection delays add.
    """

    def scale_crossings(
        self,
        crossings: tuple[str, ...],
        direction: str,
        capacity: float,
        inspection: float | None = None,
        secondary_days: float | None = None,
    ) -> None:
        """Multiply the capacity (and inspection time) of these crossings in ``direction``."""

    def scale_lane(self, lane: str, factor: float) -> None:
        """Multiply one lane's capacity."""

    def scale_lanes_at(self, sites: tuple[str, ...], factor: float) -> None:
        """Multiply the capacity of every lane into or out of these sites."""

    def scale_site(self, site: str, factor: float) -> None:
        """Multiply a producer's capacity."""

    def scale_demand(self, m: Measure) -> None:
        """Multiply the demand of the markets, goods and origin ``m`` names by ``m.demand_factor``."""

    def open_lane(self, lane: str, capacity: float, progress: float) -> None:
        """Raise a lane's capacity from its base flow toward ``capacity`` (``progress`` in 0..1)."""


class MeasureKind:
    """Base of the measure kinds: declarations and the default (no) effect."""

    name: ClassVar[str]
    summary: ClassVar[str]
    keys: ClassVar[tuple[Key, ...]]
    crossing_kinds: ClassVar[tuple[str, ...]] = ()
    site_kinds: ClassVar[tuple[str, ...]] = ()
    # fields the kind fixes without a key of its own (a closure is a capacity factor of 0)
    implied: ClassVar[dict[str, object]] = {}

    @staticmethod
    def matches(m: Measure, commodity: str, sector: str) -> bool:
        """Whether the measure's sector and commodity lists take this good (empty lists: all)."""
        if m.commodities and commodity not in m.commodities:
            return False
        return not (m.sectors and sector not in m.sectors)

    @classmethod
    def defaults(cls) -> dict[str, object]:
        """Values of keys absent from the table that differ from the :class:`Measure` field default."""
        return {**cls.implied, **{k.name: k.default for k in cls.keys if k.default is not None}}

    @classmethod
    def rules(cls, kw: dict[str, Any], add: Report) -> None:
        """Rules across this kind's keys (``kw``: converted values), beyond each key's range."""

    @classmethod
    def change_days(cls, m: Measure) -> set[int]:
        """Days on which the measure's effect changes."""
        return {d for d in (m.start, m.end, m.announce) if d is not None}

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        """Apply the measure's effect on day ``t`` to ``fx`` (only called on change days)."""


# --------------------------------------------------------------------------------- duties
_SHARE = "a share in 0..1"


def _duty_keys(*extra: Key) -> tuple[Key, ...]:
    return (
        Key("imposer", STR, "country that charges it", required=True, choices=COUNTRIES),
        Key("rate", NUM, "ad valorem rate", required=True, low=0.0, high=5.0,
            text="a rate in 0..5 (0..500 %)"),
        Key("sectors", LIST, "sectors hit (empty: all)"),
        Key("commodities", LIST, "commodities hit (empty: all, within sectors)"),
        Key("exempt_share", NUM, "share of value exempt (USMCA/CUSMA-qualified)", low=0.0,
            high=1.0, text=_SHARE),
        Key("stack_group", STR, "among active measures of one group that match a good, only the "
            "highest precedence applies; groups add up"),
        Key("precedence", INT, "order within the stack group (unique in it)", low=-1e6,
            high=1e6, text="an integer in -1,000,000..1,000,000"),
        *extra,
    )  # fmt: skip


class DutyKind(MeasureKind):
    """A duty charged on goods as they cross the border (tariff or export levy)."""

    by_destination: ClassVar[bool]

    @classmethod
    def effective_rate(cls, m: Measure) -> float:
        """The rate on the whole customs value, after exemptions and the content basis."""
        eff = m.rate * (1.0 - m.exempt_share) * (1.0 - m.remission_share)
        if m.content_basis in ("non_us", "non_ca"):
            eff *= 1.0 - m.domestic_content
        return eff

    @classmethod
    def charged(cls, imposer: str, origin: str, a: str, b: str) -> bool:
        """Whether goods crossing from country ``a`` to ``b`` pay this kind of duty of ``imposer``
        (``origin``: the measure's origin key, "" for any)."""
        raise NotImplementedError

    @classmethod
    def lane_rate(
        cls, m: Measure, origin: str, dest: str, commodity: str, sector: str
    ) -> float | None:
        """Effective rate on a border lane from ``origin`` to ``dest`` country, None if not hit."""
        if not cls.charged(m.imposer, m.origin, origin, dest):
            return None
        return cls.effective_rate(m) if cls.matches(m, commodity, sector) else None

    @classmethod
    def rules(cls, kw: dict[str, Any], add: Report) -> None:
        if "stack_group" in kw and not kw["stack_group"].strip():
            add("stack_group", "must be a non-empty name (or omitted)", kw["stack_group"])


class Tariff(DutyKind):
    name = "tariff"
    summary = ("ad valorem duty the imposer charges on goods entering its country from `origin` "
               "(omitted: any foreign origin) at a crossing; also counter-tariffs")  # fmt: skip
    by_destination = True
    keys = _duty_keys(
        Key("origin", STR, "origin country of the goods hit (omitted: any foreign; never the "
            "imposer)"),
        Key("content_basis", STR, "`non_us`/`non_ca` (the imposer's own): duty on the foreign "
            "content only", choices=("all", "non_us", "non_ca")),
        Key("domestic_content", NUM, "the imposer's own content share, with content_basis "
            "`non_us`/`non_ca`", low=0.0, high=1.0, text=_SHARE),
        Key("announce", DATE, "day importers learn of it and may order ahead (<= start)"),
        Key("transit_exempt", BOOL, "goods shipped before start pay no duty"),
        Key("remission_share", NUM, "share of the duty remitted after entry (e.g. Canada's "
            "remission quotas for automakers that build in Canada)", low=0.0, high=1.0,
            text=_SHARE),
    )  # fmt: skip

    @classmethod
    def charged(cls, imposer: str, origin: str, a: str, b: str) -> bool:
        return b == imposer and (not origin or a == origin)

    @classmethod
    def rules(cls, kw: dict[str, Any], add: Report) -> None:
        super().rules(kw, add)
        imposer, origin = kw.get("imposer"), kw.get("origin")
        if origin:
            if origin not in COUNTRIES:
                add("origin", f"must be {' or '.join(COUNTRIES)} (or omitted)", origin)
            elif origin == imposer:
                add("origin", "must differ from imposer", origin)
        basis = kw.get("content_basis")
        own = {"US": "non_us", "CA": "non_ca"}.get(str(imposer))
        if basis not in (None, "all") and basis in ("non_us", "non_ca") and own and basis != own:
            add("content_basis", f'must be "{own}" (the imposer\'s own content)', basis)
        if "domestic_content" in kw and basis in (None, "all"):
            add("domestic_content", 'applies only with content_basis "non_us" or "non_ca"',
                kw["domestic_content"])  # fmt: skip


class ExportLevy(DutyKind):
    name = "export_levy"
    summary = ("duty the imposer charges on its own exports as they cross (e.g. energy); "
               "importers do not pre-stock against it")  # fmt: skip
    by_destination = False
    keys = _duty_keys()

    @classmethod
    def charged(cls, imposer: str, origin: str, a: str, b: str) -> bool:
        return a == imposer


# --------------------------------------------------------------------------------- crossings
_DIRECTION = Key("direction", STR, "direction of travel", default="both",
                 choices=("sb", "nb", "both"))  # fmt: skip


class Slowdown(MeasureKind):
    name = "slowdown"
    summary = "fewer booths, slower inspection and secondary inspection at road or rail crossings"
    crossing_kinds = ("road", "rail")
    keys = (
        Key("crossings", LIST, "road or rail crossings", required=True),
        _DIRECTION,
        Key("capacity_factor", NUM, "share of capacity left", default=1.0, low=0.0,
            low_open=True, high=1.0, text="a factor in 0 < f <= 1"),
        Key("inspection_factor", NUM, "inspection time multiplier", default=1.0, low=1.0,
            high=100.0, text="a factor in 1..100"),
        Key("secondary_share", NUM, "share of vehicles sent to secondary inspection", low=0.0,
            high=1.0, text=_SHARE),
        Key("secondary_hours", NUM, "hours a secondary inspection adds", low=0.0,
            high=168.0, text="hours in 0..168"),
    )  # fmt: skip

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            secondary = m.secondary_share * m.secondary_hours / 24.0
            fx.scale_crossings(
                m.crossings, m.direction, m.capacity_factor, m.inspection_factor, secondary
            )


class Closure(MeasureKind):
    name = "closure"
    summary = "road or rail crossings closed"
    crossing_kinds = ("road", "rail")
    keys = (Key("crossings", LIST, "road or rail crossings", required=True), _DIRECTION)
    implied = {"capacity_factor": 0.0}

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            fx.scale_crossings(m.crossings, m.direction, 0.0)


_STOP = Key("capacity_factor", NUM, "share of capacity left (0: down)", default=0.0, low=0.0,
            high=1.0, text="a factor in 0..1")  # fmt: skip


class Outage(MeasureKind):
    name = "outage"
    summary = "pipeline, wire or rail crossings and/or lanes at reduced capacity (0 = down)"
    crossing_kinds = ("pipeline", "wire", "rail")
    keys = (
        Key("crossings", LIST, "pipeline, wire or rail crossings (or lanes; at least one)"),
        Key("lanes", LIST, "lanes (or crossings; at least one)"),
        _DIRECTION,
        _STOP,
    )

    @classmethod
    def rules(cls, kw: dict[str, Any], add: Report) -> None:
        if not kw.get("crossings") and not kw.get("lanes"):
            add("crossings", "an outage needs crossings or lanes", None)

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            fx.scale_crossings(m.crossings, m.direction, m.capacity_factor)
            for lane in m.lanes:
                fx.scale_lane(lane, m.capacity_factor)


# --------------------------------------------------------------------------------- sites
class PortStrike(MeasureKind):
    name = "port_strike"
    summary = "ports stop; after the end, their lanes recover linearly over recovery_days"
    site_kinds = ("port",)
    keys = (
        Key("sites", LIST, "ports", required=True),
        Key("recovery_days", NUM, "days to recover linearly after the end", low=0.0,
            high=36500.0, text="days in 0..36,500"),
    )  # fmt: skip

    @classmethod
    def change_days(cls, m: Measure) -> set[int]:
        days = super().change_days(m)
        if m.end is not None and m.recovery_days > 0:
            days.update(range(m.end, m.end + int(math.ceil(m.recovery_days)) + 1))
        return days

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            fx.scale_lanes_at(m.sites, 0.0)
        elif m.end is not None and m.recovery_days > 0:
            done = (t - m.end + 1) / m.recovery_days  # day `end` is the first of recovery
            if 0 <= done < 1:
                fx.scale_lanes_at(m.sites, done)


class PlantShutdown(MeasureKind):
    name = "plant_shutdown"
    summary = "plants or sources at reduced capacity (0 = shut)"
    site_kinds = ("plant", "source")
    keys = (Key("sites", LIST, "plants or sources", required=True), _STOP)

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            for site in m.sites:
                fx.scale_site(site, m.capacity_factor)


class DemandShock(MeasureKind):
    name = "demand_shock"
    summary = ("market demand multiplied; with `origin`, only for goods from there "
               "(a boycott)")  # fmt: skip
    site_kinds = ("market",)
    keys = (
        Key("sites", LIST, "markets", required=True),
        Key("sectors", LIST, "sectors hit (empty: all)"),
        Key("commodities", LIST, "commodities hit (empty: all, within sectors)"),
        Key("origin", STR, "only goods from this country (`US`, `CA`, `OS`; not the market's own)"),
        Key("demand_factor", NUM, "demand multiplier", default=1.0, low=0.0, high=2.0,
            text="a factor in 0..2"),
    )  # fmt: skip

    @classmethod
    def rules(cls, kw: dict[str, Any], add: Report) -> None:
        origin = kw.get("origin")
        ok = COUNTRIES + ("OS",)
        if origin and origin not in ok:
            add("origin", f"must be {' or '.join(ok)} (or omitted)", origin)

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            fx.scale_demand(m)


class LaneOpen(MeasureKind):
    name = "lane_open"
    summary = ("a lane's capacity rises from its base flow to `capacity` over ramp_days; an "
               "overseas market it feeds buys up to that much more")  # fmt: skip
    keys = (
        Key("lanes", LIST, "lanes", required=True),
        Key("capacity", NUM, "target units per day", required=True, low=0.0, low_open=True,
            high=1e12, text="a capacity per day in 0 < c <= 1e12"),
        Key("ramp_days", NUM, "days from base flow to target", low=0.0, high=36500.0,
            text="days in 0..36,500"),
    )  # fmt: skip

    @classmethod
    def change_days(cls, m: Measure) -> set[int]:
        days = super().change_days(m)
        if m.ramp_days > 0:
            days.update(range(m.start, m.start + int(math.ceil(m.ramp_days)) + 1))
        return days

    @classmethod
    def apply(cls, m: Measure, fx: Factors, t: int) -> None:
        if m.active(t):
            frac = 1.0 if m.ramp_days <= 0 else min(1.0, (t - m.start + 1) / m.ramp_days)
            for lane in m.lanes:
                fx.open_lane(lane, m.capacity or 0.0, frac)


KINDS: dict[str, type[MeasureKind]] = {
    k.name: k
    for k in (Tariff, ExportLevy, Slowdown, Closure, Outage, PortStrike, PlantShutdown,
              DemandShock, LaneOpen)
}  # fmt: skip
"""Every measure kind by name, in the order the README lists them."""


def _all_keys() -> tuple[Key, ...]:
    seen: dict[str, Key] = {}
    for kind in KINDS.values():
        for k in kind.keys:
            seen.setdefault(k.name, k)
    return tuple(seen.values())


ALL_KEYS: tuple[Key, ...] = _all_keys()
"""One declaration of every kind-specific key name (the first kind's), for data of unknown kind."""
ALL_KEY_NAMES: frozenset[str] = frozenset(k.name for k in ALL_KEYS)
KEY_TYPES: dict[str, str] = {k.name: k.type for k in COMMON + ALL_KEYS + (DROP,)}
"""TOML type of every measure key, for the reader."""
MEASURE_KINDS: tuple[str, ...] = tuple(KINDS)
KIND_KEYS: dict[str, tuple[str, ...]] = {n: tuple(k.name for k in c.keys) for n, c in KINDS.items()}
"""Which keys each kind takes besides id, kind, start, end (and drop)."""


def kind_of(m: Measure) -> type[MeasureKind]:
    """The kind class of a measure."""
    return KINDS[m.kind]


def key_table() -> str:
    """The README's table of measure keys (Markdown), generated from the declarations."""
    rows = ["| kind | key | type, range, default | meaning |", "|---|---|---|---|"]
    rows += [f"| (every kind) | `{k.name}` | {k.describe()} | {k.doc} |" for k in COMMON]
    rows.append(f"| (extends) | `{DROP.name}` | {DROP.describe()} | {DROP.doc} |")
    for kind in KINDS.values():
        rows.append(f"| **`{kind.name}`** | | | {kind.summary} |")
        rows += [f"| | `{k.name}` | {k.describe()} | {k.doc} |" for k in kind.keys]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(key_table(), end="")
