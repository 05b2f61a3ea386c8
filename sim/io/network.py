"""Reading and validating a network folder of CSV tables (format in ``networks/README.md``).

:func:`load_network` parses each file against its column specs, checking the header
and every cell, then, when every file could be read, applies the rules across files (ids,
references, what each site takes and ships, reachability). Every problem is collected, sorted by
file then row; if there is any, one :class:`~sim.errors.NetworkError` lists them all.
"""

from __future__ import annotations

import csv
import difflib
import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sim.errors import NetworkError, Problem
from sim.spec.network import (
    COUNTRIES,
    CROSSING_KINDS,
    DISTS,
    MODES,
    POLICIES,
    SECTORS,
    SITE_KINDS,
    UNMET,
    Alternative,
    BomLine,
    Commodity,
    Crossing,
    Demand,
    Lane,
    Network,
    Site,
    StockLevel,
)

_MODE_CROSSING = {
    "truck": "road", "rail": "rail", "pipeline": "pipeline", "wire": "wire", "ship": "sea",
}  # fmt: skip
_REQUIRED: Any = object()  # marker: a blank cell is a problem


class _Bad(ValueError):
    """A cell that breaks its column's rule."""

    def __init__(self, rule: str, value: object) -> None:
        super().__init__(rule)
        self.rule, self.value = rule, value


_Parse = Callable[[str], Any]


def _text(s: str) -> str:
    return s


class _Range:
    """A finite number in a documented range: ``lo`` (exclusive if ``strict``) to ``hi``.

    ``doc`` is the range as the column tables of ``networks/README.md`` show it (a test keeps them
    in step).
    """

    def __init__(self, lo: float, hi: float, strict: bool = False, whole: bool = False) -> None:
        self.lo, self.hi, self.strict, self.whole = lo, hi, strict, whole
        kind = "whole number" if whole else "number"
        self.doc = f"{kind} {'>' if strict else '>='} {lo:g} and <= {hi:g}"

    def __call__(self, s: str) -> float:
        try:
            x = float(s)
        except ValueError:
            raise _Bad(f"must be a {self.doc}", s) from None
        if not math.isfinite(x):
            raise _Bad(f"must be a {self.doc}, not nan or inf", s)
        if x < self.lo or (self.strict and x == self.lo) or x > self.hi:
            raise _Bad(f"must be a {self.doc}", x)
        if self.whole:
            if x != int(x):
                raise _Bad(f"must be a {self.doc}", s)
            return int(x)
        return x


def _num(lo: float, hi: float, strict: bool = False) -> _Range:
    """A finite float >= lo (> lo if strict) and <= hi."""
    return _Range(lo, hi, strict)


def _enum(*choices: str) -> _Parse:
    def parse(s: str) -> str:
        if s not in choices:
            raise _Bad(f"must be one of {', '.join(choices)}", s)
        return s

    return parse


def _flag(s: str) -> bool:
    if s not in ("0", "1"):
        raise _Bad("must be 0 or 1", s)
    return s == "1"


@dataclass(frozen=True, slots=True)
class _Col:
    """One CSV column: name, parser, target field (None: informational), value when blank."""

    name: str
    parse: _Parse = _text
    field: str | None = ""  # "" = same as name
    blank: Any = _REQUIRED
    optional: bool = False  # the column itself may be absent


def _cols(*cols: _Col) -> tuple[_Col, ...]:
    return cols


_NAME = _Col("name", blank="", optional=True)
_BASIS = _Col("basis", field=None, blank="", optional=True)
# ranges: physical limits with ample room (the default network's largest values are ~1e5)
_BIG = 1e12  # flows, capacities and demand per day
_USD = 1e9  # money per unit or per hour
_DAYS = 3650.0  # stock cover and policy levels, days
_CV = 10.0  # coefficients of variation
_LAT, _LON = _Col("lat", _num(-90, 90)), _Col("lon", _num(-180, 180))

