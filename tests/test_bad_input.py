"""Bad input to every command ends in one sentence and exit 2 with nothing left behind; parsers of users' files
never raise anything but `Text2ASLError` (hypothesis); signals and a full disk leave no partial file."""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from text2asl.cli import main
from text2asl.errors import OPTIONAL_DEPENDENCIES, Text2ASLError
from text2asl.gloss_to_pose.lexicon import COLUMNS, Lexicon, parse_index
from text2asl.poses.layout import read_pose_file, to_canonical, to_pose

REPO = Path(__file__).resolve().parents[1]
HEADER = ",".join(COLUMNS)


# ---- fixtures the table's rows name: each writes into the working folder -------------------------------

def _lexicon_with(row: str, pose: bytes | None = None, encoding: str = "utf-8"):
    """A lexicon folder `lex/` whose one row is `row` (its file a.pose: a real letter, or `pose` bytes)."""
    def make(work: Path) -> None:
        lex = work / "lex"
        lex.mkdir()
        shutil.copy(Lexicon.embedded().find("A")[0].path, lex / "a.pose")
        if pose is not None:
            (lex / "a.pose").write_bytes(pose)
        (lex / "index.csv").write_bytes(f"{HEADER}\n{row}\n".encode(encoding))
    return make


def _pose_bytes(edit) -> bytes:
    """A real letter's .pose, changed by `edit(PoseArray)`, as bytes."""
    import io

    arr = read_pose_file(Lexicon.embedded().find("A")[0].path)
    edit(arr)
    buf = io.BytesIO()
    to_pose(arr).write(buf)
    return buf.getvalue()


def _fps0(arr):
    arr.fps = 0.0


def _nan_points(arr):
    arr.xyz[:] = np.nan


def _huge_points(arr):
    arr.xyz[:] = 1e30


def _labels(row: str):
    def make(work: Path) -> None:
        (work / "clips").mkdir()
        (work / "clips" / "labels.csv").write_text(f"video,gloss,start,end\n{row}\n")
    return make


def _wlasl(instances) -> callable:
    def make(work: Path) -> None:
        (work / "vids").mkdir()
        text = instances if isinstance(instances, str) else json.dumps([{"gloss": "book", "instances": instances}])
        (work / "w.json").write_text(text)
    return make


def _video(work: Path) -> None:
    (work / "v.mp4").write_bytes(b"not really a video")


def _empty_lexicon(work: Path) -> None:
    (work / "empty").mkdir()
    (work / "empty" / "index.csv").write_text(HEADER + "\n")


def _letter_pose(work: Path) -> None:
    shutil.copy(Lexicon.embedded().find("A")[0].path, work / "a.pose")


def _escaping_labels(work: Path) -> None:
    _letter_pose(work)
    (work / "labels.csv").write_text("path,glosses\n../../etc/a.pose,A\n")


GOOD = {"path": "a.pose", "start": "0", "end": "0", "priority": "0"}


def _row(**change) -> str:
    fields = dict(GOOD, spoken_language="en", signed_language="ase", words="cat", glosses="CAT") | change
    return ",".join(fields[c] for c in COLUMNS)


INSTANCE = {"video_id": "00001", "instance_id": 0, "frame_start": 1, "frame_end": -1, "bbox": [0, 0, 10, 10]}

