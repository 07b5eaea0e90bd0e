"""Labelled clips -> a sign lexicon folder (spoken-to-signed `index.csv`) plus a train/val/test splits file.

    lexicon/
      index.csv        path,spoken_language,signed_language,start,end,words,glosses,priority
      splits.csv       path,gloss,split,signer,video,score  (one row per index row)
      poses/<gloss>/<clip id>.pose
      failures.csv     clips whose extraction failed (only when some did)
      missing.csv      clips whose video was not in the videos folder (only when some were)

Every instance of a gloss is kept and ranked: `priority` 0 is the best-detected, typical-length
instance, which is what `translate --lexicon` signs. Each .pose holds only its clip (the frame
range is applied at extraction), so start/end are 0/0. Extraction goes through the resumable
batch runner: rerunning the command after a kill redoes only the missing clips. For a cluster,
`extract_shard` extracts one shard of the clips (`--shard K/N`); a final unsharded run writes the index.
"""
from __future__ import annotations

import csv
import hashlib
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from text2asl.errors import Text2ASLError
from text2asl.extract.batch import BatchResult, ExtractJob, run_batch
from text2asl.extract.datasets import Dataset, MissingVideo, Sample
from text2asl.extract.shards import Shard
from text2asl.gloss_to_pose.lexicon import COLUMNS
from text2asl.io import make_folder

SPLIT_COLUMNS = ("path", "gloss", "split", "signer", "video", "score")


@dataclass
class Ranked:
    """An extracted clip with its quality score (higher is better) and place in the lexicon."""

    sample: Sample
    pose_path: Path  # relative to the lexicon folder
    score: float
    rates: dict
    priority: int = 0
    split: str = "train"


@dataclass
class LexiconReport:
    """What `build_lexicon` wrote."""

    path: Path
    entries: list[Ranked] = field(default_factory=list)
    missing: list[MissingVideo] = field(default_factory=list)
    batch: BatchResult = field(default_factory=BatchResult)
    split_by: str = "dataset"

    @property
    def glosses(self) -> list[str]:
        return sorted({e.sample.gloss for e in self.entries})

    def summary(self) -> str:
        counts = {s: sum(e.split == s for e in self.entries) for s in ("train", "val", "test")}
        text = (f"lexicon {self.path}: {len(self.entries)} signs for {len(self.glosses)} glosses; "
                f"splits by {self.split_by}: {counts['train']} train / {counts['val']} val / {counts['test']} test")
        if self.missing:
            text += f"; {len(self.missing)} listed videos missing (see missing.csv)"
        if self.batch.failures:
            text += f"; {len(self.batch.failures)} clips failed to extract (see failures.csv)"
        return text


def gloss_folder(gloss: str) -> str:
    """A folder name for a gloss: lower case, runs of other characters as '_' (THANK YOU -> thank_you)."""
    return re.sub(r"[^a-z0-9]+", "_", gloss.lower()).strip("_") or "gloss"


def select(dataset: Dataset, glosses: Iterable[str] | None = None, limit_glosses: int | None = None) -> Dataset:
    """The dataset restricted to some glosses (any case) and/or to its first `limit_glosses` glosses in listed order."""
    from text2asl.gloss_to_pose.lexicon import gloss_key

    samples, missing = dataset.samples, dataset.missing
    if glosses is not None:
        wanted = {gloss_key(g) for g in glosses if g.strip()}
        samples = [s for s in samples if gloss_key(s.gloss) in wanted]
        missing = [m for m in missing if gloss_key(m.gloss) in wanted]
    if limit_glosses is not None:
        order = list(dict.fromkeys([s.gloss for s in dataset.samples] + [m.gloss for m in dataset.missing]))
        keep = set(order[:limit_glosses])
        samples = [s for s in samples if s.gloss in keep]
        missing = [m for m in missing if m.gloss in keep]
    return Dataset(dataset.name, samples, missing)


