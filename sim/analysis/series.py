"""Daily series a chart needs, one compact wide table per replication, and their quantiles.

:func:`daily_series` turns one replication's raw arrays into a wide table: one row per day, one
``float32`` column per series, named ``"<group>|<key>"``:

=================== ============================ ==============================================
group               key                          value per day
=================== ============================ ==============================================
``backlog_usd``     sector                       backorders valued at customs value, US$
``shortfall_usd``   sector                       lost sales (demand not served and not
                                                 backordered) valued at customs value, US$
``cost_usd``        ``<country>:<party>``        ledger total, US$ (government: revenue < 0)
``cost_kind_usd``   ``<country>:<kind>``         ledger total by kind, US$
``burden_usd``      ``<country>:<party>:<part>`` the burden split: ``duty`` (a private party's
                                                 duty after pass-through), ``frictions`` (all
                                                 other kinds) and ``revenue`` (the government's
                                                 duty revenue, booked as a negative cost)
``vehicles``        ``<crossing>:<sb|nb>``       arrivals incl. background, vehicles
``queue``           ``<crossing>:<sb|nb>``       queue at the end of the day, vehicles
``wait_p50_min``    ``<crossing>:<sb|nb>``       median wait, minutes
``wait_p95_min``    ``<crossing>:<sb|nb>``       95th-percentile wait, minutes
``diverted_in``     ``<crossing>:<sb|nb>``       vehicles routed here from their home crossing
``diverted_out``    ``<crossing>:<sb|nb>``       vehicles of this crossing routed elsewhere
``plant_output``    plant site id                units produced
``plant_downtime_h`` plant site id               line-hours lost for want of inputs
``downtime_usd``    ``<country>:<sector>``       plant downtime cost, US$
=================== ============================ ==============================================

Shortfall by sector comes from the ledger's lost-margin rows (``lost value x lost_margin_share``),
so it needs ``lost_margin_share > 0``; its daily total equals the run's ``lost_by_day``.

:func:`series_quantiles` reduces the per-replication tables of a batch to per-day ``mean``, ``q05``,
``q50`` and ``q95`` per series (long format), reading a bounded number of columns at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.records import RunArrays, RunRecord

if TYPE_CHECKING:
    import pandas as pd

SECTORS = ("auto", "farm", "energy")
CROSSING_METRICS = (
    ("vehicles", "cross_vehicles"),
    ("queue", "cross_queue"),
    ("wait_p50_min", "cross_p50"),
    ("wait_p95_min", "cross_p95"),
    ("diverted_in", "cross_div_in"),
    ("diverted_out", "cross_div_out"),
)
QUANTILES = (("q05", 0.05), ("q50", 0.5), ("q95", 0.95))
UNITS = {
    "backlog_usd": "US$",
    "shortfall_usd": "US$/day",
    "cost_usd": "US$/day",
    "cost_kind_usd": "US$/day",
    "burden_usd": "US$/day",
    "vehicles": "vehicles/day",
    "queue": "vehicles",
    "wait_p50_min": "min",
    "wait_p95_min": "min",
    "diverted_in": "vehicles/day",
    "diverted_out": "vehicles/day",
    "plant_output": "units/day",
    "plant_downtime_h": "hours/day",
    "downtime_usd": "US$/day",
}


def _ledger_by_cat(raw: RunArrays, days: int, ncat: int) -> np.ndarray:
    """Ledger as a (days, categories) array of US$."""
    arr = np.asarray(raw.ledger, dtype=float).reshape(-1, 3)
    out = np.zeros((days, ncat))
    if len(arr):
        np.add.at(out, (arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)), arr[:, 2])
    return out


def daily_series(meta: RunRecord, raw: RunArrays) -> pd.DataFrame:
    """One replication's daily series, wide: ``day`` then one column per ``group|key``."""
    import pandas as pd

    days = int(raw.stock.shape[0])
    cols: dict[str, np.ndarray] = {}
    value = np.asarray(meta.point_value, dtype=float)
    psector = np.asarray(meta.point_sector)
    usd = raw.backlog * value if raw.backlog.size else np.zeros((days, 0))
    for s in SECTORS:
        cols[f"backlog_usd|{s}"] = usd[:, psector == s].sum(axis=1)
    cats = list(meta.cost_cats)
    by_cat = _ledger_by_cat(raw, days, len(cats))
    party = np.asarray([c[0] for c in cats])
    country = np.asarray([c[1] for c in cats])
    csector = np.asarray([c[2] for c in cats])
    kind = np.asarray([c[3] for c in cats])

    def total(mask: np.ndarray) -> np.ndarray:
        return by_cat[:, mask].sum(axis=1) if cats else np.zeros(days)

    share = float(meta.lost_margin_share)
    for s in SECTORS:
        lost = total((kind == "lost_margin") & (csector == s)) if cats else np.zeros(days)
        cols[f"shortfall_usd|{s}"] = lost / share if share > 0 else np.full(days, np.nan)
    countries = sorted(set(country.tolist()))
    for c in countries:
        for p in sorted(set(party[country == c].tolist())):
            cols[f"cost_usd|{c}:{p}"] = total((country == c) & (party == p))
        for k in sorted(set(kind[country == c].tolist())):
            cols[f"cost_kind_usd|{c}:{k}"] = total((country == c) & (kind == k))
        for p in sorted(set(party[country == c].tolist())):
            here = (country == c) & (party == p)
            if p == "government":
                cols[f"burden_usd|{c}:{p}:revenue"] = total(here & (kind == "duty"))
            else:
                cols[f"burden_usd|{c}:{p}:duty"] = total(here & (kind == "duty"))
                cols[f"burden_usd|{c}:{p}:frictions"] = total(here & (kind != "duty"))
        for s in sorted(set(csector[(country == c) & (kind == "downtime")].tolist())):
            cols[f"downtime_usd|{c}:{s}"] = total((country == c) & (kind == "downtime") & (csector == s))
    gids = [f"{c}:{d}" for c, d in meta.crossing_keys]
    for metric, key in CROSSING_METRICS:
        arr = getattr(raw, key)
        for g, gid in enumerate(gids):
            cols[f"{metric}|{gid}"] = arr[:, g]
    for k, site in enumerate(meta.plant_site):
        cols[f"plant_output|{site}"] = raw.plant_made[:, k]
        cols[f"plant_downtime_h|{site}"] = raw.plant_down[:, k]
    frame = pd.DataFrame({k: np.asarray(v, dtype=np.float32) for k, v in cols.items()})
    frame.insert(0, "day", np.arange(days, dtype=np.int32))
    return frame


