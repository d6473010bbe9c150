"""Synthetic scenario generator: writes realistic CRM scenario folders (agents, customers, tasks).

It feeds the bundled demo scenarios, the test suite and the benchmarks; seeded and fully vectorised.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from optassign.contract.writer import folder_mode

__all__ = [
    "AgentTier",
    "BASE_DATE",
    "Profile",
    "SKILL_NAMES",
    "TaskType",
    "generate_scenario",
    "generate_tables",
    "write_scenario",
]

#: Fixed reference date of every generated batch (no wall clock, so output is reproducible).
BASE_DATE = np.datetime64("2026-12-01", "D")

SKILL_NAMES: tuple[str, ...] = (
    "billing",
    "network",
    "hardware",
    "software",
    "onboarding",
    "complaints",
    "installation",
    "security",
    "sales",
    "renewals",
    "enterprise",
    "payments",
    "mobile",
    "cloud",
    "compliance",
    "logistics",
    "analytics",
    "training",
    "warranty",
    "accessibility",
)

FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas",
    "Karin", "Leo", "Maria", "Nils", "Olivia", "Paul", "Rosa", "Samuel", "Tara", "Umar",
    "Vera", "William", "Yara", "Zoe", "Amir", "Bianca", "Chen", "Daria", "Emil", "Fatima",
    "Georg", "Hanna", "Ivan", "Julia", "Kofi", "Lena", "Marco", "Nora", "Oskar", "Priya",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann", "Ivanova",
    "Jensen", "Kowalski", "Lindqvist", "Martin", "Novak", "Okafor", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Urban", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann", "Baker",
    "Clarke", "Moreau", "Santos",
)  # fmt: skip
COMPANY_WORDS = (
    "Alpine", "Apex", "Atlas", "Beacon", "Blue River", "Cedar", "Copper", "Crescent", "Delta",
    "Evergreen", "Falcon", "Granite", "Harbor", "Horizon", "Iron Gate", "Juniper", "Keystone",
    "Lakeside", "Maple", "Meridian", "Nordic", "Northwind", "Oak Hill", "Orion", "Pioneer",
    "Quantum", "Redwood", "Silverline", "Summit", "Sunrise", "Tidewater", "Vertex", "Westfield",
)  # fmt: skip
COMPANY_KINDS = (
    "Logistics", "Foods", "Health", "Energy", "Retail", "Systems", "Consulting", "Media",
    "Manufacturing", "Pharma", "Dental", "Hotels", "Motors", "Insurance", "Labs", "Builders",
)  # fmt: skip
LEGAL_FORMS = ("Ltd", "Inc", "GmbH", "AG", "SA", "BV", "AB", "LLC", "plc", "Group")

CUSTOMER_NOTES = (
    "key account, quarterly review",
    "prefers email contact",
    "payment terms net 30",
    "multi-site contract",
    "renewal negotiation open",
    "price sensitive",
    "reference customer",
    "new decision maker since last quarter",
    "consolidating vendors this year",
    "asked for a single point of contact",
)
TASK_NOTES = (
    "customer called twice",
    "waiting on spare parts",
    "handle with care, escalated before",
    "requested callback after 14:00",
    "follow up on last visit",
    "linked to open invoice dispute",
    "contract clause to check",
    "site access needs badge",
    "decision expected this week",
    "prefers the same contact as last time",
    "remote session possible",
    "documentation attached in CRM",
)

_DEFAULT_PRIORITY = (0.20, 0.30, 0.30, 0.15, 0.05)  # P(priority = 1..5); 5 = critical


@dataclass(frozen=True)
class TaskType:
    """One kind of task: how common it is, how long it takes, which skills it draws on."""

    name: str
    weight: float
    effort: float  # relative median effort (rescaled so that the batch meets `load`)
    skills: Mapping[str, float]  # affinity of this type for a skill (unlisted skills: 0.05)
    priority: Sequence[float] = _DEFAULT_PRIORITY  # P(priority = 1..5)
    levels: Sequence[float] = (0.45, 0.33, 0.16, 0.06)  # P(required level = 1, 2, ...)
    stages: Sequence[str] | None = None  # customer stages the type occurs for (None = any)
    tiers: Sequence[str] | None = None  # customer tiers the type occurs for (None = any)


@dataclass(frozen=True)
class AgentTier:
    """A seniority band: its share of staff, skill-level mix and number of skills."""

    name: str
    share: float
    levels: Sequence[float]  # P(level = 1..5)
    n_skills: Sequence[float]  # P(1, 2, 3 skills)
    cost_premium: float = 0.0


def _default_task_types() -> tuple[TaskType, ...]:
    return (
        TaskType(
            "ticket", 0.42, 1.0,
            {"billing": 1, "network": 1, "software": 1, "hardware": 0.8, "security": 0.6,
             "payments": 0.6, "mobile": 0.6, "cloud": 0.6},
        ),
        TaskType("follow_up", 0.20, 0.6, {"onboarding": 1, "billing": 0.6, "sales": 0.6,
                                          "renewals": 0.5, "training": 0.5}),
        TaskType(
            "complaint", 0.10, 1.3, {"complaints": 1.5, "billing": 0.8, "warranty": 0.6},
            priority=(0.10, 0.25, 0.35, 0.22, 0.08),
        ),
        TaskType("installation", 0.10, 3.0, {"installation": 1.5, "hardware": 1, "network": 0.8,
                                             "logistics": 0.5}),
        TaskType("renewal", 0.10, 1.2, {"renewals": 1.5, "sales": 1, "enterprise": 0.6},
                 stages=("customer",)),
        TaskType("demo", 0.08, 1.8, {"sales": 1.5, "software": 0.6, "enterprise": 0.5},
                 stages=("lead", "prospect")),
    )  # fmt: skip


def _default_agent_tiers() -> tuple[AgentTier, ...]:
    return (AgentTier("all", 1.0, (0.08, 0.37, 0.33, 0.15, 0.07), (0.35, 0.45, 0.20)),)


def _default_role_skills() -> dict[str, tuple[str, ...]]:
    return {
        "service": ("billing", "network", "software", "onboarding", "complaints", "security",
                    "payments", "mobile", "cloud"),
        "sales": ("sales", "renewals", "enterprise", "onboarding", "training"),
        "field": ("installation", "hardware", "network", "security", "logistics", "warranty"),
    }  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """Knobs of the generator. The defaults give a mixed service/sales/field CRM team."""

    skill_names: Sequence[str] = SKILL_NAMES
    roles: Mapping[str, float] = field(
        default_factory=lambda: {"service": 0.55, "sales": 0.28, "field": 0.17}
    )
    role_skills: Mapping[str, Sequence[str]] = field(default_factory=_default_role_skills)
    agent_tiers: Sequence[AgentTier] = field(default_factory=_default_agent_tiers)
    task_types: Sequence[TaskType] = field(default_factory=_default_task_types)
    # priority -> (min, max) days after BASE_DATE for the due date
    due_days: Mapping[int, tuple[int, int]] = field(
        default_factory=lambda: {1: (1, 21), 2: (1, 21), 3: (1, 14), 4: (1, 7), 5: (1, 3)}
    )
    team_size: tuple[int, int] = (8, 12)
    part_time_share: float = 0.15
    max_tasks_share: float = 0.30
    inactive_share: float = 0.03
    floater_share: float = 0.02
    multi_region: tuple[float, float] = (0.15, 0.08)  # share covering 2 / 3 adjacent regions
    capped_roles: Sequence[str] = ("sales",)  # roles that get a max_customers cap
    owner_role_weight: Mapping[str, float] = field(default_factory=lambda: {"sales": 4.0})
    tier_probs: tuple[float, float, float] = (0.10, 0.30, 0.60)  # A, B, C
    owned_share: Mapping[str, float] = field(default_factory=lambda: {"A": 0.95, "B": 0.88, "C": 0.82})
    ownership_hours: Mapping[str, float] = field(default_factory=lambda: {"A": 2.0, "B": 1.0, "C": 0.25})
    tier_a_required: Sequence[str] = ("sales:2", "renewals:2")
    tier_a_required_share: float = 0.7
    tier_priority_bump: Mapping[str, float] = field(default_factory=dict)
    task_weight_by_tier: Mapping[str, float] = field(default_factory=lambda: {"A": 3.0, "B": 1.6, "C": 1.0})
    second_skill_share: float = 0.12
    infeasible_share: float = 0.01
    empty_region_share: float = 0.08
    effort_sigma: float = 0.55
    assigned_share: float = 0.70
    owner_assign_share: float = 0.80
    pinned_share: float = 0.03
    overbook: float = 1.05  # the plan in force may run an agent up to this x capacity
    task_notes_share: float = 0.25
    customer_notes_share: float = 0.35
    max_effort: float = 16.0  # hours; efforts are drawn lognormal and clipped to [0.25, this]
    # each region's work relative to its staff's hours drawn in this range (None: even), the
    # batch then scaled to `load` as a whole
    region_load: tuple[float, float] | None = None
    # the batch's shape when the caller gives none (None: the caller's defaults)
    regions: int | None = None
    skills: int | None = None
    load: float | None = None


def _specialist_task_types() -> tuple[TaskType, ...]:
    return tuple(dataclasses.replace(t, levels=(0.30, 0.30, 0.25, 0.15)) for t in _default_task_types())


# Named shapes of batch, for `optassign generate --profile` and the benchmarks: the engine is
# tuned and reported on all of them, never on one.
PROFILES: dict[str, Profile] = {
    # a mixed service/sales/field CRM team (the default)
    "crm": Profile(),
    # specialists: 24 skills, one or two per agent at levels 1-5, tasks at levels 1-4 and a
    # fifth of them needing two skills (as many as the staff's pairs of skills allow), one or
    # two home regions, 5% roaming: few eligible agents per task
    "specialists": Profile(
        skills=24,
        load=1.06,
        agent_tiers=(AgentTier("all", 1.0, (0.15, 0.25, 0.25, 0.20, 0.15), (0.5, 0.5, 0.0)),),
        task_types=_specialist_task_types(),
        multi_region=(0.30, 0.0),
        floater_share=0.05,
        second_skill_share=0.9,
    ),
    # many small regions, little overlap between them
    "small-regions": Profile(regions=60, multi_region=(0.10, 0.02), floater_share=0.01),
    # one big region: everybody can take everything their skills allow
    "one-region": Profile(regions=1, multi_region=(0.0, 0.0), floater_share=0.0),
    # regions loaded unevenly, from 0.8 to 1.3 times their staff's hours
    "uneven": Profile(load=1.05, region_load=(0.8, 1.3)),
    # heavy-tailed efforts: many short tasks and a few of up to 40 hours
    "heavy-tail": Profile(effort_sigma=1.1, max_effort=40.0),
    # a quarter of the plan in force pinned
    "pinned": Profile(pinned_share=0.25),
}


def profile_named(profile: Profile | str | None) -> Profile:
    """A profile, or the one of that name in PROFILES (ValueError naming the known ones)."""
    if profile is None:
        return PROFILES["crm"]
    if isinstance(profile, Profile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known profiles: {', '.join(PROFILES)}")
    return PROFILES[profile]


def batch_shape(
    p: Profile, regions: int | None, skills: int | None, load: float | None
) -> tuple[int, int, float]:
    """Regions, skills and load: the caller's where given, else the profile's, else 5, 6, 1.08."""
    return (
        regions if regions is not None else (p.regions or 5),
        skills if skills is not None else (p.skills or 6),
        load if load is not None else (p.load or 1.08),
    )


# --------------------------------------------------------------------------- helpers


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    width = max(width, len(str(n)))
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _skill_list(names: Sequence[str], n: int) -> list[str]:
    out = list(names[:n])
    k = len(out)
    while len(out) < n:
        k += 1
        out.append(f"skill_{k}")
    return out


def _pick(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a row-wise cumulative weight matrix."""
    total = cum[:, -1]
    u = rng.random(cum.shape[0]) * total
    idx = (u[:, None] >= cum).sum(axis=1)
    return np.minimum(idx, cum.shape[1] - 1)


