"""Handover commands (`optassign handover`, `optassign preview`): staffing changes as re-solves.
Parses, calls the API, renders; the logic lives in the API modules."""

from __future__ import annotations

from .cli import app  # noqa: F401
