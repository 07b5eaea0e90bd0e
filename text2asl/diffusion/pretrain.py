"""Pre-training of the tiny preset's random base on the skeleton dataset: VAE reconstruction, then the full UNet.

SD v1-4 arrives with a VAE that already reconstructs images and a UNet that already denoises; LoRA
then only nudges it towards skeletons. The tiny base starts random, and a random decoder turns any
latent into noise, so no amount of LoRA training can make it draw a skeleton. The tiny preset
therefore first trains the VAE (pixel MSE + a small KL term, as in latent diffusion) and then the
whole UNet together with the text encoder with the same denoising loss as the LoRA stage, on the
same dataset, and saves the result with `save_pretrained`; the LoRA stage loads it back through
`from_pretrained` like any base. This is a choice of the tiny preset only: the SD v1-4 path is pure LoRA.

The text encoder is trained too because a random CLIP encoder barely separates the prompts: with
random weights the embeddings of "asl skeleton, HELLO, phase 1 of 8" and "..., BOOK, ..." differ by
about 10% (relative L2), and a UNet trained on them for a few CPU minutes draws the same skeleton
for every gloss and phase. SD v1-4's encoder is a trained CLIP and stays frozen.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from text2asl.diffusion.config import LoraConfig
from text2asl.diffusion.dataset import SkeletonImageDataset, read_metadata
from text2asl.diffusion.model import BaseModel, seeded_generator

KL_WEIGHT = 1e-6  # latent diffusion's autoencoders use 1e-6: reconstructions stay sharp, latents stay bounded
CAPTION_DROPOUT = 0.1  # SD v1 was trained with 10% empty prompts; without them guidance extrapolates from nonsense
MIN_SNR_GAMMA = 5.0  # Hang et al. 2023: ~3x faster convergence when training from scratch


def _batches(dataset: SkeletonImageDataset, batch_size: int, seed: int):
    """Endless seeded stream of random batches (dicts of stacked tensors)."""
    import torch

    rng = np.random.default_rng(seed)
    while True:
        idx = rng.choice(len(dataset), size=min(batch_size, len(dataset)), replace=False)
        items = [dataset[int(i)] for i in idx]
        yield {k: torch.stack([it[k] for it in items]) for k in items[0]}


def train_vae(vae, dataset: SkeletonImageDataset, steps: int, lr: float, batch_size: int, seed: int,
              progress: bool = True) -> list[float]:
    """Train `vae` in place to reconstruct the dataset's images; returns the per-step losses."""
    import torch
    from tqdm.auto import tqdm

    vae.train().requires_grad_(True)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    gen = seeded_generator(seed)
    losses = []
    batches = _batches(dataset, batch_size, seed)
    for _ in tqdm(range(steps), desc="tiny base: VAE", unit="step", disable=not progress):
        x = next(batches)["pixel_values"]
        dist = vae.encode(x).latent_dist
        z = dist.mean + dist.std * torch.randn(dist.mean.shape, generator=gen)
        recon = vae.decode(z).sample
        loss = torch.nn.functional.mse_loss(recon, x) + KL_WEIGHT * dist.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    vae.eval().requires_grad_(False)
    return losses


def latent_scaling_factor(vae, dataset: SkeletonImageDataset, n: int = 256) -> float:
    """1 / std of the latents of up to `n` images: SD's scaling factor (0.18215) was chosen the same way."""
    import torch

    with torch.no_grad():
        x = torch.stack([dataset[i]["pixel_values"] for i in range(min(n, len(dataset)))])
        std = vae.encode(x).latent_dist.mean.std().item()
    return 1.0 / max(std, 1e-6)


