"""The denoising objective shared by base pre-training and LoRA training: noise streams, batch encoding, loss.

Both trainers import from here and from nowhere else for these three things, so a change to the
loss or the noise schedule reaches both, and neither trainer imports the other.

The noise of a training step is drawn per sample, from a generator seeded by (seed, stream, step,
the sample's slot in the step's global batch): which process holds a sample, and how the global
batch is split into processes x micro-batches, does not change its noise. So 2 processes x batch 4
draw what 1 process x batch 8 draws (see `sample_generators`).

`grounding_loss` is TokenCompose's token loss (Wang et al., CVPR 2024): it pulls a word's
cross-attention into a region, here the gloss word into the hand boxes of the keyframe, so that
what the gloss decides (handshape, hand position) is what its attention points at.
"""
from __future__ import annotations

import math

import numpy as np


def step_generator(seed: int, micro_step: int, process_index: int = 0, stream: int = 0):
    """A CPU torch.Generator for one micro-step: the noise depends only on (seed, stream, step, rank), not on history."""
    from text2asl.diffusion.model import seeded_generator

    entropy = [seed, stream, micro_step, process_index]
    return seeded_generator(int(np.random.SeedSequence(entropy).generate_state(1)[0]))


def sample_generators(seed: int, step: int, slots, stream: int = 0) -> list:
    """One CPU torch.Generator per sample of a step, seeded by (seed, stream, step, slot).

    `slots`: the samples' positions in the step's global batch (all processes and micro-batches
    together, 0 .. global batch - 1), so the noise of a sample does not depend on the process count.
    """
    from text2asl.diffusion.model import seeded_generator

    # the offset keeps these apart from step_generator(seed, step, rank, stream)'s entropy
    return [seeded_generator(int(np.random.SeedSequence([seed, stream, step, 1_000_000 + slot]).generate_state(1)[0]))
            for slot in slots]


def randn(shape, generators, device=None, dtype=None):
    """Standard normal noise of `shape` (B, ...) in fp32 on the CPU, moved to `device`/`dtype`.

    `generators`: one torch.Generator for the whole batch, or a list of B (one per sample, see `sample_generators`).
    """
    import torch

    if isinstance(generators, (list, tuple)):
        noise = torch.stack([torch.randn(tuple(shape[1:]), generator=g, dtype=torch.float32) for g in generators])
    else:
        noise = torch.randn(tuple(shape), generator=generators, dtype=torch.float32)
    return noise.to(device, dtype)


def sample_latents(mean, std, scaling_factor: float, generator):
    """Scaled latents drawn from the VAE's posterior N(mean, std²), as SD's trainers draw them; `generator` as in `randn`."""
    noise = randn(mean.shape, generator, mean.device, mean.dtype)
    return (mean + std * noise) * scaling_factor


def encode_batch(base, batch: dict, generator, weight_dtype, text_encoder=None):
    """(latents (B, 4, h, w), text embeddings (B, L, D)) of a batch, with the frozen VAE and text encoder.

    `text_encoder` (e.g. one with trainable token embeddings) is run with gradients instead of the frozen one.
    """
    import torch

    device = base.unet.device
    with torch.no_grad():
        pixels = batch["pixel_values"].to(device, weight_dtype)
        dist = base.vae.encode(pixels).latent_dist
        latents = sample_latents(dist.mean, dist.std, base.vae.config.scaling_factor, generator)
        if text_encoder is None:
            hidden = base.text_encoder(batch["input_ids"].to(device), return_dict=False)[0]
    if text_encoder is not None:
        hidden = text_encoder(batch["input_ids"].to(device), return_dict=False)[0]
    return latents, hidden


