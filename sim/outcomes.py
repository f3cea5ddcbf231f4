"""``python -m sim.outcomes``: the command; it lives in :mod:`sim.evidence.outcomes`."""

import sys

from sim.evidence.outcomes import main

if __name__ == "__main__":
    sys.exit(main())
