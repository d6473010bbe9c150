"""`make bench`: every benchmark in turn, results in benchmarks/results/.

    .venv/bin/python benchmarks/run.py [--quick]

--quick runs the small sizes only (cattrysse1994, the 1,000 / 10,000-task batches, the
10,000-task regional batch and the handover on the 10,000-task one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    sizes = "10000" if quick else "10000,100000"
    runs = [
        [sys.executable, str(HERE / "gap.py"), "--set", "cattrysse1994" if quick else "all"],
        [sys.executable, str(HERE / "crm.py"), "--sizes", "1000,10000" if quick else "1000,10000,100000"],
        # batches that fall apart by region: part by part, and whole for comparison
        *(
            [sys.executable, str(HERE / "crm.py"), "--profile", "regional", "--sizes", sizes, *whole]
            for whole in ([], ["--whole"])
        ),
        # every shape of batch, with the gap to an independent LP
        [sys.executable, str(HERE / "profiles.py"), "--sizes", sizes],
        # after crm.py: its solved plan is the plan in force
        [sys.executable, str(HERE / "handover.py")]
        + (["--tasks", "10000", "--time-limit", "10", "--resolve-limit", "20"] if quick else []),
    ]
    for cmd in runs:
        print("$", " ".join(Path(c).name if c.endswith(".py") else c for c in cmd), flush=True)
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
