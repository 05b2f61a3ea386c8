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
``q50`` and ``q95`` per series (long format): it reads each replication once and holds at most a
memory budget of values, spilling the rest to a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING

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
    """Ledger as a (days, categories) array of US$ (each cell's rows added in booking order)."""
    arr = np.asarray(raw.ledger, dtype=float).reshape(-1, 3)
    cell = arr[:, 0].astype(np.intp) * ncat + arr[:, 1].astype(np.intp)
    out: np.ndarray = np.bincount(cell, weights=arr[:, 2], minlength=days * ncat)
    return out.reshape(days, ncat)


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
    read_rep: Callable[[int], np.ndarray],
    reps: Sequence[int],
    columns: Sequence[str],
    days: np.ndarray,
    *,
    budget_bytes: int = 128_000_000,
    threads: int = 1,
    spill_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Per-day mean and 5/50/95 % quantiles across replications of each series column.

    ``read_rep(rep)`` returns that replication's values as a ``(len(columns), len(days))`` array;
    it is called once per replication, ``threads`` replications at a time. The values of all
    replications are held as ``float32``: in memory when they fit in ``budget_bytes`` (counting the
    transposed copy the quantiles are taken from), otherwise in an unnamed temporary file in
    ``spill_dir`` (deleted when closed, or when the process dies), laid out so that each chunk
    of columns that fits the budget (at least one column) is one contiguous read. Per chunk the
    replications of each series-day are sorted and :func:`numpy.quantile` (``linear``, ignoring
    NaN where a series-day has some) reads the order statistics; the mean is the ``float64`` sum over replications divided by their count.
    Returns a long table ``group, key, day, mean, q05, q50, q95``; a day on which a series is NaN
    in every replication stays NaN.
    """
    import pandas as pd

    if not len(reps):
        raise ValueError("series_quantiles needs at least one replication")
    nrep, ncol, nday = len(reps), len(columns), len(days)
    if ncol == 0:
        return pd.DataFrame(columns=["group", "key", "day", "mean", "q05", "q50", "q95"])
    per_col = nrep * nday * 4  # bytes of one column over all replications
    step = max(1, budget_bytes // max(1, 2 * per_col))  # a chunk and its transposed copy
    chunks = [(lo, min(lo + step, ncol)) for lo in range(0, ncol, step)]
    with contextlib.ExitStack() as stack:
        spill = stack.enter_context(tempfile.TemporaryFile(dir=spill_dir)) if len(chunks) > 1 else None
        cube = _Cube(nrep, ncol, nday, chunks, spill)

        def fill(j: int) -> None:
            values = read_rep(reps[j])
            if values.shape != (ncol, nday):
                raise ValueError(
                    f"replication {reps[j]}: values of shape {values.shape}, expected {(ncol, nday)}"
                )
            cube.put(j, values)

        with ThreadPoolExecutor(max(1, threads)) as pool:
            list(pool.map(fill, range(nrep)))
        mean = np.empty((ncol, nday))
        qs = np.empty((len(QUANTILES), ncol, nday))
        for lo, hi in chunks:
            m, q = _chunk_stats(cube.get(lo, hi))
            mean[lo:hi] = m.reshape(hi - lo, nday)
            qs[:, lo:hi] = q.reshape(len(QUANTILES), hi - lo, nday)
    groups, keys = zip(*(split_column(c) for c in columns), strict=True)
    return pd.DataFrame(
        {
            "group": pd.Categorical(np.repeat(np.asarray(groups, dtype=object), nday)),
            "key": pd.Categorical(np.repeat(np.asarray(keys, dtype=object), nday)),
            "day": np.tile(np.asarray(days), ncol),
            "mean": mean.ravel(),
            **{lab: qs[k].ravel() for k, (lab, _) in enumerate(QUANTILES)},
        }
    )


def _chunk_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and quantiles over axis 0 of a (replications, cells) ``float32`` array."""
    probs = [q for _, q in QUANTILES]
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days stay NaN
        mean = values.sum(axis=0, dtype=np.float64) / len(values)
        cells = values.T.copy()  # one row per series-day: a contiguous sort per row
        cells.sort(axis=1)  # NaN last; the quantiles of sorted rows are those of the rows
        nan = np.isnan(cells[:, -1])
        q = np.asarray(np.quantile(cells, probs, axis=1, overwrite_input=True), dtype=np.float64)
        if nan.any():  # series-days missing in some replications: over the others
            some = values[:, nan]
            mean[nan] = np.nansum(some, axis=0, dtype=np.float64) / (~np.isnan(some)).sum(axis=0)
            q[:, nan] = np.nanquantile(cells[nan], probs, axis=1)
    return mean, q


class _Cube:
    """The (replications, columns, days) ``float32`` values of a batch, in memory or spilled.

    Without a ``spill`` file the values live in memory. Otherwise they go to that file, chunk by
    chunk: chunk ``lo:hi`` starts at byte ``lo * per_col`` and holds, replication after
    replication, that replication's ``(hi - lo, days)`` block, so :meth:`get` is one read.
    """

    def __init__(
        self, nrep: int, ncol: int, nday: int, chunks: list[tuple[int, int]], spill: IO[bytes] | None
    ) -> None:
        self.nrep, self.nday, self.chunks, self.file = nrep, nday, chunks, spill
        self.memory = np.empty((nrep, ncol, nday), dtype=np.float32) if spill is None else None

    def put(self, j: int, values: np.ndarray) -> None:
        """Store replication number ``j``'s (columns, days) values (thread-safe)."""
        if self.memory is not None:
            self.memory[j] = values
            return
        assert self.file is not None
        values = np.ascontiguousarray(values, dtype=np.float32)
        fd = self.file.fileno()
        for lo, hi in self.chunks:
            block = values[lo:hi].data.cast("B")
            offset = (lo * self.nrep + j * (hi - lo)) * self.nday * 4
            while block:
                n = os.pwrite(fd, block, offset)
                block, offset = block[n:], offset + n

    def get(self, lo: int, hi: int) -> np.ndarray:
        """Columns ``lo:hi`` of every replication as a (replications, (hi - lo) * days) array."""
        if self.memory is not None:
            return self.memory[:, lo:hi].reshape(self.nrep, -1)
        assert self.file is not None
        out = np.empty((self.nrep, (hi - lo) * self.nday), dtype=np.float32)
        view = out.data.cast("B")
        fd, offset = self.file.fileno(), lo * self.nrep * self.nday * 4
        while view:
            n = os.preadv(fd, [view], offset)
            if n == 0:
                raise OSError(f"spilled series values end early at byte {offset}")
            view, offset = view[n:], offset + n
        return out
