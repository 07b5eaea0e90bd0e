"""Prepared signs kept on disk: the stitcher's cleaned, retargeted clips, read back by the next run.

Preparing a recorded sign (normalise, fill gaps, retarget to one signer, resample, trim, smooth)
gives the same clip every run for the same recording and settings, and it is a fifth of what a
fingerspelled sentence costs (`benchmarks/bench_translate.py`). `ClipCache` keeps each prepared clip
as an .npz file, named by a hash of everything it was made from: the recording (path, size,
modification time), the sign's span, the stitch settings, the embedded alphabet (the neutral face
and resting hand come from it) and this package's code (every module, by size and modification
time). A changed recording, setting, alphabet or module therefore never reads a stale clip.

A clip is written atomically (`io.atomic_path`); a file that cannot be read is prepared again; a folder that cannot
be written is used without writing. The cache drops its oldest clips when it grows past
`MAX_BYTES`. `TEXT2ASL_CACHE` names the folder, or turns the cache off (`off`); by default it is
`$XDG_CACHE_HOME/text2asl/clips` (`~/.cache/text2asl/clips`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.io import atomic_path
from text2asl.poses.layout import PoseArray

CACHE_ENV = "TEXT2ASL_CACHE"
FORMAT = 1  # bump when the stored layout changes
MAX_BYTES = 200 << 20  # about 500 word signs or 3,000 letters; the oldest go first beyond it


def cache_dir() -> Path | None:
    """The clip cache folder `TEXT2ASL_CACHE` names, else the user's cache folder; None when it is `off`."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env.lower() in ("off", "0", "no", "false", "none"):
        return None
    if env:
        return Path(env).expanduser()
    try:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:  # no home folder to be found: no cache
        return None
    return Path(base) / "text2asl" / "clips"


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """This package's modules and the embedded alphabet, by name, size and modification time."""
    from text2asl.poses.layout import _embedded_alphabet_dir

    package = Path(__file__).resolve().parents[1]
    files = [*sorted(package.rglob("*.py")), _embedded_alphabet_dir() / "index.csv"]
    stamps = [(str(f), st.st_size, st.st_mtime_ns) for f, st in ((f, f.stat()) for f in files)]
    return hashlib.sha256(repr((FORMAT, np.__version__, stamps)).encode()).hexdigest()


class ClipCache:
    """Prepared clips under `root`, keyed by what made them (see the module's docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._pruned = False

    @classmethod
    def default(cls) -> "ClipCache | None":
        root = cache_dir()
        return cls(root) if root is not None else None

    def key(self, kind: str, path: Path, span: tuple[float, float], settings) -> str | None:
        """The file name of the clip `kind` ("sign", "letter", "built MY") of `path`'s `span` under
        `settings` (a dataclass); None when the recording cannot be looked at (no caching)."""
        try:
            stat = path.stat()
        except OSError:
            return None
        made_of = (_code_fingerprint(), kind, str(path.resolve()), stat.st_size, stat.st_mtime_ns, span,
                   dataclasses.astuple(settings))
        return hashlib.sha256(repr(made_of).encode()).hexdigest()[:40] + ".npz"

    def get_or_make(self, name: str | None, make: Callable[[], PoseArray]) -> PoseArray:
        """The clip stored under `name`, else `make()` stored there (when it can be)."""
        if name is None:
            return make()
        clip = self._read(self.root / name)
        if clip is None:
            clip = make()
            self._write(self.root / name, clip)
        return clip

    @staticmethod
    def _read(path: Path) -> PoseArray | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                about = json.loads(str(z["about"]))
                meta = {**about["meta"], **{name: z[f"meta.{name}"] for name in about["arrays"]}}
                clip = PoseArray(z["xyz"], z["conf"], about["fps"], tuple(about["size"]) if about["size"] else None, meta)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):  # absent, cut short or not ours
            return None
        if clip.xyz.shape != (*clip.conf.shape, 3):
            return None
        return clip

    def _write(self, path: Path, clip: PoseArray) -> None:
        arrays = {f"meta.{k}": v for k, v in clip.meta.items() if isinstance(v, np.ndarray)}
        try:
            about = json.dumps({"fps": clip.fps, "size": list(clip.size) if clip.size else None,
                                "meta": {k: v for k, v in clip.meta.items() if not isinstance(v, np.ndarray)},
                                "arrays": [k.removeprefix("meta.") for k in arrays]})
        except TypeError:  # metadata that neither JSON nor an array holds: such a clip is not kept
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, xyz=clip.xyz, conf=clip.conf, about=np.array(about), **arrays)
        except (OSError, Text2ASLError):  # a read-only or full disk: the run goes on without the cache
            return
        if not self._pruned:
            self._pruned = True
            self.prune()

    def prune(self, max_bytes: int = MAX_BYTES) -> None:
        """Delete the oldest clips until the folder holds at most 3/4 of `max_bytes`, if it holds more."""
        try:
            files = [(e.stat().st_mtime_ns, e.stat().st_size, e.path) for e in os.scandir(self.root)
                     if e.is_file() and e.name.endswith(".npz") and not e.name.startswith(".")]  # not a write in progress
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        if total <= max_bytes:
            return
        for _, size, path in sorted(files):
            if total <= max_bytes * 3 // 4:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size
