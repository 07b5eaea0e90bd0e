"""The signer at rest: the resting wrist and hand of an arm whose recording lost them, and the neutral face.

The embedded alphabet never detects the non-dominant wrist or hand (the hand rests below the
frame's lower edge or in the lap), while its elbow and the body model's hand points are there:
drawn as is, the upper arm ends in mid-air. `rest_arms` puts the wrist one forearm from the elbow,
toward where the body model saw the hand (or straight on from the upper arm), and hangs a relaxed
flat hand from it, palm toward the thigh, fingers along the forearm. A resting wrist whose hand is
missing (built pronouns drop the other hand) gets the hand alone.

Some recordings lose the face for part of a sign. `fill_face` puts the signer's neutral face
(`neutral_face`, the median aligned face of the embedded alphabet's letters) on the head wherever a
frame has no face, so non-manual markers can be drawn on every frame.
"""
from __future__ import annotations

import functools

import numpy as np

from text2asl.gloss_to_pose.pointing import INDEX_MCP, PINKY_MCP, THUMB_MCP, Handshape, handshape_from
from text2asl.poses.face import FEATURE_COLS, align_face, from_head, head_axes, to_head
from text2asl.poses.layout import FACE, LEFT_HAND, RIGHT_HAND, PoseArray
from text2asl.poses.normalize import normalize
from text2asl.poses.retarget import ARMS, SIGNER

REST_CONF = 0.5  # confidence of a filled point: present, but less sure than a detected one
MIRROR = np.array([-1.0, 1.0, 1.0])
NEUTRAL_LETTERS = "ABES"  # still letters (J and Z move); four give ~300 faces, a stable median, in 0.03 s


