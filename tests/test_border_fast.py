"""The border's shortcuts give the same numbers to the last bit as its plain computation.

``Border.fast`` and ``RouteChoice.fast`` switch the shortcuts off (sim/engine/border.py,
sim/engine/routes.py); a crossing's day model (``CrossingQueue.on_day``) must agree with
``CrossingQueue.scale`` and ``daily_capacity`` exactly. Random small networks with alternatives,
busy and closed crossings and random daily lots drive both paths side by side.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario, network_for, simulate
from sim.engine.border import Border, _Waits
from sim.engine.queueing import CrossingQueue
from sim.engine.routes import MIN_SHARE, Option, RouteChoice, _margins, logit
from sim.spec.network import Alternative, Commodity, Crossing, Demand, Lane, Network, Site
from sim.spec.scenario import Market, Measure

W = Commodity("w", "Widget", "auto", "load", 40_000.0, units_per_truck=2.0, units_per_railcar=5.0)


@contextmanager
def plain() -> Iterator[None]:
    """Every shortcut off (the plain computation)."""
    Border.fast = RouteChoice.fast = False
    try:
        yield
    finally:
        Border.fast = RouteChoice.fast = True


# ---------------------------------------------------------------- the day model of a crossing
@settings(max_examples=300, deadline=None)
@given(
    st.floats(100.0, 20_000.0),
    st.integers(1, 40),
    st.floats(0.05, 0.95),
    st.floats(1.0, 60.0),
    st.floats(1.2, 5.0),
    st.sampled_from([0.0, 0.01, 0.3, 0.5, 0.73, 1.0, 1.4]),
    st.sampled_from([1.0, 1.2, 1.67, 3.0]),
    st.lists(st.floats(0.0, 3.0), min_size=1, max_size=5),
)
def test_the_day_model_is_scale_and_capacity_to_the_bit(
    cap: float, booths: int, rho0: float, median: float, ratio: float, cf: float, insp: float,
    loads: list[float],
) -> None:  # fmt: skip
    q = CrossingQueue.calibrate(cap, booths, rho0 * cap, median, ratio * median)
    day = q.on_day(cf, insp)
    assert day.capacity == q.daily_capacity(cf, insp)
    for x in loads + [round(x * cap) for x in loads]:
        want = q.scale(x * cap, cf, insp)
        assert day.scale(x * cap) == want  # inf == inf when closed
        assert day.scale_memo(x * cap) == want
        assert day.scale_memo(x * cap) == want  # remembered
        assert day.wait_mean_min(want) == q.wait_mean_min(want)


def test_the_day_model_rejects_what_the_queue_rejects() -> None:
    q = CrossingQueue.calibrate(1000.0, 4, 500.0, 10.0, 30.0)
    for cf, insp in ((-0.1, 1.0), (1.0, 0.0), (math.nan, 1.0)):
        with pytest.raises(ValueError):
            q.on_day(cf, insp)


# ---------------------------------------------------------------- route choice on its own
def costs_near(quiet: list[float], base: float, rnd: random.Random) -> list[float]:
    """Waits that put each alternative just inside, on or just outside its quiet margin."""
    out = [base]
    for m in quiet[1:]:
        if not math.isfinite(m):
            out.append(rnd.uniform(0.0, 10.0))
        else:
            out.append(base + m + rnd.choice([-1e-9, 0.0, 1e-12, 1e-9, rnd.uniform(-3, 3)]))
    return out


def compare_choice(seed: int, beta: float, inertia: float, forgo: float) -> int:
    """Route choice with and without shortcuts over 40 days of random waits (spells of steady
    waits, closures, costs on the quiet margins); asserts equal shares and settled homes every
    day, returns how many home-days had settled."""
    rnd = random.Random(seed)
    ng = 7
    opts = {
        0: [Option(0, 0.0, 0.0), Option(1, 2.0, 0.0)],
        2: [Option(2, 0.0, 0.0), Option(3, 0.5, 20.0)],
        3: [Option(3, 0.0, 0.0), Option(2, 0.5, 20.0), Option(4, 1.0, 0.0), Option(5, 3.0, 9.0)],
        6: [Option(6, 0.0, 0.0), Option(1, 1.0, 0.0)],
    }
    base = [rnd.uniform(0.05, 2.0) for _ in range(ng)]
    fast = RouteChoice(opts, base, beta, inertia, forgo, 90.89)
    slow = RouteChoice(opts, base, beta, inertia, forgo, 90.89)
    slow.fast = False
    settled = 0
    waits = base
    for day in range(40):
        if day and rnd.random() < 0.75:  # steady: shares settle
            waits = [w * rnd.choice([1.0, 1.0, 1.0001, 1.05]) for w in waits]
        else:
            waits = [rnd.choice([b, b * rnd.uniform(0.5, 20.0), rnd.uniform(0.0, 30.0)]) for b in base]
            if rnd.random() < 0.3:
                waits[rnd.randrange(ng)] = math.inf
            if rnd.random() < 0.5:  # probe the quiet margins of one home
                h = rnd.choice(list(opts))
                c = costs_near(fast.quiet[h][0], waits[h], rnd)
                for o, x in zip(opts[h], c, strict=True):
                    if o.group != h and math.isfinite(waits[o.group]):
                        waits[o.group] = max(0.0, x - o.detour_hours - o.toll_usd / 90.89)
        for _it in range(rnd.randint(1, 3)):  # several proposals a day, the last one kept
            got, want = fast.propose(waits), slow.propose(waits)
            assert got == want
            waits = [w * rnd.choice([1.0, 1.0, 1.01]) for w in waits]
        proposed = rnd.random() < 0.8
        fast.commit(*got, proposed)
        slow.commit(*want, proposed)
        assert fast.seen == slow.seen
        settled += len(fast.seen)
    return settled


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 0.3, 1.0, 5.0, 1000.0]),
    st.sampled_from([0.0, 1.0, 4.0]),
    st.sampled_from([0.5, 8.0, 1e6]),
)
def test_route_choice_shortcuts_give_the_plain_shares(
    seed: int, beta: float, inertia: float, forgo: float
) -> None:
    compare_choice(seed, beta, inertia, forgo)


def test_the_route_choice_comparison_reaches_settled_homes() -> None:
    assert sum(compare_choice(seed, 1.0, 1.0, 8.0) > 0 for seed in range(20)) >= 15


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=2, max_size=5),
    st.floats(0.0, 50.0),
    st.floats(0.01, 1000.0),
)
def test_an_option_beyond_its_margin_has_no_target(p: list[float], extra: float, beta: float) -> None:
    """The quiet margin: the logit share of an option that costs ``margin + extra`` more than
    home stays below its 2024 share + MIN_SHARE, whatever the other options cost."""
    p0 = logit([-math.log(max(x, 1e-300)) for x in p], 1.0)
    m = _margins(p0, beta)
    rnd = random.Random(len(p))
    for k in range(1, len(p0)):
        if not math.isfinite(m[k]):
            continue
        costs = [rnd.uniform(0.0, 20.0) for _ in p0]
        costs[0] = 1.0
        costs[k] = 1.0 + m[k] + extra
        assert logit(costs, beta)[k] - p0[k] - MIN_SHARE < 0.0


# ---------------------------------------------------------------- the border, day by day
def random_network(rnd: random.Random) -> Network:
    """2-5 road/rail crossings each way with random capacity, traffic and waits, lanes through
    some of them, alternatives between random pairs, and a pipeline."""
    sites = [
        Site("CA", "source", "CA", "auto", commodity="w", capacity=1e6),
        Site("US", "market", "US", "auto", cover_days=2.0),
        Site("US2", "source", "US", "auto", commodity="w", capacity=1e6),
        Site("CA2", "market", "CA", "auto", cover_days=2.0),
    ]
    n = rnd.randint(2, 5)
    crossings, lanes = [], []
    for k in range(n):
        cap_s, cap_n = rnd.uniform(200, 3000), rnd.uniform(200, 3000)
        median = rnd.uniform(3.0, 60.0)
        crossings.append(
            Crossing(
                f"X{k}", rnd.choice(["road", "road", "rail"]), capacity_sb=cap_s,
                capacity_nb=cap_n, obs_sb=cap_s * rnd.uniform(0.2, 0.97),
                obs_nb=cap_n * rnd.uniform(0.0, 0.97), booths=rnd.randint(1, 12),
                wait_median_min=median, wait_p95_min=median * rnd.uniform(1.5, 4.0),
                trade_sb_usd=rnd.choice([None, 5e6, 4e7]),
            )
        )  # fmt: skip
        for j in range(rnd.randint(0, 3)):
            origin, dest = rnd.choice([("CA", "US"), ("US2", "CA2")])
            flow = rnd.uniform(5.0, 400.0)
            lanes.append(Lane(f"L{k}{j}", origin, dest, "w", "truck", f"X{k}", 0.5, 0.0, None, flow))
    crossings.append(Crossing("P", "pipeline", capacity_sb=500.0))
    lanes.append(Lane("LP", "CA", "US", "w", "pipe", "P", 1.0, 0.0, None, 300.0))
    alts = []
    for k in range(n):
        for j in range(n):
            if k != j and rnd.random() < 0.6:
                alts.append(Alternative(f"X{k}", f"X{j}", rnd.uniform(0, 4), rnd.uniform(0, 60)))
    return Network.build(
        "random", [W], sites, lanes, crossings, demand=[Demand("US", "w", 100.0, 0.0)],
        alternatives=alts,
    )  # fmt: skip


def day_inputs(b: Border, rnd: random.Random, days: int) -> list[tuple[Any, ...]]:
    """Each day's lots, background and factors (capacity cuts, slowdowns, closures)."""
    ng = len(b.keys)
    fx = SimpleNamespace(
        cap_factor=[1.0] * ng, insp_factor=[1.0] * ng, sec_days=[0.0] * ng,
        pipe_factor=dict.fromkeys(b.pipe_groups, 1.0),
    )  # fmt: skip
    out = []
    for t in range(days):
        if rnd.random() < 0.25:  # a measure starts or ends
            g = rnd.randrange(ng)
            fx = SimpleNamespace(**{k: v.copy() for k, v in vars(fx).items()})
            fx.cap_factor[g] = rnd.choice([0.0, 0.2, 0.5, 0.75, 1.0])
            fx.insp_factor[g] = rnd.choice([1.0, 1.67, 3.0])
            fx.sec_days[g] = rnd.choice([0.0, 0.0, 0.05])
        lots = [
            [
                (i, rnd.uniform(0.0, 3.0) * 50.0, rnd.uniform(0.2, 3.0), t - rnd.random(), t, 7.5)
                for i in b.lanes[g]
                if rnd.random() < 0.8
            ]
            for g in range(ng)
        ]
        busy = rnd.choice([0.5, 1.0, 1.3])
        bkg = [float(np.round(x * busy * rnd.uniform(0.8, 1.2))) for x in b.bkg]
        out.append((t, lots, bkg, fx))
    return out


