"""Sweep levers on the tiny scenario (conftest.py): `--vary` texts become typed values or one
error listing every problem, and `apply_levers` changes exactly what a value names."""

from __future__ import annotations

import pytest

from optassign.contract.schema import ScenarioError
from optassign.scenario.levers import LEVERS, apply_levers, known_keys, parse_vary, policy_keys
from optassign.scenario.scenario import load_scenario


def test_known_keys_are_the_levers_then_the_policy_fields_but_not_its_labels():
    keys = known_keys()
    assert keys[: len(LEVERS)] == list(LEVERS)
    assert "name" not in policy_keys() and "description" not in policy_keys()
    assert "balance_weight" in keys


def test_vary_texts_become_typed_values_in_the_order_given():
    full = "{1: 1, 2: 2, 3: 4, 4: 8, 5: 16}"
    values = parse_vary(["capacity_scale=0.5,1", "seed=0,1,2", f"priority_value={full},{full}"])
    assert values == {
        "capacity_scale": [0.5, 1.0],
        "seed": [0, 1, 2],
        "priority_value": [{1: 1, 2: 2, 3: 4, 4: 8, 5: 16}] * 2,  # commas inside braces do not split
    }
    assert isinstance(values["capacity_scale"][1], float)


def test_every_bad_vary_is_reported_together():
    with pytest.raises(ScenarioError) as err:
        parse_vary(["capacty_scale=1", "staff_scale=1.5", "workers=0", "seed=1", "seed=2", "novalue"])
    rules = [(p.value, p.rule) for p in err.value.problems]
    assert any(value == "capacty_scale" and rule.startswith("unknown key") for value, rule in rules)
    assert ("staff_scale=1.5", "must be between 0 and 1") in rules
    assert ("workers=0", "must be an integer >= 1") in rules
    assert ("seed", "key varied twice; give its values once") in rules
    assert ("novalue", "expected KEY=V1,V2,...") in rules


def test_capacity_scale_multiplies_every_capacity_and_nothing_else(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    changed, settings = apply_levers(scenario, {"capacity_scale": 0.5, "seed": 3})
    # A1 has 20 h in conftest.py: half of it is 10 h
    before = scenario.agents.set_index("agent_id")["capacity_hours"]
    after = changed.agents.set_index("agent_id")["capacity_hours"]
    assert after["A1"] == 10.0
    assert (after == before * 0.5).all()
    assert settings == {"seed": 3}
    assert changed.tasks.equals(scenario.tasks)
    assert scenario.agents.set_index("agent_id")["capacity_hours"]["A1"] == 20.0  # not in place


def test_staff_scale_keeps_the_first_agents_by_id_half_rounding_up(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    active = sorted(scenario.agents.loc[scenario.agents["active"], "agent_id"])
    changed, _ = apply_levers(scenario, {"staff_scale": 0.5})
    kept = sorted(changed.agents.loc[changed.agents["active"], "agent_id"])
    # floor(n * 0.5 + 0.5): 4 active agents keep 2, 3 keep 2
    assert kept == active[: int(len(active) * 0.5 + 0.5)]


def test_policy_fields_apply_on_top_of_the_policy_and_name_the_run(tiny_scenario):
    scenario = load_scenario(tiny_scenario)
    changed, _ = apply_levers(scenario, {"balance_weight": 7.0})
    assert changed.policy.balance_weight == 7.0
    assert changed.policy.name == f"{scenario.policy.name}[balance_weight=7]"
    assert changed.policy.model_dump(exclude={"balance_weight", "name"}) == scenario.policy.model_dump(
        exclude={"balance_weight", "name"}
    )
