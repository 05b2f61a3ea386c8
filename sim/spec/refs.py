"""Checking a scenario's measures against its network.

The checker in :mod:`sim.io.scenario_check` validates each measure's own fields; the rules here
need the network the scenario runs on: the sectors, commodities, crossings, sites and lanes a
measure names must exist and be of a kind the measure can act on (a closure needs a road or rail
crossing, a port strike a port, ...), ``lane_open`` must raise a lane above its base flow, and a
tariff or levy on commodities that never cross that way is reported as never applying. Problems
go to a reporting callback with the measure already bound (see :data:`Report`), so this module
needs neither the checker nor the scenario specs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sim.spec.measures import COUNTRIES, DutyKind, MeasureKind, Report
from sim.spec.network import SECTORS, Network


def hint(name: object, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ' (known: a, b, ...)'."""
    known = list(known)
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def suggest(name: object, known: Iterable[str], listing: str) -> str:
    """' (did you mean 'a', 'b'?)' for near misses among many ids, else where to list them all."""
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.6)
    if close:
        return f" (did you mean {', '.join(repr(c) for c in close)}?)"
    return f" (list them: borderflow network {listing})"


def _an(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _check_kinds(
    add: Report,
    kind: str,
    key: str,
    kw: dict[str, Any],
    known: Mapping[str, Any],
    want: tuple[str, ...],
    network: str,
    say: Callable[[str], str],
    then: Callable[[str, Any], None] | None = None,
) -> None:
    """Each id listed under ``key`` ("crossings" or "sites") must exist and be of a kind in
    ``want``; ``then(id, item)`` runs further checks on the ones that are."""
    noun = key[:-1]
    for j, x in enumerate(kw.get(key, ())):
        item = known.get(x)
        if item is None:
            add(f"{key}[{j}]", f"unknown {noun} in network {network}"
                + suggest(x, known, f"{network} {key}"), x)  # fmt: skip
        elif item.kind not in want:
            add(
                f"{key}[{j}]",
                f"{_an(kind)} needs a {' or '.join(want)} {noun}; {x} is {say(item.kind)}",
                x,
            )
        elif then is not None:
            then(x, item)


def check_refs(add: Report, kind_cls: type[MeasureKind], kw: dict[str, Any], net: Network) -> None:
    """Check the ids a measure names (``kw``: its converted keys) against the network; the kinds
    of crossing and site it may name are the kind's own declarations."""
    kind = kind_cls.name
    for j, s in enumerate(kw.get("sectors", ())):
        if s not in SECTORS:
            add(f"sectors[{j}]", "unknown sector" + hint(s, SECTORS), s)
    sectors = set(kw.get("sectors", ()))
    for j, c in enumerate(kw.get("commodities", ())):
        com = net.commodity.get(c)
        if com is None:
            rule = f"unknown commodity in network {net.name}"
            add(f"commodities[{j}]", rule + suggest(c, net.commodity, f"{net.name} commodities"), c)
        elif sectors and com.sector not in sectors:
            add(
                f"commodities[{j}]",
                f"commodity of sector {com.sector!r}, not in the listed sectors: never matched",
                c,
            )
    crossing_kinds = kind_cls.crossing_kinds
    _check_kinds(add, kind, "crossings", kw, net.crossing, crossing_kinds, net.name, str)
    site_kinds = kind_cls.site_kinds

    def own_market(s: str, site: Any) -> None:
        if kind == "demand_shock" and kw.get("origin") == site.country:
            add("origin", f"is the country of market {s} itself", site.country)

    _check_kinds(add, kind, "sites", kw, net.site, site_kinds, net.name, _an, own_market)
    for j, lid in enumerate(kw.get("lanes", ())):
        ln = net.lane.get(lid)
        if ln is None:
            rule = f"unknown lane in network {net.name}" + suggest(lid, net.lane, f"{net.name} lanes")
            add(f"lanes[{j}]", rule, lid)
        elif kind == "lane_open" and ln.base_flow > 0:
            cap = kw.get("capacity")
            if isinstance(cap, int | float) and cap <= ln.base_flow:
                rule = (
                    f"{lid} already carries {ln.base_flow:g}/day: lane_open raises a lane, "
                    "so capacity must exceed its base flow"
                )
                add(f"lanes[{j}]", rule, lid)
    origin = kw.get("origin") or ""
    if (
        issubclass(kind_cls, DutyKind)
        and kw.get("imposer") in COUNTRIES
        and (not origin or origin in COUNTRIES and origin != kw["imposer"])
    ):
        _check_flows(add, kind_cls, kw, net)


def _check_flows(add: Report, kind: type[DutyKind], kw: dict[str, Any], net: Network) -> None:
    """A tariff or levy whose goods never cross that way in the network is a mistake."""
    imp, origin = kw["imposer"], kw.get("origin") or ""
    coms = kw.get("commodities") or ()
    if not coms:
        return
    moving: set[str] = set()
    for ln in net.lanes:
        if ln.crossing is None:  # duty and levies are charged at border crossings only
            continue
        a, b = net.site[ln.origin].country, net.site[ln.dest].country
        if a != b and kind.charged(imp, origin, a, b):
            moving.add(ln.commodity)
    way = (
        f"into {imp}" + (f" from {origin}" if origin else "")
        if kind.by_destination
        else f"out of {imp}"
    )
    for j, c in enumerate(coms):
        if c in net.commodity and c not in moving:
            add(f"commodities[{j}]", f"no lane carries {c} {way}: never applies", c)
