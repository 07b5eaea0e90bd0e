"""Poses to pictures: skeleton rendering and atomic, streaming video / GIF / .pose writers."""
