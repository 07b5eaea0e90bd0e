"""benchmarks/gpu_check.py: its CPU dry run passes every stage, and without a GPU it stops with one sentence."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def _script(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # run as a script, it imports its neighbour sd14_full_size
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gpu_check", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow(seconds=6)
@pytest.mark.usefixtures("one_torch_thread")
def test_dry_run_passes_every_stage(tmp_path, capsys, monkeypatch):
    # In this process (its libraries are loaded already): the script's own process adds only ~5 s of imports.
    code = _script(monkeypatch).main(["--dry-run", "--work", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out[-2000:] + err[-3000:]
    for stage in ("build the random-weight SD v1-4 folder", "train-lora (4 steps, batch 2, 64², fp16)",
                  "resume from checkpoint-2", "keyframes with the LoRA", "cross-attention maps"):
        assert f"| {stage} |" in out, out
    assert "s per step (median of steps 2-4)" in out
    assert "resume: LoRA identical to the uninterrupted run's" in out and out.rstrip().endswith("gpu_check: ok")
    assert "Traceback" not in err


def test_without_a_gpu_it_stops_with_one_sentence(tmp_path):
    env = {**ENV, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []  # nothing built, nothing trained
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: error: no CUDA GPU is visible"), proc.stderr
