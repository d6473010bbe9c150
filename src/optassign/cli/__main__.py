"""`python -m optassign.cli`: the command line, as `optassign` runs it."""

from optassign.__main__ import main

if __name__ == "__main__":
    main()
