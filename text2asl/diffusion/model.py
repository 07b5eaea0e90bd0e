"""Loading a Stable Diffusion base model (hub id or local folder) and LoRA weights, with one-sentence errors.

Every base model, the tiny one included, goes through diffusers' `from_pretrained`, so a user's
local copy of SD v1-4, a hub id already in the cache and the tiny preset's folder behave the same.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from text2asl.diffusion.config import TINY_ASL
from text2asl.errors import Text2ASLError

LORA_WEIGHTS = "pytorch_lora_weights.safetensors"
TRAINING_INFO = "training_info.json"  # written by train.py beside the LoRA weights
BASE_INFO = "train_base.json"  # written by base_train.py into the base it made
TINY_ASL_DIR = Path(__file__).with_name("tiny_asl")  # the shipped base, made by `text2asl train-base`


@dataclass
class BaseModel:
    """The parts of an SD pipeline that training needs, in eval mode with frozen weights."""

    tokenizer: Any
    text_encoder: Any  # transformers.CLIPTextModel
    vae: Any  # diffusers.AutoencoderKL
    unet: Any  # diffusers.UNet2DConditionModel
    noise_scheduler: Any  # diffusers.DDPMScheduler, the training noise schedule
    path: str


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~", ".\\")) or name.count("/") > 1 or "\\" in name


def resolve_base_model(base_model: str) -> str:
    """A hub id or a local folder; 'tiny-asl' means the base shipped inside the package."""
    if base_model != TINY_ASL:
        return base_model
    if not (TINY_ASL_DIR / "model_index.json").is_file():
        raise Text2ASLError(
            f"the tiny-asl base is missing from this install ({TINY_ASL_DIR}); reinstall text2asl or retrain it with "
            "`text2asl train-base --lexicon ../shared/data/asl-app-lexicon -o DIR` and pass --base-model DIR/model"
        )
    return str(TINY_ASL_DIR)


def check_base_model(base_model: str) -> tuple[str, bool]:
    """(name to pass to from_pretrained, is_local); raises for a local folder that is missing or has no UNet."""
    path = Path(base_model).expanduser()
    if path.exists() or _looks_like_path(base_model):
        if not path.is_dir():
            raise Text2ASLError(
                f"base model folder {base_model} does not exist; pass a diffusers folder (model_index.json, unet/, "
                "vae/, text_encoder/, tokenizer/) or a hub id such as CompVis/stable-diffusion-v1-4."
            )
        if not (path / "unet" / "config.json").is_file():
            raise Text2ASLError(
                f"base model folder {base_model} has no UNet (unet/config.json is missing); point --base-model "
                "at a complete diffusers pipeline folder, e.g. one saved with `StableDiffusionPipeline.save_pretrained`."
            )
        return str(path), True
    return base_model, False


def _offline_error(base_model: str, exc: Exception) -> Text2ASLError:
    return Text2ASLError(
        f"could not load base model {base_model!r}: it is not in the local Hugging Face cache and the hub is "
        f"unreachable or offline ({type(exc).__name__}); on a connected machine run `hf download {base_model} "
        "--local-dir DIR` and pass --base-model DIR."
    )


def refuse_non_finite(name: str, parts: dict) -> None:
    """Raise if any weight of `parts` ({subfolder: module}) is NaN or inf: such a base draws only noise or black."""
    import torch

    for part, module in parts.items():
        for pname, param in module.named_parameters():
            if not torch.isfinite(param).all():
                raise Text2ASLError(
                    f"base model {name} has NaN or inf weights ({part}/{pname}); re-download it, or retrain it "
                    "with `text2asl train-base` if it is a tiny base"
                )


def load_base_model(base_model: str, dtype=None) -> BaseModel:
    """Tokenizer, text encoder, VAE, UNet and DDPM noise schedule of `base_model`, frozen, on the CPU."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import AutoTokenizer, CLIPTextModel

    name, local = check_base_model(resolve_base_model(base_model))
    dtype = dtype or torch.float32
    kwargs = {"local_files_only": True} if local else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, subfolder="tokenizer", **kwargs)
        text_encoder = CLIPTextModel.from_pretrained(name, subfolder="text_encoder", dtype=dtype, **kwargs)
        vae = AutoencoderKL.from_pretrained(name, subfolder="vae", dtype=dtype, **kwargs)
        unet = UNet2DConditionModel.from_pretrained(name, subfolder="unet", dtype=dtype, **kwargs)
        noise_scheduler = DDPMScheduler.from_pretrained(name, subfolder="scheduler", **kwargs)
    except (OSError, ValueError) as exc:
        if local:
            raise Text2ASLError(f"base model folder {name} is incomplete or corrupt ({exc}); re-save or re-download it.") from exc
        raise _offline_error(name, exc) from exc
    refuse_non_finite(name, {"text_encoder": text_encoder, "vae": vae, "unet": unet})
    for module in (text_encoder, vae, unet):
        module.requires_grad_(False)
        module.eval()
    return BaseModel(tokenizer, text_encoder, vae, unet, noise_scheduler, name)


