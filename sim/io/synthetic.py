"""Synthetic network folders of any size, for scaling benchmarks and tests.

:func:`write_synthetic_network` writes a normal network folder (format in ``networks/README.md``)
that :func:`~sim.io.network.load_network` accepts. The network is a set of independent supply
chains, each of one sector:

* **auto**: a tree of plants ``bom_depth`` levels deep; every plant assembles 2 or 3 inputs of the
  level below (a bill of materials), the bottom level is bought from sources; the final plant ships
  through a storage site to a market.
* **farm**: two sources of one perishable good ship to a storage site that feeds two markets.
* **energy**: two crude sources ship by pipeline to a tank farm with an (s, S) policy; a refinery
  makes fuel from crude and natural gas and ships it to a market.

Each site gets a country, CA or US: the first site of a chain draws one, and every site upstream of
a lane keeps its customer's country except with probability ``cross_border_share``, when the lane
crosses the border. A cross-border lane passes a crossing of its mode's kind (road for truck, rail
for rail, pipeline for pipeline), drawn from a pool that grows with the network; a crossing's
capacity and observed traffic are set from the modelled traffic through it, so queues stay stable.
Flows are consistent: every lane's ``base_flow`` is what its customer needs, sources and plants have
25-30 % spare capacity and markets' mean demand equals the flow into them.

The commodity list is fixed by ``bom_depth`` (not by the size), so per-commodity work stays
constant as the network grows. A chain that no longer fits is replaced by two-site chains (a source
shipping to a market), and a last odd site by an idle plant (capacity 0, no lanes), so the folder
has exactly ``n_sites`` sites. The same arguments always write the same bytes.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_SECTORS = ("auto", "farm", "energy")
_TIER_WIDTH = 6  # commodities per intermediate BOM level
_CROSS_KIND = {"truck": "road", "rail": "rail", "pipeline": "pipeline"}


@dataclass
class _Net:
    """Rows of the six tables, filled chain by chain."""

    rng: np.random.Generator
    share: float
    commodities: dict[str, dict[str, object]] = field(default_factory=dict)
    sites: list[dict[str, object]] = field(default_factory=list)
    lanes: list[dict[str, object]] = field(default_factory=list)
    boms: list[tuple[str, str, float]] = field(default_factory=list)
    demand: list[tuple[str, str, float, float, str]] = field(default_factory=list)

    def site(self, kind: str, country: str, sector: str, commodity: str = "", **kw: object) -> str:
        sid = f"{kind[0]}{len(self.sites):06d}"
        lat = self.rng.uniform(43.0, 55.0) if country == "CA" else self.rng.uniform(30.0, 48.0)
        self.sites.append({
            "id": sid, "kind": kind, "country": country, "sector": sector,
            "lat": round(float(lat), 3), "lon": round(float(self.rng.uniform(-124.0, -68.0)), 3),
            "commodity": commodity, "cover_days": 2, **kw,
        })  # fmt: skip
        return sid

    def upstream_country(self, country: str) -> str:
        """The country of a supplier of a site in ``country``: the same unless the lane crosses."""
        if self.rng.random() < self.share:
            return "US" if country == "CA" else "CA"
        return country

    def lane(self, origin: str, dest: str, commodity: str, mode: str, flow: float) -> None:
        transit = 1 + int(self.rng.integers(0, 4)) if mode != "pipeline" else 3
        self.lanes.append({
            "id": f"l{len(self.lanes):06d}", "from": origin, "to": dest,
            "commodity": commodity, "mode": mode, "transit_days": transit,
            "transit_cv": 0.1 if mode == "pipeline" else 0.25, "base_flow": flow,
            "cost_per_unit_usd": round(float(self.rng.uniform(5, 50)), 2),
        })  # fmt: skip


def _commodities(bom_depth: int) -> dict[str, dict[str, object]]:
    """The fixed commodity list: auto tiers 0..bom_depth, one perishable farm good, crude, gas, fuel."""
    out: dict[str, dict[str, object]] = {}
    for tier in range(bom_depth + 1):
        width = 1 if tier == bom_depth else _TIER_WIDTH
        for j in range(width):
            cid = "auto_final" if tier == bom_depth else f"auto_t{tier}_{j}"
            out[cid] = {
                "id": cid, "sector": "auto", "unit": "load", "value_usd": 1000 * 2**tier,
                "storable": 1, "units_per_truck": 1, "units_per_railcar": 2,
            }  # fmt: skip
    out["farm_fresh"] = {"id": "farm_fresh", "sector": "farm", "unit": "t", "value_usd": 2000,
                         "storable": 1, "shelf_life_days": 20, "units_per_truck": 20,
                         "units_per_railcar": 80}  # fmt: skip
    out["crude"] = {"id": "crude", "sector": "energy", "unit": "kbbl", "value_usd": 70000,
                    "storable": 1}  # fmt: skip
    out["gas"] = {"id": "gas", "sector": "energy", "unit": "MMcf", "value_usd": 3000,
                  "storable": 1}  # fmt: skip
    out["fuel"] = {"id": "fuel", "sector": "energy", "unit": "kbbl", "value_usd": 90000,
                   "storable": 1, "units_per_truck": 0.2, "units_per_railcar": 0.7}  # fmt: skip
    return out


def _auto_size(fan: list[int], depth: int) -> int:
    """Sites of an auto chain: plants and sources of the BOM tree, one storage, one market."""
    level, total = 1, 0
    for d in range(depth):
        total += level
        level *= fan[d]
    return total + level + 2


def _auto(net: _Net, fan: list[int], depth: int) -> None:
    demand = float(net.rng.integers(20, 200))
    country = str(net.rng.choice(["CA", "US"]))
    market = net.site("market", country, "auto")
    net.demand.append((market, "auto_final", demand, 0.1, "backorder"))
    store_country = net.upstream_country(country)
    store = net.site("storage", store_country, "auto")
    net.lane(store, market, "auto_final", "truck", demand)

    def plant(tier: int, cid: str, flow: float, customer: str, c_country: str) -> None:
        here = net.upstream_country(c_country)
        if tier == 0:
            sid = net.site("source", here, "auto", cid, capacity=round(1.3 * flow, 4))
        else:
            sid = net.site("plant", here, "auto", cid, capacity=round(1.25 * flow, 4),
                           downtime_usd_per_hour=1000)  # fmt: skip
        mode = "rail" if net.rng.random() < 0.2 else "truck"
        net.lane(sid, customer, cid, mode, round(flow, 4))
        if tier == 0:
            return
        picks = net.rng.choice(_TIER_WIDTH, size=fan[depth - tier], replace=False)
        for j in sorted(int(p) for p in picks):
            child = f"auto_t{tier - 1}_{j}"
            net.boms.append((sid, child, 1.0))
            plant(tier - 1, child, flow, sid, here)

    plant(depth, "auto_final", demand, store, store_country)


def _farm(net: _Net) -> None:
    country = str(net.rng.choice(["CA", "US"]))
    markets = [net.site("market", net.upstream_country(country), "farm") for _ in range(2)]
    flows = [float(net.rng.integers(100, 1000)) for _ in markets]
    store = net.site("storage", country, "farm")
    for m, f in zip(markets, flows, strict=True):
        net.demand.append((m, "farm_fresh", f, 0.15, "lost"))
        net.lane(store, m, "farm_fresh", "truck", f)
    half = sum(flows) / 2
    for _ in range(2):
        src = net.site("source", net.upstream_country(country), "farm", "farm_fresh",
                       capacity=round(1.3 * half, 4))  # fmt: skip
        net.lane(src, store, "farm_fresh", "rail" if net.rng.random() < 0.3 else "truck", half)


def _energy(net: _Net) -> None:
    fuel = float(net.rng.integers(5, 50))
    country = str(net.rng.choice(["CA", "US"]))
    market = net.site("market", country, "energy")
    net.demand.append((market, "fuel", fuel, 0.05, "backorder"))
    here = net.upstream_country(country)
    refinery = net.site("plant", here, "energy", "fuel", capacity=round(1.25 * fuel, 4),
                        downtime_usd_per_hour=5000)  # fmt: skip
    net.lane(refinery, market, "fuel", "truck", fuel)
    net.boms.append((refinery, "crude", 1.0))
    net.boms.append((refinery, "gas", 5.0))
    tank = net.site("storage", net.upstream_country(here), "energy", policy="sS", s_days=2,
                    S_days=6)  # fmt: skip
    net.lane(tank, refinery, "crude", "pipeline", fuel)
    tank_country = str(net.sites[-1]["country"])
    for _ in range(2):
        src = net.site("source", net.upstream_country(tank_country), "energy",
                       "crude", capacity=round(0.65 * fuel, 4))  # fmt: skip
        net.lane(src, tank, "crude", "pipeline", fuel / 2)
    gas = net.site("source", net.upstream_country(here), "energy", "gas",
                   capacity=round(1.3 * 5 * fuel, 4))  # fmt: skip
    net.lane(gas, refinery, "gas", "pipeline", 5 * fuel)


def _pair(net: _Net) -> None:
    """The smallest chain: a farm source shipping to a market (fills the last few sites)."""
    country = str(net.rng.choice(["CA", "US"]))
    flow = float(net.rng.integers(50, 500))
    market = net.site("market", country, "farm")
    src = net.site("source", net.upstream_country(country), "farm", "farm_fresh",
                   capacity=round(1.3 * flow, 4))  # fmt: skip
    net.demand.append((market, "farm_fresh", flow, 0.15, "lost"))
    net.lane(src, market, "farm_fresh", "truck", flow)


def _crossings(net: _Net, n_sites: int) -> list[dict[str, object]]:
    """Crossing pools sized to the network; each cross-border lane takes one of its kind."""
    pools = {
        "road": max(2, n_sites // 150),
        "rail": max(1, n_sites // 600),
        "pipeline": max(1, n_sites // 1500),
    }
    crossings = {
        kind: [{"id": f"x_{kind}_{i:04d}", "kind": kind, "sb": 0.0, "nb": 0.0} for i in range(n)]
        for kind, n in pools.items()
    }
    country = {str(s["id"]): str(s["country"]) for s in net.sites}
    for ln in net.lanes:
        a, b = country[str(ln["from"])], country[str(ln["to"])]
        if a == b:
            ln["crossing"] = ""
            continue
        pool = crossings[_CROSS_KIND[str(ln["mode"])]]
        x = pool[int(net.rng.integers(0, len(pool)))]
        ln["crossing"] = x["id"]
        com = net.commodities[str(ln["commodity"])]
        per = {"truck": com.get("units_per_truck"), "rail": com.get("units_per_railcar")}.get(
            str(ln["mode"])
        )
        vehicles = float(ln["base_flow"]) / float(per) if per else float(ln["base_flow"])  # type: ignore[arg-type]
        x["sb" if a == "CA" else "nb"] += vehicles  # type: ignore[operator]
    rows = []
    for kind, pool in crossings.items():
        for x in pool:
            row: dict[str, object] = {"id": x["id"], "kind": kind,
                                      "lat": round(float(net.rng.uniform(42.0, 49.0)), 3),
                                      "lon": round(float(net.rng.uniform(-123.0, -67.0)), 3)}  # fmt: skip
            for d in ("sb", "nb"):
                load = float(x[d])  # type: ignore[arg-type]
                if kind == "pipeline":
                    row[f"capacity_{d}"] = round(1.5 * load + 10, 2)
                else:
                    obs = math.ceil(1.5 * load) + 20
                    row[f"obs_{d}"] = obs
                    row[f"capacity_{d}"] = 2 * obs
            if kind != "pipeline":
                busiest = max(float(x["sb"]), float(x["nb"]))  # type: ignore[arg-type]
                row["booths"] = max(1, math.ceil(busiest / 250))
                row["wait_median_min"], row["wait_p95_min"] = 10, 35
            rows.append(row)
    return rows


def _write(path: Path, header: list[str], rows: list[Mapping[str, object]]) -> None:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.10g}"
        return str(v)

    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([cell(r.get(h, "")) for h in header])


def write_synthetic_network(
    folder: str | os.PathLike[str],
    n_sites: int,
    *,
    seed: int = 0,
    sector_mix: Mapping[str, float] | None = None,
    bom_depth: int = 2,
    cross_border_share: float = 0.3,
) -> Path:
    """Write a synthetic network folder of exactly ``n_sites`` sites.

    Parameters
    ----------
    folder
        Folder to write (created if missing; the six CSV files in it are overwritten).
    n_sites
        Number of sites (>= 2).
    seed
        Seed of the generator: the same arguments always write the same bytes.
    sector_mix
        Weights of the chain kinds ``auto``, ``farm`` and ``energy`` (default 0.5, 0.3, 0.2).
    bom_depth
        Levels of plants in an auto chain (>= 1): 1 = an assembly plant buying 2-3 parts from
        sources; 2 = those parts made in turn by plants from 2-3 sourced inputs; ...
    cross_border_share
        Probability that a lane crosses the Canada-US border (0..1); about this share of lanes do.

    Returns
    -------
    Path
        The folder.
    """
    if n_sites < 2:
        raise ValueError(f"n_sites must be >= 2 (got {n_sites})")
    if bom_depth < 1:
        raise ValueError(f"bom_depth must be >= 1 (got {bom_depth})")
    if not 0.0 <= cross_border_share <= 1.0:
        raise ValueError(f"cross_border_share must be in [0, 1] (got {cross_border_share})")
    mix = dict(sector_mix) if sector_mix is not None else {"auto": 0.5, "farm": 0.3, "energy": 0.2}
    bad = sorted(set(mix) - set(_SECTORS))
    if bad or not mix or any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise ValueError(
            f"sector_mix must map some of {', '.join(_SECTORS)} to weights >= 0 summing to > 0 "
            f"(got {mix})"
        )
    kinds = [k for k in _SECTORS if mix.get(k, 0) > 0]
    weights = np.array([mix[k] for k in kinds], dtype=float)
    rng = np.random.default_rng(seed)
    net = _Net(rng, cross_border_share, _commodities(bom_depth))
    sizes = {"farm": 5, "energy": 6}
    while True:
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        fan = [int(f) for f in rng.integers(2, 4, size=bom_depth)]
        size = _auto_size(fan, bom_depth) if kind == "auto" else sizes[kind]
        if len(net.sites) + size > n_sites:
            break
        if kind == "auto":
            _auto(net, fan, bom_depth)
        elif kind == "farm":
            _farm(net)
        else:
            _energy(net)
    while n_sites - len(net.sites) >= 2:
        _pair(net)
    if len(net.sites) < n_sites:
        net.site("plant", "US", "auto", "auto_final", capacity=0)
    crossings = _crossings(net, n_sites)

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    basis = "synthetic"
    _write(
        out / "commodities.csv",
        ["id", "name", "sector", "unit", "value_usd", "storable", "shelf_life_days",
         "units_per_truck", "units_per_railcar", "basis"],
        [{**c, "name": c["id"], "basis": basis} for c in net.commodities.values()],
    )  # fmt: skip
    _write(
        out / "sites.csv",
        ["id", "kind", "country", "sector", "name", "lat", "lon", "commodity", "capacity",
         "cover_days", "policy", "s_days", "S_days", "downtime_usd_per_hour", "basis"],
        [{**s, "name": s["id"], "basis": basis} for s in net.sites],
    )  # fmt: skip
    _write(
        out / "crossings.csv",
        ["id", "kind", "name", "lat", "lon", "capacity_sb", "capacity_nb", "obs_sb", "obs_nb",
         "booths", "wait_median_min", "wait_p95_min", "basis"],
        [{**x, "name": x["id"], "basis": basis} for x in crossings],
    )  # fmt: skip
    _write(
        out / "lanes.csv",
        ["id", "from", "to", "commodity", "mode", "crossing", "transit_days", "transit_cv",
         "capacity", "base_flow", "cost_per_unit_usd", "basis"],
        [{**ln, "basis": basis} for ln in net.lanes],
    )  # fmt: skip
    _write(
        out / "boms.csv",
        ["plant", "input", "qty_per_unit", "basis"],
        [{"plant": p, "input": i, "qty_per_unit": q, "basis": basis} for p, i, q in net.boms],
    )
    _write(
        out / "demand.csv",
        ["site", "commodity", "mean_per_day", "cv", "unmet", "basis"],
        [
            {"site": s, "commodity": c, "mean_per_day": m, "cv": cv, "unmet": u, "basis": basis}
            for s, c, m, cv, u in net.demand
        ],
    )
    return out
