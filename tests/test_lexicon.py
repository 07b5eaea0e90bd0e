"""Lexicon folders: reading index.csv, matching by gloss/words/lemma, and every malformed-lexicon error."""
import numpy as np
import pytest
from pose_format import Pose

from helpers import make_lexicon
from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.gloss_to_pose.lookup import plan_signs
from text2asl.pipeline import translate
from text2asl.poses.layout import N_POINTS, read_pose_file, to_canonical


def test_embedded_alphabet_is_the_real_asl_alphabet_from_the_wheel():
    alphabet = Lexicon.embedded()
    letters = sorted(e.gloss for e in alphabet.entries)
    assert letters == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert "spoken_to_signed" in str(alphabet.path)
    arr = alphabet.load(alphabet.find("a")[0])
    assert arr.xyz.shape[1:] == (N_POINTS, 3) and arr.fps == 25
    assert (arr.conf[:, 501:543] > 0).any()  # a hand is there


def test_match_by_gloss_words_lemma_and_multiword(tmp_path):
    lex = Lexicon(make_lexicon(tmp_path / "lex", {"book": "b", "thank you": "t", "run": "r"}))
    assert lex.find("BOOK")[0].words == "book"
    assert lex.find("books")[0].words == "book"  # lemma
    assert lex.find("running")[0].words == "run"
    assert lex.find("THANK-YOU")[0].words == "thank you"
    plan = plan_signs(["THANK", "YOU", "BOOK", "fs-ANN"], ["thank", "you", "books", "Ann"], [lex, Lexicon.embedded()], Lexicon.embedded())
    assert plan.glosses == ["THANK-YOU", "BOOK", "fs-ANN"]
    assert [c.kind for c in plan.coverage] == ["lexicon", "lexicon", "fingerspelled"]


def test_priority_order_and_lexicon_order(tmp_path):
    a = make_lexicon(tmp_path / "a", {"cat": "c"}, [dict(path="cat.pose", spoken_language="en", signed_language="ase", start=0, end=0, words="cat", glosses="CAT", priority=-1)])
    lex_a = Lexicon(a)
    assert lex_a.find("cat")[0].priority == -1  # lower priority value wins
    b = Lexicon(make_lexicon(tmp_path / "b", {"cat": "k"}))
    plan = plan_signs(["CAT"], ["cat"], [b, lex_a], Lexicon.embedded())
    assert plan.coverage[0].lexicon == "b"


def test_start_end_ms_cut_the_file(tmp_path):
    folder = make_lexicon(tmp_path / "lex", {"x": "a"}, [dict(path="x.pose", spoken_language="en", signed_language="ase", start=0, end=400, words="short", glosses="SHORT", priority=0)])
    lex = Lexicon(folder)
    whole, short = lex.load(lex.find("x")[0]), lex.load(lex.find("short")[0])
    assert len(short) == 10 and len(whole) > len(short)  # 400 ms at 25 fps


def test_missing_folder_and_index(tmp_path):
    with pytest.raises(Text2ASLError, match="does not exist"):
        Lexicon(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(Text2ASLError, match="no index.csv"):
        Lexicon(tmp_path / "empty")


def test_missing_column_is_named(tmp_path):
    folder = make_lexicon(tmp_path / "lex", {"x": "a"})
    lines = (folder / "index.csv").read_text().splitlines()
    (folder / "index.csv").write_text("\n".join(l.rsplit(",", 3)[0].replace(",words", ",wordz") for l in lines))
    with pytest.raises(Text2ASLError, match=r"index.csv lacks the columns? .*words"):
        Lexicon(folder)


def test_row_naming_a_missing_file_names_file_and_row(tmp_path):
    folder = make_lexicon(tmp_path / "lex", {"x": "a", "y": "b"})
    (folder / "y.pose").unlink()
    with pytest.raises(Text2ASLError, match=r"row 2 names y.pose"):
        Lexicon(folder)


def test_corrupt_pose_names_file_and_row(tmp_path):
    folder = make_lexicon(tmp_path / "lex", {"x": "a", "y": "b"})
    (folder / "y.pose").write_bytes(b"\x00garbage" * 10)
    lex = Lexicon(folder)
    with pytest.raises(Text2ASLError, match=r"row 2: .*y.pose is not a readable .pose file"):
        lex.load(lex.find("y")[0])


def test_holistic_variants_are_reconciled(asl_app_lexicon):
    alphabet = Lexicon.embedded()
    refined = Pose.read(alphabet.find("a")[0].path.read_bytes())  # 586 points, refined face + world
    assert refined.body.data.shape[2] == 586
    app = read_pose_file(asl_app_lexicon / "hello.pose")  # 543 points, 4 components
    ours = to_canonical(refined)
    assert ours.xyz.shape[1] == app.xyz.shape[1] == N_POINTS
    np.testing.assert_allclose(ours.xyz[:, :33], np.ma.getdata(refined.body.data)[:, 0, :33], rtol=1e-6)


@pytest.mark.parametrize("text, gloss, recorded", [("I eat.", "EAT", "FOOD"), ("We drive.", "DRIVE", "CAR"),
                                                  ("Sit on the chair.", "CHAIR", "SIT")])
def test_a_noun_verb_pair_signs_with_the_recorded_half(tmp_path, text, gloss, recorded):
    pair = make_lexicon(tmp_path / "pair", {recorded.lower(): "b"})
    t = translate(text, lexicons=[pair], embedded_words=False)
    hit = next(c for c in t.coverage if c.gloss == gloss)
    assert (hit.kind, hit.lexicon, hit.signed_as) == ("lexicon", "pair", gloss)
    assert hit.reason == f"the sign of {recorded}, its noun-verb pair"
    both = make_lexicon(tmp_path / "both", {gloss.lower(): "c"})  # a recording of the word itself wins
    hit = next(c for c in translate(text, lexicons=[pair, both], embedded_words=False).coverage if c.gloss == gloss)
    assert (hit.lexicon, hit.reason) == ("both", "")
