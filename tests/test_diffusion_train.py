"""LoRA training on the tiny SD model: only LoRA tensors change, the file loads in diffusers, exact resume, faults;
min-SNR against its formula, accumulation and gradient checkpointing against the plain double batch, the schedule
against diffusers'."""
from __future__ import annotations

import csv
import math
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion import train_lora as train_mod  # noqa: E402
from text2asl.diffusion.checkpoint import checkpoints  # noqa: E402
from text2asl.diffusion.config import get_preset  # noqa: E402
from text2asl.diffusion.model import LORA_WEIGHTS, training_info  # noqa: E402
from text2asl.diffusion.train_lora import LoraTrainer, train_lora  # noqa: E402
from text2asl.errors import Text2ASLError  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(alphabet_data, smoke_base):
    return alphabet_data, smoke_base


def cfg(base, tokens: float = 0.0, **kw):
    """The smoke preset on the fixture's base; `tokens`: the gloss words' embedding lr (0: pure LoRA)."""
    settings = dict(base_model=str(base), resolution=32, train_batch_size=4, max_train_steps=4,
                    checkpointing_steps=2, validation_epochs=0)
    settings.update(kw)
    return get_preset("smoke", **settings).replace(token_learning_rate=tokens)


def lora_tensors(trainer) -> dict:
    from peft.utils import get_peft_model_state_dict

    return {k: v.detach().clone() for k, v in get_peft_model_state_dict(trainer.accelerator.unwrap_model(trainer.unet)).items()}


def losses(run) -> list[tuple[int, float]]:
    with open(run / "loss.csv", newline="") as fh:
        return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(fh)]


def test_steps_change_only_lora_tensors(tiny, tmp_path):
    data, base = tiny
    trainer = LoraTrainer(cfg(base, max_train_steps=3), data, tmp_path / "run", progress=False)
    assert trainer.token_ids == [] and trainer.text_encoder is None
    unet = trainer.accelerator.unwrap_model(trainer.unet)
    before = {n: p.detach().clone() for n, p in unet.named_parameters()}
    frozen = {n: p.detach().clone() for n, p in trainer.base.vae.named_parameters()}
    frozen.update({f"te.{n}": p.detach().clone() for n, p in trainer.base.text_encoder.named_parameters()})
    result = trainer.train()
    assert result.global_step == 3 and result.stopped == "done"
    changed = {n for n, p in unet.named_parameters() if not torch.equal(before[n], p)}
    assert changed, "training changed nothing"
    assert all("lora_" in n for n in changed), sorted(changed - {n for n in changed if "lora_" in n})[:3]
    assert any("lora_B" in n for n in changed)  # B starts at zero, so a trained LoRA is non-zero
    assert all(p.dtype == torch.float32 for n, p in unet.named_parameters() if "lora_" in n)
    for n, p in list(trainer.base.vae.named_parameters()) + [(f"te.{n}", p) for n, p in trainer.base.text_encoder.named_parameters()]:
        assert torch.equal(frozen[n], p), n


def test_trained_tokens_change_only_the_gloss_words_embeddings_and_load_back(tiny, tmp_path):
    """Pivotal tuning: LoRA tensors and the gloss words' embedding rows train; every other weight stays; both load back."""
    from text2asl.diffusion.model import TOKEN_EMBEDDINGS, load_pipeline

    data, base = tiny
    trainer = LoraTrainer(cfg(base, tokens=5e-2, max_train_steps=3), data, tmp_path / "run", progress=False)
    tok = trainer.base.tokenizer
    glosses = {row["gloss"] for row in trainer.dataset.rows}
    assert sorted(tok.convert_ids_to_tokens(trainer.token_ids)) == sorted(glosses)
    te = trainer.base.text_encoder
    before = {n: p.detach().clone() for n, p in te.named_parameters()}
    trainer.train()
    changed = {n for n, p in te.named_parameters() if not torch.equal(before[n], p)}
    name = next(n for n, p in te.named_parameters() if p is te.get_input_embeddings().weight)
    assert changed == {name}
    emb = te.get_input_embeddings().weight
    rows = (emb != before[name]).any(1).nonzero()[:, 0].tolist()
    assert rows and set(rows) <= set(trainer.token_ids)  # the glosses of the batches drawn so far
    assert training_info(tmp_path / "run")["trained_tokens"] == sorted(glosses)

    pipe = load_pipeline(str(base), lora_dir=tmp_path / "run", device="cpu")  # what translate and the notebooks use
    torch.testing.assert_close(pipe.text_encoder.get_input_embeddings().weight, emb.detach(), rtol=0, atol=0)
    (tmp_path / "run" / TOKEN_EMBEDDINGS).write_bytes(b"not safetensors")
    with pytest.raises(Text2ASLError, match="token_embeddings.safetensors is unreadable"):
        load_pipeline(str(base), lora_dir=tmp_path / "run", device="cpu")


