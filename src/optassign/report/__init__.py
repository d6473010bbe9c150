"""Charts (matplotlib, each on a given Axes) and the static HTML report of a plan."""
