"""`python scripts/train.py ...` is `hfsent train ...` (see `hfsent train --help`)."""
import sys

from hfsent.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
