"""Every `text2asl` command the README and docs/ show is one the current parser accepts (no stale option)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from text2asl.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def shown_commands() -> list[tuple[str, list[str]]]:
    """(page: line, argv after `text2asl`) for every text2asl command in the pages' bash blocks."""
    found = []
    for page in PAGES:
        for block in BLOCK.findall(page.read_text(encoding="utf-8")):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                words = [w for w in words if not (w.startswith("[") or w.endswith("]"))]  # [optional] parts
                if "text2asl" not in words:
                    continue
                argv = words[words.index("text2asl") + 1:]
                if argv and not argv[0].startswith("-") and "/" not in argv[0]:
                    found.append((f"{page.name}: {line.strip()[:60]}", argv))
    return found


COMMANDS = shown_commands()


def test_the_pages_show_commands():
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_a_shown_command_parses(where, argv):
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: the parser refuses it (exit {exc.code})")
    assert args.command == argv[0]


def test_the_scaling_out_lines_are_the_ones_the_tests_run():
    from test_extract_shards import KUBERNETES_COMMAND, XARGS_LINE
    from test_multiprocess_training import LAUNCH

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert XARGS_LINE in readme and KUBERNETES_COMMAND in readme
    assert "accelerate " + " ".join(LAUNCH) + " train-lora" in readme
