"""`python -m fxhub`: the same as the `fxhub` command."""

from fxhub.cli.app import main

if __name__ == "__main__":
    main()
