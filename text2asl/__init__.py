"""text2asl: English text to American Sign Language (ASL) skeleton video, offline."""
__version__ = "0.1.0"
