"""Time (contract v1.1): the horizon's days, which of them are working days, and each agent's
available hours day by day.

An agent's hours on a day are, in this order: its calendar.csv row for that day; else, on a
working day, its hours_per_day, or its capacity_hours spread evenly over the horizon's working
days; else (a weekend, a holiday) none. Dated events (a leave from a day until a day, a dated
capacity change) write calendar rows, so everything downstream reads one calendar."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.io import read_table
from optassign.contract.schema import CALENDAR, WEEKDAYS, Horizon, InputProblem

__all__ = [
    "Days",
    "agent_hours",
    "cumulative_hours",
    "dated_rows",
    "due_days",
    "horizon_days",
    "read_calendar",
]


class Days:
    """The horizon's dates and working days, as arrays."""

    def __init__(self, horizon: Horizon):
        self.horizon = horizon
        self.dates = np.arange(
            np.datetime64(horizon.start, "D"), np.datetime64(horizon.end, "D") + 1, dtype="datetime64[D]"
        )
        weekday = (self.dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
        working = np.isin(weekday, [WEEKDAYS.index(d) for d in horizon.working_days])
        holidays = np.array(sorted(horizon.holidays), dtype="datetime64[D]")
        self.working = working & ~np.isin(self.dates, holidays)

    def __len__(self) -> int:
        return len(self.dates)

    def index(self, dates: pd.Series | np.ndarray) -> np.ndarray:
        """Day index of each date (-1 before the start, len(self) after the end)."""
        d = np.asarray(pd.to_datetime(pd.Series(dates)).to_numpy(), dtype="datetime64[D]")
        return (d - self.dates[0]).astype(np.int64)


def horizon_days(horizon: Horizon | None) -> Days | None:
    return None if horizon is None else Days(horizon)


def read_calendar(
    path: Path,
    problems: list[InputProblem],
    label: str,
    days: Days | None,
    agent_ids: pd.Index | None,
    agents_file: str,
    warnings: list[str],
) -> pd.DataFrame | None:
    """calendar.csv validated: a known agent, one row per (agent, date), hours within 0..24.
    A date outside the horizon is a warning (the row is dropped), not an error."""
    frame = read_table(path, CALENDAR, problems, label)
    if frame is None:
        return None
    lines = frame.attrs["lines"]
    if days is None:
        problems.append(
            InputProblem(
                label,
                None,
                None,
                None,
                "a calendar needs a horizon in scenario.yaml (horizon: {start, days})",
            )
        )
        return None
    ok = frame["date"].notna().to_numpy().copy()
    if agent_ids is not None:
        unknown = ~frame["agent_id"].isin(agent_ids).to_numpy()
        for i in np.flatnonzero(unknown):
            problems.append(
                InputProblem(
                    label,
                    int(lines[i]),
                    "agent_id",
                    frame["agent_id"].iat[i],
                    f"not an agent_id of {agents_file}",
                )
            )
        ok &= ~unknown
    key = frame["agent_id"].astype(str) + "\x00" + frame["date"].astype(str)
    dup = key.duplicated().to_numpy() & ok
    first_line = dict(zip(key[~key.duplicated()], lines[~key.duplicated().to_numpy()], strict=True))
    for i in np.flatnonzero(dup):
        problems.append(
            InputProblem(
                label,
                int(lines[i]),
                "date",
                str(frame["date"].iat[i].date()),
                f"a second row for agent {frame['agent_id'].iat[i]} on this date "
                f"(the first is on line {first_line[key.iat[i]]})",
            )
        )
    where = np.full(len(frame), -1, dtype=np.int64)
    where[ok] = days.index(frame["date"][ok])
    outside = ok & ((where < 0) | (where >= len(days)))
    for i in np.flatnonzero(outside):
        warnings.append(
            f"{label} line {int(lines[i])}: date {frame['date'].iat[i].date()} is outside the horizon "
            f"{days.horizon.start} .. {days.horizon.end}; the row is ignored"
        )
    keep = ok & ~outside & ~dup
    out = frame.loc[keep, ["agent_id", "date", "hours"]].reset_index(drop=True)
    out.attrs = {}
    return out


def agent_hours(agents: pd.DataFrame, days: Days, calendar: pd.DataFrame | None) -> np.ndarray:
    """float[A, H]: each agent's available hours on each day of the horizon (see the module)."""
    A, H = len(agents), len(days)
    n_working = int(days.working.sum())
    capacity = agents["capacity_hours"].to_numpy(dtype=float)
    per_day = (
        agents["hours_per_day"].to_numpy(dtype=float) if "hours_per_day" in agents else np.full(A, np.nan)
    )
    spread = capacity / n_working if n_working else np.zeros(A)
    base = np.where(np.isnan(per_day), spread, per_day)
    hours = np.where(days.working[None, :], base[:, None], 0.0)
    if calendar is not None and len(calendar):
        pos = pd.Index(agents["agent_id"]).get_indexer(calendar["agent_id"])
        day = days.index(calendar["date"])
        ok = (pos >= 0) & (day >= 0) & (day < H)
        hours[pos[ok], day[ok]] = calendar["hours"].to_numpy(dtype=float)[ok]
    return hours


def cumulative_hours(agents: pd.DataFrame, days: Days, calendar: pd.DataFrame | None) -> np.ndarray:
    """float[A, H]: each agent's hours from the first day through each day, at most its
    capacity_hours (the cap for the batch, as without a horizon). For an agent whose
    every day is its capacity_hours spread (no hours_per_day, no calendar row) it is that share
    of capacity_hours, computed once (the last day is capacity_hours exactly), not a sum of
    divided days."""
    hours = agent_hours(agents, days, calendar)
    cum = np.cumsum(hours, axis=1)
    plain = (
        agents["hours_per_day"].isna().to_numpy() if "hours_per_day" in agents else np.ones(len(agents), bool)
    )
    if calendar is not None and len(calendar):
        plain = plain & ~agents["agent_id"].isin(calendar["agent_id"]).to_numpy()
    n_working = int(days.working.sum())
    if plain.any() and n_working:
        share = np.cumsum(days.working)[None, :]
        capacity = agents["capacity_hours"].to_numpy(dtype=float)[plain, None]
        cum[plain] = capacity * share / n_working
    # capacity_hours stays the cap for the batch: the calendar says when, not more than that
    return np.minimum(cum, agents["capacity_hours"].to_numpy(dtype=float)[:, None])


def due_days(due: pd.Series, days: Days) -> np.ndarray:
    """int[T]: the day index by which each task is done: its due date within the horizon, the
    first day when it is overdue, the last day when it has none or it falls after the end."""
    H = len(days)
    out = np.full(len(due), H - 1, dtype=np.int64)
    has = due.notna().to_numpy()
    if has.any():
        out[has] = np.clip(days.index(due[has]), 0, H - 1)
    return out


def dated_rows(
    agent_id: str,
    days: Days,
    start: datetime.date | None,
    until: datetime.date | None,
    hours: float,
    working_only: bool,
) -> pd.DataFrame:
    """calendar rows giving `agent_id` `hours` on each day from `start` until `until` (the
    horizon's ends when absent), working days only if `working_only`."""
    lo = 0 if start is None else int(days.index(pd.Series([start]))[0])
    hi = len(days) - 1 if until is None else int(days.index(pd.Series([until]))[0])
    lo, hi = max(lo, 0), min(hi, len(days) - 1)
    idx = np.arange(lo, hi + 1) if hi >= lo else np.zeros(0, dtype=np.int64)
    if working_only:
        idx = idx[days.working[idx]]
    return pd.DataFrame(
        {"agent_id": [agent_id] * len(idx), "date": pd.to_datetime(days.dates[idx]), "hours": float(hours)}
    )
