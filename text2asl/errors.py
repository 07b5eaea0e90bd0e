"""The one exception type for mistakes a user can make, and the install hint for a missing optional dependency."""
from __future__ import annotations


class Text2ASLError(Exception):
    """A user-caused problem (bad text, missing file, malformed lexicon...).

    The message is one sentence that names the input and says what to do; the CLI prints it on
    stderr and exits with status 2, without a traceback.
    """


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a file was being written (see `text2asl.io.atomic_path`).

    A BaseException like KeyboardInterrupt, so cleanup code runs and nothing catches it by accident.
    """

    def __init__(self, signum: int):
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


# Optional dependencies by import name -> (distribution, pyproject extra that installs it).
# The one place this mapping lives; tests check it against pyproject.toml's extras.
OPTIONAL_DEPENDENCIES: dict[str, tuple[str, str]] = {
    "mediapipe": ("mediapipe", "extract"),
    "torch": ("torch", "diffusion"),
    "diffusers": ("diffusers", "diffusion"),
    "transformers": ("transformers", "diffusion"),
    "peft": ("peft", "diffusion"),
    "accelerate": ("accelerate", "diffusion"),
    "safetensors": ("safetensors", "diffusion"),
    "skimage": ("scikit-image", "eval"),
    "matplotlib": ("matplotlib", "eval"),
    "scipy": ("scipy", "eval"),
    "dtaidistance": ("dtaidistance", "eval"),
}


def missing_dependency(exc: ImportError) -> str | None:
    """One sentence naming the missing optional package and the install command, or None for other ImportErrors.

    Looks through wrapped ImportErrors (`raise ImportError(hint) from exc`) for the module name.
    """
    seen: BaseException | None = exc
    while isinstance(seen, ImportError):
        top = (seen.name or "").split(".")[0]
        if top in OPTIONAL_DEPENDENCIES:
            dist, extra = OPTIONAL_DEPENDENCIES[top]
            return (f"{dist} is not installed; install the {extra!r} extra with "
                    f"pip install -e '.[{extra}]' in the text2asl checkout (or '.[all]' for everything)")
        seen = seen.__cause__ or seen.__context__
    return None
