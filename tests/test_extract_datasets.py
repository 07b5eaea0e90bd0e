"""Dataset adapters (WLASL v0.3, ASL Citizen, labels.csv), untrusted paths, splits and ranking, and a WLASL lexicon build."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from text2asl.cli import main
from text2asl.errors import Text2ASLError
from text2asl.extract.datasets import Sample, load_asl_citizen, load_labels, load_wlasl
from text2asl.io import contained_path
from text2asl.extract.lexicon_builder import Ranked, assign_splits, quality, select

# Real WLASL v0.3 instances (gloss, video_id, bbox) whose boxes fit a 320x240 frame.
WLASL_CLIPS = {"07085": "book", "07086": "book", "07087": "book", "17732": "drink"}


@pytest.fixture(scope="session")
def wlasl_json(shared_data) -> Path:
    path = shared_data / "wlasl-metadata" / "WLASL_v0.3.json"
    if not path.is_file():
        pytest.skip("../shared/data/wlasl-metadata is absent")
    return path


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- untrusted paths -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../secret.mp4", "clips/../../x.mp4", "/etc/passwd", "C:\\videos\\a.mp4",
                                  "\\\\server\\share\\a.mp4", "..\\a.mp4", ""])
def test_paths_leaving_the_videos_folder_are_refused(tmp_path, name):
    with pytest.raises(Text2ASLError):
        contained_path(tmp_path, name, "labels.csv line 2")


def test_plain_relative_paths_are_kept(tmp_path):
    assert contained_path(tmp_path, "sub/a.mp4", "x") == tmp_path / "sub" / "a.mp4"


def test_labels_csv_with_an_escaping_path_is_refused_before_reading_anything(tmp_path):
    (tmp_path / "labels.csv").write_text("video,gloss\nok.mp4,HELLO\n../../etc/passwd,BAD\n")
    with pytest.raises(Text2ASLError, match="line 3.*leaves the videos folder"):
        load_labels(tmp_path / "labels.csv")


def test_wlasl_video_id_must_be_a_plain_name(tmp_path):
    (tmp_path / "w.json").write_text(json.dumps([{"gloss": "x", "instances": [{"video_id": "../../x", "instance_id": 0}]}]))
    with pytest.raises(Text2ASLError, match="not a plain file name"):
        load_wlasl(tmp_path / "w.json", tmp_path)


# --- adapters ---------------------------------------------------------------------------------

def test_labels_folder_with_ranges_splits_signers_and_missing_videos(tmp_path):
    for name in ("hello.mp4", "book.mp4", "book2.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "labels.csv").write_text(
        "video,gloss,start,end,split,signer\n"
        "hello.mp4,hello,,,train,ann\n"
        "book.mp4,BOOK,200,1400,Validation,bob\n"
        "book2.mp4,book,,,test,\n"
        "gone.mp4,WATER,,,,\n"
    )
    data = load_labels(tmp_path / "labels.csv")
    assert [(s.id, s.gloss, s.split, s.signer) for s in data.samples] == [
        ("hello", "HELLO", "train", "ann"), ("book_200-1400", "BOOK", "val", "bob"), ("book2", "BOOK", "test", None)]
    assert data.samples[1].clip.frame_range(25) == (5, 35)
    assert [m.video for m in data.missing] == ["gone.mp4"]
    assert "1 videos missing" in data.summary()


@pytest.mark.parametrize("content, message", [
    ("clip,label\na.mp4,A\n", "lacks the column"),
    ("video,gloss,split\na.mp4,A,holdout\n", "split 'holdout'"),
    ("video,gloss,start,end\na.mp4,A,500,100\n", "ends"),
    ("video,gloss,start\na.mp4,A,soon\n", "milliseconds"),
    ("video,gloss\na.mp4,\n", "empty gloss"),
])
def test_malformed_labels_are_one_sentence_errors(tmp_path, content, message):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "labels.csv").write_text(content)
    with pytest.raises(Text2ASLError, match=message):
        load_labels(tmp_path / "labels.csv")


def test_asl_citizen_csvs_give_their_split_and_participant(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "111-HELLO.mp4").write_bytes(b"x")
    (videos / "222-HELLO.mp4").write_bytes(b"x")
    header = "Participant ID,Video file,Gloss,ASL-LEX Code\n"
    (tmp_path / "train.csv").write_text(header + "P1,111-HELLO.mp4,HELLO,A_01_001\nP3,333-BOOK.mp4,BOOK,B_01_002\n")
    (tmp_path / "test.csv").write_text(header + "P2,222-HELLO.mp4,HELLO,A_01_001\n")
    data = load_asl_citizen([tmp_path / "train.csv", tmp_path / "test.csv"], videos)
    assert [(s.id, s.split, s.signer) for s in data.samples] == [("111-HELLO", "train", "P1"), ("222-HELLO", "test", "P2")]
    assert [m.id for m in data.missing] == ["333-BOOK"]
    (tmp_path / "val.csv").write_text(header + "P4,/abs/444.mp4,HELLO,A\n")
    with pytest.raises(Text2ASLError, match="absolute"):
        load_asl_citizen(tmp_path / "val.csv", videos)


def test_wlasl_real_annotations_pair_local_clips_and_count_the_missing(wlasl_json, tmp_path):
    for vid in WLASL_CLIPS:
        (tmp_path / f"{vid}.mp4").write_bytes(b"x")
    data = load_wlasl(wlasl_json, tmp_path)
    total = sum(len(g["instances"]) for g in json.loads(wlasl_json.read_text()))
    assert total == 21083
    assert sorted(s.id for s in data.samples) == sorted(WLASL_CLIPS)
    assert len(data.missing) == total - len(WLASL_CLIPS)
    book = next(s for s in data.samples if s.id == "07085")
    assert (book.gloss, book.split, book.signer) == ("BOOK", "train", "49")
    assert book.clip.frame_range(25) == (0, None)  # frame_start 1 (1-based), frame_end -1 (to the end)
    assert book.clip.bbox == (16, 2, 235, 240)
    assert f"{total - 4} videos missing" in data.summary()
    ranged = next(i for g in json.loads(wlasl_json.read_text()) for i in g["instances"] if i["frame_end"] > 0)
    (tmp_path / f"{ranged['video_id']}.mp4").write_bytes(b"x")
    clip = next(s for s in load_wlasl(wlasl_json, tmp_path).samples if s.id == ranged["video_id"]).clip
    assert clip.frame_range(25) == (ranged["frame_start"] - 1, ranged["frame_end"])


def test_select_by_gloss_and_by_first_n(tmp_path, wlasl_json):
    data = load_wlasl(wlasl_json, tmp_path)
    book = select(data, ["Book"])
    assert not book.samples and len(book.missing) == 40
    first = select(data, limit_glosses=2)
    assert {m.gloss for m in first.missing} == {"BOOK", "DRINK"}


# --- splits and ranking -----------------------------------------------------------------------

def _ranked(gloss, ids, signers=None, splits=None):
    out = []
    for i, vid in enumerate(ids):
        s = Sample(vid, gloss, Path(f"{vid}.mp4"), split=(splits or [None] * len(ids))[i],
                   signer=(signers or [None] * len(ids))[i])
        out.append(Ranked(s, Path(f"poses/{vid}.pose"), 0.5, {}))
    return out


def test_splits_follow_the_dataset_then_signers_then_instances():
    given = _ranked("A", ["a", "b"], splits=["train", "test"])
    assert assign_splits(given) == "dataset" and [r.split for r in given] == ["train", "test"]

    people = _ranked("A", [f"a{i}" for i in range(8)], signers=[f"s{i % 4}" for i in range(8)])
    assert assign_splits(people) == "signer"
    by_signer = {}
    for r in people:
        by_signer.setdefault(r.sample.signer, set()).add(r.split)
    assert all(len(v) == 1 for v in by_signer.values())  # a signer is never split across sets
    assert {next(iter(v)) for v in by_signer.values()} == {"train", "val", "test"}

    inst = _ranked("A", ["a1", "a2", "a3", "a4"]) + _ranked("B", ["b1", "b2"]) + _ranked("C", ["c1"])
    assert assign_splits(inst) == "instance"
    per = {g: sorted(r.split for r in inst if r.sample.gloss == g) for g in "ABC"}
    assert per == {"A": ["test", "train", "train", "val"], "B": ["test", "train"], "C": ["train"]}


def test_quality_prefers_tracked_hands_and_typical_length():
    full = {"any_hand": 1.0, "body": 1.0, "face": 1.0}
    handless = {"any_hand": 0.2, "body": 1.0, "face": 1.0}
    assert quality(full, 2.0, 2.0) == pytest.approx(1.0)
    assert quality(handless, 2.0, 2.0) < quality(full, 2.0, 2.0)
    assert quality(full, 4.0, 2.0) == pytest.approx(0.75)
    assert quality(full, 1.0, 2.0) == pytest.approx(0.75)


# --- CLI --------------------------------------------------------------------------------------

def test_build_lexicon_cli_user_errors(tmp_path, capsys, wlasl_json):
    assert main(["build-lexicon", "--wlasl", str(wlasl_json), "-o", str(tmp_path / "lex")]) == 2
    assert "needs --videos" in capsys.readouterr().err
    (tmp_path / "vids").mkdir()
    assert main(["build-lexicon", "--wlasl", str(wlasl_json), "--videos", str(tmp_path / "vids"),
                 "-o", str(tmp_path / "lex"), "-q"]) == 2
    assert "none of the 21083 videos" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["build-lexicon", "--wlasl", str(tmp_path / "bad.json"), "--videos", str(tmp_path / "vids"),
                 "-o", str(tmp_path / "lex")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_wlasl_lexicon_from_a_few_local_clips(wlasl_json, tmp_path):
    pytest.importorskip("mediapipe")
    from test_extract_holistic import make_video

    from text2asl.gloss_to_pose.lexicon import Lexicon

    videos = tmp_path / "wlasl_videos"
    videos.mkdir()
    # The astronaut inside each instance's real person box, in WLASL's common 320x240 frame;
    # different lengths so the ranking has something to rank.
    for n, vid in zip((3, 4, 6, 3), WLASL_CLIPS):
        make_video(videos / f"{vid}.mp4", n_frames=n, size=200, canvas=(320, 240), at=(24, 20))
    out = tmp_path / "lexicons" / "wlasl"
    rc = main(["build-lexicon", "--wlasl", str(wlasl_json), "--videos", str(videos), "-o", str(out),
               "--glosses", "book,drink", "-j", "1", "-q"])
    assert rc == 0
    index = _rows(out / "index.csv")
    assert list(index[0]) == ["path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority"]
    assert sorted((r["glosses"], r["priority"]) for r in index) == [("BOOK", "0"), ("BOOK", "1"), ("BOOK", "2"), ("DRINK", "0")]
    splits = {Path(r["path"]).stem: r["split"] for r in _rows(out / "splits.csv")}
    assert splits == {"07085": "train", "07086": "train", "07087": "train", "17732": "train"}
    assert len(_rows(out / "missing.csv")) == 40 + 35 - 4
    lexicon = Lexicon(out)
    assert len(lexicon) == 4 and lexicon.find("book")[0].priority == 0
    assert len(lexicon.load(lexicon.find("drink")[0])) == 3
