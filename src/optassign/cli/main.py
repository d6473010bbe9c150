"""`optassign`: the Typer app and the registration of every command, area by area. A command
parses its options, calls one API function and renders (see cli/common.py for what they share)."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated

import typer

from optassign import interrupt
from optassign.cli import analysis, bench, handover, report, solve
from optassign.contract.writer import REPLACED

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Assign tasks and customers to staff with CP-SAT.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"optassign {metadata.version('optassign')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Assign tasks and customers to staff with CP-SAT."""


app.command()(solve.solve)
app.command()(solve.validate)
app.command()(solve.generate)
app.command()(analysis.compare)
app.command()(analysis.sweep)
app.command()(analysis.explain)
app.command()(analysis.export)
app.add_typer(bench.bench_app, name="bench")
app.command("handover")(handover.handover_cmd)
app.command("preview")(handover.preview_cmd)
app.command()(report.report)
app.command()(report.status)


def main() -> None:
    """The command line (see optassign.__main__, which installs the signal handlers first)."""
    interrupt.install()
    try:
        app()
    except interrupt.Interrupted as exc:
        done = f"stopped after writing {REPLACED[-1]}" if REPLACED else "stopped; nothing was replaced"
        sys.stderr.write(interrupt.message(exc.signum, done) + "\n")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
