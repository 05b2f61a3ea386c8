"""Exceptions raised by Borderflow.

::

    SimError
     ├── NetworkError        (also ValueError)  bad network files
     ├── ScenarioError       (also ValueError)  bad scenario files
     ├── BatchError          (also ValueError)  bad batch arguments, or a backend that cannot be used
     ├── ResultsFolderError  (also ValueError)  a results folder this run must not mix with or overwrite
     ├── MassBalanceError                       a run created or lost goods
     └── NonFiniteError                         a run's KPIs came out inf or nan

Loading collects every problem and raises once; each :class:`Problem` names the file, the row or key,
the column, the rule and the offending value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding: where it is, which rule it breaks, and the value found."""

    file: str
    where: str  # "row 7" / "column 'capacity'" / "key 'measures[0].rate'" / "" for the whole file
    rule: str
    value: object = None

    def __str__(self) -> str:
        loc = f"{self.file}: {self.where}: " if self.where else f"{self.file}: "
        tail = "" if self.value is None else f" (got {self.value!r})"
        return f"{loc}{self.rule}{tail}"


class SimError(Exception):
    """Root of every Borderflow error."""


class _ProblemsError(SimError, ValueError):
    """An error that carries a list of problems, all reported at once."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class NetworkError(_ProblemsError):
    """A network folder breaks one or more rules."""


class ScenarioError(_ProblemsError):
    """A scenario file breaks one or more rules."""


class MassBalanceError(SimError):
    """A run's stock accounting does not balance for some commodity."""


class BatchError(SimError, ValueError):
    """Bad batch arguments, or the execution backend cannot be used."""


class ResultsFolderError(SimError, ValueError):
    """A results folder holds something this run must not mix with or overwrite."""


class NonFiniteError(SimError):
    """A run's KPIs came out infinite or NaN where a number is required."""
