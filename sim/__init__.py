"""Borderflow: discrete-event simulation of Canada-US supply chains under trade conflict."""

from sim.batch import run_batch
from sim.errors import MassBalanceError, NetworkError, ScenarioError, SimError
from sim.network import Network, load_network
from sim.results import simulate
from sim.scenario import load_scenario

__all__ = [
    "MassBalanceError",
    "Network",
    "NetworkError",
    "ScenarioError",
    "SimError",
    "load_network",
    "load_scenario",
    "run_batch",
    "simulate",
]
__version__ = "0.1.0"
