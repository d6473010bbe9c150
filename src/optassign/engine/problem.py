"""`ProblemData`: a scenario turned into dense integer arrays and candidate (task, agent) pairs.
Built with vectorised masks over unique task signatures; the model/ package only reads it."""

from __future__ import annotations

import dataclasses
import decimal
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optassign.contract.schema import Policy
from optassign.scenario.calendar import cumulative_hours, due_days
from optassign.scenario.scenario import Scenario

# Hours enter the solver as integers in hundredths of an hour (0.6 minutes). Values on that
# grid enter exactly; others are rounded the safe way once, here: what a task or an ownership
# takes rounds up, what an agent has rounds down, so a plan the solver finds feasible never
# exceeds a capacity in true hours, by any amount.
HOUR_SCALE = 100
# Objective weights enter the solver as integers in ten-thousandths of a point.
POINT_SCALE = 10_000
# Utilisation enters balance terms in thousandths (per mille) of capacity.
UTIL_SCALE = 1000


def _scaled_hours(hours: np.ndarray | pd.Series, direction: str) -> np.ndarray:
    """Hours as integers of 1/HOUR_SCALE h, rounded `direction` ("up" or "down") unless on the
    grid. A float stands for the shortest decimal that reads back as it (the text of the CSV
    cell), so 0.07 is on the grid although its binary value is not. Values within 1e-6 units of
    a grid point but off it (many decimals) are decided in exact decimal arithmetic."""
    h = np.asarray(hours, dtype=float)
    scaled = h * HOUR_SCALE
    near = np.rint(scaled)
    exact = near / HOUR_SCALE == h
    out = np.ceil(scaled) if direction == "up" else np.floor(scaled)
    out = np.where(exact, near, out)
    risky = np.flatnonzero(~exact & (np.abs(scaled - near) < 1e-6))
    if len(risky):
        rounding = decimal.ROUND_CEILING if direction == "up" else decimal.ROUND_FLOOR
        for i in risky:
            value = decimal.Decimal(repr(float(h[i]))) * HOUR_SCALE
            out[i] = float(value.to_integral_value(rounding=rounding))
    return out.astype(np.int64)


def effort_to_int(hours: np.ndarray | pd.Series) -> np.ndarray:
    """Hours that work takes (effort_hours, ownership_hours), rounded up to the grid; positive
    hours take at least one unit."""
    h = np.asarray(hours, dtype=float)
    return np.where(h > 0, np.maximum(_scaled_hours(h, "up"), 1), 0).astype(np.int64)


def capacity_to_int(hours: np.ndarray | pd.Series) -> np.ndarray:
    """Hours an agent has (capacity_hours), rounded down to the grid."""
    return np.maximum(_scaled_hours(hours, "down"), 0)


# The largest points one objective coefficient may carry: a million pairs of them still sum
# far inside CP-SAT's 64-bit integers (2**62 / 1e6 / POINT_SCALE, rounded down to 1e8).
MAX_TERM_POINTS = 1e8


class ScaleError(ValueError):
    """Weights times hours too large for the solver's integer arithmetic (an input error)."""


