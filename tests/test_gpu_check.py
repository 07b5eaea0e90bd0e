"""benchmarks/gpu_check.py: its CPU dry run passes every stage, and without a GPU it stops with one sentence."""
from __future__ import annotations

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


@pytest.mark.slow(seconds=13)
def test_dry_run_passes_every_stage(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--work", str(tmp_path)], env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = proc.stdout
    for stage in ("build the random-weight SD v1-4 folder", "train-lora (4 steps, batch 2, 64², fp16)",
                  "resume from checkpoint-2", "keyframes with the LoRA", "cross-attention maps"):
        assert f"| {stage} |" in out, out
    assert "s per step (median of steps 2-4)" in out
    assert "resume: LoRA identical to the uninterrupted run's" in out and out.rstrip().endswith("gpu_check: ok")
    assert "Traceback" not in proc.stderr


def test_without_a_gpu_it_stops_with_one_sentence(tmp_path):
    env = {**ENV, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []  # nothing built, nothing trained
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: error: no CUDA GPU is visible"), proc.stderr
