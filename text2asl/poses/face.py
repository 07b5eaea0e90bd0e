"""The face on the head: face mesh pinned to the body's head points, a neutral face where the mesh is missing, brow height.

MediaPipe Holistic finds the body (with a nose, eyes, ears and mouth corners) and the face mesh
with two different models, and in the asl-app recordings the mesh's nose tip sits a median 0.10
ear widths (95th percentile 0.23) from the body's nose. The renderer draws the head's outline from
the body's ears and the features from the mesh, so the mouth slid off the head. `align_face` moves
each frame's mesh rigidly (rotation and scale about its nose tip, then onto the body's nose) so
the features sit where the body's head is.

Some recordings lose the face for part of a sign; `gloss_to_pose.rest.fill_face` puts the signer's
neutral face on the head there, with `to_head` / `from_head`.

Head coordinates: origin at the body's nose, x along the ear line toward the signer's left ear
(the image's right for a signer facing the camera), y perpendicular to it pointing down the face,
in ear-to-ear widths.
"""
from __future__ import annotations

import numpy as np

from text2asl.poses.layout import (
    FACE, FACE_FEATURES, LEFT_EAR, LEFT_EYE, MOUTH_LEFT, MOUTH_RIGHT, NOSE, RIGHT_EAR, RIGHT_EYE, PoseArray,
)

NOSE_TIP = 1  # face-mesh index of the nose tip
# Face-mesh points and the body points they stand for: (mesh indices averaged, body index).
ANCHORS = (
    ((33, 133), RIGHT_EYE), ((362, 263), LEFT_EYE), ((61,), MOUTH_RIGHT), ((291,), MOUTH_LEFT),
)
SCALE_RANGE = (0.7, 1.3)  # a fitted mesh scale outside this is a bad fit: keep the mesh's own size
BROWS = {"right": FACE_FEATURES["right_brow"], "left": FACE_FEATURES["left_brow"]}
EYES = {"right": FACE_FEATURES["right_eye"][:4], "left": FACE_FEATURES["left_eye"][:4]}  # corner, top, corner, bottom
FEATURE_COLS = np.unique(np.concatenate([np.asarray(v) for v in FACE_FEATURES.values()])) + FACE.start


