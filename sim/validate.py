"""``python -m sim.validate``: the command; it lives in :mod:`sim.evidence.validate`."""

import sys

from sim.evidence.validate import main

if __name__ == "__main__":
    sys.exit(main())
