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


QUICKSTART = ["run", "baseline", "--seed", "1", "--days", "730"]
_BLOCK = re.compile(r"(`make demo` prints a summary like this[^\n]*\n\n```\n)(.*?)(```)", re.S)


def _quickstart_output() -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(QUICKSTART) == 0
    return buf.getvalue()


def _mask(text: str) -> str:
    """The output without what varies by machine: the wall-clock time."""
    return re.sub(r"wall \d+\.\d+ s", "wall <t> s", text)


def test_readme_quickstart_output_is_what_the_command_prints() -> None:
    """The Quickstart sample is regenerated, never edited by hand: `python tests/test_readme.py --write`."""
    m = _BLOCK.search(README.read_text(encoding="utf-8"))
    assert m is not None
    assert _mask(m.group(2)) == _mask(_quickstart_output()), (
        "README Quickstart output is stale: run `python tests/test_readme.py --write`"
    )


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv:
        text = README.read_text(encoding="utf-8")
        out = _quickstart_output()
        README.write_text(
            _BLOCK.sub(lambda m: m.group(1) + out + m.group(3), text), encoding="utf-8"
        )
        print(f"README Quickstart output rewritten from `borderflow {' '.join(QUICKSTART)}`")
