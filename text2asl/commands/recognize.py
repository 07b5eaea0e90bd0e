"""`text2asl recognize`: nearest-neighbour DTW sign recognition of .pose files against a lexicon."""
from __future__ import annotations

import argparse
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.options import number

TOP = number(int, 1, 10_000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("queries", nargs="+", type=Path, metavar="QUERY.pose", help="signs to recognise (.pose files)")
    parser.add_argument("--reference", type=Path, required=True, metavar="LEXICON_DIR",
                        help="lexicon folder (index.csv in the spoken-to-signed layout) of real reference signs")
    parser.add_argument("--labels", type=Path, default=None, metavar="INDEX_CSV",
                        help="lexicon index.csv giving the queries' glosses (default: the file name, e.g. thank-you.pose)")
    parser.add_argument("-k", "--top", type=TOP, default=5, help=f"glosses to print per query, in {TOP.range_text} (default 5)")
    parser.add_argument("--naive", action="store_true", help="the naive raw-pixel recogniser (for comparison)")


def run(args: argparse.Namespace) -> int:
    from text2asl.evaluation.recognize import Recognizer, gloss_key
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.poses.layout import read_pose_file

    for q in args.queries:
        if q.suffix.lower() != ".pose":
            raise Text2ASLError(f"query {q} is not a .pose file; extract poses first with `text2asl extract`")
    truths = _labels(args.labels) if args.labels else {}
    lexicon = Lexicon(args.reference)
    if not lexicon.entries:
        raise Text2ASLError(f"lexicon {args.reference} has no ASL signs to recognise against")
    recognizer = Recognizer.from_lexicon(lexicon, naive=args.naive)
    known = {gloss_key(g) for g in recognizer.glosses}
    hits1 = hits5 = scored = 0
    for path in args.queries:
        match = recognizer.rank(read_pose_file(path))
        truth = truths.get(path.resolve()) or _gloss_from_name(path, known)
        shown = ", ".join(f"{g} {d:.3f}" for g, d in zip(match.glosses[: args.top], match.distances))
        line = f"{path.name}: {shown}"
        if truth is not None:
            rank = match.rank_of(truth)
            scored += 1
            hits1 += rank == 1
            hits5 += rank is not None and rank <= 5
            line += f"  [truth {truth}: rank {rank} of {len(match.glosses)}]"
        print(line)
    if scored:
        print(f"top-1 {hits1 / scored:.0%} ({hits1}/{scored}), top-5 {hits5 / scored:.0%} ({hits5}/{scored}) "
              f"over {scored} queries with a known gloss, against {len(lexicon)} reference signs")
    return 0


def _labels(index: Path) -> dict[Path, str]:
    """{resolved pose path: gloss} from a lexicon index.csv (paths relative to its folder, refused if they leave it)."""
    from text2asl.gloss_to_pose.lexicon import read_index_rows
    from text2asl.io import contained_path

    if not index.is_file():
        raise Text2ASLError(f"--labels {index} does not exist; give a lexicon index.csv")
    rows = read_index_rows(index, required=("path", "glosses"))
    return {contained_path(index.parent, r["path"], f"{index} row {n}", "lexicon folder").resolve(): r["glosses"]
            for n, r in rows if r.get("path") and r.get("glosses")}


def _gloss_from_name(path: Path, known: set[str]) -> str | None:
    """The gloss a file name spells (thank-you.pose -> THANK YOU), when the reference set knows it."""
    from text2asl.evaluation.recognize import gloss_key

    key = gloss_key(path.stem)
    return key if key in known else None
