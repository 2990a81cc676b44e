"""Every notebook in notebooks/ runs top to bottom, exactly as a user opens it, and is committed small.

The notebooks check their own claims with asserts, so executing them is the
test: a cell that raises fails it. There is one code path: each notebook's
default budget is small enough for CI, and no environment variable switches it.
The kernel is this interpreter (``sys.executable``) with ``PYTHONPATH`` pointing
at this checkout, whatever kernels the machine has installed.
"""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL_NAME = "vae-tf-notebook-test"

#: Seconds one cell may run (the first XLA compilation of a VAE included).
CELL_TIMEOUT_S = 300
#: A committed notebook keeps small outputs: the repository should not carry images at full resolution.
MAX_NOTEBOOK_BYTES = 300_000
MAX_OUTPUT_BYTES = 100_000


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory):
    """A kernelspec that runs ``sys.executable`` with this checkout importable (and nothing else changed)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "vae-tf tests",
        "language": "python",
        "env": {"PYTHONPATH": pythonpath, "TF_CPP_MIN_LOG_LEVEL": "3"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return str(root)


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/*.ipynb: none found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_one_code_path(path):
    # A switch between a "test" and a "default" budget would leave the default path untested.
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert "VAE_TF_NOTEBOOK_SMALL" not in source and "VAE_TF_MNIST" not in source, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, kernel_dirs, monkeypatch):
    # jupyter_client looks kernels up in JUPYTER_PATH first.
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(p for p in (kernel_dirs, os.environ.get("JUPYTER_PATH", "")) if p))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell failed\n{err}", pytrace=False)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count is not None for c in code_cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_small_valid_and_executed(path):
    size = path.stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, f"{path.name} is {size} bytes; shrink its figures or clear big outputs"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"{path.name}: cell {i} was committed without being run"
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name}: cell {i} was committed with an error"
            n = len(json.dumps(output))
            assert n < MAX_OUTPUT_BYTES, f"{path.name}: cell {i} has a {n}-byte output"
