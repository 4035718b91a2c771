"""`python -m sources.jimi_push serve ...`: same as the `jimi-push` console script."""

from sources.jimi_push.cli import main

if __name__ == "__main__":
    main()
