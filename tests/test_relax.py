"""Pruning's selection of the best pairs per row (relax.top_per_row)."""

from __future__ import annotations

import numpy as np

from optassign.relax import top_per_row


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
