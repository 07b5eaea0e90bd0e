"""SD v1-4 at full size without its weights: a random-weight folder in its exact architecture and layout, run end to end.

    python benchmarks/sd14_full_size.py [--scale full|tiny] [--work DIR] [--bpe-vocab bpe_simple_vocab_16e6.txt.gz] [--warm]

The folder has what `CompVis/stable-diffusion-v1-4` publishes: model_index.json and every config
with the old (diffusers 0.2.2) keys, unet/ and vae/ (AutoencoderKL, 8x latents), text_encoder/
(CLIP ViT-L/14's text tower), tokenizer/ with vocab.json and merges.txt and no tokenizer.json,
safety_checker/, feature_extractor/ and a PNDM scheduler; only the weights are random. CLIP's BPE
vocabulary ships inside the open_clip_torch wheel (bpe_simple_vocab_16e6.txt.gz): it is used when
open_clip is installed or `--bpe-vocab` names the file; otherwise a small BPE vocabulary learned
from the captions is written in the same format (the text encoder keeps CLIP's 49,408 embeddings).

Then each stage runs as its own process, and the table gives its wall time and peak RSS:
make-dataset at the model's resolution (512² at full size), train-lora for two steps (rank 4,
alpha 8, --mixed-precision fp16 as the course asks: on a CPU that trains in fp32 and says so),
a resume from checkpoint-1 that must end with bit-identical LoRA weights, diffusers' own
`load_lora_weights` into a plain pipeline, `translate --renderer diffusion` and cross-attention maps.
Every stage must exit 0, print no traceback and no torchvision warning; the script exits 1 otherwise.
`--scale tiny` builds the same layout with toy dimensions (seconds; tests run it with `--warm`,
where each stage is a fork of one process that imported torch, diffusers, transformers and peft
once: the same stages and checks, without ~5 s of imports each).
At full size on 2 CPU cores expect about 10+ minutes and 8 GB of RAM.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

# The published configs (old keys, as on the hub); `tiny` shrinks only the sizes.
SCALES = {
    "full": {"unet_channels": [320, 640, 1280, 1280], "layers": 2, "heads": 8, "cross": 768, "text_layers": 12,
             "text_heads": 12, "text_ffn": 3072, "vae_channels": [128, 256, 512, 512], "vision_hidden": 1024,
             "vision_layers": 24, "vision_heads": 16, "vision_ffn": 4096, "projection": 768, "resolution": 512},
    "tiny": {"unet_channels": [32, 32, 64, 64], "layers": 1, "heads": 2, "cross": 32, "text_layers": 2,
             "text_heads": 2, "text_ffn": 64, "vae_channels": [16, 16, 32, 32], "vision_hidden": 32,
             "vision_layers": 1, "vision_heads": 2, "vision_ffn": 64, "projection": 32, "resolution": 64},
}
CLIP_VOCAB_SIZE = 49408
LEXICON_GLOSSES = "embedded"
N_PHASES = 2


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """CLIP's (and GPT-2's) reversible byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def clip_merges(bpe_vocab: Path | None) -> list[str]:
    """CLIP's 48,894 BPE merges from bpe_simple_vocab_16e6.txt.gz (open_clip's copy or `bpe_vocab`), else []."""
    if bpe_vocab is None:
        try:
            import open_clip.tokenizer as oct
        except ImportError:
            return []
        bpe_vocab = Path(oct.default_bpe())
    lines = gzip.open(bpe_vocab).read().decode("utf-8").split("\n")
    return lines[1:49152 - 256 - 2 + 1]  # what CLIP's SimpleTokenizer and transformers' CLIPTokenizer keep


def learned_merges(words: list[str], n_merges: int = 300) -> list[str]:
    """A small valid BPE: the most frequent adjacent pairs of `words` (lower-cased, '</w>' ends a word)."""
    table = bytes_to_unicode()

    def symbols(word: str) -> tuple[str, ...]:
        chars = [table[b] for b in word.lower().encode("utf-8")]
        return tuple(chars[:-1]) + (chars[-1] + "</w>",)

    corpus = Counter(symbols(w) for w in words if w)
    merges: list[str] = []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for word, freq in corpus.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += freq
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(" ".join(best))
        merged: Counter = Counter()
        for word, freq in corpus.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += freq
        corpus = merged
    return merges


