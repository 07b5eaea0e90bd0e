"""The face stays on the head, missing faces are filled with the neutral one, a resting arm keeps its forearm,
and a hand lost mid-sign stays on its wrist."""
import numpy as np
import pytest

from text2asl.figures import MIXED_LEXICON_TEXT
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.gloss_to_pose.rest import fill_face, neutral_face, rest_arms

from text2asl.pipeline import save, translate
from text2asl.poses.filters import HAND_WRIST_MAX, carry_hands
from text2asl.poses.face import align_face, brow_height
from text2asl.poses.layout import (  # noqa: I001
    FACE, LEFT_EAR, LEFT_ELBOW, LEFT_HAND, LEFT_WRIST, NOSE, RIGHT_EAR, RIGHT_ELBOW, RIGHT_HAND, RIGHT_WRIST,
    read_pose_file,
)
from text2asl.poses.normalize import normalize

NOSE_TIP = FACE.start + 1


def nose_offsets(arr) -> np.ndarray:
    """Face nose tip to body nose, in ear widths, over the frames that have both."""
    ok = (arr.conf[:, NOSE_TIP] > 0) & (arr.conf[:, NOSE] > 0) & (arr.conf[:, LEFT_EAR] > 0) & (arr.conf[:, RIGHT_EAR] > 0)
    ears = np.linalg.norm(arr.xyz[ok, LEFT_EAR, :2] - arr.xyz[ok, RIGHT_EAR, :2], axis=1)
    return np.linalg.norm(arr.xyz[ok, NOSE_TIP, :2] - arr.xyz[ok, NOSE, :2], axis=1) / ears


def test_mixed_lexicon_sentence_keeps_the_face_on_the_head(asl_app_lexicon):
    arr = translate(MIXED_LEXICON_TEXT, lexicons=[asl_app_lexicon]).sequence()
    d = nose_offsets(arr)
    assert len(d) == len(arr)  # every frame has a face (missing ones are filled)
    assert np.percentile(d, 95) < 0.08


def test_align_face_moves_a_displaced_mesh_back_onto_the_body_nose():
    letter = normalize(Lexicon.embedded().load(Lexicon.embedded().find("A")[0]))
    shifted = letter.copy()
    shifted.xyz[:, FACE, :2] += np.array([0.05, -0.04], np.float32)  # 0.1+ ear widths off
    assert np.median(nose_offsets(shifted)) > 0.1
    assert np.percentile(nose_offsets(align_face(shifted)), 95) < 0.02


def test_fill_face_puts_the_neutral_face_on_frames_without_one():
    letter = normalize(Lexicon.embedded().load(Lexicon.embedded().find("B")[0]))
    lost = letter.copy()
    lost.conf[::2, FACE] = 0.0
    filled = fill_face(lost)
    assert (filled.conf[:, NOSE_TIP] > 0).all()
    assert (filled.conf[1::2, FACE] == lost.conf[1::2, FACE]).all()  # recorded faces are kept
    only_filled = filled.copy()
    only_filled.xyz, only_filled.conf = filled.xyz[::2], filled.conf[::2]
    assert np.percentile(nose_offsets(only_filled), 95) < 0.02
    template, has = neutral_face()
    assert has.sum() > 400 and np.isfinite(template[has]).all()
    assert 0.4 < np.nanmedian(brow_height(filled.xyz[::2], filled.conf[::2])) < 1.2


@pytest.mark.parametrize("text", ["Hello, my name is Sam and I like pizza.", "My name is Ann."])
def test_demo_pose_has_both_wrists_wherever_the_elbows_are(tmp_path, text):
    out = save(translate(text), tmp_path / "demo.pose")
    arr = read_pose_file(out)
    for elbow, wrist in ((LEFT_ELBOW, LEFT_WRIST), (RIGHT_ELBOW, RIGHT_WRIST)):
        assert not ((arr.conf[:, elbow] > 0) & (arr.conf[:, wrist] <= 0)).any()
    assert (arr.conf[:, LEFT_HAND] > 0).all(axis=1).mean() > 0.95  # the resting hand is drawn too


