"""Measurement: one signer across lexicons, before and after retargeting, on the final stream of a sentence.

Per sign of the stitched stream (its own frames, without the transition into it): the head width
(median ear-to-ear distance) and the upper-arm and forearm lengths (`poses.retarget.measure`: 3-D
with the sign's fitted depth scale), all in shoulder widths; and MOTHER's closest thumb-to-chin
distance. Needs ../shared/data/asl-app-lexicon.

    .venv/bin/python benchmarks/signer_proportions.py [--text "..."]
"""
from __future__ import annotations

import argparse

import numpy as np

from text2asl.figures import MIXED_LEXICON_TEXT
from text2asl.gloss_to_pose.stitch import StitchConfig
from text2asl.paths import shared_dataset
from text2asl.pipeline import translate
from text2asl.poses.layout import CHIN, FACE, RIGHT_HAND, THUMB_TIP
from text2asl.poses.retarget import measure


def per_sign(text: str, lexicon, retarget: bool) -> list[tuple[str, float, float, float, float]]:
    """(label, head, upper arm, forearm, thumb-to-chin) per unit of the final stream."""
    rows = []
    for chunk, _ in translate(text, lexicons=[lexicon], config=StitchConfig(retarget=retarget)).chunks():
        own = chunk.slice(chunk.meta["transition_frames"], len(chunk))
        own.meta["normalized"] = True
        m = measure(own)
        tip, chin = RIGHT_HAND.start + THUMB_TIP, FACE.start + CHIN
        ok = (own.conf[:, tip] > 0) & (own.conf[:, chin] > 0)
        touch = float(np.linalg.norm(own.xyz[ok, tip, :2] - own.xyz[ok, chin, :2], axis=1).min()) if ok.any() else np.nan
        rows.append((chunk.meta["label"], m.head, m.upper_arm, m.forearm, touch))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", default=MIXED_LEXICON_TEXT)
    args = ap.parse_args(argv)
    lexicon = shared_dataset("asl-app-lexicon")
    if lexicon is None:
        print("skipped: ../shared/data/asl-app-lexicon is absent")
        return 0
    before, after = per_sign(args.text, lexicon, False), per_sign(args.text, lexicon, True)
    print(f"{'sign':10} {'head':>13} {'upper arm':>13} {'forearm':>13} {'thumb-chin':>13}   (before -> after)")
    for b, a in zip(before, after):
        print(f"{b[0]:10} " + " ".join(f"{x:5.3f}->{y:5.3f}" for x, y in zip(b[1:], a[1:])))
    for name, col in (("head", 1), ("upper arm", 2), ("forearm", 3)):
        lo_b, hi_b = np.nanmin([r[col] for r in before]), np.nanmax([r[col] for r in before])
        lo_a, hi_a = np.nanmin([r[col] for r in after]), np.nanmax([r[col] for r in after])
        print(f"{name:10} across signs: {lo_b:.3f}..{hi_b:.3f} (max/min {hi_b / lo_b:.3f}) -> "
              f"{lo_a:.3f}..{hi_a:.3f} (max/min {hi_a / lo_a:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
