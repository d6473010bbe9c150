"""What a solve did, one record: each step files its figures under its name, and `flat()`
gives the keys of summary.json's `statistics` (e.g. `lp_bound`, `stage1_stopped_by`)."""

from __future__ import annotations

from collections.abc import Mapping

Figure = float | int | str


def _rounded(key: str, value: Figure) -> Figure:
    """Seconds to the millisecond, other real figures to six decimals."""
    if isinstance(value, float):
        return round(value, 3 if key.endswith("seconds") else 6)
    return value


class Statistics:
    """An ordered record of figures: the first filing of a key fixes its place, a later one
    its value."""

    def __init__(self, **figures: Figure):
        self._figures: dict[str, Figure] = {}
        self.update(**figures)

    def update(self, **figures: Figure) -> None:
        """Figures of the solve as a whole (`task_pairs`, `search`)."""
        self.merge(figures)

    def record(self, step: str, **figures: Figure) -> None:
        """A step's figures, filed as `<step>_<name>`."""
        self.merge({f"{step}_{name}": value for name, value in figures.items()})

    def merge(self, figures: Mapping[str, Figure]) -> None:
        """Figures already flat, e.g. those of an inner solve."""
        for key, value in figures.items():
            self._figures[key] = _rounded(key, value)

    def get(self, key: str, default: Figure | None = None) -> Figure | None:
        return self._figures.get(key, default)

    def flat(self) -> dict[str, Figure]:
        return dict(self._figures)
