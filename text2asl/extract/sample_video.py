"""A real person on video with no data download: skimage's astronaut photo as a short H.264 clip.

Extraction must be demonstrable and testable on a fresh clone, where no signing video exists.
`skimage.data.astronaut()` is a real photograph that ships with scikit-image: MediaPipe Holistic
finds her 33 body and 468 face points (her gloved hands at the frame edge are not found). The
clip drifts her sideways a few pixels per frame so consecutive frames differ and the tracker has
real work to do; it can be pasted onto a larger white canvas to exercise person boxes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def astronaut(size: int = 256) -> np.ndarray:
    """skimage's astronaut photo resized to (size, size, 3) uint8 RGB (anti-aliased)."""
    from skimage import data, transform

    img = data.astronaut()
    if size != img.shape[0]:
        img = (transform.resize(img, (size, size), anti_aliasing=True) * 255).astype(np.uint8)
    return img


def astronaut_frames(n_frames: int = 5, size: int = 256, canvas: tuple[int, int] | None = None,
                     at: tuple[int, int] = (0, 0), shift: int = 2) -> list[np.ndarray]:
    """`n_frames` frames of the astronaut rolled `shift` pixels further right each frame.

    canvas: (width, height) of a white frame to paste the (size, size) photo onto at `at` (x, y);
    None returns the photo frames themselves. Returns a list of (H, W, 3) uint8 RGB arrays.
    """
    img = astronaut(size)
    if canvas is not None:
        width, height = canvas
        if at[0] < 0 or at[1] < 0 or at[0] + size > width or at[1] + size > height:
            raise ValueError(f"a {size}px photo at {at} does not fit a {width}x{height} canvas")
    frames = []
    for i in range(n_frames):
        frame = np.roll(img, i * shift, axis=1)
        if canvas is not None:
            c = np.full((canvas[1], canvas[0], 3), 255, np.uint8)
            c[at[1] : at[1] + size, at[0] : at[0] + size] = frame
            frame = c
        frames.append(frame)
    return frames


def astronaut_video(path: str | Path, n_frames: int = 5, size: int = 256, fps: float = 10.0,
                    canvas: tuple[int, int] | None = None, at: tuple[int, int] = (0, 0), shift: int = 2) -> Path:
    """Write `astronaut_frames(...)` as an H.264 .mp4 (or .gif) at `fps`, atomically; returns `path`."""
    from text2asl.pose_to_video.writer import write_video

    return write_video(astronaut_frames(n_frames, size, canvas, at, shift), path, fps=fps)
