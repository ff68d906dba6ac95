"""A collector in miniature, run as its own process by test_two_pushers.py.

`python pusher_script.py URL OUTBOX SOURCE MINUTES`: builds MINUTES candles of EUR_USD from SOURCE
(IG or DATABENTO), puts them into its own outbox a few minutes at a time as a collector would, drains
the outbox into the hub in the background, and exits 0 once everything was pushed. The token comes from
FXHUB_TOKEN, never the command line.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from client_support import databento_candle, ig_candle

from fxhub.hub.client import Outbox, OutboxPusher, connect_to_data_hub

CHUNK_MINUTES = 7
DRAIN_TIMEOUT_S = 60.0


def main(url: str, outbox_path: str, source: str, minutes: int) -> int:
    logging.basicConfig(level=logging.WARNING, format=f"{source} %(levelname)s %(name)s: %(message)s")
    make = {"IG": ig_candle, "DATABENTO": databento_candle}[source]
    with connect_to_data_hub(url) as client, Outbox(Path(outbox_path)) as outbox:
        pusher = OutboxPusher(outbox, client, batch_size=25)
        pusher.start()
        for first in range(0, minutes, CHUNK_MINUTES):
            outbox.put([make(minute) for minute in range(first, min(first + CHUNK_MINUTES, minutes))])
        left = pusher.stop(drain_timeout_s=DRAIN_TIMEOUT_S)
    print(f"{source}: pushed={pusher.stats.pushed} left={left} retries={pusher.stats.retries}")
    return 0 if left == 0 and pusher.stats.pushed == minutes else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
