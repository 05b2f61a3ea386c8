"""Validating merged scenario data and building the frozen :class:`~sim.scenario.Scenario`.

:func:`check` takes the :class:`~sim.io.scenario_toml.Doc` that :mod:`sim.io.scenario_toml` read
(files merged, overrides applied) and checks everything at once: the top-level keys, ``[costs]``
and ``[market]``, and each measure's keys, TOML types, ranges, kind-specific rules and dates
(the rules against the network are in :mod:`sim.spec.refs`), plus the rules across measures
(unique ids, one kind and imposer per ``stack_group``, unique precedences). Every problem is
collected, naming the file that set the key and whether an override did; if there is any, one
:class:`~sim.errors.ScenarioError` lists them all.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import math
import re
from pathlib import Path
from typing import Any

from sim.errors import NetworkError, Problem, ScenarioError
from sim.io.network import cached_network
from sim.io.paths import OUTSIDE, inside, network_path
from sim.io.scenario_toml import (
    COST_KEYS,
    MARKET_KEYS,
    TOP_SCALARS,
    Doc,
    Entry,
    apply_overrides,
)
from sim.spec.measures import (
    ALL_KEY_NAMES,
    ALL_KEYS,
    BOOL,
    COMMON,
    DATE,
    DROP,
    INT,
    KINDS,
    LIST,
    NUM,
    STR,
    Key,
    MeasureKind,
    Report,
)
from sim.spec.network import SECTORS, Network
from sim.spec.params import key_problem
from sim.spec.refs import check_refs, hint
from sim.spec.scenario import (
    DIRECTIONS,
    PARTIES,
    SECTOR_TABLES,
    Costs,
    FrozenMap,
    Market,
    Measure,
    Scenario,
)
from sim.spec.uncertain import DIST_KEYS, DISTRIBUTIONS, Uncertain


def _range(lo: float, hi: float) -> str:
    if hi == 0.0 and lo == -math.inf:
        return "<= 0"
    return f"in {lo:g}..{hi:g}" if math.isfinite(hi) else f">= {lo:g}"


_TOP_KEYS = TOP_SCALARS + ("extends", "costs", "market", "measures", "uncertain")
CALENDAR = (dt.date(1900, 1, 1), dt.date(2199, 12, 31))  # first and last day the model supports
MAX_HORIZON_DAYS = 36500
# ranges of the [costs] and [market] numbers: key -> (low, high), both inclusive
TOP_RANGES: dict[str, tuple[float, float]] = {
    "costs.holding_rate_per_year": (0.0, 10.0),
    "costs.truck_hour_usd": (0.0, 1e6),
    "costs.backlog_penalty_per_day": (0.0, 1.0),
    "costs.lost_margin_share": (0.0, 1.0),
    "market.switch_logit": (0.0, 1000.0),
    "market.qualification_days": (0.0, 36500.0),
    "market.switch_ramp_days": (0.0, 36500.0),
    "market.prestock_max_days": (0.0, 3650.0),
    "market.elasticity": (-10.0, 0.0),
    "market.duty_absorption": (0.0, 1.0),
    "market.route_logit": (0.0, 1000.0),
    "market.route_inertia_days": (0.0, 36500.0),
    "market.route_forgo_hours": (0.0, 8760.0),
    "market.bkg_patience_days": (0.0, 36500.0),
}
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


def check(doc: Doc) -> Scenario:
    """Validate the merged data; return the Scenario or raise ScenarioError listing every problem."""
    return _Checker(doc).run()


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_date(v: object) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


class _Checker:
    """Validate merged data and build the Scenario; every problem is collected."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = list(doc.problems)

    # -- reporting ------------------------------------------------------------------------------

    def top(self, key: str, rule: str, value: object = None) -> None:
        where = f"key '{key}'" + (" (override)" if key in self.doc.over else "")
        file = self.doc.src.get(key) or self.doc.src.get(key.split(".")[0]) or self.doc.file
        self.problems.append(Problem(file, where, rule, value))

    def top_u(self, key: str, rule: str, value: object = None) -> None:
        """A problem of the [uncertain] entry ``uncertain.<parameter key>[.<field>]``, named in the
        file that set that entry."""
        entry = next(
            (
                f"uncertain.{k}"
                for k in self.doc.data.get("uncertain", {})
                if key.startswith(f"uncertain.{k}")
            ),
            "uncertain",
        )
        file = self.doc.src.get(entry) or self.doc.src.get("uncertain") or self.doc.file
        self.problems.append(Problem(file, f"key '{key}'", rule, value))

    def mes(self, i: int, e: Entry, key: str, rule: str, value: object = None) -> None:
        mid = e.data.get("id")
        label = f"measures[{i}] ({mid})" if isinstance(mid, str) and mid else f"measures[{i}]"
        base = key.split("[")[0]
        where = f"key '{label}.{key}'" + (" (override)" if base in e.over else "")
        file = e.src.get(base) or e.src.get("id") or self.doc.file
        self.problems.append(Problem(file, where, rule, value))

    # -- top level ------------------------------------------------------------------------------

    def run(self) -> Scenario:
        d = self.doc.data
        if not d and not self.doc.measures and not self.doc.problems:
            self.problems.append(
                Problem(self.doc.file, "", "empty scenario: no name and no measures")
            )
        for key in d:
            if key not in _TOP_KEYS:
                self.top(key, "unknown key" + hint(key, _TOP_KEYS), key)
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
        if start is not None and not CALENDAR[0] <= start <= CALENDAR[1]:
            self.top("start", f"must be a date in {CALENDAR[0]}..{CALENDAR[1]}", start)
            start = None
        horizon = d.get("horizon_days", 730)
        top = MAX_HORIZON_DAYS
        if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= top:
            self.top("horizon_days", f"must be an integer in 1..{top}", horizon)
            horizon = None
        elif start is not None and (CALENDAR[1] - start).days < horizon:
            last = CALENDAR[1]
            self.top("horizon_days", f"must end by {last} (start {start} + horizon)", horizon)
            horizon = None
        warmup = d.get("warmup_days", 0)
        if (
            not isinstance(warmup, int)
            or isinstance(warmup, bool)
            or not 0 <= warmup < (horizon or 36501)
        ):
            self.top("warmup_days", "must be an integer in 0..horizon_days - 1", warmup)
            warmup = 0
        costs = self.costs(d.get("costs", {}))
        market = self.market(d.get("market", {}))
        sc = Scenario(
            name=str(name),
            description=description,
            network=network or "north_america",
            start=start or dt.date(2025, 1, 1),
            horizon_days=horizon or 730,
            warmup_days=warmup,
            path=self.doc.file,
        )
        net = self.network(sc) if network else None
        measures = self.measures(sc, start is not None and horizon is not None, net)
        sc = dataclasses.replace(
            sc,
            costs=costs,
            market=market,
            measures=tuple(measures),
            sources=tuple(self.doc.files),
        )
        uncertain = self.uncertain(d.get("uncertain", {}), sc)
        if self.problems:
            raise ScenarioError(self.problems)
        return dataclasses.replace(sc, uncertain=uncertain)

    def costs(self, table: object) -> Costs:
        return Costs(**self.params("costs", "cost", COST_KEYS, table))

    def market(self, table: object) -> Market:
        return Market(**self.params("market", "market", MARKET_KEYS, table))

    def params(
        self, section: str, what: str, known: tuple[str, ...], table: object
    ) -> dict[str, Any]:
        """The checked keyword arguments of the ``[costs]`` or ``[market]`` table."""
        if not isinstance(table, dict):
            self.top(section, "must be a table", table)
            return {}
        kw: dict[str, Any] = {}
        for k, v in table.items():
            key = f"{section}.{k}"
            if k not in known:
                self.top(key, f"unknown {what} parameter" + hint(k, known), k)
            elif k == "pass_through":
                self.pass_through(key, v, kw)
            elif k in SECTOR_TABLES:
                lo, hi = TOP_RANGES[key]
                if isinstance(v, dict):
                    el = self.share_table(key, v, SECTORS, "sector", lo, hi)
                    if el is not None:
                        kw[k] = FrozenMap({**SECTOR_TABLES[k], **el})
                elif k == "elasticity" or not _is_number(v) or not math.isfinite(v):
                    self.top(key, "must be a " + ("" if k == "elasticity" else "number or a ")
                             + "table sector -> number", v)  # fmt: skip
                elif not lo <= v <= hi:
                    self.top(key, f"must be {_range(lo, hi)}", v)
                else:
                    kw[k] = float(v)
            elif not _is_number(v) or not math.isfinite(v):
                self.top(key, "must be a number", v)
            elif not TOP_RANGES[key][0] <= v <= TOP_RANGES[key][1]:
                self.top(key, "must be in {:g}..{:g}".format(*TOP_RANGES[key]), v)
            else:
                kw[k] = float(v)
        return kw

    def pass_through(self, key: str, v: object, kw: dict[str, Any]) -> None:
        """The top-level party table and the per-sector / per-direction tables in it."""
        if not isinstance(v, dict):
            self.top(key, "must be a table party -> number (or sector -> table)", v)
            return
        by: list[tuple[str, str, FrozenMap]] = []
        ok = True
        top = {p: x for p, x in v.items() if not (p in SECTORS and isinstance(x, dict))}
        if top:
            shares = self.parties(key, top)
            ok = shares is not None
            if shares is not None:
                kw["pass_through"] = shares
        for sec, sub in v.items():
            if sec not in SECTORS or not isinstance(sub, dict):
                continue
            skey = f"{key}.{sec}"
            flat = {p: x for p, x in sub.items() if not isinstance(x, dict)}
            if flat:
                shares = self.parties(skey, flat)
                ok = ok and shares is not None
                if shares is not None:
                    by.append((sec, "", shares))
            for d, tab in sub.items():
                if not isinstance(tab, dict):
                    continue
                if d not in DIRECTIONS:
                    self.top(f"{skey}.{d}", "unknown direction" + hint(d, DIRECTIONS), d)
                    ok = False
                    continue
                shares = self.parties(f"{skey}.{d}", tab)
                ok = ok and shares is not None
                if shares is not None:
                    by.append((sec, d, shares))
        if ok and by:
            kw["pass_through_by"] = tuple(by)

    def parties(self, key: str, v: dict[str, Any]) -> FrozenMap | None:
        """A party -> share table that sums to 1 (parties not listed bear 0)."""
        shares = self.share_table(key, v, PARTIES, "party", 0.0, 1.0)
        if shares is None:
            return None
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            self.top(key, "shares must sum to 1", round(total, 9))
            return None
        return FrozenMap({p: shares.get(p, 0.0) for p in PARTIES})

    def uncertain(self, table: object, sc: Scenario) -> tuple[Uncertain, ...]:
        """The [uncertain] table: each key a settable parameter, each value a distribution whose
        every possible value passes the same checks as an override."""
        if not isinstance(table, dict):
            self.top("uncertain", "must be a table key -> {dist = ...}", table)
            return ()
        out: list[Uncertain] = []
        clean = not self.problems  # the values' checks re-run the checker: only on a clean file
        for k, v in table.items():
            key = f"uncertain.{k}"
            if not isinstance(v, dict):
                self.top_u(key, 'must be a table like {dist = "uniform", low = 0, high = 1}', v)
                continue
            why = key_problem(k, sc)
            if why is not None:
                self.top_u(key, why, k)
                continue
            u = self.distribution(key, v)
            if u is None:
                continue
            lo, hi = u.support
            for label, x in (
                (("low", lo), ("high", hi))
                if u.dist != "choice"
                else ((f"values[{i}]", x) for i, x in enumerate(u.values))
            ):
                for p in _override_problems(self.doc, k, x) if clean else ():
                    self.top_u(f"{key}.{label}", f"value not allowed for {k}: {p.rule}", x)
            out.append(dataclasses.replace(u, key=k))
        return tuple(out)

    def distribution(self, key: str, v: dict[str, Any]) -> Uncertain | None:
        dist = v.get("dist")
        if dist not in DISTRIBUTIONS:
            self.top_u(f"{key}.dist", "must be one of " + ", ".join(DISTRIBUTIONS), dist)
            return None
        need = DIST_KEYS[dist]
        bad = False
        for extra in sorted(set(v) - set(need) - {"dist"}):
            self.top_u(
                f"{key}.{extra}", f"not used by dist {dist!r} (it uses: {', '.join(need)})", extra
            )
            bad = True
        for req in need:
            if req not in v:
                self.top_u(f"{key}.{req}", f"required for dist {dist!r}")
                bad = True
        if bad:
            return None
        if dist == "choice":
            vals = v["values"]
            if (
                not isinstance(vals, list)
                or not vals
                or not all(_is_number(x) and math.isfinite(x) for x in vals)
            ):
                self.top_u(f"{key}.values", "must be a non-empty array of numbers", vals)
                return None
            return Uncertain(key, dist, values=tuple(float(x) for x in vals))
        nums: dict[str, float] = {}
        for req in need:
            x = v[req]
            if not _is_number(x) or not math.isfinite(x):
                self.top_u(f"{key}.{req}", "must be a number", x)
                bad = True
            else:
                nums[req] = float(x)
        if bad:
            return None
        lo, hi = nums["low"], nums["high"]
        if not lo < hi:
            self.top_u(f"{key}.high", f"must be greater than low ({lo})", hi)
            return None
        if dist == "triangular" and not lo <= nums["mode"] <= hi:
            self.top_u(f"{key}.mode", f"must lie in low..high ({lo}..{hi})", nums["mode"])
            return None
        if dist == "normal" and nums["sd"] <= 0:
            self.top_u(f"{key}.sd", "must be > 0", nums["sd"])
            return None
        return Uncertain(key, dist, **nums)  # type: ignore[arg-type]

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
                self.top(f"{key}.{name}", f"unknown {what}" + hint(name, names), name)
                ok = False
            elif not _is_number(x) or not math.isfinite(x):
                self.top(f"{key}.{name}", "must be a number", x)
                ok = False
            elif not lo <= x <= hi:
                if what == "party":
                    rule = "must be in 0..1"
                elif key.endswith("elasticity"):
                    rule = f"elasticity must be in {lo:g}..0"
                else:
                    rule = f"must be {_range(lo, hi)}"
                self.top(f"{key}.{name}", rule, x)
                ok = False
            else:
                out[name] = float(x)
        return out if ok else None

    def network(self, sc: Scenario) -> Network | None:
        path = network_path(sc)
        if not self.doc.anywhere and not inside(path, self.doc.roots):
            self.top("network", OUTSIDE.format(path=path.resolve()), sc.network)
            return None
        try:
            return cached_network(path)
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
        self, i: int, e: Entry, sc: Scenario, dates_ok: bool, net: Network | None
    ) -> Measure | None:
        n0 = len(self.problems)
        d = e.data
        add = functools.partial(self.mes, i, e)
        kind = self.kind(d, add)
        k_name = kind.name if kind is not None else ""
        keys = {k.name: k for k in COMMON + (kind.keys if kind else ALL_KEYS)}
        for k in COMMON:
            if k.required and k.name != "kind" and k.name not in d:
                add(k.name, "required")
        for k in kind.keys if kind is not None else ():
            if k.required and k.name not in d:
                add(k.name, f"required for kind {k_name!r}", None)
        kw = self.keys(i, e, d, kind, keys, sc)
        if "id" in kw and not _ID.match(kw["id"]):
            add("id", "must be letters, digits, '_' or '-' (no dots or spaces)", kw["id"])
        for name, v in kw.items():
            rule = keys[name].problem(v)
            if rule is not None:
                add(name, rule, d[name])
        if kind:
            kind.rules(kw, add)
        if dates_ok:
            self.dates(i, e, kw, sc)
        if net is not None and kind:
            check_refs(add, kind, kw, net)
        if len(self.problems) > n0 or not kind or not {"id", "start"} <= set(kw):
            return None
        return Measure(**{**kind.defaults(), **kw})

    def kind(self, d: dict[str, Any], add: Report) -> type[MeasureKind] | None:
        """The measure's kind class, or None (reported) if missing or unknown."""
        name = d.get("kind")
        if "kind" not in d:
            add("kind", f"required (one of: {', '.join(KINDS)})", None)
        elif not isinstance(name, str) or name not in KINDS:
            add("kind", "unknown kind" + hint(name, KINDS), name)
        else:
            return KINDS[name]
        return None

    def keys(
        self,
        i: int,
        e: Entry,
        d: dict[str, Any],
        kind: type[MeasureKind] | None,
        keys: dict[str, Key],
        sc: Scenario,
    ) -> dict[str, Any]:
        """Each key's TOML type, converted (dates to day numbers); unknown and unused keys reported."""
        kw: dict[str, Any] = {}
        for k, v in d.items():
            key = keys.get(k)
            if key is not None:
                conv = self.typed(i, e, k, key.type, v, sc)
                if conv is not None:
                    kw[k] = conv
            elif k == DROP.name:
                self.mes(i, e, k, "must be true or false", v)
            elif kind is not None and k in ALL_KEY_NAMES:
                uses = ", ".join(x.name for x in kind.keys)
                self.mes(i, e, k, f"not used by kind {kind.name!r} (it uses: {uses})", v)
            else:
                self.mes(i, e, k, "unknown key" + hint(k, sorted([*keys, DROP.name])), k)
        return kw

    def typed(self, i: int, e: Entry, k: str, t: str, v: object, sc: Scenario) -> Any:
        """Check a value's TOML type; return it converted (dates -> day numbers) or None."""
        if t == STR:
            if isinstance(v, str):
                return v
            self.mes(i, e, k, "must be a string", v)
        elif t == NUM:
            if _is_number(v) and math.isfinite(v):  # type: ignore[arg-type]
                return float(v)  # type: ignore[arg-type]
            self.mes(i, e, k, "must be a number" if not _is_number(v) else "must be finite", v)
        elif t == INT:
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            self.mes(i, e, k, "must be an integer", v)
        elif t == BOOL:
            if isinstance(v, bool):
                return v
            self.mes(i, e, k, "must be true or false", v)
        elif t == DATE:
            if _is_date(v):
                return sc.day(v)  # type: ignore[arg-type]
            shown = v.isoformat() if isinstance(v, dt.date | dt.time) else v
            self.mes(i, e, k, "must be a date like 2025-03-04 (no quotes, no time)", shown)
        elif t == LIST:
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                dup = sorted({x for x in v if v.count(x) > 1})
                if dup:
                    self.mes(i, e, k, "lists an id twice", ", ".join(dup))
                    return None
                return tuple(v)
            self.mes(i, e, k, "must be an array of strings", v)
        return None

    def dates(self, i: int, e: Entry, kw: dict[str, Any], sc: Scenario) -> None:
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


def _override_problems(doc: Doc, key: str, value: float) -> list[Problem]:
    """Problems the scenario would have with ``key`` set to ``value`` (as by an override)."""
    keyed = ("costs", "market")  # the tables an override changes in place
    trial = dataclasses.replace(
        doc,
        data={
            k: copy.deepcopy(v) if k in keyed else v
            for k, v in doc.data.items()
            if k != "uncertain"
        },
        src=dict(doc.src),
        over=set(doc.over),
        measures=[Entry(dict(e.data), dict(e.src), set(e.over)) for e in doc.measures],
        files=list(doc.files),
        problems=[],
    )
    apply_overrides(trial, {key: value})
    try:
        _Checker(trial).run()
    except ScenarioError as exc:
        return list(exc.problems)
    return list(trial.problems)
