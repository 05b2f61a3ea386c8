"""Where the built-in networks and scenarios live, and how a scenario names its network.

The built-ins live in a *home* folder laid out like the repository: ``networks/`` and
``experiments/scenarios/``. The home is ``$BORDERFLOW_HOME`` if set; else the copy packaged inside
an installed wheel (``sim/_data/``, built from those two repository folders); else the source
checkout ``sim/`` sits in (an editable install, or the repository on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
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


# Confinement: where a scenario's ``extends`` and ``network`` may point. The command line sets the
# paths it was given and ``--allow-outside``; :func:`sim.io.scenario.load_scenario` reads them.
_CONFINE: ContextVar[tuple[tuple[Path, ...], bool]] = ContextVar("confine", default=((), False))


@contextlib.contextmanager
def confinement(roots: Sequence[str | os.PathLike[str]], allow_outside: bool) -> Iterator[None]:
    """Within the block, scenarios may also reach into ``roots``; or anywhere, if ``allow_outside``."""
    token = _CONFINE.set((tuple(Path(r) for r in roots), allow_outside))
    try:
        yield
    finally:
        _CONFINE.reset(token)


def allowed_roots(scenario_file: Path) -> tuple[tuple[Path, ...], bool]:
    """The folders a scenario file's references may resolve into, and whether anywhere goes."""
    extra, anywhere = _CONFINE.get()
    return (scenario_file.parent, SCENARIO_DIR, NETWORK_DIR, *extra), anywhere


def inside(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path`` (symlinks resolved) is one of ``roots`` or lies below one."""
    try:
        p = path.resolve()
        return any(p == r or r in p.parents for r in (x.resolve() for x in roots))
    except (OSError, RuntimeError):
        return False


OUTSIDE = (
    "resolves to {path}, outside the scenario's folder and the built-in folders: give that path "
    "on the command line too, or pass --allow-outside"
)
