"""Setting numeric scenario parameters by dotted key, and drawing the uncertain ones per replication.

:func:`with_values` returns a scenario with parameters set by the same dotted keys as overrides
(``costs.<key>``, ``market.<key>``, ``market.elasticity.<sector>``,
``market.pass_through[.<sector>[.<direction>]].<party>``, ``measures.<id>.<key>``); setting one
pass-through share rescales the other parties of its table so the shares still sum to 1.
:func:`draw_values` draws a scenario's ``[uncertain]`` parameters for replication ``rep`` of a batch
seeded ``seed`` from their own stream, ``SeedSequence(seed, spawn_key=(rep, PARAM_STREAM, crc32(key)))``:
independent of the engine's streams (``spawn_key=(rep, 0..3)``) and of which other parameters are
declared, so two scenarios declaring the same parameter draw the same value in a replication.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping

import numpy as np

from sim.spec.scenario import (
    DIRECTIONS,
    PARTIES,
    SECTOR_TABLES,
    Costs,
    FrozenMap,
    Market,
    Scenario,
    rescale_shares,
)
from sim.spec.uncertain import Uncertain

PARAM_STREAM = 0x5041524D  # "PARM": spawn-key tag of the parameter streams

_COSTS = {f.name for f in dataclasses.fields(Costs)}
_MARKET = {f.name for f in dataclasses.fields(Market)} - {
    "pass_through",
    "pass_through_by",
    "elasticity",
}


def param_column(key: str) -> str:
    """KPI column holding a drawn parameter: ``param:<key>``."""
    return f"param:{key}"


def key_problem(key: str, sc: Scenario) -> str | None:
    """Why ``key`` cannot be set by :func:`with_values` on ``sc`` (None if it can)."""
    parts = key.split(".")
    head = parts[0]
    if head == "costs" and len(parts) == 2:
        return None if parts[1] in _COSTS else f"unknown cost parameter '{parts[1]}'"
    if head == "market" and len(parts) == 2:
        return None if parts[1] in _MARKET else f"'{parts[1]}' is not a numeric market parameter"
    if head == "market" and len(parts) == 3 and parts[1] in SECTOR_TABLES:
        return None
    if head == "market" and parts[1] == "pass_through" and 3 <= len(parts) <= 5:
        if parts[-1] not in PARTIES:
            return f"the last part must be a party ({', '.join(PARTIES)})"
        if len(parts) == 5 and parts[3] not in DIRECTIONS:
            return f"direction must be one of {', '.join(DIRECTIONS)}"
        return None
    if head == "measures" and len(parts) == 3:
        ids = {m.id for m in sc.measures}
        if parts[1] not in ids:
            return f"no measure with id '{parts[1]}'"
        m = sc.measure(parts[1])
        if not isinstance(getattr(m, parts[2], None), float):
            return f"'{parts[2]}' is not a numeric key of measure '{parts[1]}'"
        return None
    return (
        "not a numeric parameter key (costs.<key>, market.<key>, market.<table>.<sector>, "
        "market.pass_through[.<sector>[.<direction>]].<party>, measures.<id>.<key>)"
    )


def with_values(sc: Scenario, values: Mapping[str, float]) -> Scenario:
    """``sc`` with each dotted key of ``values`` set (ValueError for a key it cannot set).

    Ranges are not checked here: the scenario checker validates every value an ``[uncertain]``
    parameter can take when the file is loaded.
    """
    costs, market, measures = sc.costs, sc.market, list(sc.measures)
    for key, value in values.items():
        why = key_problem(key, sc)
        if why is not None:
            raise ValueError(f"{key}: {why}")
        parts, v = key.split("."), float(value)
        if parts[0] == "costs":
            costs = dataclasses.replace(costs, **{parts[1]: v})  # type: ignore[arg-type]
        elif parts[0] == "measures":
            measures = [
                dataclasses.replace(m, **{parts[2]: v})  # type: ignore[arg-type]
                if m.id == parts[1]
                else m
                for m in measures
            ]
        elif len(parts) == 2:
            market = dataclasses.replace(market, **{parts[1]: v})  # type: ignore[arg-type]
        elif parts[1] in SECTOR_TABLES:  # elasticity, switching and absorption by sector
            table = FrozenMap({**getattr(market, parts[1]), parts[2]: v})
            market = dataclasses.replace(market, **{parts[1]: table})  # type: ignore[arg-type]
        elif len(parts) == 3:
            market = dataclasses.replace(
                market, pass_through=FrozenMap(rescale_shares(market.pass_through, parts[2], v))
            )
        else:
            sector, direction = parts[2], parts[3] if len(parts) == 5 else ""
            by = {(s, d): t for s, d, t in market.pass_through_by}
            old = by.get((sector, direction)) or by.get((sector, "")) or market.pass_through
            by[(sector, direction)] = FrozenMap(rescale_shares(old, parts[-1], v))
            market = dataclasses.replace(
                market, pass_through_by=tuple((s, d, t) for (s, d), t in by.items())
            )
    return dataclasses.replace(sc, costs=costs, market=market, measures=tuple(measures))


def unit_draw(seed: int, rep: int, key: str) -> float:
    """The uniform number in [0, 1) of parameter ``key`` in replication ``rep`` of batch ``seed``."""
    ss = np.random.SeedSequence(seed, spawn_key=(rep, PARAM_STREAM, zlib.crc32(key.encode())))
    return float(np.random.default_rng(ss).random())


def draw_values(params: tuple[Uncertain, ...], seed: int, rep: int) -> dict[str, float]:
    """The value of each uncertain parameter in replication ``rep`` of a batch seeded ``seed``."""
    return {u.key: u.ppf(unit_draw(seed, rep, u.key)) for u in params}


def current_value(sc: Scenario, key: str) -> float:
    """The value ``key`` holds in ``sc`` (its default when it is not drawn)."""
    parts = key.split(".")
    if parts[0] == "costs":
        return float(getattr(sc.costs, parts[1]))
    if parts[0] == "measures":
        return float(getattr(sc.measure(parts[1]), parts[2]))
    if len(parts) == 2:
        value = getattr(sc.market, parts[1])
        if isinstance(value, Mapping):  # a sector table set as one number: its mean over sectors
            return float(sum(value.values()) / max(len(value), 1))
        return float(value)
    if parts[1] in SECTOR_TABLES:
        return float(getattr(sc.market, parts[1])[parts[2]])
    if len(parts) == 3:
        return float(sc.market.pass_through.get(parts[2], 0.0))
    direction = parts[3] if len(parts) == 5 else ""
    return float(sc.market.shares(parts[2], direction).get(parts[-1], 0.0))
