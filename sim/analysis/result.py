"""The :class:`Result` of one replication: KPIs plus tables built on first access.

A ``Result`` holds plain numpy arrays and lists, so it pickles cheaply across processes; the pandas
tables are built on first access (pandas stays out of the simulation path).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.series import daily_series
from sim.engine.records import RunArrays, RunRecord

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Result:
    """Outcome of one replication: KPIs plus lazily built tables."""

    kpis: dict[str, Any]
    meta: RunRecord = field(repr=False)  #: what the replication was, its indices and totals
    raw: RunArrays = field(repr=False)  #: its daily arrays

    @functools.cached_property
    def daily(self) -> pd.DataFrame:
        """Daily series, long format (see :mod:`sim.engine.records`); text columns are categorical."""
        import pandas as pd

        m, r = self.meta, self.raw
        days = r.stock.shape[0]
        gids = [f"{c}:{d}" for c, d in m.crossing_keys]
        blocks = [
            ("site", m.point_site, m.point_commodity, "stock", r.stock),
            ("site", m.point_site, m.point_commodity, "backlog", r.backlog),
            ("lane", m.lane_id, m.lane_commodity, "shipped", r.shipped),
            ("lane", m.lane_id, m.lane_commodity, "in_transit", r.in_transit),
        ]
        for metric, key in (
            ("vehicles", "cross_vehicles"),
            ("served", "cross_served"),
            ("queue", "cross_queue"),
            ("wait_p50_min", "cross_p50"),
            ("wait_p95_min", "cross_p95"),
            ("diverted_in", "cross_div_in"),
            ("diverted_out", "cross_div_out"),
            ("background_lost", "cross_bkg_lost"),
            ("trade_delayed_usd", "cross_trade_delayed"),
            ("trade_lost_usd", "cross_trade_lost"),
        ):
            blocks.append(("crossing", gids, [""] * len(gids), metric, getattr(r, key)))
        blocks = [b for b in blocks if b[4].size]
        # categories once, then integer codes tiled day by day: no Python objects per row
        entities = ["site", "lane", "crossing"]
        metrics = [b[3] for b in blocks]
        ids = sorted({i for b in blocks for i in b[1]})
        coms = sorted({c for b in blocks for c in b[2]})
        id_code = {v: k for k, v in enumerate(ids)}
        com_code = {v: k for k, v in enumerate(coms)}
        n = [len(b[1]) for b in blocks]
        ent = np.concatenate(
            [
                np.full(k, entities.index(b[0]), dtype=np.int8)
                for k, b in zip(n, blocks, strict=True)
            ]
        )
        met = np.concatenate([np.full(k, j, dtype=np.int8) for j, k in enumerate(n)])
        idc = np.concatenate(
            [np.asarray([id_code[i] for i in b[1]], dtype=np.int32) for b in blocks]
        )
        cmc = np.concatenate(
            [np.asarray([com_code[c] for c in b[2]], dtype=np.int16) for b in blocks]
        )
        values = np.concatenate([b[4].reshape(days, -1) for b in blocks], axis=1)
        width = values.shape[1]
        return pd.DataFrame(
            {
                "day": np.repeat(np.arange(days, dtype=np.int32), width),
                "entity": pd.Categorical.from_codes(np.tile(ent, days), pd.Index(entities)),
                "id": pd.Categorical.from_codes(np.tile(idc, days), pd.Index(ids)),
                "commodity": pd.Categorical.from_codes(np.tile(cmc, days), pd.Index(coms)),
                "metric": pd.Categorical.from_codes(np.tile(met, days), pd.Index(metrics)),
                "value": values.reshape(-1).astype(float),
            }
        )

    @functools.cached_property
    def backlog_by_sector(self) -> pd.DataFrame:
        """Daily backlog (US$ at customs value) by sector: columns day, auto, farm, energy."""
        import pandas as pd

        value = np.asarray(self.meta.point_value, dtype=float)
        sector = np.asarray(self.meta.point_sector)
        usd = self.raw.backlog * value
        cols = {s: usd[:, sector == s].sum(axis=1) for s in ("auto", "farm", "energy")}
        return pd.DataFrame(cols).rename_axis("day").reset_index()

    @functools.cached_property
    def series(self) -> pd.DataFrame:
        """Daily series a chart needs, wide (see :func:`sim.analysis.series.daily_series`)."""
        return daily_series(self.meta, self.raw)

    @functools.cached_property
    def ledger(self) -> pd.DataFrame:
        """Cost ledger: day, party, country, sector, kind, region, usd (region: state or province
        of the site behind the cost, '' for government revenue)."""
        import pandas as pd

        cats = self.meta.cost_cats
        rows = self.raw.ledger
        arr = np.asarray(rows, dtype=float).reshape(-1, 3)
        code = arr[:, 1].astype(np.int32)
        cols: dict[str, Any] = {"day": arr[:, 0].astype(np.int32)}
        for j, name in enumerate(("party", "country", "sector", "kind", "region")):
            levels = sorted({c[j] for c in cats})
            lookup = np.asarray([levels.index(c[j]) for c in cats], dtype=np.int32)
            cols[name] = pd.Categorical.from_codes(
                lookup[code] if len(cats) else code, pd.Index(levels)
            )
        cols["usd"] = arr[:, 2]
        return pd.DataFrame(cols)

    @functools.cached_property
    def crossings(self) -> pd.DataFrame:
        """Per crossing and direction: vehicles/day (all traffic), modelled share, pooled p50/p95 wait."""
        import pandas as pd

        m, r = self.meta, self.raw
        rows = []
        for g, (cid, direc) in enumerate(m.crossing_keys):
            w = r.wait_samples[:, g, :].ravel()
            w = w[np.isfinite(w)]
            rows.append(
                {
                    "crossing": cid,
                    "direction": direc,
                    "kind": m.crossing_kind[g],
                    "vehicles_per_day": float(r.cross_vehicles[:, g].mean()),
                    "background_per_day": m.crossing_bkg[g],
                    "obs_per_day": m.crossing_obs[g],
                    "wait_p50_min": float(np.median(w)) if w.size else float("nan"),
                    "wait_p95_min": float(np.quantile(w, 0.95)) if w.size else float("nan"),
                    "published_p50_min": m.crossing_pub[g][0],
                    "published_p95_min": m.crossing_pub[g][1],
                    "queue_peak": float(r.cross_queue[:, g].max()) if r.cross_queue.size else 0.0,
                    "background_value_usd": m.crossing_bkg_value[g],
                    "trade_usd_per_day": self._trade_per_day(g),
                    "diverted_in": m.crossing_div_in[g],
                    "diverted_out": m.crossing_div_out[g],
                    "background_lost": m.crossing_lost[g],
                }
            )
        return pd.DataFrame(rows)

    def _trade_per_day(self, g: int) -> float:
        """Mean value crossing at group ``g`` per day: modelled lanes' shipments (in the lane's
        home group) plus background served there, at its value per vehicle."""
        m, r = self.meta, self.raw
        cid, direc = m.crossing_keys[g]
        lanes = [
            i for i, (c, d) in enumerate(zip(m.lane_crossing, m.lane_direction, strict=True))
            if c == cid and d == direc
        ]  # fmt: skip
        mod = sum(float(r.shipped[:, i].mean()) * m.lane_value[i] for i in lanes)
        return mod + m.crossing_bkg[g] * m.crossing_bkg_value[g]

    @functools.cached_property
    def plants(self) -> pd.DataFrame:
        """Per plant and day: ``produced``, ``shortfall`` (planned output not made for want of
        inputs) and ``downtime_hours`` (line-hours lost)."""
        import pandas as pd

        m, r = self.meta, self.raw
        days, npl = r.plant_made.shape
        return pd.DataFrame(
            {
                "day": np.repeat(np.arange(days, dtype=np.int32), npl),
                "plant": pd.Categorical(np.tile(np.asarray(m.plant_site, dtype=object), days)),
                "produced": r.plant_made.reshape(-1),
                "shortfall": r.plant_short.reshape(-1),
                "downtime_hours": r.plant_down.reshape(-1),
            }
        )

    @functools.cached_property
    def flows(self) -> pd.DataFrame:
        """Mean shipped per day per lane over the run, with the lane's base flow and direction."""
        import pandas as pd

        m, r = self.meta, self.raw
        return pd.DataFrame(
            {
                "lane": m.lane_id,
                "commodity": m.lane_commodity,
                "direction": m.lane_direction,
                "crossing": m.lane_crossing,
                "base_flow": m.lane_base,
                "shipped_per_day": r.shipped.mean(axis=0) if r.shipped.size else 0.0,
            }
        )
