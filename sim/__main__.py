"""Entry point of ``python -m sim``."""

from sim.runner.cli import main

if __name__ == "__main__":
    main()
