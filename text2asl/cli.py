"""The `text2asl` command line: a thin, fast-starting front for the library's stages."""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from text2asl.errors import Terminated, Text2ASLError, missing_dependency

# name -> (module in text2asl/commands/ holding add_arguments(parser) and run(args) -> int, one-line help).
# Modules are imported only for the command being run, so `text2asl --help` starts in milliseconds.
COMMANDS: dict[str, tuple[str, str]] = {
    "translate": ("text2asl.commands.translate", "English text (or glosses) -> ASL skeleton video / GIF / .pose"),
    "extract": ("text2asl.commands.extract", "MediaPipe Holistic poses from videos, one .pose per video"),
    "build-lexicon": ("text2asl.commands.build_lexicon", "build a sign lexicon + splits from WLASL, ASL Citizen or labelled clips"),
    "pack-lexicon": ("text2asl.commands.pack_lexicon", "quantise a lexicon into small .npz signs the package can ship (the embedded asl-app words)"),
    "overlay": ("text2asl.commands.overlay", "draw the extracted skeleton over a video's own frames"),
    "make-dataset": ("text2asl.commands.make_dataset", "render lexicon poses into a captioned skeleton-image dataset"),
    "train-base": ("text2asl.commands.train_base", "pre-train the toy Stable Diffusion base (tiny-asl) on a lexicon's keyframes"),
    "train-lora": ("text2asl.commands.train_lora", "fine-tune Stable Diffusion with LoRA on a skeleton dataset"),
    "evaluate": ("text2asl.commands.evaluate", "compare a generated sign with its reference, or run the suites with baselines"),
    "recognize": ("text2asl.commands.recognize", "nearest-neighbour DTW sign recognition against a lexicon"),
}


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line, like every other error of the CLI (no usage dump)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="text2asl",
        description="English text to American Sign Language (ASL) skeleton video.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if argv and argv[0] == name:
            importlib.import_module(module).add_arguments(p)
    return parser


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked: importlib.metadata alone costs ~50 ms of every start."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help="show the version and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version())  # on stdout, as argparse's own version action does
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"text2asl {version('text2asl')}"
    except PackageNotFoundError:  # running from a source tree without install
        return "text2asl (source)"


def main(argv: list[str] | None = None) -> int:
    """Run one command; every way it can fail ends in one line on stderr and a non-zero status.

    A failed command leaves no empty folder it made (`text2asl.io.remove_made_folders`); files it
    finished are kept, so a rerun resumes.
    """
    # text2asl.io is looked up, not imported: it costs ~30 ms, and `--help` must start fast. A command
    # that makes folders has imported it; before the first command nothing was made (mark 0).
    io = sys.modules.get("text2asl.io")
    mark, code = (io.made_folders_mark() if io else 0), 1
    try:
        code = _run(argv)
    finally:
        io = sys.modules.get("text2asl.io")
        if code != 0 and io is not None:
            io.remove_made_folders(mark)
    return code


def _run(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        module = importlib.import_module(COMMANDS[args.command][0])
        return int(module.run(args) or 0)
    except SystemExit as exc:  # argparse: --help, --version, or a bad option (already printed)
        return exc.code if isinstance(exc.code, int) else 2
    except Text2ASLError as exc:
        print(f"text2asl {command}: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        hint = missing_dependency(exc)
        if hint is None:
            raise
        print(f"text2asl {command}: error: {hint}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        if _stdout_gone():
            return _quiet_stdout()
        raise
    except Exception as exc:  # a read-only folder, a full disk, wherever in a library it struck
        from text2asl.io import os_error_sentence

        sentence = os_error_sentence(exc)
        if sentence is None:
            raise
        print(f"text2asl {command}: error: {sentence}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"text2asl {command}: interrupted; finished outputs are kept, rerun to resume", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"text2asl {command}: terminated by signal {exc.signum}; finished outputs are kept, rerun to resume", file=sys.stderr)
        return 128 + exc.signum


def _stdout_gone() -> bool:
    """Whether the reader of stdout went away (`text2asl ... | head`): its pipe reports an error."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    try:  # unbuffered, nothing was left to flush: ask the pipe (POLLERR once it has no reader)
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # not a file (captured), or no poll here
        return False


def _quiet_stdout() -> int:
    """End quietly, as a Unix tool ends when the reader of its output leaves (SIGPIPE's status);
    stdout goes to /dev/null so that the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE


def program() -> None:
    """The `text2asl` program (the console script and `python -m text2asl`): `main()`, then the exit.

    After a command whose module sets `QUICK_EXIT = True` succeeded, the process leaves without
    Python's teardown (os._exit once stdout and stderr are flushed): such a command has written and
    closed every output and leaves no thread, worker or temporary file behind, and tearing down numpy,
    OpenCV and 400 modules took 50-60 ms of a 0.5 s translate (24 paired runs: -8 % wall). Every other
    exit, and every call of `main()` from Python, ends as usual. Where the reader of stdout went away,
    the program ends quietly with SIGPIPE's status (141), whatever the command.
    """
    code = main()
    if _stdout_gone():
        code = _quiet_stdout()
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    module = sys.modules.get(COMMANDS[name][0]) if name in COMMANDS else None
    if code == 0 and getattr(module, "QUICK_EXIT", False):
        try:
            sys.stderr.flush()
        except (OSError, ValueError):  # the usual exit reports it
            pass
        else:
            os._exit(0)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    program()
