"""Decomposition: a problem whose candidate graph falls apart is solved part by part.

The graph's nodes are agents, tasks and customers; a candidate pair links a task (or a
customer, for ownership) to an agent, and a task is linked to its customer (the
agents-per-customer term and the owner's hours tie them). Tasks that share no agent, directly
or through a chain of pairs, compete for nothing: a batch of regions whose staff each cover one
region, or teams with disjoint skills, splits into one component per region or team. Each
part then is a problem of its own, a fraction of the size, and the parts run concurrently
where there are cores for them.

Every term of the objective is a sum over pairs except the balance term, which measures the
most (and, for `spread`, the least) utilised agent of the whole batch. Parts each even out
their own load; the batch's balance is then at least as good as the worst part's, and the
whole problem's bound is the parts' bounds plus at most `balance_weight` per extra part (each
part's own balance measure lies in [0, 1] and counts once in the whole, K times across the
parts). The LP relaxation leaves the balance term out, so the parts' LP bounds add up to the
whole one exactly.

A few agents who cover several regions (and tasks that name none) join a regional batch into
one component. `fix_hubs` splits it anyway: given a plan, the work it gives such an agent
stays with that agent (its share is fixed first, so its hours stay reserved for it), tasks
without a region stay as the plan has them, and the rest of each region is then a part of
its own. The merged plan is a start for a repair pass over the whole batch, where everything
may move."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from optassign.engine.problem import AGENT_ARRAYS, CUSTOMER_ARRAYS, TASK_ARRAYS, Candidates, ProblemData

# Components with fewer candidate pairs than this are packed together into one part: a part
# has the overhead of a whole solve (relaxation, model, search), worth it for large ones only.
MIN_PART_PAIRS = 20_000


@dataclass(frozen=True)
class Part:
    """Indices into the whole problem, each ascending: the part's tasks, agents, customers, and
    its task and owner pairs (positions in the whole problem's candidate arrays)."""

    tasks: np.ndarray
    agents: np.ndarray
    customers: np.ndarray
    task_pairs: np.ndarray
    owner_pairs: np.ndarray

    @property
    def pairs(self) -> int:
        return len(self.task_pairs) + len(self.owner_pairs)


def components(d: ProblemData) -> tuple[int, np.ndarray]:
    """Connected components of the candidate graph: their number and one label per node, nodes
    numbered agents first (0..A-1), then tasks (A..A+T-1), then customers."""
    A, T, C = d.n_agents, d.n_tasks, d.n_customers
    tc, oc = d.task_cand, d.owner_cand
    linked = np.flatnonzero(d.task_customer >= 0)
    src = np.concatenate([A + tc.row.astype(np.int64), A + T + oc.row.astype(np.int64), A + linked])
    dst = np.concatenate(
        [tc.agent.astype(np.int64), oc.agent.astype(np.int64), A + T + d.task_customer[linked]]
    )
    n = A + T + C
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)


def split(d: ProblemData, min_pairs: int | None = None) -> tuple[list[Part], int]:
    """The parts to solve (largest first) and the number of components with candidate pairs.
    Components of at least `min_pairs` pairs (default MIN_PART_PAIRS) are parts of their own;
    the smaller ones are packed together, in order, into parts of at least `min_pairs` (the
    last may be smaller). Tasks, agents and customers of no component with pairs are in no
    part: nothing can be decided for them."""
    min_pairs = MIN_PART_PAIRS if min_pairs is None else min_pairs
    A, T = d.n_agents, d.n_tasks
    n, label = components(d)
    tc, oc = d.task_cand, d.owner_cand
    task_pair_label = label[tc.agent]
    owner_pair_label = label[oc.agent]
    size = np.bincount(task_pair_label, minlength=n) + np.bincount(owner_pair_label, minlength=n)
    used = np.flatnonzero(size > 0)
    order = used[np.argsort(-size[used], kind="stable")]
    bins: list[list[int]] = []
    small: list[int] = []
    small_size = 0
    for c in order.tolist():
        if size[c] >= min_pairs:
            bins.append([c])
            continue
        small.append(c)
        small_size += int(size[c])
        if small_size >= min_pairs:
            bins.append(small)
            small, small_size = [], 0
    if small:
        bins.append(small)
    part_of = np.full(n, -1)
    for i, members in enumerate(bins):
        part_of[members] = i
    node_part = part_of[label]
    agent_part, task_part, cust_part = node_part[:A], node_part[A : A + T], node_part[A + T :]
    tp, op = part_of[task_pair_label], part_of[owner_pair_label]
    parts = [
        Part(
            tasks=np.flatnonzero(task_part == i),
            agents=np.flatnonzero(agent_part == i),
            customers=np.flatnonzero(cust_part == i),
            task_pairs=np.flatnonzero(tp == i),
            owner_pairs=np.flatnonzero(op == i),
        )
        for i in range(len(bins))
    ]
    return parts, len(used)


