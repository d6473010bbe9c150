"""Plan exports beside the contract's CSV files: Parquet (one file per table) and an Excel
workbook (plan.xlsx, one sheet per table). Written into a plan folder after `Plan.write`."""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from optassign.contract.writer import file_mode
from optassign.plan.folder import PlanLike, as_plan
from optassign.plan.plan import Plan

__all__ = ["FORMATS", "ExportFormat", "export_plan", "flatten_summary", "plan_tables"]


class ExportFormat(StrEnum):
    """Formats a plan can be written in (`--format`)."""

    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


FORMATS = tuple(f.value for f in ExportFormat)
WORKBOOK = "plan.xlsx"
# Fixed document dates and zip entry times, so the same plan gives a byte-identical workbook.
FIXED_TIME = datetime(2000, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def flatten_summary(summary: dict) -> pd.DataFrame:
    """summary.json as rows of (key, value): nested keys joined with ".", list items by index
    (a list of plain values stays one row, ";"-joined)."""
    rows: list[tuple[str, object]] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            if not value:
                rows.append((prefix, None))
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list | tuple):
            if all(not isinstance(v, dict | list | tuple) for v in value):
                rows.append((prefix, ";".join(map(str, value))))
            else:
                for i, v in enumerate(value):
                    walk(f"{prefix}.{i}", v)
        else:
            rows.append((prefix, value))

    walk("", summary)
    return pd.DataFrame(rows, columns=["key", "value"])


def plan_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """The plan's tables by name, in sheet order: assignments, owners, agent_load, summary
    (flattened), then handover and any other extra tables."""
    tables = {"assignments": plan.assignments}
    if plan.owners is not None:
        tables["owners"] = plan.owners
    tables["agent_load"] = plan.agent_load
    tables["summary"] = flatten_summary(plan.summary)
    for name in sorted(plan.extra_tables, key=lambda n: (n != "handover.csv", n)):
        stem = Path(name).stem
        if stem not in tables:
            tables[stem] = plan.extra_tables[name]
    return tables


def export_plan(plan: PlanLike, out: str | Path, formats: Iterable[str] = ("parquet", "xlsx")) -> list[Path]:
    """Write the plan's tables in each format into the folder `out`; returns the files written.

    csv: the plan folder itself (`Plan.write`; for a plan folder given as `plan` and written
    there already, nothing to do); parquet: <table>.parquet per table (summary as key/value
    text); xlsx: plan.xlsx with one sheet per table and fixed document dates."""
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format {', '.join(unknown)}; known: {', '.join(FORMATS)}")
    out = Path(out)
    source = None if isinstance(plan, Plan) else Path(plan)
    plan = as_plan(plan)
    written: list[Path] = []
    if "csv" in formats and (source is None or source.resolve() != out.resolve()):
        plan.write(out)
        written.append(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = plan_tables(plan)
    if "parquet" in formats:
        for name, table in tables.items():
            written.append(_atomic(out / f"{name}.parquet", lambda p, f=table: _parquet(f, p)))
    if "xlsx" in formats:
        written.append(_atomic(out / WORKBOOK, lambda p: p.write_bytes(_workbook(tables))))
    return written


def _atomic(target: Path, write) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, file_mode())  # mkstemp's 0600 would hide the file from a loader of another user
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for name in out.columns:  # mixed object columns (text with None) as text
        if out[name].dtype == object:
            out[name] = out[name].map(lambda v: None if v is None else str(v))
    out.to_parquet(path, index=False, engine="pyarrow")


def _cell(v: object) -> object:
    """A value openpyxl can store: numpy scalars to Python, missing to empty."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating) and not np.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict | list | tuple):
        return str(v)
    return v


def _text_cell(ws, value: str):
    """A text cell stored as a plain string whatever it starts with: openpyxl would store
    `=HYPERLINK(...)`, `=cmd|...` and the like as live formulas (OWASP's CSV-injection list:
    =, +, -, @, tab, CR), and values come from a CRM anyone can type into."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _workbook(tables: dict[str, pd.DataFrame]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, table in tables.items():
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", name)[:31])
        ws.freeze_panes = "A2"
        header = []
        for col in table.columns:
            cell = WriteOnlyCell(ws, value=str(col))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in table.itertuples(index=False, name=None):
            ws.append([_text_cell(ws, v) if isinstance(v, str) else _cell(v) for v in row])
    wb.properties.creator = "optassign"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()  # save_workbook would stamp `modified` with now
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every entry dated 1980-01-01, in the same order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
