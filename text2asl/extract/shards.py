"""Extraction split across independent processes or machines (`--shard K/N`), and its coverage report.

A job belongs to shard `sha1(key) mod N + 1`, where the key is the video's path relative to the
input folder (`ExtractJob.key`). The partition depends on nothing but the key and N: a rerun, a
different listing order or another machine computes the same shards, so N copies of one command
(a SLURM job array, `xargs -P`, a Kubernetes Indexed Job) need no shared index or coordinator.
They may write into one output folder at once: every output belongs to exactly one shard, each
.pose is written atomically, and each shard keeps its own failures file
(`failures.shard-K-of-N.csv`). Outputs that exist are skipped whichever shard wrote them.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from text2asl.errors import Text2ASLError
from text2asl.options import MAX_SHARDS

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`, 1-based like SLURM's `--array=1-N`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """"K/N" -> Shard(K, N); refuses anything else in one sentence."""
        m = _SHARD.match(str(text))
        if m is None:
            raise Text2ASLError(f"--shard {text!r} is not K/N (e.g. 2/8: the second of 8 shards)")
        index, count = int(m[1]), int(m[2])
        if not 1 <= count <= MAX_SHARDS:
            raise Text2ASLError(f"--shard {text!r}: the shard count N must be in [1, {MAX_SHARDS}]")
        if not 1 <= index <= count:
            raise Text2ASLError(f"--shard {text!r}: K must be in [1, {count}] (shards are numbered from 1)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def tag(self) -> str:
        """File-name form, e.g. "shard-2-of-8"."""
        return f"shard-{self.index}-of-{self.count}"

    def owns(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index


def shard_of(key: str, count: int) -> int:
    """The 1-based shard of `key` among `count` (same on every machine and run, unlike hash())."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def failures_path(base: str | Path, shard: Shard | None) -> Path:
    """The failures file of `shard`: failures.csv -> failures.shard-2-of-8.csv (unchanged for no shard or 1/1)."""
    base = Path(base)
    return base if shard is None or shard.count == 1 else base.with_name(f"{base.stem}.{shard.tag}{base.suffix}")


def select_shard(jobs: Sequence, shard: Shard | None) -> list:
    """The jobs (anything with a `.key`) that belong to `shard`; all of them for None."""
    return list(jobs) if shard is None else [j for j in jobs if shard.owns(j.key)]


@dataclass
class ShardCoverage:
    """What exists of one shard's outputs: finished, failed (listed in its failures file), missing."""

    shard: Shard
    jobs: int = 0
    done: list[Path] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.done) == self.jobs


def coverage(jobs: Sequence, count: int, failures_base: str | Path) -> list[ShardCoverage]:
    """Per shard of `count`: which of `jobs` have a finished output, a failure row, or neither.

    A finished output is a non-empty file under its final name (never a hidden `.partial` temp).
    A failure row counts only while its output is still absent: a later rerun may have fixed it.
    """
    rows = {s: _failure_rows(failures_path(failures_base, Shard(s, count))) for s in range(1, count + 1)}
    report = [ShardCoverage(Shard(s, count)) for s in range(1, count + 1)]
    for job in jobs:
        s = shard_of(job.key, count)
        entry = report[s - 1]
        entry.jobs += 1
        if job.output.is_file() and job.output.stat().st_size > 0:
            entry.done.append(job.output)
        elif str(job.output.resolve()) in rows[s]:
            entry.failed.append(rows[s][str(job.output.resolve())])
        else:
            entry.missing.append(job.output)
    return report


def coverage_table(report: Sequence[ShardCoverage]) -> str:
    """A plain-text table: shard, jobs, done, failed, missing, and a total line."""
    lines = [f"{'shard':>9} {'videos':>7} {'done':>7} {'failed':>7} {'missing':>8}"]
    for c in report:
        lines.append(f"{str(c.shard):>9} {c.jobs:>7} {len(c.done):>7} {len(c.failed):>7} {len(c.missing):>8}")
    if len(report) > 1:
        total = [sum(n) for n in zip(*((c.jobs, len(c.done), len(c.failed), len(c.missing)) for c in report))]
        lines.append(f"{'all':>9} {total[0]:>7} {total[1]:>7} {total[2]:>7} {total[3]:>8}")
    return "\n".join(lines)


def _failure_rows(path: Path) -> dict[str, dict]:
    """{resolved output path: row} of a failures CSV (empty when the file does not exist)."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if "output" not in (reader.fieldnames or []):
            raise Text2ASLError(f"failures file {path} has no 'output' column; it was written by an older version: delete it and rerun")
        return {str(Path(r["output"]).resolve()): r for r in reader}