def hubs(d: ProblemData) -> np.ndarray:
    """Agents with candidate tasks or customers in more than one region (mask)."""
    A, R = d.n_agents, max(1, len(d.region_names))
    seen = []
    for cand, region in ((d.task_cand, d.task_region), (d.owner_cand, d.customer_region)):
        r = region[cand.row]
        located = r >= 0
        seen.append(cand.agent[located].astype(np.int64) * R + r[located])
    pairs = np.unique(np.concatenate(seen))
    return np.bincount(pairs // R, minlength=A) > 1


def fix_hubs(
    d: ProblemData, assign: np.ndarray, owner: np.ndarray, hub: np.ndarray
) -> tuple[ProblemData, np.ndarray, np.ndarray]:
    """The problem with the multi-region agents' (`hub`, a mask: `hubs(d)`) share of the plan
    (`assign`, `owner`) taken out: the tasks and customers the plan gives such an agent lose
    every pair (they stay with that agent, outside the parts; masks returned), one without a
    region keeps only its pair in the plan (none if the plan leaves it open), and no other pair
    to such an agent remains.
    The tasks taken out lose their customer link too. Its components are the regions, each
    with the agents who cover it alone."""
    tc, oc = d.task_cand, d.owner_cand
    held = (assign >= 0) & hub[np.maximum(assign, 0)]
    c_held = (owner >= 0) & hub[np.maximum(owner, 0)]
    as_planned = held | (d.task_region < 0)
    keep = np.where(as_planned[tc.row], (tc.agent == assign[tc.row]) & ~held[tc.row], ~hub[tc.agent])
    c_planned = c_held | (d.customer_region < 0)
    keep_o = np.where(c_planned[oc.row], (oc.agent == owner[oc.row]) & ~c_held[oc.row], ~hub[oc.agent])
    fixed = d.replace(
        task_cand=tc.select(keep),
        owner_cand=oc.select(keep_o),
        task_customer=np.where(held, -1, d.task_customer).astype(d.task_customer.dtype),
    )
    return fixed, held, c_held


def restrict(d: ProblemData, part: Part) -> ProblemData:
    """The problem of one part: its tasks, agents and customers renumbered in their order in
    the whole problem, agent references outside the part (a task's agent in force who cannot
    take it any more) dropped."""
    amap = _position(part.agents, d.n_agents)
    cmap = _position(part.customers, d.n_customers)
    arrays = d.rows(TASK_ARRAYS, part.tasks) | d.rows(AGENT_ARRAYS, part.agents)
    arrays |= d.rows(CUSTOMER_ARRAYS, part.customers)
    # references to agents and customers, renumbered
    arrays["task_customer"] = _through(cmap, arrays["task_customer"])
    arrays["current"] = _through(amap, arrays["current"])
    arrays["owner"] = _through(amap, arrays["owner"])
    return d.replace(
        **arrays,
        task_cand=_candidates(d.task_cand, part.task_pairs, part.tasks, d.n_tasks, amap),
        owner_cand=_candidates(d.owner_cand, part.owner_pairs, part.customers, d.n_customers, amap),
    )


def local_plan(
    d: ProblemData, part: Part, assign: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A whole-problem plan restricted to a part, in the part's numbering (agents outside the
    part become -1)."""
    amap = _position(part.agents, d.n_agents)
    return (
        _through(amap, assign[part.tasks]).astype(assign.dtype),
        _through(amap, owner[part.customers]).astype(owner.dtype),
    )


def merge(
    d: ProblemData, parts: list[Part], plans: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """The whole problem's plan from each part's (agent per task, owner per customer, in the
    part's numbering); tasks and customers of no part stay open."""
    assign = np.full(d.n_tasks, -1, dtype=np.int32)
    owner = np.full(d.n_customers, -1, dtype=np.int32)
    for part, (a, o) in zip(parts, plans, strict=True):
        assign[part.tasks] = np.where(a >= 0, part.agents[np.maximum(a, 0)], -1)
        owner[part.customers] = np.where(o >= 0, part.agents[np.maximum(o, 0)], -1)
    return assign, owner


def _position(members: np.ndarray, n: int) -> np.ndarray:
    pos = np.full(n, -1, dtype=np.int64)
    pos[members] = np.arange(len(members))
    return pos


def _through(pos: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """`idx` (whole-problem indices, -1 = none) renumbered by `pos`; -1 where not in it."""
    return np.where(idx >= 0, pos[np.maximum(idx, 0)], -1).astype(idx.dtype)


def _candidates(
    c: Candidates, pairs: np.ndarray, rows: np.ndarray, n_rows: int, amap: np.ndarray
) -> Candidates:
    """The pairs `pairs` of `c` (all of the rows `rows`, ascending) renumbered for the part."""
    rmap = _position(rows, n_rows)
    counts = np.bincount(rmap[c.row[pairs]], minlength=len(rows))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Candidates(
        ptr,
        amap[c.agent[pairs]].astype(c.agent.dtype),
        c.cross_region[pairs],
        c.overqual[pairs],
        c.weight[pairs],
        c.value[pairs],
    )
