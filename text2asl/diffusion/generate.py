"""Glosses -> skeleton video with a LoRA-tuned Stable Diffusion: keyframes per phase, blended to the video fps.

For each gloss every phase caption ("asl skeleton, HELLO, phase k of N") is drawn from the same seeded
initial noise, so the keyframes of a sign share one look and differ where the captions differ; the
keyframes are then placed on a timeline (each sign lasts as long as its recordings did on average)
and cross-faded with an ease-in-out curve at the output frame rate. Glosses the LoRA was not trained
on, and fingerspelled ones (FS-JOHN, #JOHN), are spelled with the letters' captions when it knows
the letters. Importing this module is cheap; torch and diffusers load on the first generation.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from text2asl.diffusion.config import SD_V1_4, GenerationConfig
from text2asl.diffusion.caption import caption, gloss_token
from text2asl.diffusion.model import (BASE_INFO, LORA_DIR_ATTRIBUTE, TRAINING_INFO, base_info, hide_library_progress_bars,
                                      load_pipeline, seeded_generator, training_info)
from text2asl.errors import Text2ASLError

DEFAULT_SECONDS_PER_SIGN = 1.0
FINGERSPELL_PREFIXES = ("FS-", "#")
# The settings a model's record may give: the LoRA run's own, then the base's (train-base writes guidance_scale).
RECORDED_SETTINGS = ("guidance_scale", "num_inference_steps", "n_phases", "resolution")


def generation_config(base_model: str | None = None, lora_dir: str | Path | None = None,
                      **overrides) -> GenerationConfig:
    """The model's own generation settings, with `overrides` (GenerationConfig fields; None: not given) on top.

    Each setting comes from the first record that has it: the LoRA run's training_info.json (its
    phases and resolution, its config's guidance), then the base's train_base.json (written by
    `train-base`: guidance, phases, resolution), then GenerationConfig's defaults (SD v1-4's).
    base_model None: the base the LoRA was trained on, else SD v1-4.
    """
    info = training_info(lora_dir) if lora_dir is not None else {}
    base_model = base_model or info.get("base_model") or SD_V1_4
    records = [({**(info.get("config") or {}), **info}, f"{lora_dir}/{TRAINING_INFO}"),
               (base_info(base_model), f"{base_model}/{BASE_INFO}")]
    recorded = {}
    for key in RECORDED_SETTINGS:
        value, where = next(((r[key], where) for r, where in records if r.get(key) is not None), (None, None))
        if value is not None:
            try:
                GenerationConfig(**{key: value})
            except Text2ASLError as exc:
                raise Text2ASLError(f"{where} is damaged ({exc}); retrain the model or fix the file") from None
            recorded[key] = value
    return GenerationConfig(**recorded).replace(**overrides)


def pipeline_generation_config(pipe) -> GenerationConfig:
    """The own settings of the model in `pipe`: its base's record and, for a LoRA that `load_pipeline` loaded, the run's."""
    return generation_config(pipe.name_or_path, getattr(pipe, LORA_DIR_ATTRIBUTE, None))


def expand_glosses(glosses: Sequence[str], known: dict | set | None) -> list[str]:
    """Glosses as the model knows them: an unknown or fingerspelled gloss becomes its letters if all are known.

    `known` is the set of trained glosses (None or empty: keep every gloss as it is).
    """
    out: list[str] = []
    for g in glosses:
        token = gloss_token(g)
        spelled = next((token[len(p):] for p in FINGERSPELL_PREFIXES if token.startswith(p)), None)
        if known and (spelled is not None or token not in known):
            letters = [ch for ch in (spelled or token) if ch.isalnum()]
            if letters and all(ch in known for ch in letters):
                out.extend(letters)
                continue
        out.append(spelled or token)
    return out


def generate_keyframes(pipe, glosses: Sequence[str], config: GenerationConfig | None = None,
                       progress: bool = True) -> list[np.ndarray]:
    """One (n_phases, R, R, 3) uint8 RGB array of keyframes per gloss, all from the same seeded noise.

    config None: the model's own settings (`pipeline_generation_config`: the records of its base and of
    the LoRA that `load_pipeline` put in it).
    Prompts of several glosses share a batch (`config.batch_size` images per UNet call); the progress
    bar counts glosses.
    """
    import torch
    from diffusers import DPMSolverMultistepScheduler
    from tqdm.auto import tqdm

    if not glosses:
        return []
    config = config or pipeline_generation_config(pipe)
    n_phases, batch_size = config.n_phases, config.batch_size
    if not isinstance(pipe.scheduler, DPMSolverMultistepScheduler):
        pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    resolution = config.resolution or pipe.unet.config.sample_size * pipe.vae_scale_factor
    latent_shape = (1, pipe.unet.config.in_channels, resolution // pipe.vae_scale_factor, resolution // pipe.vae_scale_factor)
    noise = torch.randn(latent_shape, generator=seeded_generator(config.seed), dtype=torch.float32)
    jobs = [(i, caption(g, k, n_phases)) for i, g in enumerate(glosses) for k in range(1, n_phases + 1)]
    images: list[np.ndarray] = []
    bar = tqdm(total=len(glosses), desc="diffusion keyframes", unit="gloss", disable=not progress)
    done = 0
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start:start + batch_size]
        latents = noise.repeat(len(chunk), 1, 1, 1).to(pipe.device, pipe.unet.dtype)
        out = pipe([p for _, p in chunk], latents=latents, num_inference_steps=config.num_inference_steps,
                   guidance_scale=config.guidance_scale, height=resolution, width=resolution, output_type="np").images
        broken = sorted({glosses[i] for (i, _), image in zip(chunk, out) if not np.isfinite(image).all()})
        if broken:  # NaN would become black frames in a video that looks made
            raise Text2ASLError(f"the diffusion model drew NaN pixels for {', '.join(broken)}: its weights overflow; "
                                "retrain the LoRA (or remove its token_embeddings.safetensors), or check the base model")
        images.extend((np.clip(out, 0, 1) * 255).round().astype(np.uint8))
        finished = (start + len(chunk)) // n_phases
        bar.update(finished - done)
        done = finished
    bar.close()
    return [np.stack(images[i * n_phases:(i + 1) * n_phases]) for i in range(len(glosses))]


def _ease(w: np.ndarray) -> np.ndarray:
    return w * w * (3 - 2 * w)  # smoothstep: no velocity jump at the keyframes


def interpolate_keyframes(keyframes: Sequence[np.ndarray], durations: Sequence[float], fps: float) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 frames at `fps`: gloss i's K keyframes spread evenly over `durations[i]` seconds.

    Keyframe k of a sign sits at the centre of the k-th K-th of its time span (where the dataset
    sampled it); frames between two keyframes cross-fade them, frames before the first or after the
    last keyframe hold it.
    """
    times, frames = [], []
    offset = 0.0
    for kf, dur in zip(keyframes, durations):
        k = len(kf)
        times.extend(offset + (np.arange(k) + 0.5) * dur / k)
        frames.extend(kf)
        offset += dur
    if not frames:
        return
    times_arr = np.asarray(times)
    for j in range(max(1, int(round(offset * fps)))):
        t = (j + 0.5) / fps
        hi = int(np.searchsorted(times_arr, t))
        if hi == 0 or hi == len(frames):
            yield frames[min(hi, len(frames) - 1)]
            continue
        w = float(_ease(np.asarray((t - times_arr[hi - 1]) / (times_arr[hi] - times_arr[hi - 1]))))
        blend = (1 - w) * frames[hi - 1].astype(np.float32) + w * frames[hi].astype(np.float32)
        yield np.clip(blend + 0.5, 0, 255).astype(np.uint8)


