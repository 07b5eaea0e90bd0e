"""Small real fixtures for the tests and benchmarks/bench_lora_step.py: an alphabet dataset and a saved smoke-size base.

Both are made from what every install ships (the embedded ASL alphabet), in seconds on a CPU.
"""
from __future__ import annotations

from pathlib import Path


def alphabet_dataset(folder: str | Path, resolution: int = 32, n_phases: int = 2) -> Path:
    """The 26 embedded fingerspelling letters as a skeleton dataset (26 x `n_phases` images) in `folder`."""
    from text2asl.diffusion.dataset import make_dataset
    from text2asl.gloss_to_pose.lexicon import Lexicon

    return make_dataset([Lexicon.embedded()], folder, resolution=resolution, n_phases=n_phases, progress=False)


def tiny_base(folder: str | Path, data_dir: str | Path, resolution: int = 32, seed: int = 0) -> Path:
    """A random SD pipeline of the smoke preset's size whose tokenizer knows `data_dir`'s captions, saved with `save_pretrained`."""
    from text2asl.diffusion.config import BASE_PRESETS
    from text2asl.diffusion.dataset import read_metadata
    from text2asl.diffusion.tiny import save_tiny_pipeline

    return save_tiny_pipeline([r["text"] for r in read_metadata(data_dir)], folder, resolution, seed,
                              BASE_PRESETS["smoke"].arch)
