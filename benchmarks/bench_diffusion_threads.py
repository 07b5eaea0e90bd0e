"""Benchmark: torch CPU threads for the README's diffusion example, on a machine shared with other work.

Whole-process wall time of `text2asl translate "Hello, thank you." --renderer diffusion --base-model
tiny-asl`, each run a fresh process, with OMP_NUM_THREADS=1 and =2, alone and beside one busy
process (a pure-Python loop on one core, as another user's job would be). The CLI's own default is
`text2asl.diffusion.model.CPU_THREADS`; OMP_NUM_THREADS overrides it, which is how this script picks.
The load average at each start is printed: on a shared machine it says how quiet "alone" was.

    .venv/bin/python benchmarks/bench_diffusion_threads.py [--repeats 1] [--text "Hello, thank you."]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(text: str, threads: int, out: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "text2asl", "translate", text, "--renderer", "diffusion",
                    "--base-model", "tiny-asl", "-q", "-o", str(out)], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--text", default="Hello, thank you.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.mp4"
        for busy in (False, True):
            other = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            try:
                for threads in (1, 2):
                    for _ in range(args.repeats):
                        load = os.getloadavg()[0]
                        wall = run_once(args.text, threads, out)
                        print(f"busy={'yes' if busy else 'no '} threads={threads} load={load:5.2f} wall={wall:6.1f} s",
                              flush=True)
            finally:
                if other is not None:
                    other.terminate()
                    other.wait()


if __name__ == "__main__":
    main()
