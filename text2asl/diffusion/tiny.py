"""The `tiny` base model: Stable Diffusion's architecture at toy size with a word-level tokenizer, built from configs.

Same classes as SD v1-4 (UNet2DConditionModel, AutoencoderKL, CLIPTextModel, DDPMScheduler), so the
training and generation code cannot tell the difference; about 2.5 million parameters, 64² images,
trainable on 2 CPU cores in tens of minutes (`text2asl train-base`, see train_base.py). The model hub is never contacted: the
tokenizer's vocabulary is the set of words in the dataset's captions, and the pipeline is written
with `save_pretrained` and read back through the same `from_pretrained` path as a real base model.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from text2asl.diffusion.config import TinyArchitecture
from text2asl.errors import Text2ASLError

BOS, EOS, UNK = "<|startoftext|>", "<|endoftext|>", "<|unk|>"
MAX_LENGTH = 77  # CLIP's context length: the position embeddings' size and the tokenizer's upper bound


def build_word_tokenizer(captions: Iterable[str], max_length: int = MAX_LENGTH):
    """A `PreTrainedTokenizerFast` whose vocabulary is every word and punctuation mark in `captions`.

    Words are split on whitespace and punctuation ("asl skeleton, HELLO" -> asl | skeleton | , | HELLO),
    case is kept (glosses are upper case), and each prompt is wrapped in CLIP's start/end tokens and
    padded with the end token to `max_length` tokens (77 by default, as SD v1-4's tokenizer does); a
    longer training caption raises that (up to 77), so no caption loses its phase to truncation.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    splitter = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    words: set[str] = set()
    longest = 0
    for caption in captions:
        split = [word for word, _ in splitter.pre_tokenize_str(caption)]
        words.update(split)
        longest = max(longest, len(split) + 2)  # + start and end tokens
    # BOS/EOS ids 0/1: CLIPTextModel treats an eos id of 2 as the legacy "argmax" convention.
    vocab = {BOS: 0, EOS: 1, UNK: 2}
    for word in sorted(words):
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.pre_tokenizer = splitter
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        pad_token=EOS,
        model_max_length=min(MAX_LENGTH, max(max_length, longest)),
    )


def build_tiny_pipeline(captions: Iterable[str], resolution: int = 64, seed: int = 0,
                        arch: TinyArchitecture = TinyArchitecture()):
    """A randomly initialised `StableDiffusionPipeline` (fp32, CPU) for images of `resolution`² pixels.

    Deterministic: the same captions, resolution, seed and architecture give the same weights.
    """
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from text2asl.diffusion.model import stable_diffusion_pipeline

    StableDiffusionPipeline = stable_diffusion_pipeline()

    tokenizer = build_word_tokenizer(captions, arch.max_length)
    torch.manual_seed(seed)
    vae_factor = 2 ** (len(arch.vae_channels) - 1)
    multiple = vae_factor * 2 ** (len(arch.unet_channels) - 1)
    if resolution % multiple:
        raise Text2ASLError(f"--resolution {resolution} does not fit the tiny model; give a multiple of {multiple}")
    # SD v1-4's layout: cross-attention at every level but the lowest (a 2-level UNet keeps it at the
    # lowest, or it would have none); `attention_top=False` drops it at the full latent resolution.
    levels = len(arch.unet_channels)
    down = tuple("CrossAttnDownBlock2D" if (i > 0 or arch.attention_top) and (i < levels - 1 or levels <= 2)
                 else "DownBlock2D" for i in range(levels))
    unet = UNet2DConditionModel(
        sample_size=resolution // vae_factor,
        in_channels=arch.latent_channels,
        out_channels=arch.latent_channels,
        layers_per_block=arch.layers_per_block,
        block_out_channels=arch.unet_channels,
        down_block_types=down,
        up_block_types=tuple(block.replace("Down", "Up") for block in reversed(down)),
        cross_attention_dim=arch.cross_attention_dim,
        attention_head_dim=arch.attention_head_dim,
        norm_num_groups=arch.norm_groups,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(arch.vae_channels),
        up_block_types=("UpDecoderBlock2D",) * len(arch.vae_channels),
        block_out_channels=arch.vae_channels,
        latent_channels=arch.latent_channels,
        norm_num_groups=arch.norm_groups,
        sample_size=resolution,
        mid_block_add_attention=False,  # self-attention over 16² latents costs the CPU more than line drawings gain
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=arch.cross_attention_dim,
            intermediate_size=4 * arch.cross_attention_dim,
            num_hidden_layers=arch.text_layers,
            num_attention_heads=arch.text_heads,
            max_position_embeddings=MAX_LENGTH,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    scheduler = DDPMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",  # SD v1's schedule
        num_train_timesteps=1000, steps_offset=1, clip_sample=False,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_tiny_pipeline(captions: Iterable[str], path: str | Path, resolution: int = 64, seed: int = 0,
                       arch: TinyArchitecture = TinyArchitecture()) -> Path:
    """Build the tiny pipeline and write it as a diffusers folder (model_index.json, unet/, vae/, ...)."""
    path = Path(path)
    build_tiny_pipeline(captions, resolution, seed, arch).save_pretrained(path, safe_serialization=True)
    return path