def _resize(frames: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    if frames.shape[1] == size:
        return frames
    return np.stack([np.asarray(Image.fromarray(f).resize((size, size), Image.Resampling.BICUBIC)) for f in frames])


def render_glosses(glosses: list[str], base_model: str | None, lora_dir: str | Path | None,
                   config: GenerationConfig | None = None, device: str | None = None,
                   progress: bool = True, captions: bool = False) -> Iterator[np.ndarray]:
    """Skeleton video frames ((size, size, 3) uint8 RGB at `config.fps`) for `glosses`, drawn by the diffusion model.

    base_model: hub id, local diffusers folder, or 'tiny-asl' (the shipped toy base); None: the base the
    LoRA was trained on (from its training_info.json), else SD v1-4.
    lora_dir: a `train-lora` output folder (None: the base model alone). Its training_info.json gives
    the known glosses (for fingerspelling) and each sign's duration; without a LoRA, a base made by
    `train-base` gives them (its train_base.json).
    config None: the model's own settings, `generation_config(base_model, lora_dir)`; to change a few,
    pass `generation_config(base_model, lora_dir, num_inference_steps=10, ...)`.
    captions: draw each sign's gloss on its frames (`caption_frames`).
    """
    if not glosses:
        return
    info = training_info(lora_dir) if lora_dir is not None else {}
    base_model = base_model or info.get("base_model") or SD_V1_4
    made = base_info(base_model)
    known = _known(info, made)
    config = config or generation_config(base_model, lora_dir)
    if not progress:
        hide_library_progress_bars()
    pipe = load_pipeline(base_model, lora_dir=lora_dir, device=device)
    if lora_dir is not None:
        if config.fuse:
            pipe.fuse_lora(lora_scale=config.lora_scale)
        else:
            pipe.set_adapters(["skeleton"], adapter_weights=[config.lora_scale])
    expanded = expand_glosses(glosses, known)
    durations = [config.seconds_per_sign or float((known.get(g) or {}).get("duration_s") or DEFAULT_SECONDS_PER_SIGN)
                 for g in expanded]
    keyframes = generate_keyframes(pipe, expanded, config, progress=progress)
    frames = interpolate_keyframes([_resize(k, config.size) for k in keyframes], durations, config.fps)
    yield from caption_frames(frames, expanded, durations, config.fps) if captions else frames


def _known(info: dict, made: dict) -> dict:
    """{gloss: record} the LoRA run (`info`), else the base (`made`), was trained on."""
    return info.get("glosses") or made.get("glosses") or dict.fromkeys(made.get("training_glosses", []), {})


def known_glosses(base_model: str | None, lora_dir: str | Path | None = None) -> dict:
    """The glosses `render_glosses(..., base_model, lora_dir)` knows: {gloss: record}, empty when unknown."""
    info = training_info(lora_dir) if lora_dir is not None else {}
    return _known(info, base_info(base_model or info.get("base_model") or SD_V1_4))


def prompt_glosses(glosses: Sequence[str], known: dict | set, max_words: int = 3) -> list[str]:
    """Glosses from text (HELLO THANK YOU) as the model knows them (HELLO THANK-YOU), whatever a pose lexicon says.

    The longest run of up to `max_words` glosses that the model was trained on becomes that gloss;
    the rest stay as they are, and `expand_glosses` spells them with the letters it knows.
    """
    out: list[str] = []
    i = 0
    while i < len(glosses):
        for n in range(min(max_words, len(glosses) - i), 0, -1):
            token = gloss_token(" ".join(glosses[i:i + n]))
            if n == 1 or token in known:
                out.append(token if token in known else glosses[i])
                i += n
                break
    return out


def caption_frames(frames: Iterator[np.ndarray], labels: Sequence[str], durations: Sequence[float],
                   fps: float) -> Iterator[np.ndarray]:
    """`frames` (a timeline of signs `labels`, `durations[i]` seconds each) with each sign's gloss drawn
    on top, as the lexicon track captions its frames."""
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer

    ends = np.cumsum(durations)
    renderer = None
    for j, frame in enumerate(frames):
        if renderer is None:
            renderer = SkeletonRenderer(RenderConfig(size=frame.shape[0], hands_inset=False))
        i = min(int(np.searchsorted(ends, (j + 0.5) / fps)), len(labels) - 1)
        out = frame.copy()
        renderer.draw_caption(out, labels[i])
        yield out
