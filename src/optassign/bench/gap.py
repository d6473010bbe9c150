"""Generalized Assignment Problem (GAP) benchmarks: OR-Library instance files read into a
`GapInstance`, mapped straight onto `ProblemData` and solved by the same `solve_problem`.

GAP is the capacity core of workforce assignment: every item (task) goes to exactly one agent,
each agent's summed weights (hours) stay within its capacity, and the total cost is minimised.
The engine maximises, so a pair's value is its negated cost; the plan is checked and costed
again here from the matrices alone, independently of the solver."""

from __future__ import annotations

import csv
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.schema import InputProblem, Policy, ScenarioError
from optassign.engine.problem import Candidates, ProblemData
from optassign.engine.result import Result, SolveStatus
from optassign.engine.solve import solve_problem

# Where the instance library lives; `instance_name` names files inside it by their relative path.
GAP_DATA_ENV = "OPTASSIGN_GAP_DATA"
DEFAULT_GAP_DATA = Path("/work/shared/data/gap")
BEST_KNOWN_FILE = "best_known.csv"
SETS = ("cattrysse1994", "chu1997", "yagiura2004")
# Columns of a benchmark results file: the first seven always, in this order.
RESULT_COLUMNS = ["instance", "agents", "items", "value", "bound", "status", "seconds"]
EXTRA_COLUMNS = ["best_known", "gap_to_best_known"]


def gap_data_dir() -> Path:
    """The GAP instance folder: $OPTASSIGN_GAP_DATA, else the shared data folder."""
    return Path(os.environ.get(GAP_DATA_ENV) or DEFAULT_GAP_DATA)


class GapFormatError(ScenarioError):
    """A GAP instance or best-known file that cannot be read; lists every problem found."""


# --------------------------------------------------------------------------- instances
@dataclass(frozen=True, eq=False)
class GapInstance:
    """One GAP instance: m agents, n items; costs[i, j] and weights[i, j] of giving item j to
    agent i, and each agent's capacity. Arrays are read-only int64."""

    name: str
    costs: np.ndarray  # int64[m, n]
    weights: np.ndarray  # int64[m, n]
    capacities: np.ndarray  # int64[m]

    def __post_init__(self) -> None:
        for a in (self.costs, self.weights, self.capacities):
            a.setflags(write=False)

    @property
    def n_agents(self) -> int:
        return int(self.costs.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.costs.shape[1])


_INT = re.compile(r"[+-]?\d+\Z")


