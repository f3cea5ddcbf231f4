"""``python -m sim.parameters``: the command; it lives in :mod:`sim.evidence.parameters`."""

import sys

from sim.evidence.parameters import main

if __name__ == "__main__":
    sys.exit(main())
