"""Skeleton-image datasets for diffusion: captions, phase sampling, the imagefolder layout and every bad input."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from text2asl.diffusion.caption import caption, parse_caption
from text2asl.diffusion.dataset import (
    SkeletonImageDataset, load_image, make_dataset, phase_frames, read_info, read_metadata,
)
from text2asl.diffusion.fixtures import alphabet_dataset
from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.lexicon import Lexicon


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return alphabet_dataset(tmp_path_factory.mktemp("ds") / "alphabet", resolution=32, n_phases=3)


def test_caption_round_trip():
    assert caption("hello", 3, 8) == "asl skeleton, HELLO, phase 3 of 8"
    assert caption("thank you", 1, 4) == "asl skeleton, THANK-YOU, phase 1 of 4"
    assert parse_caption("asl skeleton, THANK-YOU, phase 1 of 4") == ("THANK-YOU", 1, 4)
    assert parse_caption("a photo of a cat") is None


def test_phase_frames_are_segment_centres():
    assert phase_frames(8, 4).tolist() == [1, 3, 5, 7]
    idx = phase_frames(100, 8)
    assert len(idx) == 8 and np.all(np.diff(idx) > 0) and idx[0] > 0 and idx[-1] < 99
    assert phase_frames(3, 8).tolist() == sorted(phase_frames(3, 8).tolist())  # short signs repeat frames, in order
    assert phase_frames(1, 2).tolist() == [0, 0]


def test_alphabet_dataset_layout(dataset):
    rows = read_metadata(dataset)
    info = read_info(dataset)
    assert len(rows) == 26 * 3
    assert info["n_phases"] == 3 and info["resolution"] == 32 and len(info["glosses"]) == 26
    assert all(g["duration_s"] > 0 for g in info["glosses"].values())
    a = [r for r in rows if r["gloss"] == "A"]
    assert [r["text"] for r in a] == [f"asl skeleton, A, phase {k} of 3" for k in (1, 2, 3)]
    assert [r["frame"] for r in a] == sorted(r["frame"] for r in a)
    img = load_image(dataset / a[0]["file_name"], 32)
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert (img < 250).any() and (img == 255).any()  # a skeleton drawn on a white canvas
    # the imagefolder convention: one JSON object per line with file_name relative to the folder
    first = json.loads((dataset / "metadata.jsonl").read_text().splitlines()[0])
    assert set(first) >= {"file_name", "text"} and not os.path.isabs(first["file_name"])


def test_dataset_items_are_not_augmented(dataset):
    from text2asl.diffusion.tiny import build_word_tokenizer

    rows = read_metadata(dataset)
    tok = build_word_tokenizer(r["text"] for r in rows)
    ds = SkeletonImageDataset(dataset, tok, 32)
    for i in (0, 5, len(ds) - 1):
        item = ds[i]
        img = load_image(dataset / rows[i]["file_name"], 32)
        back = ((item["pixel_values"].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
        np.testing.assert_array_equal(back, img)  # no flip, no crop jitter: the rendered frame itself
        assert item["input_ids"].shape == (77,)
    assert not np.array_equal(ds.image(0), ds.image(0)[:, ::-1])  # a flip would be detectable


def test_resize_keeps_whole_canvas(dataset):
    rows = read_metadata(dataset)
    big = load_image(dataset / rows[0]["file_name"], 64)
    assert big.shape == (64, 64, 3)


def test_rerun_keeps_finished_images_and_rejects_other_settings(dataset, tmp_path):
    target = dataset / read_metadata(dataset)[0]["file_name"]
    before = target.stat().st_mtime_ns
    make_dataset([Lexicon.embedded()], dataset, resolution=32, n_phases=3, progress=False)
    assert target.stat().st_mtime_ns == before
    with pytest.raises(Text2ASLError, match="other settings"):
        make_dataset([Lexicon.embedded()], dataset, resolution=48, n_phases=3, progress=False)


@pytest.mark.parametrize("case", ["missing", "no-metadata", "empty", "missing-image", "bad-json", "no-caption"])
def test_bad_dataset_folders(tmp_path, case):
    folder = tmp_path / "ds"
    if case != "missing":
        folder.mkdir()
    meta = folder / "metadata.jsonl"
    if case == "empty":
        meta.write_text("\n")
    elif case == "missing-image":
        meta.write_text(json.dumps({"file_name": "HELLO/0_phase1.png", "text": caption("HELLO", 1, 8)}) + "\n")
    elif case == "bad-json":
        meta.write_text("{not json\n")
    elif case == "no-caption":
        meta.write_text(json.dumps({"file_name": "x.png"}) + "\n")
    expected = {"missing": "does not exist", "no-metadata": "has no metadata.jsonl", "empty": "is empty",
                "missing-image": "HELLO/0_phase1.png", "bad-json": "line 1", "no-caption": "line 1"}[case]
    with pytest.raises(Text2ASLError, match=expected):
        read_metadata(folder)


def test_make_dataset_bad_input(tmp_path):
    with pytest.raises(Text2ASLError, match="no lexicon"):
        make_dataset([], tmp_path / "out")
    with pytest.raises(Text2ASLError, match="does not exist"):
        make_dataset([tmp_path / "nowhere"], tmp_path / "out")


def test_make_dataset_cli(tmp_path, capsys):
    from text2asl.cli import main

    assert main(["make-dataset", "--lexicon", "embedded", "-o", str(tmp_path / "ds"), "--resolution", "16",
                 "--phases", "1", "--quiet"]) == 0
    assert "26 images of 26 glosses" in capsys.readouterr().out
    assert main(["make-dataset", "--lexicon", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_real_lexicon_dataset(word_lexicon, tmp_path):
    out = make_dataset([word_lexicon], tmp_path / "app", resolution=32, n_phases=2, progress=False)
    info = read_info(out)
    assert len(info["glosses"]) == 100 and {"HELLO", "BOOK", "A"} <= set(info["glosses"])
    assert len(read_metadata(out)) == 200
