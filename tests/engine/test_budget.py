"""The one budget (budget.py): nominal seconds, the work they buy at a search's rate when
deterministic, the wall clock that stops a run in any case, and the parts of it each step gets."""

from __future__ import annotations

import signal
import time

import numpy as np

from optassign import interrupt
from optassign.engine.budget import WALL_GRACE, Budget


def test_work_is_the_rate_times_the_seconds_only_when_deterministic():
    assert Budget(2.0).work(1e6) == 2e6
    assert Budget(2.0, deterministic=False).work(1e6) == np.inf
    assert Budget(2.0, deterministic=False, max_work=5.0).work(1e6) == 5.0  # given work holds
    assert Budget(2.0, deterministic=False).always_by_work().work(1e6) == 2e6


def test_what_stopped_a_search_is_its_work_or_the_wall_clock():
    b = Budget(1.0)
    assert b.stopped_by(100.0, 100.0) == "deterministic time"
    assert b.stopped_by(99.0, 100.0, "work") == "wall clock"
    assert Budget(1.0, deterministic=False).stopped_by(1e12, 1.0) == "wall clock"


def test_steps_get_parts_that_start_when_they_are_made():
    b = Budget(10.0, deterministic=False, started=time.perf_counter() - 4.0)
    assert b.left() <= 6.0  # without determinism the wall clock is the schedule
    assert b.left(reserve=100.0) == 0.0  # never negative
    share = b.share(0.25)
    assert share.seconds == 2.5 and share.started > b.started and not share.deterministic
    assert share.deadline <= b.deadline  # a step never outlives the whole
    sub = Budget(10.0, max_work=3.0).sub(1.5)
    assert sub.seconds == 1.5 and sub.max_work is None  # a step's work follows its own seconds


def test_a_deterministic_schedule_counts_what_it_handed_out_not_the_clock():
    b = Budget(10.0, started=time.perf_counter() - 4.0)  # 4 s of wall clock gone: no matter
    assert b.left() == 10.0
    first = b.share(0.25)
    b.charge(1.0)  # a step run outside a sub-budget, by its counted work
    assert b.left() == 6.5 and b.left(reserve=1.0) == 5.5
    second = b.sub(b.left() / 2)
    assert second.seconds == 3.25 and b.left() == 3.25
    second.charge(1.25)  # it ended on its own after 1.25 of its 3.25 s
    b.settle(second)
    assert b.left() == 5.25
    assert first.deadline == first.started + WALL_GRACE * 2.5  # a busy machine may take longer
    wall = Budget(10.0, deterministic=False)
    wall.settle(wall.sub(5.0))  # nothing to give back on the wall clock
    assert wall.left() > 9.0


def test_a_spent_clock_or_an_interrupt_expires_it(monkeypatch):
    assert Budget(0.0).expired()
    b = Budget(60.0)
    assert not b.expired()
    monkeypatch.setattr(interrupt._STATE, "signum", signal.SIGTERM)  # as a SIGTERM would
    assert b.expired()