def test_saved_lora_loads_into_fresh_pipeline(tiny, tmp_path):
    from diffusers import StableDiffusionPipeline
    from peft.utils import get_peft_model_state_dict

    data, base = tiny
    trainer = LoraTrainer(cfg(base, max_train_steps=2), data, tmp_path / "run", progress=False)
    trainer.train()
    trained = lora_tensors(trainer)
    pipe = StableDiffusionPipeline.from_pretrained(str(base), local_files_only=True)
    pipe.load_lora_weights(str(tmp_path / "run"))  # diffusers' own loader, safetensors only
    adapter = next(iter(pipe.unet.peft_config))
    loaded = get_peft_model_state_dict(pipe.unet, adapter_name=adapter)
    assert set(loaded) == set(trained)
    for k in trained:
        torch.testing.assert_close(loaded[k], trained[k], rtol=0, atol=0)
    info = training_info(tmp_path / "run")
    assert info["global_step"] == 2 and info["n_phases"] == 2 and "A" in info["glosses"]
    files = {p.suffix for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert files <= {".safetensors", ".json", ".csv"}  # nothing pickled


def test_lora_alpha_loads_at_the_trained_strength(tiny, tmp_path):
    """rank 4, alpha 8: diffusers' plain loader must apply the update the trainer's UNet applied (not half of it)."""
    from diffusers import StableDiffusionPipeline

    data, base = tiny
    trainer = LoraTrainer(cfg(base, max_train_steps=2, rank=4, lora_alpha=8, learning_rate=1e-2), data,
                          tmp_path / "run", progress=False)
    trainer.train()
    unet = trainer.accelerator.unwrap_model(trainer.unet).eval()
    pipe = StableDiffusionPipeline.from_pretrained(str(base), local_files_only=True, safety_checker=None,
                                                   feature_extractor=None, requires_safety_checker=False)
    plain = pipe.unet.eval()
    gen = torch.Generator().manual_seed(0)
    ucfg = plain.config
    sample = torch.randn(2, ucfg.in_channels, ucfg.sample_size, ucfg.sample_size, generator=gen)
    hidden = torch.randn(2, 7, ucfg.cross_attention_dim, generator=gen)
    t = torch.tensor([500, 20])
    with torch.no_grad():
        without = plain(sample, t, hidden).sample
        trained = unet(sample, t, hidden).sample
        pipe.load_lora_weights(str(tmp_path / "run"))  # diffusers' own loader, as a user would
        loaded = plain(sample, t, hidden).sample
    trained_update, loaded_update = trained - without, loaded - without
    assert trained_update.abs().max() > 1e-4, "the LoRA learned nothing, so the test cannot tell strengths apart"
    ratio = (loaded_update * trained_update).sum() / (trained_update * trained_update).sum()
    assert ratio.item() == pytest.approx(1.0, abs=1e-3)
    torch.testing.assert_close(loaded, trained, rtol=1e-4, atol=1e-5)


def test_fp16_on_a_cpu_says_it_trains_in_fp32_and_records_that(tiny, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("on a GPU fp16 mixed precision really runs")
    data, base = tiny
    result = train_lora(cfg(base, max_train_steps=1, mixed_precision="fp16"), data, tmp_path / "run", progress=False)
    assert result.global_step == 1
    assert "--mixed-precision fp16 needs a GPU; this CPU run trains in fp32" in capsys.readouterr().err
    info = training_info(tmp_path / "run")
    assert info["config"]["mixed_precision"] == "no" and info["requested_mixed_precision"] == "fp16"


@pytest.mark.parametrize("tokens", [0.0, 5e-2], ids=["lora", "lora+tokens"])
def test_resume_continues_to_the_same_weights(tiny, tmp_path, monkeypatch, tokens):
    data, base = tiny
    straight = LoraTrainer(cfg(base, tokens), data, tmp_path / "straight", progress=False)
    straight.train()

    calls = {"n": 0}
    real_loss = train_mod.diffusion_loss

    def killed_at_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # what Ctrl-C (or a kill between checkpoints) leaves behind
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train_mod, "diffusion_loss", killed_at_third)
    with pytest.raises(KeyboardInterrupt):
        LoraTrainer(cfg(base, tokens), data, tmp_path / "killed", progress=False).train()
    assert [p.name for p in checkpoints(tmp_path / "killed")] == ["checkpoint-2"]
    assert not (tmp_path / "killed" / LORA_WEIGHTS).exists()
    monkeypatch.setattr(train_mod, "diffusion_loss", real_loss)

    resumed = LoraTrainer(cfg(base, tokens), data, tmp_path / "killed", progress=False)
    result = resumed.train(resume="latest")
    assert result.global_step == straight.max_train_steps == 4
    a, b = lora_tensors(straight), lora_tensors(resumed)
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-5, atol=1e-6)
    a, b = straight.token_embeddings(), resumed.token_embeddings()
    assert a.keys() == b.keys() and (len(a) > 0) == (tokens > 0)
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-5, atol=1e-6)
    log = losses(tmp_path / "killed")
    assert [s for s, _ in log] == [1, 2, 3, 4]
    for (_, x), (_, y) in zip(log, losses(tmp_path / "straight")):
        assert x == pytest.approx(y, rel=1e-4)
    # the optimiser state came back too: Adam's step counters continue, not restart
    state = resumed.optimizer.state_dict()["state"]
    assert all(float(s["step"]) == 4 for s in state.values())


