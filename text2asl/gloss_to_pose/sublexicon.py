"""A few signs of a lexicon: well-known example glosses for quick runs, and a sub-lexicon folder of chosen signs.

Quick runs (notebooks' SMOKE mode, demos, a first try of a new lexicon) use a handful of signs.
Commands take whole lexicon folders, so `sub_lexicon` writes a small lexicon folder whose index.csv
lists only the chosen signs (the rows are the source rows, so spans, priorities and languages stay
as they were) beside copies of their .pose files.
"""
from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.lexicon import Lexicon


# Common signs that look different from each other, then letters with movement (J, Z) or distinct
# handshapes: a small set that still shows what varies between signs.
EXAMPLE_GLOSSES = ("HELLO", "THANK YOU", "WATER", "MOTHER", "J", "Z", "BOOK", "PLEASE", "A", "B", "L", "Y")


def example_glosses(lexicon, n: int = 6) -> list[str]:
    """Up to `n` glosses of `lexicon` for a quick run: well-known signs it has first, then its other signs in order."""
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
    from text2asl.io import atomic_path, contained_path, make_folder

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
    make_folder(folder, "lexicon folder")
    with open(lex.path / "index.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = [row for row_no, row in enumerate(reader, start=1) if row_no in wanted]
    for row in rows:
        name = row["path"].strip()
        target = contained_path(folder, name, f"{lex.path / 'index.csv'}", "lexicon folder")
        make_folder(target.parent, "lexicon folder")
        shutil.copyfile(contained_path(lex.path, name, f"{lex.path / 'index.csv'}", "lexicon folder"), target)
        row["path"] = name
    with atomic_path(folder / "index.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fields)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def dataset_lexicons(paths: Sequence[str | Path] | None = None) -> list:
    """`Lexicon`s of `paths`, else the ASL-App lexicon of ../shared/data, else the embedded alphabet."""
    from text2asl.paths import shared_dataset

    if not paths:
        paths = [shared_dataset("asl-app-lexicon") or Lexicon.embedded().path]
    return [Lexicon(p) for p in paths]