def read_gap(path: str | Path, name: str | None = None) -> GapInstance:
    """Read an OR-Library GAP file: `m n`, m rows of n costs, m rows of n weights, m capacities,
    whitespace separated and wrapped anyhow. Every problem found is raised in one
    `GapFormatError` (file, line, value, what is wrong)."""
    path = Path(path)
    file = str(path)

    def fail(rule: str, line: int | None = None, value: str | None = None) -> GapFormatError:
        return GapFormatError([InputProblem(file, line, None, value, rule)])

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("is a folder, not a GAP instance file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read: {exc}") from None
    tokens: list[str] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        tokens.extend(words)
        lines.extend([number] * len(words))
    if not tokens:
        raise fail("empty file; expected 'm n' followed by costs, weights and capacities")
    bad = [
        InputProblem(file, ln, None, tok, "not an integer" if not _INT.match(tok) else "integer out of range")
        for tok, ln in zip(tokens, lines, strict=True)
        if not _INT.match(tok) or len(tok.lstrip("+-")) > 15
    ]
    if bad:
        raise GapFormatError(bad)
    if len(tokens) < 2:
        raise fail("expected 'm n' (agents, items) at the start", lines[0], tokens[0])
    m, n = int(tokens[0]), int(tokens[1])
    if m < 1 or n < 1:
        raise fail(f"agents and items must be at least 1, got m={m}, n={n}", lines[0], f"{m} {n}")
    expected = 2 + 2 * m * n + m
    if len(tokens) < expected:
        raise fail(
            f"expected {expected} numbers for m={m} agents and n={n} items (2 + 2*m*n costs and "
            f"weights + m capacities), found {len(tokens)}: the file ends early"
        )
    if len(tokens) > expected:
        extra = len(tokens) - expected
        raise fail(
            f"{extra} number{'s' if extra > 1 else ''} after the {m} capacities (m={m}, n={n})",
            lines[expected],
            tokens[expected],
        )
    values = np.array([int(t) for t in tokens], dtype=np.int64)
    costs = values[2 : 2 + m * n].reshape(m, n)
    weights = values[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    capacities = values[2 + 2 * m * n :]
    problems = []
    for where, block, start in (("weight", weights, 2 + m * n), ("capacity", capacities, 2 + 2 * m * n)):
        for k in np.flatnonzero(block.reshape(-1) < 0).tolist():
            problems.append(
                InputProblem(file, lines[start + k], None, tokens[start + k], f"negative {where}")
            )
    if problems:
        raise GapFormatError(problems)
    return GapInstance(name or instance_name(path), costs, weights, capacities)


def instance_name(path: str | Path, root: str | Path | None = None) -> str:
    """The path relative to the GAP data folder when inside it (`cattrysse1994/gap1-0`), else
    the file stem: the key of best_known.csv."""
    path = Path(path).resolve()
    root = Path(root if root is not None else gap_data_dir()).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.stem


def instance_paths(which: str = "all", root: str | Path | None = None) -> list[Path]:
    """The instance files of a set (`cattrysse1994`, `chu1997`, `yagiura2004` or `all`), in a natural order
    (gap2-0 before gap10-0)."""
    root = Path(root if root is not None else gap_data_dir())
    sets = SETS if which == "all" else (which,)
    if which != "all" and which not in SETS:
        raise ValueError(f"unknown GAP set {which!r}; known: {', '.join(SETS)}, all")
    out: list[Path] = []
    for s in sets:
        files = [p for p in (root / s).iterdir() if p.is_file() and not p.name.startswith(".")]
        out.extend(sorted(files, key=_natural_key))
    return out


def _natural_key(path: Path) -> list[int | str]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


@dataclass(frozen=True)
class BestKnown:
    """A line of best_known.csv: the best known lower bound, the proven optimum (None where
    none is proven) and the best known solution value."""

    bound: float | None
    optimum: int | None
    value: int | None


def read_best_known(path: str | Path | None = None) -> dict[str, BestKnown]:
    """best_known.csv as {instance name: BestKnown}; {} when the file does not exist."""
    path = Path(path) if path is not None else gap_data_dir() / BEST_KNOWN_FILE
    if not path.is_file():
        return {}
    needed = ("Path", "Best known bound", "Optimum", "Best known solution value")
    out: dict[str, BestKnown] = {}
    problems: list[InputProblem] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise GapFormatError([InputProblem(str(path), 1, c, None, "missing column") for c in missing])
        for line, row in enumerate(reader, start=2):
            parsed = []
            for col, kind in zip(needed[1:], (float, int, int), strict=True):
                cell = (row[col] or "").strip()
                try:
                    parsed.append(kind(float(cell)) if cell else None)
                except ValueError:
                    problems.append(InputProblem(str(path), line, col, cell, "not a number"))
                    parsed.append(None)
            out[row["Path"].strip()] = BestKnown(*parsed)
    if problems:
        raise GapFormatError(problems)
    return out


# --------------------------------------------------------------------------- adapter
def gap_policy() -> Policy:
    """Only the pairs' own values count: every weight is 0, priorities earn nothing, no balance."""
    zero = {k: 0.0 for k in range(1, 6)}
    return Policy(
        name="gap",
        description="Generalized Assignment Problem: minimise the summed pair costs",
        priority_value=zero,
        ownership_value={"A": 0.0, "B": 0.0, "C": 0.0},
        cross_region_penalty=0.0,
        balance="none",
        balance_weight=0.0,
        keep_assignee_weight=0.0,
        keep_owner_tasks_weight=0.0,
        keep_customer_owner_weight=0.0,
        agents_per_customer_weight=0.0,
        overqualification_weight=0.0,
        cost_weight=0.0,
    )


def gap_problem(inst: GapInstance) -> ProblemData:
    """The engine's `ProblemData` of a GAP instance: items are must-assign tasks of priority 1,
    agents are active with the instance's capacities (integer weight units, not hours), and
    every pair (item j, agent i) with w[i, j] <= capacity[i] is a candidate of weight w[i, j]
    and value -c[i, j]. No customers, skills or regions."""
    m, n = inst.n_agents, inst.n_items
    fits = (inst.weights <= inst.capacities[:, None]).T  # [n, m]
    item, agent = np.nonzero(fits)  # row-major: by item, agents sorted
    ptr = np.concatenate([[0], np.cumsum(np.bincount(item, minlength=n))]).astype(np.int64)
    P = len(item)
    weight = inst.weights[agent, item].astype(np.int64)
    task_cand = Candidates(
        ptr=ptr,
        agent=agent.astype(np.int32),
        cross_region=np.zeros(P, dtype=bool),
        overqual=np.zeros(P, dtype=np.int32),
        weight=weight,
        value=-inst.costs[agent, item].astype(np.float64),
    )
    empty = np.zeros(0, dtype=np.int32)
    owner_cand = Candidates(
        np.zeros(1, np.int64), empty, np.zeros(0, bool), empty, np.zeros(0, np.int64), np.zeros(0)
    )
    # effort: the least the item can take of any agent (orders the greedy start).
    effort = np.full(n, 0, dtype=np.int64)
    has = np.diff(ptr) > 0
    effort[has] = np.minimum.reduceat(weight, ptr[:-1][has]) if P else 0
    none = np.full(n, -1, dtype=np.int32)
    return ProblemData(
        task_ids=np.array([f"item{j + 1}" for j in range(n)], dtype=object),
        agent_ids=np.array([f"agent{i + 1}" for i in range(m)], dtype=object),
        customer_ids=np.zeros(0, dtype=object),
        skill_names=np.zeros(0, dtype=object),
        region_names=np.zeros(0, dtype=object),
        effort=effort,
        priority=np.ones(n, dtype=np.int8),
        task_customer=none,
        task_region=none.copy(),
        task_skill=np.zeros((n, 0), dtype=np.int8),
        current=none.copy(),
        pinned=np.zeros(n, dtype=bool),
        pin_broken=np.zeros(n, dtype=bool),
        capacity=inst.capacities.astype(np.int64),
        max_tasks=np.full(m, -1, dtype=np.int64),
        max_customers=np.full(m, -1, dtype=np.int64),
        active=np.ones(m, dtype=bool),
        cost_per_hour=np.zeros(m, dtype=np.float64),
        agent_skill=np.zeros((m, 0), dtype=np.int8),
        agent_region=np.zeros((m, 0), dtype=bool),
        ownership_hours=np.zeros(0, dtype=np.int64),
        tier=np.zeros(0, dtype=np.int8),
        owner=np.zeros(0, dtype=np.int32),
        customer_region=np.zeros(0, dtype=np.int32),
        customer_skill=np.zeros((0, 0), dtype=np.int8),
        task_cand=task_cand,
        owner_cand=owner_cand,
        region_hard=True,
        must_assign=np.ones(n, dtype=bool),
    )


# --------------------------------------------------------------------------- checking
def plan_problems(inst: GapInstance, assign: np.ndarray) -> list[str]:
    """Why a plan (agent per item, -1 = none) is not a GAP solution; [] when it is one. Uses
    the instance's matrices only."""
    assign = np.asarray(assign)
    out: list[str] = []
    if assign.shape != (inst.n_items,):
        return [f"plan has shape {assign.shape}, expected ({inst.n_items},)"]
    unassigned = np.flatnonzero(assign < 0)
    if len(unassigned):
        out.append(f"{len(unassigned)} items without an agent (first: item {int(unassigned[0]) + 1})")
    bad = np.flatnonzero(assign >= inst.n_agents)
    if len(bad):
        out.append(f"{len(bad)} items given to an unknown agent")
    ok = (assign >= 0) & (assign < inst.n_agents)
    j = np.flatnonzero(ok)
    load = np.bincount(assign[j], weights=inst.weights[assign[j], j], minlength=inst.n_agents)
    for i in np.flatnonzero(load > inst.capacities).tolist():
        out.append(f"agent {i + 1} carries {int(load[i])} > capacity {int(inst.capacities[i])}")
    return out


def plan_cost(inst: GapInstance, assign: np.ndarray) -> int:
    """Summed cost c[assign[j], j] of the assigned items."""
    assign = np.asarray(assign)
    j = np.flatnonzero(assign >= 0)
    return int(inst.costs[assign[j], j].sum())


# --------------------------------------------------------------------------- solving
@dataclass(frozen=True, eq=False)
class GapResult:
    """A GAP solve: `value` is the cost of the plan as recomputed from the matrices (NaN when
    no valid plan was found), `bound` a lower bound on the optimal cost, `feasible` whether
    the plan passed the independent check (`problems` says why not)."""

    name: str
    agents: int
    items: int
    value: float
    bound: float
    status: str
    seconds: float
    feasible: bool
    assign: np.ndarray
    problems: list[str] = field(default_factory=list)
    result: Result | None = None

    @property
    def optimal(self) -> bool:
        return self.status == SolveStatus.OPTIMAL and self.feasible

    def gap_to(self, best: float | None) -> float:
        """(value - best) / |best| in percent; NaN without both numbers."""
        if best is None or not math.isfinite(self.value) or best == 0:
            return float("nan")
        return 100.0 * (self.value - best) / abs(best)


def solve_gap(
    inst: GapInstance,
    time_limit: float = 10.0,
    workers: int | None = None,
    seed: int = 0,
    **params,
) -> GapResult:
    """Solve a GAP instance with the engine. Extra keywords go to `solve_problem`
    (`deterministic=`, `lp=`, `prune=`, `hint=`) and from there to CP-SAT's parameters (e.g.
    linearization_level=2). With `prune=k` the model keeps each item's k best agents by LP
    reduced cost: better plans on the hardest (type D) instances, but the bound is then the
    LP's, so no optimality proof."""
    started = time.perf_counter()
    data = gap_problem(inst)
    result = solve_problem(data, gap_policy(), time_limit=time_limit, workers=workers, seed=seed, **params)
    seconds = time.perf_counter() - started
    assign = np.asarray(result.assign, dtype=np.int64)
    has_plan = result.status.has_solution
    problems = plan_problems(inst, assign) if has_plan else [f"no plan ({result.status.value})"]
    feasible = not problems
    value = float(plan_cost(inst, assign)) if feasible else float("nan")
    # The engine maximises -cost; costs are integers, so the bound rounds up.
    bound = -result.best_bound
    bound = float(math.ceil(bound - 1e-6)) if math.isfinite(bound) else float("nan")
    status = result.status.value
    if has_plan and not feasible:
        status = "NO_VALID_PLAN"
    elif status == SolveStatus.OPTIMAL and not value <= bound:
        # Optimal over a pruned model only: the bound over every pair is not reached.
        status = SolveStatus.FEASIBLE.value
    return GapResult(
        name=inst.name,
        agents=inst.n_agents,
        items=inst.n_items,
        value=value,
        bound=bound,
        status=status,
        seconds=round(seconds, 3),
        feasible=feasible,
        assign=assign,
        problems=problems,
        result=result,
    )


def results_frame(results: list[GapResult], best_known: dict[str, BestKnown] | None = None) -> pd.DataFrame:
    """One row per solve with RESULT_COLUMNS, then best_known and gap_to_best_known (percent)."""
    best_known = read_best_known() if best_known is None else best_known
    rows = []
    for r in results:
        bk = best_known.get(r.name)
        best = bk.value if bk is not None else None
        rows.append(
            {
                "instance": r.name,
                "agents": r.agents,
                "items": r.items,
                "value": r.value,
                "bound": r.bound,
                "status": r.status,
                "seconds": r.seconds,
                "best_known": best,
                "gap_to_best_known": round(r.gap_to(best), 4),
            }
        )
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS + EXTRA_COLUMNS)
    for col in ("value", "bound", "best_known"):
        frame[col] = pd.to_numeric(frame[col]).round().astype("Int64")
    return frame


