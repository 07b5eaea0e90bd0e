"""Recognition ablation: top-1/top-5 of the DTW recogniser per direction, with and without each feature.

Not a speed benchmark. The directions, all between different signers or recordings:

* alphabet -> asl-app: the 26 embedded letters (spoken-to-signed) among the 100 ASL-App signs;
* asl-app letters -> alphabet: the 26 ASL-App letters among the 26 embedded ones;
* alphabet, hands half lost -> asl-app: the first direction with each hand of the query lost
  in runs of frames (`lose_hands`);
* pooled leave-one-out: every letter of both lexicons against both lexicons together (126 signs)
  less itself, so its only true match is the other signer's letter;
* two-handed query -> one-handed refs: every two-handed ASL-App sign as another signer would
  record it (bigger, moved, slower, noisy, hands lost in runs) against the ASL-App signs whose
  copy of it lost the second hand (the lexicon situation of issue 11), and the reverse;
* real-videos -> asl-app: the real clips whose gloss ASL-App has (8), poses extracted with
  MediaPipe once into --cache. This is the target direction; features were chosen on the others.

Rows: the recogniser before the two-hand features, with each one added; today's default, and the
default less each one; the default less location (which the letter directions favour, but
where a word is signed is part of the word, and no held-out direction here has words); and
with `znorm` (per-query standardised group distances; off by default, see the report).

    .venv/bin/python benchmarks/recognition_ablation.py [--shared-data DIR] [--cache DIR] [--only LABEL ...]
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np


def lose_hands(arr, seed: int, share: float = 0.5, run: int = 6):
    """A copy whose hands go undetected in runs of `run` frames, about `share` of the frames each.

    MediaPipe loses fast, blurred or small hands for a few frames at a time; in the real-videos
    clips (736x414) the signing hand is missed in up to 15% of the frames of the sign itself.
    """
    from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND

    out, rng = arr.copy(), np.random.default_rng(seed)
    for hand in (LEFT_HAND, RIGHT_HAND):
        lost = np.zeros(len(out), bool)
        while lost.mean() < share:
            start = rng.integers(0, len(out))
            lost[start:start + run] = True
        out.conf[lost, hand] = 0
    return out


def _directions(shared: Path, cache: Path) -> dict[str, tuple[list, list, list | None]]:
    """{name: (queries [(gloss, arr)], references [(gloss, arr)], excluded reference index per query or None)}."""
    from text2asl.evaluation.baselines import perturbed, retimed
    from text2asl.extract.datasets import load_labels
    from text2asl.extract.lexicon_builder import build_lexicon
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND

    app_lex, emb = Lexicon(shared / "asl-app-lexicon"), Lexicon.embedded()
    app = [(e.gloss, app_lex.load(e)) for e in app_lex.entries]
    alphabet = [(e.gloss, emb.load(e)) for e in emb.entries]
    letters = [(g, a) for g, a in app if len(g) == 1]
    out = {"alphabet -> asl-app": (alphabet, app, None),
           "asl-app letters -> alphabet": (letters, alphabet, None),
           "alphabet, hands half lost -> asl-app": ([(g, lose_hands(a, i)) for i, (g, a) in enumerate(alphabet)], app, None)}
    pool = alphabet + app
    queries = [(i, g, a) for i, (g, a) in enumerate(pool) if len(g) == 1]
    out["pooled leave-one-out (letters)"] = ([(g, a) for _, g, a in queries], pool, [i for i, _, _ in queries])

    def both_hands(a):
        left, right = (a.conf[:, LEFT_HAND] > 0).all(1), (a.conf[:, RIGHT_HAND] > 0).all(1)
        return (left & right).mean() >= 0.5

    def one_hand(a):
        a = a.copy()
        a.conf[:, LEFT_HAND] = 0
        return a

    def other_signer(a, i):
        """Bigger, moved, slower, noisy, and each hand lost in runs of frames, as in low-resolution video."""
        a = retimed(a, 1.3)
        a.xyz[..., :2] = a.xyz[..., :2] * 0.8 + np.array([60.0, 30.0], np.float32)
        return lose_hands(perturbed(a, 0.02, 0.05, i), i)

    two = [k for k, (_, a) in enumerate(app) if both_hands(a)]
    dropped = [(g, one_hand(a) if k in two else a) for k, (g, a) in enumerate(app)]
    out["two-handed query -> one-handed refs"] = ([(app[k][0], other_signer(app[k][1], k)) for k in two], dropped, None)
    out["one-handed query -> two-handed refs"] = ([(app[k][0], other_signer(one_hand(app[k][1]), k)) for k in two], app, None)

    labels = shared / "real-videos" / "labels.csv"
    if labels.is_file():
        if not (cache / "index.csv").is_file():
            build_lexicon(load_labels(labels), cache, workers=1, progress=False)
        real_lex = Lexicon(cache)
        known = {g for g, _ in app}
        real = [(e.gloss, real_lex.load(e)) for e in real_lex.entries if e.gloss in known]
        out["real-videos -> asl-app"] = (real, app, None)
    return out


def _scores(rec, queries, excluded) -> tuple[int, int]:
    from text2asl.evaluation.recognize import gloss_key

    top1 = top5 = 0
    for k, (gloss, arr) in enumerate(queries):
        d = rec.distances(arr)
        if excluded is not None:
            d[excluded[k]] = np.inf
        ranked, seen = [], set()
        for i in np.argsort(d, kind="stable"):
            key = gloss_key(rec.glosses[i])
            if np.isfinite(d[i]) and key not in seen:
                seen.add(key)
                ranked.append(key)
        rank = ranked.index(gloss_key(gloss)) + 1 if gloss_key(gloss) in ranked else len(ranked) + 1
        top1 += rank == 1
        top5 += rank <= 5
    return top1, top5


NEW_WEIGHTS = ("between", "other_shape", "other_wrist")  # groups added with the options below
NEW_OPTIONS = {"psi": 0, "seen_only": False, "mirror_references": False}  # their values before


def variants() -> dict[str, object]:
    """{label: FeatureConfig}: the recogniser before this change, with each new feature added,
    today's default, and today's default less each new feature (and less location, see the doc)."""
    from text2asl.evaluation.recognize import FeatureConfig

    now = FeatureConfig()
    before = dataclasses.replace(now, weights={**now.weights, **{g: 0.0 for g in NEW_WEIGHTS}}, **NEW_OPTIONS)
    out = {"before": before}
    for g in NEW_WEIGHTS:
        out[f"before + {g}"] = dataclasses.replace(before, weights={**before.weights, g: now.weights[g]})
    for name in NEW_OPTIONS:
        out[f"before + {name}"] = dataclasses.replace(before, **{name: getattr(now, name)})
    out["default"] = now
    for g in NEW_WEIGHTS:
        out[f"default w/o {g}"] = dataclasses.replace(now, weights={**now.weights, g: 0.0})
    for name, old in NEW_OPTIONS.items():
        out[f"default w/o {name}"] = dataclasses.replace(now, **{name: old})
    out["default w/o location"] = dataclasses.replace(now, weights={**now.weights, "location": 0.0})
    out["default + znorm"] = dataclasses.replace(now, znorm=True)
    out["before + znorm"] = dataclasses.replace(before, znorm=True)
    return out


def main() -> None:
    from text2asl.evaluation.recognize import Recognizer
    from text2asl.paths import shared_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=shared_data_dir(), help="real data folder (default ../shared/data)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "text2asl-real-videos-lexicon",
                        help="where the real-videos poses are extracted once (default: text2asl-real-videos-lexicon in the temp folder)")
    parser.add_argument("--only", nargs="*", default=None, help="variant labels to run (default all)")
    parser.add_argument("--directions", nargs="*", default=None, help="direction names to run (default all)")
    args = parser.parse_args()
    if args.shared_data is None:
        raise SystemExit("no shared data folder: give --shared-data")
    directions = _directions(args.shared_data, args.cache)
    names = [n for n in directions if not args.directions or n in args.directions]
    print("| variant | " + " | ".join(f"{n} (n={len(directions[n][0])}) top-1 / top-5" for n in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for label, config in variants().items():
        if args.only and label not in args.only:
            continue
        cells = []
        for n in names:
            queries, refs, excluded = directions[n]
            t1, t5 = _scores(Recognizer(refs, config), queries, excluded)
            cells.append(f"{t1}/{len(queries)} / {t5}/{len(queries)}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
