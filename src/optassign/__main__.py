"""`optassign` and `python -m optassign`: signal handlers first, then the command line.

Installed before pandas, OR-Tools and the commands are imported (a second or two), so that
Ctrl-C or SIGTERM at start-up ends the run with one line and exit code 130 / 143, not a
traceback."""

from __future__ import annotations

import sys

from optassign import interrupt


def main() -> None:
    interrupt.install()
    try:
        from optassign.cli.main import main as cli_main
    except interrupt.Interrupted as exc:
        sys.stderr.write(interrupt.message(exc.signum, "stopped; nothing was replaced") + "\n")
        sys.exit(exc.exit_code)
    cli_main()


if __name__ == "__main__":
    main()