def train_unet(base: BaseModel, dataset: SkeletonImageDataset, steps: int, lr: float, batch_size: int, seed: int,
               max_minutes: float | None = None, progress: bool = True) -> list[float]:
    """Train every UNet and text-encoder weight in place with the LoRA stage's loss; returns per-step losses.

    Differs from the LoRA stage in three ways a base model needs: the text encoder learns with the
    UNet (see the module docstring); 10% of the captions are dropped (replaced by the empty
    prompt), as in SD's own training, so classifier-free guidance has a trained unconditional
    branch; and min-SNR weighting (gamma 5), which converges several times faster from scratch.
    The frozen VAE runs once over the dataset, not every step. Stops early after `max_minutes`.
    """
    import time

    import torch
    from tqdm.auto import tqdm

    from text2asl.diffusion.dataset import tokenize
    from text2asl.diffusion.train import diffusion_loss, step_generator

    with torch.no_grad():
        pixels = torch.stack([dataset[i]["pixel_values"] for i in range(len(dataset))])
        dists = [base.vae.encode(chunk).latent_dist for chunk in pixels.split(64)]
        mean, std = torch.cat([d.mean for d in dists]), torch.cat([d.std for d in dists])
    empty_ids = tokenize(base.tokenizer, [""])[0]
    scale = base.vae.config.scaling_factor
    unet = base.unet.train().requires_grad_(True)
    text_encoder = base.text_encoder.train().requires_grad_(True)
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-2)
    warmup = max(1, min(50, steps // 20))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    losses = []
    rng = np.random.default_rng(seed + 1)
    start = time.monotonic()
    for step in tqdm(range(steps), desc="tiny base: UNet + text encoder", unit="step", disable=not progress):
        if max_minutes is not None and time.monotonic() - start > 60 * max_minutes:
            break
        gen = step_generator(seed, step, stream=1)  # noise distinct from the LoRA stage's
        idx = torch.from_numpy(rng.choice(len(dataset), size=min(batch_size, len(dataset)), replace=False))
        latents = (mean[idx] + std[idx] * torch.randn(mean[idx].shape, generator=gen)) * scale
        ids = dataset.input_ids[idx].clone()
        ids[torch.from_numpy(rng.random(len(idx)) < CAPTION_DROPOUT)] = empty_ids
        cond = text_encoder(ids, return_dict=False)[0]
        loss = diffusion_loss(unet, base.noise_scheduler, latents, cond, gen, snr_gamma=MIN_SNR_GAMMA)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    unet.eval().requires_grad_(False)
    text_encoder.eval().requires_grad_(False)
    return losses


def pretrain_tiny_base(config: LoraConfig, data_dir: str | Path, base_dir: str | Path, progress: bool = True) -> Path:
    """Build the tiny pipeline from the dataset's captions, pre-train it, save it to `base_dir` (atomically).

    Writes base_dir/pretrain_loss.csv (stage, step, loss) beside the model. Not resumable: it takes
    minutes, and an interrupted pre-training simply starts again on the next run.
    """
    import torch
    from diffusers import DDPMScheduler

    from text2asl.diffusion.tiny import build_tiny_pipeline

    base_dir = Path(base_dir)
    rows = read_metadata(data_dir)
    pipe = build_tiny_pipeline([r["text"] for r in rows], config.resolution, seed=config.seed)
    dataset = SkeletonImageDataset(data_dir, pipe.tokenizer, config.resolution)
    torch.manual_seed(config.seed)
    vae_losses = train_vae(pipe.vae, dataset, config.base_vae_steps, config.base_learning_rate,
                           config.train_batch_size, config.seed, progress)
    pipe.vae.register_to_config(scaling_factor=latent_scaling_factor(pipe.vae, dataset))
    base = BaseModel(pipe.tokenizer, pipe.text_encoder, pipe.vae, pipe.unet,
                     DDPMScheduler.from_config(pipe.scheduler.config), path="")
    unet_losses = train_unet(base, dataset, config.base_unet_steps, config.base_learning_rate,
                             config.train_batch_size, config.seed, config.base_max_minutes, progress)
    tmp = base_dir.with_name(f".{base_dir.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    lines = ["stage,step,loss"] + [f"vae,{i + 1},{v:.6f}" for i, v in enumerate(vae_losses)]
    lines += [f"unet,{i + 1},{v:.6f}" for i, v in enumerate(unet_losses)]
    (tmp / "pretrain_loss.csv").write_text("\n".join(lines) + "\n")
    if base_dir.exists():
        shutil.rmtree(base_dir)
    os.replace(tmp, base_dir)
    return base_dir
