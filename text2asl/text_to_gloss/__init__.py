"""English text to ASL gloss sequences, by offline rules."""
from text2asl.text_to_gloss.nonmanual import Span
from text2asl.text_to_gloss.rules import GlossResult, RuleHit, parse_glosses, text_to_gloss

__all__ = ["GlossResult", "RuleHit", "Span", "parse_glosses", "text_to_gloss"]
