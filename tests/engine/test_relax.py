"""Pruning's selection of the best pairs per row (relax.top_per_row)."""

from __future__ import annotations

import numpy as np

from optassign.engine.relax import top_per_row


def test_top_per_row_matches_a_plain_sort():
    """Pruning's one-sort selection keeps, per row, the same k pairs as sorting each row by
    score (ties by position), with -inf, +inf and NaN (as -inf) among the scores."""
    rng = np.random.default_rng(1)
    for trial in range(200):
        n_rows = int(rng.integers(1, 30))
        rows = np.repeat(np.arange(n_rows), rng.integers(0, 6, n_rows))
        score = rng.integers(-3, 3, len(rows)).astype(float)
        if len(rows):
            score[rng.integers(0, len(rows), 3)] = [-np.inf, np.inf, np.nan][: 1 + trial % 3] + [0.0] * (
                2 - trial % 3
            )
        perm = rng.permutation(len(rows))
        k = int(rng.integers(1, 4))
        got = top_per_row(rows[perm], score[perm], perm, k, len(rows))
        clean = np.where(np.isnan(score), -np.inf, score)
        expected = np.zeros(len(rows), bool)
        for r in range(n_rows):
            members = [i for i in range(len(rows)) if rows[perm[i]] == r]
            members.sort(key=lambda i: (-clean[perm[i]], i))
            expected[perm[members[:k]]] = True
        assert (got == expected).all(), trial


def _random_problem(seed: int):
    from tests._cases import problem, random_frames
    from tests.engine.test_solve import ALL_TERMS

    agents, tasks, customers = random_frames(seed, 120, 12, 20)
    return problem(agents, tasks, customers, policy=ALL_TERMS), ALL_TERMS


def test_column_generation_reaches_the_whole_lp(monkeypatch):
    """Started from each row's best pair by the dual and a greedy plan's pairs, pricing ends at
    the LP over every pair: the same optimum, a bound validated by the dual function at the
    LP's duals (never below the LP's own value), and values at least as good as the plan."""
    from optassign.engine import relax as rx
    from optassign.engine.search.greedy import greedy_plan
    from optassign.engine.solve import primary_terms

    for seed in range(3):
        d, policy = _random_problem(seed)
        names = primary_terms(policy)
        whole = rx.relax(d, policy, names)
        assert whole.status == "optimal" and whole.rounds == 1
        plan = greedy_plan(d)
        with monkeypatch.context() as m:
            m.setattr(rx, "FULL_LP_PAIRS", 0)
            m.setattr(rx, "SEED_K", 1)
            m.setattr(rx, "PRICE_K", 1)
            m.setattr(rx, "PRICE_GAP", 0.0)
            lp = rx.relax(d, policy, names, time_limit=10, include=plan)
        cx, co = rx.pair_coefficients(d, policy, names)
        plan_value = cx[d.task_cand.chosen(plan[0])].sum() + co[d.owner_cand.chosen(plan[1])].sum()
        lp_value = cx @ lp.x + co @ lp.o
        assert lp.status == "optimal" and lp.rounds > 1
        assert lp.columns < len(d.task_cand) + len(d.owner_cand)
        assert lp_value >= plan_value - 1e-6
        assert lp.bound >= lp_value - 1e-6
        assert abs(lp.bound - whole.bound) <= 1e-6 * max(1.0, abs(whole.bound))
        assert abs(lp_value - whole.bound) <= 1e-6 * max(1.0, abs(whole.bound))


def test_the_bound_is_valid_at_every_round(monkeypatch):
    """Stopped after its first round, pricing still gives a bound at least the whole LP's."""
    from optassign.engine import relax as rx
    from optassign.engine.solve import primary_terms

    for seed in range(3):
        d, policy = _random_problem(seed)
        names = primary_terms(policy)
        whole = rx.relax(d, policy, names)
        with monkeypatch.context() as m:
            m.setattr(rx, "FULL_LP_PAIRS", 0)
            m.setattr(rx, "SEED_K", 1)
            lp = rx.relax(d, policy, names, time_limit=0.0)
        assert lp.rounds == 1 and lp.status in ("priced", "optimal")
        assert lp.bound >= whole.bound - 1e-6


def test_raised_relaxation_bounds_the_changed_problem():
    """A relaxation of one problem, raised for new owners in force, still bounds the LP of the
    problem with those owners (computed whole)."""
    from optassign.engine.relax import raised, relax
    from optassign.engine.solve import primary_terms

    for seed in range(3):
        d, policy = _random_problem(seed)
        names = primary_terms(policy)
        old = relax(d, policy, names)
        rng = np.random.default_rng(seed)
        oc = d.owner_cand
        new_owner = d.owner.copy()
        for c in range(d.n_customers):  # a random candidate as the new owner in force
            agents = oc.agent[oc.ptr[c] : oc.ptr[c + 1]]
            if len(agents):
                new_owner[c] = rng.choice(agents)
        changed = d.replace(owner=new_owner)
        bound = raised(old, d, changed, policy, names).bound
        assert bound >= relax(changed, policy, names).bound - 1e-6
        assert bound >= old.bound
