"""`python scripts/score.py ...` is `hfsent score ...` (see `hfsent score --help`)."""
import sys

from hfsent.cli import main

sys.exit(main(["score", *sys.argv[1:]]))