def points_to_int(points: np.ndarray | float) -> np.ndarray:
    """The one place objective weights become integers: round to 1/POINT_SCALE point. A
    coefficient beyond MAX_TERM_POINTS is refused rather than wrapped around."""
    p = np.asarray(points, dtype=float)
    if p.size and not (np.abs(p) <= MAX_TERM_POINTS).all():
        worst = float(np.nanmax(np.abs(p))) if np.isfinite(p).any() else float("inf")
        raise ScaleError(
            f"an objective term worth {worst:.3g} points for one task or customer is beyond the "
            f"{MAX_TERM_POINTS:.0e} the solver's integers hold; lower the policy's weights "
            "(cost_weight x cost_per_hour x effort_hours, say)"
        )
    return np.rint(p * POINT_SCALE).astype(np.int64)


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs in CSR form, grouped by `row` (task or customer): the agents of row r are
    agent[ptr[r]:ptr[r+1]], sorted by agent index."""

    ptr: np.ndarray  # int64[R+1]
    agent: np.ndarray  # int32[P]
    cross_region: np.ndarray  # bool[P]: agent does not cover the row's region (soft regions)
    overqual: np.ndarray  # int32[P]: skill levels above the required, summed
    weight: np.ndarray  # int64[P]: scaled hours the pair takes of the agent's capacity
    value: np.ndarray  # float64[P]: points the data itself gives the pair (0 for scenarios)

    @property
    def row(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.ptr) - 1, dtype=np.int32), np.diff(self.ptr))

    @property
    def count(self) -> np.ndarray:
        return np.diff(self.ptr)

    def __len__(self) -> int:
        return int(self.ptr[-1])

    def select(self, keep: np.ndarray) -> Candidates:
        """The subset of pairs where `keep` is true, still in CSR form."""
        counts = np.bincount(self.row[keep], minlength=len(self.ptr) - 1)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Candidates(
            ptr,
            self.agent[keep],
            self.cross_region[keep],
            self.overqual[keep],
            self.weight[keep],
            self.value[keep],
        )

    def chosen(self, assign: np.ndarray) -> np.ndarray:
        """Mask of the pairs a plan uses (assign: agent per row, -1 = none)."""
        return self.agent == assign[self.row]

    def weight_of(self, assign: np.ndarray) -> np.ndarray:
        """Scaled hours each row takes under a plan (0 where unassigned)."""
        out = np.zeros(len(self.ptr) - 1, dtype=np.int64)
        pick = self.chosen(assign)
        out[self.row[pick]] = self.weight[pick]
        return out


@dataclass(frozen=True)
class ProblemData:
    """Everything the model needs, as numpy arrays indexed by dense integers.

    Tasks t < T, agents a < A, customers c < C, skills s < S, regions r < R. Index -1 means
    "none" (no customer, no region = anywhere, no current agent). Hours are integers scaled
    by HOUR_SCALE."""

    task_ids: np.ndarray
    agent_ids: np.ndarray
    customer_ids: np.ndarray
    skill_names: np.ndarray
    region_names: np.ndarray
    # tasks
    effort: np.ndarray  # int64[T]
    priority: np.ndarray  # int8[T]
    task_customer: np.ndarray  # int32[T]
    task_region: np.ndarray  # int32[T]
    task_skill: np.ndarray  # int8[T, S] required level, 0 = not required
    current: np.ndarray  # int32[T] assigned_to in the plan in force
    pinned: np.ndarray  # bool[T], only pins to an active agent
    pin_broken: np.ndarray  # bool[T], pinned to an agent who is no longer active
    # agents
    capacity: np.ndarray  # int64[A]
    max_tasks: np.ndarray  # int64[A], -1 = no cap
    max_customers: np.ndarray  # int64[A], -1 = no cap
    active: np.ndarray  # bool[A]
    cost_per_hour: np.ndarray  # float64[A]
    agent_skill: np.ndarray  # int8[A, S]
    agent_region: np.ndarray  # bool[A, R]
    # customers
    ownership_hours: np.ndarray  # int64[C]
    tier: np.ndarray  # int8[C]: 0 = A, 1 = B, 2 = C
    owner: np.ndarray  # int32[C] owner_id in the plan in force
    customer_region: np.ndarray  # int32[C]
    customer_skill: np.ndarray  # int8[C, S]
    # candidate pairs
    task_cand: Candidates
    owner_cand: Candidates
    region_hard: bool = True
    must_assign: np.ndarray | None = None  # bool[T]: every such task gets an agent (benchmarks)
    # Handover: at most `move_budget` tasks and customers leave their agent in force, not
    # counting those marked forced (their agent left or can no longer hold them).
    move_budget: int | None = None
    forced: np.ndarray | None = None  # bool[T]
    owner_forced: np.ndarray | None = None  # bool[C]
    # Time (a horizon with due dates on): day d's row of agent a says the hours of its on-time
    # tasks due by day d, plus its owned hours pro rata, fit in day_cum[a, d], the scaled hours
    # it has from the first day through day d (day_cum[:, -1] is `capacity`).
    day_cum: np.ndarray | None = None  # int64[A, H]
    task_due: np.ndarray | None = None  # int64[T]: the day index each task is due by
    day_dates: np.ndarray | None = None  # datetime64[D][H]
    due_hard: bool = False  # no task may be late (else late work is priced, days.py)

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)

    @property
    def n_agents(self) -> int:
        return len(self.agent_ids)

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    def replace(self, **changes) -> ProblemData:
        return dataclasses.replace(self, **changes)

    def rows(self, names: tuple[str, ...], index: np.ndarray) -> dict[str, np.ndarray | None]:
        """The named per-task (per-agent, per-customer) arrays at `index`, for `replace`;
        optional arrays that are absent stay absent."""
        return {n: None if (a := getattr(self, n)) is None else a[index] for n in names}


# The arrays indexed by task, by agent and by customer: what a sub-problem selects.
TASK_ARRAYS = (
    "task_ids",
    "effort",
    "priority",
    "task_customer",
    "task_region",
    "task_skill",
    "current",
    "pinned",
    "pin_broken",
    "must_assign",
    "forced",
    "task_due",
)
AGENT_ARRAYS = (
    "agent_ids",
    "capacity",
    "max_tasks",
    "max_customers",
    "active",
    "cost_per_hour",
    "agent_skill",
    "agent_region",
    "day_cum",
)
CUSTOMER_ARRAYS = (
    "customer_ids",
    "ownership_hours",
    "tier",
    "owner",
    "customer_region",
    "customer_skill",
    "owner_forced",
)


# --------------------------------------------------------------------------- building
def build_problem(scenario: Scenario, policy: Policy | None = None) -> ProblemData:
    """Map ids to indices once and derive candidate pairs from vectorised eligibility."""
    policy = policy or scenario.policy
    agents, tasks, customers = scenario.agents, scenario.tasks, scenario.customers
    A, T = len(agents), len(tasks)
    agent_ids = agents["agent_id"].to_numpy(dtype=object)
    agent_pos = pd.Index(agent_ids)
    skills = np.array(scenario.skill_names, dtype=object)
    skill_pos = pd.Index(skills)

    cust = customers if customers is not None else _empty_customers()
    C = len(cust)
    customer_ids = cust["customer_id"].to_numpy(dtype=object)
    used = set(scenario.agent_regions["item"]) | set(scenario.task_region) | set(cust["region"])
    region_names = np.array(sorted(used - {"*", ""}), dtype=object)
    region_pos = pd.Index(region_names)

    def index_of(pos: pd.Index, values: pd.Series | np.ndarray) -> np.ndarray:
        idx = pos.get_indexer(pd.Index(np.asarray(values, dtype=object)))
        return idx.astype(np.int32)

    agent_skill = _skill_matrix(scenario.agent_skills, A, skill_pos)
    task_skill = _skill_matrix(scenario.task_skills, T, skill_pos)
    customer_skill = _skill_matrix(scenario.customer_skills, C, skill_pos)

    agent_region = np.zeros((A, len(region_names)), dtype=bool)
    ar = scenario.agent_regions
    everywhere = ar["row"][ar["item"].eq("*")].to_numpy()
    agent_region[everywhere, :] = True
    named = ar[ar["item"].ne("*")]
    r_idx = index_of(region_pos, named["item"])
    agent_region[named["row"].to_numpy()[r_idx >= 0], r_idx[r_idx >= 0]] = True

    active = agents["active"].to_numpy(dtype=bool)
    task_region = index_of(region_pos, scenario.task_region)
    customer_region = index_of(region_pos, cust["region"])

    current = index_of(agent_pos, tasks["assigned_to"])
    pinned_raw = tasks["pinned"].to_numpy(dtype=bool) & (current >= 0)
    pin_active = pinned_raw & active[np.maximum(current, 0)]
    owner = index_of(agent_pos, cust["owner_id"])

    region_hard = policy.region == "hard"
    effort = effort_to_int(tasks["effort_hours"])
    ownership_hours = effort_to_int(cust["ownership_hours"])
    task_cand = candidates(task_skill, task_region, agent_skill, agent_region, active, region_hard, effort)
    # A pinned task's only candidate is its agent.
    if pin_active.any():
        keep = ~pin_active[task_cand.row] | (task_cand.agent == current[task_cand.row])
        task_cand = task_cand.select(keep)
    owner_cand = candidates(
        customer_skill, customer_region, agent_skill, agent_region, active, region_hard, ownership_hours
    )

    capacity = capacity_to_int(agents["capacity_hours"])
    time: dict = {}
    mode = due_date_mode(policy, scenario)
    if mode != "off":
        days = scenario.days
        cum = cumulative_hours(agents, days, scenario.calendar)
        day_cum = capacity_to_int(cum.ravel()).reshape(cum.shape)
        capacity = day_cum[:, -1].copy()
        time = dict(
            day_cum=day_cum,
            task_due=due_days(tasks["due_date"], days),
            day_dates=days.dates,
            due_hard=mode == "hard",
        )
    return ProblemData(
        task_ids=tasks["task_id"].to_numpy(dtype=object),
        agent_ids=agent_ids,
        customer_ids=customer_ids,
        skill_names=skills,
        region_names=region_names,
        effort=effort,
        priority=tasks["priority"].to_numpy().astype(np.int8),
        task_customer=index_of(pd.Index(customer_ids), tasks["customer_id"]),
        task_region=task_region,
        task_skill=task_skill,
        current=current,
        pinned=pin_active,
        pin_broken=pinned_raw & ~pin_active,
        capacity=capacity,
        max_tasks=_cap(agents["max_tasks"]),
        max_customers=_cap(agents["max_customers"]),
        active=active,
        cost_per_hour=agents["cost_per_hour"].to_numpy(dtype=float),
        agent_skill=agent_skill,
        agent_region=agent_region,
        ownership_hours=ownership_hours,
        tier=cust["tier"].map({"A": 0, "B": 1, "C": 2}).to_numpy().astype(np.int8),
        owner=owner,
        customer_region=customer_region,
        customer_skill=customer_skill,
        task_cand=task_cand,
        owner_cand=owner_cand,
        region_hard=region_hard,
        **time,
    )


def due_date_mode(policy: Policy, scenario: Scenario) -> str:
    """hard, soft or off: the policy's `due_dates`, soft by default, off without a horizon."""
    if scenario.days is None:
        return "off"
    return policy.due_dates or "soft"


