"""Reporting regions: the table that groups states and provinces for the burden by region.

``networks/reporting_regions.csv`` (columns ``region, country, reporting_region, name``) maps each
state or province code of ``sites.csv``'s ``region`` column to a reporting region (US Midwest, rest
of US, Ontario, Prairies, rest of Canada). A network folder may hold its own
``reporting_regions.csv``, which replaces the shared one.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sim.errors import NetworkError, Problem
from sim.io.paths import NETWORK_DIR, network_path
from sim.spec.scenario import Scenario

FILE = "reporting_regions.csv"
COLUMNS = ("region", "country", "reporting_region")
COUNTRIES = ("US", "CA")


def regions_file(sc: Scenario) -> Path:
    """The reporting-regions table for ``sc``: its network folder's, else the shared one."""
    own = network_path(sc) / FILE
    return own if own.is_file() else NETWORK_DIR / FILE


def load_reporting_regions(path: str | Path) -> dict[str, str]:
    """State/province code -> reporting region, from a ``reporting_regions.csv``.

    Raises NetworkError listing every problem (file, row, column, rule, value).
    """
    fname = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise NetworkError([Problem(fname, "", f"file cannot be read: {exc}")]) from None
    problems: list[Problem] = []
    out: dict[str, str] = {}
    if rows and any(c not in rows[0] for c in COLUMNS):
        missing = [c for c in COLUMNS if c not in rows[0]]
        raise NetworkError(
            [Problem(fname, "row 1", "required column is missing", ", ".join(missing))]
        )
    for n, row in enumerate(rows, start=2):
        code = (row.get("region") or "").strip()
        rep = (row.get("reporting_region") or "").strip()
        country = (row.get("country") or "").strip()
        if not code:
            problems.append(Problem(fname, f"row {n}, column 'region'", "must not be blank"))
        elif code in out:
            problems.append(Problem(fname, f"row {n}, column 'region'", "appears twice", code))
        if country not in COUNTRIES:
            problems.append(
                Problem(fname, f"row {n}, column 'country'", "must be US or CA", country)
            )
        if not rep:
            problems.append(
                Problem(fname, f"row {n}, column 'reporting_region'", "must not be blank")
            )
        if code and rep:
            out[code] = rep
    if problems:
        raise NetworkError(problems)
    return out