def build_lexicon(
    dataset: Dataset,
    out_dir: str | Path,
    workers: int | None = None,
    max_per_gloss: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> LexiconReport:
    """Extract every clip of `dataset` into `out_dir`, rank the instances of each gloss, write the lexicon.

    max_per_gloss: keep only that many best-ranked instances per gloss in index.csv (all by default).
    Raises `Text2ASLError` when no clip at all could be used (none present, or all failed).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise Text2ASLError(f"lexicon output {out} is a file; give a folder with -o")
    if not dataset.samples:
        listed = len(dataset.missing)
        raise Text2ASLError(
            f"none of the {listed} videos listed by {dataset.name} is in the videos folder; check --videos"
            if listed else f"{dataset.name} lists no clips"
        )
    make_folder(out, "lexicon output")
    jobs = clip_jobs(dataset, out)
    batch = run_batch(list(jobs.values()), workers=workers, failures_csv=out / "failures.csv",
                      overwrite=overwrite, progress=progress, desc="build-lexicon")
    failed = {f.output for f in batch.failures}
    extracted = [s for s in dataset.samples if jobs[s.id].output not in failed and jobs[s.id].output.is_file()]
    if not extracted:
        raise Text2ASLError(f"every clip of {dataset.name} failed to extract; see {out / 'failures.csv'}")
    ranked = rank([(s, jobs[s.id].output) for s in extracted], out)
    if max_per_gloss is not None:
        ranked = [r for r in ranked if r.priority < max_per_gloss]
    split_by = assign_splits(ranked)
    write_index(ranked, out / "index.csv")
    write_splits(ranked, out / "splits.csv")
    write_missing(dataset.missing, out / "missing.csv")
    return LexiconReport(out, ranked, list(dataset.missing), batch, split_by)


def clip_jobs(dataset: Dataset, out: Path) -> dict[str, ExtractJob]:
    """{clip id: its extraction job into `out/poses/<gloss>/<id>.pose`}, sharded by clip id.

    The clip id is the dataset's own name for the clip (WLASL's video_id, the file name in
    labels.csv), so it does not depend on where the videos folder lies.
    """
    return {s.id: ExtractJob(s.video, out / "poses" / gloss_folder(s.gloss) / f"{s.id}.pose", s.clip, s.id)
            for s in dataset.samples}


def extract_shard(
    dataset: Dataset,
    out_dir: str | Path,
    shard: Shard,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> BatchResult:
    """Extract only `shard`'s clips of `dataset` into the lexicon folder; writes no index.

    Run every shard (at once or not), then `build_lexicon` once without a shard: it skips the
    clips the shards extracted and writes index.csv and splits.csv. Failures go to the shard's
    own failures.shard-K-of-N.csv.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise Text2ASLError(f"lexicon output {out} is a file; give a folder with -o")
    if not dataset.samples:
        raise Text2ASLError(f"none of the videos listed by {dataset.name} is in the videos folder; check --videos")
    return run_batch(list(clip_jobs(dataset, out).values()), workers=workers, failures_csv=out / "failures.csv",
                     overwrite=overwrite, progress=progress, desc=f"build-lexicon {shard}", shard=shard)


def quality(rates: dict, duration_s: float, typical_s: float) -> float:
    """Score in [0, 1]: how completely the signer was tracked, discounted for an unusual length.

    Hands weigh most (they carry the sign), then body, then face; a clip twice or half as long
    as the gloss's median keeps 75% of its score (a cut-off sign or one with long rest periods).
    """
    detected = 0.5 * rates["any_hand"] + 0.3 * rates["body"] + 0.2 * rates["face"]
    if duration_s <= 0 or typical_s <= 0:
        return detected
    typical = math.exp(-abs(math.log(duration_s / typical_s)))
    return detected * (0.5 + 0.5 * typical)


