"""Evaluation output: a tidy CSV, a markdown summary table, and matplotlib plots (helpers take `ax=`).

Rows are dicts `{suite, system, gloss, metric, value[, frame]}`: one measurement each, so any
other table or plot can be made from the CSV with a group-by.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

COLUMNS = ("suite", "system", "gloss", "metric", "value", "frame")
# (metric, column title, format, higher is better)
SUMMARY = (
    ("dtw_mje", "DTW-MJE (sw) ↓", "{:.3f} ± {:.3f}", False),
    ("ssim", "SSIM ↑", "{:.3f} ± {:.3f}", True),
    ("psnr", "PSNR (dB) ↑", "{:.1f} ± {:.1f}", True),
    ("top1", "top-1 ↑", "{:.0%}", True),
    ("top5", "top-5 ↑", "{:.0%}", True),
)


def write_csv(rows: Iterable[dict], path: str | Path) -> Path:
    """Write tidy rows to `path` atomically (never a partial file)."""
    from text2asl.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
    return path


def read_csv(path: str | Path) -> list[dict]:
    """Tidy rows back from `write_csv` (values as floats)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [{**r, "value": float(r["value"])} for r in csv.DictReader(fh)]


def _values(rows: Sequence[dict], suite: str, system: str, metric: str) -> np.ndarray:
    return np.array([r["value"] for r in rows if r["suite"] == suite and r["system"] == system and r["metric"] == metric], float)


def _ordered(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def summary_table(rows: Sequence[dict]) -> str:
    """Markdown: one table per suite, one line per system, mean ± std over glosses (per-video values)."""
    out = []
    for suite in _ordered(r["suite"] for r in rows):
        systems = _ordered(r["system"] for r in rows if r["suite"] == suite)
        present = [m for m in SUMMARY if any(r["suite"] == suite and r["metric"] == m[0] for r in rows)]
        n_glosses = len(_ordered(r["gloss"] for r in rows if r["suite"] == suite))
        out.append(f"### {suite} ({n_glosses} glosses)\n")
        out.append("| system | " + " | ".join(title for _, title, _, _ in present) + " |")
        out.append("|---|" + "---:|" * len(present))
        for system in systems:
            cells = []
            for metric, _, fmt, _ in present:
                v = _values(rows, suite, system, metric)
                if v.size == 0:
                    cells.append("n/a")
                elif "±" in fmt:
                    cells.append(fmt.format(v.mean(), v.std()))
                else:
                    cells.append(fmt.format(v.mean()) + f" ({int(round(v.sum()))}/{v.size})")
            out.append(f"| {system} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def plot_per_gloss(rows: Sequence[dict], suite: str, metric: str = "dtw_mje", ax=None, systems: Sequence[str] | None = None):
    """Grouped bars: `metric` per gloss, one bar per system. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    ax = ax or plt.figure(figsize=(12, 3.5)).gca()
    sel = [r for r in rows if r["suite"] == suite and r["metric"] == metric]
    systems = list(systems or _ordered(r["system"] for r in sel))
    glosses = _ordered(r["gloss"] for r in sel)
    value = {(r["system"], r["gloss"]): r["value"] for r in sel}
    width = 0.8 / max(1, len(systems))
    x = np.arange(len(glosses))
    for k, system in enumerate(systems):
        heights = [value.get((system, g), np.nan) for g in glosses]
        ax.bar(x + (k - (len(systems) - 1) / 2) * width, heights, width, label=system)
    ax.set_xticks(x, glosses, rotation=90 if len(glosses) > 30 else 0, fontsize=8)
    ax.set_ylabel(_title(metric))
    ax.set_title(f"{suite}: {_title(metric)} per gloss")
    ax.legend(fontsize=7, ncol=min(3, len(systems)))
    return ax


def plot_distribution(rows: Sequence[dict], suite: str, metric: str = "frame_ssim", ax=None):
    """Box plots of `metric` (e.g. per-frame SSIM) per system. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    ax = ax or plt.figure(figsize=(7, 3.5)).gca()
    systems = _ordered(r["system"] for r in rows if r["suite"] == suite and r["metric"] == metric)
    data = [_values(rows, suite, s, metric) for s in systems]
    if systems:
        ax.boxplot(data, orientation="horizontal", showfliers=False)
        ax.set_yticks(range(1, len(systems) + 1), systems, fontsize=8)
    ax.set_xlabel(_title(metric))
    ax.set_title(f"{suite}: distribution of {_title(metric)}")
    return ax


def _title(metric: str) -> str:
    names = {m: t.rstrip(" ↑↓") for m, t, _, _ in SUMMARY}
    names.update(frame_ssim="SSIM per frame", frame_psnr="PSNR per frame (dB)", rank="rank of the true gloss")
    return names.get(metric, metric)


def write_report(rows: Sequence[dict], out_dir: str | Path, notes: Sequence[str] = ()) -> dict[str, Path]:
    """results.csv, summary.md and one PNG per suite and plot kind in `out_dir`; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed on servers and CI
    import matplotlib.pyplot as plt

    from text2asl.io import atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": write_csv(rows, out / "results.csv")}
    text = "## Evaluation summary\n\nmean ± std over glosses; sw = shoulder widths; top-k over the suite's real signs.\n\n"
    text += summary_table(rows) + "".join(f"\n- {n}" for n in notes) + "\n"
    with atomic_path(out / "summary.md") as tmp:
        tmp.write_text(text, encoding="utf-8")
    paths["summary"] = out / "summary.md"
    for suite in _ordered(r["suite"] for r in rows):
        metrics = {r["metric"] for r in rows if r["suite"] == suite}
        n_plots = ("dtw_mje" in metrics) + ("frame_ssim" in metrics) + ("frame_psnr" in metrics)
        if n_plots == 0:
            continue
        fig, axes = plt.subplots(n_plots, 1, figsize=(12, 3.6 * n_plots), squeeze=False)
        axes = list(axes[:, 0])
        if "dtw_mje" in metrics:
            plot_per_gloss(rows, suite, "dtw_mje", ax=axes.pop(0))
        for m in ("frame_ssim", "frame_psnr"):
            if m in metrics:
                plot_distribution(rows, suite, m, ax=axes.pop(0))
        fig.tight_layout()
        slug = "".join(c if c.isalnum() else "-" for c in suite).strip("-")
        with atomic_path(out / f"{slug}.png") as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        paths[suite] = out / f"{slug}.png"
    return paths


def fmt_mean_std(values: Iterable[float]) -> str:
    """'mean ± std' of finite values, or 'n/a'."""
    v = [x for x in values if math.isfinite(x)]
    return f"{np.mean(v):.3f} ± {np.std(v):.3f}" if v else "n/a"


def group(rows: Iterable[dict], *keys: str) -> dict[tuple, list[float]]:
    """{(row[k] for k in keys): [values]} for quick ad-hoc summaries."""
    out: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        out[tuple(r[k] for k in keys)].append(r["value"])
    return dict(out)
