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
    """Plot frames in a grid with matplotlib; returns the figure.

    ax: draw the whole grid into this axes (titles, if any, are written above each frame); without
    it, titled frames get one axes each in a new figure, untitled ones one grid image.
    """
    import matplotlib.pyplot as plt

    nrows = -(-len(frames) // ncols)
    if titles is not None and ax is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
        for a in axes.flat:
            a.axis("off")
        for a, f, t in zip(axes.flat, frames, titles):
            a.imshow(f)
            a.set_title(t, fontsize=8)
        fig.tight_layout()
        return fig
    if ax is None:
        fig, ax = plt.subplots(figsize=(size * min(ncols, len(frames)), size * nrows))
    h, w = frames[0].shape[:2]
    pad = 4 if titles is None else max(4, h // 6)  # room for a title above each lower row
    ax.imshow(frame_grid(frames, ncols, pad=pad))
    for i, title in enumerate(titles or []):
        r, c = divmod(i, min(ncols, len(frames)))
        ax.text(c * (w + pad) + w / 2, r * (h + pad) - 1, title, ha="center", va="bottom", fontsize=8)
    ax.axis("off")
    return ax.figure
