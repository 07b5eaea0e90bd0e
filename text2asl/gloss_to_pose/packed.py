"""Packed lexicons: each sign quantised into a small compressed `.npz`, so a lexicon can ship inside the package.

A packed lexicon is an ordinary lexicon folder (`index.csv` in the spoken-to-signed layout) whose
rows name `.npz` files instead of `.pose` files; `Lexicon` reads both, and `lexicon.pack_lexicon`
writes one. Packing keeps what the
stitcher and renderer read (the canonical 543-point layout, `poses.layout`) and drops the rest:

- only the points detected in at least one frame of the sign (asl-app's 33-point face stays 33
  points, not 468), and no world landmarks;
- coordinates in the sign's own shoulder frame (`poses.normalize.shoulder_frame`), rounded to
  `STEP` shoulder widths (every landmark within STEP/2 = 0.0005 shoulder widths of the source),
  differenced over time (small numbers compress well) as int16;
- confidence as uint8 (1/255 steps; a detected point stays detected).

One sign file holds:

    points  (K,) int16       canonical point indices kept
    delta   (T, K, 3) int16  time differences of the quantised shoulder-frame coordinates
    conf    (T, K) uint8     round(confidence * 255), at least 1 where the point was detected
    centre  (3,) float32     the shoulder centre in source pixels; width () float32 the shoulder width
    step    () float32, fps () float64, size (2,) int32 (0 0 = unknown), version () int16
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.poses.layout import N_POINTS, PoseArray
from text2asl.poses.normalize import shoulder_frame

STEP = 1 / 1024  # shoulder widths per quantisation step
VERSION = 1
SUFFIX = ".npz"


def pack_sign(arr: PoseArray) -> dict[str, np.ndarray]:
    """The arrays of one packed sign (see the module docstring) from a pose in source pixels."""
    present = arr.conf > 0
    points = np.flatnonzero(present.any(axis=0)).astype(np.int16)
    centre, width = shoulder_frame(arr)
    unit = (arr.xyz[:, points] - centre) / width
    q = np.where(present[:, points, None], np.round(unit / STEP), 0)
    limit = np.iinfo(np.int16).max // 2  # differences of two values stay within int16
    if np.abs(q).max(initial=0) > limit:
        far = float(np.abs(unit[present[:, points]]).max())
        raise Text2ASLError(f"a point lies {far:.0f} shoulder widths from the shoulders, beyond the "
                            f"{limit * STEP:.0f} a packed sign can hold; re-extract the sign")
    q = q.astype(np.int16)
    conf = np.where(present, np.maximum(1, np.round(np.clip(arr.conf, 0, 1) * 255)), 0)[:, points].astype(np.uint8)
    return {
        "version": np.int16(VERSION),
        "points": points,
        "delta": np.diff(q, axis=0, prepend=np.zeros_like(q[:1])),
        "conf": conf,
        "centre": centre.astype(np.float32),
        "width": np.float32(width),
        "step": np.float32(STEP),
        "fps": np.float64(arr.fps),
        "size": np.asarray(arr.size or (0, 0), np.int32),
    }


def unpack_sign(data) -> PoseArray:
    """The pose (canonical layout, source pixels) of a packed sign's arrays (a mapping such as an `NpzFile`)."""
    points = np.asarray(data["points"], np.int64)
    q = np.cumsum(np.asarray(data["delta"], np.int32), axis=0)
    conf8 = np.asarray(data["conf"])
    t = q.shape[0]
    xyz = np.zeros((t, N_POINTS, 3), np.float32)
    conf = np.zeros((t, N_POINTS), np.float32)
    width, step = float(data["width"]), float(data["step"])
    xyz[:, points] = q * np.float32(step * width) + np.asarray(data["centre"], np.float32)
    conf[:, points] = conf8 / np.float32(255)
    xyz[conf <= 0] = 0.0  # as read from a .pose: a missing point carries no position
    size = tuple(int(v) for v in data["size"])
    return PoseArray(xyz, conf, float(data["fps"]), size if all(size) else None)


def read_packed_sign(path: str | Path) -> PoseArray:
    """Read one packed sign file; a damaged or foreign file raises `Text2ASLError` naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) > VERSION:
                raise Text2ASLError(f"{path} is a packed sign of format {int(data['version'])}, newer than this "
                                    f"package reads ({VERSION}); update text2asl")
            arr = unpack_sign(data)
    except FileNotFoundError:
        raise Text2ASLError(f"packed sign {path} does not exist") from None
    except Text2ASLError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        raise Text2ASLError(f"{path} is not a packed sign ({type(exc).__name__}); re-pack the lexicon with "
                            "text2asl pack-lexicon") from None
    if len(arr) == 0 or not arr.present().any():
        raise Text2ASLError(f"{path} holds no detected point; re-pack the lexicon with text2asl pack-lexicon")
    return arr