def _some(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """A random subset of about share x n items (exact up to one; steady on small staffs)."""
    k = min(n, int(np.floor(share * n + rng.random())))
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:k]] = True
    return mask


def _draw(rng: np.random.Generator, probs: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(p.size, size=size, p=p / p.sum())


def _trim(groups, key, limit_count, weights=None, limit_weight=None) -> np.ndarray:
    """Keep, per group and in key order, the leading items whose count (and weight) fit."""
    keep = np.ones(groups.size, dtype=bool)
    if groups.size == 0:
        return keep
    order = np.lexsort((key, groups))
    g = groups[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    lengths = np.diff(np.r_[start, g.size])
    gstart = np.repeat(start, lengths)
    pos = np.arange(g.size)
    ok = (pos - gstart) < limit_count[g]
    if weights is not None:
        w = weights[order]
        cs = np.cumsum(w)
        before = np.repeat(cs[start] - w[start], lengths)
        ok &= (cs - before) <= limit_weight[g] + 1e-9
    # once an item does not fit, the rest of its group (later in key order) goes too
    last_bad = np.maximum.accumulate(np.where(ok, -1, pos))
    keep[order] = last_bad < gstart
    return keep


def _fmt_num(x: np.ndarray) -> np.ndarray:
    """Numbers as short text: 40.0 -> '40', 37.5 -> '37.5', NaN -> ''."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, "", dtype=object)
    ok = ~np.isnan(x)
    out[ok] = pd.Series(np.round(x[ok], 4)).map("{:g}".format).to_numpy()
    return out


# --------------------------------------------------------------------------- agents


@dataclass
class _Agents:
    ids: np.ndarray
    cover: np.ndarray  # (N, R) bool
    floater: np.ndarray
    levels: np.ndarray  # (N, S) int, 0 = no skill
    skill_order: np.ndarray  # (N, S) skills by preference
    cap: np.ndarray
    max_tasks: np.ndarray  # float, nan = none
    max_customers: np.ndarray  # float, nan = none
    active: np.ndarray
    role: np.ndarray
    tier: np.ndarray
    team: np.ndarray
    name: np.ndarray
    cost: np.ndarray


def _make_agents(rng, p: Profile, n: int, n_reg: int, skills: list[str], w_region) -> _Agents:
    n_s = len(skills)
    lo, hi = p.team_size
    sizes = []
    while sum(sizes) < n:  # loop over teams
        sizes.append(int(rng.integers(lo, hi + 1)))
    n_teams = len(sizes)
    team_of = np.repeat(np.arange(n_teams), sizes)[:n]

    team_region = rng.choice(n_reg, size=n_teams, p=w_region)
    k = min(n_teams, n_reg)
    team_region[:k] = rng.permutation(n_reg)[:k]
    home = team_region[team_of]
    moved = rng.random(n) < 0.12
    home[moved] = rng.choice(n_reg, size=int(moved.sum()), p=w_region)

    cover = np.zeros((n, n_reg), dtype=bool)
    idx = np.arange(n)
    cover[idx, home] = True
    u = rng.random(n)
    two, three = p.multi_region
    extra = np.where(u < three, 2, np.where(u < three + two, 1, 0))
    cover[idx[extra >= 1], (home[extra >= 1] + 1) % n_reg] = True
    cover[idx[extra >= 2], (home[extra >= 2] - 1) % n_reg] = True
    floater = _some(rng, n, p.floater_share)
    cover[floater] = True

    active = ~_some(rng, n, p.inactive_share)
    if not active.any():
        active[0] = True

    role_names = np.array(list(p.roles))
    team_role = role_names[_draw(rng, list(p.roles.values()), n_teams)]
    role = team_role[team_of]
    switch = rng.random(n) < 0.15
    role[switch] = role_names[_draw(rng, list(p.roles.values()), int(switch.sum()))]

    tiers = list(p.agent_tiers)
    tier = _draw(rng, [t.share for t in tiers], n)

    # specialists: a few skills each, preferring the skills of their role
    popularity = 1.0 / np.sqrt(np.arange(1, n_s + 1))
    affinity = np.ones((n, n_s))
    for r in role_names:  # loop over roles
        pref = np.isin(np.array(skills), np.array(list(p.role_skills.get(r, ())), dtype=str))
        affinity[np.ix_(role == r, pref)] = 4.0
    keys = np.log(popularity * affinity) + rng.gumbel(size=(n, n_s))
    order = np.argsort(-keys, axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    n_sk = np.ones(n, dtype=int)
    levels = np.zeros((n, n_s), dtype=np.int64)
    for t_i, t in enumerate(tiers):  # loop over tiers
        m = tier == t_i
        n_sk[m] = _draw(rng, t.n_skills, int(m.sum())) + 1
        lv = _draw(rng, t.levels, int(m.sum()) * n_s).reshape(-1, n_s) + 1
        levels[m] = lv
    n_sk = np.minimum(n_sk, n_s)
    levels = np.where(rank < n_sk[:, None], levels, 0)

    # any region nobody active covers gets the least-spread active agent (loop over regions)
    for r in range(n_reg):
        if not (cover[:, r] & active).any():
            spread = np.where(active, cover.sum(axis=1), 10**9)
            cover[int(np.argmin(spread)), r] = True

    part = _some(rng, n, p.part_time_share)
    cap = np.where(
        part,
        rng.choice([16.0, 20.0, 24.0], size=n),
        rng.choice([36.0, 37.5, 38.0, 40.0], size=n, p=[0.2, 0.2, 0.2, 0.4]),
    )
    has_cap = _some(rng, n, p.max_tasks_share)
    # a task-count cap for some agents; sized in generate_tables once the mean task size is known
    max_tasks = np.where(has_cap, rng.uniform(0.7, 1.0, size=n), np.nan)

    mean_level = levels.sum(axis=1) / np.maximum(n_sk, 1)
    premium = np.array([t.cost_premium for t in tiers])[tier]
    cost = np.clip(np.round((28 + 9 * mean_level + premium + rng.normal(0, 6, n)) * 2) / 2, 30, 90)

    names = np.char.add(
        np.char.add(np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)], " "),
        np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)],
    )
    team_ids = _ids("T", n_teams, 2)
    return _Agents(
        ids=_ids("A", n, 5),
        cover=cover,
        floater=floater,
        levels=levels,
        skill_order=order,
        cap=cap,
        max_tasks=max_tasks,
        max_customers=np.full(n, np.nan),
        active=active,
        role=role,
        tier=np.array([t.name for t in tiers])[tier],
        team=team_ids[team_of],
        name=names,
        cost=cost,
    )


def _parse_req(text: str, skills: list[str]) -> tuple[int, int] | None:
    name, _, lvl = text.partition(":")
    if name not in skills:
        return None
    return skills.index(name), int(lvl or 1)


# --------------------------------------------------------------------------- customers


@dataclass
class _Customers:
    ids: np.ndarray
    region: np.ndarray
    tier: np.ndarray  # 'A' / 'B' / 'C'
    stage: np.ndarray
    owner: np.ndarray  # agent index, -1 = none
    req: np.ndarray  # index into req options, -1 = none
    req_text: np.ndarray
    own_hours: np.ndarray
    segment: np.ndarray


def _make_customers(rng, p: Profile, n_c: int, ag: _Agents, skills, w_region) -> _Customers:
    n_reg = ag.cover.shape[1]
    n_a = ag.ids.size
    tier = np.array(["A", "B", "C"])[_draw(rng, p.tier_probs, n_c)]
    region = rng.choice(n_reg, size=n_c, p=w_region)
    is_a, is_b = tier == "A", tier == "B"
    seg_u = rng.random(n_c)
    segment = np.where(
        is_a,
        np.where(seg_u < 0.7, "enterprise", "midmarket"),
        np.where(
            is_b,
            np.where(seg_u < 0.15, "enterprise", np.where(seg_u < 0.75, "midmarket", "smb")),
            np.where(seg_u < 0.7, "smb", "midmarket"),
        ),
    )
    st_u = rng.random(n_c)
    stage = np.where(
        tier == "C",
        np.where(st_u < 0.15, "lead", np.where(st_u < 0.40, "prospect", "customer")),
        np.where(st_u < 0.04, "lead", np.where(st_u < 0.14, "prospect", "customer")),
    )

    # required skills of key accounts, only when some active agent of the region has them
    options = [o for o in p.tier_a_required if _parse_req(o, skills) is not None]
    parsed = [_parse_req(o, skills) for o in options]
    req = np.full(n_c, -1)
    wants_req = is_a & (rng.random(n_c) < p.tier_a_required_share)
    pick = rng.random(n_c)
    for r in range(n_reg):  # loop over regions
        pool = ag.active & ag.cover[:, r]
        avail = [i for i, (s, lv) in enumerate(parsed) if (pool & (ag.levels[:, s] >= lv)).any()]
        m = wants_req & (region == r)
        if avail and m.any():
            req[m] = np.array(avail)[(pick[m] * len(avail)).astype(int)]
    req_text = np.array([""] + options, dtype=object)[req + 1]

    hours = np.array([p.ownership_hours.get(t, 0.0) for t in "ABC"])[
        np.searchsorted(np.array(["A", "B", "C"]), tier)
    ]
    budget = 0.08 * ag.cap[ag.active].sum()
    if hours.sum() > budget > 0:
        hours = np.maximum(0.05, np.round(hours * budget / hours.sum() * 20) / 20)

    owned_p = np.array([p.owned_share.get(t, 0.0) for t in "ABC"])[
        np.searchsorted(np.array(["A", "B", "C"]), tier)
    ]
    wanted = rng.random(n_c) < owned_p

    # max_customers for capped roles, sized from the expected book of business
    role_w = np.array([p.owner_role_weight.get(r, 1.0) for r in ag.role])
    capped = np.isin(ag.role, np.array(list(p.capped_roles), dtype=str))
    if capped.any():
        w_act = role_w * ag.active
        share = w_act[capped].sum() / max(w_act.sum(), 1e-9)
        per_agent = wanted.sum() * share / max(int((capped & ag.active).sum()), 1)
        jitter = rng.uniform(1.1, 1.5, n_a)
        ag.max_customers = np.where(capped, np.maximum(2, np.ceil(per_agent * jitter)), np.nan)

    owner = np.full(n_c, -1)
    slots = np.where(np.isnan(ag.max_customers), np.inf, ag.max_customers)
    todo = np.flatnonzero(wanted)
    for round_no in range(4):  # a few repair rounds for owners over their cap
        if todo.size == 0:
            break
        held = np.bincount(owner[owner >= 0], minlength=n_a)
        remaining = slots - held
        drawn = np.full(todo.size, -1)
        u = rng.random(todo.size)
        for r in range(n_reg):  # loop over regions x requirement options
            for opt in range(-1, len(parsed)):
                m = (region[todo] == r) & (req[todo] == opt)
                if not m.any():
                    continue
                cand = ag.active & ag.cover[:, r] & (remaining > 0)
                if opt >= 0:
                    s, lv = parsed[opt]
                    cand &= ag.levels[:, s] >= lv
                cidx = np.flatnonzero(cand)
                if cidx.size == 0:
                    continue
                cw = np.cumsum(role_w[cidx])
                drawn[m] = cidx[np.minimum(np.searchsorted(cw, u[m] * cw[-1], side="right"), cidx.size - 1)]
        got = drawn >= 0
        keep = np.zeros(todo.size, dtype=bool)
        if got.any():
            lim = np.where(np.isinf(remaining), todo.size + 1, remaining).astype(np.int64)
            keep[got] = _trim(drawn[got], rng.random(int(got.sum())), lim)
        owner[todo[keep]] = drawn[keep]
        todo = todo[got & ~keep]
        if round_no == 3:
            break
    return _Customers(_ids("C", n_c, 6), region, tier, stage, owner, req, req_text, hours, segment)


def _customer_frame(rng, p: Profile, cu: _Customers, ag: _Agents, region_names) -> pd.DataFrame:
    n_c = cu.ids.size
    words = np.array(COMPANY_WORDS)[rng.integers(0, len(COMPANY_WORDS), n_c)]
    kinds = np.array(COMPANY_KINDS)[rng.integers(0, len(COMPANY_KINDS), n_c)]
    forms = np.array(LEGAL_FORMS)[rng.integers(0, len(LEGAL_FORMS), n_c)]
    name = np.char.add(np.char.add(np.char.add(np.char.add(words, " "), kinds), " "), forms)
    notes = np.where(
        rng.random(n_c) < p.customer_notes_share,
        np.array(CUSTOMER_NOTES, dtype=object)[rng.integers(0, len(CUSTOMER_NOTES), n_c)],
        "",
    )
    owner = np.where(cu.owner >= 0, ag.ids[np.maximum(cu.owner, 0)], "")
    return pd.DataFrame(
        {
            "customer_id": cu.ids,
            "name": name,
            "region": np.asarray(region_names)[cu.region],
            "segment": cu.segment,
            "tier": cu.tier,
            "stage": cu.stage,
            "owner_id": owner,
            "required_skills": cu.req_text,
            "ownership_hours": _fmt_num(cu.own_hours),
            "notes": notes,
        }
    )


# --------------------------------------------------------------------------- tasks


def _make_tasks(
    rng,
    p: Profile,
    n_t: int,
    ag: _Agents,
    cu: _Customers,
    skills,
    region_names,
    load: float,
    region_share: np.ndarray,
) -> pd.DataFrame:
    n_reg, n_s = ag.cover.shape[1], len(skills)
    types = list(p.task_types)
    n_ty = len(types)
    act_cov = ag.cover & ag.active[:, None]  # (N, R)

    # which customer: skewed counts, key accounts busier ...
    tier_w = np.array([p.task_weight_by_tier.get(t, 1.0) for t in "ABC"])
    cw = rng.lognormal(0.0, 1.0, cu.ids.size) * tier_w[np.searchsorted(np.array(list("ABC")), cu.tier)]
    # ... while each region's share of the work follows its staffing
    in_region = np.bincount(cu.region, weights=cw, minlength=n_reg)
    cw = cw * (region_share / np.maximum(in_region, 1e-12))[cu.region]
    cust = rng.choice(cu.ids.size, size=n_t, p=cw / cw.sum())
    reg = cu.region[cust]

    # type, depending on the customer's stage and tier
    st_sorted = np.array(["customer", "lead", "prospect"])
    st_i = np.searchsorted(st_sorted, cu.stage)
    tiers = np.array(["A", "B", "C"])
    tr_i = np.searchsorted(tiers, cu.tier)
    combo = (st_i * 3 + tr_i)[cust]
    tw = np.zeros((9, n_ty))
    for j, t in enumerate(types):  # loop over task types
        for si, s in enumerate(st_sorted):
            for ti, tt in enumerate(tiers):
                ok = (t.stages is None or s in t.stages) and (t.tiers is None or tt in t.tiers)
                tw[si * 3 + ti, j] = t.weight if ok else 0.0
    empty = tw.sum(axis=1) == 0
    tw[empty] = [t.weight for t in types]
    ttype = _pick(rng, np.cumsum(tw, axis=1)[combo])

    # skill supply per region (active capacity spread over covered regions) and max levels
    spread = np.maximum(ag.cover.sum(axis=1), 1)
    has = ag.levels > 0
    supply = act_cov.T.astype(float) @ (has * (ag.cap / spread)[:, None])  # (R, S)
    max_lv = np.zeros((n_reg, n_s), dtype=np.int64)
    # best level of skill s2 among the region's agents holding skill s1 at >= level l
    pair = np.zeros((n_reg, n_s, 6, n_s), dtype=np.int64)
    for r in range(n_reg):  # loop over regions
        lr = ag.levels[act_cov[:, r]]
        if lr.size == 0:
            continue
        max_lv[r] = lr.max(axis=0)
        for lv in range(1, 6):
            ge = lr >= lv  # (n_r, S)
            pair[r, :, lv, :] = np.where(ge[:, :, None], lr[:, None, :], 0).max(axis=0)

    aff = np.full((n_ty, n_s), 0.05)
    for j, t in enumerate(types):
        for k, s in enumerate(skills):
            if s in t.skills:
                aff[j, k] = t.skills[s]
            elif s.startswith("skill_"):
                aff[j, k] = 0.3
    # skill demand follows the types' affinities, rebalanced per region towards the staff's
    # skill mix (teams are hired for the work they get), so no skill is idle or swamped
    type_w = np.bincount(ttype, minlength=n_ty).astype(float)
    mult = np.ones((n_reg, n_s))
    target = supply / np.maximum(supply.sum(axis=1, keepdims=True), 1e-12)
    for _ in range(8):
        w = aff[:, None, :] * supply[None, :, :] * mult[None, :, :]  # (types, R, S)
        share = w / np.maximum(w.sum(axis=2, keepdims=True), 1e-12)
        demand = (share * type_w[:, None, None]).sum(axis=0)
        demand /= np.maximum(demand.sum(axis=1, keepdims=True), 1e-12)
        mult *= np.where(demand > 0, target / np.maximum(demand, 1e-12), 1.0) ** 0.85
    w = aff[:, None, :] * supply[None, :, :] * mult[None, :, :]
    zero = w.sum(axis=2) == 0
    w = np.where(zero[:, :, None], supply[None, :, :], w)
    w = np.where(w.sum(axis=2, keepdims=True) == 0, 1.0, w)
    key = ttype * n_reg + reg
    w_rows = w.reshape(n_ty * n_reg, n_s)
    s1 = _pick(rng, np.cumsum(w_rows, axis=1)[key])

    lv_p = np.zeros((n_ty, 5))
    for j, t in enumerate(types):
        lv_p[j, : len(t.levels)] = t.levels
    lv_cum = np.cumsum(lv_p, axis=1)
    l1 = _pick(rng, lv_cum[ttype]) + 1
    l1 = np.maximum(np.minimum(l1, max_lv[reg, s1]), 1)

    s2 = np.full(n_t, -1)
    l2 = np.zeros(n_t, dtype=np.int64)
    two = np.flatnonzero(rng.random(n_t) < p.second_skill_share) if n_s > 1 else np.array([], int)
    if two.size:
        w2 = w_rows[key[two]].copy()
        w2[np.arange(two.size), s1[two]] = 0.0
        okw = w2.sum(axis=1) > 0
        two = two[okw]
        w2 = w2[okw]
        if two.size:
            cand = _pick(rng, np.cumsum(w2, axis=1))
            best = pair[reg[two], s1[two], l1[two], cand]
            lv2 = np.minimum(_pick(rng, lv_cum[ttype[two]]) + 1, best)
            keep2 = lv2 >= 1
            s2[two[keep2]] = cand[keep2]
            l2[two[keep2]] = lv2[keep2]

    # a few tasks nobody in their region can do, to exercise the "why unassigned" reasons
    bad = np.flatnonzero(rng.random(n_t) < p.infeasible_share)
    if bad.size:
        room = max_lv[reg[bad]] < 5  # (b, S)
        keys = np.where(room, rng.random(room.shape), -1.0)
        sb = keys.argmax(axis=1)
        can = room[np.arange(bad.size), sb]
        bad, sb = bad[can], sb[can]
        s1[bad] = sb
        l1[bad] = max_lv[reg[bad], sb] + 1
        s2[bad] = -1
        l2[bad] = 0

    # priority by type, optionally bumped for key accounts
    pr_p = np.array([list(t.priority) for t in types], dtype=float)
    prio = _pick(rng, np.cumsum(pr_p, axis=1)[ttype]) + 1
    bump = np.array([p.tier_priority_bump.get(t, 0.0) for t in "ABC"])[tr_i[cust]]
    prio = np.minimum(prio + (rng.random(n_t) < bump), 5)

    # effort: lognormal by type, scaled so that the batch is `load` x active capacity
    med = np.array([t.effort for t in types])[ttype]
    raw = med * rng.lognormal(0.0, p.effort_sigma, n_t)
    target = load * ag.cap[ag.active].sum()
    f = target / raw.sum()
    for _ in range(12):
        effort = np.clip(np.round(raw * f * 4) / 4, 0.25, p.max_effort)
        err = target / effort.sum()
        if abs(err - 1) < 1e-3:
            break
        f *= err

    lo = np.array([p.due_days.get(k, (1, 21))[0] for k in range(1, 6)])
    hi = np.array([p.due_days.get(k, (1, 21))[1] for k in range(1, 6)])
    off = lo[prio - 1] + (rng.random(n_t) * (hi[prio - 1] - lo[prio - 1] + 1)).astype(int)
    due = np.datetime_as_string(BASE_DATE + off.astype("timedelta64[D]"), unit="D")

    assignee, pinned = _plan_in_force(rng, p, ag, cu, cust, reg, s1, l1, s2, l2, prio, effort)

    req = np.char.add(np.char.add(np.array(skills)[s1], ":"), l1.astype(str))
    two_txt = np.char.add(
        np.char.add(np.char.add(";", np.array(skills)[np.maximum(s2, 0)]), ":"), l2.astype(str)
    )
    req = np.where(s2 >= 0, np.char.add(req, two_txt), req)
    region_col = np.where(rng.random(n_t) < p.empty_region_share, "", np.asarray(region_names)[reg])
    notes = np.where(
        rng.random(n_t) < p.task_notes_share,
        np.array(TASK_NOTES, dtype=object)[rng.integers(0, len(TASK_NOTES), n_t)],
        "",
    )
    return pd.DataFrame(
        {
            "task_id": _ids("T", n_t, 7),
            "customer_id": cu.ids[cust],
            "type": np.array([t.name for t in types])[ttype],
            "required_skills": req,
            "region": region_col,
            "priority": prio,
            "effort_hours": _fmt_num(effort),
            "due_date": due,
            "assigned_to": np.where(assignee >= 0, ag.ids[np.maximum(assignee, 0)], ""),
            "pinned": np.where(pinned, "true", "false"),
            "notes": notes,
        }
    )


def _plan_in_force(rng, p, ag: _Agents, cu: _Customers, cust, reg, s1, l1, s2, l2, prio, effort):
    """Current assignees: eligible, mostly the account owner, close to capacity at most."""
    n_t, n_a, n_reg = cust.size, ag.ids.size, ag.cover.shape[1]
    own_load = np.bincount(cu.owner[cu.owner >= 0], weights=cu.own_hours[cu.owner >= 0], minlength=n_a)
    budget = p.overbook * ag.cap - own_load
    count_lim = np.where(np.isnan(ag.max_tasks), n_t + 1, ag.max_tasks).astype(np.int64)

    # aim a little high: some wanted tasks find no agent with room and stay open
    p_want = np.clip(1.07 * p.assigned_share * (1 + 0.12 * (prio - prio.mean())), 0, 1)
    want = rng.random(n_t) < p_want
    assignee = np.full(n_t, -1)
    stamp = np.zeros(n_t)  # earlier rounds keep their assignment when trimming

    def eligible(a, t):
        ok = ag.levels[a, s1[t]] >= l1[t]
        return ok & ((s2[t] < 0) | (ag.levels[a, np.maximum(s2[t], 0)] >= l2[t]))

    own = cu.owner[cust]
    t0 = np.flatnonzero(want & (own >= 0) & (rng.random(n_t) < p.owner_assign_share))
    t0 = t0[eligible(own[t0], t0)]
    assignee[t0] = own[t0]

    def trim():
        on = np.flatnonzero(assignee >= 0)
        keep = _trim(assignee[on], stamp[on] + rng.random(on.size) * 0.5, count_lim, effort[on], budget)
        assignee[on[~keep]] = -1

    trim()
    block = 2_000_000
    for round_no in range(1, 4):  # other eligible agents, weighted by spare hours
        on = assignee >= 0
        used = np.bincount(assignee[on], weights=effort[on], minlength=n_a)
        used_n = np.bincount(assignee[on], minlength=n_a)
        spare = budget - used
        for r in range(n_reg):  # loop over regions, in blocks of rows
            cand = np.flatnonzero(ag.active & ag.cover[:, r] & (spare > 0.25) & (used_n < count_lim))
            todo = np.flatnonzero(want & (assignee < 0) & (reg == r))
            if cand.size == 0 or todo.size == 0:
                continue
            step = max(1, block // cand.size)
            for b in range(0, todo.size, step):
                t = todo[b : b + step]
                ok = ag.levels[cand][:, s1[t]].T >= l1[t][:, None]
                two = s2[t] >= 0
                if two.any():
                    ok[two] &= ag.levels[cand][:, s2[t][two]].T >= l2[t][two][:, None]
                wts = np.where(ok, spare[cand][None, :], 0.0)
                has = wts.sum(axis=1) > 0
                if has.any():
                    pick = _pick(rng, np.cumsum(wts[has], axis=1))
                    assignee[t[has]] = cand[pick]
                    stamp[t[has]] = round_no
        trim()

    on = np.flatnonzero(assignee >= 0)
    pinned = np.zeros(n_t, dtype=bool)
    if on.size:
        pin = on[rng.random(on.size) < min(1.0, p.pinned_share * n_t / on.size)]
        # pinned work alone must fit the agent strictly
        keep = _trim(assignee[pin], rng.random(pin.size), count_lim, effort[pin], ag.cap - own_load)
        pinned[pin[keep]] = True
    return assignee, pinned


def _agent_frame(ag: _Agents, skills: list[str], region_names, with_tier: bool) -> pd.DataFrame:
    n = ag.ids.size
    sk = np.array(skills)
    reg = np.asarray(region_names)
    skill_txt = np.empty(n, dtype=object)
    region_txt = np.empty(n, dtype=object)
    for a in range(n):  # loop over agents
        o = [s for s in ag.skill_order[a] if ag.levels[a, s] > 0]
        skill_txt[a] = ";".join(f"{sk[s]}:{ag.levels[a, s]}" for s in o)
        region_txt[a] = "*" if ag.floater[a] else ";".join(reg[ag.cover[a]])
    cols = {
        "agent_id": ag.ids,
        "name": ag.name,
        "team": ag.team,
        "role": ag.role,
    }
    if with_tier:
        cols["support_tier"] = ag.tier
    cols.update(
        {
            "regions": region_txt,
            "skills": skill_txt,
            "capacity_hours": _fmt_num(ag.cap),
            "max_tasks": _fmt_num(ag.max_tasks),
            "max_customers": _fmt_num(ag.max_customers),
            "active": np.where(ag.active, "true", "false"),
            "cost_per_hour": _fmt_num(ag.cost),
        }
    )
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- public API


def generate_tables(
    *,
    tasks: int,
    agents: int,
    regions: int | None = None,
    skills: int | None = None,
    customers: int | None = None,
    seed: int = 0,
    load: float | None = None,
    profile: Profile | str | None = None,
) -> dict[str, pd.DataFrame]:
    """Build the agents, customers and tasks tables (all cells as text, ready to write).
    `profile` is a Profile or the name of one in PROFILES; regions, skills and load not given
    come from it (batch_shape)."""
    p = profile_named(profile)
    regions, skills, load = batch_shape(p, regions, skills, load)
    for label, v in (("tasks", tasks), ("agents", agents), ("regions", regions), ("skills", skills)):
        if int(v) < 1:
            raise ValueError(f"{label} must be >= 1, got {v}")
    if customers is not None and customers < 1:
        raise ValueError(f"customers must be >= 1, got {customers}")
    if not load > 0:
        raise ValueError(f"load must be > 0, got {load}")
    rng = np.random.default_rng(seed)
    n_c = int(customers) if customers is not None else max(10, tasks // 8)
    region_names = _ids("R", regions, 2)
    skill_names = _skill_list(list(p.skill_names), skills)
    w_region = rng.lognormal(0.0, 0.4, regions)
    w_region /= w_region.sum()

    ag = _make_agents(rng, p, agents, regions, skill_names, w_region)
    mean_effort = load * ag.cap[ag.active].sum() / tasks
    ag.max_tasks = np.maximum(1.0, np.round(ag.cap / max(mean_effort, 0.25) * ag.max_tasks))
    # customers sit where the staff is (regions are staffed for their demand), with some noise
    spread = np.maximum(ag.cover.sum(axis=1), 1)
    staffed = (ag.cover & ag.active[:, None]).T.astype(float) @ (ag.cap / spread)
    w_cust = 0.85 * staffed / staffed.sum() + 0.15 * w_region
    if p.region_load is not None:  # some regions busier than their staff, others quieter
        w_cust = w_cust * rng.uniform(*p.region_load, regions)
    w_cust /= w_cust.sum()
    cu = _make_customers(rng, p, n_c, ag, skill_names, w_cust)
    task_df = _make_tasks(rng, p, tasks, ag, cu, skill_names, region_names, load, w_cust)
    cust_df = _customer_frame(rng, p, cu, ag, region_names)
    agent_df = _agent_frame(ag, skill_names, region_names, len(p.agent_tiers) > 1)
    return {"agents": agent_df, "customers": cust_df, "tasks": task_df}


# A generated horizon starts on the first Monday after BASE_DATE.
HORIZON_START = np.datetime64("2026-12-07", "D")


def add_time(
    tables: dict[str, pd.DataFrame],
    working_days: int,
    seed: int,
    *,
    start: str | np.datetime64 = HORIZON_START,
    due_dates: bool = True,
) -> dict:
    """Give generated tables a horizon of `working_days` (Mon-Fri from `start`): due dates
    inside it by priority (priority 5 within the first two days, 4 the first four, 3 the first
    seven, lower anywhere; 3% already overdue, 10% with none; `due_dates=False` keeps the
    tables' own), part-time staff (capacity under 30 h) working Monday to Wednesday at the
    hours that give their capacity, and absences of one to three working days for 6% of the
    staff, in calendar.csv. Returns the horizon for scenario.yaml. Its own random stream: the
    tables without time stay as they were."""
    rng = np.random.default_rng([seed, 1_013])
    start = np.datetime64(start, "D")
    weekday = (start + np.arange(7 * working_days).astype("timedelta64[D]")).view("int64")
    work = np.flatnonzero((weekday - 4) % 7 < 5)[:working_days]
    n_days = int(work[-1]) + 1
    dates = start + np.arange(n_days).astype("timedelta64[D]")
    weekday = (dates.view("int64") - 4) % 7
    tasks = tables["tasks"]
    prio = tasks["priority"].astype(int).to_numpy()
    reach = np.array(
        [working_days, working_days, min(7, working_days), min(4, working_days), min(2, working_days)]
    )
    pick = (rng.random(len(tasks)) * reach[prio - 1]).astype(int)
    due = np.datetime_as_string(dates[work[pick]], unit="D").astype(object)
    overdue = rng.random(len(tasks)) < 0.03
    due[overdue] = np.datetime_as_string(
        start - rng.integers(1, 6, overdue.sum()).astype("timedelta64[D]"), unit="D"
    )
    due[rng.random(len(tasks)) < 0.10] = ""
    if due_dates:
        tasks = tasks.assign(due_date=due)
    agents = tables["agents"]
    cap = agents["capacity_hours"].astype(float).to_numpy()
    part = cap < 30
    short_week = work[weekday[work] < 3]  # Monday to Wednesday
    per_day = np.where(part, np.round(cap / max(1, len(short_week)) * 4) / 4, np.nan)
    agents = agents.assign(hours_per_day=np.where(part, _fmt_num(np.nan_to_num(per_day)), ""))
    rows = []
    off_days = work[weekday[work] >= 3]
    for a in np.flatnonzero(part):
        rows += [
            (agents["agent_id"].iat[a], d, "0") for d in np.datetime_as_string(dates[off_days], unit="D")
        ]
    away = np.flatnonzero(rng.random(len(agents)) < 0.06)
    for a in away:
        length = int(rng.integers(1, 4))
        first = int(rng.integers(0, max(1, len(work) - length + 1)))
        for d in np.datetime_as_string(dates[work[first : first + length]], unit="D"):
            rows.append((agents["agent_id"].iat[a], d, "0"))
    calendar = pd.DataFrame(rows, columns=["agent_id", "date", "hours"]).drop_duplicates(["agent_id", "date"])
    tables.update(tasks=tasks, agents=agents, calendar=calendar)
    return {"start": str(start), "days": n_days}


def write_scenario(
    out: str | os.PathLike,
    tables: Mapping[str, pd.DataFrame],
    *,
    name: str,
    description: str,
    policy: str = "balanced",
    events: Sequence[Mapping] | None = None,
    comment: str | None = None,
    horizon: Mapping | None = None,
) -> pathlib.Path:
    """Write a scenario folder atomically; refuse to replace a non-empty folder."""
    out = pathlib.Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} exists and is not empty")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, folder_mode())  # mkdtemp gives 0700: honour the umask
        head = f"# {comment}\n" if comment else ""
        meta = {"name": name, "description": description, "policy": policy}
        if horizon is not None:
            meta["horizon"] = dict(horizon)
        (tmp / "scenario.yaml").write_text(
            head + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000),
            encoding="utf-8",
        )
        for key in ("agents", "customers", "tasks", "calendar"):
            if key in tables:
                tables[key].to_csv(tmp / f"{key}.csv", index=False, lineterminator="\n")
        if events:
            (tmp / "events.yaml").write_text(
                yaml.safe_dump({"events": list(events)}, sort_keys=False, default_flow_style=None, width=100),
                encoding="utf-8",
            )
        try:
            os.replace(tmp, out)  # replaces an empty directory atomically on POSIX
        except OSError:
            if out.is_dir() and not any(out.iterdir()):
                out.rmdir()
                os.replace(tmp, out)
            else:
                raise FileExistsError(f"{out} exists and is not empty") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def generate_scenario(
    out: str | os.PathLike,
    *,
    tasks: int,
    agents: int,
    regions: int | None = None,
    skills: int | None = None,
    customers: int | None = None,
    seed: int = 0,
    name: str | None = None,
    policy: str = "balanced",
    load: float | None = None,
    profile: Profile | str | None = None,
    horizon: int | None = None,
) -> pathlib.Path:
    """Generate a synthetic scenario folder at `out` and return its path.

    Writes scenario.yaml, agents.csv, customers.csv and tasks.csv. Same arguments and seed
    give byte-identical files. Total task effort is about `load` x active capacity
    (1.08 by default: slightly more work than hours, so priorities matter). `profile` (a
    Profile or a name in PROFILES: crm, specialists, small-regions, one-region, uneven,
    heavy-tail, pinned) sets the batch's shape, and regions, skills and load not given.
    `horizon` (working days) adds time: a horizon in scenario.yaml, due dates inside it,
    part-time staff and absences in calendar.csv (add_time).
    Raises FileExistsError if `out` exists and is not empty.
    """
    out = pathlib.Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} exists and is not empty")
    regions, skills, load = batch_shape(profile_named(profile), regions, skills, load)
    tables = generate_tables(
        tasks=tasks,
        agents=agents,
        regions=regions,
        skills=skills,
        customers=customers,
        seed=seed,
        load=load,
        profile=profile,
    )
    n_c = len(tables["customers"])
    description = (
        f"Synthetic CRM batch with {tasks} tasks, {agents} agents, {n_c} customers, "
        f"{regions} regions and {skills} skills (seed {seed}, load {load:g})."
    )
    if isinstance(profile, str) and profile != "crm":
        description += f" Profile {profile}."
    window = None
    if horizon is not None:
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1 working day, got {horizon}")
        window = add_time(tables, horizon, seed)
        description += f" A horizon of {horizon} working days."
    return write_scenario(
        out,
        tables,
        name=name or out.name,
        description=description,
        policy=policy,
        comment=f"generated by optassign.generate (seed {seed})",
        horizon=window,
    )
