"""Parts of lexicons and datasets: a few signs as a lexicon of their own, a dataset of them, and the keyframes of chosen glosses.

Quick runs (notebooks' SMOKE mode, demos, a first try of a new lexicon) train on a handful of
signs, and figures put a gloss's real keyframes beside generated ones. `make_dataset` takes whole
lexicon folders, so `sub_lexicon` writes a small lexicon folder whose index.csv lists only the
chosen signs and points at the original .pose files (nothing is copied; the rows are the source
rows, so spans, priorities and languages stay as they were). `skeleton_dataset` is the whole
recipe notebooks 02, 03 and 06 share: example glosses -> sub-lexicon -> `make_dataset`.
"""
from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from text2asl.errors import Text2ASLError


# Common signs that look different from each other, then letters with movement (J, Z) or distinct
# handshapes: a small set that still shows what varies between signs.
EXAMPLE_GLOSSES = ("HELLO", "THANK YOU", "WATER", "MOTHER", "J", "Z", "BOOK", "PLEASE", "A", "B", "L", "Y")


def example_glosses(lexicon, n: int = 6) -> list[str]:
    """Up to `n` glosses of `lexicon` for a quick run: well-known signs it has first, then its other signs in order."""
    from text2asl.gloss_to_pose.lexicon import Lexicon

    lex = lexicon if isinstance(lexicon, Lexicon) else Lexicon(lexicon)
    picked = [g for g in EXAMPLE_GLOSSES if lex.find(g)]
    seen = {g.upper() for g in picked}
    picked += [e.gloss for e in lex.entries if e.gloss.upper() not in seen and not seen.add(e.gloss.upper())]
    return picked[:n]


def sub_lexicon(lexicon, glosses: Sequence[str], folder: str | Path) -> Path:
    """Write `folder`/index.csv with the rows of `lexicon` that sign `glosses`; returns `folder`.

    lexicon: a `Lexicon` or a lexicon folder. Glosses are looked up as `translate` looks them up
    (any case, THANK-YOU == thank you, lemmas), and every recorded instance of a gloss is kept.
    The chosen .pose files are copied into `folder` under their source names (lexicons refuse rows
    whose path leaves their folder), so the sub-lexicon stands on its own.
    """
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.io import atomic_path, contained_path

    lex = lexicon if isinstance(lexicon, Lexicon) else Lexicon(lexicon)
    if not glosses:
        raise Text2ASLError(f"no glosses chosen from {lex.path}; name at least one of its signs")
    wanted: set[int] = set()
    missing = []
    for gloss in glosses:
        found = lex.find(gloss)
        if not found:
            missing.append(gloss)
        wanted.update(e.row for e in found if e.gloss.upper() == found[0].gloss.upper())
    if missing:
        known = ", ".join(sorted({e.gloss for e in lex.entries})[:12])
        raise Text2ASLError(f"lexicon {lex.path} has no sign for {', '.join(map(repr, missing))}; it has e.g. {known}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(lex.path / "index.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = [row for row_no, row in enumerate(reader, start=1) if row_no in wanted]
    for row in rows:
        name = row["path"].strip()
        target = contained_path(folder, name, f"{lex.path / 'index.csv'}", "lexicon folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(contained_path(lex.path, name, f"{lex.path / 'index.csv'}", "lexicon folder"), target)
        row["path"] = name
    with atomic_path(folder / "index.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fields)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def default_lexicons(paths: Sequence[str | Path] | None = None) -> list:
    """`Lexicon`s of `paths`, else the ASL-App lexicon of ../shared/data, else the embedded alphabet."""
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.paths import shared_dataset

    if not paths:
        paths = [shared_dataset("asl-app-lexicon") or Lexicon.embedded().path]
    return [Lexicon(p) for p in paths]


def skeleton_dataset(lexicons: Sequence, output_dir: str | Path, resolution: int, n_phases: int,
                     glosses: Sequence[str] | None = None, n_examples: int | None = None, progress: bool = False) -> Path:
    """`make_dataset` over whole `lexicons`, or over just some signs of the first one; returns the dataset folder.

    glosses: the signs to keep; n_examples (without glosses): keep `example_glosses(lexicons[0], n_examples)`.
    The sub-lexicon of kept signs is written beside the dataset, as `<output_dir>-lexicon`.
    """
    from text2asl.diffusion.dataset import make_dataset

    output_dir = Path(output_dir)
    if glosses is None and n_examples:
        glosses = example_glosses(lexicons[0], n_examples)
    if glosses:
        sources = [sub_lexicon(lexicons[0], glosses, output_dir.with_name(output_dir.name + "-lexicon"))]
    else:
        sources = [lex.path for lex in lexicons]
    return make_dataset(sources, output_dir, resolution=resolution, n_phases=n_phases, progress=progress)


def gloss_keyframes(data_dir: str | Path, glosses: Sequence[str] | None = None,
                    resolution: int | None = None) -> dict[str, np.ndarray]:
    """{gloss: (n_phases, R, R, 3) uint8 RGB} of a skeleton dataset: each gloss's first instance, phases in order.

    glosses: which glosses (None: all, in dataset order); resolution: R (None: the dataset's own).
    """
    from text2asl.diffusion.caption import gloss_token, parse_caption
    from text2asl.diffusion.dataset import load_image, read_info, read_metadata

    data_dir = Path(data_dir)
    rows = read_metadata(data_dir)
    resolution = resolution or read_info(data_dir).get("resolution")
    first: dict[str, dict[int, Path]] = {}
    for row in rows:
        parsed = parse_caption(row["text"])
        gloss = row.get("gloss") or (parsed[0] if parsed else None)
        phase = row.get("phase") or (parsed[1] if parsed else None)
        if gloss is None or phase is None:
            continue
        phases = first.setdefault(gloss, {})
        phases.setdefault(int(phase), data_dir / row["file_name"])  # later instances repeat phases: skip them
    chosen = list(first) if glosses is None else [gloss_token(g) for g in glosses]
    unknown = [g for g in chosen if g not in first]
    if unknown:
        raise Text2ASLError(f"dataset {data_dir} has no images of {', '.join(unknown)}; it has {', '.join(list(first)[:12])}")
    out = {}
    for gloss in chosen:
        paths = [first[gloss][k] for k in sorted(first[gloss])]
        images = [load_image(p, resolution) if resolution else _read_rgb(p) for p in paths]
        out[gloss] = np.stack(images)
    return out


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