def write_tokenizer(folder: Path, merges: list[str]) -> None:
    """vocab.json + merges.txt + the two small JSON files, as SD v1-4's tokenizer/ (no tokenizer.json)."""
    chars = list(bytes_to_unicode().values())
    vocab = chars + [c + "</w>" for c in chars] + ["".join(m.split()) for m in merges]
    vocab = list(dict.fromkeys(vocab)) + ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
               "unk_token": "<|endoftext|>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        **special, "add_prefix_space": False, "do_lower_case": True, "errors": "replace", "model_max_length": 77,
        "name_or_path": "openai/clip-vit-large-patch14", "tokenizer_class": "CLIPTokenizer"}, indent=2))


def _write_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config, indent=2))


def build_sd14_folder(out: Path, scale: str = "full", bpe_vocab: Path | None = None, seed: int = 0) -> Path:
    """Write a random-weight SD v1-4 folder (layout and config keys as published) to `out`; returns `out`."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPTextConfig, CLIPTextModel

    s = SCALES[scale]
    torch.manual_seed(seed)
    out.mkdir(parents=True)
    (out / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.2.2",
        "feature_extractor": ["transformers", "CLIPImageProcessor"],
        "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
        "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"]}, indent=2))
    n = len(s["unet_channels"])
    unet_config = {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.2.2", "act_fn": "silu",
        "attention_head_dim": s["heads"], "block_out_channels": s["unet_channels"], "center_input_sample": False,
        "cross_attention_dim": s["cross"],
        "down_block_types": ["CrossAttnDownBlock2D"] * (n - 1) + ["DownBlock2D"], "downsample_padding": 1,
        "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": s["layers"],
        "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": min(32, s["unet_channels"][0]),
        "out_channels": 4, "sample_size": s["resolution"] // 8,
        "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (n - 1)}
    vae_config = {
        "_class_name": "AutoencoderKL", "_diffusers_version": "0.2.2", "act_fn": "silu",
        "block_out_channels": s["vae_channels"], "down_block_types": ["DownEncoderBlock2D"] * 4, "in_channels": 3,
        "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": min(32, s["vae_channels"][0]),
        "out_channels": 3, "sample_size": s["resolution"], "up_block_types": ["UpDecoderBlock2D"] * 4}
    for name, cls, config in (("unet", UNet2DConditionModel, unet_config), ("vae", AutoencoderKL, vae_config)):
        cls.from_config(config).save_pretrained(out / name, safe_serialization=True)
        _write_config(out / name, config)  # the published keys, not today's full set
    text = CLIPTextConfig(vocab_size=CLIP_VOCAB_SIZE, hidden_size=s["cross"], intermediate_size=s["text_ffn"],
                          num_hidden_layers=s["text_layers"], num_attention_heads=s["text_heads"],
                          max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=s["projection"],
                          bos_token_id=0, eos_token_id=2, pad_token_id=1)
    CLIPTextModel(text).save_pretrained(out / "text_encoder", safe_serialization=True)
    vision = {"hidden_size": s["vision_hidden"], "intermediate_size": s["vision_ffn"], "num_hidden_layers": s["vision_layers"],
              "num_attention_heads": s["vision_heads"], "image_size": 224, "patch_size": 14, "hidden_act": "quick_gelu",
              "projection_dim": s["projection"]}
    clip = CLIPConfig(text_config=text.to_dict(), vision_config=vision, projection_dim=s["projection"])
    StableDiffusionSafetyChecker(clip).save_pretrained(out / "safety_checker", safe_serialization=True)
    (out / "feature_extractor").mkdir()
    (out / "feature_extractor" / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}, indent=2))
    (out / "scheduler").mkdir()
    (out / "scheduler" / "scheduler_config.json").write_text(json.dumps({
        "_class_name": "PNDMScheduler", "_diffusers_version": "0.2.2", "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
        "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
        "clip_sample": False}, indent=2))
    merges = clip_merges(bpe_vocab)
    if not merges:
        from text2asl.diffusion.caption import caption

        words = " ".join(caption(chr(c), k, N_PHASES) for c in range(ord("A"), ord("Z") + 1)
                         for k in range(1, N_PHASES + 1)).lower().replace(",", " ").split()
        merges = learned_merges(words)
    write_tokenizer(out / "tokenizer", merges)
    return out


# -- the stages ---------------------------------------------------------------------------------

PLAIN_LOAD = """
import sys, torch
from diffusers import StableDiffusionPipeline
base, run = sys.argv[1], sys.argv[2]
pipe = StableDiffusionPipeline.from_pretrained(base, safety_checker=None, feature_extractor=None,
                                               requires_safety_checker=False, local_files_only=True)