def run_border(net: Network, market: Market, inputs: list[tuple[Any, ...]]) -> list[Any]:
    b = Border(net, market)
    got: list[Any] = []
    for t, lots, bkg, fx in inputs:
        want = [1.0 * i for i in range(len(net.lanes))]
        b.limit_pipes(want, fx)
        got.append((b.cross(t, [list(x) for x in lots], bkg, fx), list(b.day), want))
    got.append((b.lost, b.div_in, b.div_out, b.choice.lot, b.choice.bkg, b.choice.seen))
    got.append([list(q) for q in b.queued])
    return got


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, math.inf]),
    st.sampled_from([0.0, 1.0, 3.0]),
    st.sampled_from([0.0, 0.5, 1.0, 4.0]),
    st.sampled_from([2.0, 8.0]),
)
def test_border_shortcuts_give_the_plain_crossings(
    seed: int, patience: float, inertia: float, beta: float, forgo: float
) -> None:
    rnd = random.Random(seed)
    net = random_network(rnd)
    market = Market(
        bkg_patience_days=patience, route_inertia_days=inertia, route_logit=beta,
        route_forgo_hours=forgo,
    )  # fmt: skip
    inputs = day_inputs(Border(net, market), rnd, 40)
    fast = run_border(net, market, inputs)
    with plain():
        slow = run_border(net, market, inputs)
    assert fast == slow