@pytest.mark.parametrize("bad_step, good, aside", [(3, ["checkpoint-1"], ["diverged-checkpoint-2"]), (1, [], [])])
def test_non_finite_loss_stops_and_sets_the_checkpoint_that_made_it_aside(tiny, tmp_path, monkeypatch, bad_step,
                                                                          good, aside):
    data, base = tiny
    calls = {"n": 0}
    real_loss = train_mod.diffusion_loss

    def nan_at(*args, **kwargs):
        calls["n"] += 1
        loss = real_loss(*args, **kwargs)
        return loss * float("nan") if calls["n"] == bad_step else loss

    monkeypatch.setattr(train_mod, "diffusion_loss", nan_at)
    expected = "last good checkpoint is checkpoint-1" if good else "no good checkpoint is left"
    with pytest.raises(Text2ASLError, match=rf"diverged at step {bad_step} \(the loss became nan\).*{expected}"):
        LoraTrainer(cfg(base, checkpointing_steps=1), data, tmp_path / "run", progress=False).train()
    assert [p.name for p in checkpoints(tmp_path / "run")] == good
    assert sorted(p.name for p in (tmp_path / "run").glob("diverged-*")) == aside
    assert not (tmp_path / "run" / LORA_WEIGHTS).exists()


def test_non_finite_weights_after_the_step_stop_and_resume_takes_the_new_learning_rate(tiny, tmp_path, capsys):
    data, base = tiny
    schedule = dict(checkpointing_steps=1, lr_scheduler="constant_with_warmup", lr_warmup_steps=20)
    trainer = LoraTrainer(cfg(base, learning_rate=1e-3, **schedule), data, tmp_path / "run", progress=False)
    real_step, calls = trainer.optimizer.step, {"n": 0}

    def step_to_inf(*args, **kwargs):
        real_step(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            with torch.no_grad():
                trainer.trainable[0].fill_(float("inf"))

    trainer.optimizer.step = step_to_inf
    with pytest.raises(Text2ASLError, match=r"diverged at step 3 \(the LoRA weights became infinite or NaN\).*"
                                            r"checkpoint-2.*--resume latest --learning-rate 1e-04"):
        trainer.train()
    assert [p.name for p in checkpoints(tmp_path / "run")] == ["checkpoint-1", "checkpoint-2"]  # step 3 was the bad one
    capsys.readouterr()
    resumed = LoraTrainer(cfg(base, learning_rate=1e-4, **schedule), data, tmp_path / "run", progress=False)
    result = resumed.train(resume="latest")
    assert result.global_step == 4
    assert "resuming with --learning-rate 0.0001 instead of the checkpoint's 0.001" in capsys.readouterr().err
    # still warming up at step 4 of 20: the schedule's factor is kept, the base rate is the new one
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4 * 4 / 20)
    with open(tmp_path / "run" / "loss.csv", newline="") as fh:
        assert float(list(csv.DictReader(fh))[-1]["lr"]) == pytest.approx(1e-4 * 4 / 20, rel=1e-2)


