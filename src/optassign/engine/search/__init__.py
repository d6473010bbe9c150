"""Heuristic searches on ProblemData: the greedy start, ejection, ejection chains, Lagrangian
knapsacks, path relinking and neighbourhoods re-solved by CP-SAT."""
