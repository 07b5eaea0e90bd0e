"""LoRA training step time: text2asl's trainer vs a bare diffusers + peft loop on the same tiny model and data.

    python benchmarks/bench_lora_step.py [--steps 30] [--rounds 2] [--resolution 64] [--batch 8]

Both sides train the same tiny SD-shaped UNet (saved base, LoRA rank 8 on to_q/to_k/to_v/to_out.0,
AdamW) on the embedded-alphabet skeleton dataset, batch `--batch`, fp32 on the CPU. The bare loop is
what diffusers' example does per step (VAE encode, text encode, noise, UNet, MSE, backward, step)
without accelerate, checkpoints, logging or seeded per-step noise. Rounds alternate the two sides
so that load from other processes hits both; the table reports the median seconds per step after
`--warmup` steps and the ratio (target <= 1.1x).
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path


def trainer_step_times(config, data: Path, run: Path, warmup: int) -> list[float]:
    from text2asl.diffusion.runlog import LOSS_LOG
    from text2asl.diffusion.train_lora import LoraTrainer

    LoraTrainer(config, data, run, progress=False).train()
    with open(run / LOSS_LOG, newline="") as fh:
        elapsed = [float(r["elapsed_s"]) for r in csv.DictReader(fh)]
    return [b - a for a, b in zip(elapsed[warmup:], elapsed[warmup + 1:])]


def bare_step_times(base_dir: Path, data: Path, steps: int, resolution: int, batch: int, rank: int) -> list[float]:
    import torch
    import torch.nn.functional as F
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from peft import LoraConfig
    from torch.utils.data import DataLoader
    from transformers import AutoTokenizer, CLIPTextModel

    from text2asl.diffusion.dataset import SkeletonImageDataset

    tok = AutoTokenizer.from_pretrained(base_dir, subfolder="tokenizer")
    te = CLIPTextModel.from_pretrained(base_dir, subfolder="text_encoder").requires_grad_(False)
    vae = AutoencoderKL.from_pretrained(base_dir, subfolder="vae").requires_grad_(False)
    unet = UNet2DConditionModel.from_pretrained(base_dir, subfolder="unet").requires_grad_(False)
    sched = DDPMScheduler.from_pretrained(base_dir, subfolder="scheduler")
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                target_modules=["to_k", "to_q", "to_v", "to_out.0"]))
    params = [p for p in unet.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3)
    loader = DataLoader(SkeletonImageDataset(data, tok, resolution), batch_size=batch, shuffle=True)
    times, it = [], iter(loader)
    for _ in range(steps):
        t = time.perf_counter()
        try:
            b = next(it)
        except StopIteration:
            it = iter(loader)
            b = next(it)
        with torch.no_grad():
            latents = vae.encode(b["pixel_values"]).latent_dist.sample() * vae.config.scaling_factor
            hidden = te(b["input_ids"], return_dict=False)[0]
        noise = torch.randn_like(latents)
        ts = torch.randint(0, sched.config.num_train_timesteps, (latents.shape[0],))
        pred = unet(sched.add_noise(latents, noise, ts), ts, hidden, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), noise.float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from text2asl.diffusion.config import get_preset
    from text2asl.diffusion.fixtures import alphabet_dataset, tiny_base

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = alphabet_dataset(tmp / "ds", resolution=args.resolution, n_phases=4)
        base = tiny_base(tmp / "base", data, resolution=args.resolution)
        config = get_preset("tiny-asl", base_model=str(base), resolution=args.resolution, train_batch_size=args.batch,
                            max_train_steps=args.steps + args.warmup, checkpointing_steps=10**6,
                            validation_epochs=0, lr_scheduler="constant", lr_warmup_steps=0)
        ours, bare = [], []
        for r in range(args.rounds):
            ours += trainer_step_times(config, data, tmp / f"run{r}", args.warmup)
            bare += bare_step_times(base, data, args.steps + args.warmup, args.resolution, args.batch, config.rank)[args.warmup:]
    a, b = statistics.median(ours), statistics.median(bare)
    print(f"\ntiny SD UNet, LoRA rank {config.rank}, batch {args.batch}, {args.resolution}² images, "
          f"{torch.get_num_threads()} torch thread(s), {args.rounds} x {args.steps} timed steps per side\n")
    print("| loop | median s/step | ratio vs bare |")
    print("|---|---|---|")
    print(f"| bare diffusers + peft | {b:.3f} | 1.00x |")
    print(f"| text2asl LoraTrainer (accelerate, seeded noise, CSV log, checkpoints off) | {a:.3f} | {a / b:.2f}x |")


if __name__ == "__main__":
    main()
