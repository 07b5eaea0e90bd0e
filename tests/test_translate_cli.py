"""`text2asl translate` end to end: good, hard and bad input, as a user runs it."""
import os
import subprocess
import sys

import pytest

from helpers import make_lexicon, unwritable
from text2asl.cli import main
from text2asl.io import read_video


def run_cli(args, capsys):
    code = main(["translate", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_translate_writes_a_playable_video_and_prints_glosses(tmp_path, capsys):
    out = tmp_path / "hello.mp4"
    code, stdout, _ = run_cli(["Hello, my name is Sam and I like pizza.", "-o", str(out)], capsys)
    assert code == 0
    assert "gloss:  HELLO MY NAME fs-SAM ME LIKE PIZZA" in stdout
    assert "signed: HELLO MY fs-NAME fs-SAM ME fs-LIKE fs-PIZZA" in stdout  # pronouns are built, not spelled
    assert "'Hello' -> HELLO            lexicon (asl-app, embedded)" in stdout
    assert "fs-PIZZA" in stdout and "fingerspelled" in stdout and "built (indexing)" in stdout
    frames, meta = read_video(out)
    assert meta["codec"] == "h264" and meta["size"] == (512, 512) and meta["fps"] == 25
    assert sum(1 for _ in frames) == meta["n_frames"] > 100


def test_embedded_words_sign_words_as_words_and_can_be_turned_off(tmp_path, capsys):
    code, stdout, _ = run_cli(["Hello! Thank you, I am hungry.", "-o", str(tmp_path / "a.gif"), "--size", "128"], capsys)
    assert code == 0
    assert "signed: HELLO THANK-YOU ME HUNGRY" in stdout  # "I" points at the chest: no fs-ME
    assert "'I' -> ME               built (indexing) [1 handshape from ONE (asl-app, embedded)]" in stdout
    code, stdout, _ = run_cli(["Hello! Thank you, I am hungry.", "--no-embedded-words", "-o", str(tmp_path / "b.pose")], capsys)
    assert code == 0 and "signed: fs-HELLO fs-THANK YOU ME fs-HUNGRY" in stdout
    assert "asl-app" not in stdout


def test_repeatable_lexicons_in_priority_order(tmp_path, capsys):
    first = make_lexicon(tmp_path / "first", {"cat": "c"})
    second = make_lexicon(tmp_path / "second", {"cat": "k", "dog": "d"})
    code, stdout, _ = run_cli(["cat dog", "--lexicon", str(first), "--lexicon", str(second), "-o", str(tmp_path / "x.pose")], capsys)
    assert code == 0
    assert "lexicon (first)" in stdout and "lexicon (second)" in stdout


def test_glosses_directly(tmp_path, capsys):
    code, stdout, _ = run_cli(["--glosses", "HELLO fs-SAM", "-o", str(tmp_path / "g.pose")], capsys)
    assert code == 0 and "signed: HELLO fs-SAM" in stdout


@pytest.mark.parametrize("text", ["I am 25 years old and have 3 cats.", "I love 🍕 and 東京 very much!"])
def test_hard_input_succeeds(text, tmp_path, capsys):
    code, stdout, err = run_cli([text, "-o", str(tmp_path / "h.pose")], capsys)
    assert code == 0 and (tmp_path / "h.pose").stat().st_size > 0
    if "🍕" in text:
        assert err.count("warning: skipped") == 2


BAD = [
    (["", "-o", "{tmp}/o.mp4"], "text is empty"),
    (["   \t ", "-o", "{tmp}/o.mp4"], "text is empty"),
    (["?!... 🙂🙂", "-o", "{tmp}/o.mp4"], "nothing in"),
    (["東京", "-o", "{tmp}/o.mp4"], "nothing in"),
    (["hello", "-o", "{tmp}/missing/o.mp4"], "does not exist"),
    (["hello", "-o", "/proc/text2asl-test/o.mp4"], "does not exist"),
    (["hello", "-o", "{tmp}/o.avi"], "unknown output extension"),
    (["hello", "-o", "{tmp}/o"], "unknown output extension"),
    (["hello", "--lexicon", "{tmp}/nolex", "-o", "{tmp}/o.mp4"], "lexicon folder .* does not exist"),
    (["-o", "{tmp}/o.mp4"], "give English text"),
    (["hello", "--size", "101", "-o", "{tmp}/o.mp4"], "--size: 101 is odd"),
]


@pytest.mark.parametrize("args,message", BAD)
def test_bad_input_one_sentence_nonzero_exit_no_output(args, message, tmp_path, capsys):
    import re

    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert re.search(message, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not any(p.suffix for p in tmp_path.rglob("*"))  # nothing written, no temp left


def test_unwritable_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "ro").mkdir()
    ro = unwritable(monkeypatch, tmp_path / "ro")  # the write layer, not chmod: as root, permission bits stop nothing
    code, _, err = run_cli(["hello", "-o", str(ro / "o.mp4")], capsys)
    assert code == 2 and f"cannot write {ro / 'o.mp4'}: read-only file system" in err
    assert list(ro.iterdir()) == []


def test_read_only_location_even_as_root(capsys):
    code, _, err = run_cli(["hello", "-o", "/proc/o.mp4"], capsys)
    assert code == 2 and "cannot write /proc/o.mp4" in err


@pytest.mark.parametrize("broken", ["column", "row", "corrupt"])
def test_bad_lexicons_name_the_file_and_row(broken, tmp_path, capsys):
    lex = make_lexicon(tmp_path / "lex", {"hello": "h", "cat": "c"})
    if broken == "column":
        text = (lex / "index.csv").read_text().replace(",words,", ",word,")
        (lex / "index.csv").write_text(text)
        expect = "lacks the column words"
    elif broken == "row":
        (lex / "cat.pose").unlink()
        expect = r"index.csv row 2 names cat.pose"
    else:
        (lex / "cat.pose").write_bytes(b"corrupt")
        expect = r"index.csv row 2: .*cat.pose is not a readable .pose file"
    out = tmp_path / "o.mp4"
    code, _, err = run_cli(["hello cat", "--lexicon", str(lex), "-o", str(out)], capsys)
    import re

    assert code == 2 and re.search(expect, err), err
    assert not out.exists() and not list(tmp_path.glob(".o.*"))


def test_console_script_and_light_imports():
    """The installed `text2asl` starts without torch/diffusers/mediapipe; so does the translate path."""
    code = (
        "import sys, text2asl.cli, text2asl.pipeline, text2asl.pose_to_video.render;"
        "from text2asl import translate;"
        "heavy = [m for m in ('torch', 'diffusers', 'mediapipe', 'transformers', 'scipy', 'skimage', 'matplotlib') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    helped = subprocess.run([sys.executable, "-m", "text2asl", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "translate" in helped.stdout


def test_translate_command_imports_only_what_it_uses(tmp_path):
    """Signing a sentence imports none of the diffusion track: its option ranges come from a plain table
    (diffusion.ranges), not from the settings dataclasses (diffusion.config, ~6 ms of every start)."""
    code = ("import sys; from text2asl.cli import main;"
            "assert main(['translate', '-q', 'Hello, I am Sam.', '-o', 'hi.mp4']) == 0;"
            "print(sorted(m for m in sys.modules if m.startswith('text2asl.diffusion') or m in ('torch', 'mediapipe')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[-2] == "['text2asl.diffusion', 'text2asl.diffusion.ranges']", out.stdout


# The program (console script, python -m text2asl) skips Python's teardown only after a QUICK_EXIT command
# succeeded; an atexit handler that prints shows which exit it took. Piped stdout is block-buffered: it must
# still arrive whole, and the output file must be complete.
@pytest.mark.parametrize("args, code, quick", [
    (["translate", "Hello, I am Sam.", "-o", "hi.mp4"], 0, True),
    (["translate", "Hello, I am Sam.", "-o", "hi.pose"], 0, True),
    (["translate", "hi", "--speed", "9", "-o", "refused.mp4"], 2, False),
    (["translate", "hi", "--lexicon", "no-such-folder", "-o", "failed.mp4"], 2, False),
    (["--version"], 0, False),
])
def test_the_program_skips_teardown_only_after_a_quick_exit_command_succeeded(tmp_path, args, code, quick):
    script = "import atexit; atexit.register(print, 'teardown'); from text2asl.cli import program; program()"
    proc = subprocess.run([sys.executable, "-c", script, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == code, proc.stderr
    assert ("teardown" in proc.stdout) == (not quick), proc.stdout
    if args[0] == "translate":
        out = tmp_path / args[-1]
        assert out.is_file() == (code == 0) and [p.name for p in tmp_path.iterdir()] == ([out.name] if code == 0 else [])
    if code == 0 and args[0] == "translate":
        assert proc.stdout.rstrip().endswith(f"wrote {args[-1]}") and "gloss:  HELLO ME fs-SAM" in proc.stdout
        assert out.stat().st_size > 1000


# `text2asl ... | head`: the reader of stdout goes away. As a Unix tool does on SIGPIPE, the program ends quietly
# with status 141, no traceback, whether Python buffers stdout (the error comes at the last flush) or not (at a print).
@pytest.mark.parametrize("unbuffered", ["1", ""])
@pytest.mark.parametrize("args", [["translate", "Hello, I am Sam.", "-o", "hi.mp4"], ["--help"], ["--version"]])
def test_a_closed_stdout_ends_the_program_quietly(tmp_path, args, unbuffered):
    read, write = os.pipe()
    os.close(read)  # nobody will read
    try:
        proc = subprocess.run([sys.executable, "-m", "text2asl", *args], cwd=tmp_path, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120,
                              env={**os.environ, "PYTHONUNBUFFERED": unbuffered})
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == ""
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left where it stopped early
