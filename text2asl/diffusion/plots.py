"""Figures of a diffusion run: the loss curve and generated keyframes next to the real ones (matplotlib, `ax=`)."""
from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from text2asl.diffusion.runlog import LOSS_LOG


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < window or window < 2:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_loss_curve(run_dir: str | Path, ax=None, window: int = 25, base_run: str | Path | None = None):
    """Per-step LoRA loss of a run, raw and smoothed, after the base's pre-training loss if `base_run` is given. Returns ax.

    base_run: a `text2asl train-base` output folder (its loss.csv). The x axis counts optimiser
    steps across stages, so the LoRA stage continues where the base stage ended.
    """
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    ax = ax or plt.gca()
    offset = 0
    pre = _read_csv(Path(base_run) / LOSS_LOG) if base_run is not None else []
    stages = [("base: full UNet + text encoder (min-SNR weighted)", np.array([float(r["loss"]) for r in pre]), "tab:gray")]
    stages.append(("LoRA", np.array([float(r["loss"]) for r in _read_csv(run_dir / LOSS_LOG)]), "tab:blue"))
    for label, losses, color in stages:
        if len(losses) == 0:
            continue
        x = offset + np.arange(1, len(losses) + 1)
        ax.plot(x, losses, color=color, alpha=0.25, lw=0.8)
        smooth = _smooth(losses, window)
        ax.plot(x[len(x) - len(smooth):], smooth, color=color, lw=1.8, label=f"{label} ({len(losses)} steps)")
        offset += len(losses)
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("denoising loss")
    ax.set_title("training loss")
    ax.legend()
    return ax


def plot_keyframe_grid(rows: Sequence[tuple[str, np.ndarray]], axes=None, phase_labels: bool = True):
    """A grid with one row per (label, (K, H, W, 3) uint8 keyframes), e.g. real and generated per gloss. Returns the figure."""
    import matplotlib.pyplot as plt

    k = max(len(frames) for _, frames in rows)
    if axes is None:
        fig, axes = plt.subplots(len(rows), k, figsize=(1.1 * k + 1.2, 1.15 * len(rows)), squeeze=False)
    else:
        axes = np.asarray(axes).reshape(len(rows), k)
        fig = axes[0, 0].figure
    for i, (label, frames) in enumerate(rows):
        for j in range(k):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(frames):
                ax.imshow(frames[j])
            if j == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
            if i == 0 and phase_labels:
                ax.set_title(f"phase {j + 1}", fontsize=8)
    return fig
