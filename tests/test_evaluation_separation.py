"""Paired system-vs-baseline comparison: wins/ties/losses follow each metric's direction; the slope chart draws them."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation.separation import compare, compare_markdown, paired, plot_paired


def _rows() -> list[dict]:
    def row(system, gloss, metric, value, **extra):
        return {"suite": "s", "system": system, "gloss": gloss, "metric": metric, "value": value, **extra}

    rows = []
    # SSIM: the sign wins A, ties B, loses C. DTW-MJE (lower better): wins A and B, loses C.
    for gloss, ssim_sign, ssim_still, mje_sign, mje_still, top1 in (
        ("A", 0.9, 0.8, 0.1, 0.3, 1.0), ("B", 0.85, 0.85, 0.2, 0.25, 1.0), ("C", 0.7, 0.9, 0.4, 0.2, 0.0),
    ):
        rows += [row("sign", gloss, "ssim", ssim_sign), row("still", gloss, "ssim", ssim_still),
                 row("sign", gloss, "dtw_mje", mje_sign), row("still", gloss, "dtw_mje", mje_still),
                 row("sign", gloss, "top1", top1), row("still", gloss, "top1", 0.0)]
    rows.append(row("sign", "D", "ssim", 0.99))  # gloss the baseline lacks: not paired
    rows.append(row("sign", "A", "ssim", 0.1, frame=0))  # per-frame rows are ignored
    rows.append({**row("sign", "A", "ssim", 0.1), "suite": "other"})
    return rows


def test_paired_keeps_shared_glosses_of_one_suite_in_row_order():
    glosses, a, b = paired(_rows(), "s", "sign", "still", "ssim")
    assert glosses == ["A", "B", "C"]
    np.testing.assert_allclose(a, [0.9, 0.85, 0.7])
    np.testing.assert_allclose(b, [0.8, 0.85, 0.9])


def test_wins_ties_losses_follow_the_metric_direction():
    by = {c["metric"]: c for c in compare(_rows(), "s", "sign", "still", ("ssim", "dtw_mje", "top1", "rank"))}
    assert "rank" not in by  # no rank rows: skipped, not zero
    assert (by["ssim"]["wins"], by["ssim"]["ties"], by["ssim"]["losses"], by["ssim"]["n"]) == (1, 1, 1, 3)
    assert (by["dtw_mje"]["wins"], by["dtw_mje"]["ties"], by["dtw_mje"]["losses"]) == (2, 0, 1)
    assert by["top1"]["win_rate"] == pytest.approx(2 / 3)
    assert by["ssim"]["system_mean"] == pytest.approx(0.8166667) and by["ssim"]["baseline_mean"] == pytest.approx(0.85)
    with pytest.raises(ValueError, match="unknown metric"):
        compare(_rows(), "s", "sign", "still", ("bleu",))


def test_auc_is_the_unpaired_chance_of_a_better_score():
    from text2asl.evaluation.separation import auc

    assert auc([3, 4], [1, 2]) == 1.0 and auc([1, 2], [3, 4]) == 0.0
    assert auc([1, 2], [3, 4], higher_is_better=False) == 1.0
    assert auc([1, 3], [2, 2]) == 0.5 and auc([2], [2]) == 0.5
    # Every paired win, yet the spreads overlap: the unpaired AUC stays well below 1.
    sign, still = np.array([0.10, 0.20, 0.30, 0.40]), np.array([0.15, 0.25, 0.35, 0.45])
    assert (sign < still).all() and auc(sign, still, higher_is_better=False) == pytest.approx(10 / 16)
    assert np.isnan(auc([], [1.0]))


def test_markdown_names_both_systems_and_counts():
    # AUC by hand: SSIM 4/9 (0.9 beats two, ties one; 0.85 beats one, ties one), DTW-MJE 5.5/9, top-1 5/6.
    text = compare_markdown(_rows(), "s", "sign", "still", ("ssim", "dtw_mje", "top1"))
    assert "**sign** vs **still** (s)" in text
    assert "| SSIM | higher | 0.817 | 0.850 | 1 / 1 / 1 of 3 | 0.44 | does not separate |" in text
    assert "| DTW-MJE (sw) | lower | 0.233 | 0.250 | 2 / 0 / 1 of 3 | 0.61 | does not separate |" in text
    assert "| top-1 | higher | 67% | 0% | 2 / 1 / 0 of 3 | 0.83 | separates |" in text


def test_verdict_tiers():
    from text2asl.evaluation.separation import verdict

    assert [verdict(v) for v in (1.0, 0.7, 0.69, 0.5, 0.31, 0.3, 0.0)] == [
        "separates", "separates", "does not separate", "does not separate", "does not separate",
        "prefers the baseline", "prefers the baseline"]
    assert verdict(float("nan")) == "n/a" and verdict(0.65, margin=0.1) == "separates"


def test_slope_chart_colours_each_gloss_and_puts_better_up():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert plot_paired(_rows(), "s", "sign", "still", "dtw_mje", ax=ax) is ax
    colours = [line.get_color() for line in ax.lines[:3]]
    assert colours == ["tab:green", "tab:green", "tab:red"]
    assert ax.yaxis_inverted() and "better on 2 of 3" in ax.get_title()
    plt.close(fig)
