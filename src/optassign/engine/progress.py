"""Live reports during a solve, for progress displays: what runs now, since when, how good."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from optassign.engine.result import relative_gap


@dataclass(frozen=True)
class Progress:
    """A live report during a solve, for progress displays."""

    phase: str
    elapsed: float
    objective: float | None = None
    best_bound: float | None = None

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.best_bound is None:
            return None
        return relative_gap(self.objective, self.best_bound)


ProgressFn = Callable[[Progress], None]


def silent(_progress: Progress) -> None:
    """The report of a solve nobody watches."""


def relabel(report: ProgressFn, prefix: str, clock: Callable[[], float]) -> ProgressFn:
    """Reports of a step run inside a larger one (a part of the batch, the whole batch after
    its regions) under the larger step's name and on its clock."""

    def relay(p: Progress) -> None:
        report(Progress(f"{prefix}: {p.phase}", clock()))

    return relay
