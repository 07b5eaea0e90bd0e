"""Built indexing signs: pronouns (ME, YOU, HE ...) and possessives (MY, YOUR, HIS ...) as points and flat palms.

No lexicon we ship records pronouns, and fingerspelling them (fs-ME for "I") is something no signer
does. So they are built: a handshape the loaded lexicons already have (the index-finger "1" from a
lexicon's ONE, else the letter D; the flat hand from the letter B) is turned and placed relative to
the body, and the arm follows by two-bone inverse kinematics, so elbow and wrist stay plausible.

Coordinates are the normalised frame of `poses.normalize`: shoulder centre at 0, shoulder width 1,
x to the image right (the signer's left), y down, z away from the viewer (MediaPipe's sign). A
built sign has real depth: the torso lies in the plane z = 0, the chest surface at `CHEST_Z`, and
the viewer is toward -z. The signer's right hand signs (it shows on the image's left).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.lexicon import Lexicon, LexiconEntry
from text2asl.poses.layout import (BODY, LEFT_HAND, LEFT_HIP, LEFT_SHOULDER, RIGHT_HAND, RIGHT_HIP, RIGHT_SHOULDER,
                                   RIGHT_WRIST, PoseArray)
from text2asl.poses.retarget import SIGNER

# Hand landmarks (MediaPipe numbering within a hand).
WRIST, THUMB_MCP, INDEX_MCP, INDEX_TIP, MIDDLE_MCP, RING_MCP, PINKY_MCP = 0, 2, 5, 8, 9, 13, 17
PALM = (WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP)
RIGHT_ELBOW, RIGHT_PINKY, RIGHT_INDEX, RIGHT_THUMB = 14, 18, 20, 22  # body landmarks of the signing arm

# The arm is the one signer's (retarget.SIGNER, in shoulder widths). The source's own 2-D bone lengths
# are used when longer, since a projection is never longer than the bone.
TORSO = 1.4  # shoulder line to hip line, when the source has no hips
STERNUM_DOWN = 0.3  # the sternum's height: this fraction of the way from the shoulder line to the hips
CHEST_Z = -0.12  # the chest surface lies this far in front of the shoulder joints
ELBOW_POLE = np.array([-0.45, 1.0, 0.35])  # the elbow hangs down, out to the right and a little back

HANDSHAPES = {"1": ("ONE", "D"), "B": ("B",)}  # lexicon glosses that hold each handshape, best first


@dataclass(frozen=True)
class IndexSign:
    """How one built sign moves: the contact point travels start -> via -> end (a quadratic arc).

    For "1" the contact point is the index fingertip and `point` the index finger's direction; for
    "B" it is the palm's centre and `point` the fingers' direction. `palm` is the direction the palm
    faces. Positions are relative to the sternum; directions need not be unit length.
    """

    handshape: str  # "1" | "B"
    start: tuple[float, float, float]
    via: tuple[float, float, float]
    end: tuple[float, float, float]
    point: tuple[tuple[float, float, float], tuple[float, float, float]]  # at the start, at the end
    palm: tuple[tuple[float, float, float], tuple[float, float, float]]
    hold_s: float = 0.3  # the end is held this long
    move_s: float = 0.28


def _still(handshape, start, end, point, palm, **kw) -> IndexSign:
    mid = tuple((a + b) / 2 for a, b in zip(start, end))
    return IndexSign(handshape, start, mid, end, (point, point), (palm, palm), **kw)


# A flat recorded hand seen edge-on is a line, so each direction leans where ASL allows toward a
# view of the hand: YOU points at the viewer but a little up, the palm of a side point faces forward.
_ME = _still("1", (-0.3, 0.05, -0.45), (0.0, 0.0, 0.0), (0.6, 0.25, 0.75), (0.0, 0.3, -1.0))
_YOU = _still("1", (-0.3, 0.05, -0.7), (-0.25, -0.1, -1.15), (0.15, -0.45, -0.85), (0.0, 0.85, -0.5))
_THIRD = _still("1", (-0.7, 0.0, -0.6), (-1.4, -0.1, -0.65), (-1.0, 0.05, -0.35), (-0.35, 0.3, -1.0))
_MY = _still("B", (-0.25, 0.05, -0.4), (0.0, 0.0, -0.05), (1.0, -0.6, 0.0), (0.0, 0.0, 1.0))
_YOUR = _still("B", (-0.35, 0.1, -0.7), (-0.3, -0.05, -1.1), (0.0, -1.0, -0.2), (0.0, 0.0, -1.0))
_THIRD_POSS = _still("B", (-0.7, 0.05, -0.55), (-1.35, -0.05, -0.6), (0.0, -1.0, -0.1), (-0.7, 0.0, -0.7))
_WE = IndexSign("1", (-0.3, 0.0, 0.0), (0.0, -0.05, -0.55), (0.3, 0.0, 0.0),
                ((0.6, 0.25, 0.75), (-0.5, 0.25, 0.8)), ((0.0, 0.3, -1.0), (0.0, 0.3, -1.0)), hold_s=0.16, move_s=0.5)
_THEY = IndexSign("1", (-0.55, -0.05, -1.15), (-1.3, -0.05, -1.15), (-1.45, -0.05, -0.45),
                  ((-0.4, -0.2, -1.0), (-1.0, 0.05, -0.3)), ((0.0, 1.0, -0.3), (-0.35, 0.3, -1.0)), hold_s=0.16, move_s=0.5)
_OUR = IndexSign("B", (-0.3, 0.0, -0.05), (0.0, -0.05, -0.55), (0.3, 0.0, -0.05),
                 ((0.0, -1.0, 0.0), (0.0, -1.0, 0.0)), ((0.0, 0.0, 1.0), (0.0, 0.0, 1.0)), hold_s=0.16, move_s=0.5)
_THEIR = IndexSign("B", (-0.55, 0.0, -1.1), (-1.25, 0.0, -1.1), (-1.4, 0.0, -0.45),
                   ((0.0, -1.0, -0.1), (0.0, -1.0, -0.1)), ((-0.3, 0.0, -1.0), (-0.7, 0.0, -0.7)), hold_s=0.16, move_s=0.5)

SIGNS: dict[str, IndexSign] = {
    "ME": _ME, "YOU": _YOU, "HE": _THIRD, "SHE": _THIRD, "IT": _THIRD,
    "WE": _WE, "US": _WE, "THEY": _THEY, "THEM": _THEY,
    "MY": _MY, "MINE": _MY, "YOUR": _YOUR, "YOURS": _YOUR,
    "HIS": _THIRD_POSS, "HER": _THIRD_POSS, "HERS": _THIRD_POSS, "ITS": _THIRD_POSS,
    "OUR": _OUR, "OURS": _OUR, "THEIR": _THEIR, "THEIRS": _THEIR,
}


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / max(float(np.linalg.norm(v)), 1e-9)


def sternum(xyz: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(3,) the sternum's surface point of one (543, 3) frame: between the shoulders, `STERNUM_DOWN` toward the hips."""
    shoulders = (xyz[LEFT_SHOULDER] + xyz[RIGHT_SHOULDER]) / 2
    if conf[LEFT_HIP] > 0 and conf[RIGHT_HIP] > 0:
        down = float((xyz[LEFT_HIP, 1] + xyz[RIGHT_HIP, 1]) / 2 - shoulders[1])
    else:
        down = TORSO * float(np.linalg.norm((xyz[LEFT_SHOULDER] - xyz[RIGHT_SHOULDER])[:2]))
    return np.array([shoulders[0], shoulders[1] + STERNUM_DOWN * down, CHEST_Z])


