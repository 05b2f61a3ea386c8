"""Golden KPIs: the same seed gives the same KPIs to the last bit across refactors.

The file ``golden/kpis_seed2025_rep1.json`` was written by the engine before the layers refactor
(issue 8). A refactor that must not change behaviour keeps this test green unchanged; a change that
is meant to move results (a new mechanism, a calibration) regenerates the file with
``python tests/test_golden.py --write`` and says so in its commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import sim

GOLDEN = Path(__file__).with_name("golden") / "kpis_seed2025_rep1.json"
SCENARIOS = ("talks_collapse", "baseline")
TIMING = {"wall_s"}  # measured, not simulated


def _kpis(name: str) -> dict[str, object]:
    r = sim.simulate(name, seed=2025, rep=1, days=730)
    return {k: (float(v).hex() if isinstance(v, float) else v) for k, v in sorted(r.kpis.items()) if k not in TIMING}


@pytest.mark.parametrize("name", SCENARIOS)
def test_kpis_match_golden_bit_for_bit(name: str) -> None:
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    got = _kpis(name)
    assert sorted(got) == sorted(want), "KPI names changed"
    diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
    assert not diff, f"{len(diff)} KPIs moved: {diff}"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.write_text(
        json.dumps({n: _kpis(n) for n in SCENARIOS}, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
