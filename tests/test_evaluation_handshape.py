"""Hand-shape descriptors: invariant to hand size, position and rotation; depth units detected."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation import handshape
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.poses.layout import RIGHT_HAND


@pytest.fixture(scope="module")
def hands() -> dict[str, np.ndarray]:
    """{letter: (T, 21, 3) right hand in pixels, z in pixels too} from the embedded alphabet."""
    lex = Lexicon.embedded()
    out = {}
    for g in ("A", "B", "V"):
        arr = lex.load(lex.find(g)[0])
        h = arr.xyz[:, RIGHT_HAND].astype(np.float64)
        ok = (arr.conf[:, RIGHT_HAND] > 0).all(axis=1)
        h[..., 2] *= handshape.depth_scale(h, ok, arr.size[0])
        out[g] = h[ok]
    return out


def _rotation(angle_z: float, angle_x: float) -> np.ndarray:
    cz, sz, cx, sx = np.cos(angle_z), np.sin(angle_z), np.cos(angle_x), np.sin(angle_x)
    return np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])


def test_angles_and_tip_distances_ignore_size_position_and_rotation(hands):
    for h in hands.values():
        moved = (h @ _rotation(0.7, -0.4).T) * 2.5 + np.array([30.0, -80.0, 5.0])
        ok = np.ones(len(h), bool)
        np.testing.assert_allclose(handshape.joint_angles(moved), handshape.joint_angles(h), atol=1e-9)
        np.testing.assert_allclose(handshape.tip_distances(moved, handshape.palm_length(moved, ok)),
                                   handshape.tip_distances(h, handshape.palm_length(h, ok)), atol=1e-9)


def test_descriptors_tell_letters_apart(hands):
    mean = {g: handshape.joint_angles(h).mean(axis=0) for g, h in hands.items()}
    assert np.linalg.norm(mean["A"] - mean["B"]) > 1.0  # fist vs flat hand: radians summed over joints
    tips = {g: handshape.tip_distances(h, handshape.palm_length(h, np.ones(len(h), bool))).mean(axis=0) for g, h in hands.items()}
    # Index fingertip to wrist (pair 11): extended in V, curled into the fist in A.
    assert tips["V"][11] > 1.5 * tips["A"][11]


def test_depth_scale_detects_raw_and_pixel_depth():
    rng = np.random.default_rng(0)
    hand = rng.normal(size=(5, 21, 3)) * np.array([40.0, 40.0, 20.0])
    ok = np.ones(5, bool)
    assert handshape.depth_scale(hand, ok, 640) == 1.0
    raw = hand * np.array([1.0, 1.0, 1 / 640])
    assert handshape.depth_scale(raw, ok, 640) == 640.0
    assert handshape.depth_scale(raw, ok, None) == 0.0
    assert handshape.depth_scale(hand, np.zeros(5, bool), 640) == 0.0


def test_descriptor_shapes_are_fixed_and_finite(hands):
    d = handshape.descriptors(hands["A"], np.ones(len(hands["A"]), bool), 500)
    assert {k: v.shape[1] for k, v in d.items()} == {"angles": 19, "tips": 15, "orient": 9}
    assert all(np.isfinite(v).all() for v in d.values())
