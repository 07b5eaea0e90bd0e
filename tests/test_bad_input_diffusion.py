"""Bad input to make-dataset, train-lora and translate --renderer diffusion: one sentence, exit 2, nothing left behind.

One table of command lines (each a class of mistake), property-based fuzzing of the dataset and run
files the package reads (metadata.jsonl, dataset.json, training_info.json, a checkpoint's state.json),
and fault tests at tiny size: damaged checkpoints, damaged LoRA files.
"""
from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from text2asl.cli import main  # noqa: E402
from text2asl.diffusion import checkpoint as ckpt  # noqa: E402
from text2asl.diffusion.config import BASE_PRESETS, BaseTrainingConfig, PRESETS, SD_V1_4, get_preset  # noqa: E402
from text2asl.diffusion.ranges import OPTIONAL, RANGES, flag  # noqa: E402
from text2asl.diffusion.dataset import INFO, METADATA, read_info, read_metadata  # noqa: E402
from text2asl.diffusion.generate import generation_config  # noqa: E402
from text2asl.diffusion.model import LORA_WEIGHTS, TOKEN_EMBEDDINGS, TRAINING_INFO, training_info  # noqa: E402
from text2asl.errors import Text2ASLError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN_ARGS = ["--resolution", "32", "--train-batch-size", "4", "--validation-epochs", "0", "--quiet"]


@pytest.fixture(scope="module")
def made(tmp_path_factory, alphabet_data, smoke_base):
    """The session's 32² alphabet dataset and smoke base, and a 2-step run with checkpoint-1 and checkpoint-2 (damaged copies go to `root`)."""
    root = tmp_path_factory.mktemp("bad-diffusion")
    data, base = alphabet_data, smoke_base
    run = root / "run"
    assert main(["train-lora", "--base-model", str(base), "--data", str(data), "-o", str(run), "--max-train-steps", "2",
                 "--checkpointing-steps", "1", *TRAIN_ARGS]) == 0
    return {"root": root, "data": data, "base": base, "run": run}


def _damaged_dataset(made, name: str, edit) -> Path:
    folder = made["root"] / f"ds-{name}"
    if not folder.exists():
        shutil.copytree(made["data"], folder)
        edit(folder)
    return folder


def _first_row(folder: Path) -> dict:
    return json.loads((folder / METADATA).read_text().splitlines()[0])


def _rewrite_first_row(folder: Path, **changes) -> None:
    lines = (folder / METADATA).read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), **changes})
    (folder / METADATA).write_text("\n".join(lines) + "\n")


DATASET_EDITS = {
    "info-not-json": lambda d: (d / INFO).write_text("{not json"),
    "info-bad-phases": lambda d: (d / INFO).write_text(json.dumps({"n_phases": "eight"})),
    "meta-not-json": lambda d: (d / METADATA).write_text("{broken\n"),
    "meta-absolute": lambda d: _rewrite_first_row(d, file_name="/etc/passwd"),
    "meta-parent": lambda d: _rewrite_first_row(d, file_name="../../etc/passwd"),
    "meta-number-name": lambda d: _rewrite_first_row(d, file_name=7),
    "meta-bad-gloss": lambda d: _rewrite_first_row(d, gloss=["A"]),
    "meta-bad-hands": lambda d: _rewrite_first_row(d, hands=[[5, 5, 2, 9]]),
    "image-is-text": lambda d: (d / _first_row(d)["file_name"]).write_text("not a png"),
}

