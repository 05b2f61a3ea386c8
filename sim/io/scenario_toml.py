"""Reading scenario files: TOML, ``extends`` merging and overrides, before any validation.

:func:`read_doc` reads a file and its ``extends`` chain into a :class:`Doc` (the merged top-level
values and measure tables, with the file that set each key, so that the checker in
:mod:`sim.io.scenario_check` can name it); :func:`apply_overrides` lays sweep overrides over that
data. Problems of the file layout (bad ``extends``, ``measures`` not an array of tables, unknown
override keys) are collected on the Doc and reported with the checker's. The tables of top-level
keys and of measure keys with their TOML types live here; the file format itself is documented
in :mod:`sim.spec.scenario`, whose specs this module imports (it is imported lazily by
:func:`sim.io.scenario.load_scenario`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sim.errors import Problem, ScenarioError
from sim.io.paths import OUTSIDE, allowed_roots, builtin_scenarios, inside
from sim.spec.measures import KEY_TYPES
from sim.spec.scenario import (
    DIRECTIONS,
    PARTIES,
    PASS_THROUGH,
    SECTOR_TABLES,
    Costs,
    Market,
    rescale_shares,
)

# ---------------------------------------------------------------------------------------------
# Key tables
# ---------------------------------------------------------------------------------------------

TOP_SCALARS = ("name", "description", "network", "start", "horizon_days", "warmup_days")
COST_KEYS = tuple(f.name for f in fields(Costs))
# the keys a [market] table takes (pass_through_by is filled from pass_through.<sector>.<direction>)
MARKET_KEYS = tuple(f.name for f in fields(Market) if f.name != "pass_through_by")
MARKET_TABLES = ("pass_through", *SECTOR_TABLES)

# type of each measure key as written in TOML: from the measure kinds' declarations
MEASURE_TYPES: dict[str, str] = KEY_TYPES


# ---------------------------------------------------------------------------------------------
# Reading and merging (extends)
# ---------------------------------------------------------------------------------------------

MAX_EXTENDS = 16  # files in one extends chain


@dataclass
class Entry:
    """One measure table of the merged data, with the file that set each key."""

    data: dict[str, Any]
    src: dict[str, str]
    over: set[str] = field(default_factory=set)


@dataclass
class Doc:
    """Merged scenario data: top-level values (costs/market as tables) and measure entries."""

    file: str
    data: dict[str, Any] = field(default_factory=dict)
    src: dict[str, str] = field(default_factory=dict)  # dotted key -> file that set it
    over: set[str] = field(default_factory=set)  # dotted keys set by an override
    measures: list[Entry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    roots: tuple[Path, ...] = ()  # where extends and network may resolve (see sim.io.paths)
    anywhere: bool = False  # --allow-outside


def resolve(name_or_path: str | os.PathLike[str]) -> Path:
    """The file of a scenario path or built-in name (ScenarioError if neither)."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return p
    known = builtin_scenarios()
    if str(name_or_path) in known:
        return known[str(name_or_path)]
    raise ScenarioError(
        [
            Problem(
                str(name_or_path),
                "",
                f"no such file or built-in scenario (built-in: {', '.join(known)})",
            )
        ]
    )