def test_a_base_with_nan_weights_is_refused(tiny, tmp_path):
    import shutil

    from diffusers import UNet2DConditionModel

    data, base = tiny
    broken = tmp_path / "nan-base"
    shutil.copytree(base, broken)
    unet = UNet2DConditionModel.from_pretrained(str(broken), subfolder="unet", local_files_only=True)
    with torch.no_grad():
        next(unet.parameters()).fill_(float("nan"))
    unet.save_pretrained(broken / "unet", safe_serialization=True)
    with pytest.raises(Text2ASLError, match=r"NaN or inf.*unet"):
        LoraTrainer(cfg(broken), data, tmp_path / "run", progress=False)


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_min_snr_weights_each_sample_by_min_snr_gamma_over_its_snr(prediction):
    """diffusion_loss against the min-SNR formula (Hang et al. 2023) computed here from alphas_cumprod."""
    from diffusers import DDPMScheduler

    from text2asl.diffusion.objective import diffusion_loss, sample_generators

    scheduler = DDPMScheduler(num_train_timesteps=1000, prediction_type=prediction)
    latents = torch.randn(6, 4, 4, 4, generator=torch.Generator().manual_seed(1))
    zeros = lambda noisy, t, hidden, return_dict: (torch.zeros_like(noisy),)  # noqa: E731  pred 0: loss = |target|²
    gamma = 5.0
    got = diffusion_loss(zeros, scheduler, latents, None, sample_generators(0, 0, range(6)), gamma)
    plain = diffusion_loss(zeros, scheduler, latents, None, sample_generators(0, 0, range(6)), None)
    # the same per-sample draws, by hand: noise, then timestep
    noise, t = [], []
    for g in sample_generators(0, 0, range(6)):
        noise.append(torch.randn(4, 4, 4, generator=g))
        t.append(int(torch.randint(0, 1000, (1,), generator=g)))
    noise, t = torch.stack(noise), torch.tensor(t)
    target = noise if prediction == "epsilon" else scheduler.get_velocity(latents, noise, t)
    per_sample = (target ** 2).mean(dim=(1, 2, 3))
    a = scheduler.alphas_cumprod[t]
    snr = a / (1 - a)
    weight = torch.minimum(snr, torch.full_like(snr, gamma)) / (snr + 1 if prediction == "v_prediction" else snr)
    assert len(set(t.tolist())) > 1 and (snr > gamma).any() and (snr < gamma).any()  # both sides of the clamp drawn
    torch.testing.assert_close(got, (per_sample * weight).mean(), rtol=1e-5, atol=0)
    torch.testing.assert_close(plain, per_sample.mean(), rtol=1e-5, atol=0)


@pytest.mark.parametrize("changes", [dict(train_batch_size=4, gradient_accumulation_steps=2),
                                     dict(gradient_checkpointing=True)], ids=["accumulation", "gradient-checkpointing"])
def test_accumulation_and_gradient_checkpointing_train_as_the_plain_double_batch(tiny, tmp_path, changes):
    """Batch 4 x 2 accumulated micro-batches = batch 8 (each sample keeps its slot's noise); checkpointing changes nothing."""
    data, base = tiny
    plain = LoraTrainer(cfg(base, tokens=5e-2, train_batch_size=8, max_train_steps=2), data, tmp_path / "plain",
                        progress=False)
    plain.train()
    other = LoraTrainer(cfg(base, tokens=5e-2, **{"train_batch_size": 8, "max_train_steps": 2, **changes}), data,
                        tmp_path / "other", progress=False)
    assert other.accelerator.unwrap_model(other.unet).is_gradient_checkpointing == bool(changes.get("gradient_checkpointing"))
    result = other.train()
    assert result.global_step == 2 and math.isfinite(result.last_loss)
    a, b = lora_tensors(plain), lora_tensors(other)
    assert any(v.abs().max() > 0 for k, v in a.items() if "lora_B" in k)
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-6)
    a, b = plain.token_embeddings(), other.token_embeddings()
    assert a and a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-6)
    assert [loss for _, loss in losses(tmp_path / "other")] == pytest.approx([loss for _, loss in losses(tmp_path / "plain")], rel=1e-4)


