"""The `fxhub` command line."""
