"""Benchmark instance libraries solved through the engine (OR-Library GAP)."""