# (argv with {placeholders}, words the one error line must contain). Every row must exit 2.
ROWS = [
    # train-lora: numbers and choices, refused by the parser before anything loads
    ("train-lora --data {data} -o run --learning-rate nan", ["--learning-rate", "finite"]),
    ("train-lora --data {data} -o run --learning-rate 0", ["--learning-rate", "range"]),
    ("train-lora --data {data} -o run --lr-scheduler bogus", ["--lr-scheduler", "bogus"]),
    ("train-lora --data {data} -o run --mixed-precision fp8", ["--mixed-precision", "fp8"]),
    ("train-lora --data {data} -o run --max-train-steps -5", ["--max-train-steps", "range"]),
    ("train-lora --data {data} -o run --num-train-epochs 0", ["--num-train-epochs", "range"]),
    ("train-lora --data {data} -o run --checkpoints-total-limit -1", ["--checkpoints-total-limit", "range"]),
    ("train-lora --data {data} -o run --rank 0", ["--rank", "range"]),
    ("train-lora --data {data} -o run --resolution 100000", ["--resolution", "range"]),
    ("train-lora --data {data} -o run --lora-alpha 1.5", ["--lora-alpha", "integer"]),
    # train-lora: settings that only make sense together, and the run folder
    ("train-lora --base-model tiny-asl --data {data} -o run --resolution 60", ["--resolution 60", "multiple of"]),
    ("train-lora --base-model {base} --data {data} -o run --resume latest", ["--resume latest", "no checkpoint"]),
    ("train-lora --base-model {base} --data {data} -o run --resume checkpoint-9", ["checkpoint-9", "not a complete"]),
    ("train-lora --base-model {base} --data {data} -o afile", ["afile", "is a file"]),
    # train-lora: dataset files, caught before any model is loaded
    ("train-lora --base-model {base} --data nowhere -o run", ["nowhere", "does not exist"]),
    ("train-lora --base-model {base} --data {info-not-json} -o run", ["dataset.json", "not valid JSON"]),
    ("train-lora --base-model {base} --data {info-bad-phases} -o run", ["dataset.json", "n_phases"]),
    ("train-lora --base-model {base} --data {meta-not-json} -o run", ["metadata.jsonl line 1", "not valid JSON"]),
    ("train-lora --base-model {base} --data {meta-absolute} -o run", ["metadata.jsonl line 1", "/etc/passwd"]),
    ("train-lora --base-model {base} --data {meta-parent} -o run", ["metadata.jsonl line 1", "leaves"]),
    ("train-lora --base-model {base} --data {meta-number-name} -o run", ["metadata.jsonl line 1", "file_name"]),
    ("train-lora --base-model {base} --data {meta-bad-gloss} -o run", ["metadata.jsonl line 1", "gloss"]),
    ("train-lora --base-model {base} --data {meta-bad-hands} -o run", ["metadata.jsonl line 1", "hands", "x0 <= x1"]),
    ("train-lora --base-model {base} --data {image-is-text} -o run", ["_phase1.png", "not a readable image"]),
    # make-dataset
    ("make-dataset --lexicon embedded -o ds --resolution 100000", ["--resolution", "range"]),
    ("make-dataset --lexicon embedded -o ds --resolution 8", ["--resolution", "range"]),
    ("make-dataset --lexicon embedded -o ds --phases 0", ["--phases", "range"]),
    ("make-dataset --lexicon embedded -o ds --thickness nan", ["--thickness", "integer"]),
    ("make-dataset --lexicon embedded -o afile --resolution 32", ["afile", "is a file"]),
    # translate --renderer diffusion (its numeric options are in tests/test_bad_input.py with translate's others)
    ("translate --glosses A --renderer diffusion --lora nowhere -o out.mp4", ["nowhere", "no LoRA weights"]),
    ("translate --glosses A --renderer diffusion --base-model {base} --lora {lora-text} -o out.mp4",
     ["pytorch_lora_weights.safetensors", "unreadable"]),
    ("translate --glosses A --renderer diffusion --base-model {base} --lora {lora-truncated} -o out.mp4",
     ["pytorch_lora_weights.safetensors", "unreadable"]),
    ("translate --glosses A --renderer diffusion --base-model {base} --lora {info-corrupt} -o out.mp4",
     ["training_info.json", "not valid JSON"]),
    ("translate --glosses A --renderer diffusion --base-model {base} --lora {info-bad-glosses} -o out.mp4",
     ["training_info.json", "glosses"]),
    ("translate --glosses A --renderer diffusion --base-model {base} --lora {tokens-huge} -o out.mp4",
     ["token_embeddings.safetensors", "norm", "over 100 times"]),
    # train-lora: a base that cannot be loaded leaves no empty run folder behind
    ("train-lora --base-model ./nowhere --data {data} -o run", ["base model folder ./nowhere does not exist"]),
    ("train-lora --base-model someone/none-such --data {data} -o run", ["someone/none-such", "offline"]),
    ("train-lora --base-model {run} --data {data} -o run", ["is a LoRA run folder", "not a base model"]),
]