# (id, argv, setup or None, regex the one error line must match: the culprit)
CASES = [
    # translate: numeric options
    ("fps-nan", ["translate", "hi", "--fps", "nan"], None, "--fps: 'nan' is not a finite number"),
    ("fps-inf", ["translate", "hi", "--fps", "inf"], None, "--fps: 'inf' is not a finite"),
    ("fps-0", ["translate", "hi", "--fps", "0"], None, r"--fps: 0 is out of range; give a value in \(0, 120\]"),
    ("fps-huge", ["translate", "hi", "--fps", "1e9"], None, "--fps: 1e9 is out of range"),
    ("letter-hold-nan", ["translate", "hi", "--letter-hold", "nan"], None, "--letter-hold: 'nan'"),
    ("letter-hold-huge", ["translate", "hi", "--letter-hold", "100000"], None, "--letter-hold: 100000 is out of range"),
    ("size-huge", ["translate", "hi", "--size", "100000"], None, r"--size: 100000 is out of range; give a value in \[16, 4096\]"),
    ("size-odd", ["translate", "hi", "--size", "101"], None, "--size: 101 is odd"),
    ("size-text", ["translate", "hi", "--size", "big"], None, "--size: 'big' is not an integer"),
    ("size-fraction", ["translate", "hi", "--size", "64.5"], None, "--size: '64.5' is not an integer"),
    ("steps-0", ["translate", "hi", "--steps", "0"], None, "--steps: 0 is out of range"),
    ("guidance-nan", ["translate", "hi", "--guidance-scale", "nan"], None, "--guidance-scale: 'nan' is not a finite"),
    ("guidance-huge", ["translate", "hi", "--guidance-scale", "1000"], None, r"--guidance-scale: 1000 is out of range; give a value in \[0, 100\]"),
    ("seed-negative", ["translate", "hi", "--seed", "-1"], None, "--seed: -1 is out of range"),
    ("lora-scale-inf", ["translate", "hi", "--lora-scale", "inf"], None, "--lora-scale: 'inf'"),
    # translate: output paths
    ("out-ext", ["translate", "hi", "-o", "o.avi"], None, "unknown output extension '.avi'"),
    ("out-proc", ["translate", "hi", "-o", "/proc/x/o.mp4"], None, "folder /proc/x does not exist"),
    # translate: lexicon index.csv rows
    ("index-start-inf", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(start="inf")), r"index.csv row 1 has start 'inf'"),
    ("index-priority-inf", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(priority="inf")), r"row 1 has priority 'inf'"),
    ("index-priority-1e400", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(priority="1e400")), r"row 1 has priority '1e400'"),
    ("index-priority-fraction", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(priority="0.5")), r"row 1 has priority '0.5'"),
    ("index-end-before-start", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(start="500", end="100")), r"row 1 ends \(100 ms\) before"),
    ("index-latin1", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(words="caf\u00e9"), encoding="latin-1"),
     r"index.csv row 1 is not UTF-8 text \(byte 0xe9\)"),
    ("index-absolute", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(path="/etc/passwd")), r"row 1 gives the absolute path '/etc/passwd'"),
    ("index-escape", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(path="../lex/a.pose")), r"row 1 gives the path '../lex/a.pose', which leaves"),
    ("index-start-past-end", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(start="60000")), r"row 1 starts at 60000 ms, past the end of a.pose"),
    ("pose-fps-0", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(), _pose_bytes(_fps0)), r"row 1: .*a.pose has frame rate 0"),
    ("pose-nan", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(), _pose_bytes(_nan_points)), r"row 1: .*a.pose has no detected point"),
    ("pose-1e30", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(), _pose_bytes(_huge_points)), r"row 1: .*a.pose has no detected point"),
    ("pose-corrupt", ["translate", "cat", "--lexicon", "lex"], _lexicon_with(_row(), b"\x00\x01garbage"), r"a.pose is not a readable .pose file \(it ends early"),
    # extract
    ("extract-proc", ["extract", "v.mp4", "-o", "/proc/x"], _video, "cannot create output folder /proc/x"),
    ("extract-workers-0", ["extract", "v.mp4", "-o", "out", "-j", "0"], _video, "--workers: 0 is out of range"),
    ("extract-workers-huge", ["extract", "v.mp4", "-o", "out", "-j", "1e9"], _video, "--workers: 1e9 is out of range"),
    ("extract-start-nan", ["extract", "v.mp4", "-o", "out", "--start", "nan"], _video, "--start: 'nan'"),
    ("extract-end-inf", ["extract", "v.mp4", "-o", "out", "--end", "inf"], _video, "--end: 'inf'"),
    ("extract-end-before", ["extract", "v.mp4", "-o", "out", "--start", "500", "--end", "100"], _video, "--end 100.0 must come after --start 500.0"),
    ("extract-frame-negative", ["extract", "v.mp4", "-o", "out", "--start-frame", "-1"], _video, "--start-frame: -1 is out of range"),
    ("extract-bbox-nan", ["extract", "v.mp4", "-o", "out", "--bbox", "nan,0,10,10"], _video, "--bbox 'nan,0,10,10' must be four finite"),
    # build-lexicon
    ("labels-start-nan", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "out"], _labels("a.mp4,HELLO,nan,"), "labels.csv line 2 has start/end 'nan'"),
    ("labels-end-inf", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "out"], _labels("a.mp4,HELLO,0,inf"), "labels.csv line 2 has start/end '0'/'inf'"),
    ("labels-escape", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "out"], _labels("../a.mp4,HELLO,,"), "which leaves the videos folder"),
    ("wlasl-frame-text", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl([INSTANCE | {"frame_start": "x"}]), "instance 0 has frame_start 'x'"),
    ("wlasl-frame-float", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl([INSTANCE | {"frame_end": 2.5}]), "instance 0 has frame_end 2.5"),
    ("wlasl-frame-1e400", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"],
     _wlasl('[{"gloss": "book", "instances": [{"video_id": "1", "frame_start": 1e400}]}]'), "has frame_start inf"),
    ("wlasl-bbox", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl([INSTANCE | {"bbox": [0, "a", 3]}]), r"instance 0 has bbox \[0, 'a', 3\]"),
    ("wlasl-bbox-empty", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl([INSTANCE | {"bbox": [5, 5, 5, 9]}]), "instance 0 has bbox"),
    ("wlasl-instance-null", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl([None]), "gloss 'BOOK' has instances that are not a list"),
    ("wlasl-instances-not-list", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl({"a": 1}), "gloss 'BOOK' has instances that are not a list"),
    ("wlasl-split-number", ["build-lexicon", "--wlasl", "w.json", "--videos", "vids", "-o", "out"], _wlasl([INSTANCE | {"split": 5}]), "instance 0 has split 5"),
    ("build-workers-0", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "out", "-j", "0"], _labels("a.mp4,HELLO,,"), "--workers: 0 is out of range"),
    ("build-limit-nan", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "out", "--limit-glosses", "nan"], _labels("a.mp4,HELLO,,"), "--limit-glosses: 'nan'"),
    # overlay
    ("overlay-thickness-0", ["overlay", "v.mp4", "-o", "o.mp4", "--thickness", "0"], _video, "--thickness: 0 is out of range"),
    ("overlay-thickness-huge", ["overlay", "v.mp4", "-o", "o.mp4", "--thickness", "100000"], _video, "--thickness: 100000 is out of range"),
    ("overlay-frame-negative", ["overlay", "v.mp4", "-o", "o.png", "--frame", "-1"], _video, "--frame: -1 is out of range"),
    # evaluate
    ("evaluate-size-nan", ["evaluate", "-o", "out", "--size", "nan"], None, "--size: 'nan' is not an integer"),
    ("evaluate-size-huge", ["evaluate", "-o", "out", "--size", "100000"], None, r"--size: 100000 is out of range; give a value in \[32, 2048\]"),
    ("evaluate-workers-0", ["evaluate", "-o", "out", "-j", "0"], None, "--workers: 0 is out of range"),
    ("evaluate-empty-held-out", ["evaluate", "-o", "out", "--held-out", "empty", "--training", "empty", "--no-shared-data", "--skip-embedded"],
     _empty_lexicon, "--held-out lexicon empty has no ASL signs"),
    # recognize
    ("recognize-top-0", ["recognize", "a.pose", "--reference", "lex", "-k", "0"], _letter_pose, "--top: 0 is out of range"),
    ("recognize-top-inf", ["recognize", "a.pose", "--reference", "lex", "-k", "inf"], _letter_pose, "--top: 'inf' is not an integer"),
    ("recognize-labels-escape", ["recognize", "a.pose", "--reference", str(Path(Lexicon.embedded().path)), "--labels", "labels.csv"],
     _escaping_labels, "labels.csv row 1 gives the path '../../etc/a.pose', which leaves the lexicon folder"),
]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("argv, setup, culprit", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_cli_input_is_one_sentence_exit_2_and_leaves_nothing(argv, setup, culprit, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if setup is not None:
        setup(tmp_path)
    before = _files(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"text2asl {argv[0]}: error: "), err
    assert re.search(culprit, lines[0]), lines[0]
    assert not lines[0].endswith("."), "package-wide rule: messages have no closing period"
    assert _files(tmp_path) == before, "the failed command left files behind"


# ---- the place the output goes, and files that are no sign: section 4 of issue 18 --------------------------
# Each row: (id, argv, setup(work) or None, (folder, errno, names) made unwritable or None, regex of the one line).
# Runs in this process with the write layer patched (`helpers.unwritable`): as root, permission bits stop nothing.

def _astro(work: Path) -> None:
    """v.mp4 (two frames of a synthetic signer) and its v.pose, copied from the module's extraction."""
    for name in ("v.mp4", "v.pose"):
        shutil.copy(_ASTRO[name], work / name)


_ASTRO: dict[str, Path] = {}


@pytest.fixture(scope="module")
def astro(tmp_path_factory):
    """Extract a 2-frame synthetic clip once (MediaPipe); rows that need a real video and its .pose use it."""
    pytest.importorskip("mediapipe")
    from text2asl.extract.sample_video import astronaut_video

    folder = tmp_path_factory.mktemp("astro")
    astronaut_video(folder / "v.mp4", n_frames=2, size=128)
    assert main(["extract", str(folder / "v.mp4"), "-o", str(folder), "-j", "1", "-q"]) == 0
    _ASTRO.update({"v.mp4": folder / "v.mp4", "v.pose": folder / "v.pose"})
    return folder


def _clips(work: Path) -> None:
    """clips/v.mp4 (the synthetic signer) listed in clips/labels.csv as HELLO."""
    (work / "clips").mkdir()
    shutil.copy(_ASTRO["v.mp4"], work / "clips" / "hello.mp4")
    (work / "clips" / "labels.csv").write_text("video,gloss,start,end\nhello.mp4,HELLO,,\n")


def _labels_and_video(work: Path) -> None:
    _labels("hello.mp4,HELLO,,")(work)
    (work / "clips" / "hello.mp4").write_bytes(b"never read: the output folder fails first")


def _two_letters(work: Path) -> None:
    for letter in "AB":
        shutil.copy(Lexicon.embedded().find(letter)[0].path, work / f"{letter.lower()}.pose")


def _folders(*names: str):
    def make(work: Path) -> None:
        for name in names:
            (work / name).mkdir()
    return make


def _both(*setups):
    def make(work: Path) -> None:
        for setup in setups:
            setup(work)
    return make


def _slow_sign(work: Path) -> None:
    """A lexicon whose one sign says 0.001 frames per second (translate once grew to 23.5 GB on it)."""
    _lexicon_with(_row(), _pose_bytes(lambda arr: setattr(arr, "fps", 0.001)))(work)


def _minutes_long_sign(work: Path) -> None:
    """A lexicon whose one sign is a letter slowed to 1 fps and repeated: 120 frames, two minutes."""
    def slow(arr):
        arr.xyz, arr.conf, arr.fps = np.repeat(arr.xyz, 10, axis=0)[:120], np.repeat(arr.conf, 10, axis=0)[:120], 1.0
    _lexicon_with(_row(), _pose_bytes(slow))(work)


def _sparse_pose(work: Path) -> None:
    """A lexicon whose a.pose is a real sign followed by 2 GiB of holes (sparse: costs no disk)."""
    _lexicon_with(_row())(work)
    with open(work / "lex" / "a.pose", "r+b") as fh:
        fh.truncate(2 * 2**30)


def _zero_link(work: Path) -> None:
    os.symlink("/dev/zero", work / "zero.pose")


def _linked_out_of_lexicon(work: Path) -> None:
    """lex/a.pose is a symlink to ../outside.pose: inside the folder by name, outside it in fact."""
    _lexicon_with(_row())(work)
    (work / "lex" / "a.pose").rename(work / "outside.pose")
    os.symlink("../outside.pose", work / "lex" / "a.pose")


def _link_loop(work: Path) -> None:
    _lexicon_with(_row())(work)
    (work / "lex" / "a.pose").unlink()
    os.symlink("a.pose", work / "lex" / "a.pose")


def _linked_out_of_videos(work: Path) -> None:
    (work / "clips").mkdir()
    (work / "outside.mp4").write_bytes(b"a video elsewhere")
    os.symlink("../outside.mp4", work / "clips" / "hello.mp4")
    (work / "clips" / "labels.csv").write_text("video,gloss,start,end\nhello.mp4,HELLO,,\n")


def _camera_video(work: Path) -> None:
    """cam.mp4: a 96x64 (not square) recording, and a.pose to compare it with."""
    from text2asl.extract.sample_video import astronaut_video

    astronaut_video(work / "cam.mp4", n_frames=2, size=64, canvas=(96, 64))
    _letter_pose(work)


RO, FULL = errno.EROFS, errno.ENOSPC
READ_ONLY = "read-only file system; give a writable folder"
NO_SPACE = "no space left on device; free some space or write elsewhere"
PLACE_CASES = [
    # a read-only output folder
    ("ro-translate-mp4", ["translate", "hi", "-o", "ro/o.mp4"], _folders("ro"), ("ro", RO, "*"), f"cannot write ro/o.mp4: {READ_ONLY}"),
    ("ro-translate-gif", ["translate", "hi", "-o", "ro/o.gif"], _folders("ro"), ("ro", RO, "*"), f"cannot write ro/o.gif: {READ_ONLY}"),
    ("ro-translate-pose", ["translate", "hi", "-o", "ro/o.pose"], _folders("ro"), ("ro", RO, "*"), f"cannot write ro/o.pose: {READ_ONLY}"),
    ("ro-build-lexicon", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "ro/lex"], _both(_folders("ro"), _labels_and_video),
     ("ro", RO, "*"), f"cannot create lexicon output ro/lex: {READ_ONLY}"),
    ("ro-overlay", ["overlay", "v.mp4", "--pose", "v.pose", "-o", "ro/o.mp4"], _both(_folders("ro"), _astro), ("ro", RO, "*"),
     f"cannot write ro/o.mp4: {READ_ONLY}"),
    ("ro-evaluate-pair", ["evaluate", "--pred", "a.pose", "--ref", "b.pose", "-o", "ro/ev", "-q"], _both(_folders("ro"), _two_letters),
     ("ro", RO, "*"), f"cannot create results folder ro/ev: {READ_ONLY}"),
    # a full disk, before anything or in the middle
    ("full-translate-pose", ["translate", "hi", "-o", "full/o.pose"], _folders("full"), ("full", FULL, "*"), f"cannot write full/o.pose: {NO_SPACE}"),
    ("full-overlay", ["overlay", "v.mp4", "--pose", "v.pose", "-o", "full/o.mp4"], _both(_folders("full"), _astro), ("full", FULL, "*"),
     f"cannot write full/o.mp4: {NO_SPACE}"),
    ("full-evaluate-pair", ["evaluate", "--pred", "a.pose", "--ref", "b.pose", "-o", "full/ev", "-q"], _both(_folders("full"), _two_letters),
     ("full", FULL, "*.csv"), f"cannot write full/ev/pairs.csv: {NO_SPACE}"),
    ("full-extract", ["extract", "v.mp4", "-o", "full/poses", "-j", "1", "-q"], _both(_folders("full"), _astro), ("full", FULL, "*.pose"),
     f"cannot write full/poses/v.pose: {NO_SPACE}"),
    ("full-build-lexicon", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "full/lex", "-j", "1", "-q"], _both(_folders("full"), _astro, _clips),
     ("full", FULL, "*.pose"), f"cannot write full/lex/poses/hello/hello.pose: {NO_SPACE}"),
    ("extract-failures-proc", ["extract", "v.mp4", "-o", "poses", "--failures", "/proc/x/f.csv"], _video, None, "cannot create --failures folder /proc/x"),
    # files that are no sign, caught before they are read
    ("pose-fps-0.001", ["translate", "cat", "--lexicon", "lex", "-o", "o.pose"], _slow_sign, None, r"a.pose has frame rate 0.001, which is no camera's"),
    ("sign-minutes-long", ["translate", "cat", "--lexicon", "lex", "-o", "o.pose"], _minutes_long_sign, None,
     r"row 1: a.pose lasts 120 s \(120 frames at 1 fps\), longer than any sign"),
    ("pose-sparse-2g-translate", ["translate", "cat", "--lexicon", "lex", "-o", "o.pose"], _sparse_pose, None, r"a.pose is 2,048 MiB, more than any sign's"),
    ("pose-sparse-2g-recognize", ["recognize", "lex/a.pose", "--reference", str(Lexicon.embedded().path)], _sparse_pose, None, r"a.pose is 2,048 MiB"),
    ("pose-sparse-2g-evaluate", ["evaluate", "--pred", "lex/a.pose", "--ref", "a.pose", "-o", "ev"], _both(_sparse_pose, _letter_pose), None, r"a.pose is 2,048 MiB"),
    ("pose-sparse-2g-make-dataset", ["make-dataset", "--lexicon", "lex", "-o", "ds", "--resolution", "32", "-q"], _sparse_pose, None,
     r"a.pose is 2,048 MiB"),
    ("recognize-dev-zero", ["recognize", "zero.pose", "--reference", str(Lexicon.embedded().path)], _zero_link, None, "zero.pose is not a regular file"),
    ("evaluate-camera-ref", ["evaluate", "--pred", "a.pose", "--ref", "cam.mp4", "-o", "ev"], _camera_video, None, "--ref cam.mp4 is a 96x64 video.*give --extract-ref"),
    # symlinks: resolve, then contain
    ("lexicon-link-out", ["translate", "cat", "--lexicon", "lex", "-o", "o.pose"], _linked_out_of_lexicon, None,
     r"row 1 gives the path 'a.pose', which is a symlink that leads outside the lexicon folder"),
    ("lexicon-link-loop", ["translate", "cat", "--lexicon", "lex", "-o", "o.pose"], _link_loop, None, r"row 1 gives the path 'a.pose', which is a symlink loop"),
    ("videos-link-out", ["build-lexicon", "--labels", "clips/labels.csv", "-o", "out"], _linked_out_of_videos, None,
     r"gives the path 'hello.mp4', which is a symlink that leads outside the videos folder"),
]
NEEDS_ASTRO = {"ro-overlay", "full-overlay", "full-extract", "full-build-lexicon"}  # rows whose setup uses `astro`


