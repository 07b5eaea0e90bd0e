"""Shared pytest fixtures: temp dirs, offline settings, and the optional ../shared/data sets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from text2asl.gloss_to_pose.clipcache import CACHE_ENV

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests, and the commands and notebooks they start, prepare every sign afresh and write nothing under
# ~/.cache; tests/test_clipcache.py turns the prepared-sign cache on in a temp folder.
os.environ[CACHE_ENV] = "off"


@pytest.fixture(scope="session")
def once_per_run(tmp_path_factory):
    """`once_per_run(name, build)`: `build(path)` runs once per test run, in whichever xdist worker asks first;
    the others wait for it and get the same `path`. For an expensive fixture of a module whose tests
    `pytest -n 2` may split across both workers (each would build it, on the same two cores)."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # this run's folder, shared by its workers

    def once(name: str, build) -> Path:
        path, done = root / name, root / f"{name}.done"
        with open(root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not done.exists():
                build(path)
                done.touch()
        return path

    return once


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests using it skip on a fresh clone without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (real ASL data is only beside the development checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def asl_app_lexicon(shared_data) -> Path:
    path = shared_data / "asl-app-lexicon"
    if not (path / "index.csv").is_file():
        pytest.skip("../shared/data/asl-app-lexicon is absent")
    return path


@pytest.fixture(scope="session")
def word_lexicon() -> Path:
    """The embedded asl-app word signs (packed, inside the package): a real word lexicon on every clone."""
    from text2asl.gloss_to_pose.lexicon import EMBEDDED_WORDS_DIR

    return EMBEDDED_WORDS_DIR


@pytest.fixture(scope="session")
def real_videos(shared_data) -> Path:
    path = shared_data / "real-videos"
    if not (path / "labels.csv").is_file():
        pytest.skip("../shared/data/real-videos is absent")
    return path


@pytest.fixture(scope="session")
def alphabet_data(once_per_run) -> Path:
    """The 26 embedded letters as a 32², 2-phase skeleton dataset, made once for every diffusion test (read only: copy to damage)."""
    from text2asl.diffusion.fixtures import alphabet_dataset

    return once_per_run("alphabet-ds", lambda path: alphabet_dataset(path, resolution=32, n_phases=2))


@pytest.fixture(scope="session")
def smoke_base(alphabet_data, once_per_run) -> Path:
    """A random smoke-size base whose tokenizer knows `alphabet_data`'s captions, saved once (read only: copy to damage)."""
    pytest.importorskip("torch")
    from text2asl.diffusion.fixtures import tiny_base

    return once_per_run("smoke-base", lambda path: tiny_base(path, alphabet_data, resolution=32))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for the module: two OpenMP threads on two cores that other test processes
    also use spin-wait each other into 10-20x slower steps; one thread per process is fastest here."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def pytest_collection_modifyitems(items):
    """Slow tests first, the longest first (`slow(seconds=N)`, default 10), the rest in file order.

    With `make test`'s `-n 2 --maxschedchunk 1` each worker takes the next test when it is free, so the
    long ones start early and the two workers end together (in file order one worker ran the notebooks
    for the last 60 s alone). A test that reads what an earlier slow test built (`once_per_run`) is
    marked with its own seconds, so it comes later.
    """
    def seconds(item) -> float:
        mark = item.get_closest_marker("slow")
        return mark.kwargs.get("seconds", 10) if mark else 0

    items.sort(key=seconds, reverse=True)  # stable