def _huge_tokens(run: Path) -> None:
    """token_embeddings.safetensors whose gloss-A embedding is 1e38 everywhere: finite, yet NaN after the text encoder."""
    from safetensors.torch import save_file
    from transformers import CLIPTokenizer

    base = Path(training_info(run)["base_model"])
    token = CLIPTokenizer.from_pretrained(base / "tokenizer").tokenize("A")[0]
    width = json.loads((base / "text_encoder" / "config.json").read_text())["hidden_size"]
    save_file({token: torch.full((width,), 1e38)}, str(run / TOKEN_EMBEDDINGS))


RUN_EDITS = {
    "tokens-huge": _huge_tokens,
    "lora-text": lambda r: (r / LORA_WEIGHTS).write_text("these are not weights\n"),
    "lora-truncated": lambda r: (r / LORA_WEIGHTS).write_bytes((r / LORA_WEIGHTS).read_bytes()[:-100]),
    "info-corrupt": lambda r: (r / TRAINING_INFO).write_text('{"base_model": '),
    "info-bad-glosses": lambda r: (r / TRAINING_INFO).write_text(json.dumps({"glosses": {"A": 3}})),
}


def _damaged_run(made, name: str) -> Path:
    folder = made["root"] / f"run-{name}"
    if not folder.exists():
        folder.mkdir()
        for f in (LORA_WEIGHTS, TRAINING_INFO):
            shutil.copy(made["run"] / f, folder / f)
        RUN_EDITS[name](folder)
    return folder


@pytest.mark.parametrize("argv, words", ROWS, ids=[" ".join(r[0].split()[:1] + r[0].split()[-3:]) for r in ROWS])
def test_bad_input_is_one_sentence_and_leaves_nothing(made, tmp_path, monkeypatch, capsys, argv, words):
    places = {"data": made["data"], "base": made["base"], "run": made["run"]}
    places.update({name: _damaged_dataset(made, name, edit) for name, edit in DATASET_EDITS.items() if f"{{{name}}}" in argv})
    places.update({name: _damaged_run(made, name) for name in RUN_EDITS if f"{{{name}}}" in argv})
    work = tmp_path / "work"
    work.mkdir()
    (work / "afile").write_text("a file, not a folder\n")
    monkeypatch.chdir(work)
    before = sorted(p.name for p in work.iterdir())
    try:
        code = main(argv.format(**{k: str(v) for k, v in places.items()}).split())
    except SystemExit as exc:  # argparse refuses the value
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in errors[0], errors[0]
    assert not errors[0].endswith("."), errors[0]
    assert sorted(p.name for p in work.iterdir()) == before, "a bad command left a file behind"


# -- the place the output goes: read-only, full (the write layer patched: as root, permission bits stop nothing) --

RO, FULL = errno.EROFS, errno.ENOSPC
PLACE_ROWS = [
    # (argv, (folder, errno, names) made unwritable, words of the one error line, what may stay: the run's own log)
    ("make-dataset --lexicon embedded -o ro/ds --resolution 32 --phases 2 -q", ("ro", RO, "*"),
     ["cannot create dataset folder ro/ds", "read-only file system"], set()),
    ("train-lora --base-model {base} --data {data} -o ro/run", ("ro", RO, "*"), ["cannot create run folder ro/run", "read-only"], set()),
    ("translate --glosses A --renderer diffusion --base-model {base} --steps 2 --size 32 -o ro/out.mp4", ("ro", RO, "*"),
     ["cannot write ro/out.mp4", "read-only file system"], set()),
    ("make-dataset --lexicon embedded -o full/ds --resolution 32 --phases 2 -q", ("full", FULL, "*.png"),
     ["cannot write full/ds/A/0_phase1.png", "no space left on device"], set()),
    # the disk fills while checkpoint-1 is written: neither .checkpoint-1.partial/ nor a run folder without a checkpoint stays
    ("train-lora --base-model {base} --data {data} -o full/run --max-train-steps 2 --checkpointing-steps 1", ("full", FULL, "state.json"),
     ["cannot write full/run/checkpoint-1", "no space left on device"], set()),
]