def rank(extracted: list[tuple[Sample, Path]], out: Path) -> list[Ranked]:
    """Score each extracted clip and number the instances of each gloss by score (priority 0 = best)."""
    from text2asl.extract.holistic import detection_rates
    from text2asl.poses.filters import fill_gaps
    from text2asl.poses.layout import read_pose_file

    measured = []
    for sample, pose_file in extracted:
        # Rates after the same gap filling the lexicon's users apply, so a hand lost for two
        # frames does not demote an otherwise clean instance.
        arr = fill_gaps(read_pose_file(pose_file))
        measured.append((sample, pose_file, detection_rates(arr), arr.duration))
    typical: dict[str, float] = {}
    for gloss in {m[0].gloss for m in measured}:
        typical[gloss] = statistics.median(d for s, _, _, d in measured if s.gloss == gloss)
    ranked = [
        Ranked(s, p.relative_to(out), quality(r, d, typical[s.gloss]), r)
        for s, p, r, d in measured
    ]
    ranked.sort(key=lambda r: (r.sample.gloss, -r.score, r.sample.id))
    counter: dict[str, int] = {}
    for r in ranked:
        r.priority = counter.get(r.sample.gloss, 0)
        counter[r.sample.gloss] = r.priority + 1
    return ranked


def _stable(text: str) -> str:
    """An order that looks random but is the same on every machine and run (unlike hash())."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def assign_splits(ranked: list[Ranked], held_out: float = 0.15) -> str:
    """Set each entry's split; returns how: "dataset", "signer" or "instance".

    dataset: every clip carries the dataset's own split (WLASL, ASL Citizen).
    signer: with 3+ signers, whole signers are held out (about `held_out` of them each for val
    and test, at least one each), so a model is tested on people it never saw.
    instance: otherwise, per gloss with 3+ instances one goes to test and one to val, with 2
    one goes to test; a gloss seen once stays in train.
    """
    if ranked and all(r.sample.split for r in ranked):
        for r in ranked:
            r.split = r.sample.split
        return "dataset"
    signers = sorted({r.sample.signer for r in ranked if r.sample.signer}, key=_stable)
    if len(signers) >= 3 and all(r.sample.signer for r in ranked):
        k = max(1, round(held_out * len(signers)))
        role = {s: "test" for s in signers[:k]} | {s: "val" for s in signers[k : 2 * k]}
        for r in ranked:
            r.split = role.get(r.sample.signer, "train")
        return "signer"
    by_gloss: dict[str, list[Ranked]] = {}
    for r in ranked:
        by_gloss.setdefault(r.sample.gloss, []).append(r)
    for group in by_gloss.values():
        group = sorted(group, key=lambda r: _stable(r.sample.id))
        roles = ["test", "val"] if len(group) >= 3 else ["test"] if len(group) == 2 else []
        for i, r in enumerate(group):
            r.split = roles[i] if i < len(roles) else "train"
    return "instance"


def write_index(ranked: list[Ranked], path: Path) -> None:
    """index.csv in the spoken-to-signed layout (English words, ASL), grouped by gloss, best first."""
    rows = [
        {"path": r.pose_path.as_posix(), "spoken_language": "en", "signed_language": "ase", "start": 0, "end": 0,
         "words": r.sample.gloss.lower(), "glosses": r.sample.gloss, "priority": r.priority}
        for r in ranked
    ]
    _write_csv(path, COLUMNS, rows)


def write_splits(ranked: list[Ranked], path: Path) -> None:
    rows = [
        {"path": r.pose_path.as_posix(), "gloss": r.sample.gloss, "split": r.split, "signer": r.sample.signer or "",
         "video": r.sample.video.name, "score": f"{r.score:.3f}"}
        for r in ranked
    ]
    _write_csv(path, SPLIT_COLUMNS, rows)


def write_missing(missing: list[MissingVideo], path: Path) -> None:
    if not missing:
        path.unlink(missing_ok=True)
        return
    _write_csv(path, ("id", "gloss", "video"), [{"id": m.id, "gloss": m.gloss, "video": m.video} for m in missing])


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    from text2asl.io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