def two_bone_ik(shoulder: np.ndarray, target: np.ndarray, upper: float, fore: float,
                pole: np.ndarray = ELBOW_POLE) -> tuple[np.ndarray, np.ndarray]:
    """(elbow, wrist) for an arm of bone lengths `upper`, `fore` reaching from `shoulder` toward `target`.

    The elbow bends toward `pole`. An unreachable target is clamped to the arm's reach (the wrist then
    stops short, along the same line), so both bones always keep their lengths.
    """
    d = target - shoulder
    dist = float(np.linalg.norm(d))
    u = d / dist if dist > 1e-9 else _unit(pole)
    dist = float(np.clip(dist, abs(upper - fore) + 1e-6, upper + fore - 1e-6))
    along = (upper**2 - fore**2 + dist**2) / (2 * dist)
    radius = float(np.sqrt(max(upper**2 - along**2, 0.0)))
    side = pole - np.dot(pole, u) * u
    side = _unit(side) if np.linalg.norm(side) > 1e-6 else _unit(np.cross(u, [1.0, 0.0, 0.0]))
    return shoulder + along * u + radius * side, shoulder + dist * u


def _frame(forward: np.ndarray, palm: np.ndarray) -> np.ndarray:
    """3x3 right-handed basis with columns (across, forward, palm), across = thumb-side for a right hand."""
    f = _unit(forward)
    p = _unit(palm - np.dot(palm, f) * f)
    return np.stack([np.cross(f, p), f, p], axis=1)


