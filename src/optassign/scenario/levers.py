"""What a sweep may vary in a scenario (policy fields, capacity and staff scales, run settings),
how a --vary text becomes typed values, and how values change a scenario."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from optassign.contract.schema import InputProblem, Policy, ScenarioError
from optassign.scenario.policy import load_policy
from optassign.scenario.scenario import Scenario

# Levers beyond the policy's own fields: what each does to a run.
LEVERS: dict[str, str] = {
    "policy": "policy name in models/ (or a YAML path); policy fields varied too apply on top",
    "capacity_scale": "multiply every agent's capacity_hours (>= 0)",
    "staff_scale": "keep the first round(n x scale) active agents by agent_id (half rounds up), "
    "deactivate the rest (0..1)",
    "time_limit": "solver seconds per run (> 0)",
    "seed": "solver seed (integer >= 0)",
    "workers": "solver threads per run (integer >= 1)",
}


# Policy fields a sweep may not vary (they are labels, not settings).
_FIXED_POLICY_FIELDS = frozenset({"name", "description"})


def policy_keys() -> list[str]:
    return [k for k in Policy.model_fields if k not in _FIXED_POLICY_FIELDS]


def known_keys() -> list[str]:
    return [*LEVERS, *policy_keys()]


# --------------------------------------------------------------------------- parsing --vary
def parse_vary(items: Iterable[str] | Mapping[str, Sequence]) -> dict[str, list]:
    """`KEY=V1,V2` options (or a mapping key -> values) to typed, validated values per key, in
    the order given. Every problem (unknown key, bad value, repeated key) is raised together."""
    problems: list[InputProblem] = []
    pairs: list[tuple[str, list]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), list(v) if _is_list(v) else [v]) for k, v in items.items()]
    else:
        for item in items:
            key, sep, text = str(item).partition("=")
            key = key.strip()
            if not sep or not key:
                problems.append(InputProblem("--vary", None, None, str(item), "expected KEY=V1,V2,..."))
                continue
            pairs.append((key, [_scalar(v) for v in _split_top(text)]))
    known = known_keys()
    out: dict[str, list] = {}
    for key, values in pairs:
        if key not in known:
            problems.append(
                InputProblem(
                    "--vary",
                    None,
                    None,
                    key,
                    f"unknown key; known keys: {', '.join(LEVERS)}, "
                    f"or a policy field: {', '.join(policy_keys())}",
                )
            )
        elif key in out:
            problems.append(InputProblem("--vary", None, None, key, "key varied twice; give its values once"))
        elif not values or any(v is None or v == "" for v in values):
            problems.append(InputProblem("--vary", None, None, key, "empty value"))
        else:
            out[key] = [_typed(key, v, problems) for v in values]
    if problems:
        raise ScenarioError(problems)
    return out


def _is_list(v: object) -> bool:
    return isinstance(v, list | tuple | np.ndarray | pd.Series)


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets, so `priority_value={1: 1, 2: 5}` stays one value."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def _scalar(text: str) -> object:
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text


def _typed(key: str, value: object, problems: list[InputProblem]) -> object:
    """One value checked against its key's rule; a problem is recorded when it breaks it."""

    given = value

    def bad(rule: str) -> object:
        problems.append(InputProblem("--vary", None, None, f"{key}={given}", rule))
        return given

    if key == "policy":
        name = str(value)
        try:
            load_policy(name)
        except ScenarioError as exc:
            return bad(exc.problems[0].rule)
        return name
    if key in ("capacity_scale", "staff_scale", "time_limit"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            return bad("not a number")
        value = float(value)
        if key == "capacity_scale" and value < 0:
            return bad("must be >= 0")
        if key == "staff_scale" and not 0 <= value <= 1:
            return bad("must be between 0 and 1")
        if key == "time_limit" and value <= 0:
            return bad("must be > 0")
        return value
    if key in ("seed", "workers"):
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "workers" else 0):
            return bad(f"must be an integer >= {1 if key == 'workers' else 0}")
        return int(value)
    try:  # a policy field: validated the way a policy file is
        Policy.model_validate({key: value})
    except ValidationError as exc:
        return bad(exc.errors()[0]["msg"])
    return value


def apply_levers(scenario: Scenario, values: Mapping[str, object]) -> tuple[Scenario, dict[str, object]]:
    """The run's scenario (policy, capacities, staff changed) and its solve settings
    (time_limit, workers, seed where varied)."""
    policy = load_policy(values["policy"]) if "policy" in values else scenario.policy
    fields = {k: v for k, v in values.items() if k in Policy.model_fields}
    if fields:
        label = ",".join(f"{k}={value_token(v)}" for k, v in fields.items())
        data = {**policy.model_dump(), **fields, "name": f"{policy.name}[{label}]"}
        policy = Policy.model_validate(data)
    agents = scenario.agents
    if "capacity_scale" in values or "staff_scale" in values:
        agents = agents.copy()
        agents.attrs = dict(scenario.agents.attrs)
        if "capacity_scale" in values:
            agents["capacity_hours"] = agents["capacity_hours"] * float(values["capacity_scale"])
        if "staff_scale" in values:
            active_ids = sorted(agents.loc[agents["active"], "agent_id"])
            n = int(np.floor(len(active_ids) * float(values["staff_scale"]) + 0.5))
            agents["active"] = agents["active"] & agents["agent_id"].isin(active_ids[:n])
    settings = {k: values[k] for k in ("time_limit", "workers", "seed") if k in values}
    return scenario.replace(policy=policy, agents=agents), settings


def value_token(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)