def test_scheduler_warms_up_and_decays_as_diffusers_does_and_validation_draws(tiny, tmp_path):
    from diffusers.optimization import get_scheduler
    from PIL import Image

    data, base = tiny
    config = cfg(base, max_train_steps=4, learning_rate=1e-3, lr_scheduler="cosine", lr_warmup_steps=2,
                 validation_epochs=1, validation_inference_steps=2, validation_prompts=("asl skeleton, B, phase 1 of 2",))
    result = train_lora(config, data, tmp_path / "run", progress=False)
    assert result.global_step == 4 and math.isfinite(result.last_loss)
    with open(tmp_path / "run" / "loss.csv", newline="") as fh:
        logged = [float(r["lr"]) for r in csv.DictReader(fh)]
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    reference = get_scheduler("cosine", optimizer=optimizer, num_warmup_steps=2, num_training_steps=4)
    expected = []
    for _ in range(4):
        optimizer.step()
        reference.step()
        expected.append(reference.get_last_lr()[0])
    assert expected[0] < expected[1] and expected[-1] < expected[1]  # warm-up, then decay
    assert logged == pytest.approx(expected, rel=1e-2, abs=1e-9)  # loss.csv keeps 3 significant digits
    pngs = list((tmp_path / "run" / "validation").glob("*.png"))
    assert len(pngs) == 1 and Image.open(pngs[0]).size == (32, 32)


def test_time_budget_stops_with_checkpoint_then_resumes(tiny, tmp_path):
    data, base = tiny
    first = train_lora(cfg(base, max_minutes=0.0), data, tmp_path / "run", progress=False)
    assert first.stopped == "time budget" and first.global_step == 1
    assert (tmp_path / "run" / LORA_WEIGHTS).is_file()
    assert [p.name for p in checkpoints(tmp_path / "run")] == ["checkpoint-1"]
    second = train_lora(cfg(base), data, tmp_path / "run", resume="latest", progress=False)
    assert second.global_step == 4 and second.stopped == "done"


def test_bad_inputs(tiny, tmp_path):
    data, base = tiny
    with pytest.raises(Text2ASLError, match="does not exist"):
        LoraTrainer(cfg(base), tmp_path / "no-data", tmp_path / "run", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(Text2ASLError, match="no metadata.jsonl"):
        LoraTrainer(cfg(base), tmp_path / "empty", tmp_path / "run", progress=False)
    with pytest.raises(Text2ASLError, match="no UNet"):
        LoraTrainer(cfg(tmp_path / "empty"), data, tmp_path / "run", progress=False)
    with pytest.raises(Text2ASLError, match="no checkpoint"):
        train_lora(cfg(base), data, tmp_path / "fresh", resume="latest", progress=False)
    with pytest.raises(Text2ASLError, match="learning-rate"):
        get_preset("smoke", learning_rate=-1.0)
    with pytest.raises(Text2ASLError, match="unknown preset"):
        get_preset("sd-v2")


def test_course_preset():
    c = get_preset("sd-v1-4")
    assert (c.base_model, c.learning_rate, c.train_batch_size, c.num_train_epochs, c.rank, c.mixed_precision) == (
        "CompVis/stable-diffusion-v1-4", 1e-4, 8, 10, 4, "fp16")


def test_cli_end_to_end_and_resume(tiny, tmp_path, capsys):
    from text2asl.cli import main

    data, base = tiny
    run = tmp_path / "run"
    common = ["train-lora", "--base-model", str(base), "--preset", "smoke", "--data", str(data), "-o", str(run),
              "--resolution", "32", "--train-batch-size", "4", "--validation-epochs", "0",
              "--checkpointing-steps", "2", "--quiet"]
    assert main(common + ["--max-train-steps", "2"]) == 0
    assert (run / LORA_WEIGHTS).is_file()
    assert training_info(run)["base_model"] == str(base)
    assert main(common + ["--max-train-steps", "3", "--resume", "latest"]) == 0
    assert "3 steps" in capsys.readouterr().out
    assert main(["train-lora", "--base-model", str(tmp_path / "nowhere/sd"), "--data", str(data), "-o", str(run)]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow(seconds=10)
def test_accelerate_launch_runs_the_cli(tiny, tmp_path):
    data, base = tiny
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "text2asl", "train-lora",
           "--base-model", str(base), "--data", str(data), "-o", str(tmp_path / "run"), "--resolution", "32",
           "--train-batch-size", "4", "--max-train-steps", "1", "--validation-epochs", "0", "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "run" / LORA_WEIGHTS).is_file()
