"""`fxhub collect databento|ig`: collectors that fill the hub through the durable outbox."""

import typer

from fxhub.cli.collect.databento import collect_databento
from fxhub.cli.collect.ig import collect_ig

__all__ = ["collect_app"]

collect_app = typer.Typer(help="Collect candles from a source into the hub.", no_args_is_help=True)
collect_app.command("databento")(collect_databento)
collect_app.command("ig")(collect_ig)