def load_pipeline(base_model: str, lora_dir: str | Path | None = None, dtype=None, device: str | None = None):
    """A `StableDiffusionPipeline` for `base_model` (no safety checker), with the LoRA in `lora_dir` loaded.

    The safety checker is left out: it is trained on photographs and only adds memory and false
    positives on skeleton drawings.
    """
    import torch
    from diffusers import StableDiffusionPipeline

    name, local = check_base_model(resolve_base_model(base_model))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = dtype or (torch.float16 if device.startswith("cuda") else torch.float32)
    try:
        pipe = StableDiffusionPipeline.from_pretrained(
            name, dtype=dtype, safety_checker=None, requires_safety_checker=False,
            local_files_only=local or None,
        )
    except (OSError, ValueError) as exc:
        if local:
            raise Text2ASLError(f"base model folder {name} is incomplete or corrupt ({exc}); re-save or re-download it.") from exc
        raise _offline_error(name, exc) from exc
    refuse_non_finite(name, {"text_encoder": pipe.text_encoder, "vae": pipe.vae, "unet": pipe.unet})
    pipe.set_progress_bar_config(disable=True)
    if lora_dir is not None:
        load_lora(pipe, lora_dir)
    return pipe.to(device)


def load_lora(pipe, lora_dir: str | Path, adapter_name: str = "skeleton") -> None:
    """Load `lora_dir/pytorch_lora_weights.safetensors` into `pipe` via diffusers' own `load_lora_weights`."""
    lora_dir = Path(lora_dir)
    weights = lora_dir / LORA_WEIGHTS if lora_dir.is_dir() else lora_dir
    if not weights.is_file():
        raise Text2ASLError(
            f"no LoRA weights at {weights}; pass the output folder of `text2asl train-lora` (it holds {LORA_WEIGHTS})."
        )
    from diffusers.utils import logging as diffusers_logging

    # diffusers logs the whole state-dict diff (hundreds of lines) before raising; one sentence is enough.
    verbosity = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity(diffusers_logging.CRITICAL)
    try:
        pipe.load_lora_weights(str(weights.parent), weight_name=weights.name, adapter_name=adapter_name)
    except (RuntimeError, ValueError, KeyError) as exc:
        lines = str(exc).splitlines()
        detail = next((line.strip() for line in lines if "mismatch" in line), lines[0] if lines else "")
        trained_on = training_info(weights.parent).get("base_model", "the base model it was trained on")
        raise Text2ASLError(
            f"the LoRA in {weights} does not fit base model {getattr(pipe, 'name_or_path', None) or '(given)'} "
            f"({detail[:200]}); use {trained_on}."
        ) from exc
    finally:
        diffusers_logging.set_verbosity(verbosity)


def base_info(base_model: str) -> dict:
    """What `train-base` recorded about a base it made (train_base.json: phases, resolution, glosses); {} otherwise."""
    path = Path(resolve_base_model(base_model)).expanduser() / BASE_INFO
    return json.loads(path.read_text()) if path.is_file() else {}


def training_info(run_dir: str | Path) -> dict:
    """What train.py recorded about a run (base model, dataset glosses, phases, durations); {} when absent."""
    path = Path(run_dir) / TRAINING_INFO
    if not path.is_file():
        return {}
    return json.loads(path.read_text())
