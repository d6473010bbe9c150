"""The command line: each command parses its options, calls one function of the API and renders
the result. `main` owns the Typer app and registers the commands of every area."""
