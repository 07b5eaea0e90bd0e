"""Pose sequences shared by every stage: the canonical holistic layout, normalisation and filters."""
from text2asl.poses.layout import (
    BODY,
    FACE,
    LEFT_HAND,
    N_POINTS,
    RIGHT_HAND,
    PoseArray,
    canonical_header,
    read_pose_file,
    to_canonical,
    to_pose,
)

__all__ = [
    "BODY", "FACE", "LEFT_HAND", "RIGHT_HAND", "N_POINTS", "PoseArray",
    "canonical_header", "read_pose_file", "to_canonical", "to_pose",
]
