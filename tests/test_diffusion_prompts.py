"""The diffusion track prompts the signs its model knows as those glosses, and captions its frames."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.diffusion.generate import caption_frames, known_glosses, prompt_glosses
from text2asl.text_to_gloss import text_to_gloss

KNOWN = {"HELLO": {}, "THANK": {}, "THANK-YOU": {}, "GOOD-MORNING": {}, "A": {}}


@pytest.mark.parametrize("glosses, expected", [
    (["HELLO", "THANK", "YOU"], ["HELLO", "THANK-YOU"]),  # the longest run the model knows wins
    (["THANK", "ME"], ["THANK", "ME"]),  # unknown glosses stay (expand_glosses spells them)
    (["GOOD", "MORNING", "fs-SAM"], ["GOOD-MORNING", "fs-SAM"]),
    (["fs-HELLO", "YOU"], ["fs-HELLO", "YOU"]),  # a name stays spelled
    ([], []),
])
def test_prompt_glosses_prefers_what_the_model_knows(glosses, expected):
    assert prompt_glosses(glosses, KNOWN) == expected


@pytest.mark.parametrize("text, expected", [
    ("Hello, thank you.", ["HELLO", "THANK-YOU"]),
    ("I need food, goodbye!", ["ME", "NEED", "FOOD", "GOODBYE"]),  # ME: not trained, spelled later
])
def test_the_shipped_base_gets_its_own_glosses_without_a_lexicon(text, expected):
    known = known_glosses("tiny-asl")
    assert {"HELLO", "THANK-YOU"} <= set(known)
    assert prompt_glosses(text_to_gloss(text).glosses, known) == expected


def test_caption_frames_names_the_sign_on_its_own_frames():
    fps, durations = 10.0, [0.5, 0.8]
    frames = [np.full((128, 128, 3), 255, np.uint8) for _ in range(13)]
    out = list(caption_frames(iter(frames), ["HELLO", "THANK-YOU"], durations, fps))
    assert len(out) == 13 and all(f.shape == (128, 128, 3) for f in out)
    top = [f[:24].copy() for f in out]
    assert all((t < 200).any() for t in top), "every frame has a caption"
    assert all((f[40:] == 255).all() for f in out), "only the caption strip is drawn on"
    assert all((top[i] == top[0]).all() for i in range(5))  # 0.5 s of HELLO
    assert all((top[i] == top[5]).all() for i in range(5, 13)) and not (top[4] == top[5]).all()
    assert (frames[0] == 255).all(), "the input frames are not drawn on"
