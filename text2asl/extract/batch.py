"""Batch extraction: many videos -> one .pose each, in N worker processes, resumable after a kill.

Each worker process keeps one warm MediaPipe Holistic graph (pose-format's `HolisticPool`) and
writes its .pose through `atomic_path`, so a file under its final name is always complete: a rerun
skips every output that exists and redoes only the rest. Per-video failures (missing, zero-byte,
unreadable, corrupt, no frames, no person) are collected with their reason and written to a
failures CSV; the batch carries on.

Processes rather than threads: Holistic holds the GIL for much of its Python-side work, and one
crashed graph must not take the whole batch down. Workers are spawned (not forked) so they never
inherit a half-initialised MediaPipe or tqdm's monitor thread from the parent.
"""
from __future__ import annotations

import csv
import multiprocessing
import os
import resource
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from text2asl.errors import Text2ASLError
from text2asl.extract.holistic import Clip, ExtractionError
from text2asl.extract.shards import Shard, failures_path, select_shard
from text2asl.io import make_folder, remove_stale_partials

@dataclass(frozen=True)
class ExtractJob:
    """One video (or a clip of it) to extract into `output` (.pose).

    key: the job's stable name for sharding (`shards.Shard`): the video's path relative to the
    input folder, in POSIX form; the video's file name when not given.
    """

    video: Path
    output: Path
    clip: Clip = Clip()
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", Path(self.video).name)


@dataclass(frozen=True)
class Failure:
    """A job that produced no .pose; `reason` is one of `holistic.REASONS`."""

    video: Path
    output: Path
    reason: str
    message: str


@dataclass
class BatchResult:
    """What a batch did. `frames`/`seconds` cover the videos extracted in this run only.

    peak_rss_mb: peak resident memory of each process that extracted (pid -> MiB).
    """

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0
    peak_rss_mb: dict[int, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        text = f"{len(self.done)} extracted, {len(self.skipped)} already done, {len(self.failures)} failed"
        if self.done:
            text += f" ({self.frames} frames at {self.fps:.1f} frames/s)"
        return text


def default_workers() -> int:
    """The cores this process may use (respects taskset/cgroup affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_batch(
    jobs: Sequence[ExtractJob],
    workers: int | None = None,
    failures_csv: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    desc: str = "extract",
    shard: Shard | None = None,
) -> BatchResult:
    """Extract every job whose output does not exist yet; returns a `BatchResult`.

    workers: processes to use (default: the usable core count); 1 runs in this process.
    failures_csv: where to write `video,reason,message` rows for the failed jobs (written only
    when something failed; a stale report from an earlier run is removed when nothing did).
    overwrite: redo outputs that already exist.
    shard: extract only this shard's jobs (`shards.Shard`); the failures CSV becomes that shard's
    own (failures.csv -> failures.shard-K-of-N.csv), so shards running at once never share a file.
    Returns only once every worker process has exited.
    """
    from tqdm.auto import tqdm

    jobs = list(jobs)
    _check_outputs(jobs)  # over all shards' jobs: two shards must never be given one output
    jobs = select_shard(jobs, shard)
    if failures_csv is not None:
        failures_csv = failures_path(failures_csv, shard)
    for folder in {j.output.parent for j in jobs}:
        make_folder(folder)
        remove_stale_partials(folder)  # temps a killed run left behind (their final names were never written)
    result = BatchResult()
    todo = []
    for job in jobs:
        if not overwrite and job.output.is_file() and job.output.stat().st_size > 0:
            result.skipped.append(job.output)
        else:
            todo.append(job)
    workers = max(1, min(workers or default_workers(), len(todo) or 1))
    bar = tqdm(total=len(jobs), initial=len(result.skipped), unit="video", desc=desc, disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    start = time.perf_counter()
    unwritable = None
    try:
        for job, outcome in _outcomes(todo, workers):
            if outcome.get("reason") == UNWRITABLE:
                unwritable = outcome["message"]
                break
            _record(result, job, outcome)
            bar.update(1)
            if result.failures:
                bar.set_postfix(failed=len(result.failures), refresh=False)
    finally:
        result.seconds = time.perf_counter() - start
        bar.close()
        if failures_csv is not None and unwritable is None:
            write_failures(result.failures, failures_csv)
    if unwritable is not None:
        raise Text2ASLError(unwritable)
    return result


def _outcomes(todo: list[ExtractJob], workers: int):
    """(job, outcome) pairs as jobs finish, in this process or in a spawned pool."""
    if workers == 1:
        for job in todo:
            yield job, extract_job(job)
        return
    context = multiprocessing.get_context("spawn")
    tracker_was_running = _resource_tracker_running()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_quiet_worker,
                                 initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(extract_job, job): job for job in todo}
            try:
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        yield job, future.result()
                    except BrokenProcessPool:
                        yield job, _failed("error", f"the worker extracting {job.video} died (out of memory or a MediaPipe crash); rerun to retry")
            except BaseException:
                # Ctrl-C or a consumer error: drop queued jobs now rather than finishing them all.
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        if not tracker_was_running:
            _stop_resource_tracker()


def _resource_tracker_running() -> bool:
    from multiprocessing import resource_tracker

    return getattr(resource_tracker._resource_tracker, "_fd", None) is not None


def _stop_resource_tracker() -> None:
    """Stop the helper process the spawn context started for the pool's semaphores, and reap it.

    Otherwise it outlives the batch (until this process exits, and as a zombie under an init that
    does not reap), so a caller that waits for the batch's process group finds it still there.
    The pool's semaphores are collected first: their finalizers report to the tracker and would
    start a new one. Only stopped when the batch started it (another user may still need it).
    """
    import gc
    from multiprocessing import resource_tracker

    gc.collect()
    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


def extract_job(job: ExtractJob) -> dict:
    """Run one job in the current process; never raises for a per-video problem (returns its outcome)."""
    from text2asl.extract.holistic import extract_video
    from text2asl.io import write_pose

    try:
        pose = extract_video(job.video, job.clip)
        try:
            write_pose(pose, job.output)
        except Text2ASLError as exc:  # a full disk or read-only folder: every other video would fail alike
            return _failed(UNWRITABLE, str(exc))
        outcome = {"status": "done", "frames": int(pose.body.data.shape[0])}
    except ExtractionError as exc:
        outcome = _failed(exc.reason, str(exc))
    except Text2ASLError as exc:  # e.g. the output folder became unwritable
        outcome = _failed("error", str(exc))
    except ImportError:  # MediaPipe missing: no video can succeed; the CLI says what to install
        raise
    except Exception as exc:  # one odd file must not stop thousands of others; the report names it
        outcome = _failed("error", f"{job.video}: {type(exc).__name__}: {exc}")
    # ru_maxrss is in KiB on Linux.
    outcome["pid"] = os.getpid()
    outcome["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return outcome


# The outcome of a job whose .pose could not be written: it stops the batch (`run_batch` raises it).
UNWRITABLE = "unwritable"


def _failed(reason: str, message: str) -> dict:
    return {"status": "failed", "frames": 0, "reason": reason, "message": message}


def _record(result: BatchResult, job: ExtractJob, outcome: dict) -> None:
    if outcome["status"] == "done":
        result.done.append(job.output)
        result.frames += outcome["frames"]
    else:
        result.failures.append(Failure(job.video, job.output, outcome["reason"], outcome["message"]))
    if "pid" in outcome:
        pid = outcome["pid"]
        result.peak_rss_mb[pid] = max(result.peak_rss_mb.get(pid, 0.0), outcome["peak_rss_mb"])


def _quiet_worker(parent: int) -> None:
    """Pool initializer: quiet MediaPipe's logging, and exit when `parent` (the batch's process) dies."""
    # Before mediapipe is imported in the worker: its C++ logging otherwise prints per graph.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """Exit this worker once `parent` is gone (a SIGKILL-ed parent never tells its workers).

    Without this, orphaned workers finish their queue and then idle forever, ~350 MB each.
    The pid is polled rather than using prctl(PR_SET_PDEATHSIG), which fires when the parent's
    spawning *thread* exits and is Linux-only. A partial .pose left behind holds no lock, so the
    next run removes it.
    """
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def _check_outputs(jobs: list[ExtractJob]) -> None:
    seen: dict[Path, Path] = {}
    for job in jobs:
        key = job.output.resolve()
        if key in seen and seen[key] != job.video:
            raise Text2ASLError(
                f"{seen[key]} and {job.video} would both be written to {job.output}; rename one or extract them into different folders"
            )
        seen[key] = job.video
        if job.output.suffix != ".pose":
            raise Text2ASLError(f"extraction output {job.output} must end in .pose")


def processes_in_group(pgid: int) -> list[str]:
    """'pid state' of every process (zombies included) still in process group `pgid` (Linux /proc)."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            left.append(f"{stat.parent.name} {fields[0]}")
    return left


