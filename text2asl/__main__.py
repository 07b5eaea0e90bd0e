"""`python -m text2asl ...` (also what `accelerate launch -m text2asl` runs)."""
from text2asl.cli import program

program()
