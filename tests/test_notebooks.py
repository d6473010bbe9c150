"""The example notebooks run top to bottom (each with short solves on the bundled scenarios),
and notebooks/build.py still writes exactly the committed .ipynb files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import find_kernel_specs
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_nightly_batch.ipynb", "02_compare_scenarios.ipynb", "03_staffing_change.ipynb"]


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_are_built_by_build_py(tmp_path):
    written = _build_module().build(tmp_path)
    assert [p.name for p in written] == NAMES
    for p in written:
        assert p.read_bytes() == (NOTEBOOKS / p.name).read_bytes(), (
            f"run python notebooks/build.py ({p.name})"
        )


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path, monkeypatch):
    # ipykernel ships the python3 spec in sys.prefix/share/jupyter/kernels; jupyter_client runs
    # it with this interpreter, so the kernel sees the same optassign as the tests.
    assert "python3" in find_kernel_specs(), (
        f"no python3 kernel spec (is ipykernel installed in {sys.prefix}?)"
    )
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' temp folders go to pytest's
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors
    assert any(o.get("data", {}).get("image/png") for c in nb.cells for o in c.get("outputs", []))
