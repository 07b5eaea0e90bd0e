"""text2asl: English text to American Sign Language (ASL) skeleton video, offline."""
from __future__ import annotations

__version__ = "0.1.0"

# The public API, imported on first use so `import text2asl` (and the CLI's --help) stays instant.
_EXPORTS = {
    "translate": "text2asl.pipeline",
    "Translation": "text2asl.pipeline",
    "render_frames": "text2asl.pipeline",
    "save": "text2asl.pipeline",
    "text_to_gloss": "text2asl.text_to_gloss.rules",
    "parse_glosses": "text2asl.text_to_gloss.rules",
    "Lexicon": "text2asl.gloss_to_pose.lexicon",
    "StitchConfig": "text2asl.gloss_to_pose.stitch",
    "RenderConfig": "text2asl.pose_to_video.render",
    "SkeletonRenderer": "text2asl.pose_to_video.render",
    "write_video": "text2asl.pose_to_video.writer",
    "read_video": "text2asl.io",
    "PoseArray": "text2asl.poses.layout",
    "Text2ASLError": "text2asl.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'text2asl' has no attribute {name!r}")
