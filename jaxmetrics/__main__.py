"""``python -m jaxmetrics`` is the ``jaxmetrics`` command line."""

import sys

from jaxmetrics.cli import main

if __name__ == "__main__":
    sys.exit(main())
