"""The denoising objective shared by base pre-training and LoRA training: noise streams, batch encoding, loss.

Both trainers import from here and from nowhere else for these three things, so a change to the
loss or the noise schedule reaches both, and neither trainer imports the other.
"""
from __future__ import annotations

import numpy as np


def step_generator(seed: int, micro_step: int, process_index: int = 0, stream: int = 0):
    """A CPU torch.Generator for one micro-step: the noise depends only on (seed, stream, step, rank), not on history."""
    from text2asl.diffusion.model import seeded_generator

    entropy = [seed, stream, micro_step, process_index]
    return seeded_generator(int(np.random.SeedSequence(entropy).generate_state(1)[0]))


def sample_latents(mean, std, scaling_factor: float, generator):
    """Scaled latents drawn from the VAE's posterior N(mean, std²), as SD's trainers draw them."""
    import torch

    noise = torch.randn(mean.shape, generator=generator, dtype=torch.float32).to(mean.device, mean.dtype)
    return (mean + std * noise) * scaling_factor


def encode_batch(base, batch: dict, generator, weight_dtype):
    """(latents (B, 4, h, w), text embeddings (B, L, D)) of a batch, with the frozen VAE and text encoder."""
    import torch

    device = base.unet.device
    with torch.no_grad():
        pixels = batch["pixel_values"].to(device, weight_dtype)
        dist = base.vae.encode(pixels).latent_dist
        latents = sample_latents(dist.mean, dist.std, base.vae.config.scaling_factor, generator)
        hidden = base.text_encoder(batch["input_ids"].to(device), return_dict=False)[0]
    return latents, hidden


def diffusion_loss(unet, noise_scheduler, latents, encoder_hidden_states, generator, snr_gamma: float | None = None):
    """Scalar fp32 denoising loss of one batch: MSE to the noise (or velocity), min-SNR weighted if `snr_gamma`."""
    import torch
    import torch.nn.functional as F
    from diffusers.training_utils import compute_snr

    bsz = latents.shape[0]
    noise = torch.randn(latents.shape, generator=generator, dtype=torch.float32).to(latents.device, latents.dtype)
    timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (bsz,), generator=generator)
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
