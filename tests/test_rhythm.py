"""Sentence rhythm on the output pose: pauses at commas and sentence ends, the yes/no question hold,
--speed, and the English caption with the word being signed highlighted."""
import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.rhythm import (
    COMMA_HOLD_S, MIN_LETTER_HOLD_S, QUESTION_HOLD_S, REST_WRIST, SENTENCE_HOLD_S, SENTENCE_REST_S, hold_frames,
    rest_frame,
)
from text2asl.gloss_to_pose.stitch import StitchConfig
from text2asl.pipeline import captioned_chunks, translate
from text2asl.poses.filters import active_frames
from text2asl.poses.layout import (
    BODY, HEAD, LEFT_HAND, LEFT_SHOULDER, LEFT_WRIST, RIGHT_HAND, RIGHT_SHOULDER, RIGHT_WRIST, PoseArray,
)
from text2asl.pose_to_video.render import Caption, fit_caption

FPS = 25.0


def _chunks(text, **config):
    return list(translate(text, config=StitchConfig(fps=FPS, **config)).chunks())


# The manual articulators: arms and hands. The head and face may still move at rest (a question's
# raised brows and forward head ease out after its hold), so stillness is judged without them.
MANUAL = np.r_[HEAD.stop:BODY.stop, LEFT_HAND.start:RIGHT_HAND.stop]


def _still_tail(arr: PoseArray) -> int:
    """How many frames at the end of `arr` hold the arms and hands of its last frame."""
    xyz, conf = arr.xyz[:, MANUAL], arr.conf[:, MANUAL]
    same = (xyz == xyz[-1]).all(axis=(1, 2)) & (conf == conf[-1]).all(axis=1)
    return int(np.argmin(same[::-1])) if not same.all() else len(arr)


@pytest.mark.parametrize("text, expected", [
    ("Hello, thank you.", {0: "comma", 2: "sentence"}),
    ("Are you tired?", {1: "question"}),  # YOU TIRED: a yes/no question (no WH-word) holds its last sign
    ("Where is the bathroom?", {1: "sentence"}),  # a WH-question ends as a statement does (its face differs)
    ("I am fine, thanks. Bye", {1: "comma", 3: "sentence", 4: "sentence"}),  # ME FINE THANK YOU GOODBYE
    ("Yesterday, the dog; a cat: ok!", {0: "comma", 1: "comma", 2: "comma", 3: "sentence"}),
    ("Hello , , world", {0: "comma", 1: "sentence"}),
])
def test_text_to_gloss_marks_where_the_signing_pauses(text, expected):
    from text2asl.text_to_gloss import text_to_gloss

    result = text_to_gloss(text)
    assert result.boundaries == expected
    assert max(result.boundaries) == len(result.glosses) - 1  # the text's last sign always ends a sentence


@pytest.mark.parametrize("text, label, kind, hold_s, rest_s", [
    ("Sam, Bo.", "fs-SAM", "comma", COMMA_HOLD_S, 0),
    ("Sam, Bo.", "fs-BO", "sentence", SENTENCE_HOLD_S, SENTENCE_REST_S),
    ("Is Bo ok?", "fs-OK", "question", QUESTION_HOLD_S, SENTENCE_REST_S),
    ("Bo is ok.", "fs-OK", "sentence", SENTENCE_HOLD_S, SENTENCE_REST_S),
])
def test_pauses_hold_the_sign_then_ease_to_rest(text, label, kind, hold_s, rest_s):
    chunk = next(c for c, _ in _chunks(text) if c.meta["label"] == label)
    assert chunk.meta["pause"] == kind
    n_pause, n_hold, n_rest = chunk.meta["pause_frames"], chunk.meta["hold_frames"], hold_frames(rest_s, FPS)
    assert n_hold == hold_frames(hold_s, FPS)
    sign = chunk.slice(0, len(chunk) - n_pause)
    hold = chunk.slice(len(sign), len(sign) + n_hold)
    # the hold repeats the sign's last frame exactly
    assert (hold.xyz == sign.xyz[-1]).all() and (hold.conf == sign.conf[-1]).all()
    if rest_s == 0:  # a comma: the hands stay where the sign ended
        assert n_pause == n_hold
        return
    assert _still_tail(chunk) >= n_rest
    rest = chunk.slice(len(chunk) - n_rest, len(chunk))
    assert not active_frames(rest).any(), "at rest, no hand is above the rest line"
    assert active_frames(sign).any()
    # the way down eases in and out: it starts and ends slowly, and takes at least the shortest transition
    down = chunk.slice(len(sign) + n_hold - 1, len(chunk) - n_rest + 1)
    ok = (down.conf[1:] > 0) & (down.conf[:-1] > 0)
    step = np.where(ok, np.linalg.norm(np.diff(down.xyz[..., :2], axis=0), axis=-1), 0).max(axis=1)
    assert len(step) >= round(StitchConfig().min_transition_s * FPS) + 1
    assert step[0] < 0.35 * step.max() and step[-1] < 0.35 * step.max()


