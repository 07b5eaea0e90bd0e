"""Base pre-training (`train-base`) at smoke size: exact resume after a kill, held-out glosses, bad options; the shipped tiny-asl base."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion import train_base  # noqa: E402
from text2asl.diffusion.config import BASE_PRESETS, HELD_OUT_GLOSSES  # noqa: E402
from text2asl.diffusion.model import BASE_INFO, TINY_ASL_DIR, base_info, load_base_model  # noqa: E402

SMOKE = BASE_PRESETS["smoke"].replace(held_out=("C",))

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    from text2asl.gloss_to_pose.sublexicon import sub_lexicon
    from text2asl.gloss_to_pose.lexicon import Lexicon

    return sub_lexicon(Lexicon.embedded(), ["A", "B", "C", "L"], tmp_path_factory.mktemp("lex") / "letters")


def _losses(run):
    lines = (run / "loss.csv").read_text().splitlines()[1:]
    return [(int(line.split(",")[0]), float(line.split(",")[2])) for line in lines]


def _unet(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "unet" / "diffusion_pytorch_model.safetensors"))


def test_killed_run_resumes_to_the_same_weights(letters, tmp_path, monkeypatch):
    straight = train_base.train_base(letters, tmp_path / "straight", SMOKE, max_train_steps=6, progress=False)
    assert (straight.global_step, straight.stopped) == (6, "done")

    calls = {"n": 0}
    real_loss = train_base.diffusion_loss

    def killed_at_sixth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # a kill after checkpoint-5
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train_base, "diffusion_loss", killed_at_sixth)
    with pytest.raises(KeyboardInterrupt):
        train_base.train_base(letters, tmp_path / "killed", SMOKE, max_train_steps=6, progress=False)
    assert not (tmp_path / "killed" / "model").exists()
    vae_stamp = (tmp_path / "killed" / "stage-vae" / "config.json").stat().st_mtime_ns
    monkeypatch.setattr(train_base, "diffusion_loss", real_loss)

    resumed = train_base.train_base(letters, tmp_path / "killed", SMOKE, max_train_steps=6, progress=False)
    assert resumed.global_step == 6
    assert (tmp_path / "killed" / "stage-vae" / "config.json").stat().st_mtime_ns == vae_stamp  # VAE not retrained
    steps, losses = zip(*_losses(tmp_path / "killed"))
    assert steps == (1, 2, 3, 4, 5, 6)
    assert losses == pytest.approx([loss for _, loss in _losses(tmp_path / "straight")], rel=1e-5)
    a, b = _unet(straight.model_dir), _unet(resumed.model_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert all(t.dtype == torch.float16 for t in a.values())  # shipped as fp16


def test_held_out_glosses_are_never_seen_but_have_tokens(letters, tmp_path):
    from text2asl.diffusion.dataset import read_metadata

    result = train_base.train_base(letters, tmp_path / "run", SMOKE, max_train_steps=2, progress=False)
    glosses = {row["gloss"] for row in read_metadata(tmp_path / "run" / "dataset")}
    assert glosses == {"A", "B", "L"}
    info = json.loads((result.model_dir / BASE_INFO).read_text())
    assert info["held_out_glosses"] == ["C"] and "C" not in info["training_glosses"] and info["seed"] == 0
    base = load_base_model(str(result.model_dir))  # the same from_pretrained path as a real base
    assert base.tokenizer.unk_token_id not in base.tokenizer("asl skeleton, C, phase 1 of 2").input_ids
    assert base.unet.dtype == torch.float32  # fp16 on disk, fp32 on the CPU


def test_bad_options_and_lexicons_are_one_sentence(letters, tmp_path, capsys):
    from text2asl.cli import main

    assert main(["train-base", "--lexicon", str(letters), "-o", str(tmp_path / "o"), "--max-minutes", "nan"]) == 2
    assert "not a finite number" in capsys.readouterr().err
    assert main(["train-base", "--lexicon", str(letters), "-o", str(tmp_path / "o"), "--max-train-steps", "0"]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["train-base", "--lexicon", str(letters), "-o", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "held-out glosses" in err and "ANGRY" in err and not err.rstrip().endswith(".")


def test_shipped_tiny_asl_base_loads_offline_finite_and_small():
    from pathlib import PurePosixPath

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    files = [p for p in TINY_ASL_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 10 * 2**20
    assert {p.suffix for p in files} <= {".json", ".safetensors"}  # nothing pickled
    # every file is declared package data, so a wheel and `pip install -e .` both carry it
    pyproject = tomllib.loads((TINY_ASL_DIR.parents[2] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["text2asl.diffusion"]
    for path in files:
        rel = PurePosixPath(path.relative_to(TINY_ASL_DIR.parent).as_posix())
        assert any(len(rel.parts) == len(PurePosixPath(g).parts) and rel.match(g) for g in globs), rel
    base = load_base_model("tiny-asl")  # refuses NaN/inf weights
    assert type(base.unet).__name__ == "UNet2DConditionModel" and type(base.vae).__name__ == "AutoencoderKL"
    info = base_info("tiny-asl")
    assert tuple(info["held_out_glosses"]) == HELD_OUT_GLOSSES
    assert not set(HELD_OUT_GLOSSES) & set(info["training_glosses"])
    assert (info["resolution"], info["n_phases"]) == (BASE_PRESETS["tiny-asl"].resolution, BASE_PRESETS["tiny-asl"].n_phases)


def test_tiny_asl_draws_each_gloss_closer_to_its_own_keyframes(word_lexicon, tmp_path):
    """Generated keyframes of a training gloss are nearer (pixel MAE) to that gloss's real keyframes than to another's."""
    import numpy as np

    from text2asl.diffusion.dataset import make_dataset
    from text2asl.diffusion.generate import generate_keyframes, generation_config
    from text2asl.diffusion.model import load_pipeline
    from text2asl.diffusion.dataset import gloss_keyframes
    from text2asl.gloss_to_pose.sublexicon import sub_lexicon

    info = base_info("tiny-asl")
    glosses = ["BOOK", "HELLO"]
    data = make_dataset([sub_lexicon(word_lexicon, glosses, tmp_path / "lex")], tmp_path / "ds",
                        resolution=info["resolution"], n_phases=info["n_phases"], progress=False)
    real = gloss_keyframes(data, glosses)
    pipe = load_pipeline("tiny-asl", device="cpu")
    fake = dict(zip(glosses, generate_keyframes(pipe, glosses, generation_config("tiny-asl", num_inference_steps=10),
                                                progress=False)))

    def mae(a, b):
        return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())

    for own, other in (glosses, glosses[::-1]):
        assert mae(fake[own], real[own]) < mae(fake[own], real[other]), own


def test_init_from_continues_an_earlier_base_with_the_grounding_loss(letters, tmp_path, capsys):
    import csv

    from safetensors.torch import load_file

    from text2asl.cli import main

    first = train_base.train_base(letters, tmp_path / "first", SMOKE, max_train_steps=2, progress=False)
    second = train_base.train_base(letters, tmp_path / "second", SMOKE, max_train_steps=3, progress=False,
                                   init_from=str(first.model_dir))
    rows = list(csv.DictReader(open(tmp_path / "second" / "loss.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3] and all(float(r["grounding"]) >= 0 for r in rows)
    info = json.loads((second.model_dir / BASE_INFO).read_text())
    assert info["init_from"]["global_step"] == 2 and info["init_from"]["model"] == str(first.model_dir)
    assert info["config"]["grounding_weight"] == SMOKE.grounding_weight > 0
    vae = [load_file(str(m / "vae" / "diffusion_pytorch_model.safetensors")) for m in (first.model_dir, second.model_dir)]
    assert all(torch.equal(vae[0][k], vae[1][k]) for k in vae[0])  # the VAE is kept, not retrained
    assert not all(torch.equal(a, b) for a, b in zip(_unet(first.model_dir).values(), _unet(second.model_dir).values()))

    argv = ["train-base", "--lexicon", str(letters), "--preset", "smoke", "--quiet", "-o"]
    assert main([*argv, str(tmp_path / "o1"), "--init-from", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err and not (tmp_path / "o1" / "dataset").exists()  # refused before work
    with pytest.raises(train_base.Text2ASLError, match="draws 64² images but the preset trains at 32²"):
        train_base.train_base(letters, tmp_path / "o2", SMOKE, max_train_steps=1, progress=False, init_from="tiny-asl")
    assert not (tmp_path / "o2" / "dataset").exists()
    assert main([*argv, str(tmp_path / "o3"), "--grounding-weight", "-1"]) == 2
    assert "--grounding-weight" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train-base", "train-lora"])
def test_every_setting_of_the_config_is_an_option_that_reaches_the_config(command):
    """Both commands derive their options from their config's fields (text2asl.commands.settings.add_settings), one spelling each."""
    import argparse
    import dataclasses

    from text2asl.commands import train_base as base_cmd, train_lora as lora_cmd
    from text2asl.diffusion.config import BaseTrainingConfig, LoraTrainingConfig
    from text2asl.diffusion.ranges import CHOICES, RANGES, flag

    cmd, cls, required = {"train-base": (base_cmd, BaseTrainingConfig, ["--lexicon", "L", "-o", "O"]),
                          "train-lora": (lora_cmd, LoraTrainingConfig, ["--data", "D", "-o", "O"])}[command]
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    options = {o for action in parser._actions for o in action.option_strings}
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in cmd._SPECIAL]
    assert {flag(name) for name in fields} <= options
    assert "--max-minutes" in options and "--minutes" not in options
    for name in fields:
        default = getattr(cmd.config_from_args(parser.parse_args(required)), name)
        if name in CHOICES:
            value = next(v for v in CHOICES[name] if v != default)
        elif name in RANGES:
            kind, lo, hi, _ = RANGES[name]
            value = kind(hi) if default != kind(hi) else kind(lo + 1)
        elif isinstance(default, bool):
            value = not default
        elif isinstance(default, tuple):
            value = ("ZEBRA",)
        else:
            continue
        text = ([] if isinstance(value, bool) else [str(v) for v in value] if isinstance(value, tuple) else [str(value)])
        argv = [flag(name) if value is not False else "--no-" + flag(name)[2:], *text]
        if name == "resolution" and cls is LoraTrainingConfig:
            argv = [flag(name), "1024"]  # a multiple of the VAE's 8
            value = 1024
        assert getattr(cmd.config_from_args(parser.parse_args(required + argv)), name) == value, name
