"""Cross-attention maps: which pixels of a generated skeleton each prompt word attends to (DAAM-style).

During generation only the UNet's cross-attention (`attn2`) processors are swapped for one that
computes the attention probabilities itself, in fp32 (the default SDPA kernels never materialise
them), and keeps a running sum. Maps are averaged over heads, layers and denoising steps, with the
unconditional half of classifier-free guidance dropped, brought to the latent grid and then to the
image size (bilinear, which keeps "sums to 1 over tokens" true per pixel), and the tokens of one
word are summed. LoRA adapters (PEFT layers inside to_q/to_k/to_v) keep working, and the original
processors come back when the `with` block ends, also on an exception.

    maps = attention_maps(pipe, ["asl skeleton, HELLO, phase 3 of 8"])  # the model's own settings, seed 0
    maps[0].gloss().plot_overlay(ax=ax)
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from text2asl.diffusion.caption import gloss_span, token_words
from text2asl.diffusion.config import GenerationConfig


@dataclass
class WordHeatMap:
    """One word's attention over a generated image.

    heat: (H, W) float32, the word's share of the cross-attention at each pixel (0..1).
    image: (H, W, 3) uint8 RGB, the generated image.
    """

    word: str
    heat: np.ndarray
    image: np.ndarray

    def plot_overlay(self, ax=None, normalize: bool = True, alpha: float = 0.55, cmap: str = "jet", title: bool = True):
        """Draw the image with the heat map on top (`normalize`: stretch to the map's own maximum). Returns ax."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        heat = self.heat / max(float(self.heat.max()), 1e-12) if normalize else self.heat
        ax.imshow(self.image)
        ax.imshow(heat, cmap=cmap, alpha=alpha, vmin=0.0, vmax=1.0 if normalize else None)
        ax.set_axis_off()
        if title:
            ax.set_title(self.word)
        return ax

    def plot_contrast(self, ax=None, octaves: float = 2.0, alpha: float = 0.6, title: bool = True):
        """Draw a contrast map (`heat` a ratio to the usual, from `AttentionMaps.contrast`) over the image. Returns ax.

        log2 of the ratio on a diverging colour map: red where the word takes more than its usual
        share, blue less, white as usual; `octaves` (2: 4x more or less) saturates the colours.
        """
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.imshow(self.image)
        ax.imshow(np.log2(np.maximum(self.heat, 2.0 ** -octaves)), cmap="coolwarm", alpha=alpha, vmin=-octaves, vmax=octaves)
        ax.set_axis_off()
        if title:
            ax.set_title(self.word)
        return ax


@dataclass
class AttentionMaps:
    """All word maps of one prompt.

    heat: (n_words, H, W) float32; other: (H, W) float32, the share of the start, end and padding
    tokens, so heat.sum(0) + other == 1 at every pixel (up to float error).
    """

    prompt: str
    image: np.ndarray
    words: list[str]
    heat: np.ndarray
    other: np.ndarray
    spans: list[tuple[int, int]]  # character span of each word in the prompt

    def __iter__(self) -> Iterator[WordHeatMap]:
        return (WordHeatMap(w, h, self.image) for w, h in zip(self.words, self.heat))

    def word(self, word: str) -> WordHeatMap:
        """The map of `word` (case-insensitive; the first occurrence)."""
        for i, w in enumerate(self.words):
            if w.lower() == word.lower():
                return WordHeatMap(w, self.heat[i], self.image)
        raise KeyError(f"{word!r} is not a word of {self.prompt!r} (words: {self.words})")

    def contrast(self) -> list[WordHeatMap]:
        """Per word, where it takes more of the words' attention than it usually does: heat (H, W), 1 = its usual share.

        At each pixel a word's share of the attention that goes to words (start, end and padding
        tokens left out), divided by that share's mean over the image. What every word has in common
        divides out: the words together take more attention on the skeleton than on the white
        background, so the raw maps of all words show the same skeleton. Draw with `plot_contrast`.
        """
        share = self.heat / np.maximum(self.heat.sum(0, keepdims=True), 1e-12)
        usual = np.maximum(share.mean(axis=(1, 2), keepdims=True), 1e-12)
        return [WordHeatMap(w, (s / u).astype(np.float32), self.image) for w, s, u in zip(self.words, share, usual)]

    def gloss(self) -> WordHeatMap:
        """The gloss of a dataset caption ('asl skeleton, HELLO, phase 3 of 8' -> HELLO), its sub-words summed."""
        span = gloss_span(self.prompt)
        if span is None:
            raise ValueError(f"{self.prompt!r} is not a skeleton caption; use .word(...)")
        idx = [i for i, (a, b) in enumerate(self.spans) if a >= span[0] and b <= span[1]]
        return WordHeatMap(self.prompt[span[0]:span[1]], self.heat[idx].sum(0), self.image)


class AttentionStore:
    """Running sum of cross-attention probabilities, (B, T, h, w) float32 on the latent grid."""

    def __init__(self, pipe, latent_hw: tuple[int, int] | None = None):
        self.pipe = pipe
        self.latent_hw = latent_hw
        self.sum = None
        self.count = 0

    def add(self, probs, heads: int) -> None:
        """probs: (batch * heads, h*w, T) fp32 attention probabilities of one attn2 call."""
        import torch.nn.functional as F

        probs = probs.detach()
        bh, hw, t = probs.shape
        p = probs.reshape(bh // heads, heads, hw, t).mean(1)  # over heads
        if getattr(self.pipe, "do_classifier_free_guidance", False):
            p = p[p.shape[0] // 2:]  # diffusers stacks [unconditional, conditional]
        if self.latent_hw is None:  # the first call is the finest attention level: later levels resize to it
            self.latent_hw = (int(math.isqrt(hw)),) * 2
        H, W = self.latent_hw
        f = math.sqrt(H * W / hw)
        h, w = round(H / f), round(W / f)
        grid = p.permute(0, 2, 1).reshape(p.shape[0], t, h, w)
        if (h, w) != (H, W):
            grid = F.interpolate(grid, size=(H, W), mode="bilinear", align_corners=False)
        grid = grid.float()
        self.sum = grid if self.sum is None else self.sum + grid
        self.count += 1

    def mean(self):
        """(B, T, h, w) average over heads, layers and steps."""
        if self.sum is None:
            raise RuntimeError("no cross-attention was recorded; run the pipeline inside capture_cross_attention")
        return self.sum / self.count


class CaptureProcessor:
    """diffusers' classic AttnProcessor maths with the softmax in fp32 and the probabilities handed to `store.add(probs, heads)`."""

    def __init__(self, store):
        self.store = store

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        import torch

        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            b, c, h, w = hidden_states.shape
            hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        batch_size, key_len, _ = context.shape
        attention_mask = attn.prepare_attention_mask(attention_mask, key_len, batch_size)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        query = attn.to_q(hidden_states)
        if encoder_hidden_states is not None and attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)
        key, value = attn.to_k(context), attn.to_v(context)
        query, key, value = attn.head_to_batch_dim(query), attn.head_to_batch_dim(key), attn.head_to_batch_dim(value)
        scores = torch.bmm(query.float(), key.float().transpose(-1, -2)) * attn.scale
        if attention_mask is not None:
            scores = scores + attention_mask.float()
        probs = scores.softmax(dim=-1)
        self.store.add(probs, attn.heads)
        hidden_states = attn.batch_to_head_dim(torch.bmm(probs.to(value.dtype), value))
        hidden_states = attn.to_out[1](attn.to_out[0](hidden_states))
        if input_ndim == 4:
            hidden_states = hidden_states.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            hidden_states = hidden_states + residual
        return hidden_states / attn.rescale_output_factor


@contextlib.contextmanager
def cross_attention_into(unet, store):
    """Within the block, every cross-attention (attn2) call of `unet` hands its probabilities to `store.add`."""
    original = unet.attn_processors
    capture = CaptureProcessor(store)
    unet.set_attn_processor({name: capture if ".attn2." in name else proc for name, proc in original.items()})
    try:
        yield store
    finally:
        unet.set_attn_processor(original)


def capture_cross_attention(pipe, latent_hw: tuple[int, int] | None = None):
    """A `with` block in which every cross-attention call of `pipe.unet` adds to the yielded `AttentionStore`."""
    return cross_attention_into(pipe.unet, AttentionStore(pipe, latent_hw))


def attention_maps(pipe, prompts: Sequence[str], config: GenerationConfig | None = None) -> list[AttentionMaps]:
    """Generate one image per prompt (seeded) and return its word-level cross-attention maps.

    config: its seed, steps, guidance and resolution are used; None: the model's own
    (`text2asl.diffusion.generate.pipeline_generation_config`).
    """
    import torch.nn.functional as F

    from text2asl.diffusion.generate import pipeline_generation_config
    from text2asl.diffusion.model import seeded_generator

    config = config or pipeline_generation_config(pipe)
    resolution = config.resolution or pipe.unet.config.sample_size * pipe.vae_scale_factor
    lat = resolution // pipe.vae_scale_factor
    prompts = list(prompts)
    with capture_cross_attention(pipe, (lat, lat)) as store:
        images = pipe(prompts, num_inference_steps=config.num_inference_steps, guidance_scale=config.guidance_scale,
                      generator=seeded_generator(config.seed), height=resolution, width=resolution, output_type="np").images
    maps = F.interpolate(store.mean(), size=(resolution, resolution), mode="bilinear", align_corners=False)
    maps = maps.cpu().numpy()
    out = []
    for i, prompt in enumerate(prompts):
        groups = token_words(pipe.tokenizer, prompt)
        heat = np.stack([maps[i, pos].sum(0) for _, pos, _ in groups]) if groups else np.zeros((0, resolution, resolution))
        used = {p for _, pos, _ in groups for p in pos}
        other = maps[i, [t for t in range(maps.shape[1]) if t not in used]].sum(0)
        image = (np.clip(images[i], 0, 1) * 255).round().astype(np.uint8)
        out.append(AttentionMaps(prompt, image, [w for w, _, _ in groups], heat.astype(np.float32),
                                 other.astype(np.float32), [span for _, _, span in groups]))
    return out


def plot_gloss_grid(maps: Sequence[AttentionMaps], axes=None, words: Sequence[str] | None = None):
    """A grid with one column per gloss token: the generated keyframe on top, its attention overlay below.

    maps: one AttentionMaps per gloss prompt (e.g. each gloss of a sentence at the same phase).
    words: the word to show per column (default: each caption's gloss). Returns the figure.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(2, len(maps), figsize=(2.2 * len(maps), 4.6), squeeze=False)
    else:
        axes = np.asarray(axes).reshape(2, len(maps))
        fig = axes[0, 0].figure
    for j, m in enumerate(maps):
        hm = m.word(words[j]) if words else m.gloss()
        axes[0, j].imshow(m.image)
        axes[0, j].set_axis_off()
        axes[0, j].set_title(hm.word)
        hm.plot_overlay(ax=axes[1, j], title=False)
    return fig
