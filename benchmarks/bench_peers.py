"""Borderflow against SupplyNetPy and a plain SimPy model on SupplyNetPy's reference network.

The system: one supplier with unlimited stock ships to two distribution centres (3 days), each of
which serves half of N retailers (2 days). Every retailer sees a daily demand of 10 units (normal,
coefficient of variation 0.3; SupplyNetPy's orders are whole units >= 1), sells what it has and loses
the rest, and replenishes from its centre with an (s, S) policy (s = 3, S = 7 days of demand on the
inventory position); the centres do the same from the supplier (s = 4, S = 10 days). Each site
starts with S units on hand. 365 days.

The three implementations of it, each building its model in memory and running it once per repeat:

* Borderflow: a network folder written by this benchmark (retailers are markets with (s, S) policy,
  centres are storage sites), loaded once (its time is shown apart), then ``sim.simulate``.
  Borderflow counts ``s_days`` and ``S_days`` on top of the lead time and one day of review (reorder
  point = daily rate x (lead + 1 + s_days)), and opens with ``cover_days + 1`` days on hand, so the
  folder holds s - lead - 1, S - lead - 1 and S - 1 days to give the same levels in units;
* SupplyNetPy (``pip install supplynetpy``, the optional ``bench`` dependency group): ``create_sc_net``
  and ``simulate_sc_net`` with logging off; skipped with a message when it is not installed;
* a hand-written plain SimPy model: one process per retailer, deliveries as ``Timeout`` callbacks.

Prints the median wall and CPU time of each, the ratios (SupplyNetPy / Borderflow and plain SimPy /
Borderflow: above 1 means Borderflow is faster; CPU ratios are steadier on a shared machine) and the
fill rates (units served from stock / units demanded) side by side. The models differ in detail (when
in the day orders are placed, how a short centre splits stock), so fill rates agree only roughly.

    python benchmarks/bench_peers.py [--sizes 10,100,1000] [--days 365] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from sim import load_network, load_scenario, simulate

MEAN, CV = 10.0, 0.3
DC_LEAD, RET_LEAD = 3, 2
RET_S, RET_BIG_S = 3.0, 7.0  # (s, S) in days of demand, on the inventory position
DC_S, DC_BIG_S = 4.0, 10.0


def write_network(folder: Path, n: int) -> Path:
    """The reference network as a Borderflow network folder; returns the scenario file."""
    folder.mkdir(parents=True, exist_ok=True)

    def table(name: str, header: str, rows: list[dict[str, object]]) -> None:
        cols = header.split(",")
        with open(folder / name, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            w.writerows([[r.get(c, "") for c in cols] for r in rows])

    table(
        "commodities.csv",
        "id,name,sector,unit,value_usd,storable,shelf_life_days,units_per_truck,units_per_railcar",
        [{"id": "goods", "sector": "multi", "unit": "unit", "value_usd": 10, "storable": 1,
          "units_per_truck": 10}],
    )  # fmt: skip
    site = {"country": "US", "sector": "multi", "lat": 40.0, "lon": -80.0, "cover_days": 0}
    sites = [{**site, "id": "supplier", "kind": "source", "commodity": "goods"}]
    lanes: list[dict[str, object]] = []
    demand: list[dict[str, object]] = []
    lane = {"commodity": "goods", "mode": "truck", "transit_cv": 0, "cost_per_unit_usd": 1}
    for d in range(2):
        flow = sum(1 for i in range(n) if i % 2 == d) * MEAN
        sites.append({**site, "id": f"dc{d}", "kind": "storage", "policy": "sS",
                      "s_days": DC_S - DC_LEAD - 1, "S_days": DC_BIG_S - DC_LEAD - 1,
                      "cover_days": DC_BIG_S - 1})  # fmt: skip
        lanes.append({**lane, "id": f"s_dc{d}", "from": "supplier", "to": f"dc{d}",
                      "transit_days": DC_LEAD, "base_flow": flow})  # fmt: skip
    for i in range(n):
        sites.append({**site, "id": f"r{i}", "kind": "market", "policy": "sS",
                      "s_days": RET_S - RET_LEAD - 1, "S_days": RET_BIG_S - RET_LEAD - 1,
                      "cover_days": RET_BIG_S - 1})  # fmt: skip
        lanes.append({**lane, "id": f"dc_r{i}", "from": f"dc{i % 2}", "to": f"r{i}",
                      "transit_days": RET_LEAD, "base_flow": MEAN})  # fmt: skip
        demand.append({"site": f"r{i}", "commodity": "goods", "mean_per_day": MEAN, "cv": CV,
                       "unmet": "lost"})  # fmt: skip
    table(
        "sites.csv",
        "id,kind,country,sector,lat,lon,commodity,capacity,cover_days,policy,s_days,S_days,"
        "downtime_usd_per_hour",
        sites,
    )
    table(
        "lanes.csv",
        "id,from,to,commodity,mode,crossing,transit_days,transit_cv,capacity,base_flow,"
        "cost_per_unit_usd",
        lanes,
    )
    # no lane crosses the border, but the file needs one row
    table(
        "crossings.csv",
        "id,kind,lat,lon,capacity_sb,capacity_nb,obs_sb,obs_nb,booths,wait_median_min,wait_p95_min",
        [{"id": "unused", "kind": "pipeline", "lat": 45, "lon": -80, "capacity_sb": 1,
          "capacity_nb": 1}],
    )  # fmt: skip
    table("boms.csv", "plant,input,qty_per_unit", [])
    table("demand.csv", "site,commodity,mean_per_day,cv,unmet", demand)
    sc = folder / "scenario.toml"
    sc.write_text(f'name = "peers"\nnetwork = "{folder}"\nhorizon_days = 365\n')
    return sc


def run_borderflow(sc: Any, net: Any, days: int, seed: int) -> float:
    res = simulate(sc, seed=seed, days=days, network=net)
    return float(res.kpis["fill_rate"])


def run_supplynetpy(scm: Any, n: int, days: int, seed: int) -> float:
    rng = np.random.default_rng(seed)

    def qty() -> int:
        return max(1, round(rng.normal(MEAN, CV * MEAN)))

    nodes: list[dict[str, Any]] = [{"ID": "S", "name": "S", "node_type": "infinite_supplier"}]
    links: list[dict[str, Any]] = []
    demands: list[dict[str, Any]] = []
    for d in range(2):
        flow = sum(1 for i in range(n) if i % 2 == d) * MEAN
        nodes.append({
            "ID": f"D{d}", "name": f"D{d}", "node_type": "distributor", "capacity": 1e12,
            "initial_level": flow * DC_BIG_S, "inventory_holding_cost": 0.1,
            "replenishment_policy": scm.SSReplenishment,
            "policy_param": {"s": flow * DC_S, "S": flow * DC_BIG_S},
            "product_buy_price": 10, "product_sell_price": 12,
        })  # fmt: skip
        links.append({"ID": f"LS{d}", "source": "S", "sink": f"D{d}", "cost": 1,
                      "lead_time": lambda: DC_LEAD})  # fmt: skip
    for i in range(n):
        nodes.append({
            "ID": f"R{i}", "name": f"R{i}", "node_type": "retailer", "capacity": 1e12,
            "initial_level": MEAN * RET_BIG_S, "inventory_holding_cost": 0.1,
            "replenishment_policy": scm.SSReplenishment,
            "policy_param": {"s": MEAN * RET_S, "S": MEAN * RET_BIG_S},
            "product_buy_price": 12, "product_sell_price": 15,
        })  # fmt: skip
        links.append({"ID": f"L{i}", "source": f"D{i % 2}", "sink": f"R{i}", "cost": 1,
                      "lead_time": lambda: RET_LEAD})  # fmt: skip
        demands.append({"ID": f"d{i}", "name": f"d{i}", "order_arrival_model": lambda: 1,
                        "order_quantity_model": qty, "demand_node": f"R{i}",
                        "consume_available": True})  # fmt: skip
    net = scm.create_sc_net(nodes, links, demands)
    out = scm.simulate_sc_net(net, sim_time=days, logging=False)
    return float(out["fulfillment_received_by_customers"][1] / out["demand_by_customers"][1])


class PlainModel:
    """The reference network as a plain SimPy model (lost sales at retailers, FIFO backorders at DCs).

    One process per retailer steps its days; deliveries are ``Timeout`` callbacks.
    """

    def __init__(self, n: int, days: int, seed: int) -> None:
        self.env = simpy.Environment()
        self.n, self.days = n, days
        rng = np.random.default_rng(seed)
        self.draws = np.maximum(rng.normal(MEAN, CV * MEAN, size=(n, days)), 0.0).tolist()
        self.flow = [sum(1 for i in range(n) if i % 2 == d) * MEAN for d in range(2)]
        self.dc_stock = [f * DC_BIG_S for f in self.flow]
        self.dc_pos = self.dc_stock[:]  # inventory position: on hand + on order - owed
        self.dc_owed: list[list[list[float]]] = [[], []]  # FIFO of [retailer, qty] not yet shipped
        self.stock = [MEAN * RET_BIG_S] * n
        self.pos = self.stock[:]
        self.served = self.demanded = 0.0

    def ship(self, i: int, q: float) -> None:
        def arrive(_ev: Any) -> None:
            self.stock[i] += q

        self.env.timeout(RET_LEAD).callbacks.append(arrive)

    def dc_receive(self, d: int, q: float) -> None:
        self.dc_stock[d] += q
        owed = self.dc_owed[d]
        while owed and self.dc_stock[d] > 0:
            i, rest = owed[0]
            take = min(rest, self.dc_stock[d])
            self.dc_stock[d] -= take
            self.ship(int(i), take)
            if take < rest:
                owed[0][1] = rest - take
            else:
                owed.pop(0)

    def dc_order(self, d: int, i: int, q: float) -> None:
        take = min(q, self.dc_stock[d])
        self.dc_stock[d] -= take
        if take > 0:
            self.ship(i, take)
        if take < q:
            self.dc_owed[d].append([i, q - take])
        self.dc_pos[d] -= q
        if self.dc_pos[d] <= self.flow[d] * DC_S:
            more = self.flow[d] * DC_BIG_S - self.dc_pos[d]
            self.dc_pos[d] += more
            ev = self.env.timeout(DC_LEAD)
            ev.callbacks.append(lambda _ev: self.dc_receive(d, more))

    def retailer(self, i: int) -> Any:
        row, stock, pos = self.draws[i], self.stock, self.pos
        for t in range(self.days):
            q = row[t]
            sold = min(q, stock[i])
            stock[i] -= sold
            pos[i] -= sold
            self.served += sold
            self.demanded += q
            if pos[i] <= MEAN * RET_S:
                more = MEAN * RET_BIG_S - pos[i]
                pos[i] += more
                self.dc_order(i % 2, i, more)
            yield self.env.timeout(1)

    def run(self) -> float:
        for i in range(self.n):
            self.env.process(self.retailer(i))
        self.env.run(until=self.days)
        return self.served / self.demanded


def run_plain_simpy(n: int, days: int, seed: int) -> float:
    return PlainModel(n, days, seed).run()


def timed(fn: Callable[[], float]) -> tuple[float, float, float]:
    w, c = time.perf_counter(), time.process_time()
    fill = fn()
    return time.perf_counter() - w, time.process_time() - c, fill


def bench_size(folder: Path, n: int, days: int, repeat: int, scm: Any) -> None:
    """Time the three models with ``n`` retailers and print one row."""
    sc_file = write_network(folder, n)
    t0 = time.perf_counter()
    net = load_network(folder)
    load_s = time.perf_counter() - t0
    sc = load_scenario(sc_file)
    run_borderflow(sc, net, 5, 0)  # warm-up
    res: dict[str, list[tuple[float, float, float]]] = {"bf": [], "snp": [], "simpy": []}
    for r in range(repeat):  # interleaved, so drifting load hits all alike
        res["bf"].append(timed(lambda r=r: run_borderflow(sc, net, days, r)))
        if scm is not None:
            res["snp"].append(timed(lambda r=r: run_supplynetpy(scm, n, days, r)))
        res["simpy"].append(timed(lambda r=r: run_plain_simpy(n, days, r)))
    med = {k: [statistics.median(x[j] for x in v) for j in range(3)] for k, v in res.items() if v}
    bf = med["bf"]

    def cell(k: str) -> str:
        return f"{med[k][0]:8.3f}/{med[k][1]:7.3f} s" if k in med else f"{'skipped':>18}"

    def ratio(k: str) -> str:
        return f"{med[k][0] / bf[0]:6.1f}x, {med[k][1] / bf[1]:5.1f}x" if k in med else "-"

    fills = " / ".join(f"{med[k][2]:.4f}" if k in med else "-" for k in ("bf", "snp", "simpy"))
    print(
        f"{n:>5} | {cell('bf')} {load_s:6.2f}s | {cell('snp'):>20} | {cell('simpy'):>20} | "
        f"{ratio('snp'):>16} | {ratio('simpy'):>18} | {fills}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="10,100,1000", help="numbers of retailers")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    try:
        scm: Any = importlib.import_module("SupplyNetPy.Components")
    except ImportError:
        scm = None
        print("SupplyNetPy is not installed (pip install -e '.[bench]'): its column is skipped")
    print(
        f"{args.days} days, median of {args.repeat}; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(
        f"{'N':>5} | {'Borderflow wall/CPU':>19} {'(load)':>7} | {'SupplyNetPy wall/CPU':>20} | "
        f"{'plain SimPy wall/CPU':>20} | {'SNP/BF wall, CPU':>16} | {'SimPy/BF wall, CPU':>18} | "
        f"fill rate BF / SNP / SimPy"
    )
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            bench_size(Path(tmp) / f"n{n}", n, args.days, args.repeat, scm)
    print(
        "ratios > 1: Borderflow is faster (targets: >= 15x SupplyNetPy; > 1x plain SimPy at N >= 100)"
    )


if __name__ == "__main__":
    main()
