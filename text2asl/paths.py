"""Where optional data lives: ../shared/data beside a development checkout, and the figures/ folder."""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The source checkout holding this package (an editable install), else the package's parent."""
    return _PACKAGE.parent


def shared_data_dir() -> Path | None:
    """The real-data folder (asl-app-lexicon, real-videos, wlasl-metadata), or None when absent.

    `TEXT2ASL_SHARED_DATA` overrides; by default ../shared/data beside the checkout is used.
    """
    env = os.environ.get("TEXT2ASL_SHARED_DATA")
    path = Path(env) if env else repo_root().parent / "shared" / "data"
    return path if path.is_dir() else None


def shared_dataset(name: str) -> Path | None:
    """One set inside the shared data folder (e.g. "asl-app-lexicon"), or None when absent."""
    root = shared_data_dir()
    return root / name if root is not None and (root / name).is_dir() else None


def figures_dir() -> Path:
    """figures/ in the checkout (created on demand): small PNGs the README shows."""
    path = repo_root() / "figures"
    path.mkdir(exist_ok=True)
    return path
