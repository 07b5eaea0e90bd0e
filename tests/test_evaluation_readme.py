"""The README's evaluation table is what `text2asl evaluate` prints (and notebook 05 shows) for the same suite.

The block between the markers is generated: `TEXT2ASL_UPDATE_README=1 pytest tests/test_evaluation_readme.py`
rewrites it from a fresh run instead of comparing. tests/test_notebooks.py checks that notebook 05
(SMOKE settings are the README's) displays every line of it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from text2asl.cli import main
from text2asl.evaluation.protocol import README_SETTINGS

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- evaluate table: begin[^\n]*-->\n)(.*?)(<!-- evaluate table: end -->)", re.S)
ARGV = ["evaluate", "--no-shared-data", "--size", str(README_SETTINGS["size"]), "--align", README_SETTINGS["align"]]


def readme_block() -> str:
    """The generated table in README.md, without its markers."""
    match = BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "README.md lost its '<!-- evaluate table: begin/end -->' markers"
    return match.group(2).strip()


@pytest.mark.slow(seconds=10)
def test_the_cli_prints_the_readme_table(tmp_path, capsys):
    assert main([*ARGV, "-o", str(tmp_path), "-q", "-j", "1"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("### alphabet (26 glosses)") and "SSIM" in printed
    if os.environ.get("TEXT2ASL_UPDATE_README") == "1":
        text = README.read_text(encoding="utf-8")
        README.write_text(BLOCK.sub(lambda m: f"{m.group(1)}{printed}\n{m.group(3)}", text), encoding="utf-8")
    assert printed == readme_block(), "README's evaluation table is stale: rerun with TEXT2ASL_UPDATE_README=1"
    assert printed in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_the_readme_names_the_command_that_makes_its_table():
    header = BLOCK.search(README.read_text(encoding="utf-8")).group(1)
    assert "text2asl " + " ".join(ARGV) in header
