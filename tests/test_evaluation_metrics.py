"""SSIM/PSNR against scikit-image and hand-computed references; alignment; identical frames."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation import metrics
from text2asl.evaluation.baselines import perturbed, retimed, static_mean_pose
from text2asl.gloss_to_pose.lexicon import Lexicon


@pytest.fixture(scope="module")
def letters():
    lex = Lexicon.embedded()
    return [(e.gloss, lex.load(e)) for e in lex.entries[:4]]


def _frame(seed: int, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 255, np.uint8)
    img[10:40, 12:50] = rng.integers(0, 255, 3)
    return img


def test_ssim_of_a_frame_with_itself_is_one():
    f = _frame(0)
    assert metrics.frame_ssim(f, f) == pytest.approx(1.0)


def test_ssim_matches_scikit_image_on_luma():
    from skimage.metrics import structural_similarity

    a, b = _frame(1), _frame(2)
    luma = lambda x: x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
    assert metrics.frame_ssim(a, b) == pytest.approx(structural_similarity(luma(a), luma(b), data_range=255.0))


def test_psnr_matches_the_formula_and_is_monotone_in_noise():
    rng = np.random.default_rng(0)
    ref = _frame(3)
    previous = np.inf
    for sigma in (2, 8, 32):
        noisy = np.clip(ref + rng.normal(0, sigma, ref.shape), 0, 255).astype(np.uint8)
        value = metrics.frame_psnr(noisy, ref)
        luma = np.array([0.299, 0.587, 0.114])
        mse = np.mean(((noisy.astype(float) - ref) @ luma) ** 2)  # PSNR-Y
        assert value == pytest.approx(10 * np.log10(255**2 / mse), rel=1e-4)
        assert value < previous
        previous = value


def test_psnr_of_identical_frames_is_capped_not_infinite():
    f = _frame(4)
    assert metrics.frame_psnr(f, f) == metrics.PSNR_CAP_DB
    scores = metrics.score_frames([f, f], [f, f, f])
    assert np.isfinite(scores.mean_psnr) and scores.mean_ssim == pytest.approx(1.0)


def test_frames_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        metrics.frame_ssim(_frame(0, 64), _frame(0, 32))


def test_resample_alignment_spans_both_ends():
    assert metrics.resample_alignment(10, 4).tolist() == [0, 3, 6, 9]
    assert metrics.resample_alignment(3, 1).tolist() == [0]
    with pytest.raises(ValueError):
        metrics.resample_alignment(0, 3)


def test_dtw_alignment_forgives_a_slower_copy_resampling_does_not_need_to(letters):
    _, sign = letters[0]
    slow = retimed(sign, 2.0)
    dtw = metrics.score_poses(slow, sign, align="dtw", size=96)
    assert dtw.ssim.shape == (len(sign),)
    assert dtw.mean_ssim > 0.98
    assert metrics.score_poses(slow, sign, align="resample", size=96).mean_ssim > 0.9
    with pytest.raises(ValueError, match="poses"):
        metrics.alignment(3, 3, "dtw")


def test_scores_rank_a_copy_above_a_noisy_copy_above_the_mean_pose(letters):
    _, sign = letters[1]
    mean = static_mean_pose([a for _, a in letters], len(sign), sign.fps)
    copy = metrics.score_poses(sign, sign, size=96)
    noisy = metrics.score_poses(perturbed(sign, 0.1, 0.0), sign, size=96)
    assert copy.mean_ssim == pytest.approx(1.0) and copy.mean_psnr == metrics.PSNR_CAP_DB
    assert noisy.mean_ssim < copy.mean_ssim and noisy.mean_psnr < copy.mean_psnr
    assert metrics.score_poses(mean, sign, size=96).mean_ssim < copy.mean_ssim


def test_score_many_in_two_processes_equals_one(letters):
    pairs = [(perturbed(a, 0.05, 0.1, i), a) for i, (_, a) in enumerate(letters[:2])]
    one = metrics.score_many(pairs, size=64, workers=1, progress=False)
    two = metrics.score_many(pairs, size=64, workers=2, progress=False)
    assert len(one) == len(two) == len(pairs)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a.ssim, b.ssim)
        np.testing.assert_allclose(a.psnr, b.psnr)


def test_mean_std_ignores_non_finite_values():
    assert metrics.mean_std([1.0, 3.0, float("inf")]) == (2.0, 1.0)
    assert np.isnan(metrics.mean_std([])[0])


@pytest.mark.parametrize("header, rows, align, expected", [
    (["system", "SSIM"], [["copy", 1.0], ["still", "0.912"]], None,
     "| system | SSIM |\n|---|---:|\n| copy | 1.0 |\n| still | 0.912 |"),
    (["gloss", "n", "pairing"], [["A", 3, "dtw"]], "lrl", "| gloss | n | pairing |\n|---|---:|---|\n| A | 3 | dtw |"),
    (["only"], [], None, "| only |\n|---|"),
    (["a | b", "c"], [["x|y", ""]], None, "| a \\| b | c |\n|---|---:|\n| x\\|y |  |"),
])
def test_markdown_table(header, rows, align, expected):
    from text2asl.evaluation.report import markdown_table

    assert markdown_table(header, rows, align) == expected


@pytest.mark.parametrize("header, rows, align", [
    (["a", "b"], [["1"]], None),  # a row one cell short
    (["a", "b"], [["1", "2", "3"]], None),
    (["a", "b"], [], "l"),  # align names one column of two
    (["a", "b"], [], "lc"),  # 'c' is not an alignment
])
def test_markdown_table_refuses_ragged_rows_and_bad_alignment(header, rows, align):
    from text2asl.evaluation.report import markdown_table

    with pytest.raises(ValueError):
        markdown_table(header, rows, align)