@functools.lru_cache(maxsize=1)
def rest_hand() -> Handshape | None:
    """The relaxed hand: the embedded alphabet's flat B hand (as a right hand), or None if it shows none."""
    from text2asl.gloss_to_pose.lexicon import Lexicon

    alphabet = Lexicon.embedded()
    for entry in alphabet.find("B")[:1]:
        arr = normalize(alphabet.load(entry))
        whole = np.flatnonzero((arr.conf[:, RIGHT_HAND] > 0).all(axis=1) | (arr.conf[:, LEFT_HAND] > 0).all(axis=1))
        if len(whole):
            t = int(whole[len(whole) // 2])
            return handshape_from(arr.slice(t, t + 1), "B", "B (embedded alphabet)")
    return None


def rest_arms(arr: PoseArray, rest_line: float) -> PoseArray:
    """`arr` (normalised) with a resting wrist and hand wherever an elbow has neither (a wrist below `rest_line` rests)."""
    hand = None
    out = arr
    for shoulder, elbow, wrist, body_hand, hand_cols in ARMS:
        conf = out.conf
        no_hand = ~(conf[:, hand_cols] > 0).any(axis=1)
        resting = (conf[:, wrist] <= 0) | (out.xyz[:, wrist, 1] > rest_line)  # a lost hand mid-sign is not filled
        lost = (conf[:, shoulder] > 0) & (conf[:, elbow] > 0) & no_hand & resting
        if not lost.any():
            continue
        hand = hand or rest_hand()
        if hand is None:
            return out
        if out is arr:
            out = arr.copy()
        left = hand_cols == LEFT_HAND
        flip = MIRROR if left else np.ones(3)
        seen = list(body_hand[1:])  # the body model's pinky, index and thumb points
        t = np.flatnonzero(lost)
        s, e = out.xyz[t, shoulder].astype(np.float64), out.xyz[t, elbow].astype(np.float64)
        upper = e[:, :2] - s[:, :2]
        fore = np.linalg.norm(upper, axis=1, keepdims=True) * SIGNER.forearm / SIGNER.upper_arm
        seen_all = (conf[t][:, seen] > 0).all(axis=1, keepdims=True)
        has_wrist = conf[t, wrist][:, None] > 0  # the wrist is there: only the hand is hung from it
        toward = np.where(seen_all, out.xyz[t][:, seen, :2].mean(axis=1) - e[:, :2], upper)
        toward = np.where(has_wrist, out.xyz[t, wrist, :2] - e[:, :2], toward)
        direction = toward / np.maximum(np.linalg.norm(toward, axis=1, keepdims=True), 1e-9)
        w = np.c_[e[:, :2] + fore * direction, e[:, 2]]
        w = np.where(has_wrist, out.xyz[t, wrist], w)
        forward = np.c_[direction, np.zeros(len(t))] * flip
        inward = np.array([-1.0 if left else 1.0, 0.0, 1.0]) * flip  # the palm faces the thigh, half turned back
        # Per frame the basis (across, forward, palm) of `pointing._frame`, for all frames at once.
        p = inward[None] - (forward @ inward)[:, None] * forward
        p /= np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-9)
        rotation = np.stack([np.cross(forward, p), forward, p], axis=2) @ hand.basis.T  # (N, 3, 3)
        pts = np.einsum("nij,pj->npi", rotation, hand.points) * flip + w[:, None]
        out.xyz[t, hand_cols] = pts
        out.xyz[t, wrist] = w
        out.xyz[t[:, None], list(body_hand[1:])] = pts[:, [PINKY_MCP, INDEX_MCP, THUMB_MCP]]
        out.conf[t, hand_cols] = REST_CONF
        out.conf[t[:, None], list(body_hand)] = np.maximum(out.conf[t[:, None], list(body_hand)], REST_CONF)
    return out


@functools.lru_cache(maxsize=1)
def neutral_face() -> tuple[np.ndarray, np.ndarray]:
    """The signer's neutral face: ((468, 2) head coordinates, (468,) bool points it has).

    The median over a few still letters of the embedded alphabet (a dense face mesh held with a
    neutral expression while the hand spells), each aligned on its head first.
    """
    from text2asl.gloss_to_pose.lexicon import Lexicon

    alphabet = Lexicon.embedded()
    faces, present = [], []
    for letter in NEUTRAL_LETTERS:
        for entry in alphabet.find(letter)[:1]:
            arr = align_face(normalize(alphabet.load(entry)))
            head, ok = to_head(arr.xyz, arr.conf)
            whole = ok & (arr.conf[:, FEATURE_COLS] > 0).all(axis=1)
            if whole.any():
                faces.append(head[whole])
                present.append(arr.conf[whole][:, FACE] > 0)
    if not faces:
        raise RuntimeError("the embedded alphabet shows no whole face: reinstall spoken-to-signed")
    faces_, present_ = np.concatenate(faces), np.concatenate(present)
    has = present_.mean(axis=0) > 0.5
    # MediaPipe's face mesh is whole or absent: the faces with every usual point give the median
    # (a plain median, 4x quicker than a NaN-masked one over all faces).
    template = np.median(faces_[present_[:, has].all(axis=1)][:, has], axis=0)
    out = np.zeros((FACE.stop - FACE.start, 2), np.float32)
    out[has] = template
    return out, has


def fill_face(arr: PoseArray) -> PoseArray:
    """`arr` (a new PoseArray) with the neutral face on the head of every frame that lacks a drawable face.

    A frame lacks it when any face-feature point (brows, eyes, nose, mouth, chin) is missing; its
    face is then replaced whole, so features never mix two faces. Frames without the body's nose
    and ears stay as they are.
    """
    lacking = (arr.conf[:, FEATURE_COLS] <= 0).any(axis=1)
    ok, *_ = head_axes(arr.xyz, arr.conf)
    fill = lacking & ok
    if not fill.any():
        return arr.copy()
    template, has = neutral_face()
    out = arr.copy()
    placed = from_head(template, arr.xyz[fill], arr.conf[fill])
    rows = np.flatnonzero(fill)
    out.xyz[rows, FACE.start:FACE.stop, :2] = placed
    out.xyz[rows, FACE.start:FACE.stop, 2] = 0.0
    out.conf[rows, FACE.start:FACE.stop] = np.where(has, 1.0, 0.0)[None]
    return out
