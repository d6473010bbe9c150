"""Benchmark commands (`optassign bench ...`): public instance libraries through the same engine.
Parses, calls the API, renders; the logic lives in the API modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from optassign.bench.gap import read_best_known, read_gap, results_frame, solve_gap, write_results
from optassign.cli.common import (
    EXIT_INPUT,
    ParamOpt,
    SeedOpt,
    WorkersOpt,
    console,
    cpsat_params_option,
    err,
    fail_input,
)
from optassign.contract.schema import ScenarioError

bench_app = typer.Typer(
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Solve public benchmark instances and compare with the best known values.",
)


def _num(x: object, fmt: str = "{:,.0f}") -> str:
    return "-" if x is None or pd.isna(x) else fmt.format(x)


@bench_app.command("gap")
def gap(
    files: Annotated[list[Path], typer.Argument(help="OR-Library GAP instance files")],
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.01, help="seconds per instance")] = 10.0,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="results CSV to write")] = None,
    best_known: Annotated[
        Path | None, typer.Option("--best-known", help="best_known.csv (default: the GAP data folder's)")
    ] = None,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic/--wall-clock",
            help="reproducible deterministic work, or (default) wall-clock search, CP-SAT free portfolio",
        ),
    ] = False,
    prune: Annotated[
        int | None,
        typer.Option("--prune", min=1, help="keep each item's K best agents by LP reduced cost (e.g. 3)"),
    ] = None,
    param: ParamOpt = None,
) -> None:
    """Solve Generalized Assignment Problem instances (minimum cost) and compare with best known."""
    params = cpsat_params_option(param)

    if best_known is not None and not best_known.is_file():
        err.print(f"[bold red]error:[/] {escape(str(best_known))}: file not found", markup=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        instances = [read_gap(f) for f in files]
        known = read_best_known(best_known)
    except ScenarioError as exc:
        fail_input(exc)
    results = []
    for inst in instances:
        r = solve_gap(
            inst,
            time_limit=time_limit,
            workers=workers,
            seed=seed or 0,
            deterministic=deterministic,
            prune=prune,
            **params,
        )
        results.append(r)
        err.print(
            f"[dim]{r.seconds:7.2f}s[/] {escape(r.name)}: {_num(r.value)} (bound {_num(r.bound)}) {r.status}"
        )
    frame = results_frame(results, known)
    table = Table(title=f"GAP · {len(results)} instances · {time_limit:g} s each", box=None, pad_edge=False)
    table.add_column("instance", no_wrap=True)
    for col in ("agents", "items", "value", "bound", "best known", "gap %"):
        table.add_column(col, justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("seconds", justify="right")
    for row in frame.itertuples(index=False):
        gap_txt = _num(row.gap_to_best_known, "{:.2f}")
        table.add_row(
            escape(row.instance),
            str(row.agents),
            str(row.items),
            _num(row.value),
            _num(row.bound),
            _num(row.best_known),
            gap_txt,
            row.status,
            f"{row.seconds:.2f}",
        )
    console.print(table)
    if out is not None:
        write_results(frame, out)
        console.print(f"results written to [bold]{escape(str(out))}[/]")
