"""Loading a Stable Diffusion base model (hub id or local folder) and LoRA weights, with one-sentence errors.

Every base model, the tiny one included, goes through diffusers' `from_pretrained`, so a user's
local copy of SD v1-4, a hub id already in the cache and the tiny preset's folder behave the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from text2asl.diffusion.config import TINY_ASL
from text2asl.errors import Text2ASLError

LORA_WEIGHTS = "pytorch_lora_weights.safetensors"
TRAINING_INFO = "training_info.json"  # written by train_lora.py beside the LoRA weights
TOKEN_EMBEDDINGS = "token_embeddings.safetensors"  # {token: embedding}, when train-lora trained the gloss words too
BASE_INFO = "train_base.json"  # written by train_base.py into the base it made
TINY_ASL_DIR = Path(__file__).with_name("tiny_asl")  # the shipped base, made by `text2asl train-base`
LORA_DIR_ATTRIBUTE = "text2asl_lora_dir"  # `load_lora` notes the run folder on the pipeline: generation reads its record


@dataclass
class BaseModel:
    """The parts of an SD pipeline that training needs, in eval mode with frozen weights."""

    tokenizer: Any
    text_encoder: Any  # transformers.CLIPTextModel
    vae: Any  # diffusers.AutoencoderKL
    unet: Any  # diffusers.UNet2DConditionModel
    noise_scheduler: Any  # diffusers.DDPMScheduler, the training noise schedule
    path: str


def stable_diffusion_pipeline():
    """diffusers' `StableDiffusionPipeline` class, imported without transformers' torchvision notice.

    Its module imports CLIPImageProcessor, the safety checker's feature extractor; without
    torchvision, transformers falls back to its PIL implementation and logs that on the import. This
    package never loads a feature extractor (the safety checker is left out, see `load_pipeline`),
    so the notice says nothing about the run and is kept off the console.
    """
    import logging

    notice = logging.getLogger("transformers.utils.import_utils")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        from diffusers import StableDiffusionPipeline
    finally:
        notice.setLevel(level)
    return StableDiffusionPipeline


def hide_library_progress_bars() -> None:
    """Turn off the progress bars diffusers and transformers draw themselves (loading weights, denoising steps)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


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
                "vae/, text_encoder/, tokenizer/) or a hub id such as CompVis/stable-diffusion-v1-4"
            )
        if not (path / "unet" / "config.json").is_file() and (path / LORA_WEIGHTS).is_file():
            trained_on = training_info(path).get("base_model")
            raise Text2ASLError(f"{base_model} is a LoRA run folder (made by train-lora), not a base model; give the base "
                                f"it was trained on{f' ({trained_on})' if trained_on else ''} as --base-model")
        if not (path / "unet" / "config.json").is_file():
            raise Text2ASLError(
                f"base model folder {base_model} has no UNet (unet/config.json is missing); point --base-model "
                "at a complete diffusers pipeline folder, e.g. one saved with `StableDiffusionPipeline.save_pretrained`"
            )
        return str(path), True
    return base_model, False


