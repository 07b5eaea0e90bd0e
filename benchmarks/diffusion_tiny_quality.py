"""Tiny preset on ../shared/data/asl-app-lexicon for a fixed CPU budget: loss curve, keyframe grid, SSIM/PSNR.

    python benchmarks/diffusion_tiny_quality.py [--minutes 10] [--out /tmp/text2asl-tiny] [--glosses 20] [--guidance 1,3]

Steps: render the lexicon into a 64² dataset (8 phases per sign); train the tiny preset (VAE and
UNet + text-encoder pre-training of the random base, then LoRA until the budget is spent; the budget
covers all three); generate the 8 keyframes of `--glosses` trained glosses with (a) the untrained
random model, (b) the pre-trained base without LoRA, (c) base + LoRA at the preset's guidance and
at each `--guidance` scale; score each against the real keyframes with `metrics.frame_scores` (the
SSIM-Y/PSNR-Y that `text2asl evaluate` prints; README numbers measured before this switch used RGB
SSIM and are not comparable until the script is rerun), and report how much the keyframes vary between glosses and between the
phases of one gloss (pixel std, 0-255) beside the same spread of the real keyframes: a model that
ignores its prompt draws one image for all of them (spread ~0). Two non-generative references put
the numbers in context: the mean training image (a static "average skeleton") and a blank canvas.
Writes figures/diffusion_tiny_loss.png and figures/diffusion_tiny_keyframes.png and prints a
markdown table. Run it under `nice` with OMP_NUM_THREADS=1 on a shared machine.
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


def scores(generated: list[np.ndarray], real: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame SSIM and PSNR (dB) of matching (K, H, W, 3) uint8 keyframe stacks, as `text2asl evaluate` scores frames."""
    from text2asl.evaluation.metrics import frame_scores

    pairs = np.array([frame_scores(g, r) for gen, ref in zip(generated, real) for g, r in zip(gen, ref)]).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def spread(keyframes: list[np.ndarray]) -> tuple[float, float]:
    """(pixel std across glosses, pixel std across the phases of a gloss), 0-255, of (K, H, W, 3) stacks."""
    stack = np.stack(keyframes).astype(np.float32)  # (G, K, H, W, 3)
    return float(stack.std(axis=0).mean()), float(stack.std(axis=1).mean())


