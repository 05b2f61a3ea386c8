"""The README's Python snippets run as written (after the command that makes their inputs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results" / "demo" / "baseline"
    assert (
        main(["run", "baseline", "--seed", "1", "--days", "30", "--out", str(out), "--quiet"]) == 0
    )
    names: set[str] = set()
    for code in blocks:
        namespace: dict[str, object] = {}
        exec(compile(code.replace("days=365", "days=30"), "README.md", "exec"), namespace)
        names |= set(namespace)
    assert {"kpis", "daily", "backlog", "res"} <= names
