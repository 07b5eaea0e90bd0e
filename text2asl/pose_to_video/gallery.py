"""Picture grids of frames for notebooks, the README figures and reports."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def sample_evenly(frames: Sequence[np.ndarray], n: int) -> list[np.ndarray]:
    """`n` frames spread evenly over the sequence (all of them if it is shorter)."""
    if len(frames) <= n:
        return list(frames)
    return [frames[int(i)] for i in np.linspace(0, len(frames) - 1, n).round()]


def frame_grid(frames: Sequence[np.ndarray], ncols: int = 6, pad: int = 4, background: int = 255) -> np.ndarray:
    """One (H', W', 3) uint8 image with the frames in rows of `ncols`, separated by `pad` pixels."""
    if not frames:
        raise ValueError("no frames to arrange")
    h, w = frames[0].shape[:2]
    ncols = min(ncols, len(frames))
    nrows = -(-len(frames) // ncols)
    grid = np.full((nrows * h + (nrows - 1) * pad, ncols * w + (ncols - 1) * pad, 3), background, np.uint8)
    for i, f in enumerate(frames):
        r, c = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = f[..., :3]
    return grid


def show_frames(frames: Sequence[np.ndarray], ncols: int = 6, titles: Sequence[str] | None = None, ax=None, size: float = 2.0):
    """Plot frames in a grid with matplotlib (one axes per frame when titled); returns the figure."""
    import matplotlib.pyplot as plt

    if titles is None:
        if ax is None:
            nrows = -(-len(frames) // ncols)
            fig, ax = plt.subplots(figsize=(size * min(ncols, len(frames)), size * nrows))
        ax.imshow(frame_grid(frames, ncols))
        ax.axis("off")
        return ax.figure
    nrows = -(-len(frames) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for a in axes.flat:
        a.axis("off")
    for a, f, t in zip(axes.flat, frames, titles):
        a.imshow(f)
        a.set_title(t, fontsize=8)
    fig.tight_layout()
    return fig