def test_the_random_networks_reach_every_shortcut() -> None:
    """The inputs of the test above do queue, divert, close, lose background and all cross."""
    seen = {"queue": 0, "moved": 0, "closed": 0, "lost": 0, "all_cross": 0}
    for seed in range(30):
        rnd = random.Random(seed)
        net = random_network(rnd)
        market = Market(bkg_patience_days=1.0)
        b = Border(net, market)
        for t, lots, bkg, fx in day_inputs(b, rnd, 40):
            b.cross(t, lots, bkg, fx)
            seen["queue"] += sum(1 for d in b.day if d[2] > 0)
            seen["moved"] += sum(1 for d in b.day if d[6] > 0)
            seen["closed"] += sum(1 for d in b.day if d[3] == math.inf)
            seen["lost"] += sum(1 for d in b.day if d[7] > 0)
            seen["all_cross"] += sum(1 for d in b.day if d[0] > 0 and d[1] == d[0])
    assert all(v > 20 for v in seen.values()), seen


def test_route_choice_sees_the_expected_wait_of_the_queue_formulas() -> None:
    """The waits route choice computes (inlined) are ``expected_wait_hours``, and that is the
    carried-over queue and half the day's excess at today's capacity plus the in-day wait of
    ``CrossingQueue.scale`` and secondary inspection."""
    checked = 0
    for seed in range(12):
        rnd = random.Random(seed)
        net = random_network(rnd)
        b = Border(net, Market(bkg_patience_days=2.0))
        for t, lots, bkg, fx in day_inputs(b, rnd, 25):
            load = [rnd.uniform(0.0, 2.0) * q.capacity_per_day for q in b.queues]
            waits = _Waits(b, fx, b.today(fx)).at(load)  # type: ignore[arg-type]
            for g in b.watched:
                q, cf, insp = b.queues[g], fx.cap_factor[g], fx.insp_factor[g]
                cap = q.daily_capacity(cf, insp)
                if cap <= 0:
                    want = math.inf
                else:
                    ahead = sum(e[0] for e in b.queued[g])
                    ahead += 0.5 * max(0.0, load[g] - max(0.0, cap - ahead))
                    in_day = q.wait_mean_min(q.scale(load[g], cf, insp)) / 60.0
                    want = 24.0 * (ahead / cap + fx.sec_days[g]) + in_day
                assert b.expected_wait_hours(g, fx, load[g]) == pytest.approx(want, rel=1e-12)  # type: ignore[arg-type]
                assert waits[g] == b.expected_wait_hours(g, fx, load[g])  # type: ignore[arg-type]
                checked += bool(b.queued[g])
            b.cross(t, lots, bkg, fx)  # type: ignore[arg-type]
    assert checked > 10  # with queues ahead


