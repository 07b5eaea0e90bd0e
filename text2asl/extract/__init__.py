"""Video -> poses: MediaPipe Holistic extraction, resumable batches, dataset adapters, lexicon building, overlays.

MediaPipe is imported only when a video is actually extracted, so importing this package is cheap.
"""
from text2asl.extract.batch import BatchResult, ExtractJob, Failure, jobs_for_videos, run_batch
from text2asl.extract.datasets import Dataset, MissingVideo, Sample, load_asl_citizen, load_labels, load_wlasl
from text2asl.extract.holistic import (
    Clip, ExtractionError, detection_rates, extract_frames, extract_video, signing_hand_rate,
)
from text2asl.extract.lexicon_builder import LexiconReport, build_lexicon

__all__ = [
    "BatchResult", "Clip", "Dataset", "ExtractJob", "ExtractionError", "Failure", "LexiconReport", "MissingVideo",
    "Sample", "build_lexicon", "detection_rates", "extract_frames", "extract_video", "jobs_for_videos", "signing_hand_rate",
    "load_asl_citizen", "load_labels", "load_wlasl", "run_batch",
]