@pytest.mark.parametrize("argv, place, words, may_stay", PLACE_ROWS, ids=[r[0].split()[0] + " " + r[1][0] + " " + r[1][2] for r in PLACE_ROWS])
def test_an_unwritable_output_folder_is_one_sentence_and_leaves_nothing(made, tmp_path, monkeypatch, capsys, argv, place, words, may_stay):
    from helpers import unwritable

    monkeypatch.chdir(tmp_path)
    (tmp_path / place[0]).mkdir()
    before = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}
    unwritable(monkeypatch, tmp_path / place[0], place[1], place[2])
    extra = TRAIN_ARGS if argv.startswith("train-lora") else []
    code = main(argv.format(base=made["base"], data=made["data"]).split() + extra)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in errors[0], errors[0]
    after = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}
    assert after - before <= may_stay, f"left behind: {sorted(after - before - may_stay)}"


@pytest.mark.shared_data
@pytest.mark.parametrize("output, words", [("afile", ["afile is a file"]), ("/proc/x/tb", ["cannot create run folder /proc/x/tb"]),
                                           ("ro/tb", ["cannot create run folder ro/tb", "read-only file system"])])
def test_train_base_output_that_cannot_be_a_folder(asl_app_lexicon, tmp_path, monkeypatch, capsys, output, words):
    from helpers import unwritable

    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a file\n")
    unwritable(monkeypatch, tmp_path / "ro")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["train-base", "--lexicon", str(asl_app_lexicon), "-o", output, "--preset", "smoke", "--max-train-steps", "1", "-q"])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1 and all(w in errors[0] for w in words), errors
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_link_in_the_run_folder_that_leads_outside_is_refused(made, tmp_path, capsys):
    """train-lora once wrote loss.csv through a symlink planted in the run folder, into a file elsewhere."""
    run, outside = tmp_path / "run", tmp_path / "outside.csv"
    run.mkdir()
    outside.write_text("someone else's file\n")
    (run / "loss.csv").symlink_to(outside)
    argv = ["train-lora", "--base-model", str(made["base"]), "--data", str(made["data"]), "-o", str(run), "--max-train-steps", "1", *TRAIN_ARGS]
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "loss.csv is a symlink that leads outside the run folder" in errors[0], errors
    assert outside.read_text() == "someone else's file\n" and sorted(p.name for p in run.iterdir()) == ["loss.csv"]


# -- resuming a finished run -------------------------------------------------------------------

