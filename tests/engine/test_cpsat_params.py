"""CP-SAT parameters given as text: checked against OR-Tools' schema, converted to each field's
type, handed to the solver, and rejected with one message (exit 2 on the command line)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from ortools.sat.python import cp_model
from typer.testing import CliRunner

from optassign.bench.gap import GapInstance, gap_data_dir, solve_gap
from optassign.cli.main import app
from optassign.engine.params import ParamError, apply_params, check_params, parse_params

# the engine module (the package's `solve` name is the API function)
stages_module = importlib.import_module("optassign.engine.stages")

GAP_FILE = gap_data_dir() / "cattrysse1994" / "gap1-0"


def test_values_take_the_type_of_their_field():
    params = parse_params(
        [
            "linearization_level=2",
            "use_lns_only=TRUE",
            "interleave_search=0",
            "relative_gap_limit=0.01",
            "search_branching=lp_search",
            "preferred_variable_order=1",
            "subsolvers=default_lp, max_lp",
            "name= run a ",
        ]
    )
    assert params == {
        "linearization_level": 2,
        "use_lns_only": True,
        "interleave_search": False,
        "relative_gap_limit": 0.01,
        "search_branching": 3,
        "preferred_variable_order": 1,
        "subsolvers": ["default_lp", "max_lp"],
        "name": "run a",
    }
    # Python values from the API are checked the same way
    assert check_params({"linearization_level": 2, "subsolvers": ("max_lp",)}) == {
        "linearization_level": 2,
        "subsolvers": ["max_lp"],
    }


def test_a_later_key_replaces_an_earlier_one():
    assert parse_params(["linearization_level=0", "linearization_level=2"]) == {"linearization_level": 2}


@pytest.mark.parametrize(
    "pair, message",
    [
        (
            "linearisation_level=2",
            "'linearisation_level' is not a CP-SAT parameter; did you mean linearization_level",
        ),
        ("zzzz=1", "'zzzz' is not a CP-SAT parameter"),
        ("linearization_level=two", "linearization_level: value 'two' is not a whole number"),
        ("linearization_level=1.5", "linearization_level: value '1.5' is not a whole number"),
        ("use_lns_only=maybe", "use_lns_only: value 'maybe' is not true or false"),
        ("relative_gap_limit=small", "relative_gap_limit: value 'small' is not a number"),
        ("search_branching=sideways", "search_branching: value 'sideways' is not one of AUTOMATIC_SEARCH"),
        ("linearization_level", "expected key=value"),
        ("=2", "expected key=value"),
    ],
)
def test_bad_parameters_are_named_with_their_value(pair, message):
    with pytest.raises(ParamError) as info:
        parse_params([pair])
    assert message in str(info.value)


def test_python_values_of_the_wrong_type_are_refused():
    with pytest.raises(ParamError, match="use_lns_only: value 3 is not true or false"):
        check_params({"use_lns_only": 3})
    with pytest.raises(ParamError, match="linearization_level: value True is not a whole number"):
        check_params({"linearization_level": True})
    with pytest.raises(ParamError, match="search_branching: value 99 is not one of"):
        check_params({"search_branching": 99})


def test_applied_parameters_read_back_from_the_solver():
    prm = cp_model.CpSolver().parameters
    prm.subsolvers.append("core")
    apply_params(
        prm,
        parse_params(["linearization_level=2", "search_branching=LP_SEARCH", "subsolvers=default_lp,max_lp"]),
    )
    assert prm.linearization_level == 2
    assert "LP_SEARCH" in str(prm.search_branching)
    assert list(prm.subsolvers) == ["default_lp", "max_lp"]  # replaced, not appended to


def _tiny() -> GapInstance:
    return GapInstance(
        "tiny",
        costs=np.array([[1, 5, 4], [3, 1, 2]], dtype=np.int64),
        weights=np.array([[2, 2, 2], [2, 2, 2]], dtype=np.int64),
        capacities=np.array([4, 2], dtype=np.int64),
    )


def test_parameters_reach_cp_sat(monkeypatch):
    seen = []

    class Recording(cp_model.CpSolver):
        def solve(self, model, callback=None):
            seen.append((self.parameters.linearization_level, str(self.parameters.search_branching)))
            return super().solve(model, callback) if callback else super().solve(model)

    monkeypatch.setattr(stages_module.cp_model, "CpSolver", Recording)
    result = solve_gap(_tiny(), time_limit=5, workers=1, linearization_level=2, search_branching="lp_search")
    assert seen and all(level == 2 and "LP_SEARCH" in branching for level, branching in seen)
    assert result.value == 1 + 1 + 4  # items 1 and 3 on agent 1, item 2 on agent 2
    assert result.feasible


def test_the_engine_refuses_a_bad_parameter_before_solving(monkeypatch):
    def no_solve(*_args, **_kwargs):
        raise AssertionError("the solver must not be reached")

    monkeypatch.setattr(stages_module, "solve_stage", no_solve)
    with pytest.raises(ParamError, match="'linearisation_level' is not a CP-SAT parameter"):
        solve_gap(_tiny(), time_limit=5, workers=1, linearisation_level=2)


def test_cli_solve_refuses_a_bad_parameter_with_exit_2_and_writes_nothing(tiny_scenario, tmp_path):
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app, ["solve", str(tiny_scenario), "--out", str(out), "--quiet", "-p", "use_lns_only=maybe"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --param: use_lns_only: value 'maybe' is not true or false")
    assert "Traceback" not in result.output + result.stderr
    assert not out.exists()


@pytest.mark.skipif(not GAP_FILE.is_file(), reason="GAP data folder not present")
def test_cli_bench_gap_takes_parameters(tmp_path):
    out = tmp_path / "r.csv"
    args = ["bench", "gap", str(GAP_FILE), "--time-limit", "5", "--workers", "1", "--out", str(out)]
    good = CliRunner().invoke(app, [*args, "-p", "linearization_level=2", "--param", "search_branching=3"])
    assert good.exit_code == 0, good.output
    assert "OPTIMAL" in out.read_text()
    bad = CliRunner().invoke(app, [*args, "-p", "linearization_level=high"])
    assert bad.exit_code == 2
    assert "linearization_level: value 'high' is not a whole number" in bad.stderr