def _offline_error(base_model: str, exc: Exception) -> Text2ASLError:
    return Text2ASLError(
        f"could not load base model {base_model!r}: it is not in the local Hugging Face cache and the hub is "
        f"unreachable or offline ({type(exc).__name__}); on a connected machine run `hf download {base_model} "
        "--local-dir DIR` and pass --base-model DIR"
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
            raise Text2ASLError(f"base model folder {name} is incomplete or corrupt ({exc}); re-save or re-download it") from exc
        raise _offline_error(name, exc) from exc
    refuse_non_finite(name, {"text_encoder": text_encoder, "vae": vae, "unet": unet})
    for module in (text_encoder, vae, unet):
        module.requires_grad_(False)
        module.eval()
    return BaseModel(tokenizer, text_encoder, vae, unet, noise_scheduler, name)


def load_pipeline(base_model: str, lora_dir: str | Path | None = None, dtype=None, device: str | None = None):
    """A `StableDiffusionPipeline` for `base_model` (no safety checker), with the LoRA in `lora_dir` loaded.

    The safety checker is left out: it is trained on photographs and only adds memory and false
    positives on skeleton drawings. So is its feature extractor, which only feeds the checker.
    """
    import torch

    StableDiffusionPipeline = stable_diffusion_pipeline()
    if lora_dir is not None:
        lora_weights(lora_dir)  # a missing or damaged LoRA fails before the base model loads
    name, local = check_base_model(resolve_base_model(base_model))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = dtype or (torch.float16 if device.startswith("cuda") else torch.float32)
    try:
        pipe = StableDiffusionPipeline.from_pretrained(
            name, dtype=dtype, safety_checker=None, feature_extractor=None, requires_safety_checker=False,
            local_files_only=local or None,
        )
    except (OSError, ValueError) as exc:
        if local:
            raise Text2ASLError(f"base model folder {name} is incomplete or corrupt ({exc}); re-save or re-download it") from exc
        raise _offline_error(name, exc) from exc
    refuse_non_finite(name, {"text_encoder": pipe.text_encoder, "vae": pipe.vae, "unet": pipe.unet})
    pipe.set_progress_bar_config(disable=True)
    if lora_dir is not None:
        load_lora(pipe, lora_dir)
    return pipe.to(device)


def lora_weights(lora_dir: str | Path) -> Path:
    """The LoRA file of a `train-lora` output folder (or the file itself), read once to prove it is intact."""
    lora_dir = Path(lora_dir)
    weights = lora_dir / LORA_WEIGHTS if lora_dir.is_dir() else lora_dir
    if not weights.is_file():
        raise Text2ASLError(
            f"no LoRA weights at {weights}; pass the output folder of `text2asl train-lora` (it holds {LORA_WEIGHTS})"
        )
    _check_lora_file(weights)
    return weights


def load_lora(pipe, lora_dir: str | Path, adapter_name: str = "skeleton") -> None:
    """Load `lora_dir/pytorch_lora_weights.safetensors` into `pipe` via diffusers' own `load_lora_weights`.

    The run folder is noted on `pipe` (attribute `LORA_DIR_ATTRIBUTE`): generation reads its settings there.
    """
    weights = lora_weights(lora_dir)
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
            f"({detail[:200]}); use {trained_on}"
        ) from exc
    finally:
        diffusers_logging.set_verbosity(verbosity)
    setattr(pipe, LORA_DIR_ATTRIBUTE, weights.parent)
    tokens = weights.parent / TOKEN_EMBEDDINGS
    if tokens.is_file():
        load_token_embeddings(pipe, tokens)


def load_token_embeddings(pipe, path: str | Path) -> list[str]:
    """Write the embeddings of `path` ({token: (D,) tensor}, from train-lora) into `pipe`'s text encoder; returns the tokens.

    The words are already in the tokenizer (a gloss the base never learnt still has a token), so
    this sets their rows of the input embedding, which diffusers' `load_textual_inversion` (made for
    new words) refuses. In plain diffusers, the same is three lines:
    `for tok, vec in load_file(path).items(): emb.weight.data[pipe.tokenizer.convert_tokens_to_ids(tok)] = vec`.
    """
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        vectors = load_file(str(path))
    except (OSError, SafetensorError, ValueError):
        raise Text2ASLError(f"{path} is unreadable; retrain the LoRA or delete the file to use the LoRA alone") from None
    weight = pipe.text_encoder.get_input_embeddings().weight
    tok = pipe.tokenizer
    for name, vec in vectors.items():
        index = tok.convert_tokens_to_ids(name)
        if index is None or (index == tok.unk_token_id and name != tok.unk_token) or tuple(vec.shape) != (weight.shape[1],):
            raise Text2ASLError(f"{path} holds {name!r} ({tuple(vec.shape)}), which does not fit this base model's "
                                f"tokenizer and {weight.shape[1]}-dimensional embeddings; use the base the LoRA was trained on")
        if not torch.isfinite(vec).all():
            raise Text2ASLError(f"{path} holds NaN or inf for {name!r}; retrain the LoRA")
    # Trained embeddings stay near the base's own; far larger ones overflow the text encoder into NaN images.
    limit = 100 * float(weight.detach().norm(dim=1).max())
    for name, vec in vectors.items():
        norm = float(vec.double().norm())
        if not norm <= limit:
            raise Text2ASLError(f"{path} holds an embedding of norm {norm:.3g} for {name!r}, over 100 times the base "
                                "model's largest; retrain the LoRA, or delete the file to use the LoRA alone")
    with torch.no_grad():
        for name, vec in vectors.items():
            weight[tok.convert_tokens_to_ids(name)] = vec.to(weight.device, weight.dtype)
    return list(vectors)