def test_resuming_a_finished_run_trains_no_step_more(made, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    argv = ["train-lora", "--base-model", str(made["base"]), "--data", str(made["data"]), "-o", str(run),
            "--max-train-steps", "2", "--checkpointing-steps", "1", "--learning-rate", "1e-4", "--resume", "latest", *TRAIN_ARGS]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "checkpoint-2 already reached step 2 of 2; nothing left to train" in captured.err
    assert "2 steps, no step in this run" in captured.out
    assert training_info(run)["global_step"] == 2 and [c.name for c in ckpt.checkpoints(run)] == ["checkpoint-1", "checkpoint-2"]


def test_resuming_with_another_token_setting_is_one_sentence(made, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    argv = ["train-lora", "--base-model", str(made["base"]), "--data", str(made["data"]), "-o", str(run),
            "--max-train-steps", "3", "--token-learning-rate", "1e-3", "--resume", "latest", *TRAIN_ARGS]
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "did not train the gloss tokens' embeddings; to resume it, drop --token-learning-rate" in errors[0]


def test_nan_keyframes_are_refused_not_written(made):
    """Weights that overflow draw NaN; cast to uint8 they were black frames in a video that exited 0."""
    from text2asl.diffusion.generate import generate_keyframes
    from text2asl.diffusion.model import load_pipeline

    pipe = load_pipeline(str(made["base"]))
    with torch.no_grad():
        next(pipe.unet.parameters()).fill_(float("inf"))
    with pytest.raises(Text2ASLError, match="drew NaN pixels for A: its weights overflow"):
        generate_keyframes(pipe, ["A"], generation_config(str(made["base"]), n_phases=1, num_inference_steps=1), progress=False)


# -- damaged checkpoints: resume falls back to the newest intact one ---------------------------

def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CHECKPOINT_DAMAGE = {
    "weights truncated": lambda c: _truncate(c / "weights.safetensors"),
    "optimizer truncated": lambda c: _truncate(c / "optimizer.safetensors"),
    "state.json not JSON": lambda c: (c / "state.json").write_text("{step: 2"),
    "state.json wrong shape": lambda c: (c / "state.json").write_text(json.dumps({"step": "two"})),
}


@pytest.mark.parametrize("damage", sorted(CHECKPOINT_DAMAGE))
def test_resume_skips_a_damaged_checkpoint_and_says_so(made, tmp_path, capsys, damage):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    CHECKPOINT_DAMAGE[damage](run / "checkpoint-2")
    argv = ["train-lora", "--base-model", str(made["base"]), "--data", str(made["data"]), "-o", str(run),
            "--max-train-steps", "3", "--checkpointing-steps", "1", "--resume", "latest", *TRAIN_ARGS]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "skipping damaged checkpoint checkpoint-2" in captured.err
    assert "resuming from checkpoint-1, the newest intact checkpoint" in captured.err
    assert "3 steps" in captured.out
    assert training_info(run)["global_step"] == 3


def test_no_intact_checkpoint_is_one_sentence(made, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    for c in ckpt.checkpoints(run):
        _truncate(c / "weights.safetensors")
    argv = ["train-lora", "--base-model", str(made["base"]), "--data", str(made["data"]), "-o", str(run),
            "--max-train-steps", "3", "--resume", "latest", *TRAIN_ARGS]
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "every checkpoint" in errors[0] and "start again without --resume" in errors[0]
    assert "checkpoint-2" in errors[0]  # the newest one's problem is named


def test_a_named_damaged_checkpoint_is_refused(made, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(made["run"], run)
    _truncate(run / "checkpoint-1" / "optimizer.safetensors")
    with pytest.raises(Text2ASLError, match=r"--resume checkpoint-1: .*optimizer.safetensors is unreadable"):
        ckpt.intact_checkpoint(run, "checkpoint-1")


# -- fuzzing the readers of users' files -------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
BOXES = st.lists(st.lists(st.integers(-3, 70), min_size=3, max_size=5), max_size=3)
ROW_KEYS = st.sampled_from(["file_name", "text", "gloss", "phase", "n_phases", "frame", "source", "hands"])
IMAGE_NAMES = st.sampled_from(["A/0_phase1.png", "B/0_phase2.png", "../A/0_phase1.png", "/etc/passwd", "", "A"])
ROWS_ST = st.dictionaries(ROW_KEYS, JSON_VALUES | IMAGE_NAMES | BOXES, max_size=7)
LINES = st.one_of(st.text(max_size=60), ROWS_ST.map(json.dumps),
                  st.builds(lambda name, text, extra: json.dumps({"file_name": name, "text": text, **extra}),
                            IMAGE_NAMES, st.text(max_size=20), st.dictionaries(ROW_KEYS, JSON_VALUES, max_size=3)))
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(lines=st.lists(LINES, max_size=5), raw=st.binary(max_size=40), use_raw=st.booleans())
def test_metadata_reader_gives_rows_or_one_sentence(made, lines, raw, use_raw):
    folder = made["root"] / "fuzz-meta"
    if not folder.exists():
        shutil.copytree(made["data"], folder)
    (folder / METADATA).write_bytes(raw if use_raw else "\n".join(lines).encode("utf-8", "surrogatepass"))
    try:
        rows = read_metadata(folder)
    except Text2ASLError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for row in rows:  # what the trainer relies on
        assert isinstance(row["file_name"], str) and isinstance(row["text"], str)
        assert (folder / row["file_name"]).resolve().is_relative_to(folder.resolve())
        for x0, y0, x1, y1 in row.get("hands", []):  # what the grounding loss relies on
            assert 0 <= x0 <= x1 and 0 <= y0 <= y1


INFO_ST = st.one_of(JSON_VALUES, st.fixed_dictionaries({}, optional={
    "resolution": JSON_VALUES | st.integers(-5, 5000), "n_phases": JSON_VALUES | st.integers(-5, 100),
    "num_inference_steps": JSON_VALUES | st.integers(-5, 5000),
    "glosses": st.dictionaries(st.text(max_size=5), JSON_VALUES | st.fixed_dictionaries(
        {}, optional={"duration_s": JSON_VALUES, "instances": JSON_VALUES}), max_size=3),
    "base_model": JSON_VALUES, "config": JSON_VALUES | st.fixed_dictionaries({}, optional={"guidance_scale": JSON_VALUES}),
}))


@FUZZ
@given(info=INFO_ST, garbage=st.none() | st.binary(max_size=30))
def test_dataset_and_run_json_readers_give_a_dict_or_one_sentence(tmp_path_factory, info, garbage):
    folder = tmp_path_factory.mktemp("fuzz-info")
    payload = garbage if garbage is not None else json.dumps(info).encode()
    (folder / INFO).write_bytes(payload)
    (folder / TRAINING_INFO).write_bytes(payload)
    for reader in (read_info, training_info, lambda run: generation_config(SD_V1_4, run).to_dict()):
        try:
            result = reader(folder)
        except Text2ASLError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert isinstance(result, dict)
        assert isinstance(result.get("glosses") or {}, dict)


@FUZZ
@given(state=JSON_VALUES | st.fixed_dictionaries({"step": JSON_VALUES | st.integers(0, 9)}, optional={
    "optimizer": JSON_VALUES | st.fixed_dictionaries({"param_groups": JSON_VALUES, "scalars": JSON_VALUES}),
    "lr_scheduler": JSON_VALUES}))
def test_checkpoint_reader_gives_contents_or_one_sentence(made, state):
    folder = made["root"] / "fuzz-ckpt" / "checkpoint-1"
    if not folder.exists():
        shutil.copytree(made["run"] / "checkpoint-1", folder)
    (folder / "state.json").write_text(json.dumps(state))
    try:
        read, weights, _ = ckpt.read_checkpoint(folder)
    except Text2ASLError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(read["step"], int) and weights


# -- every training setting: a valid config or one sentence ------------------------------------

NUMBERS = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.none(), st.text(max_size=4))


# every preset of both trainers' configs (LoraTrainingConfig and BaseTrainingConfig share RANGES)
CONFIGS = [get_preset(p) for p in sorted(PRESETS)] + [BASE_PRESETS[p] for p in sorted(BASE_PRESETS)]


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(RANGES)), value=NUMBERS, preset=st.sampled_from(CONFIGS))
def test_every_setting_is_in_its_range_or_one_sentence(name, value, preset):
    import math

    if not hasattr(preset, name):
        return  # a setting of the other trainer
    try:
        config = preset.replace(**{name: value})
    except Text2ASLError as exc:
        assert str(exc).startswith(flag(name)) or str(exc).startswith("--resolution"), str(exc)
        assert "\n" not in str(exc) and not str(exc).endswith(".")
        return
    kind, lo, hi, lo_open = RANGES[name]
    got = getattr(config, name)
    if got is None:
        assert name in OPTIONAL and not (isinstance(config, BaseTrainingConfig) and name == "max_train_steps")
        return
    assert not isinstance(got, bool) and math.isfinite(got) and lo <= got <= hi and not (lo_open and got == lo)
    assert kind is float or isinstance(got, int)
