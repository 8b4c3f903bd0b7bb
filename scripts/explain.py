"""`python scripts/explain.py ...` is `hfsent explain ...` (see `hfsent explain --help`)."""
import sys

from hfsent.cli import main

sys.exit(main(["explain", *sys.argv[1:]]))
