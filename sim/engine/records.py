"""Records: what a run appends while it runs, and the tidy tables built from it once at the end.

Daily series (``daily``), long format, one row per (day, entity, metric):

======== ==========================================================================
column   meaning
======== ==========================================================================
day      simulated day (0 = scenario start)
entity   ``site``, ``lane`` or ``crossing``
id       site id, lane id, or ``<crossing>:<sb|nb>``
commodity commodity id ('' for crossings)
metric   site: ``stock``, ``backlog``; lane: ``shipped``, ``in_transit``;
         crossing: ``vehicles`` (arrivals incl. background), ``served``, ``queue``,
         ``wait_p50_min``, ``wait_p95_min``
value    number in the commodity's unit, vehicles, or minutes
======== ==========================================================================

Ledger (``ledger``): ``day, party, country, sector, kind, region, usd`` — every dollar booked once;
``region`` is the state or province of the site behind the cost (``""`` for government revenue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.engine.run import Run


class Recorder:
    """Appends one row of plain floats per day; converted to arrays once at the end."""

    def __init__(self, run: Run) -> None:
        self.stock: list[list[float]] = []
        self.backlog: list[list[float]] = []
        self.shipped: list[list[float]] = []
        self.transit: list[list[float]] = []
        self.cross: list[list[tuple[float, float, float, float, float]]] = []

    def append_day(self, run: Run) -> None:
        self.stock.append(run.on_hand[:])
        self.backlog.append(run.backlog[:])
        self.shipped.append(run.shipped_today[:])
        self.transit.append(run.in_transit[:])
        self.cross.append(run.border.day[:])

    def finish(self, run: Run) -> dict[str, Any]:
        """Raw arrays of the run (numpy); tables are built lazily by :class:`sim.analysis.result.Result`."""
        days = len(self.stock)
        ng = len(run.border.keys)
        cross = np.asarray(self.cross, dtype=float).reshape(days, ng, 5)
        scale = cross[:, :, 3]
        extra = cross[:, :, 4]
        p50 = np.full((days, ng), np.nan)
        p95 = np.full((days, ng), np.nan)
        samples = np.full((days, ng, run.z_wait.shape[2] if ng else 0), np.nan)
        for g, q in enumerate(run.border.queues):
            ok = np.isfinite(scale[:, g]) & np.isfinite(extra[:, g])
            add = extra[ok, g] * 1440.0
            p50[ok, g] = q.wait_quantile_min(0.5) * scale[ok, g] + add
            p95[ok, g] = q.wait_quantile_min(0.95) * scale[ok, g] + add
            samples[ok, g, :] = (
                q.sample_waits_min(run.z_wait[:days][ok, g, :], scale[ok, g][:, None])
                + add[:, None]
            )
        return {
            "stock": np.asarray(self.stock, dtype=float),
            "backlog": np.asarray(self.backlog, dtype=float),
            "shipped": np.asarray(self.shipped, dtype=float),
            "in_transit": np.asarray(self.transit, dtype=float),
            "cross_vehicles": cross[:, :, 0],
            "cross_served": cross[:, :, 1],
            "cross_queue": cross[:, :, 2],
            "cross_p50": p50,
            "cross_p95": p95,
            "wait_samples": samples,
            "ledger": run.ledger.rows,
            "duty_by_day": run.ledger.duty_by_day,
            "lost_by_day": run.lost_by_day,
        }
