"""Borderflow: discrete-event simulation of Canada-US supply chains under trade conflict."""

from importlib import metadata as _metadata
from typing import Any

from sim.analysis.burden import Burden, BurdenSummary, burden, burden_batch, cost_account
from sim.analysis.folder import Folder, burden_table
from sim.analysis.metrics import ttr_days, tts_days
from sim.analysis.result import Result
from sim.batch import BatchResult, compare, run_batch, sweep
from sim.batch.sensitivity import Sensitivity, sensitivity
from sim.batch.simulate import network_for, simulate
from sim.batch.whopays import who_pays
from sim.errors import (
    BatchError,
    MassBalanceError,
    NetworkError,
    ResultsFolderError,
    ScenarioError,
    SimError,
)
from sim.io.network import load_network
from sim.io.paths import builtin_scenarios
from sim.io.regions import load_reporting_regions
from sim.io.scenario import load_scenario
from sim.io.synthetic import write_synthetic_network
from sim.spec.network import Network
from sim.spec.scenario import Scenario

__all__ = [
    "BatchError",
    "BatchResult",
    "Burden",
    "BurdenSummary",
    "Folder",
    "MassBalanceError",
    "Network",
    "NetworkError",
    "Result",
    "ResultsFolderError",
    "Scenario",
    "ScenarioError",
    "Sensitivity",
    "SimError",
    "builtin_scenarios",
    "burden",
    "burden_batch",
    "burden_table",
    "compare",
    "cost_account",
    "load_network",
    "load_reporting_regions",
    "load_scenario",
    "network_for",
    "run_batch",
    "sensitivity",
    "simulate",
    "sweep",
    "ttr_days",
    "tts_days",
    "viz",
    "who_pays",
    "write_synthetic_network",
]

try:  # single source: the version in pyproject.toml, as installed
    __version__ = _metadata.version("borderflow")
except _metadata.PackageNotFoundError:  # a source tree put on sys.path without installing it
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    """``sim.viz`` (figures and reports) is imported on first use: matplotlib and pandas stay out
    of the simulation path."""
    if name == "viz":
        import importlib

        return importlib.import_module("sim.viz")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