def test_a_yes_no_question_holds_its_last_sign_longer_than_a_statement():
    question = next(c for c, _ in _chunks("Is Bo ok?") if c.meta["label"] == "fs-OK")
    statement = next(c for c, _ in _chunks("Bo is ok.") if c.meta["label"] == "fs-OK")
    extra = hold_frames(QUESTION_HOLD_S, FPS) - hold_frames(SENTENCE_HOLD_S, FPS)
    assert len(question) - len(statement) == extra
    # measured on the pose: the held letter K at the end lasts its letter hold plus the pause's hold
    def held_k(c):
        sign_and_hold = c.slice(0, len(c) - c.meta["pause_frames"] + c.meta["hold_frames"])
        return _still_tail(sign_and_hold)
    assert held_k(question) - held_k(statement) == extra


@pytest.mark.parametrize("glosses, pauses", [
    ("fs-SAM fs-BO", {}),  # glosses without punctuation run on
    ("fs-SAM, fs-BO.", {"fs-SAM": "comma", "fs-BO": "sentence"}),
    ("YOU fs-BO? WHERE fs-AL ?", {"fs-BO": "question", "fs-AL": "sentence"}),  # a WH-question ends as a statement
    ("YOU fs-BO?", {"fs-BO": "question"}),
])
def test_glosses_given_directly_pause_where_they_are_punctuated(glosses, pauses):
    chunks = list(translate(glosses=glosses, config=StitchConfig(fps=FPS)).chunks())
    got = {c.meta["label"]: c.meta.get("pause") for c, _ in chunks}
    assert {k: got[k] for k in pauses} == pauses
    assert all(c.meta.get("pause") is None for c, _ in chunks if c.meta["label"] not in pauses)


@pytest.mark.parametrize("mode", ["gloss", "english", "both"])
def test_caption_modes_draw_different_captions(mode, tmp_path):
    from text2asl.cli import main
    from text2asl.pipeline import render_frames
    from text2asl.pose_to_video.render import RenderConfig

    t = translate("Hi, Bo.")
    captioned = next(render_frames(t, RenderConfig(size=256), captions=mode)).astype(int)
    bare = next(render_frames(t, RenderConfig(size=256, caption=False))).astype(int)
    drawn = (captioned != bare).any(axis=-1)
    rows = np.flatnonzero(drawn.any(axis=1))
    assert len(rows) and rows.max() < 64, "the caption is drawn at the top only"
    orange = drawn & (captioned[..., 0] > 150) & (captioned[..., 2] < 120)  # the highlighted English word
    assert orange.any() == (mode != "gloss")
    assert (rows.max() - rows.min() > 24) == (mode == "both")  # English over the gloss: two lines
    out = tmp_path / "x.gif"
    assert main(["translate", "Hi, Bo.", "--caption", mode, "--size", "64", "-q", "-o", str(out)]) == 0 and out.is_file()


@pytest.mark.parametrize("speed", [0.5, 0.8, 1.0, 1.5, 2.0])
def test_speed_scales_signing_and_transitions_but_letters_stay_readable(speed):
    base = _chunks("you me, you.")  # built signs: no lexicon needed
    fast = _chunks("you me, you.", speed=speed)
    n_base, n_fast = sum(len(c) for c, _ in base), sum(len(c) for c, _ in fast)
    assert abs(n_fast - n_base / speed) <= 0.08 * n_base / speed + 3
    # each fingerspelled letter is held at least the readable minimum, and scales with speed above it
    for c, caps in _chunks("Sam", speed=speed):
        runs = [len(list(g)) for _, g in itertools.groupby(range(len(c)), key=lambda t: (c.xyz[t].tobytes(), caps[t]))]
        letters = [r for r in runs if r > 1]
        assert len(letters) >= 3
        want = max(math.ceil(0.3 / speed * FPS - 1e-6), math.ceil(MIN_LETTER_HOLD_S * FPS - 1e-6))
        assert min(letters[:3]) == want


