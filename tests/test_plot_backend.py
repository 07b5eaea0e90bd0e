"""Library code that writes figure files leaves matplotlib's backend alone (a notebook keeps showing its plots)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")

PACKAGE = Path(__file__).resolve().parents[1] / "text2asl"


def test_no_module_switches_the_backend():
    # matplotlib.use("Agg") in figures.nonmanual_faces turned every later plot of notebook 04 into nothing
    calls = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py")
             for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bmatplotlib\.use\(|switch_backend\(", line)]
    assert calls == []


def _report(out: Path):
    from text2asl.evaluation.report import write_report

    rows = [{"suite": "toy", "system": system, "gloss": gloss, "metric": metric, "value": value, "frame": ""}
            for system, shift in (("copy", 0.0), ("still pose", 0.3))
            for gloss in ("A", "B") for metric, value in (("dtw_mje", 0.1 + shift), ("frame_ssim", 0.9 - shift))]
    return write_report(rows, out)["toy"]


def _nonmanual(out: Path):
    from text2asl.figures import nonmanual_faces

    return nonmanual_faces(out / "faces.png")


@pytest.mark.parametrize("write", [_report, _nonmanual], ids=["evaluate report", "nonmanual figure"])
def test_writing_a_figure_file_keeps_the_callers_backend(write, tmp_path):
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # stands in for a notebook's inline backend: any backend the caller chose
    try:
        png = write(tmp_path)
        assert matplotlib.get_backend() == "svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        matplotlib.use(before)