def base_info(base_model: str) -> dict:
    """What `train-base` recorded about a base it made (train_base.json: phases, resolution, glosses); {} otherwise."""
    from text2asl.io import read_json_object

    path = Path(resolve_base_model(base_model)).expanduser() / BASE_INFO
    return read_json_object(path, "retrain the base with `text2asl train-base`")


def _check_lora_file(weights: Path) -> None:
    """Read the LoRA file once through safetensors: a truncated or non-safetensors file is one sentence, not a traceback."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(weights))
    except (OSError, SafetensorError, ValueError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise Text2ASLError(f"the LoRA file {weights} is unreadable ({detail}); train it again or copy it again") from None
    if not tensors:
        raise Text2ASLError(f"the LoRA file {weights} holds no tensors; train it again with `text2asl train-lora`")


def training_info(run_dir: str | Path) -> dict:
    """What train_lora.py recorded about a run (base model, dataset glosses, phases, durations); {} when absent.

    The fields that generation reads are checked, so a damaged file is one sentence naming it.
    """
    from text2asl.io import read_json_object

    path = Path(run_dir) / TRAINING_INFO
    info = read_json_object(path, "train the LoRA again or delete the file")
    problem = None
    if not isinstance(info.get("base_model", ""), str):
        problem = "base_model is not a string"
    elif not all(_is_int(info.get(k), 1, hi) for k, hi in (("n_phases", 64), ("resolution", 2048)) if info.get(k) is not None):
        problem = "n_phases or resolution is not a sensible integer"
    elif not (isinstance(info.get("glosses", {}), dict) and all(isinstance(v, dict) for v in info.get("glosses", {}).values())):
        problem = "glosses is not an object of objects"
    elif not all(_is_number(v.get("duration_s"), 0, 3600) for v in info.get("glosses", {}).values() if v.get("duration_s") is not None):
        problem = "a gloss duration_s is not a number of seconds"
    elif not isinstance(info.get("config", {}), dict) or not _is_number(info.get("config", {}).get("guidance_scale", 1.0), 0, 100):
        problem = "config.guidance_scale is not a number in [0, 100]"
    if problem:
        raise Text2ASLError(f"{path} is damaged ({problem}); train the LoRA again or delete the file")
    return info


def _is_number(value, lo: float, hi: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi


def _is_int(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and _is_number(value, lo, hi)


def seeded_generator(seed: int):
    """A CPU `torch.Generator` seeded with `seed`: every sampling, noise and validation draw takes one.

    It seeds nothing global, so a run's noise depends only on the seeds it passes, not on what ran before.
    """
    import torch

    return torch.Generator().manual_seed(int(seed))


# Torch CPU threads for generation. On the shared 2-core machine one thread was fastest whether or not
# another process was busy (README: "Diffusion on a shared CPU"); two threads fight each other and
# the other process for the same cores.
CPU_THREADS = 1


def use_cpu_threads(threads: int | None = CPU_THREADS) -> int:
    """Set torch's CPU threads to `threads` (default `CPU_THREADS`) unless OMP_NUM_THREADS chose already; returns the count."""
    import os

    import torch

    if threads and not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()
