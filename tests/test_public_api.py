"""The public surface: a short, sorted ``__all__`` whose names all exist and are documented."""

from __future__ import annotations

import re
from pathlib import Path

import sim


def test_all_is_sorted_and_importable() -> None:
    assert sim.__all__ == sorted(sim.__all__)
    for name in sim.__all__:
        assert getattr(sim, name).__doc__, name


def test_every_public_name_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for name in sim.__all__:
        assert re.search(rf"\b{name}\b", readme), f"{name} is not documented in the README"


def test_public_modules_do_not_leak_pandas_into_the_simulation_path() -> None:
    import subprocess
    import sys

    code = "import sys, sim; sim.simulate('baseline', days=5); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_import_sim_leaves_the_heavy_libraries_for_when_they_are_needed() -> None:
    """`import sim` stays fast: tables (pandas, pyarrow), graphs (networkx), figures (matplotlib)
    and Dask are imported where they are used, not at import (README "Performance": ~0.16 s)."""
    import subprocess
    import sys

    heavy = ("pandas", "pyarrow", "networkx", "matplotlib", "dask", "distributed", "SALib")
    code = f"import sys, sim; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
