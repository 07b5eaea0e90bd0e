"""The numbered notebooks run top to bottom headless (SMOKE settings), and are committed without outputs."""
from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

import pytest

WATCHDOG_S = 900
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_six_numbered_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_a_parameters_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs (nbstripout)"
    assert "parameters" in code[0].get("metadata", {}).get("tags", []), "first code cell must be tagged 'parameters'"
    assert "SMOKE = True" in "".join(code[0]["source"])
    assert not any("sys.path" in "".join(c["source"]) for c in code), "import the installed package, do not patch sys.path"


# Seconds each takes in `make test` (slow marker: the longest start first).
SECONDS = {"01": 22, "02": 4, "03": 41, "04": 18, "05": 23, "06": 13}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow(seconds=SECONDS.get(p.name[:2], 10)))
                                  for p in NOTEBOOKS], ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_dirs = {k: tempfile.mkdtemp() for k in ("MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR")}
    old = {k: os.environ.get(k) for k in env_dirs}
    os.environ.update(env_dirs)
    # "immediate": the kernel is stopped once the last cell has run; a graceful stop of a kernel that loaded
    # torch takes ~2 s more, and nothing of the notebook runs then.
    client = NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(tmp_path)}})
    failure: list[BaseException] = []

    def execute():
        try:
            client.execute()
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    # A watchdog: a lost kernel message must fail this test, not hang CI.
    worker = threading.Thread(target=execute, daemon=True)
    try:
        worker.start()
        worker.join(WATCHDOG_S)
        if worker.is_alive():
            if client.km is not None:
                client.km.shutdown_kernel(now=True)
            pytest.fail(f"{path.name} did not finish within {WATCHDOG_S} s")
        if failure:
            raise failure[0]
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if path.stem == "05_evaluation":  # its SMOKE settings are the README's: it must show the README's table
        from test_evaluation_readme import readme_block

        shown = "\n".join(str(v) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                          for v in o.get("data", {}).values())
        missing = [line for line in readme_block().splitlines() if line and line not in shown]
        assert not missing, f"notebook 05 does not show the README's evaluation lines {missing}"
