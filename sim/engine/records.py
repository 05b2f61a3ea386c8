"""Records of one replication: what the run appends while it runs, and the typed records it returns.

While the run goes on, a :class:`Recorder` copies the day's state arrays; at the end it returns a
:class:`RunArrays` (the daily arrays, plain numpy) and the run a :class:`RunRecord` (what the
replication was and its totals). Both are frozen; tidy tables are built from them later, on first
access, by :class:`sim.analysis.result.Result`.

Daily series (``Result.daily``), long format, one row per (day, entity, metric):

======== ==========================================================================
column   meaning
======== ==========================================================================
day      simulated day (0 = scenario start)
entity   ``site``, ``lane`` or ``crossing``
id       site id, lane id, or ``<crossing>:<sb|nb>``
commodity commodity id ('' for crossings)
metric   site: ``stock``, ``backlog``; lane: ``shipped``, ``in_transit``;
         crossing: ``vehicles`` (arrivals incl. background), ``served``, ``queue``,
         ``wait_p50_min``, ``wait_p95_min``, ``diverted_in``, ``diverted_out`` (vehicles
         routed here from / away from their home crossing), ``background_lost`` (background
         vehicles that left), ``trade_delayed_usd``, ``trade_lost_usd`` (background value)
value    number in the commodity's unit, vehicles, or minutes
======== ==========================================================================

Plants (``Result.plants``): ``day, plant, produced, shortfall, downtime_hours`` — output, what the
plan missed for want of inputs, and the line-hours lost.

Ledger (``Result.ledger``): ``day, party, country, sector, kind, region, usd`` — every dollar booked
once; ``region`` is the state or province of the site behind the cost (``""`` for government
revenue).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.engine.queueing import CrossingQueue

Floats = NDArray[np.float64]
# vehicles, served, queue, scale, extra days, diverted in, diverted out, background lost,
# trade delayed US$, trade lost US$ (sim.engine.border.GroupDay)
CrossingDay = tuple[float, float, float, float, float, float, float, float, float, float]
_CROSS_FIELDS = 10


@dataclass(frozen=True, slots=True)
class RunArrays:
    """Daily arrays of one replication (``days`` rows each).

    Points, lanes and crossing groups are numbered as in :class:`RunRecord` (``point_*``,
    ``lane_*``, ``crossing_keys``). Quantities are in each commodity's unit; vehicles per day;
    waits in minutes.
    """

    stock: Floats  #: on hand at the end of the day, per point
    backlog: Floats  #: backordered demand at the end of the day, per point
    shipped: Floats  #: dispatched that day, per lane
    in_transit: Floats  #: on the way at the end of the day, per lane
    cross_vehicles: Floats  #: vehicles arriving at each road/rail crossing group (with background)
    cross_served: Floats  #: vehicles served
    cross_queue: Floats  #: vehicles still queued at the end of the day
    cross_p50: Floats  #: median wait of the day's served vehicles, minutes
    cross_p95: Floats  #: 95th percentile wait, minutes
    wait_samples: Floats  #: sampled waits (days x groups x samples), minutes
    cross_div_in: Floats  #: vehicles routed to each group from their home crossing
    cross_div_out: Floats  #: vehicles of each home group routed to another crossing
    cross_bkg_lost: Floats  #: background vehicles that forwent the trip or left the queue
    cross_trade_delayed: Floats  #: value of background crossing late or at another crossing, US$
    cross_trade_lost: Floats  #: value of background lost, US$
    plant_made: Floats  #: output per plant (days x plants), units of its commodity
    plant_short: Floats  #: planned output not made for want of inputs
    plant_down: Floats  #: line-hours lost for missing inputs
    ledger: Floats  #: (day, cost category, US$) rows, in booking order (rows x 3)
    duty_by_day: list[tuple[int, str, float]]  #: (day, levying country, US$ assessed)
    lost_by_day: list[float]  #: value of lost sales per day, US$


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What a replication was, how its arrays are indexed, and its totals."""

    scenario: str  #: scenario name
    rep: int  #: replication number (selects the random streams)
    seed: int  #: batch seed
    days: int  #: horizon in days
    point_site: list[str]  #: site of each stock point
    point_commodity: list[str]  #: commodity of each stock point
    point_value: list[float]  #: customs value per unit of each point's commodity, US$
    point_sector: list[str]  #: sector of each point's commodity
    lane_id: list[str]  #: lane ids, in network order
    lane_commodity: list[str]
    lane_direction: list[str]  #: "sb" (Canada to US), "nb" (US to Canada) or ""
    lane_crossing: list[str]  #: crossing id or ""
    lane_base: list[float]  #: 2024 base flow per day
    lane_value: list[float]  #: customs value per unit, US$
    lane_countries: list[tuple[str, str]]  #: (origin country, destination country)
    lane_sector: list[str]  #: sector of each lane's commodity
    lane_origin_region: list[str]  #: state or province of each lane's origin site
    lost_margin_share: float  #: scenario cost parameter, for lost export margin
    disruption_end: int | None  #: day the last disruption ends (None: one never ends)
    first_disruption: int | None  #: day the first disruption starts (None: none)
    crossing_keys: list[tuple[str, str]]  #: (crossing id, direction) of each group
    crossing_kind: list[str]  #: road or rail
    crossing_bkg: list[float]  #: mean background vehicles per day
    crossing_bkg_value: list[float]  #: US$ per background vehicle
    crossing_lost: list[float]  #: background vehicles that left the system over the run
    crossing_div_in: list[float]  #: vehicles diverted to the group over the run
    crossing_div_out: list[float]  #: vehicles of the group diverted elsewhere over the run
    plant_site: list[str]  #: site id of each plant (columns of the plant arrays)
    crossing_obs: list[float | None]  #: observed 2024 vehicles per day
    crossing_pub: list[tuple[float | None, float | None]]  #: published (p50, p95) wait, minutes
    cost_cats: list[tuple[str, str, str, str, str]]  #: (party, country, sector, kind, region)
    demanded_value: float  #: value of all demand drawn, US$
    filled_value: float  #: value of demand filled on the day it arose, US$
    lost_value: float  #: value of lost sales, US$
    downtime_hours: float  #: plant line-hours lost for missing inputs
    mass_balance_error: float  #: largest relative mass-balance error over commodities
    balance: dict[str, dict[str, float]]  #: per commodity: initial, produced, consumed, ...
    events: int  #: SimPy events processed
    wall_s: float  #: wall time of the event loop, s
    warmup: int = 0  #: first day the KPIs count (run totals above count from it)


