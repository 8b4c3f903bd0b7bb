"""``python -m hfsent``: the same as the ``hfsent`` command."""

import sys

from hfsent.cli import main

sys.exit(main())
