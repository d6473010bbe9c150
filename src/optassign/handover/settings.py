"""How a handover weighs disruption: the settings of scenario.yaml's handover section and the
policy they make of the scenario's own (keep terms raised). Read by every step of a handover."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from optassign.contract.schema import Policy, PriorityValues

DEFAULT_TIME_LIMIT = 30.0
KEEP_TERMS = ("keep_assignee", "keep_customer_owner", "keep_owner_tasks")
OWNER_KEEP_TERMS = ("keep_customer_owner", "keep_owner_tasks")  # the ones reading owners in force


# A second pass in which handed-over customers' new owners count as owners in force, so that
# keep_owner_tasks draws their open tasks along (see `_run`).
FOLLOW_OWNERS = True
FIRST_PASS_SHARE = 0.7  # of the time limit, when a second pass may follow


# --------------------------------------------------------------------------- handover policy
class HandoverSettings(BaseModel):
    """How much more continuity counts in a handover than in the nightly solve.

    A handover starts from a plan people are working on: moving what need not move costs
    calls, context and trust. So by default the scenario's policy is kept but its disruption
    terms are raised: `keep_boost` multiplies keep_assignee_weight and
    keep_customer_owner_weight, the per-priority and per-tier factors are at least the ones
    given here (moving urgent work and key accounts hurts more), and with `disruption_first`
    the keep terms join the policy's first lexicographic stage, so that a move must be worth
    its disruption against service itself rather than only break ties after it.

    The factors are floors (max with the policy's), so a policy that already weights disruption
    by priority and tier, such as models/handover.yaml (`--policy handover`), is not raised
    twice; the keep weights are multiplied whatever the policy. Pass
    `HandoverSettings(keep_boost=1, disruption_by_priority={}, disruption_by_tier={},
    disruption_first=False)` to re-plan with the policy exactly as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_boost: float = Field(2.0, ge=0, description="factor on the policy's keep weights")
    disruption_by_priority: PriorityValues = Field(
        default_factory=lambda: {1: 1.0, 2: 1.0, 3: 1.5, 4: 2.0, 5: 3.0},
        description="lower bound on the policy's disruption_by_priority",
    )
    disruption_by_tier: dict[Literal["A", "B", "C"], float] = Field(
        default_factory=lambda: {"A": 3.0, "B": 2.0, "C": 1.0},
        description="lower bound on the policy's disruption_by_tier",
    )
    disruption_first: bool = Field(True, description="keep terms join the first lexicographic stage")


def handover_policy(policy: Policy, settings: HandoverSettings | None = None) -> Policy:
    """The scenario's policy with its disruption terms raised as `settings` say."""
    s = settings or HandoverSettings()
    by_priority = {
        p: max(policy.disruption_by_priority[p], s.disruption_by_priority.get(p, 1.0)) for p in range(1, 6)
    }
    by_tier = {t: max(policy.disruption_by_tier[t], s.disruption_by_tier.get(t, 1.0)) for t in "ABC"}
    stages = policy.stages
    if stages and s.disruption_first:
        rest = [[t for t in st if t not in KEEP_TERMS] for st in stages[1:]]
        first = [t for t in stages[0] if t not in KEEP_TERMS] + list(KEEP_TERMS)
        stages = [first] + [st for st in rest if st]
    return Policy.model_validate(
        {
            **policy.model_dump(),
            "name": f"{policy.name}+handover",
            "keep_assignee_weight": policy.keep_assignee_weight * s.keep_boost,
            "keep_customer_owner_weight": policy.keep_customer_owner_weight * s.keep_boost,
            "disruption_by_priority": by_priority,
            "disruption_by_tier": by_tier,
            "stages": stages,
        }
    )