_SPECS: dict[str, tuple[type, tuple[_Col, ...]]] = {
    "commodities.csv": (Commodity, _cols(
        _Col("id"), _NAME, _Col("sector", _enum(*SECTORS)), _Col("unit"),
        _Col("value_usd", _num(0, _USD, strict=True)), _Col("storable", _flag),
        _Col("shelf_life_days", _num(0, 36500, strict=True), blank=None),
        _Col("units_per_truck", _num(0, 1e6, strict=True), blank=None),
        _Col("units_per_railcar", _num(0, 1e6, strict=True), blank=None),
        _Col("holding_usd_per_day", _num(0, _USD), blank=0.0, optional=True),
        _Col("death_rate_per_day", _num(0, 1), blank=0.0, optional=True), _BASIS,
    )),
    "sites.csv": (Site, _cols(
        _Col("id"), _Col("kind", _enum(*SITE_KINDS)), _Col("country", _enum(*COUNTRIES)),
        _Col("sector", _enum(*SECTORS)), _NAME, _LAT, _LON,
        _Col("region", blank="", optional=True),
        _Col("commodity", blank=None), _Col("capacity", _num(0, _BIG), blank=None),
        _Col("cover_days", _num(0, _DAYS)), _Col("policy", _enum(*POLICIES), blank="base_stock"),
        _Col("s_days", _num(0, _DAYS), blank=None), _Col("S_days", _num(0, _DAYS), blank=None),
        _Col("downtime_usd_per_hour", _num(0, _USD), blank=0.0), _BASIS,
    )),
    "crossings.csv": (Crossing, _cols(
        _Col("id"), _Col("kind", _enum(*CROSSING_KINDS)), _NAME, _LAT, _LON,
        *(_Col(c, _num(0, _BIG), blank=None)
          for c in ("capacity_sb", "capacity_nb", "obs_sb", "obs_nb")),
        _Col("booths", _Range(1, 1000, whole=True), blank=None),
        _Col("wait_median_min", _num(0, 10080, strict=True), blank=None),
        _Col("wait_p95_min", _num(0, 10080, strict=True), blank=None),
        *(_Col(c, _num(0, _BIG), blank=None, optional=True) for c in ("trade_sb_usd", "trade_nb_usd")),
        _BASIS,
    )),
    "lanes.csv": (Lane, _cols(
        _Col("id"), _Col("from", field="origin"), _Col("to", field="dest"), _Col("commodity"),
        _Col("mode", _enum(*MODES)), _Col("crossing", blank=None),
        _Col("transit_days", _num(0, 365, strict=True)), _Col("transit_cv", _num(0, _CV)),
        _Col("capacity", _num(0, _BIG), blank=None), _Col("base_flow", _num(0, _BIG)),
        _Col("cost_per_unit_usd", _num(0, _USD)), _BASIS,
    )),
    "boms.csv": (BomLine, _cols(
        _Col("plant"), _Col("input"), _Col("qty_per_unit", _num(0, 1e6, strict=True)), _BASIS,
    )),
    "demand.csv": (Demand, _cols(
        _Col("site"), _Col("commodity"), _Col("mean_per_day", _num(0, _BIG)),
        _Col("cv", _num(0, _CV)), _Col("unmet", _enum(*UNMET)),
        _Col("dist", _enum(*DISTS), blank="normal", optional=True), _BASIS,
    )),
    "stock.csv": (StockLevel, _cols(
        _Col("site"), _Col("commodity"), _Col("S", _num(0, _BIG, strict=True)),
        _Col("s", _num(0, _BIG), blank=None), _BASIS,
    )),
    "corridors.csv": (Alternative, _cols(
        _Col("crossing"), _Col("alternative"), _Col("detour_hours", _num(0, 1000)),
        _Col("toll_usd", _num(-10_000, 10_000), blank=0.0), _BASIS,
    )),
}  # fmt: skip
_FILES = tuple(_SPECS)
_MAY_BE_EMPTY = ("boms.csv", "stock.csv", "corridors.csv")
_OPTIONAL_FILES = ("stock.csv", "corridors.csv")  # absent: none given


