"""Entry point of ``python -m sim``."""

import sys

from sim.runner.preflight import drop_implicit_path, prepare

if __name__ == "__main__":
    sys.path[:] = drop_implicit_path(sys.path)
    sys.argv[1:] = prepare(sys.argv[1:])
    from sim.runner.cli import main

    main()
