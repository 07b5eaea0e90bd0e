"""`text2asl translate`: English text (or glosses) to an ASL skeleton video, GIF or .pose file."""
from __future__ import annotations

import argparse
import os
import sys

from text2asl.options import SPEED, number

# After a success the process holds nothing to clean up (outputs written atomically and closed, the
# ffmpeg runs waited for, no worker left): `cli.program` skips the interpreter's teardown.
QUICK_EXIT = True


def _generation(name: str, even: bool = False):
    """The argparse type of generation setting `name`, with GenerationConfig's own range."""
    from text2asl.diffusion.ranges import GENERATION_RANGES

    kind, lo, hi, lo_open = GENERATION_RANGES[name]
    return number(kind, lo, hi, lo_open=lo_open, even=even)


# Finite ranges for every numeric option, checked by argparse before any work starts. The video's
# frame rate and size are the same settings for both renderers (GenerationConfig's fps and size).
FPS = _generation("fps")
SIZE = _generation("size", even=True)  # 4096² RGB is 48 MiB a frame: the most a renderer should hold
LETTER_HOLD = number(float, 0, 10, lo_open=True)
LORA_SCALE = _generation("lora_scale")
STEPS = _generation("num_inference_steps")
GUIDANCE = _generation("guidance_scale")
SEED = _generation("seed")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", help="English text to sign (quote it)")
    p.add_argument("--glosses", help='sign these glosses instead of translating text, e.g. "HELLO fs-SAM"')
    p.add_argument("-o", "--output", default="text2asl.mp4", help="output file: .mp4 (H.264), .gif or .pose (default: %(default)s)")
    p.add_argument("--lexicon", action="append", default=[], metavar="DIR",
                   help="lexicon folder with index.csv (repeatable; searched in order, before the embedded word signs and alphabet)")
    p.add_argument("--no-embedded-words", action="store_true",
                   help="do not use the embedded asl-app word signs: only --lexicon folders, then fingerspelling")
    p.add_argument("--fps", type=FPS, default=25.0, help=f"output frame rate, in {FPS.range_text} (default: %(default)s)")
    p.add_argument("--size", type=SIZE, default=512, help=f"square canvas size in pixels, in {SIZE.range_text} (default: %(default)s)")
    p.add_argument("--letter-hold", type=LETTER_HOLD, default=0.3, metavar="SECONDS",
                   help=f"how long each fingerspelled letter is held, in {LETTER_HOLD.range_text} (default: %(default)s)")
    p.add_argument("--speed", type=SPEED, default=1.0,
                   help=f"signing speed: 0.5 is half speed for learners; fingerspelled letters stay readable, in {SPEED.range_text} (default: %(default)s)")
    p.add_argument("--caption", choices=["gloss", "english", "both"], default="gloss",
                   help="what the caption shows: the gloss (default), the English sentence with the word being signed highlighted, or both")
    p.add_argument("--no-caption", action="store_true", help="do not print the gloss on the frames")
    p.add_argument("--no-hands-inset", action="store_true", help="do not draw the magnified hands")
    p.add_argument("--no-face-inset", action="store_true", help="do not draw the magnified face (brows and head shake)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--renderer", choices=["skeleton", "diffusion"], default="skeleton",
                   help="skeleton: lexicon poses drawn as a skeleton (default); diffusion: Stable Diffusion + LoRA keyframes")
    p.add_argument("--base-model", default=None, help="diffusion renderer: hub id or local folder of the base model, or 'tiny-asl' (the shipped toy base)")
    p.add_argument("--lora", default=None, metavar="DIR", help="diffusion renderer: a train-lora output folder")
    p.add_argument("--lora-scale", type=LORA_SCALE, default=1.0,
                   help=f"diffusion renderer: strength of the LoRA, in {LORA_SCALE.range_text} (default: %(default)s)")
    p.add_argument("--steps", type=STEPS, default=None,
                   help=f"diffusion renderer: denoising steps per keyframe, in {STEPS.range_text} (default: the model's own, else 25)")
    p.add_argument("--guidance-scale", type=GUIDANCE, default=None,
                   help=f"diffusion renderer: classifier-free guidance, in {GUIDANCE.range_text} (default: the model's own, else 7.5)")
    p.add_argument("--seed", type=SEED, default=0, help=f"diffusion renderer: noise seed, in {SEED.range_text} (default: %(default)s)")