class _Report:
    """Collects problems; sorted by file then row when done."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._items: list[tuple[int, int, int, Problem]] = []

    def add(self, fname: str, row: int, col: str, rule: str, value: object = None) -> None:
        parts = (f"row {row}" if row else "", f"column '{col}'" if col else "")
        where = ", ".join(x for x in parts if x)
        key = _FILES.index(fname) if fname in _FILES else -1
        label = f"{self.folder}/{fname}" if fname else self.folder
        self._items.append((key, row, len(self._items), Problem(label, where, rule, value)))

    def problems(self) -> list[Problem]:
        return [p for *_, p in sorted(self._items, key=lambda t: t[:3])]


_Rows = list[tuple[int, Any]]  # (spreadsheet row, spec object)
_Add = Callable[..., None]  # rep.add with file and row bound: (column, rule, value=None)


def _csv_rows(folder: Path, fname: str, rep: _Report) -> list[list[str]] | None:
    """The rows of one CSV file; None (reported) when it cannot be read."""
    try:
        with open(folder / fname, encoding="utf-8-sig", newline="") as f:
            return _strict_rows(f, fname, rep)
    except FileNotFoundError:
        if fname in _OPTIONAL_FILES:  # absent: a header and no rows
            return [[c.name for c in _SPECS[fname][1] if not c.optional]]
        rep.add(fname, 0, "", "required file is missing")
    except UnicodeDecodeError as exc:
        rep.add(fname, 0, "", "file must be UTF-8 text (save the sheet as CSV UTF-8)", str(exc))
    except (OSError, csv.Error) as exc:
        rep.add(fname, 0, "", "file cannot be read", f"{type(exc).__name__}: {exc}")
    return None


def _strict_rows(f: Any, fname: str, rep: _Report) -> list[list[str]] | None:
    """All records of an open CSV file, strictly parsed; None (and a problem) when malformed."""
    reader = csv.reader(f, strict=True)
    rows: list[list[str]] = []
    while True:
        first = reader.line_num + 1  # the line the next record starts on
        try:
            rows.append(next(reader))
        except StopIteration:
            return rows
        except csv.Error as exc:
            rule = f"malformed CSV from line {first}: {exc}"
            if "end of data" in str(exc):
                rule += " (a quote opened here is never closed)"
            rep.add(fname, len(rows) + 1, "", rule)
            return None


def _check_header(fname: str, header: list[str], cols: tuple[_Col, ...], rep: _Report) -> bool:
    """Report repeated, unknown and missing columns; False when the file is unusable."""
    known = {c.name for c in cols}
    ok = True
    for i, h in enumerate(header):
        if h in header[:i]:
            rep.add(fname, 0, h, "column appears twice in the header")
            ok = False
        elif h not in known and h:
            hint = difflib.get_close_matches(h, sorted(known), n=1)
            rule = "unknown column" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            rep.add(fname, 0, h, rule)  # reported, but the file stays usable
    for c in cols:
        if c.name not in header and not c.optional:
            rep.add(fname, 0, c.name, "required column is missing")
            ok = False
    return ok


def _parse_row(
    cls: type, cols: tuple[_Col, ...], index: dict[str, int], cells: list[str], add: _Add
) -> dict[str, Any]:
    """The spec fields of one data row, reporting each bad cell (kept as a placeholder)."""
    kw: dict[str, Any] = {}
    for c in cols:
        j = index.get(c.name)
        s = cells[j] if j is not None and j < len(cells) else ""
        try:
            if not s:
                if c.blank is _REQUIRED and j is not None:
                    raise _Bad("must not be blank", None)
                value = None if c.blank is _REQUIRED else c.blank
            else:
                value = c.parse(s)
        except _Bad as bad:
            add(c.name, f"{c.name} {bad.rule}", bad.value)
            # placeholder: the row stays so references to it resolve; NaN fails every comparison
            value = math.nan if c.field is not None and _is_number(cls, c.field or c.name) else None
        if c.field is not None:
            kw[c.field or c.name] = value
    return kw


def _read(folder: Path, fname: str, rep: _Report) -> _Rows | None:
    """Parse one CSV file into spec objects; None when the file or its columns are unusable."""
    cls, cols = _SPECS[fname]
    rows = _csv_rows(folder, fname, rep)
    if rows is None:
        return None
    header = [h.strip() for h in rows[0]] if rows else []
    if not any(header):
        rep.add(fname, 0, "", "file is empty (it needs a header row)")
        return None
    ok = _check_header(fname, header, cols, rep)
    index = {h: i for i, h in reversed(list(enumerate(header)))}
    out: _Rows = []
    for n, raw in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in raw]
        if not any(cells):
            continue  # blank spreadsheet line
        if len(cells) != len(rows[0]):  # never read a ragged row as fewer or shifted cells
            rep.add(
                fname,
                n,
                "",
                f"row has {len(cells)} cells but the header has {len(rows[0])} "
                "(a stray comma, a missing cell or an unclosed quote?)",
            )
        out.append((n, cls(**_parse_row(cls, cols, index, cells, partial(rep.add, fname, n)))))
    if not out and fname not in _MAY_BE_EMPTY:
        rep.add(fname, 0, "", "file has no data rows (it needs at least one)")
        ok = False
    return out if ok else None


def _is_number(cls: type, name: str) -> bool:
    """Whether a spec field holds a number (annotations are strings under postponed evaluation)."""
    return any(t in str(cls.__annotations__.get(name, "")) for t in ("float", "int"))


class _Checker:
    """Cross-file rules: ids, references, what each site takes and ships, reachability."""

    def __init__(self, t: dict[str, _Rows], rep: _Report) -> None:
        self.t, self.rep = t, rep
        self.com: dict[str, Commodity] = {c.id: c for _, c in t["commodities.csv"]}
        self.site: dict[str, Site] = {s.id: s for _, s in t["sites.csv"]}
        self.xing: dict[str, Crossing] = {c.id: c for _, c in t["crossings.csv"]}
        self.lanes: list[Lane] = [ln for _, ln in t["lanes.csv"]]
        self.bom = {(b.plant, b.input) for _, b in t["boms.csv"]}
        self.wanted = {(d.site, d.commodity) for _, d in t["demand.csv"]}
        self.into = {(ln.dest, ln.commodity) for ln in self.lanes}
        self.out_of = {(ln.origin, ln.commodity) for ln in self.lanes}
        self.in_a_lane = {ln.origin for ln in self.lanes} | {ln.dest for ln in self.lanes}
        self.lanes_of: dict[str, list[Lane]] = {}  # commodity -> its lanes, in file order
        for ln in self.lanes:
            self.lanes_of.setdefault(ln.commodity, []).append(ln)
        self.makers_of: dict[str, list[str]] = {}  # commodity -> sources and plants making it
        for s in self.site.values():
            if s.kind in ("source", "plant") and s.commodity is not None:
                self.makers_of.setdefault(s.commodity, []).append(s.id)
        self.reach: dict[str, set[str]] = {}

    def run(self) -> None:
        ids: dict[Any, str] = {}  # sites and crossings share one namespace
        for f, key, col, seen in (
            ("commodities.csv", lambda c: c.id, "id", {}),
            ("sites.csv", lambda s: s.id, "id", ids),
            ("crossings.csv", lambda c: c.id, "id", ids),
            ("lanes.csv", lambda ln: ln.id, "id", {}),
            ("boms.csv", lambda b: (b.plant, b.input), "input", {}),
            ("demand.csv", lambda d: (d.site, d.commodity), "commodity", {}),
            ("corridors.csv", lambda a: (a.crossing, a.alternative), "alternative", {}),
            ("stock.csv", lambda x: (x.site, x.commodity), "commodity", {}),
        ):
            self.duplicates(f, key, col, seen)
        for f, check in (
            ("commodities.csv", self.check_commodity),
            ("sites.csv", self.check_site),
            ("crossings.csv", self.check_crossing),
            ("lanes.csv", self.check_lane),
            ("boms.csv", self.check_bom),
            ("demand.csv", self.check_demand),
            ("corridors.csv", self.check_alternative),
            ("stock.csv", self.check_stock),
        ):
            for n, obj in self.t[f]:
                check(partial(self.rep.add, f, n), obj)

    def duplicates(self, f: str, key: Callable[[Any], Any], col: str, seen: dict[Any, str]) -> None:
        for n, obj in self.t[f]:
            k = key(obj)
            if k in seen:
                shown = ", ".join(k) if isinstance(k, tuple) else k
                self.rep.add(f, n, col, f"duplicate {col} (first at {seen[k]})", shown)
            else:
                seen[k] = f"{f} row {n}"

    def site_of(self, add: _Add, col: str, sid: str | None, kind: str = "") -> Site | None:
        """The site named in ``col`` (of ``kind`` if given), reporting an unknown or wrong one."""
        s = self.site.get(sid) if sid is not None else None
        if sid is not None and s is None:
            add(col, "must be a site, not a crossing" if sid in self.xing else "unknown site", sid)
        elif s is not None and kind and s.kind != kind:
            add(col, f"must be a {kind}, not a {s.kind}", sid)
        return s

    def crossing_of(self, add: _Add, col: str, xid: str | None) -> Crossing | None:
        """The crossing named in ``col``, reporting an unknown one or a site."""
        x = self.xing.get(xid) if xid is not None else None
        if xid is not None and x is None:
            rule = "must be a crossing, not a site" if xid in self.site else "unknown crossing"
            add(col, rule, xid)
        return x

    def commodity_of(self, add: _Add, col: str, c: str | None) -> Commodity | None:
        if c is not None and c not in self.com:
            add(col, "unknown commodity", c)
        return self.com.get(c) if c is not None else None

    def check_commodity(self, add: _Add, c: Commodity) -> None:
        if c.live and c.shelf_life_days is not None:
            add("shelf_life_days", "live animals do not spoil: leave shelf_life_days blank when "
                "holding_usd_per_day or death_rate_per_day is set", c.shelf_life_days)  # fmt: skip
        if c.death_rate_per_day >= 1:
            add("death_rate_per_day", "death_rate_per_day must be < 1", c.death_rate_per_day)

    def check_stock(self, add: _Add, x: StockLevel) -> None:
        self.site_of(add, "site", x.site)
        c = self.commodity_of(add, "commodity", x.commodity)
        if x.site in self.site and c is not None and (x.site, c.id) not in self.into:
            add("commodity", f"no lane brings this commodity to '{x.site}' (nothing to order)", c.id)
        if x.s is not None and x.s >= x.S:
            add("s", f"s must be < S ({x.S:g})", x.s)

    def check_site(self, add: _Add, s: Site) -> None:
        self.commodity_of(add, "commodity", s.commodity)
        if s.kind in ("source", "plant") and s.commodity is None:
            add("commodity", f"a {s.kind} must name the commodity it makes")
        elif s.kind in ("storage", "port", "market") and s.commodity is not None:
            add("commodity", f"commodity must be blank for a {s.kind}", s.commodity)
        sS = {"s_days": s.s_days, "S_days": s.S_days}
        for col, v in sS.items():
            if s.policy == "sS" and v is None:
                add(col, f"policy sS needs {col}")
            elif s.policy == "base_stock" and v is not None:
                add(col, f"{col} is only used with policy sS", v)
        if s.s_days is not None and s.S_days is not None and s.s_days > s.S_days:
            add("s_days", f"s_days must be <= S_days ({s.S_days:g})", s.s_days)
        if s.capacity != 0 and s.id not in self.in_a_lane:
            add("", "site is in no lane (only an idle site, capacity 0, may be)", s.id)

    def check_crossing(self, add: _Add, x: Crossing) -> None:
        med, p95 = x.wait_median_min, x.wait_p95_min
        if (med is None) != (p95 is None):
            col = "wait_p95_min" if p95 is None else "wait_median_min"
            add(col, "wait_median_min and wait_p95_min must be given together")
        elif med is not None and p95 is not None and p95 <= med:
            add("wait_p95_min", f"wait_p95_min must be > wait_median_min ({med:g})", p95)

    def check_lane(self, add: _Add, ln: Lane) -> None:
        a, b = self.site_of(add, "from", ln.origin), self.site_of(add, "to", ln.dest)
        if ln.origin is not None and ln.origin == ln.dest:
            add("to", "a lane must join two different sites", ln.dest)
        c = self.commodity_of(add, "commodity", ln.commodity)
        x = self.lane_modes(add, ln, c)
        if ln.capacity is not None and ln.base_flow is not None and ln.base_flow > ln.capacity:
            add("base_flow", f"base_flow must be <= capacity ({ln.capacity:g})", ln.base_flow)
        if a is not None and b is not None and {a.country, b.country} <= set(COUNTRIES):
            self.lane_border(add, ln, a, b, x)
        if c is None:
            return
        if a is not None:
            self.lane_origin(add, a, c)
        if b is not None:
            self.lane_dest(add, b, c)

    def lane_modes(self, add: _Add, ln: Lane, c: Commodity | None) -> Crossing | None:
        """Report a mode the commodity or the crossing cannot take; return the lane's crossing."""
        for mode, per in (("truck", "units_per_truck"), ("rail", "units_per_railcar")):
            if c is not None and ln.mode == mode and getattr(c, per) is None:
                add("mode", f"commodity '{c.id}' has no {per}, so it cannot go by {mode}", mode)
        x = self.crossing_of(add, "crossing", ln.crossing)
        need = _MODE_CROSSING.get(ln.mode)
        if x is not None and need is not None and x.kind in CROSSING_KINDS and x.kind != need:
            add(
                "mode",
                f"a {ln.mode} lane must pass a {need} crossing, not the {x.kind} crossing {x.id!r}",
                ln.mode,
            )
        return x

    def lane_border(self, add: _Add, ln: Lane, a: Site, b: Site, x: Crossing | None) -> None:
        """A lane crosses the border exactly when it joins CA and US, through an open crossing."""
        pair = {a.country, b.country}
        if ln.crossing is not None and pair != {"CA", "US"}:
            rule = "a lane through a crossing must join a CA site and a US site"
            add("crossing", rule, f"{a.country}->{b.country}")
        elif ln.crossing is None and pair == {"CA", "US"}:
            add("crossing", "lane between CA and US must name a crossing")
        elif x is not None and x.kind in ("road", "rail") and pair == {"CA", "US"}:
            direc = "sb" if a.country == "CA" else "nb"
            if x.capacity(direc) == 0:
                rule = (
                    f"crossing {x.id!r} has capacity 0 {'southbound' if direc == 'sb' else 'northbound'}, so no lane can use it "
                    "(model a closed crossing with a closure measure)"
                )
                add("crossing", rule, x.id)

    def lane_origin(self, add: _Add, a: Site, c: Commodity) -> None:
        """The origin must have what it ships."""
        if a.kind in ("source", "plant") and a.commodity not in (None, c.id):
            add("from", f"{a.kind} '{a.id}' makes '{a.commodity}', not this commodity", c.id)
        elif a.kind == "market":
            add("from", f"a market ships nothing ('{a.id}' is final demand)", a.id)
        elif a.kind in ("storage", "port") and (a.id, c.id) not in self.into:
            add("from", f"{a.kind} '{a.id}' has no inbound lane of this commodity", c.id)

    def lane_dest(self, add: _Add, b: Site, c: Commodity) -> None:
        """The destination must take what it gets."""
        if b.kind == "source":
            add("to", f"a source takes nothing ('{b.id}' is a source)", c.id)
        elif b.kind == "plant" and (b.id, c.id) not in self.bom:
            add("to", f"plant '{b.id}' has no BOM line for this commodity", c.id)
        elif b.kind == "market" and (b.id, c.id) not in self.wanted:
            add("to", f"market '{b.id}' has no demand row for this commodity", c.id)
        elif b.kind in ("storage", "port") and (b.id, c.id) not in self.out_of:
            add("to", f"{b.kind} '{b.id}' has no outbound lane of this commodity", c.id)

    def check_bom(self, add: _Add, bl: BomLine) -> None:
        p = self.site_of(add, "plant", bl.plant, "plant")
        c = self.commodity_of(add, "input", bl.input)
        if p is not None and p.kind == "plant" and c is not None and (p.id, c.id) not in self.into:
            add("input", f"no lane brings this input to '{p.id}' (no supplier)", c.id)

    def check_demand(self, add: _Add, d: Demand) -> None:
        m = self.site_of(add, "site", d.site, "market")
        c = self.commodity_of(add, "commodity", d.commodity)
        if m is not None and c is not None and m.id not in self.reachable(c.id):
            add("commodity", f"no source or plant of this commodity reaches '{m.id}'", c.id)
        if d.dist == "poisson" and d.cv > 0:
            add("cv", "cv must be 0 with dist poisson (its variance is its mean)", d.cv)

    def check_alternative(self, add: _Add, a: Alternative) -> None:
        x = self.crossing_of(add, "crossing", a.crossing)
        y = self.crossing_of(add, "alternative", a.alternative)
        if a.crossing is not None and a.crossing == a.alternative:
            add("alternative", "a crossing cannot be its own alternative", a.alternative)
            return
        if x is not None and x.kind not in ("road", "rail"):
            add("crossing", "only road and rail crossings have alternatives", f"{x.id} ({x.kind})")
        elif x is not None and y is not None and y.kind != x.kind:
            rule = f"must be a {x.kind} crossing like '{x.id}', not a {y.kind} one"
            add("alternative", rule, y.id)

    def reachable(self, commodity: str) -> set[str]:
        """Sites reachable from a producer of ``commodity`` by lanes of that commodity."""
        if commodity not in self.reach:
            import networkx as nx  # only when a network is checked: `import sim` stays fast

            g: nx.DiGraph = nx.DiGraph()
            g.add_edges_from(
                (ln.origin, ln.dest)
                for ln in self.lanes_of.get(commodity, ())
                if ln.origin and ln.dest  # blank ends are reported already
            )
            makers = [s for s in self.makers_of.get(commodity, ()) if s in g]
            self.reach[commodity] = set(makers).union(*(nx.descendants(g, s) for s in makers))
        return self.reach[commodity]


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read and validate a network folder (format in ``networks/README.md``).

    Parameters
    ----------
    path
        A folder holding ``commodities.csv``, ``sites.csv``, ``crossings.csv``, ``lanes.csv``,
        ``boms.csv`` and ``demand.csv``, and optionally ``corridors.csv`` (absent: no
        alternative crossings).

    Returns
    -------
    Network
        The frozen network, specs in file row order.

    Raises
    ------
    NetworkError
        Listing every problem found, each naming the file, row and column, the rule and the value.
    """
    folder = Path(path)
    name = Path(os.path.abspath(folder)).name
    rep = _Report(name)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise NetworkError([Problem(str(path), "", f"network folder {what}")])
    tables = {f: _read(folder, f, rep) for f in _FILES}
    full = {f: rows for f, rows in tables.items() if rows is not None}
    if len(full) == len(tables):  # cross-file rules only when every file could be read
        _Checker(full, rep).run()
    problems = rep.problems()
    if problems:
        raise NetworkError(problems)

    def objs(f: str) -> list[Any]:
        return [o for _, o in full[f]]

    return Network.build(
        name=name,
        commodities=objs("commodities.csv"),
        sites=objs("sites.csv"),
        lanes=objs("lanes.csv"),
        crossings=objs("crossings.csv"),
        boms=objs("boms.csv"),
        demand=objs("demand.csv"),
        path=str(path),
        alternatives=objs("corridors.csv"),
        stock=objs("stock.csv"),
    )


def _mtime(path: Path) -> float:
    try:
        return max((os.stat(path / f).st_mtime for f in os.listdir(path)), default=0.0)
    except OSError:
        return 0.0


@functools.lru_cache(maxsize=8)
def _cached_network(path: str, mtime: float) -> Network:
    return load_network(path)


def cached_network(path: str | os.PathLike[str]) -> Network:
    """Load a network folder, cached per process until one of its files changes."""
    return _cached_network(str(path), _mtime(Path(path)))
