"""``python -m hodiff``: the command line (see hodiff.cli)."""

import sys

from .cli.main import main

sys.exit(main())
