"""Shoulder normalisation: every sign in the same body-centred frame, whatever the camera or signer size."""
from __future__ import annotations

import numpy as np

from text2asl.poses.layout import LEFT_SHOULDER, RIGHT_SHOULDER, PoseArray


def shoulder_frame(arr: PoseArray) -> tuple[np.ndarray, float]:
    """The sequence's body frame: (centre (3,) float32 between the shoulders, shoulder width > 0).

    Medians over the frames where both shoulders are detected, so one bad frame does not move the
    frame. Without shoulders, falls back to the centre and a quarter of the extent of all detected points.
    """
    ok = (arr.conf[:, LEFT_SHOULDER] > 0) & (arr.conf[:, RIGHT_SHOULDER] > 0)
    if ok.any():
        left, right = arr.xyz[ok, LEFT_SHOULDER], arr.xyz[ok, RIGHT_SHOULDER]
        centre = np.median((left + right) / 2, axis=0)
        width = float(np.median(np.linalg.norm((left - right)[:, :2], axis=1)))
    else:
        pts = arr.xyz[arr.conf > 0]
        if len(pts) == 0:
            return np.zeros(3, np.float32), 1.0
        centre = np.median(pts, axis=0)
        width = float(np.ptp(pts[:, :2], axis=0).max()) / 4
    return centre.astype(np.float32), (width if width > 1e-6 else 1.0)


def normalize(arr: PoseArray) -> PoseArray:
    """Shoulder centre at the origin, shoulder width 1, y pointing down (image convention).

    Missing points (conf 0) are set to 0 so they never leak pixel coordinates into later maths.
    """
    if arr.meta.get("normalized"):
        return arr
    centre, width = shoulder_frame(arr)
    xyz = (arr.xyz - centre) / width
    xyz[arr.conf <= 0] = 0.0
    out = PoseArray(xyz.astype(np.float32), arr.conf.copy(), arr.fps, None, dict(arr.meta))
    out.meta.update(normalized=True, source_centre=centre, source_width=width)
    return out
