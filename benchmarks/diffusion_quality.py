"""Quality of the tiny-asl diffusion track against the targets of issue 9: base, LoRA on held-out signs, attention on the hands.

    python benchmarks/diffusion_quality.py [--base-model tiny-asl] [--glosses 24] [--lora-minutes 5] [--out DIR]

Three measurements, all with `text2asl.evaluation.keyframes` (SSIM-Y and PSNR-Y of the evaluation
stage, generated keyframe k against real keyframe k, both 64² from `make_dataset`'s renderer):

1. the base on `--glosses` of its training glosses (evenly spaced through its list): SSIM and PSNR
   against the mean training image and the same phase of another gloss; phase diversity (mean
   pairwise difference of one gloss's keyframes) against that of the real keyframes;
2. `train-lora` on the base's held-out glosses for at most `--lora-minutes` (the tiny-asl preset,
   no validation images), then the held-out glosses with and without the LoRA, and the mean image
   of their real keyframes;
3. cross-attention of the base on the generated keyframes of (1): the gloss word's share of
   attention inside the hand boxes of the real keyframe's pose, over the boxes' share of the area.

Numbers are per gloss (each gloss's mean over its phases), reported as mean ± std [min, max]
over glosses, then each target as met or MISSED. Writes DIR/quality.json. Run it under
`nice -n 10` with OMP_NUM_THREADS=1 on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LEXICON = REPO.parent / "shared" / "data" / "asl-app-lexicon"


def evenly_spaced(items: list[str], n: int) -> list[str]:
    """`n` items spread over `items` in order (all of them when n >= len(items))."""
    if n >= len(items):
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, n).round().astype(int)]


def table(rows: list[tuple[str, dict]], glosses: int) -> str:
    """A markdown table of SSIM/PSNR spreads per row of frames."""
    lines = [f"| frames ({glosses} glosses) | SSIM-Y per gloss: mean ± std [min, max] | PSNR-Y dB per gloss |", "|---|---|---|"]
    lines += [f"| {name} | {s['ssim'].text(3)} | {s['psnr'].text(2)} |" for name, s in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="tiny-asl", help="'tiny-asl' (shipped) or a train-base DIR/model folder")
    parser.add_argument("--lexicon", default=str(LEXICON), help="the lexicon the base was trained on")
    parser.add_argument("--glosses", type=int, default=24, help="training glosses to score (evenly spaced)")
    parser.add_argument("--lora-minutes", type=float, default=5.0, help="LoRA wall-clock budget on the held-out glosses")
    parser.add_argument("--lora-steps", type=int, default=2000, help="LoRA step cap (the budget usually ends it first)")
    parser.add_argument("--steps", type=int, default=20, help="DPM-Solver denoising steps per keyframe")
    parser.add_argument("--seed", type=int, default=0, help="generation noise seed")
    parser.add_argument("--out", default="/tmp/text2asl-quality", help="work folder (datasets, LoRA run, quality.json)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    from text2asl.evaluation import keyframes as q
    from text2asl.diffusion.attention import attention_maps
    from text2asl.diffusion.config import TINY_ASL, get_preset
    from text2asl.diffusion.caption import caption
    from text2asl.diffusion.dataset import make_dataset
    from text2asl.diffusion.generate import generate_keyframes, generation_config
    from text2asl.diffusion.model import base_info, load_pipeline, resolve_base_model
    from text2asl.diffusion.dataset import gloss_keyframes
    from text2asl.diffusion.train_lora import train_lora
    from text2asl.gloss_to_pose.sublexicon import sub_lexicon
    from text2asl.gloss_to_pose.lexicon import Lexicon

    t_start = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base_dir = Path(resolve_base_model(args.base_model))
    info = base_info(str(base_dir))  # train_base.json: resolution, phases, training and held-out glosses
    res, n_phases = int(info["resolution"]), int(info["n_phases"])
    lexicon = Lexicon(args.lexicon)
    generation = generation_config(str(base_dir), seed=args.seed, num_inference_steps=args.steps)  # the base's own guidance

    def dataset(name: str, glosses: list[str]) -> Path:
        folder = out / f"{name}-{res}px-{n_phases}phases"
        return make_dataset([sub_lexicon(lexicon, glosses, out / f"{name}-lexicon")], folder, resolution=res,
                            n_phases=n_phases, progress=False)

    def generate(pipe, glosses: list[str]) -> dict[str, np.ndarray]:
        return dict(zip(glosses, generate_keyframes(pipe, glosses, generation, progress=False)))

    # 1. the base on its training glosses
    train_data = dataset("train", info["training_glosses"])
    train_real = gloss_keyframes(train_data)
    chosen = evenly_spaced(list(train_real), args.glosses)
    real = {g: train_real[g] for g in chosen}
    base = load_pipeline(str(base_dir), device="cpu")
    t = time.monotonic()
    base_gen = generate(base, chosen)
    gen_s = time.monotonic() - t
    base_scores = q.score_glosses(base_gen, real)
    train_mean = q.mean_image(np.concatenate(list(train_real.values())))
    mean_scores = q.static_scores(train_mean, real)
    other_scores = q.other_gloss_scores(real)
    div_gen = {g: q.phase_diversity(k) for g, k in base_gen.items()}
    div_real = {g: q.phase_diversity(k) for g, k in real.items()}
    part1 = [("tiny-asl base", q.summary(base_scores)), ("mean training image", q.summary(mean_scores)),
             ("same phase of another gloss (real)", q.summary(other_scores))]

    # 2. LoRA on the held-out glosses
    held = list(info["held_out_glosses"])
    held_data = dataset("held-out", held)
    held_real = gloss_keyframes(held_data)
    held = list(held_real)
    lora_dir = out / "lora-held-out"
    shutil.rmtree(lora_dir, ignore_errors=True)
    config = get_preset(TINY_ASL, base_model=str(base_dir), max_minutes=args.lora_minutes,
                        max_train_steps=args.lora_steps, validation_epochs=0)
    t = time.monotonic()
    lora = train_lora(config, held_data, lora_dir, progress=False)
    lora_s = time.monotonic() - t
    held_base = q.score_glosses(generate(base, held), held_real)
    lora_pipe = load_pipeline(str(base_dir), lora_dir=lora_dir, device="cpu")
    held_lora_gen = generate(lora_pipe, held)
    held_lora = q.score_glosses(held_lora_gen, held_real)
    held_mean = q.static_scores(q.mean_image(np.concatenate(list(held_real.values()))), held_real)
    part2 = [(f"base + LoRA ({lora.global_step} steps, {lora_s / 60:.1f} min)", q.summary(held_lora)),
             ("base without LoRA", q.summary(held_base)), ("mean image of the held-out keyframes", q.summary(held_mean))]

    # 3. cross-attention of the gloss word on the hands
    masks = q.keyframe_hand_masks(lexicon, train_data, chosen)
    prompts = [(g, k, caption(g, k, n_phases)) for g in chosen for k in range(1, n_phases + 1)]
    lifts: dict[str, list[float]] = {}
    area: list[float] = []
    for start in range(0, len(prompts), 8):
        chunk = prompts[start:start + 8]
        maps = attention_maps(base, [p for _, _, p in chunk], generation)
        for (g, k, _), m in zip(chunk, maps):
            mask = masks[g][k - 1]
            area.append(float(mask.mean()))
            lifts.setdefault(g, []).append(q.hand_share_lift(m.gloss().heat, mask))
    lift = q.spread({g: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for g, v in lifts.items()})

    s1, s2 = dict(part1), dict(part2)
    base_s, mean_s, other_s = s1["tiny-asl base"], s1["mean training image"], s1["same phase of another gloss (real)"]
    lora_key = part2[0][0]
    n = len(chosen)
    targets = [
        q.Target("base SSIM > mean training image", base_s["ssim"].mean, mean_s["ssim"].mean,
                 detail=f"{q.beats(base_scores, mean_scores, 'ssim')}/{n} glosses above"),
        q.Target("base PSNR > mean training image", base_s["psnr"].mean, mean_s["psnr"].mean,
                 detail=f"{q.beats(base_scores, mean_scores, 'psnr')}/{n} glosses above"),
        q.Target("base SSIM > same phase of another gloss", base_s["ssim"].mean, other_s["ssim"].mean,
                 detail=f"{q.beats(base_scores, other_scores, 'ssim')}/{n} glosses above"),
        q.Target("base PSNR > same phase of another gloss", base_s["psnr"].mean, other_s["psnr"].mean,
                 detail=f"{q.beats(base_scores, other_scores, 'psnr')}/{n} glosses above"),
        q.Target("phase diversity: generated / real", q.spread(div_gen).mean / q.spread(div_real).mean, 0.5, strict=False,
                 detail=f"generated {q.spread(div_gen).text(1)}, real {q.spread(div_real).text(1)} (0-255)"),
        q.Target("LoRA SSIM > base without LoRA", s2[lora_key]["ssim"].mean, s2["base without LoRA"]["ssim"].mean,
                 detail=f"{q.beats(held_lora, held_base, 'ssim')}/{len(held)} glosses above"),
        q.Target("LoRA PSNR > base without LoRA", s2[lora_key]["psnr"].mean, s2["base without LoRA"]["psnr"].mean,
                 detail=f"{q.beats(held_lora, held_base, 'psnr')}/{len(held)} glosses above"),
        q.Target("LoRA SSIM > mean image", s2[lora_key]["ssim"].mean, s2["mean image of the held-out keyframes"]["ssim"].mean,
                 detail=f"{q.beats(held_lora, held_mean, 'ssim')}/{len(held)} glosses above"),
        q.Target("LoRA PSNR > mean image", s2[lora_key]["psnr"].mean, s2["mean image of the held-out keyframes"]["psnr"].mean,
                 detail=f"{q.beats(held_lora, held_mean, 'psnr')}/{len(held)} glosses above"),
        q.Target("gloss word's attention on the hands / their area share", lift.mean, 2.0, strict=False,
                 detail=f"per gloss {lift.text(2)}; hand boxes cover {np.mean(area):.1%} of the image"),
    ]

    print(f"\nbase {args.base_model} ({base_dir}): {res}², {n_phases} phases, trained {info.get('elapsed_s', 0) / 60:.0f} min, "
          f"step {info.get('global_step')}; {args.steps} DPM-Solver steps, guidance {generation.guidance_scale:g}, seed {args.seed}; "
          f"{torch.get_num_threads()} torch thread(s)\n")
    print(f"**1. Base on {n} of its {len(train_real)} training glosses** (generation {gen_s:.0f} s)\n")
    print(table(part1, n))
    print(f"\nphase diversity (mean pairwise |difference| of a gloss's keyframes, 0-255): generated "
          f"{q.spread(div_gen).text(1)}, real {q.spread(div_real).text(1)}\n")
    print(f"**2. LoRA on the {len(held)} held-out glosses** ({lora.global_step} steps, {lora.stopped}, "
          f"{lora_s:.0f} s wall; last loss {lora.last_loss:.4f})\n")
    print(table(part2, len(held)))
    print(f"\n**3. Cross-attention** of the gloss word on the hands, {n} glosses x {n_phases} phases: "
          f"lift {lift.text(2)}\n")
    print("**Targets**\n")
    for target in targets:
        print(f"- {target.line()}")
    print(f"\ntotal {(time.monotonic() - t_start) / 60:.1f} min")

    def spreads(rows):
        return {name: {k: vars(v) for k, v in s.items()} for name, s in rows}

    (out / "quality.json").write_text(json.dumps({
        "base_model": args.base_model, "base_dir": str(base_dir), "train_base": {k: info.get(k) for k in
                                                                                 ("seed", "global_step", "elapsed_s")},
        "glosses": chosen, "held_out": held, "steps": args.steps, "seed": args.seed,
        "guidance_scale": generation.guidance_scale, "lora_steps": lora.global_step, "lora_s": lora_s,
        "base": spreads(part1), "lora": spreads(part2),
        "phase_diversity": {"generated": div_gen, "real": div_real},
        "attention_lift": {g: v for g, v in lifts.items()},
        "targets": [{"name": t.name, "value": t.value, "threshold": t.threshold, "met": t.met, "detail": t.detail}
                    for t in targets],
    }, indent=1))
    print(f"wrote {out / 'quality.json'}")


if __name__ == "__main__":
    main()
