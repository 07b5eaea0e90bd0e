"""Sub-lexicons of chosen signs and per-gloss keyframes of a skeleton dataset."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from helpers import make_lexicon

from text2asl.diffusion.dataset import gloss_keyframes, load_image, make_dataset, read_metadata
from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.gloss_to_pose.sublexicon import example_glosses, sub_lexicon


def test_sub_lexicon_keeps_only_the_chosen_signs_unchanged(tmp_path):
    alphabet = Lexicon.embedded()
    folder = sub_lexicon(alphabet, ["b", "J"], tmp_path / "two")
    small = Lexicon(folder)
    assert sorted(e.gloss for e in small.entries) == ["B", "J"]
    for entry in small.entries:
        original = alphabet.find(entry.gloss)[0]
        assert entry.path.read_bytes() == original.path.read_bytes() and entry.path.is_relative_to(folder)
        assert (entry.start_ms, entry.end_ms, entry.words) == (original.start_ms, original.end_ms, original.words)
        np.testing.assert_array_equal(small.load(entry).xyz, alphabet.load(original).xyz)
    with open(folder / "index.csv", newline="") as fh:
        paths = [row["path"] for row in csv.DictReader(fh)]
    assert all(not p.startswith("/") and ".." not in p for p in paths)  # a sub-lexicon stands on its own


def test_sub_lexicon_from_a_folder_keeps_every_instance(tmp_path):
    lex = make_lexicon(tmp_path / "lex", {"hello": "H", "water": "W"},
                       extra_rows=[{"path": "hello.pose", "spoken_language": "en", "signed_language": "ase", "start": 0,
                                    "end": 0, "words": "hello", "glosses": "HELLO", "priority": 1}])
    small = Lexicon(sub_lexicon(lex, ["Hello"], tmp_path / "sub"))
    assert [e.gloss for e in small.entries] == ["HELLO", "HELLO"]
    data = make_dataset([small.path], tmp_path / "ds", resolution=16, n_phases=2, progress=False)
    assert len(read_metadata(data)) == 4
    assert gloss_keyframes(data)["HELLO"].shape == (2, 16, 16, 3)  # the first instance only


def test_sub_lexicon_names_the_missing_gloss(tmp_path):
    with pytest.raises(Text2ASLError, match="no sign for 'HELLO'"):
        sub_lexicon(Lexicon.embedded(), ["A", "HELLO"], tmp_path / "x")
    with pytest.raises(Text2ASLError, match="no glosses"):
        sub_lexicon(Lexicon.embedded(), [], tmp_path / "x")
    assert not (tmp_path / "x" / "index.csv").exists()


def test_gloss_keyframes_are_the_phases_in_order(tmp_path):
    alphabet = Lexicon.embedded()
    data = make_dataset([sub_lexicon(alphabet, ["A", "J"], tmp_path / "lex")], tmp_path / "ds", resolution=32,
                        n_phases=3, progress=False)
    frames = gloss_keyframes(data)
    assert list(frames) == ["A", "J"]
    assert frames["J"].shape == (3, 32, 32, 3) and frames["J"].dtype == np.uint8
    assert not np.array_equal(frames["J"][0], frames["J"][2])  # J moves: first and last phase differ
    upscaled = gloss_keyframes(data, ["j"], resolution=48)
    assert list(upscaled) == ["J"] and upscaled["J"].shape == (3, 48, 48, 3)
    rows = sorted((r for r in read_metadata(data) if r["gloss"] == "J"), key=lambda r: r["phase"])
    for k, row in enumerate(rows):
        np.testing.assert_array_equal(frames["J"][k], load_image(data / row["file_name"], 32))
    with pytest.raises(Text2ASLError, match="no images of B"):
        gloss_keyframes(data, ["B"])


def test_sub_lexicon_of_the_word_lexicon(word_lexicon, tmp_path):
    small = Lexicon(sub_lexicon(word_lexicon, ["thank-you", "HELLO"], tmp_path / "app"))
    assert sorted(e.gloss for e in small.entries) == ["HELLO", "THANK YOU"]
    assert all(len(small.load(e)) > 10 for e in small.entries)


def test_example_glosses_prefer_known_signs_and_fill_up_in_order(tmp_path):
    assert example_glosses(Lexicon.embedded()) == ["J", "Z", "A", "B", "L", "Y"]
    assert len(example_glosses(Lexicon.embedded(), n=26)) == 26 == len(set(example_glosses(Lexicon.embedded(), n=26)))
    lex = make_lexicon(tmp_path / "lex", {"zebra": "Z", "water": "W", "apple": "A"})
    assert example_glosses(lex, n=2) == ["WATER", "ZEBRA"]
    assert example_glosses(lex, n=5) == ["WATER", "ZEBRA", "APPLE"]


def test_skeleton_dataset_of_example_signs_holds_just_those(tmp_path):
    from text2asl.diffusion.dataset import read_info
    from text2asl.diffusion.dataset import skeleton_dataset

    alphabet = Lexicon.embedded()
    data = skeleton_dataset([alphabet], tmp_path / "data", resolution=32, n_phases=2, n_examples=3)
    assert set(read_info(data)["glosses"]) == set(example_glosses(alphabet, 3))
    assert (tmp_path / "data-lexicon" / "index.csv").is_file()
    chosen = skeleton_dataset([alphabet], tmp_path / "two", resolution=32, n_phases=2, glosses=["B", "C"])
    assert set(read_info(chosen)["glosses"]) == {"B", "C"} and len(read_metadata(chosen)) == 4
