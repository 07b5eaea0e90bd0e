"""diffusion/quality.py on tiny synthetic keyframes and two embedded-alphabet signs: scores, baselines, diversity, hand masks."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation.keyframes import (
    Target, beats, hand_mask, hand_share_lift, keyframe_hand_masks, mean_image, other_gloss_scores, phase_diversity,
    score_glosses, spread, static_scores, summary,
)
from text2asl.evaluation.metrics import PSNR_CAP_DB, frame_scores


def _frames(seed: int, k: int = 3, size: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (k, size, size, 3), dtype=np.uint8)


def test_scores_pair_phase_k_with_phase_k_using_the_evaluation_metrics():
    real = {"A": _frames(0), "B": _frames(1)}
    gen = {"A": real["A"].copy(), "B": real["B"][::-1].copy()}
    scores = score_glosses(gen, real)
    assert np.all(scores["A"].ssim == 1.0) and np.all(scores["A"].psnr == PSNR_CAP_DB)
    expected = [frame_scores(g, r) for g, r in zip(gen["B"], real["B"])]
    np.testing.assert_allclose(scores["B"].ssim, [e[0] for e in expected])
    np.testing.assert_allclose(scores["B"].psnr, [e[1] for e in expected])
    assert scores["B"].ssim[1] == 1.0 and scores["B"].ssim[0] < 1.0  # the middle phase is its own reverse
    with pytest.raises(ValueError, match="A: 2 generated keyframes but 3 real"):
        score_glosses({"A": real["A"][:2]}, {"A": real["A"]})


def test_mean_image_and_static_baseline():
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    assert np.all(mean_image([black, white]) == 128)  # 127.5 rounds to even: 128
    assert np.all(mean_image(np.stack([black, black, white, white])) == 128)
    real = {"A": np.stack([white, white])}
    scores = static_scores(white, real)["A"]
    assert list(scores.ssim) == [1.0, 1.0]
    assert static_scores(black, real)["A"].mean_psnr == pytest.approx(0.0)


def test_other_gloss_baseline_averages_the_same_phase_of_every_other_gloss():
    real = {"A": _frames(0), "B": _frames(1), "C": _frames(2)}
    base = other_gloss_scores(real)
    ab, ac = score_glosses({"A": real["B"]}, real)["A"], score_glosses({"A": real["C"]}, real)["A"]
    np.testing.assert_allclose(base["A"].ssim, (ab.ssim + ac.ssim) / 2)
    np.testing.assert_allclose(base["A"].psnr, (ab.psnr + ac.psnr) / 2)
    same = {"A": _frames(5), "B": _frames(5)}
    assert np.all(other_gloss_scores(same)["A"].ssim == 1.0)
    with pytest.raises(ValueError, match="at least two glosses"):
        other_gloss_scores({"A": real["A"]})


def test_phase_diversity_is_the_mean_pairwise_absolute_difference():
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    assert phase_diversity(np.stack([black, white])) == 255.0
    assert phase_diversity(np.stack([black, white, white])) == pytest.approx(2 * 255 / 3)  # pairs: 255, 255, 0
    assert phase_diversity(np.stack([white, white, white])) == 0.0
    assert phase_diversity(white[None]) == 0.0


def test_hand_share_lift():
    mask = np.zeros((10, 10), bool)
    mask[:2] = True  # a fifth of the image
    assert hand_share_lift(np.ones((10, 10)), mask) == pytest.approx(1.0)
    assert hand_share_lift(mask.astype(float), mask) == pytest.approx(5.0)
    assert hand_share_lift(1.0 - mask, mask) == 0.0
    assert np.isnan(hand_share_lift(np.ones((10, 10)), np.zeros((10, 10), bool)))
    assert np.isnan(hand_share_lift(np.zeros((10, 10)), mask))


def test_hand_mask_covers_every_pixel_the_renderer_draws_for_the_hands():
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer
    from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND
    from text2asl.poses.normalize import normalize

    arr = normalize(Lexicon.embedded().load(Lexicon.embedded().find("B")[0]))
    t = len(arr) // 2
    renderer = SkeletonRenderer(RenderConfig(size=64, caption=False, hands_inset=False, face=False))
    hands_only = np.zeros_like(arr.conf[t])
    for hand in (LEFT_HAND, RIGHT_HAND):
        hands_only[hand] = arr.conf[t][hand]
    assert hands_only.any()
    drawn = np.any(renderer.frame(arr.xyz[t], hands_only) != 255, axis=2)
    mask = hand_mask(renderer, arr.xyz[t], arr.conf[t])
    assert drawn.any() and np.all(mask[drawn])
    assert 0 < mask.mean() < 0.5
    assert not hand_mask(renderer, arr.xyz[t], np.zeros_like(hands_only)).any()


def test_keyframe_hand_masks_follow_the_dataset_keyframes(tmp_path):
    from helpers import make_lexicon
    from text2asl.diffusion.dataset import make_dataset
    from text2asl.diffusion.dataset import gloss_keyframes
    from text2asl.pose_to_video.render import RIGHT_HAND_COLOR

    lexicon = make_lexicon(tmp_path / "lex", {"book": "B", "cat": "C"})
    data = make_dataset([lexicon], tmp_path / "data", resolution=48, n_phases=3, progress=False)
    masks = keyframe_hand_masks(lexicon, data, ["BOOK", "cat"])
    real = gloss_keyframes(data, ["BOOK", "CAT"])
    assert set(masks) == {"BOOK", "CAT"}
    for gloss, m in masks.items():
        assert m.shape == (3, 48, 48) and m.dtype == bool
        right_hand = np.all(real[gloss] == RIGHT_HAND_COLOR, axis=3)
        assert right_hand.any() and np.all(m[right_hand])


def test_spread_summary_beats_and_targets():
    s = spread({"A": 1.0, "B": 3.0, "C": float("nan")})
    assert (s.mean, s.std, s.min, s.max, s.n) == (2.0, 1.0, 1.0, 3.0, 2)
    assert s.text(1) == "2.0 ± 1.0 [1.0, 3.0]"
    assert spread([]).n == 0
    real = {"A": _frames(0), "B": _frames(1)}
    perfect = score_glosses(real, real)
    other = other_gloss_scores(real)
    assert summary(perfect)["ssim"].mean == 1.0
    assert beats(perfect, other, "ssim") == 2 and beats(other, perfect, "psnr") == 0
    assert Target("x", 0.5, 0.4).line(1) == "met: x: 0.5 > 0.4"
    assert Target("x", 0.4, 0.4).line(1).startswith("MISSED: x: 0.4 not > 0.4")
    assert Target("x", 0.4, 0.4, strict=False, detail="d").line(1) == "met: x: 0.4 >= 0.4; d"
