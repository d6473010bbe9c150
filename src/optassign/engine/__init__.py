"""Solver words only: a Scenario becomes ProblemData (numpy arrays), the CP-SAT model, bounds,
searches, decomposition and a Result. Reads no plan tables and writes no files."""