def save_small_png(fig, path: Path, dpi: int, colors: int = 256) -> None:
    """Save `fig` as a palette PNG: the untrained model's noise rows make a truecolour grid ~800 KB, 256 colours ~190 KB."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    with Image.open(buf) as im:
        im.convert("RGB").quantize(colors=colors).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="total training budget (all stages)")
    parser.add_argument("--out", default="/tmp/text2asl-tiny", help="work folder (dataset, run)")
    parser.add_argument("--glosses", type=int, default=20, help="trained glosses to score")
    parser.add_argument("--vae-steps", type=int, default=150)
    parser.add_argument("--lora-minutes", type=float, default=1.0, help="the part of the budget left for LoRA")
    parser.add_argument("--guidance", default="1,3", help="extra guidance scales for base + LoRA (comma-separated)")
    parser.add_argument("--figures", default=str(REPO / "figures"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from text2asl.diffusion.config import get_preset
    from text2asl.diffusion.dataset import load_image, make_dataset, read_metadata
    from text2asl.diffusion.generate import generate_keyframes
    from text2asl.diffusion.model import load_pipeline
    from text2asl.diffusion.plots import plot_keyframe_grid, plot_loss_curve
    from text2asl.diffusion.tiny import build_tiny_pipeline
    from text2asl.diffusion.train import LoraTrainer

    out = Path(args.out)
    data = make_dataset([LEXICON], out / "dataset", resolution=64, n_phases=8, progress=False)
    rows = read_metadata(data)
    config = get_preset("tiny", base_vae_steps=args.vae_steps, base_unet_steps=100_000, num_train_epochs=50,
                        base_max_minutes=args.minutes - args.lora_minutes - 1.5)  # ~1.5 min for the VAE
    shutil.rmtree(out / "run", ignore_errors=True)  # a base left by an earlier run would be reused, not trained

    t0 = time.monotonic()
    trainer = LoraTrainer(config, data, out / "run")  # pre-trains the tiny base (VAE, then UNet)
    base_s = time.monotonic() - t0
    trainer.config = trainer.config.replace(max_minutes=max(0.5, args.minutes - base_s / 60))
    result = trainer.train()
    total_s = time.monotonic() - t0
    print(f"base pre-training {base_s:.0f} s, LoRA {result.global_step} steps, total {total_s:.0f} s ({result.stopped})")

    glosses = sorted({r["gloss"] for r in rows})
    pick = sorted(np.random.default_rng(0).choice(len(glosses), size=min(args.glosses, len(glosses)), replace=False))
    chosen = [glosses[i] for i in pick]
    real = {g: np.stack([load_image(data / r["file_name"], 64) for r in rows if r["gloss"] == g]) for g in chosen}
    real_list = [real[g] for g in chosen]
    gen_kwargs = dict(n_phases=8, seed=0, num_inference_steps=20, guidance_scale=config.guidance_scale, progress=False)

    models = {
        "untrained (random tiny SD)": build_tiny_pipeline([r["text"] for r in rows], 64, seed=config.seed),
        "pre-trained base, no LoRA": load_pipeline(str(out / "run" / "base"), device="cpu"),
        "base + LoRA (final)": load_pipeline("tiny", out / "run", device="cpu"),
    }
    guidance = [float(g) for g in args.guidance.split(",") if g.strip()]
    runs = [(name, pipe, config.guidance_scale) for name, pipe in models.items()]
    runs += [(f"base + LoRA, guidance {g:g}", models["base + LoRA (final)"], g) for g in guidance
             if g != config.guidance_scale]
    generated, table = {}, []
    for name, pipe, scale in runs:
        pipe.set_progress_bar_config(disable=True)
        t = time.monotonic()
        generated[name] = generate_keyframes(pipe, chosen, **{**gen_kwargs, "guidance_scale": scale})
        s, p = scores(generated[name], real_list)
        table.append((name, s, p, spread(generated[name]), time.monotonic() - t))
    all_real = np.stack([load_image(data / r["file_name"], 64) for r in rows]).astype(np.float32)
    mean_img = np.round(all_real.mean(0)).astype(np.uint8)
    for name, img in (("mean training image (static)", mean_img), ("blank white canvas", np.full_like(mean_img, 255))):
        s, p = scores([np.repeat(img[None], 8, 0) for _ in chosen], real_list)
        table.append((name, s, p, (0.0, 0.0), 0.0))

    print(f"\n{len(chosen)} trained glosses x 8 phases, 64x64, seed 0, {gen_kwargs['num_inference_steps']} DPM-Solver "
          f"steps, guidance {config.guidance_scale:g} unless named; budget {args.minutes:g} min on "
          f"{torch.get_num_threads()} CPU thread(s)\n")
    print("| frames | SSIM mean ± std | PSNR dB mean ± std | spread across glosses | across phases | generation s |")
    print("|---|---|---|---|---|---|")
    for name, s, p, (sg, sp), secs in table:
        print(f"| {name} | {s.mean():.3f} ± {s.std():.3f} | {p.mean():.2f} ± {p.std():.2f} | {sg:.1f} | {sp:.1f} | {secs:.0f} |")
    real_spread = spread(real_list)
    print(f"| real keyframes (spread only) | | | {real_spread[0]:.1f} | {real_spread[1]:.1f} | |")

    figures = Path(args.figures)
    figures.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    plot_loss_curve(out / "run", ax=ax)
    fig.tight_layout()
    fig.savefig(figures / "diffusion_tiny_loss.png", dpi=120)
    grid_rows = []
    for g in chosen[:4]:
        i = chosen.index(g)
        grid_rows += [(f"{g}\nreal", real[g]), (f"{g}\nLoRA", generated["base + LoRA (final)"][i]),
                      (f"{g}\nuntrained", generated["untrained (random tiny SD)"][i])]
    fig = plot_keyframe_grid(grid_rows)
    fig.tight_layout()
    save_small_png(fig, figures / "diffusion_tiny_keyframes.png", dpi=80)
    (out / "scores.json").write_text(json.dumps({
        "glosses": chosen, "base_pretrain_s": base_s, "total_s": total_s, "lora_steps": result.global_step,
        "rows": [{"frames": n, "ssim": float(s.mean()), "ssim_std": float(s.std()), "psnr": float(p.mean()),
                  "psnr_std": float(p.std()), "spread_glosses": sg, "spread_phases": sp}
                 for n, s, p, (sg, sp), _ in table],
        "real_spread_glosses": real_spread[0], "real_spread_phases": real_spread[1],
    }, indent=1))


if __name__ == "__main__":
    main()
