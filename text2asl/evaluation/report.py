"""Evaluation output: a tidy CSV, markdown tables (`markdown_table`, the summary), and matplotlib plots (helpers take `ax=`).

Rows are dicts `{suite, system, gloss, metric, value[, frame]}`: one measurement each, so any
other table or plot can be made from the CSV with a group-by.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

COLUMNS = ("suite", "system", "gloss", "metric", "value", "frame")


@dataclass(frozen=True)
class Metric:
    """A metric's name for people, which way is better, and how one value is written (`fmt`)."""

    key: str
    name: str
    higher_is_better: bool
    fmt: str

    @property
    def title(self) -> str:
        """Column title with the better direction: 'SSIM ↑'."""
        return f"{self.name} {'↑' if self.higher_is_better else '↓'}"

    def one(self, value: float) -> str:
        return self.fmt.format(value) if np.isfinite(value) else "n/a"

    def spread(self, values: Iterable[float]) -> str:
        """'mean ± std' of the finite values (a rate: 'mean (hits/n)'), or 'n/a'."""
        v = np.asarray([x for x in values if np.isfinite(x)], float)
        if v.size == 0:
            return "n/a"
        if self.fmt.endswith("%}"):
            return f"{self.fmt.format(v.mean())} ({int(round(v.sum()))}/{v.size})"
        return f"{self.fmt.format(v.mean())} ± {self.fmt.format(v.std())}"


# Every per-sign metric the package reports, in table order (rank: 1 means the true gloss came first).
METRICS = {m.key: m for m in (
    Metric("dtw_mje", "DTW-MJE (sw)", False, "{:.3f}"),
    Metric("ssim", "SSIM", True, "{:.3f}"),
    Metric("psnr", "PSNR (dB)", True, "{:.1f}"),
    Metric("rank", "rank of the true gloss", False, "{:.1f}"),
    Metric("top1", "top-1", True, "{:.0%}"),
    Metric("top5", "top-5", True, "{:.0%}"),
)}
SUMMARY = ("dtw_mje", "ssim", "psnr", "top1", "top5")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence], align: str | None = None) -> str:
    """A markdown table: `header` cells, then one line per row (each cell written with `str`).

    align: one letter per column, 'l' (left) or 'r' (right); default: the first column left, the rest
    right (a label, then numbers). A '|' inside a cell is escaped, so a cell never splits a column.
    """
    header = [str(h) for h in header]
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align {align!r} must give 'l' or 'r' for each of the {len(header)} columns")

    def line(cells) -> str:
        cells = [str(c).replace("|", "\\|") for c in cells]
        if len(cells) != len(header):
            raise ValueError(f"a row has {len(cells)} cells for {len(header)} columns: {cells}")
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


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


def _values(rows: Sequence[dict], suite: str, system: str, metric: str) -> np.ndarray:
    return np.array([r["value"] for r in rows if r["suite"] == suite and r["system"] == system and r["metric"] == metric], float)


def _ordered(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def summary_table(rows: Sequence[dict]) -> str:
    """Markdown: one table per suite, one line per system, mean ± std over glosses (per-video values)."""
    out = []
    for suite in _ordered(r["suite"] for r in rows):
        systems = _ordered(r["system"] for r in rows if r["suite"] == suite)
        present = [METRICS[m] for m in SUMMARY if any(r["suite"] == suite and r["metric"] == m for r in rows)]
        n_glosses = len(_ordered(r["gloss"] for r in rows if r["suite"] == suite))
        out.append(f"### {suite} ({n_glosses} glosses)\n")
        out.append(markdown_table(["system"] + [m.title for m in present],
                                  [[system] + [m.spread(_values(rows, suite, system, m.key)) for m in present]
                                   for system in systems]))
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
    if metric in METRICS:
        return METRICS[metric].name
    return {"frame_ssim": "SSIM per frame", "frame_psnr": "PSNR per frame (dB)"}.get(metric, metric)


def write_report(rows: Sequence[dict], out_dir: str | Path, notes: Sequence[str] = ()) -> dict[str, Path]:
    """results.csv, summary.md and one PNG per suite and plot kind in `out_dir`; returns their paths."""
    from matplotlib.figure import Figure  # files only: no pyplot, so a notebook's backend is left alone

    from text2asl.io import atomic_path, make_folder

    out = Path(out_dir)
    make_folder(out, "results folder")
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
        fig = Figure(figsize=(12, 3.6 * n_plots))
        axes = fig.subplots(n_plots, 1, squeeze=False)
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
        paths[suite] = out / f"{slug}.png"
    return paths

