"""The one statistics record (statistics.py): steps file figures under their names, the first
filing fixes a key's place, figures are rounded once, and a solve flattens it into the keys of
summary.json."""

from __future__ import annotations

from optassign.engine.statistics import Statistics


def test_steps_file_figures_under_their_names_in_the_order_first_filed():
    s = Statistics(task_pairs=10)
    s.record("lp", status="optimal", bound=1.23456789, seconds=0.123456)
    s.record("stage1", stopped_by="optimal")
    s.update(lp_status="given (optimal)")  # a later filing changes the value, not the place
    assert s.flat() == {
        "task_pairs": 10,
        "lp_status": "given (optimal)",
        "lp_bound": 1.234568,
        "lp_seconds": 0.123,
        "stage1_stopped_by": "optimal",
    }
    assert list(s.flat()) == ["task_pairs", "lp_status", "lp_bound", "lp_seconds", "stage1_stopped_by"]


def test_flat_is_a_copy_and_merge_takes_an_inner_solves_figures():
    s = Statistics(regions_parts=3)
    s.merge({"task_pairs": 5, "stage1_seconds": 2.00049})
    flat = s.flat()
    flat["task_pairs"] = 0
    assert s.get("task_pairs") == 5 and s.get("stage1_seconds") == 2.0 and s.get("none", "-") == "-"


def test_a_solve_reports_each_step_in_summary_keys(tiny_scenario):
    import optassign

    plan = optassign.solve(optassign.load_scenario(tiny_scenario), time_limit=5, workers=1)
    stats = plan.summary["statistics"]
    for key in ("task_pairs", "owner_pairs", "lp_status", "model_task_pairs", "start", "stage1_stopped_by"):
        assert key in stats
    assert all(isinstance(v, int | float | str) for v in stats.values())
