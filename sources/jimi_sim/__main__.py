"""`python -m sources.jimi_sim serve ...`: same as the `jimi-sim` console script."""

from sources.jimi_sim.cli import main

if __name__ == "__main__":
    main()