def test_rest_arms_hangs_the_forearm_below_the_elbow_and_keeps_detected_wrists():
    letter = normalize(Lexicon.embedded().load(Lexicon.embedded().find("C")[0]))
    assert (letter.conf[:, LEFT_WRIST] == 0).all()
    rested = rest_arms(letter, rest_line=1.1)
    fore = rested.xyz[:, LEFT_WRIST, :2] - rested.xyz[:, LEFT_ELBOW, :2]
    assert (fore[:, 1] > 0.4).all()  # hangs down, about a forearm long
    assert (np.linalg.norm(fore, axis=1) < 1.0).all()
    hand = rested.xyz[:, LEFT_HAND, 1]
    assert (hand.mean(axis=1) > rested.xyz[:, LEFT_WRIST, 1]).all()  # fingers below the wrist
    right = letter.conf[:, RIGHT_WRIST] > 0
    assert np.array_equal(rested.xyz[right, RIGHT_WRIST], letter.xyz[right, RIGHT_WRIST])


def _moving_hand_sign(n: int = 12):
    """A right hand detected in every frame beside a right wrist moving right by 0.02 sw a frame."""
    sign = normalize(Lexicon.embedded().load(Lexicon.embedded().find("A")[0]))
    arr = sign.copy()
    arr.xyz, arr.conf = np.repeat(sign.xyz[:1], n, axis=0), np.repeat(sign.conf[:1], n, axis=0)
    step = np.zeros((n, 1, 3), np.float32)
    step[:, 0, 0] = 0.02 * np.arange(n)
    arr.xyz[:, [RIGHT_WRIST]] += step
    arr.xyz[:, RIGHT_HAND] += step
    return arr


# (frames whose right hand is lost, frames whose right hand is swapped to the other side of the body)
LOST = [(range(0, 5), ()), (range(8, 12), ()), (range(2, 11), ()), ((), (6,)), (range(0, 3), (4, 9))]


@pytest.mark.parametrize("lost, swapped", LOST)
def test_a_lost_or_swapped_hand_is_the_nearest_good_one_moved_with_its_wrist(lost, swapped):
    truth = _moving_hand_sign()
    damaged = truth.copy()
    damaged.conf[list(lost), RIGHT_HAND] = 0
    damaged.xyz[list(swapped), RIGHT_HAND, 0] += 0.9  # the hand model latched onto the other hand
    carried = carry_hands(damaged)
    # the hand's shape is the same in every frame, so carrying it with the wrist restores it exactly
    assert np.allclose(carried.xyz[:, RIGHT_HAND], truth.xyz[:, RIGHT_HAND], atol=1e-5)
    assert (carried.conf[:, RIGHT_HAND] > 0).any(axis=1).all()
    good = [t for t in range(len(truth)) if t not in lost and t not in swapped]
    assert np.array_equal(carried.xyz[good], damaged.xyz[good]) and np.array_equal(carried.conf[good], damaged.conf[good])


def test_a_hand_never_seen_or_without_its_wrist_is_left_missing():
    arr = _moving_hand_sign()
    arr.conf[:, RIGHT_HAND] = 0  # never detected: nothing to carry
    assert np.array_equal(carry_hands(arr).conf, arr.conf)
    arr = _moving_hand_sign()
    arr.conf[3:6, RIGHT_HAND] = 0
    arr.conf[3:6, RIGHT_WRIST] = 0  # the arm is lost too: nothing to carry it with
    assert np.array_equal(carry_hands(arr).conf, arr.conf)


def test_want_keeps_its_left_hand_on_its_wrist(word_lexicon):
    """The embedded WANT: no left hand for its first 26 frames, then one frame with the hands swapped."""
    arr = translate("I want water.", lexicons=[word_lexicon]).sequence()
    for hand, wrist in ((LEFT_HAND, LEFT_WRIST), (RIGHT_HAND, RIGHT_WRIST)):
        signing = arr.conf[:, wrist] > 0
        assert (arr.conf[signing][:, hand] > 0).any(axis=1).all()
        reach = np.linalg.norm(arr.xyz[signing][:, hand.start, :2] - arr.xyz[signing][:, wrist, :2], axis=1)
        assert reach.max() <= HAND_WRIST_MAX


def test_a_resting_wrist_carries_no_signing_hand():
    """Below the rest line a lost hand is left to rest_arms (a relaxed hand), not given the signing handshape."""
    arr = _moving_hand_sign()
    arr.conf[3:6, RIGHT_HAND] = 0
    arr.xyz[3:6, RIGHT_WRIST, 1] = 1.5  # the arm hangs down in those frames
    carried = carry_hands(arr, rest_line=1.1)
    assert (carried.conf[3:6, RIGHT_HAND] == 0).all()
    assert np.array_equal(carried.xyz[3:6, RIGHT_HAND], arr.xyz[3:6, RIGHT_HAND])
    assert (carry_hands(arr, rest_line=2.0).conf[3:6, RIGHT_HAND] > 0).any(axis=1).all()  # above a lower line it is carried