class CrossAttentionRecord:
    """The cross-attention probabilities of one UNet forward pass, kept with their gradient: [(B, h*w, T) head-averaged]."""

    def __init__(self):
        self.maps: list = []

    def add(self, probs, heads: int) -> None:
        bh, hw, t = probs.shape
        self.maps.append(probs.reshape(bh // heads, heads, hw, t).mean(1))


def record_cross_attention(unet):
    """A `with` block in which every cross-attention (attn2) call of `unet` adds its probabilities, differentiably."""
    from text2asl.diffusion.attention import cross_attention_into

    return cross_attention_into(unet, CrossAttentionRecord())


def grounding_samples(token_mask, region):
    """(B,) bool: the samples the grounding loss counts (a marked token and a non-empty region)."""
    return (token_mask.float().sum(-1) > 0) & (region.flatten(1).sum(-1) > 0)


def grounding_loss(record: CrossAttentionRecord, token_mask, region, denominator: float | None = None):
    """Mean over samples and layers of (1 - share of the marked tokens' attention inside `region`)².

    token_mask: (B, T) float, 1 at the word's token positions (e.g. the gloss); region: (B, H, W)
    float in [0, 1], the share of each cell inside the target (e.g. the hand boxes), area-averaged
    to each layer's grid. Samples with no marked token or an empty region (an empty caption, no
    hand in the frame) add nothing; 0 when none is left. `denominator` replaces the number of counted
    samples: processes that average their gradients pass (counted samples of all processes) / processes,
    so that the result is the mean over the global batch's counted samples.
    """
    import torch
    import torch.nn.functional as F

    token_mask = token_mask.float()
    valid = grounding_samples(token_mask, region)
    if not record.maps or not bool(valid.any()):
        return torch.zeros((), device=token_mask.device)
    per_layer = []
    for probs in record.maps:
        b, hw, _ = probs.shape
        side = math.isqrt(hw)
        attn = (probs * token_mask[:, None, :].to(probs.dtype)).sum(-1)  # (B, h*w)
        cells = F.adaptive_avg_pool2d(region[:, None].to(probs.dtype), side).reshape(b, hw)
        share = (attn * cells).sum(-1) / attn.sum(-1).clamp_min(1e-8)
        per_layer.append((1.0 - share) ** 2)
    per_sample = torch.stack(per_layer).mean(0)
    return (per_sample * valid).sum() / (valid.sum() if denominator is None else denominator)


def diffusion_loss(unet, noise_scheduler, latents, encoder_hidden_states, generator, snr_gamma: float | None = None):
    """Scalar fp32 denoising loss of one batch: MSE to the noise (or velocity), min-SNR weighted if `snr_gamma`.

    The mean over the batch of per-sample losses, so that processes averaging their gradients
    (DDP) give the gradient of the global batch. `generator` as in `randn`.
    """
    import torch
    import torch.nn.functional as F
    from diffusers.training_utils import compute_snr

    bsz, high = latents.shape[0], noise_scheduler.config.num_train_timesteps
    noise = randn(latents.shape, generator, latents.device, latents.dtype)
    if isinstance(generator, (list, tuple)):
        timesteps = torch.cat([torch.randint(0, high, (1,), generator=g) for g in generator])
    else:
        timesteps = torch.randint(0, high, (bsz,), generator=generator)
    timesteps = timesteps.to(latents.device)
    noisy = noise_scheduler.add_noise(latents, noise, timesteps)
    if noise_scheduler.config.prediction_type == "v_prediction":
        target = noise_scheduler.get_velocity(latents, noise, timesteps)
    else:
        target = noise
    pred = unet(noisy, timesteps, encoder_hidden_states, return_dict=False)[0]
    if snr_gamma is None:
        return F.mse_loss(pred.float(), target.float(), reduction="mean")
    snr = compute_snr(noise_scheduler, timesteps)
    weights = torch.stack([snr, snr_gamma * torch.ones_like(snr)], dim=1).min(dim=1)[0]
    weights = weights / (snr + 1) if noise_scheduler.config.prediction_type == "v_prediction" else weights / snr
    loss = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
    return (loss * weights).mean()
