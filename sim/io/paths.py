"""Where the built-in networks and scenarios live, and how a scenario names its network."""

from __future__ import annotations

import os
from pathlib import Path

from sim.spec.scenario import Scenario

ROOT = Path(os.environ.get("BORDERFLOW_HOME", Path(__file__).resolve().parents[2]))
SCENARIO_DIR = ROOT / "experiments" / "scenarios"
NETWORK_DIR = ROOT / "networks"


def builtin_scenarios() -> dict[str, Path]:
    """Names and files of the built-in scenarios."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def network_path(sc: Scenario) -> Path:
    """Folder of the scenario's network: a built-in name, or a path relative to the file."""
    p = Path(sc.network)
    if p.is_absolute():
        return p
    if sc.path is not None:
        rel = Path(sc.path).parent / p
        if rel.is_dir():
            return rel
    return NETWORK_DIR / p