def split_column(name: str) -> tuple[str, str]:
    """``"group|key"`` -> (group, key)."""
    group, _, key = name.partition("|")
    return group, key


def series_quantiles(
    read_rep: Callable[[int, Sequence[str]], np.ndarray],
    reps: Sequence[int],
    columns: Sequence[str],
    days: np.ndarray,
    *,
    budget_bytes: int = 200_000_000,
    threads: int = 1,
) -> pd.DataFrame:
    """Per-day mean and 5/50/95 % quantiles across replications of each series column.

    ``read_rep(rep, cols)`` returns that replication's (days, len(cols)) array; ``threads``
    replications are read at once. Columns are taken in chunks so that at most ``budget_bytes``
    of values are held at once (a 1,000-replication batch never holds all its series). Returns a
    long table ``group, key, day, mean, q05, q50, q95``; a day on which a series is NaN in every
    replication stays NaN.
    """
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    ndays = len(days)
    per_col = max(1, len(reps) * max(ndays, 1) * 4)
    step = max(1, budget_bytes // per_col)
    probs = [q for _, q in QUANTILES]
    frames = []
    for i in range(0, len(columns), step):
        chunk = list(columns[i : i + step])
        cube = np.empty((len(reps), ndays, len(chunk)), dtype=np.float32)

        def fill(j: int, chunk: list[str] = chunk, cube: np.ndarray = cube) -> None:
            cube[j] = read_rep(reps[j], chunk)

        with ThreadPoolExecutor(max(1, threads)) as pool:
            list(pool.map(fill, range(len(reps))))
        if np.isnan(cube).any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days stay NaN
                mean = np.nanmean(cube, axis=0)
                qs = np.nanquantile(cube, probs, axis=0)
        else:
            mean = cube.mean(axis=0, dtype=np.float64)
            qs = np.quantile(cube, probs, axis=0)
        del cube
        for c, name in enumerate(chunk):
            group, key = split_column(name)
            frames.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "key": key,
                        "day": days,
                        "mean": mean[:, c].astype(float),
                        **{lab: qs[k, :, c].astype(float) for k, (lab, _) in enumerate(QUANTILES)},
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=["group", "key", "day", "mean", "q05", "q50", "q95"])
    out = pd.concat(frames, ignore_index=True)
    out["group"] = out["group"].astype("category")
    out["key"] = out["key"].astype("category")
    return out