def merge_failures(report: Iterable, path: str | Path) -> Path | None:
    """Write the still-failed rows of every shard into one failures CSV; remove it when there are none."""
    failed = [Failure(Path(r["video"]), Path(r["output"]), r["reason"], r["message"]) for c in report for r in c.failed]
    return write_failures(failed, path)


def write_failures(failures: Iterable[Failure], path: str | Path) -> Path | None:
    """Write the failures CSV (video,reason,message,output) atomically; remove a stale one when there are none."""
    from text2asl.io import atomic_path

    path = Path(path)
    failures = list(failures)
    if not failures:
        path.unlink(missing_ok=True)
        return None
    make_folder(path.parent)
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["video", "reason", "message", "output"])
            for f in failures:  # output absolute: `extract --status` matches rows to jobs by it
                writer.writerow([str(f.video), f.reason, f.message, str(Path(f.output).resolve())])
    return path


def jobs_for_videos(videos: Iterable[str | Path], out_dir: str | Path, clip: Clip | None = None) -> list[ExtractJob]:
    """One job per video, writing `out_dir/<video stem>.pose`; folders are searched for video files.

    Each job's sharding key is the video's path relative to the folder it was found in (its file
    name when the video was given directly), so the shards do not depend on where the folder lies.
    """
    from text2asl.io import CLIP_SUFFIXES

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise Text2ASLError(f"output {out_dir} is a file; give a folder for the .pose files with -o")
    jobs = []
    for video in map(Path, videos):
        if video.is_dir():
            found = sorted(p for p in video.rglob("*") if p.suffix.lower() in CLIP_SUFFIXES and p.is_file())
            if not found:
                raise Text2ASLError(f"folder {video} holds no video files ({', '.join(CLIP_SUFFIXES)})")
            jobs.extend(ExtractJob(p, out_dir / f"{p.stem}.pose", clip or Clip(), p.relative_to(video).as_posix())
                        for p in found)
        else:
            jobs.append(ExtractJob(video, out_dir / f"{video.stem}.pose", clip or Clip()))
    if not jobs:
        raise Text2ASLError("no videos given; pass video files or folders to extract")
    return jobs
