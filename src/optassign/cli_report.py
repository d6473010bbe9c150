"""Report commands (`optassign report`, `status`): charts, HTML and the monitoring view.
Parses, calls the API, renders; the logic lives in the API modules."""

from __future__ import annotations

from .cli import app  # noqa: F401