def test_factors_given_as_arrays_cross_alike() -> None:
    rnd = random.Random(5)
    net = random_network(rnd)
    market = Market()
    inputs = day_inputs(Border(net, market), rnd, 30)
    arrays = [
        (t, lots, bkg, SimpleNamespace(**{k: v if k == "pipe_factor" else np.asarray(v)
                                          for k, v in vars(fx).items()}))
        for t, lots, bkg, fx in inputs
    ]  # fmt: skip
    assert run_border(net, market, arrays) == run_border(net, market, inputs)


def test_limit_pipes_curtails_a_list_and_an_array_alike() -> None:
    net = random_network(random.Random(3))
    b = Border(net, Market())
    fx = SimpleNamespace(pipe_factor=dict.fromkeys(b.pipe_groups, 0.7))
    rnd = random.Random(4)
    for _ in range(20):
        want = [rnd.uniform(0.0, 900.0) for _ in net.lanes]
        arr = np.asarray(want)
        lp = [ln.id for ln in net.lanes].index("LP")
        orig = want[lp]
        b.limit_pipes(want, fx)  # type: ignore[arg-type]
        b.limit_pipes(arr, fx)  # type: ignore[arg-type]
        assert arr.tolist() == want
        assert want[lp] == pytest.approx(min(orig, 0.7 * 500.0), rel=1e-12)


# ---------------------------------------------------------------- a whole run
def test_a_run_with_closures_and_slowdowns_is_the_same_without_shortcuts() -> None:
    sc = load_scenario("baseline")
    shut = Measure(id="shut", kind="closure", start=10, end=25, crossings=("X_AMB",))
    slow = Measure(
        id="slow", kind="slowdown", start=5, end=60, crossings=("X_BWB", "X_LQ", "X_PAC"),
        capacity_factor=0.4, inspection_factor=1.67, secondary_share=0.1, secondary_hours=2.0,
    )  # fmt: skip
    sc = dataclasses.replace(sc, measures=(shut, slow))
    net = network_for(sc)
    fast = simulate(sc, seed=3, days=70, network=net)
    with plain():
        slow_res = simulate(sc, seed=3, days=70, network=net)
    for f in dataclasses.fields(fast.raw):
        a, b = getattr(fast.raw, f.name), getattr(slow_res.raw, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            assert a == b, f.name
    assert float(fast.raw.cross_div_out.sum()) > 0 and float(fast.raw.cross_queue.sum()) > 0
