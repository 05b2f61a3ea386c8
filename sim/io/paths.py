"""Where the built-in networks and scenarios live, and how a scenario names its network.

The built-ins live in a *home* folder laid out like the repository: ``networks/`` and
``experiments/scenarios/``. The home is ``$BORDERFLOW_HOME`` if set; else the copy packaged inside
an installed wheel (``sim/_data/``, built from those two repository folders); else the source
checkout ``sim/`` sits in (an editable install, or the repository on ``sys.path``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from sim.spec.scenario import Scenario

PACKAGED = Path(str(resources.files("sim") / "_data"))  # only present in a wheel install
CHECKOUT = Path(__file__).resolve().parents[2]


def _home() -> Path:
    env = os.environ.get("BORDERFLOW_HOME")
    if env:
        return Path(env)
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT


ROOT = _home()
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