def write_results(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a results frame as CSV (parent folders created), empty cells for missing numbers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def instance_group(name: str) -> str:
    """The summary group of an instance: its set, and for chu1997 and yagiura2004 its type
    (`chu1997/D`, `yagiura2004/E`)."""
    head, _, tail = name.partition("/")
    if head in ("chu1997", "yagiura2004") and tail:
        return f"{head}/{tail[0].upper()}"
    return head if tail else "other"


def summary_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group: instances, at best known, proven optimal, mean/max gap to best known (%),
    mean/max seconds."""
    f = frame.assign(group=frame["instance"].map(instance_group))
    rows = []
    for group, g in f.groupby("group", sort=True):
        at_best = (g["value"].notna() & (g["value"] <= g["best_known"])).sum()
        gap = g["gap_to_best_known"].astype(float)
        rows.append(
            {
                "set": group,
                "instances": len(g),
                "at_best_known": int(at_best),
                "proven_optimal": int((g["status"] == "OPTIMAL").sum()),
                "mean_gap_pct": round(float(gap.mean()), 3) if gap.notna().any() else float("nan"),
                "max_gap_pct": round(float(gap.max()), 3) if gap.notna().any() else float("nan"),
                "mean_seconds": round(float(g["seconds"].mean()), 2),
                "max_seconds": round(float(g["seconds"].max()), 2),
            }
        )
    return pd.DataFrame(rows)
