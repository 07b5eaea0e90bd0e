"""Glosses to poses: sign lexicons, lookup with fingerspelling fallback, and stitching."""
