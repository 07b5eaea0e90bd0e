"""The prepared-sign cache on disk: a warm run signs exactly as a cold one, and nothing stale or broken is ever read."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from helpers import make_lexicon, unwritable
from text2asl.gloss_to_pose import clipcache
from text2asl.gloss_to_pose.clipcache import CACHE_ENV, ClipCache, cache_dir
from text2asl.gloss_to_pose.stitch import StitchConfig, Stitcher
from text2asl.pipeline import translate

# A word sign (asl-app, with array metadata), built pronouns (MY, ME) and fingerspelled names.
SENTENCE = "Hello, my name is Sam. I like pizza."


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "clips"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


def signed(text: str = SENTENCE, **kwargs):
    t = translate(text, **kwargs)
    return t.sequence(), t.captions()


def test_a_warm_run_signs_exactly_as_a_cold_one_and_prepares_nothing(cache, monkeypatch):
    cold, cold_captions = signed()
    files = sorted(cache.glob("*.npz"))
    assert len(files) >= 10  # HELLO, MY, ME and the letters of NAME, SAM, LIKE, PIZZA

    def no_preparing(*args):
        raise AssertionError("a cached sign was prepared again")

    monkeypatch.setattr(Stitcher, "_clean", no_preparing)
    warm, warm_captions = signed()
    assert warm_captions == cold_captions
    assert np.array_equal(warm.xyz, cold.xyz) and np.array_equal(warm.conf, cold.conf)
    assert sorted(cache.glob("*.npz")) == files


def uncached(text: str, config: StitchConfig | None = None):
    """The sequence a stitcher without a disk cache makes."""
    t = translate(text, config=config)
    t._stitcher = Stitcher(t.config)
    return t.sequence()


def test_other_settings_prepare_their_own_clips(cache):
    signed("Sam")
    before = set(cache.glob("*.npz"))
    slow, _ = signed("Sam", config=StitchConfig(speed=0.5))
    assert set(cache.glob("*.npz")) > before
    assert np.array_equal(slow.xyz, uncached("Sam", StitchConfig(speed=0.5)).xyz)


def _grown(path: Path) -> Path:
    path.write_bytes(path.read_bytes() + b"\0")
    return path


def _touched(path: Path) -> Path:
    os.utime(path, ns=(1, 1))
    return path


KEY_CHANGES = {  # what changes -> the key() arguments after the change
    "the settings": lambda path: ("letter", path, (0.0, 0.0), StitchConfig(letter_hold_s=0.5)),
    "the kind": lambda path: ("sign", path, (0.0, 0.0), StitchConfig()),
    "the span": lambda path: ("letter", path, (0.0, 400.0), StitchConfig()),
    "the recording's content": lambda path: ("letter", _grown(path), (0.0, 0.0), StitchConfig()),
    "the recording's time": lambda path: ("letter", _touched(path), (0.0, 0.0), StitchConfig()),
}


@pytest.mark.parametrize("change", KEY_CHANGES, ids=list(KEY_CHANGES))
def test_a_clip_is_named_by_everything_it_was_made_from(change, tmp_path):
    lexicon = make_lexicon(tmp_path / "lex", {"a": "A"})
    path = lexicon / "a.pose"
    cache = ClipCache(tmp_path / "clips")
    same = cache.key("letter", path, (0.0, 0.0), StitchConfig())
    assert cache.key("letter", path, (0.0, 0.0), StitchConfig()) == same
    assert cache.key(*KEY_CHANGES[change](path)) != same


def test_a_changed_module_names_every_clip_anew(tmp_path, monkeypatch):
    lexicon = make_lexicon(tmp_path / "lex", {"a": "A"})
    cache = ClipCache(tmp_path / "clips")
    before = cache.key("letter", lexicon / "a.pose", (0.0, 0.0), StitchConfig())
    clipcache._code_fingerprint.cache_clear()
    monkeypatch.setattr(clipcache, "FORMAT", clipcache.FORMAT + 1)  # as an edited module would
    try:
        assert cache.key("letter", lexicon / "a.pose", (0.0, 0.0), StitchConfig()) != before
    finally:
        clipcache._code_fingerprint.cache_clear()


BROKEN = {
    "empty": b"",
    "not a zip": b"not an npz file at all",
    "cut short": None,  # the first half of a real clip file
    "someone else's npz": "other",
}


@pytest.mark.parametrize("kind", BROKEN, ids=list(BROKEN))
def test_a_broken_clip_file_is_prepared_again_and_replaced(kind, cache):
    cold, _ = signed("Sam")
    files = sorted(cache.glob("*.npz"))
    for f in files:
        whole = f.read_bytes()
        if kind == "someone else's npz":
            np.savez(f, xyz=np.zeros((2, 3)))
        else:
            f.write_bytes(BROKEN[kind] if BROKEN[kind] is not None else whole[: len(whole) // 2])
    again, _ = signed("Sam")
    assert np.array_equal(again.xyz, cold.xyz) and np.array_equal(again.conf, cold.conf)
    assert all(ClipCache._read(f) is not None for f in files)  # rewritten whole


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC], ids=["read-only", "full"])
def test_a_cache_folder_that_cannot_be_written_is_only_skipped(code, cache, monkeypatch):
    unwritable(monkeypatch, cache.parent, code)
    seq, _ = signed("Sam")
    assert len(seq) > 0
    assert not cache.exists() or not any(cache.iterdir())


@pytest.mark.parametrize("value, expected", [
    ("off", None), ("OFF", None), ("0", None), ("none", None),
    ("/some/where", Path("/some/where")),
    ("", "xdg"),
])
def test_the_cache_folder_is_named_by_the_environment(value, expected, monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == (tmp_path / "text2asl" / "clips" if expected == "xdg" else expected)
    assert (ClipCache.default() is None) == (expected is None)


def test_without_a_home_folder_there_is_no_cache(monkeypatch):
    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setenv(CACHE_ENV, "")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert cache_dir() is None


def test_the_oldest_clips_go_first_when_the_cache_grows_too_big(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    for i in range(10):
        f = root / f"{i:02d}.npz"
        f.write_bytes(b"x" * 1000)
        os.utime(f, ns=(i * 10**9, i * 10**9))
    (root / "notes.txt").write_bytes(b"x" * 5000)  # not a clip: never counted or deleted
    (root / ".00.1234abcd.partial.npz").write_bytes(b"x" * 5000)  # a write in progress: the same
    ClipCache(root).prune(max_bytes=20_000)
    assert len(list(root.glob("[!.]*.npz"))) == 10  # under the limit: nothing goes
    ClipCache(root).prune(max_bytes=8_000)
    assert sorted(p.name for p in root.glob("[!.]*.npz")) == [f"{i:02d}.npz" for i in range(4, 10)]
    assert (root / "notes.txt").exists() and (root / ".00.1234abcd.partial.npz").exists()


def test_a_stitcher_without_a_cache_writes_nothing(cache):
    uncached("Sam")
    assert not cache.exists()
