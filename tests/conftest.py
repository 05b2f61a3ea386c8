"""Test configuration: Hypothesis runs a fixed set of examples in CI (reproducible), random ones locally."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


TINY = Path(__file__).resolve().parent.parent / "networks" / "tiny"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scenario file on the small network (networks/tiny), 60 days, no measures."""
    p = tmp_path_factory.mktemp("sc") / "tiny.toml"
    p.write_text(f'name = "tiny"\nnetwork = "{TINY}"\nhorizon_days = 60\n', encoding="utf-8")
    return p
