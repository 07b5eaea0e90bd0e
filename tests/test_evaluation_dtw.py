"""DTW-MJE: the accumulation against dtaidistance and a plain loop, time stretching, masked points."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation import dtw
from text2asl.evaluation.baselines import retimed
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.poses.layout import RIGHT_HAND, PoseArray


def _loop_dtw(cost: np.ndarray) -> float:
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    return acc[n, m]


@pytest.fixture(scope="module")
def sign() -> PoseArray:
    lex = Lexicon.embedded()
    return lex.load(lex.find("J")[0])


def test_accumulate_matches_dtaidistance_and_a_plain_loop():
    from dtaidistance import dtw as dtai

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=17), rng.normal(size=23)
    cost = np.abs(a[:, None] - b[None])
    total, length, acc = dtw.accumulate(cost)
    assert total == pytest.approx(dtai.distance(a, b, inner_dist="euclidean"))
    assert total == pytest.approx(_loop_dtw(cost))
    path = dtw.warping_path(acc)
    assert path[0] == (0, 0) and path[-1] == (16, 22) and len(path) == length
    assert sum(cost[i, j] for i, j in path) == pytest.approx(total)


def test_accumulate_is_batched():
    rng = np.random.default_rng(1)
    costs = rng.random((3, 9, 12))
    totals, _, _ = dtw.accumulate(costs)
    assert totals == pytest.approx([_loop_dtw(c) for c in costs])


def test_a_sign_against_itself_and_its_time_stretched_copy_is_near_zero(sign):
    assert dtw.dtw_mje(sign, sign).mje == pytest.approx(0.0, abs=1e-6)
    for factor in (0.5, 2.0):
        assert dtw.dtw_mje(retimed(sign, factor), sign).mje < 0.02


def test_dtw_mje_is_in_shoulder_widths_whatever_the_camera(sign):
    moved = sign.copy()
    moved.xyz[..., :2] = moved.xyz[..., :2] * 2.5 + 300  # closer camera, other position
    assert dtw.dtw_mje(moved, sign).mje == pytest.approx(0.0, abs=1e-5)
    shifted = sign.copy()
    from text2asl.poses.normalize import shoulder_frame

    _, width = shoulder_frame(sign)
    shifted.xyz[:, RIGHT_HAND, 0] += 0.5 * width  # one hand off by half a shoulder width
    assert 0.05 < dtw.dtw_mje(shifted, sign).mje < 0.5


def test_joint_costs_follow_the_masking_convention():
    pred = np.array([[[1.0, 0.0], [0.0, 0.0]]])  # 1 frame, 2 joints
    ref = np.array([[[4.0, 4.0], [6.0, 8.0]]])
    both = dtw.joint_costs(pred, np.array([[True, True]]), ref, np.array([[True, True]]))
    assert both[:, 0, 0] == pytest.approx([5.0, 10.0])
    ref_missing = dtw.joint_costs(pred, np.array([[True, True]]), ref, np.array([[False, True]]))
    assert ref_missing[0, 0, 0] == 0.0  # a missing reference point costs nothing
    pred_missing = dtw.joint_costs(pred, np.array([[True, False]]), ref, np.array([[True, True]]))
    assert pred_missing[1, 0, 0] == pytest.approx(5.0)  # |(6, 8)| / 2: a missing prediction is penalised


def test_missing_reference_hand_costs_nothing_missing_predicted_hand_does(sign):
    no_hand = sign.copy()
    no_hand.conf[:, RIGHT_HAND] = 0
    no_hand.xyz[:, RIGHT_HAND] = 0
    assert dtw.dtw_mje(sign, no_hand).mje < 1e-6
    assert dtw.dtw_mje(no_hand, sign).mje > 0.1


def test_per_joint_alignment_is_more_lenient(sign):
    other = Lexicon.embedded()
    b = other.load(other.find("Z")[0])
    assert dtw.dtw_mje(b, sign, per_joint=True).mje <= dtw.dtw_mje(b, sign).mje + 1e-9


def test_face_is_optional(sign):
    assert len(dtw.point_indices(face=True)) == len(dtw.point_indices()) + 468
    assert np.isfinite(dtw.dtw_mje(sign, sign, face=True).mje)
