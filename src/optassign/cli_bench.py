"""Benchmark commands (`optassign bench ...`): public instance libraries through the same engine.
Parses, calls the API, renders; the logic lives in the API modules."""

from __future__ import annotations

from .cli import app  # noqa: F401
