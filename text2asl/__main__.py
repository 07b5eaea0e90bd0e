"""`python -m text2asl ...` (also what `accelerate launch -m text2asl` runs)."""
import sys

from text2asl.cli import main

sys.exit(main())
