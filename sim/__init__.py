"""Borderflow: discrete-event simulation of Canada-US supply chains under trade conflict."""

from sim.errors import MassBalanceError, NetworkError, ScenarioError, SimError
from sim.network import Network, load_network

__all__ = [
    "MassBalanceError",
    "Network",
    "NetworkError",
    "ScenarioError",
    "SimError",
    "load_network",
]
__version__ = "0.1.0"