@dataclass
class Handshape:
    """A right hand's 21 points relative to its wrist, in shoulder units, and its own basis."""

    points: np.ndarray  # (21, 3)
    basis: np.ndarray  # (3, 3) columns (across, forward, palm) of the source hand
    contact: np.ndarray  # (3,) the contact point relative to the wrist, in the source hand
    source: PoseArray  # the one-frame source clip (its body and face are kept)
    label: str  # "ONE (asl-app-lexicon)", for the coverage report


def handshape_from(clip: PoseArray, shape: str, label: str) -> Handshape | None:
    """The handshape of a one-frame clip (a held letter); a left hand is mirrored; None without a hand."""
    xyz, conf = clip.xyz[-1].astype(np.float64), clip.conf[-1]
    if (conf[RIGHT_HAND] > 0).all():
        hand = xyz[RIGHT_HAND].copy()
    elif (conf[LEFT_HAND] > 0).all():
        hand = xyz[LEFT_HAND] * np.array([-1.0, 1.0, 1.0])  # mirrored into a right hand
    else:
        return None
    hand -= hand[WRIST]
    across = hand[INDEX_MCP] - hand[PINKY_MCP]
    forward = hand[INDEX_TIP] - hand[INDEX_MCP] if shape == "1" else hand[MIDDLE_MCP]
    f = _unit(forward)
    a = _unit(across - np.dot(across, f) * f)
    basis = np.stack([a, f, np.cross(a, f)], axis=1)  # palm = across x forward for a right hand
    contact = hand[INDEX_TIP] if shape == "1" else hand[list(PALM)].mean(axis=0)
    return Handshape(hand, basis, contact, clip, label)


def find_handshape_entry(shape: str, lexicons: list[Lexicon]) -> tuple[Lexicon, LexiconEntry] | None:
    """The first (lexicon, entry) in priority order whose recording shows a whole hand holding `shape`
    (ONE before D for "1", B for "B"); None when no lexicon has it."""
    for gloss in HANDSHAPES[shape]:
        for lex in lexicons:
            for entry in lex.find(gloss)[:1]:
                hands = lex.load(entry).conf
                if (hands[:, RIGHT_HAND] > 0).all(axis=1).any() or (hands[:, LEFT_HAND] > 0).all(axis=1).any():
                    return lex, entry
    return None


