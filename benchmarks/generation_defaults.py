"""Luma SSIM of `generate_keyframes` called with its defaults on a train-base model, against SD v1-4's settings.

    python benchmarks/generation_defaults.py [--base-model tiny-asl] [--glosses 8] [--out DIR]

A notebook user calls `generate_keyframes(load_pipeline("tiny-asl"), glosses)` with no settings. Its
defaults come from the model's record (`generation_config`: train_base.json's guidance 3, phases and
resolution); before, they were SD v1-4's guidance 7.5 whatever the model. This scores both on
`--glosses` of the base's training glosses (evenly spaced through its list), keyframe k against real
keyframe k with the evaluation stage's SSIM-Y and PSNR-Y (`text2asl.evaluation.keyframes`), beside
the base's own settings at 20 steps (the figures' setting) and the mean training image. Run it
under `nice` with OMP_NUM_THREADS=1 on a shared machine (about 3 minutes on 2 busy CPU cores).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from diffusion_quality import LEXICON, evenly_spaced, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="tiny-asl", help="'tiny-asl' (shipped) or a train-base DIR/model folder")
    parser.add_argument("--lexicon", default=str(LEXICON), help="the lexicon the base was trained on")
    parser.add_argument("--glosses", type=int, default=8, help="training glosses to score (evenly spaced)")
    parser.add_argument("--out", default="/tmp/text2asl-generation-defaults", help="work folder (the real keyframes)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from text2asl.diffusion.config import GenerationConfig
    from text2asl.diffusion.generate import generate_keyframes, generation_config
    from text2asl.diffusion.model import base_info, hide_library_progress_bars, load_pipeline
    from text2asl.diffusion.dataset import gloss_keyframes, skeleton_dataset
    from text2asl.evaluation import keyframes as q
    from text2asl.gloss_to_pose.lexicon import Lexicon

    info = base_info(args.base_model)
    if not info:
        raise SystemExit(f"{args.base_model} has no train_base.json: this measures a base made by `text2asl train-base`")
    own = generation_config(args.base_model)
    data = skeleton_dataset([Lexicon(args.lexicon)], Path(args.out) / f"train-{own.resolution}px-{own.n_phases}phases",
                            own.resolution, own.n_phases, glosses=info["training_glosses"])
    train_real = gloss_keyframes(data)
    chosen = evenly_spaced(list(train_real), args.glosses)
    real = {g: train_real[g] for g in chosen}
    hide_library_progress_bars()
    pipe = load_pipeline(args.base_model, device="cpu")
    sd = GenerationConfig(n_phases=own.n_phases, resolution=own.resolution)  # SD v1-4's guidance and steps
    runs = [(f"defaults: the model's own (guidance {own.guidance_scale:g}, {own.num_inference_steps} steps)", None),
            (f"SD v1-4's (guidance {sd.guidance_scale:g}, {sd.num_inference_steps} steps)", sd),
            ("the model's own at 20 steps (figures)", own.replace(num_inference_steps=20))]
    rows = []
    for name, config in runs:
        t = time.monotonic()
        generated = dict(zip(chosen, generate_keyframes(pipe, chosen, config, progress=False)))
        rows.append((f"{name}, {time.monotonic() - t:.0f} s", q.summary(q.score_glosses(generated, real))))
    mean = q.mean_image(np.concatenate(list(train_real.values())))
    rows.append(("mean training image", q.summary(q.static_scores(mean, real))))
    print(f"base {args.base_model}: {own.resolution}², {own.n_phases} phases; glosses {', '.join(chosen)}; seed {own.seed}\n")
    print(table(rows, len(chosen)))


if __name__ == "__main__":
    main()
