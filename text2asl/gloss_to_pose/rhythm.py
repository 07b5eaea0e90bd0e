"""Sentence rhythm: pauses at commas and sentence ends, the held last sign of a yes/no question, and speed.

Every timing of the rhythm is a constant here, in seconds at speed 1 (`StitchConfig.speed` divides
them, as it divides the signs and transitions):

- a comma holds the sign before it still for `COMMA_HOLD_S`; the hands stay up;
- a sentence end holds the last sign for `SENTENCE_HOLD_S`, eases the arms down to the rest pose
  (`rest_frame`) and stays there for `SENTENCE_REST_S`: 0.4 s of stillness plus the travel;
- a yes/no question holds its last sign for `QUESTION_HOLD_S` instead, then rests as a sentence does.
  The non-manual marker of the question (raised brows) should cover that hold: `pause_frames`
  gives its length in frames;
- fingerspelled letters never go below `MIN_LETTER_HOLD_S` when the speed rises (a learner must read
  each handshape), unless the letter hold asked for is shorter still.
"""
from __future__ import annotations

import math

import numpy as np

from text2asl.gloss_to_pose.pointing import MIDDLE_MCP
from text2asl.options import SPEED_RANGE
from text2asl.poses.layout import PoseArray
from text2asl.poses.retarget import ARMS

COMMA_HOLD_S = 0.2
SENTENCE_HOLD_S = 0.15
SENTENCE_REST_S = 0.25
QUESTION_HOLD_S = 0.5
MIN_LETTER_HOLD_S = 0.2  # about 3 letters a second with the handshape transitions: still readable
PAUSES = ("comma", "sentence", "question")  # weakest to strongest: two breaks on one unit keep the stronger

# The resting arm, measured on asl-app-lexicon's 3,397 frames (100 signs) where the non-dominant wrist
# hangs more than 1.3 shoulder widths below the shoulders, after retargeting to `SIGNER`: elbow and
# wrist relative to the shoulder (x outwards, y down; medians; spread under 0.09).
REST_ELBOW = (0.157, 0.909)
REST_WRIST = (0.236, 1.665)


def check_speed(speed: float) -> float:
    """`speed` if it is in `SPEED_RANGE`, else a `Text2ASLError` naming the range."""
    from text2asl.errors import Text2ASLError

    if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:  # NaN fails too
        raise Text2ASLError(f"speed {speed} is out of range; give a value in [{SPEED_RANGE[0]}, {SPEED_RANGE[1]}]")
    return speed


def hold_frames(seconds: float, fps: float, speed: float = 1.0) -> int:
    """Frames for a still hold of `seconds` at `speed` (at least one)."""
    return max(1, int(round(seconds / speed * fps)))


def pause_frames(kind: str, fps: float, speed: float = 1.0) -> tuple[int, int]:
    """(hold, rest) frames of a pause: the last sign held still, then (after easing down) the rest pose held."""
    if kind == "comma":
        return hold_frames(COMMA_HOLD_S, fps, speed), 0
    if kind == "sentence":
        return hold_frames(SENTENCE_HOLD_S, fps, speed), hold_frames(SENTENCE_REST_S, fps, speed)
    if kind == "question":
        return hold_frames(QUESTION_HOLD_S, fps, speed), hold_frames(SENTENCE_REST_S, fps, speed)
    raise ValueError(f"unknown pause {kind!r}; expected one of {PAUSES}")


def letter_hold_s(asked_s: float, speed: float) -> float:
    """A fingerspelled letter's hold at `speed`: faster, but never below `MIN_LETTER_HOLD_S` (nor raised to it)."""
    return max(asked_s / speed, min(asked_s, MIN_LETTER_HOLD_S))


def assign_pauses(units, boundaries: dict[int, str]) -> None:
    """Set `unit.pause` from gloss boundaries (gloss index -> kind, the break after that gloss).

    A break after a gloss that no unit signs (skipped) goes to the unit before it; a unit that
    covers several breaks keeps the strongest.
    """
    for index, kind in boundaries.items():
        owner = None
        for unit in units:
            if unit.span[0] <= index:
                owner = unit
            else:
                break
        if owner is not None and PAUSES.index(kind) >= (PAUSES.index(owner.pause) if owner.pause else -1):
            owner.pause = kind


def rest_frame(xyz: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(543, 3) points and (543,) confidences with both arms hanging at rest (`REST_ELBOW`, `REST_WRIST`).

    The head, face and torso stay as they are. Each hand moves rigidly with its wrist and turns so
    that it hangs along the forearm, keeping its handshape; an arm whose shoulder is missing stays.
    """
    xyz = xyz.astype(np.float32).copy()
    conf = conf.copy()
    for shoulder, elbow, wrist, hand_body, hand in ARMS:
        if conf[shoulder] <= 0:
            continue
        outwards = 1.0 if xyz[shoulder, 0] >= 0 else -1.0  # normalised: shoulder centre at x = 0
        base = xyz[shoulder, :2]
        new_elbow = base + np.array([REST_ELBOW[0] * outwards, REST_ELBOW[1]], np.float32)
        new_wrist = base + np.array([REST_WRIST[0] * outwards, REST_WRIST[1]], np.float32)
        cols = np.r_[[wrist], list(hand_body), np.arange(hand.start, hand.stop)]
        old_wrist = xyz[wrist, :2].copy() if conf[wrist] > 0 else None
        turn = np.eye(2, dtype=np.float32)
        knuckle = hand.start + MIDDLE_MCP  # wrist -> middle knuckle is where the hand points
        if conf[hand.start] > 0 and conf[knuckle] > 0:
            old_wrist = xyz[hand.start, :2].copy()
            turn = rotation(signed_angle(xyz[knuckle, :2] - old_wrist, new_wrist - new_elbow))
        if old_wrist is not None:
            xyz[cols, :2] = (xyz[cols, :2] - old_wrist) @ turn.T + new_wrist
        xyz[elbow, :2] = new_elbow
        xyz[wrist, :2] = new_wrist
        conf[elbow] = conf[elbow] if conf[elbow] > 0 else conf[shoulder]
    return xyz, conf


def signed_angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (radians, in (-pi, pi]) that turns 2-D direction `a` onto direction `b`."""
    return math.atan2(a[0] * b[1] - a[1] * b[0], float(a[0] * b[0] + a[1] * b[1]))


def rotation(angle: float) -> np.ndarray:
    """The (2, 2) float32 matrix of a 2-D rotation by `angle` radians (points as rows: `xy @ rotation(a).T`)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]], np.float32)


def held(xyz: np.ndarray, conf: np.ndarray, n: int, fps: float) -> PoseArray:
    """`n` identical frames of one pose ((543, 3), (543,))."""
    return PoseArray(np.repeat(xyz[None], n, axis=0).astype(np.float32), np.repeat(conf[None], n, axis=0), fps)


__all__ = ["COMMA_HOLD_S", "MIN_LETTER_HOLD_S", "QUESTION_HOLD_S", "SENTENCE_HOLD_S", "SENTENCE_REST_S",
           "assign_pauses", "check_speed", "hold_frames", "held", "letter_hold_s", "pause_frames", "rest_frame", "rotation",
           "signed_angle"]