def _read_toml(path: Path) -> dict[str, Any]:
    fname = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([Problem(fname, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(fname, "", "is a folder, not a scenario file")]) from None
    except UnicodeDecodeError as exc:  # never echo a file's bytes
        rule = f"not UTF-8 text (at byte {exc.start}): is it a scenario file?"
        raise ScenarioError([Problem(fname, "", rule)]) from None
    except OSError as exc:
        raise ScenarioError([Problem(fname, "", f"file cannot be read: {exc.strerror}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Problem(fname, "", f"not valid TOML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(fname, "", "TOML values nested too deeply")]) from None


def _find_parent(ext: str, child: Path) -> Path | None:
    """A parent named by ``extends``: a path relative to the child, else a built-in name."""
    rel = child.parent / ext
    for cand in (rel, rel.with_name(rel.name + ".toml")):
        if cand.is_file():
            return cand
    return builtin_scenarios().get(ext)


def read_doc(path: Path, chain: tuple[Path, ...] = ()) -> Doc:
    """Read a file and its extends chain into merged data (no validation yet)."""
    fname = str(path)
    raw = _read_toml(path)
    doc = Doc(file=fname)
    doc.roots, doc.anywhere = allowed_roots(path if not chain else chain[0])
    ext = raw.pop("extends", None)
    here = chain + (path.resolve(),)
    if ext is not None and len(here) > MAX_EXTENDS:
        doc.problems.append(
            Problem(fname, "key 'extends'", f"extends chain longer than {MAX_EXTENDS} files", ext)
        )
    elif ext is not None:
        parent_path = _find_parent(ext, path) if isinstance(ext, str) and ext else None
        if not isinstance(ext, str) or not ext:
            doc.problems.append(
                Problem(fname, "key 'extends'", "must be a scenario name or file path", ext)
            )
        elif parent_path is not None and parent_path.suffix != ".toml":
            doc.problems.append(
                Problem(fname, "key 'extends'", "must name a scenario file (.toml)", ext)
            )
        elif parent_path is not None and not doc.anywhere and not inside(parent_path, doc.roots):
            rule = OUTSIDE.format(path=parent_path.resolve())
            doc.problems.append(Problem(fname, "key 'extends'", rule, ext))
        elif parent_path is None:
            known = ", ".join(builtin_scenarios())
            doc.problems.append(
                Problem(
                    fname,
                    "key 'extends'",
                    f"no such file (relative to this file) or built-in scenario (built-in: {known})",
                    ext,
                )
            )
        elif parent_path.resolve() in here:
            names = [str(p) for p in here] + [str(parent_path.resolve())]
            doc.problems.append(
                Problem(fname, "key 'extends'", f"extends cycle: {' -> '.join(names)}", ext)
            )
        else:
            parent = read_doc(parent_path, here)
            doc.data, doc.src, doc.measures = parent.data, parent.src, parent.measures
            doc.files, doc.problems = parent.files, parent.problems + doc.problems
            doc.data.pop("name", None)  # a name is never inherited
            doc.src.pop("name", None)
    doc.files.insert(0, fname)
    _merge(doc, raw, fname)
    return doc


_KEYED = ("costs", "market", "uncertain")  # tables merged key by key over the parent's


def _merge(doc: Doc, raw: dict[str, Any], fname: str) -> None:
    """Lay the keys of one file over the (parent's) merged data."""
    for key, value in raw.items():
        if key == "measures":
            continue
        old = doc.data.get(key)
        if key in _KEYED and isinstance(value, dict) and isinstance(old, dict):
            for k, v in value.items():
                if key == "uncertain" and isinstance(v, dict) and v.get("drop") is True:
                    old.pop(k, None)  # {drop = true} removes a parent's uncertain parameter
                    continue
                old[k] = v
                doc.src[f"{key}.{k}"] = fname
        else:
            doc.data[key] = dict(value) if isinstance(value, dict) else value
            doc.src[key] = fname
            if isinstance(value, dict):
                for k in value:
                    doc.src[f"{key}.{k}"] = fname
    if "measures" in raw:
        _merge_measures(doc, raw["measures"], fname)


def _merge_measures(doc: Doc, tables: object, fname: str) -> None:
    """Lay one file's measure tables over the parent's, by id (``drop = true`` removes one)."""
    if not isinstance(tables, list):
        doc.problems.append(
            Problem(
                fname,
                "key 'measures'",
                "must be an array of tables ([[measures]])",
                type(tables).__name__,
            )
        )
        return
    inherited = {e.data.get("id"): e for e in doc.measures if isinstance(e.data.get("id"), str)}
    seen: set[str] = set()
    gone: list[Entry] = []
    for j, table in enumerate(tables):
        if not isinstance(table, dict):
            doc.problems.append(
                Problem(fname, f"key 'measures' entry {j}", "must be a table", table)
            )
            continue
        mid = table.get("id")
        drop = table.get("drop", False)
        target = inherited.get(mid) if isinstance(mid, str) and mid not in seen else None
        if isinstance(mid, str):
            seen.add(mid)
        if drop is True and target is None:
            doc.problems.append(
                Problem(
                    fname,
                    f"key 'measures ({mid}).drop'",
                    "drop = true needs a measure with this id in the parent scenario",
                    mid,
                )
            )
            continue
        if drop is True and target is not None:
            extra = sorted(set(table) - {"id", "drop"})
            if extra:
                doc.problems.append(
                    Problem(
                        fname,
                        f"key 'measures ({mid}).drop'",
                        "a measure with drop = true takes no other keys",
                        ", ".join(extra),
                    )
                )
            gone.append(target)
            continue
        body = {k: v for k, v in table.items() if not (k == "drop" and v is False)}
        if target is not None:
            target.data.update(body)
            target.src.update(dict.fromkeys(body, fname))
        else:
            doc.measures.append(Entry(dict(body), dict.fromkeys(body, fname)))
    doc.measures = [e for e in doc.measures if all(e is not g for g in gone)]


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------


def toml_text(value: object) -> str:
    """An override value as TOML text (as recorded in ``Scenario.overrides``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {toml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


_BAD = "unknown override key"


def apply_overrides(doc: Doc, overrides: Mapping[str, object]) -> None:
    """Set dotted keys on the merged data; bad keys become problems on the Doc."""
    for key, value in overrides.items():
        parts = str(key).split(".")
        head = parts[0]
        if len(parts) == 1 and head in TOP_SCALARS:
            doc.data[head] = value
            doc.src[head] = doc.file
            doc.over.add(head)
        elif head in ("costs", "market") and len(parts) == 2:
            _override_param(doc, str(key), parts, value)
        elif head == "market" and len(parts) == 3 and parts[1] in MARKET_TABLES:
            _override_market_table(doc, parts, value)
        elif (
            head == "market"
            and parts[1] == "pass_through"
            and (len(parts) == 4 or (len(parts) == 5 and parts[3] in DIRECTIONS))
        ):
            _override_sector_shares(doc, parts, value)
        elif head == "measures" and len(parts) == 3:
            _override_measure(doc, str(key), parts[1], parts[2], value)
        else:
            doc.problems.append(
                Problem(
                    doc.file,
                    f"override '{key}'",
                    f"{_BAD} (use name, description, network, start, horizon_days, warmup_days, costs.<key>, "
                    "market.<key>, market.pass_through[.<sector>[.<direction>]].<party>, "
                    "market.elasticity.<sector> or measures.<id>.<key>)",
                    value,
                )
            )


def _override_param(doc: Doc, key: str, parts: list[str], value: object) -> None:
    """``costs.<key>`` or ``market.<key>``."""
    head = parts[0]
    known = COST_KEYS if head == "costs" else MARKET_KEYS
    if parts[1] not in known:
        doc.problems.append(
            Problem(doc.file, f"override '{key}'", f"{_BAD} (known: {', '.join(known)})", value)
        )
        return
    table = doc.data.get(head)
    if not isinstance(table, dict):
        table = doc.data[head] = {}
    table[parts[1]] = dict(value) if isinstance(value, Mapping) else value
    doc.src[f"{head}.{parts[1]}"] = doc.file
    doc.over.add(f"{head}.{parts[1]}")


def _override_market_table(doc: Doc, parts: list[str], value: object) -> None:
    """``market.pass_through.<party>`` or ``market.elasticity.<sector>``."""
    market = doc.data.get("market")
    if not isinstance(market, dict):
        market = doc.data["market"] = {}
    table = market.get(parts[1])
    if not isinstance(table, dict):
        default = PASS_THROUGH if parts[1] == "pass_through" else {}
        if isinstance(table, (int, float)) and parts[1] in SECTOR_TABLES:  # a number: every sector
            default = dict.fromkeys(SECTOR_TABLES[parts[1]], table)
        table = market[parts[1]] = dict(default)
    if parts[1] == "pass_through":
        _set_share(table, parts[2], value)
    else:
        table[parts[2]] = value
    doc.src[f"market.{parts[1]}"] = doc.file
    doc.over.add(f"market.{parts[1]}")


def _override_sector_shares(doc: Doc, parts: list[str], value: object) -> None:
    """``market.pass_through.<sector>[.<direction>].<party>``: the table starts as a copy of the
    one that applies today (the sector's, else the top-level one)."""
    market = doc.data.get("market")
    if not isinstance(market, dict):
        market = doc.data["market"] = {}
    top = market.get("pass_through")
    if not isinstance(top, dict):
        top = market["pass_through"] = dict(PASS_THROUGH)
    sec = top.get(parts[2])
    if not isinstance(sec, dict):
        sec = top[parts[2]] = {}
    glob = {p: top[p] for p in PARTIES if p in top} or dict(PASS_THROUGH)
    own = {p: sec[p] for p in PARTIES if p in sec}
    table: dict[str, Any] = sec
    if len(parts) == 5:
        sub = sec.get(parts[3])
        table = sub if isinstance(sub, dict) else dict(own or glob)
        sec[parts[3]] = table
    elif not own:
        sec.update(glob)
    _set_share(table, parts[-1], value)
    doc.src["market.pass_through"] = doc.file
    doc.over.add("market.pass_through")


def _set_share(table: dict[str, Any], party: str, value: object) -> None:
    """Set one party's pass-through share; the table's other parties are rescaled to keep the sum 1
    (a value that is not a share in 0..1, or an unknown party, is left for the checker to report)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    if party not in PARTIES or not ok:
        table[party] = value
        return
    shares = {p: v for p, v in table.items() if p in PARTIES}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in shares.values()):
        table[party] = value
        return
    table.update(rescale_shares(shares, party, float(value)))  # type: ignore[arg-type]


def _override_measure(doc: Doc, key: str, mid: str, k: str, value: object) -> None:
    """``measures.<id>.<key>`` (``drop = true`` removes the measure)."""
    fname = doc.file
    found = [e for e in doc.measures if e.data.get("id") == mid]
    if not found:
        ids = ", ".join(str(e.data.get("id")) for e in doc.measures)
        doc.problems.append(
            Problem(fname, f"override '{key}'", f"no measure with id '{mid}' (ids: {ids})")
        )
    elif k not in MEASURE_TYPES or k == "id":
        doc.problems.append(
            Problem(fname, f"override '{key}'", f"{_BAD}: '{k}' is not a measure key", value)
        )
    elif k == "drop":
        if value is True:
            doc.measures = [e for e in doc.measures if e.data.get("id") != mid]
        elif value is not False:
            doc.problems.append(Problem(fname, f"override '{key}'", "must be true or false", value))
    else:
        for e in found:
            e.data[k] = list(value) if isinstance(value, tuple) else value
            e.src[k] = fname
            e.over.add(k)