def head_axes(xyz: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per frame of (T, 543, 3) points: (ok (T,), nose (T, 2), across (T, 2) ear-width long, down (T, 2)).

    `ok` says the body's nose and both ears are present; elsewhere the axes are meaningless.
    """
    ok = (conf[:, NOSE] > 0) & (conf[:, LEFT_EAR] > 0) & (conf[:, RIGHT_EAR] > 0)
    across = xyz[:, LEFT_EAR, :2] - xyz[:, RIGHT_EAR, :2]
    ok &= np.linalg.norm(across, axis=1) > 1e-6
    down = np.stack([-across[:, 1], across[:, 0]], axis=1)  # across turned 90 degrees toward image y
    return ok, xyz[:, NOSE, :2], across, down


def align_face(arr: PoseArray) -> PoseArray:
    """`arr` (a new PoseArray) with each frame's face mesh pinned to the body's head points.

    Per frame with the body's nose and a mesh nose tip: the rotation and scale about the nose that
    best carry the mesh's eyes and mouth corners onto the body's (least squares, in the image
    plane), then the mesh's nose tip onto the body's nose. Frames without those keep their mesh.
    """
    out = arr.copy()
    face = out.xyz[:, FACE, :2]
    ok_face = arr.conf[:, FACE] > 0
    tip = face[:, NOSE_TIP]
    ok = ok_face[:, NOSE_TIP] & (arr.conf[:, NOSE] > 0)
    if not ok.any():
        return out
    body_nose = arr.xyz[:, NOSE, :2]
    num = np.zeros(len(arr), np.complex128)
    den = np.zeros(len(arr), np.float64)
    for mesh_idx, body_idx in ANCHORS:
        present = ok_face[:, list(mesh_idx)].all(axis=1) & (arr.conf[:, body_idx] > 0)
        m = face[:, list(mesh_idx)].mean(axis=1) - tip
        b = arr.xyz[:, body_idx, :2] - body_nose
        zm, zb = m[:, 0] + 1j * m[:, 1], b[:, 0] + 1j * b[:, 1]
        num += np.where(present, np.conj(zm) * zb, 0)
        den += np.where(present, np.abs(zm) ** 2, 0)
    c = np.where(den > 1e-12, num / np.maximum(den, 1e-12), 1.0)
    bad = (np.abs(c) < SCALE_RANGE[0]) | (np.abs(c) > SCALE_RANGE[1])
    c = np.where(bad, 1.0, c)
    rel = (face[..., 0] - tip[:, None, 0]) + 1j * (face[..., 1] - tip[:, None, 1])
    moved = c[:, None] * rel
    new = np.stack([moved.real + body_nose[:, None, 0], moved.imag + body_nose[:, None, 1]], axis=-1)
    keep = ok[:, None] & ok_face
    out.xyz[:, FACE, :2] = np.where(keep[..., None], new, face).astype(np.float32)
    return out


def to_head(xyz: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 468, 2) face-mesh points in head coordinates and (T,) bool frames where the head axes exist."""
    ok, nose, across, down = head_axes(xyz, conf)
    rel = xyz[:, FACE, :2] - nose[:, None]
    n2 = np.maximum((across ** 2).sum(axis=1), 1e-12)[:, None]
    return np.stack([(rel * across[:, None]).sum(-1) / n2, (rel * down[:, None]).sum(-1) / n2], axis=-1), ok


def from_head(points: np.ndarray, xyz: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(T, P, 2) image-plane points from (P, 2) or (T, P, 2) head coordinates on the heads of (T, 543, 3) frames."""
    _, nose, across, down = head_axes(xyz, conf)
    points = np.broadcast_to(points, (len(xyz),) + points.shape[-2:])
    return nose[:, None] + points[..., :1] * across[:, None] + points[..., 1:] * down[:, None]


def brow_height(xyz: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(T,) brow height of (T, 543, 3) frames: eye centre to brow centre along the head's up axis, in eye widths.

    Averaged over both sides; NaN where a brow, an eye or the head axes are missing. On asl-app's
    100 signs the median per sign is 0.77 (sd 0.08); ANGRY 0.49, SAD 1.04.
    """
    ok, _, across, down = head_axes(xyz, conf)
    unit_down = down / np.maximum(np.linalg.norm(down, axis=1, keepdims=True), 1e-12)
    sides = []
    for side in ("right", "left"):
        brow, eye = np.asarray(BROWS[side]) + FACE.start, np.asarray(EYES[side]) + FACE.start
        present = ok & (conf[:, brow] > 0).all(axis=1) & (conf[:, eye] > 0).all(axis=1)
        rise = ((xyz[:, eye, :2].mean(axis=1) - xyz[:, brow, :2].mean(axis=1)) * unit_down).sum(axis=1)
        width = np.linalg.norm(xyz[:, eye[0], :2] - xyz[:, eye[2], :2], axis=1)
        sides.append(np.where(present & (width > 1e-9), rise / np.maximum(width, 1e-9), np.nan))
    with np.errstate(all="ignore"):
        return np.nanmean(np.stack(sides), axis=0)


def head_turn(xyz: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(T,) the face's nose tip across from the middle of the ears, in ear widths (+: toward the signer's left ear).

    0 for a head facing the camera; a head shake swings it from side to side. NaN without the
    ears or the nose tip.
    """
    ok, _, across, _ = head_axes(xyz, conf)
    ok &= conf[:, FACE.start + NOSE_TIP] > 0
    centre = (xyz[:, LEFT_EAR, :2] + xyz[:, RIGHT_EAR, :2]) / 2
    turn = ((xyz[:, FACE.start + NOSE_TIP, :2] - centre) * across).sum(-1) / np.maximum((across ** 2).sum(-1), 1e-12)
    return np.where(ok, turn, np.nan)
