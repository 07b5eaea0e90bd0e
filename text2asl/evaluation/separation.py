"""Does a metric tell a correct sign from a baseline? Paired per-gloss comparisons of two systems in tidy rows.

A metric is only useful if a correct sign scores better than a sign-less baseline on the same
gloss. The static mean pose (`baselines.static_mean_pose`) is the sharpest test: it knows where a
signer's body is but signs nothing. Averages over glosses can hide that a metric ranks the two
the wrong way on half the glosses, so the comparison here is paired, gloss by gloss:

* `compare`: for each metric, the means of both systems over the glosses they share, how many
  glosses the system wins, ties and loses against the baseline (by the metric's direction), and
  the unpaired AUC: the chance that one video's score, drawn from the system, is better than one
  drawn from the baseline. The AUC is what matters when a metric judges a video on its own (no
  baseline rendered beside it): a metric can win every paired comparison by a margin smaller
  than its spread across glosses, and then a single score says little (AUC near 0.5);
* `verdict`: "separates" / "does not separate" / "prefers the baseline" from the AUC;
* `compare_markdown`: the same as a markdown table, one line per metric;
* `plot_paired(ax=)`: a slope chart, one line per gloss from the baseline's score to the system's.

Rows are the tidy dicts of `protocol.run_suite` (`{suite, system, gloss, metric, value}`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from text2asl.evaluation.report import METRICS, markdown_table

DEFAULT_METRICS = ("ssim", "psnr", "dtw_mje", "rank", "top1")


def paired(rows: Sequence[dict], suite: str, system: str, baseline: str, metric: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(glosses, system values (n,), baseline values (n,)) over the glosses both have, in row order."""
    def values(name: str) -> dict[str, float]:
        return {r["gloss"]: float(r["value"]) for r in rows
                if r["suite"] == suite and r["system"] == name and r["metric"] == metric and "frame" not in r}

    a, b = values(system), values(baseline)
    glosses = [g for g in a if g in b]
    return glosses, np.array([a[g] for g in glosses], float), np.array([b[g] for g in glosses], float)


def auc(system: np.ndarray, baseline: np.ndarray, higher_is_better: bool = True) -> float:
    """P(a system value beats a baseline value) over all pairs, ties counting 1/2 (Mann-Whitney AUC).

    Written out rather than taken from scipy/sklearn: three lines of numpy over a few dozen
    values, and neither library is otherwise needed here.
    """
    a, b = np.asarray(system, float)[:, None], np.asarray(baseline, float)[None, :]
    if a.size == 0 or b.size == 0:
        return float("nan")
    better = (a > b) if higher_is_better else (a < b)
    return float(np.mean(better + 0.5 * np.isclose(a, b, rtol=1e-9, atol=1e-12)))


def verdict(auc_value: float, margin: float = 0.2) -> str:
    """A word for an AUC: "separates" (>= 0.5 + margin), "prefers the baseline" (<= 0.5 - margin),
    else "does not separate"; "n/a" for NaN. The default margin makes 0.7 the bar, a common
    reading of "acceptable discrimination" for an AUC."""
    if not np.isfinite(auc_value):
        return "n/a"
    if auc_value >= 0.5 + margin:
        return "separates"
    if auc_value <= 0.5 - margin:
        return "prefers the baseline"
    return "does not separate"


def compare(rows: Sequence[dict], suite: str, system: str, baseline: str,
            metrics: Sequence[str] = DEFAULT_METRICS) -> list[dict]:
    """One dict per metric that both systems have.

    Keys: metric, n (shared glosses), system_mean, baseline_mean, wins / ties / losses (glosses
    where the system scores better / equal / worse than the baseline, by the metric's direction),
    win_rate (wins / n; a metric that separates the two is near 1, a coin flip near 0.5),
    auc (unpaired: P(system value better than baseline value) over all gloss pairs, ties 1/2),
    verdict (`verdict(auc)`).
    """
    out = []
    for metric in metrics:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        higher = METRICS[metric].higher_is_better
        glosses, a, b = paired(rows, suite, system, baseline, metric)
        if not glosses:
            continue
        diff = (a - b) if higher else (b - a)
        tie = np.isclose(a, b, rtol=1e-9, atol=1e-12)
        wins, ties = int(((diff > 0) & ~tie).sum()), int(tie.sum())
        out.append({"metric": metric, "n": len(glosses), "system_mean": float(a.mean()), "baseline_mean": float(b.mean()),
                    "wins": wins, "ties": ties, "losses": len(glosses) - wins - ties, "win_rate": wins / len(glosses),
                    "auc": auc(a, b, higher)})
        out[-1]["verdict"] = verdict(out[-1]["auc"])
    return out


def compare_markdown(rows: Sequence[dict], suite: str, system: str, baseline: str,
                     metrics: Sequence[str] = DEFAULT_METRICS) -> str:
    """`compare` as a markdown table headed by the two systems' names."""
    header = ["metric", "better", "system", "baseline", "paired: system better / tied / worse", "AUC (unpaired)", "verdict"]
    lines = []
    for c in compare(rows, suite, system, baseline, metrics):
        m = METRICS[c["metric"]]
        lines.append([m.name, "higher" if m.higher_is_better else "lower", m.one(c["system_mean"]), m.one(c["baseline_mean"]),
                      f"{c['wins']} / {c['ties']} / {c['losses']} of {c['n']}", f"{c['auc']:.2f}", c["verdict"]])
    return f"**{system}** vs **{baseline}** ({suite})\n\n" + markdown_table(header, lines, align="llrrrrl")


def plot_paired(rows: Sequence[dict], suite: str, system: str, baseline: str, metric: str, ax=None,
                labels: tuple[str, str] | None = None):
    """Slope chart: per gloss, a line from the baseline's score (left) to the system's (right);
    green where the system is better, red where worse, grey when tied. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    ax = ax or plt.figure(figsize=(3, 3.5)).gca()
    glosses, a, b = paired(rows, suite, system, baseline, metric)
    m = METRICS[metric]
    better = (a > b) if m.higher_is_better else (a < b)
    tie = np.isclose(a, b, rtol=1e-9, atol=1e-12)
    for va, vb, win, same in zip(a, b, better, tie):
        ax.plot([0, 1], [vb, va], "-o", ms=3, lw=1, alpha=0.7, color="0.6" if same else ("tab:green" if win else "tab:red"))
    if len(glosses):
        ax.plot([0, 1], [b.mean(), a.mean()], "-s", color="black", lw=2.5, ms=6, label="mean")
        ax.legend(fontsize=7, loc="best")
    ax.set_xticks([0, 1], list(labels or (baseline, system)), fontsize=8)
    ax.set_xlim(-0.3, 1.3)
    if not m.higher_is_better:
        ax.invert_yaxis()  # better is up for every metric
    wins = int((better & ~tie).sum())
    direction = "higher" if m.higher_is_better else "lower"
    ax.set_title(f"{m.name} ({direction} is better, drawn up)\n"
                 f"system better on {wins} of {len(glosses)} glosses", fontsize=9)
    return ax
