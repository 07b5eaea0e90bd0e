"""A hand at rest still has a forearm: the resting wrist and hand of an arm whose recording lost them.

The embedded alphabet never detects the non-dominant wrist or hand (the hand rests below the
frame's lower edge or in the lap), while its elbow and the body model's hand points are there:
drawn as is, the upper arm ends in mid-air. `rest_arms` puts the wrist one forearm from the elbow,
toward where the body model saw the hand (or straight on from the upper arm), and hangs a relaxed
flat hand from it, palm toward the thigh, fingers along the forearm. A resting wrist whose hand is
missing (built pronouns drop the other hand) gets the hand alone.
"""
from __future__ import annotations

import functools

import numpy as np

from text2asl.gloss_to_pose.indexing import INDEX_MCP, PINKY_MCP, THUMB_MCP, Handshape, handshape_from
from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND, PoseArray
from text2asl.poses.retarget import ARMS, SIGNER

REST_CONF = 0.5  # confidence of a filled point: present, but less sure than a detected one
MIRROR = np.array([-1.0, 1.0, 1.0])


@functools.lru_cache(maxsize=1)
def rest_hand() -> Handshape | None:
    """The relaxed hand: the embedded alphabet's flat B hand (as a right hand), or None if it shows none."""
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.poses.normalize import normalize

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
        # Per frame the basis (across, forward, palm) of `indexing._frame`, for all frames at once.
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