def built_clip(name: str, lexicon: Lexicon, entry: LexiconEntry, letter_clip, fps: float) -> PoseArray:
    """The built sign `name` with the handshape of `entry`, whose held frame `letter_clip(lexicon, entry)` gives."""
    shape = SIGNS[name].handshape
    hand = handshape_from(letter_clip(lexicon, entry), shape, f"{entry.gloss} ({lexicon.name})")
    if hand is None:
        raise Text2ASLError(f"{lexicon.path / 'index.csv'} row {entry.row} ({entry.gloss}) shows no whole hand "
                            f"in its steadiest frame, so it cannot lend its handshape to {name}; re-extract it")
    return build_clip(name, hand, fps)


def _ease(s: np.ndarray) -> np.ndarray:
    return s * s * (3 - 2 * s)


def build_clip(name: str, hand: Handshape, fps: float) -> PoseArray:
    """The built sign `name` (a key of `SIGNS`) as a normalised clip at `fps`: the move, then the hold."""
    sign = SIGNS[name]
    src_xyz, src_conf = hand.source.xyz[-1].astype(np.float64), hand.source.conf[-1]
    body = src_xyz.copy()
    body[:, 2] = 0.0  # the source's depth is per-lexicon guesswork; the torso is the plane z = 0
    anchor = sternum(body, src_conf)
    shoulder = body[RIGHT_SHOULDER]
    upper, fore = SIGNER.upper_arm, SIGNER.forearm
    if src_conf[RIGHT_SHOULDER] > 0 and src_conf[RIGHT_ELBOW] > 0 and src_conf[RIGHT_WRIST] > 0:
        upper = max(upper, float(np.linalg.norm((src_xyz[RIGHT_ELBOW] - shoulder)[:2])))
        fore = max(fore, float(np.linalg.norm((src_xyz[RIGHT_WRIST] - src_xyz[RIGHT_ELBOW])[:2])))

    n_move = max(2, int(round(sign.move_s * fps)))
    n_hold = max(1, int(round(sign.hold_s * fps)))
    s = np.concatenate([_ease(np.linspace(0.0, 1.0, n_move)), np.ones(n_hold)])
    p0, p1, p2 = (anchor + np.asarray(p, np.float64) for p in (sign.start, sign.via, sign.end))
    xyz = np.repeat(body[None], len(s), axis=0)
    conf = np.repeat(src_conf[None], len(s), axis=0).copy()
    for t, si in enumerate(s):
        contact = (1 - si) ** 2 * p0 + 2 * (1 - si) * si * p1 + si**2 * p2
        point = _unit((1 - si) * np.asarray(sign.point[0]) + si * np.asarray(sign.point[1]))
        palm = (1 - si) * np.asarray(sign.palm[0]) + si * np.asarray(sign.palm[1])
        rotation = _frame(point, palm) @ hand.basis.T
        hand_pts = hand.points @ rotation.T
        elbow, wrist = two_bone_ik(shoulder, contact - rotation @ hand.contact, upper, fore)
        hand_pts = hand_pts + wrist
        xyz[t, RIGHT_HAND] = hand_pts
        xyz[t, BODY.start + RIGHT_ELBOW] = elbow
        xyz[t, BODY.start + RIGHT_WRIST] = wrist
        xyz[t, BODY.start + RIGHT_PINKY] = hand_pts[PINKY_MCP]
        xyz[t, BODY.start + RIGHT_INDEX] = hand_pts[INDEX_MCP]
        xyz[t, BODY.start + RIGHT_THUMB] = hand_pts[THUMB_MCP]
    conf[:, RIGHT_HAND] = 1.0
    conf[:, LEFT_HAND] = 0.0  # one-handed signs: a hand the source held up would float beside the point
    for j in (RIGHT_SHOULDER, RIGHT_ELBOW, RIGHT_WRIST, RIGHT_PINKY, RIGHT_INDEX, RIGHT_THUMB):
        conf[:, BODY.start + j] = np.maximum(conf[:, BODY.start + j], 0.9)
    meta = dict(hand.source.meta, built=name, handshape=hand.label)
    return PoseArray(xyz.astype(np.float32), conf.astype(np.float32), fps, None, meta)
