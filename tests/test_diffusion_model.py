"""Base models through from_pretrained: the tiny pipeline round trip, word tokenizer, and one-sentence load errors."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion.config import BASE_PRESETS  # noqa: E402
from text2asl.diffusion.model import check_base_model, load_base_model, load_lora, load_pipeline, resolve_base_model  # noqa: E402
from text2asl.diffusion.config import TinyArchitecture  # noqa: E402
from text2asl.diffusion.tiny import build_tiny_pipeline, build_word_tokenizer, save_tiny_pipeline  # noqa: E402
from text2asl.errors import Text2ASLError  # noqa: E402

SMOKE = BASE_PRESETS["smoke"].arch
CAPTIONS = [f"asl skeleton, {g}, phase {k} of 2" for g in ("HELLO", "THANK-YOU", "A") for k in (1, 2)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return save_tiny_pipeline(CAPTIONS, tmp_path_factory.mktemp("m") / "base", resolution=32, arch=SMOKE)


def test_word_tokenizer_is_clip_shaped():
    tok = build_word_tokenizer(CAPTIONS)
    enc = tok("asl skeleton, HELLO, phase 1 of 2", padding="max_length", max_length=tok.model_max_length)
    ids = enc.input_ids
    assert len(ids) == 77 and ids[0] == tok.bos_token_id and tok.pad_token_id == tok.eos_token_id
    words = tok.convert_ids_to_tokens(ids[1:10])
    assert words == ["asl", "skeleton", ",", "HELLO", ",", "phase", "1", "of", "2"]
    assert tok.convert_ids_to_tokens(tok("NEVERSEEN").input_ids)[1] == tok.unk_token


def test_tiny_round_trip_through_from_pretrained(base):
    fresh = build_tiny_pipeline(CAPTIONS, resolution=32, arch=SMOKE)
    loaded = load_base_model(str(base))
    assert type(loaded.unet) is type(fresh.unet) and loaded.unet.config.cross_attention_dim == 32
    assert loaded.tokenizer("asl skeleton, HELLO").input_ids == fresh.tokenizer("asl skeleton, HELLO").input_ids
    assert not any(p.requires_grad for p in loaded.unet.parameters())
    pipe = load_pipeline(str(base), device="cpu")
    image = pipe("asl skeleton, HELLO, phase 1 of 2", num_inference_steps=2, height=32, width=32, output_type="np").images
    assert image.shape == (1, 32, 32, 3)


def test_missing_and_incomplete_base_folders(tmp_path):
    with pytest.raises(Text2ASLError, match=r"base model folder .*nowhere does not exist"):
        load_base_model(str(tmp_path / "nowhere"))
    (tmp_path / "no-unet" / "vae").mkdir(parents=True)
    with pytest.raises(Text2ASLError, match="has no UNet"):
        load_pipeline(str(tmp_path / "no-unet"))


def test_offline_hub_id_is_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert check_base_model("CompVis/stable-diffusion-v1-4") == ("CompVis/stable-diffusion-v1-4", False)
    with pytest.raises(Text2ASLError, match=r"not in the local Hugging Face cache.*hf download"):
        load_base_model("text2asl-test/not-a-real-model")


def test_tiny_asl_resolves_to_the_shipped_folder_or_says_it_is_missing(tmp_path, monkeypatch):
    from text2asl.diffusion import model

    assert resolve_base_model("CompVis/stable-diffusion-v1-4") == "CompVis/stable-diffusion-v1-4"
    assert resolve_base_model("tiny-asl") == str(model.TINY_ASL_DIR)
    monkeypatch.setattr(model, "TINY_ASL_DIR", tmp_path / "gone")
    with pytest.raises(Text2ASLError, match="tiny-asl base is missing.*train-base"):
        resolve_base_model("tiny-asl")


def test_non_finite_base_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    base = save_tiny_pipeline(CAPTIONS, tmp_path / "base", resolution=32, arch=SMOKE)
    weights = base / "unet" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(str(weights))
    name = next(k for k in tensors if k.endswith("conv_in.weight"))
    tensors[name][0, 0, 0, 0] = float("nan")
    save_file(tensors, str(weights), metadata={"format": "pt"})
    with pytest.raises(Text2ASLError, match=r"NaN or inf weights \(unet/conv_in.weight\)"):
        load_base_model(str(base))
    with pytest.raises(Text2ASLError, match="NaN or inf weights"):
        load_pipeline(str(base), device="cpu")


def test_lora_for_another_base_is_refused(base, tmp_path):
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    other = build_tiny_pipeline(CAPTIONS, resolution=32, arch=TinyArchitecture(unet_channels=(32, 32)))
    other.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_k", "to_q", "to_v", "to_out.0"]))
    StableDiffusionPipeline.save_lora_weights(
        tmp_path / "lora", unet_lora_layers=convert_state_dict_to_diffusers(get_peft_model_state_dict(other.unet)))
    with pytest.raises(Text2ASLError, match=r"does not fit base model .*size mismatch"):
        load_pipeline(str(base), lora_dir=tmp_path / "lora", device="cpu")
    with pytest.raises(Text2ASLError, match="no LoRA weights"):
        load_lora(load_pipeline(str(base), device="cpu"), tmp_path / "empty")
