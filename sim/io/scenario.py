"""Loading a scenario: a file or built-in name, its ``extends`` chain and overrides, validated.

The file format is documented in :mod:`sim.spec.scenario`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping

from sim.errors import Problem, ScenarioError
from sim.io.scenario_check import check
from sim.io.scenario_toml import apply_overrides, read_doc, resolve, toml_text
from sim.spec.scenario import Scenario


def _split_values(text: str) -> list[str]:
    """Split on commas outside quotes, brackets and braces."""
    out: list[str] = []
    depth, quote, cur = 0, "", []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                cur.append(text[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return [s.strip() for s in out]


def parse_override(text: str) -> tuple[str, list[object]]:
    """Parse ``KEY=V1,V2,...`` (``borderflow sweep --set``) into the key and its values.

    Values are TOML values: numbers, booleans, dates, quoted strings, arrays; a bare word is a
    string. Raise ScenarioError if the text has no ``=``, no key or an empty value.
    """
    where = f"override '{text}'"
    key, eq, rest = text.partition("=")
    key = key.strip()
    if not eq or not key or any(not p for p in key.split(".")):
        raise ScenarioError(
            [Problem("--set", where, "must be KEY=VALUE[,VALUE...], e.g. measures.t1.rate=0.25")]
        )
    values: list[object] = []
    problems: list[Problem] = []
    for token in _split_values(rest):
        if not token:
            problems.append(Problem("--set", where, "empty value"))
            continue
        try:
            values.append(tomllib.loads(f"v = {token}")["v"])
        except tomllib.TOMLDecodeError:
            if token[0] in "\"'[{":
                problems.append(Problem("--set", where, "not a valid TOML value", token))
            else:
                values.append(token)
    if problems:
        raise ScenarioError(problems)
    return key, values


def load_scenario(
    name_or_path: str | os.PathLike[str], overrides: Mapping[str, object] | None = None
) -> Scenario:
    """Read and validate a scenario file or built-in scenario.

    Parameters
    ----------
    name_or_path
        A scenario file, or the name of a built-in scenario (``experiments/scenarios/<name>.toml``).
    overrides
        Dotted keys set on the merged data before validation, e.g.
        ``{"horizon_days": 365, "measures.us_tariff.rate": 0.35}`` (see the module docstring).

    Raises
    ------
    ScenarioError
        Listing every problem, each naming the file, the key, the rule and the value.
    """
    doc = read_doc(resolve(name_or_path))
    if overrides:
        apply_overrides(doc, overrides)
    sc = check(doc)
    if overrides:
        ov = tuple((str(k), toml_text(v)) for k, v in overrides.items())
        sc = dataclasses.replace(sc, overrides=ov)
    return sc