u = pipe.unet.config
x = torch.randn(1, u.in_channels, u.sample_size, u.sample_size, generator=torch.Generator().manual_seed(0))
ids = pipe.tokenizer(["asl skeleton, A, phase 1 of 2"], padding="max_length", max_length=77, return_tensors="pt").input_ids
with torch.no_grad():
    h = pipe.text_encoder(ids)[0]
    before = pipe.unet(x, 500, h).sample
    pipe.load_lora_weights(run)
    after = pipe.unet(x, 500, h).sample
n = sum(1 for name, _ in pipe.unet.named_parameters() if "lora_" in name)
change = (after - before).abs().max().item()
print(f"plain diffusers: {n} LoRA tensors loaded, max output change {change:.3g}")
sys.exit(0 if n and change > 0 else 1)
"""

ATTENTION = """
import sys
from text2asl.diffusion.attention import attention_maps
from text2asl.diffusion.generate import generation_config
from text2asl.diffusion.model import load_pipeline
pipe = load_pipeline(sys.argv[1], lora_dir=sys.argv[2], device="cpu")
maps = attention_maps(pipe, ["asl skeleton, A, phase 1 of 2"], generation_config(sys.argv[1], sys.argv[2], num_inference_steps=2))
g = maps[0].gloss()
print(f"attention: gloss {g.word!r} map {g.heat.shape}, sum {g.heat.sum():.3g}")
"""


# What `--warm` imports once, before the stages fork: the libraries every stage but make-dataset needs.
WARM_MODULES = ("torch", "accelerate", "peft", "transformers", "diffusers", "diffusers.pipelines.stable_diffusion",
                "text2asl.cli", "text2asl.diffusion.model", "text2asl.diffusion.train_lora", "text2asl.diffusion.generate")


def warm_up(env: dict) -> str:
    """Import `WARM_MODULES` into this process (with the stages' environment); what they printed to stderr."""
    import importlib

    os.environ.update(env)
    with tempfile.TemporaryFile("w+") as err:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            for name in WARM_MODULES:
                importlib.import_module(name)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        return err.read()


def _forked_stage(argv: list[str]) -> None:
    """In a forked child: run `python -m MODULE ARGS` or `python -c CODE ARGS` in this interpreter, then exit."""
    import runpy
    import traceback

    code = 0
    try:
        if argv[1] == "-m":
            sys.argv = [argv[2], *argv[3:]]
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *argv[3:]]
            exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        if not isinstance(exc.code, int) and exc.code is not None:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_stage(name: str, argv: list[str], env: dict, ours: bool = True, warm: bool = False) -> dict:
    """Run one stage in its own process; its wall time, its own peak RSS (from wait4) and its output.

    `ours`: a text2asl command, which must not print transformers' torchvision notice (a user's own
    plain-diffusers script imports the pipeline module directly and gets it; that is not checked).
    `warm`: the process is a fork of this one (after `warm_up`) instead of a fresh interpreter: the same
    stage without its ~5 s of imports (its peak RSS includes the imported libraries, as a fresh one's does).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        if warm:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                _forked_stage(argv)
        else:
            pid = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True).pid
        _, status, usage = os.wait4(pid, 0)  # this child's rusage alone, not a maximum over all children
        returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    problems = []
    if returncode != 0:
        problems.append(f"exit {returncode}")
    if "Traceback" in stderr:
        problems.append("traceback")
    if ours and "torchvision" in stderr:
        problems.append("torchvision warning")
    return {"stage": name, "seconds": wall, "peak_mb": usage.ru_maxrss / 1024, "ok": not problems,
            "problems": problems, "stdout": stdout, "stderr": stderr}


def stages(work: Path, base: Path, scale: str) -> list[tuple[str, list[str]]]:
    py = sys.executable
    res = str(SCALES[scale]["resolution"])
    data, run = work / "dataset", work / "run"
    train = [py, "-m", "text2asl", "train-lora", "--base-model", str(base), "--data", str(data), "-o", str(run),
             "--resolution", res, "--train-batch-size", "1", "--rank", "4", "--lora-alpha", "8",
             "--mixed-precision", "fp16", "--checkpointing-steps", "1", "--validation-epochs", "0", "--quiet"]
    return [
        ("make-dataset", [py, "-m", "text2asl", "make-dataset", "--lexicon", LEXICON_GLOSSES, "-o", str(data),
                          "--resolution", res, "--phases", str(N_PHASES), "--quiet"]),
        ("train-lora (2 steps)", train + ["--max-train-steps", "2"]),
        ("resume from checkpoint-1", train + ["--max-train-steps", "2", "--resume", "checkpoint-1"]),
        ("plain diffusers load_lora_weights", [py, "-c", PLAIN_LOAD, str(base), str(run)]),
        ("translate --renderer diffusion", [py, "-m", "text2asl", "translate", "--glosses", "A", "--renderer",
                                            "diffusion", "--base-model", str(base), "--lora", str(run), "--steps", "2",
                                            "--size", res, "-o", str(work / "a.mp4"), "-q"]),
        ("attention maps", [py, "-c", ATTENTION, str(base), str(run)]),
    ]


def run_all(scale: str, work: Path, bpe_vocab: Path | None = None, warm: bool = False) -> list[dict]:
    """Build the folder, run every stage; rows of the table (stage, seconds, peak_mb, ok, problems).

    `warm`: the stages are forks of this process, which imports the libraries once first (`run_stage`);
    what those imports print is checked as each stage's output is.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    rows = []
    if warm:
        start = time.monotonic()
        printed = warm_up(env)
        problems = ["torchvision warning"] * ("torchvision" in printed) + ["traceback"] * ("Traceback" in printed)
        rows.append({"stage": "import the libraries once (--warm)", "seconds": time.monotonic() - start,
                     "peak_mb": float("nan"), "ok": not problems, "problems": problems, "stdout": "", "stderr": printed})
    from text2asl.diffusion.model import LORA_WEIGHTS

    base = work / "sd-v1-4-random"
    build = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from sd14_full_size import build_sd14_folder;"
             " from pathlib import Path; build_sd14_folder(Path(sys.argv[2]), sys.argv[3],"
             " Path(sys.argv[4]) if sys.argv[4] else None)", str(Path(__file__).parent), str(base), scale,
             str(bpe_vocab or "")]
    if all(r["ok"] for r in rows):
        rows.append(run_stage("build random SD v1-4 folder", build, env, warm=warm))
    for name, argv in stages(work, base, scale):
        if not all(r["ok"] for r in rows):
            break
        if name.startswith("resume"):
            first = (work / "run" / LORA_WEIGHTS).read_bytes()
            (work / "run" / LORA_WEIGHTS).unlink()
        rows.append(run_stage(name, argv, env, ours=not name.startswith("plain"), warm=warm))
        if name.startswith("train-lora") and rows[-1]["ok"]:
            info = json.loads((work / "run" / "training_info.json").read_text())
            if info["config"]["mixed_precision"] != "no" or "trains in fp32" not in rows[-1]["stderr"]:
                rows[-1]["ok"] = False
                rows[-1]["problems"].append("fp16 on CPU not reported as fp32")
        if name.startswith("resume") and rows[-1]["ok"]:
            same = (work / "run" / LORA_WEIGHTS).read_bytes() == first
            rows[-1]["problems"] += [] if same else ["LoRA differs from the uninterrupted run"]
            rows[-1]["ok"] = same
            rows[-1]["stdout"] += "resumed LoRA bit-identical to the uninterrupted run\n" if same else ""
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'stage':36s} {'seconds':>8s} {'peak RSS MB':>12s}  result")
    for r in rows:
        note = "ok" if r["ok"] else "FAILED: " + ", ".join(r["problems"])
        print(f"{r['stage']:36s} {r['seconds']:8.1f} {r['peak_mb']:12.0f}  {note}")
        for line in r["stdout"].strip().splitlines()[-2:]:
            print(f"{'':36s} {line}")
        if not r["ok"]:
            print(r["stderr"][-3000:], file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--bpe-vocab", type=Path, default=None, help="CLIP's bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument("--warm", action="store_true",
                        help="fork each stage from this process after importing torch, diffusers, transformers and "
                             "peft once (the tests' way: the same stages and checks, without ~5 s of imports each)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="sd14-"))
    try:
        work.mkdir(parents=True, exist_ok=True)
        rows = run_all(args.scale, work, args.bpe_vocab, args.warm)
        print_table(rows)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["ok"] for r in rows) and len(rows) == 7 + args.warm else 1


if __name__ == "__main__":
    sys.exit(main())
