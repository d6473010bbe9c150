"""Analysis commands (`optassign compare`, `sweep`, `explain`): plans side by side and why.
Parses, calls the API, renders; the logic lives in the API modules."""

from __future__ import annotations

from .cli import app  # noqa: F401