@pytest.mark.parametrize("speed", [0, -1, 2.5, 0.49, float("nan")])
def test_speed_out_of_range_is_one_clear_error(speed):
    with pytest.raises(Text2ASLError, match="speed"):
        translate("hi", config=StitchConfig(speed=speed))


@pytest.mark.parametrize("value", ["0.4", "2.01", "nan", "fast"])
def test_cli_refuses_a_bad_speed_before_any_work(value, tmp_path):
    out = tmp_path / "x.mp4"
    proc = subprocess.run([sys.executable, "-m", "text2asl", "translate", "hi", "--speed", value, "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--speed" in proc.stderr and not out.exists()


@pytest.mark.parametrize("text, words", [
    ("Hello, my name is Sam.", {"HELLO": "Hello", "MY": "my", "fs-NAME": "name", "fs-SAM": "Sam"}),
    ("Is 3 your number? Bye", {"THREE": "3", "YOUR": "your", "fs-NUMBER": "number", "GOODBYE": "Bye"}),
    ("Where   is\nhe?", {"HE": "he", "WHERE": "Where"}),
])
def test_english_caption_highlights_the_word_being_signed(text, words):
    t = translate(text, config=StitchConfig(fps=FPS))
    seen = {}
    for chunk, caps in captioned_chunks(t, "both"):
        n = chunk.meta["transition_frames"]
        body = caps[n:] if not chunk.meta.get("continued") else caps
        assert all(isinstance(c, Caption) for c in caps)
        for c in body:  # past the transition every frame names this unit's word, in its own sentence
            assert c.gloss.startswith(chunk.meta["label"][:20])
            assert "\n" not in c.english and c.english.strip() == c.english
            seen.setdefault(chunk.meta["label"], set()).add(c.english[c.start:c.end])
    assert {k: v for k, v in seen.items() if k in words} == {k: {w} for k, w in words.items()}


@pytest.mark.parametrize("limit", [8, 20, 30, 60, 500])
def test_a_long_sentence_is_cut_around_the_highlighted_word(limit):
    text = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat"
    start = text.index("lazy")
    before, word, after = fit_caption(Caption("", text, start, start + 4), lambda s: len(s) <= limit)
    assert word == "lazy"
    assert len(before + word + after) <= limit or (before in ("", "...") and after in ("", "..."))
    assert (before + word + after).replace("...", "") in text


def test_rest_frame_hangs_both_arms_and_keeps_the_handshape():
    t = translate("hello", config=StitchConfig(fps=FPS))
    chunk = next(iter(t.chunks()))[0]
    xyz, conf = rest_frame(chunk.xyz[0], chunk.conf[0])
    for shoulder, wrist, side in ((LEFT_SHOULDER, LEFT_WRIST, 1), (RIGHT_SHOULDER, RIGHT_WRIST, -1)):
        assert np.allclose(xyz[wrist, :2] - xyz[shoulder, :2], [REST_WRIST[0] * side, REST_WRIST[1]], atol=1e-5)
    hand = chunk.conf[0, RIGHT_HAND] > 0
    before = chunk.xyz[0, RIGHT_HAND][hand][:, :2]
    after = xyz[RIGHT_HAND][hand][:, :2]
    d = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
    assert np.allclose(d(before), d(after), atol=1e-5)


@pytest.mark.parametrize("speed", [0.5, 2.0])
def test_speed_scales_recorded_signs(speed, asl_app_lexicon):
    def frames(s):
        t = translate("Hello, my mother is tired.", lexicons=[asl_app_lexicon], config=StitchConfig(fps=FPS, speed=s))
        return {c.meta["label"]: len(c) - c.meta["transition_frames"] - c.meta.get("pause_frames", 0)
                for c, _ in t.chunks()}
    base, scaled = frames(1.0), frames(speed)
    for label in ("HELLO", "MOTHER", "TIRED"):
        assert abs(scaled[label] - base[label] / speed) <= 1
