"""`python scripts/predict.py ...` is `hfsent predict ...` (see `hfsent predict --help`)."""
import sys

from hfsent.cli import main

sys.exit(main(["predict", *sys.argv[1:]]))