@pytest.mark.parametrize("case, argv, setup, place, culprit", PLACE_CASES, ids=[c[0] for c in PLACE_CASES])
def test_an_unwritable_place_or_a_file_that_is_no_sign_is_one_sentence(case, argv, setup, place, culprit, request, tmp_path,
                                                                      monkeypatch, capsys):
    from helpers import unwritable

    if case in NEEDS_ASTRO:
        request.getfixturevalue("astro")
    monkeypatch.chdir(tmp_path)
    if setup is not None:
        setup(tmp_path)
    before = _files(tmp_path)
    if place is not None:
        unwritable(monkeypatch, tmp_path / place[0], place[1], place[2])
    code = main(argv)
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith(f"text2asl {argv[0]}: error: ")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in "\n".join(lines), lines
    assert re.search(culprit, errors[0]), errors[0]
    assert _files(tmp_path) == before, "the failed command left files or folders behind"


def test_a_link_that_stays_inside_the_lexicon_is_followed(tmp_path, monkeypatch, capsys):
    """Resolve, then contain: a link to another file of the same folder is as good as the file."""
    monkeypatch.chdir(tmp_path)
    _lexicon_with(_row(path="sub/b.pose"))(tmp_path)
    (tmp_path / "lex" / "sub").mkdir()
    os.symlink("../a.pose", tmp_path / "lex" / "sub" / "b.pose")
    assert main(["translate", "cat", "--lexicon", "lex", "-o", "o.pose", "-q"]) == 0, capsys.readouterr().err
    assert len(read_pose_file(tmp_path / "o.pose")) > 0