class Recorder:
    """Copies the day's state into arrays preallocated for the horizon (stock points and lanes;
    crossing groups and plants from the first day on, when their number is seen). Copying each
    day while it is fresh is cheaper than converting all days at the end, which reads objects
    spread over the run's memory (3x slower)."""

    def __init__(self, days: int, n_points: int, n_lanes: int) -> None:
        self.days = 0
        self.horizon = days
        self.stock = np.zeros((days, n_points))
        self.backlog = np.zeros((days, n_points))
        self.shipped = np.zeros((days, n_lanes))
        self.transit = np.zeros((days, n_lanes))
        self.cross: Floats | None = None  # days x groups x fields, once the number of groups is seen
        self.plants: Floats | None = None  # days x (made, short, down) x plants
        self.plant_days = 0

    def append_day(
        self,
        on_hand: list[float],
        backlog: list[float],
        shipped: list[float],
        in_transit: list[float],
        crossings: list[CrossingDay],
    ) -> None:
        """Copy the day's state."""
        t = self.days
        self.stock[t] = on_hand
        self.backlog[t] = backlog
        self.shipped[t] = shipped
        self.transit[t] = in_transit
        if self.cross is None:
            self.cross = np.zeros((self.horizon, len(crossings), _CROSS_FIELDS))
        if crossings:
            self.cross[t] = crossings
        self.days = t + 1

    def append_plants(self, made: list[float], short: list[float], down: list[float]) -> None:
        """Copy the day's output, shortfall and lost hours per plant."""
        if self.plants is None:
            self.plants = np.zeros((self.horizon, 3, len(made)))
        self.plants[self.plant_days] = (made, short, down)
        self.plant_days += 1

    def finish(
        self,
        queues: list[CrossingQueue],
        z_wait: Floats,
        ledger: Sequence[tuple[int, int, float]] | Floats,
        duty_by_day: list[tuple[int, str, float]],
        lost_by_day: list[float],
    ) -> RunArrays:
        """The run's arrays; crossing waits from each group's queue and the inspection draws."""
        days = self.days
        ng = len(queues)
        cross = (
            self.cross[:days] if self.cross is not None else np.zeros((days, ng, _CROSS_FIELDS))
        )
        plants = self.plants[:days] if self.plants is not None else np.zeros((days, 3, 0))
        scale = cross[:, :, 3]
        extra = cross[:, :, 4]
        p50 = np.full((days, ng), np.nan)
        p95 = np.full((days, ng), np.nan)
        samples = np.full((days, ng, z_wait.shape[2] if ng else 0), np.nan)
        for g, q in enumerate(queues):
            ok = np.isfinite(scale[:, g]) & np.isfinite(extra[:, g])
            add = extra[ok, g] * 1440.0
            p50[ok, g] = q.wait_quantile_min(0.5) * scale[ok, g] + add
            p95[ok, g] = q.wait_quantile_min(0.95) * scale[ok, g] + add
            samples[ok, g, :] = (
                q.sample_waits_min(z_wait[:days][ok, g, :], scale[ok, g][:, None]) + add[:, None]
            )
        return RunArrays(
            stock=self.stock[:days],
            backlog=self.backlog[:days],
            shipped=self.shipped[:days],
            in_transit=self.transit[:days],
            cross_vehicles=cross[:, :, 0],
            cross_served=cross[:, :, 1],
            cross_queue=cross[:, :, 2],
            cross_p50=p50,
            cross_p95=p95,
            wait_samples=samples,
            cross_div_in=cross[:, :, 5],
            cross_div_out=cross[:, :, 6],
            cross_bkg_lost=cross[:, :, 7],
            cross_trade_delayed=cross[:, :, 8],
            cross_trade_lost=cross[:, :, 9],
            plant_made=plants[:, 0, :],
            plant_short=plants[:, 1, :],
            plant_down=plants[:, 2, :],
            ledger=ledger_array(ledger),
            duty_by_day=duty_by_day,
            lost_by_day=lost_by_day,
        )


def ledger_array(rows: Sequence[tuple[int, int, float]] | Floats) -> Floats:
    """Ledger rows ``(day, category, usd)`` as a (rows, 3) float array, in their order (day and
    category numbers are small integers, exact as floats)."""
    if isinstance(rows, np.ndarray):
        return np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    flat = np.fromiter(
        itertools.chain.from_iterable(rows), dtype=np.float64, count=3 * len(rows)
    )
    return flat.reshape(-1, 3)


def as_dict(record: Any) -> dict[str, Any]:
    """A record's fields as a plain dict (for writing to JSON or tables)."""
    return {f: getattr(record, f) for f in record.__dataclass_fields__}