def candidates(
    need: np.ndarray,
    region: np.ndarray,
    agent_skill: np.ndarray,
    agent_region: np.ndarray,
    active: np.ndarray,
    region_hard: bool,
    weight: np.ndarray,
    chunk_cells: int = 1 << 25,
) -> Candidates:
    """Eligible (row, agent) pairs: the agent is active, has every required skill at the required
    level and, when regions are hard, covers the row's region (-1 = anywhere).

    Rows that share a signature (region, required levels) share their agents, so the skill test
    runs on unique signatures x agents only, in chunks that bound memory. `weight` is the
    scaled hours of each row; a pair takes its row's weight."""
    R, A = len(need), len(active)
    if R == 0:
        empty = np.zeros(0, dtype=np.int32)
        return Candidates(
            np.zeros(1, np.int64), empty, np.zeros(0, bool), empty, np.zeros(0, np.int64), np.zeros(0)
        )
    signature = np.column_stack([region.astype(np.int64), need.astype(np.int64)])
    uniq, inverse = np.unique(signature, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sig_region, sig_need = uniq[:, 0], uniq[:, 1:]
    covers = np.ones((len(uniq), A), dtype=bool)
    located = sig_region >= 0
    covers[located] = agent_region[:, sig_region[located]].T
    S = max(1, sig_need.shape[1])
    step = max(1, chunk_cells // max(1, A * S))
    sig_agents, sig_cross, sig_over, sig_count = [], [], [], np.zeros(len(uniq), np.int64)
    have = agent_skill[None, :, :].astype(np.int16)
    for lo in range(0, len(uniq), step):
        nd = sig_need[lo : lo + step]
        ok = (have >= nd[:, None, :]).all(axis=2) & active[None, :]
        over = np.where(nd[:, None, :] > 0, have - nd[:, None, :], 0).sum(axis=2)
        cov = covers[lo : lo + step]
        if region_hard:
            ok &= cov
        u, a = np.nonzero(ok)
        sig_agents.append(a.astype(np.int32))
        sig_cross.append(~cov[u, a])
        sig_over.append(over[u, a].astype(np.int32))
        sig_count[lo : lo + len(nd)] = np.bincount(u, minlength=len(nd))
    s_agent = np.concatenate(sig_agents)
    s_cross = np.concatenate(sig_cross)
    s_over = np.concatenate(sig_over)
    sig_ptr = np.concatenate([[0], np.cumsum(sig_count)])
    counts = sig_count[inverse]
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    start = np.repeat(sig_ptr[inverse] - ptr[:-1], counts) + np.arange(ptr[-1])
    row = np.repeat(np.arange(R), counts)
    return Candidates(
        ptr,
        s_agent[start],
        s_cross[start],
        s_over[start],
        np.asarray(weight, np.int64)[row],
        np.zeros(len(start)),
    )


def _skill_matrix(long: pd.DataFrame, n: int, skill_pos: pd.Index) -> np.ndarray:
    out = np.zeros((n, len(skill_pos)), dtype=np.int8)
    if len(long):
        out[long["row"].to_numpy(), skill_pos.get_indexer(long["skill"])] = long["level"].to_numpy()
    return out


def _cap(values: pd.Series) -> np.ndarray:
    v = values.to_numpy(dtype=float)
    return np.where(np.isnan(v), -1, v).astype(np.int64)


def _empty_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype=object),
            "region": pd.Series([], dtype=object),
            "tier": pd.Series([], dtype=object),
            "owner_id": pd.Series([], dtype=object),
            "ownership_hours": pd.Series([], dtype=float),
        }
    )