def test_a_failed_command_removes_only_the_empty_folders_it_made(tmp_path):
    from text2asl.io import made_folders_mark, make_folder, remove_made_folders

    (tmp_path / "mine").mkdir()
    mark = made_folders_mark()
    make_folder(tmp_path / "mine" / "a" / "b")
    make_folder(tmp_path / "new" / "kept")
    (tmp_path / "new" / "kept" / "result.pose").write_bytes(b"finished")
    assert sorted(p.name for p in remove_made_folders(mark)) == ["a", "b"]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["mine", "new", "new/kept", "new/kept/result.pose"]


def test_reference_pairs_are_sampled_without_listing_them():
    """recognize against a 100,001-sign index once listed all 5e9 reference pairs (3 GB in 28 s)."""
    from text2asl.evaluation.recognize import _nth_pairs

    for n in (2, 3, 7, 40):
        listed = [(i, j) for i in range(n) for j in range(i + 1, n)]
        assert _nth_pairs(n, np.arange(len(listed))) == listed
    n = 100_001
    ks = np.random.default_rng(0).choice(n * (n - 1) // 2, 300, replace=False)
    pairs = _nth_pairs(n, ks)
    assert all(0 <= i < j < n for i, j in pairs) and len(set(pairs)) == 300


def test_a_bom_index_is_valid_utf8(tmp_path):
    _lexicon_with(_row(), encoding="utf-8-sig")(tmp_path)
    assert (tmp_path / "lex" / "index.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    lex = Lexicon(tmp_path / "lex")
    assert [e.gloss for e in lex.entries] == ["CAT"] and len(lex.load(lex.entries[0])) > 0


def test_points_that_are_nan_or_huge_count_as_missing(tmp_path):
    arr = read_pose_file(Lexicon.embedded().find("A")[0].path)
    arr.xyz[0, :10] = np.nan
    arr.xyz[1, 10:20] = 1e30
    back = to_canonical(to_pose(arr))
    assert np.isfinite(back.xyz).all() and np.abs(back.xyz).max() < 1e6
    assert (back.conf[0, :10] == 0).all() and (back.conf[1, 10:20] == 0).all()
    assert (back.conf[2] == arr.conf[2]).all()  # untouched frames keep their confidences


def test_missing_optional_dependency_is_one_line_with_the_install_command(monkeypatch, capsys):
    import importlib

    import text2asl.commands.recognize as recognize_cli

    monkeypatch.setitem(sys.modules, "skimage", None)  # `import skimage` now raises ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "skimage.metrics", raising=False)  # an earlier test may have imported it
    monkeypatch.setattr(recognize_cli, "run", lambda args: importlib.import_module("skimage.metrics"))
    assert main(["recognize", "a.pose", "--reference", "lex"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("text2asl recognize: error: scikit-image is not installed") and "pip install -e '.[eval]'" in err


def test_other_import_errors_are_not_hidden(monkeypatch):
    import text2asl.commands.recognize as recognize_cli

    def broken(args):
        raise ImportError("cannot import name 'x' from 'text2asl.nowhere'", name="text2asl.nowhere")

    monkeypatch.setattr(recognize_cli, "run", broken)
    with pytest.raises(ImportError, match="text2asl.nowhere"):
        main(["recognize", "a.pose", "--reference", "lex"])


def test_dependency_map_agrees_with_pyproject_extras():
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for module, (dist, extra) in OPTIONAL_DEPENDENCIES.items():
        pinned = {re.split(r"[=<>!~;\[ ]", req)[0].lower() for req in extras[extra]}
        assert dist.lower() in pinned, f"{module}: {dist} is not in the {extra!r} extra"


# ---- property-based: the parsers of users' files return a result or raise Text2ASLError, nothing else ----

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = st.sampled_from(["", "0", "-1", "12.5", "1e400", "-inf", "inf", "nan", "NaN", "1e30", "x", " 3 ", "0x10", "1_000"])
CELLS = st.one_of(NUMBERS, st.text(max_size=12), st.sampled_from(["a.pose", "/etc/passwd", "../a.pose", "sub/../a.pose", "C:\\x", "ase", "en", "a.mp4"]))


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(Lexicon.embedded().find("A")[0].path, folder / "a.pose")
    (folder / "videos").mkdir()
    (folder / "videos" / "a.mp4").write_bytes(b"x")
    return folder


def _accepts(parse, *args):
    try:
        return parse(*args)
    except Text2ASLError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None


@settings(FUZZ, max_examples=40)
@given(rows=st.lists(st.fixed_dictionaries({c: CELLS for c in COLUMNS}), max_size=4), bom=st.booleans(),
       junk=st.binary(max_size=8))
def test_fuzz_index_csv(fuzz_dir, rows, bom, junk):
    lines = [HEADER] + [",".join(_csv_cell(r[c]) for c in COLUMNS) for r in rows]
    data = ("\ufeff" if bom else "").encode() + "\n".join(lines).encode("utf-8", "surrogatepass") + junk
    (fuzz_dir / "index.csv").write_bytes(data)
    entries = _accepts(parse_index, fuzz_dir / "index.csv")
    for e in entries or []:
        assert e.path.resolve().parent == fuzz_dir.resolve()
        assert np.isfinite([e.start_ms, e.end_ms, e.priority]).all() and e.start_ms >= 0


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@FUZZ
@given(rows=st.lists(st.tuples(CELLS, CELLS, NUMBERS, NUMBERS), max_size=4), raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_fuzz_labels_csv(fuzz_dir, rows, raw):
    from text2asl.extract.datasets import load_labels

    path = fuzz_dir / "videos" / "labels.csv"
    text = "video,gloss,start,end\n" + "\n".join(",".join(_csv_cell(c) for c in r) for r in rows)
    path.write_bytes(raw if raw is not None else text.encode("utf-8", "surrogatepass"))
    data = _accepts(load_labels, path)
    for s in (data.samples if data else []):
        assert s.video.resolve().parent == (fuzz_dir / "videos").resolve()


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)
INSTANCES = st.fixed_dictionaries(
    {"video_id": st.one_of(st.just("a"), JSON_VALUES)},
    optional={k: JSON_VALUES for k in ("frame_start", "frame_end", "bbox", "split", "signer_id", "instance_id")},
)


@FUZZ
@given(doc=st.one_of(
    JSON_VALUES,
    st.lists(st.fixed_dictionaries({"gloss": st.one_of(st.text(max_size=6), JSON_VALUES),
                                    "instances": st.one_of(st.lists(INSTANCES, max_size=3), JSON_VALUES)}), max_size=3),
))
def test_fuzz_wlasl_json(fuzz_dir, doc):
    from text2asl.extract.datasets import load_wlasl

    (fuzz_dir / "w.json").write_text(json.dumps(doc))
    data = _accepts(load_wlasl, fuzz_dir / "w.json", fuzz_dir / "videos")
    for s in (data.samples if data else []):
        assert s.clip.bbox is None or np.isfinite(s.clip.bbox).all()


@FUZZ
@given(cut=st.integers(0, 4000), flips=st.lists(st.tuples(st.integers(0, 3999), st.integers(0, 255)), max_size=6))
def test_fuzz_pose_header(fuzz_dir, cut, flips):
    data = bytearray((fuzz_dir / "a.pose").read_bytes())
    for at, value in flips:
        data[at] = value
    if cut < 4000:
        data = data[:cut]
    (fuzz_dir / "f.pose").write_bytes(bytes(data))
    arr = _accepts(read_pose_file, fuzz_dir / "f.pose")
    if arr is not None:
        assert 0 < arr.fps <= 1000 and len(arr) > 0 and np.isfinite(arr.xyz).all() and arr.present().any()


# ---- faults: signals during a write, then a rerun; a full disk ----------------------------------------

def _cli(*argv: str, cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "text2asl", *argv], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"finished before the signal: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


LONG_TEXT = "the quick brown fox jumps over the lazy dog " * 20


def _size(path) -> int:
    """The file's size, 0 when it is gone (the output probe is removed while we look)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_signal_during_translate_then_rerun(signum, tmp_path):
    proc = _cli("translate", LONG_TEXT, "-o", "out.mp4", "-q", "--size", "64", cwd=tmp_path)
    try:
        # The check_output_path probe is a partial too, but an empty one: wait for frames to arrive.
        _wait_for(lambda: any(_size(p) > 0 for p in tmp_path.glob(".out.*.partial.mp4")), proc)
        proc.send_signal(signum)
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    err = proc.stderr.read()
    partials = list(tmp_path.glob(".out.*.partial.mp4"))
    assert not (tmp_path / "out.mp4").exists()
    if signum == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM and "terminated by signal 15" in err and err.count("\n") == 1, err
        assert partials == []
    else:
        assert code == -signal.SIGKILL and len(partials) == 1  # nothing can clean up after SIGKILL ...
    rerun = _cli("translate", "hi", "-o", "out.mp4", "-q", "--size", "64", cwd=tmp_path)
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # ... but the rerun does


def test_a_live_writers_partial_is_not_removed(tmp_path):
    from text2asl.io import atomic_path, remove_stale_partials

    with atomic_path(tmp_path / "o.pose") as tmp:
        assert remove_stale_partials(tmp_path) == [] and tmp.exists()  # locked by this writer
        tmp.write_bytes(b"x")
    assert (tmp_path / "o.pose").read_bytes() == b"x" and sorted(p.name for p in tmp_path.iterdir()) == ["o.pose"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGKILL, marks=pytest.mark.slow(seconds=6))], ids=["SIGTERM", "SIGKILL"])
def test_extract_workers_exit_when_the_parent_dies(signum, tmp_path):
    psutil = pytest.importorskip("psutil")
    from test_extract_holistic import make_video

    videos = tmp_path / "videos"
    videos.mkdir()
    for i in range(4):
        make_video(videos / f"v{i}.mp4", n_frames=4, size=64, shift=i + 1)
    proc = _cli("extract", "videos", "-o", "poses", "-j", "2", "-q", cwd=tmp_path)
    parent = psutil.Process(proc.pid)
    try:

        def started() -> bool:  # both workers past their initializer (its parent watch is a second thread)
            workers = [c for c in parent.children() if "resource_tracker" not in " ".join(_cmdline(c))]
            return len(workers) >= 2 and all(_threads(c) >= 2 for c in workers)

        _wait_for(started, proc)
        workers = parent.children(recursive=True)
        proc.send_signal(signum)  # the parent only, as `kill PID` does
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=30)
    finally:
        proc.kill()
    for p in alive:
        p.kill()
    assert alive == [], "orphaned extract workers kept running"
    if signum == signal.SIGTERM:
        return  # one rerun is enough: it is the same after either signal
    (tmp_path / "poses" / ".v0.0123abcd.partial.pose").write_bytes(b"as a killed worker leaves it")
    rerun = _cli("extract", "videos", "-o", "poses", "-j", "1", "-q", cwd=tmp_path)
    assert rerun.wait(timeout=180) == 0, rerun.stderr.read()
    assert sorted(p.name for p in (tmp_path / "poses").iterdir()) == [f"v{i}.pose" for i in range(4)]


def _threads(process) -> int:
    try:
        return process.num_threads()
    except Exception:  # gone already
        return 0


def _cmdline(process) -> list[str]:
    try:
        return process.cmdline()
    except Exception:
        return []


@pytest.mark.shared_data
def test_extracting_one_clip_prints_no_mediapipe_log_lines(real_videos, tmp_path):
    """MediaPipe's absl warnings (W0000 ... NORM_RECT without IMAGE_DIMENSIONS) come on the first frame with a person."""
    proc = _cli("extract", str(real_videos / "hello.mp4"), "-o", "poses", "--end-frame", "6", "-q", cwd=tmp_path)
    err = proc.communicate(timeout=180)[1]
    assert proc.returncode == 0, err
    assert not re.search(r"^[IW]\d{4} ", err, re.M), err
    assert (tmp_path / "poses" / "hello.pose").is_file()


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs with about 1.6 MiB free (root only; skipped where mounting is not allowed)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (mnt / "filler").write_bytes(bytes(2_500_000))
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.parametrize("name", ["out.pose", "out.gif"])
def test_full_disk_is_one_sentence_and_leaves_no_partial(name, small_disk, monkeypatch, capfd):
    monkeypatch.chdir(small_disk)
    code = main(["translate", LONG_TEXT, "-o", name, "-q", "--size", "128"])
    err = capfd.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and err[0] == f"text2asl translate: error: cannot write {name}: no space left on device; free some space or write elsewhere"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_extract_without_mediapipe_is_one_line_with_the_install_command(tmp_path, monkeypatch, capsys):
    from test_extract_holistic import make_video

    import text2asl.extract.holistic as holistic

    make_video(tmp_path / "v.mp4", n_frames=2, size=64)
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    monkeypatch.delitem(sys.modules, "pose_format.utils.holistic", raising=False)
    import pose_format.utils

    monkeypatch.delattr(pose_format.utils, "holistic", raising=False)  # `from pose_format.utils import holistic` reads it
    monkeypatch.setattr(holistic, "_WARM", [])
    assert main(["extract", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "poses"), "-j", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mediapipe is not installed" in err and "pip install -e '.[extract]'" in err, err
    assert not (tmp_path / "poses").exists(), "the failed command left its empty output folder"


def test_a_failed_writer_is_one_line_and_leaves_no_partial(tmp_path):
    from text2asl.io import atomic_path

    with pytest.raises(Text2ASLError) as err:
        with atomic_path(tmp_path / "o.mp4") as tmp:
            tmp.write_bytes(b"half")
            raise OSError("[Errno 32] Broken pipe\n\nFFMPEG COMMAND:\nffmpeg -y -f rawvideo ...\n\nFFMPEG STDERR OUTPUT:\n")
    assert str(err.value) == f"cannot write {tmp_path / 'o.mp4'}: [Errno 32] Broken pipe"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["translate", "extract", "build-lexicon", "overlay", "evaluate", "recognize"])
def test_every_numeric_option_has_a_finite_range_named_in_its_help(command):
    from pathlib import PurePath

    from text2asl.cli import build_parser

    parser = build_parser([command])
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    typed = [a for a in sub._actions if a.type is not None and not (isinstance(a.type, type) and issubclass(a.type, (str, PurePath)))]
    assert typed, f"{command} has no typed options: the test looks in the wrong place"
    for action in typed:
        assert hasattr(action.type, "range_text"), f"{command} {action.option_strings}: declare it with text2asl.options.number"
        assert action.type.range_text in (action.help or ""), f"{command} {action.option_strings}: its help must say {action.type.range_text}"


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(max_size=12), st.sampled_from(["nan", "-inf", "1e400", "1e-400", "0x1", "1_0", " 7 ", "-0", "4.0"])),
       kind=st.sampled_from([int, float]))
def test_fuzz_number_option(text, kind):
    import argparse

    from text2asl.options import number

    parse = number(kind, -5, 100, lo_open=True)
    try:
        value = parse(text)
    except argparse.ArgumentTypeError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(value, kind) and np.isfinite(value) and -5 < value <= 100


@pytest.mark.parametrize("exc, sentence", [
    (OSError(errno.EROFS, "Read-only file system", "/r/x"), "cannot write /r/x: read-only file system; give a writable folder"),
    (OSError(errno.ENOSPC, "No space left on device", "/r/x"), "cannot write /r/x: no space left on device; free some space or write elsewhere"),
    (OSError(errno.EACCES, "Permission denied", "/r/x"), "cannot open /r/x: permission denied; check its permissions and its folder's"),
    (RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)"),
     "cannot write a file: no space left on device; free some space or write elsewhere"),
    (OSError(errno.ENOENT, "No such file or directory", "/r/x"), None),  # a missing input the command should have named
    (ValueError("a bug"), None),
])
def test_which_errors_the_runner_turns_into_one_sentence(exc, sentence):
    from text2asl.io import os_error_sentence

    assert os_error_sentence(exc) == sentence
