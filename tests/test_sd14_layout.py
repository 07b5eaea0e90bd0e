"""SD v1-4's published folder layout (benchmarks/sd14_full_size.py at toy size) loads through the package's own paths."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

pytestmark = pytest.mark.usefixtures("one_torch_thread")
REPO = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("sd14_full_size", REPO / "benchmarks" / "sd14_full_size.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sd14_tiny(tmp_path_factory):
    return _benchmark().build_sd14_folder(tmp_path_factory.mktemp("sd14") / "sd-v1-4", scale="tiny")


def test_the_folder_has_sd14s_layout_and_old_config_keys(sd14_tiny):
    top = {p.name for p in sd14_tiny.iterdir()}
    assert top == {"model_index.json", "unet", "vae", "text_encoder", "tokenizer", "safety_checker",
                   "feature_extractor", "scheduler"}
    assert {p.name for p in (sd14_tiny / "tokenizer").iterdir()} == {
        "vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"}  # no tokenizer.json
    index = json.loads((sd14_tiny / "model_index.json").read_text())
    assert index["scheduler"] == ["diffusers", "PNDMScheduler"] and index["_diffusers_version"] == "0.2.2"
    unet = json.loads((sd14_tiny / "unet" / "config.json").read_text())
    assert "attention_head_dim" in unet and "num_attention_heads" not in unet  # the old key, as published


def test_package_loads_it_without_feature_extractor_or_safety_checker(sd14_tiny):
    from diffusers import PNDMScheduler

    from text2asl.diffusion.model import load_base_model, load_pipeline

    pipe = load_pipeline(str(sd14_tiny), device="cpu")
    assert pipe.feature_extractor is None and pipe.safety_checker is None
    assert isinstance(pipe.scheduler, PNDMScheduler)
    ids = pipe.tokenizer("asl skeleton, A, phase 1 of 2").input_ids
    assert ids[0] == pipe.tokenizer.bos_token_id and ids[-1] == pipe.tokenizer.eos_token_id and len(ids) > 4
    base = load_base_model(str(sd14_tiny))
    assert base.vae.config.scaling_factor == pytest.approx(0.18215)  # the default an old VAE config relies on


def test_loading_prints_no_torchvision_notice(sd14_tiny):
    # A fresh interpreter: transformers gives the notice once per process, so in-process it may be long gone.
    code = ("import sys; from text2asl.diffusion.model import load_pipeline; load_pipeline(sys.argv[1], device='cpu')")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", code, str(sd14_tiny)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "torchvision" not in proc.stderr, proc.stderr


def test_bpe_vocabulary_is_valid_without_open_clip(tmp_path):
    from transformers import AutoTokenizer

    bench = _benchmark()
    merges = bench.learned_merges(["skeleton", "skeleton", "phase", "asl"], n_merges=20)
    assert merges and all(len(m.split()) == 2 for m in merges)
    bench.write_tokenizer(tmp_path / "tokenizer", merges)
    tok = AutoTokenizer.from_pretrained(tmp_path / "tokenizer")
    words = tok.convert_ids_to_tokens(tok("skeleton").input_ids)
    assert words[1:-1] == ["skeleton</w>"]  # the merges join the whole word
    assert tok.decode(tok("ASL skeleton, É 3").input_ids, skip_special_tokens=True) == "asl skeleton , é 3"


@pytest.mark.slow(seconds=12)
def test_benchmark_runs_end_to_end_at_tiny_scale(tmp_path):
    # --warm: the stages fork from one process that imported the libraries (fresh processes: 7 x ~5 s of imports)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "sd14_full_size.py"), "--scale", "tiny",
                           "--work", str(tmp_path / "work"), "--warm"], env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "bit-identical" in proc.stdout and proc.stdout.count(" ok") == 8