def _no_worker_threads() -> None:
    """Ask numpy's OpenBLAS and OpenCV for no worker threads, where this process has not loaded them yet.

    The skeleton track's array work is thousands of small calls (stitching, drawing, colour
    conversion); the libraries' worker threads only spin-wait between them, on the cores that ffmpeg
    encodes on. Measured on a sentence: 14,000 sched_yield calls, 12 % of the CPU time of the whole
    process tree. A process that has loaded them (a notebook, the tests) keeps its own settings.
    """
    for module, variable in (("numpy", "OPENBLAS_NUM_THREADS"), ("cv2", "OPENCV_FOR_THREADS_NUM")):
        if module not in sys.modules:
            os.environ.setdefault(variable, "1")


def run(args: argparse.Namespace) -> int:
    if args.renderer == "skeleton":
        _no_worker_threads()
    from text2asl.errors import Text2ASLError
    from text2asl.gloss_to_pose.stitch import StitchConfig
    from text2asl.pipeline import save, translate
    from text2asl.pose_to_video.render import RenderConfig
    from text2asl.io import check_output_path

    if args.text is None and args.glosses is None:
        raise Text2ASLError('give English text to sign, e.g. text2asl translate "Hello, my name is Sam." -o hello.mp4')
    if args.text is not None and args.glosses is not None:
        raise Text2ASLError("give either text or --glosses, not both")
    output = check_output_path(args.output)  # before any work: a bad path fails in milliseconds
    config = StitchConfig(fps=args.fps, letter_hold_s=args.letter_hold, speed=args.speed)
    if args.renderer == "skeleton" and output.suffix.lower() == ".mp4":
        from text2asl.pose_to_video.writer import FLAT_ENCODER, look_up_encoder

        look_up_encoder(FLAT_ENCODER[0])  # ffmpeg's answers come on the other core while we translate
    # The diffusion renderer draws no face: a negation must then be signed, not left to a head shake.
    translation = translate(args.text, glosses=args.glosses, lexicons=args.lexicon,
                            embedded_words=not args.no_embedded_words, config=config,
                            nonmanual=args.renderer != "diffusion")
    for warning in translation.gloss.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        *markers, glosses = translation.gloss.annotated().splitlines()
        for line in markers:  # lines over the glosses a face or head marker covers (whq, q, neg, t)
            print(" " * 8 + line)
        print("gloss: ", glosses)
        print("signed:", " ".join(translation.glosses))
        print(translation.summary())
    if args.renderer == "diffusion":
        from text2asl.diffusion.generate import generation_config, known_glosses, prompt_glosses, render_glosses
        from text2asl.diffusion.model import use_cpu_threads
        from text2asl.pose_to_video.writer import write_video

        if output.suffix.lower() == ".pose":
            raise Text2ASLError("the diffusion renderer makes images, not poses: write .mp4 or .gif")
        if args.speed != 1.0:
            raise Text2ASLError("--speed works with the skeleton renderer only; the diffusion renderer times signs as recorded")
        # Signs the model was trained on are prompted as themselves, not as a pose lexicon's spelling.
        glosses = prompt_glosses(translation.gloss.glosses, known_glosses(args.base_model, args.lora))
        if not args.quiet:
            print("prompted:", " ".join(glosses))
        use_cpu_threads()
        generation = generation_config(args.base_model, args.lora, fps=args.fps, size=args.size, seed=args.seed,
                                       lora_scale=args.lora_scale, num_inference_steps=args.steps,
                                       guidance_scale=args.guidance_scale)
        frames = render_glosses(glosses, args.base_model, args.lora, generation, progress=not args.quiet,
                                captions=not args.no_caption)
        write_video(frames, output, args.fps)
    else:
        render = RenderConfig(size=args.size, caption=not args.no_caption, hands_inset=not args.no_hands_inset,
                              face_inset=not args.no_face_inset)
        save(translation, output, render, captions=args.caption)
    if not args.quiet:
        print(f"wrote {output}")
    return 0
