"""A collector process for the fault tests: `python fault_pusher.py URL OUTBOX SOURCE FIRST COUNT PUT`.

With PUT=1 it queues minutes FIRST..FIRST+COUNT-1 of EUR_USD from SOURCE into its outbox (a few at a
time, as a collector does); then it drains the outbox into the hub, retrying while the hub is down,
and exits 0 once the outbox is empty. With PUT=0 it only drains what an earlier run left behind.
The token comes from FXHUB_TOKEN.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).with_name("client")))  # the shared candle makers

from client_support import databento_candle, ig_candle

from fxhub.hub.client import Outbox, OutboxPusher, connect_to_data_hub

CHUNK = 50
DEADLINE_S = 120.0


def main(url: str, outbox_path: str, source: str, first: int, count: int, put: bool) -> int:
    make = {"IG": ig_candle, "DATABENTO": databento_candle}[source]
    with connect_to_data_hub(url) as client, Outbox(Path(outbox_path)) as outbox:
        pusher = OutboxPusher(outbox, client, batch_size=200, max_backoff_s=0.5)
        pusher.start()
        if put:
            for start in range(first, first + count, CHUNK):
                outbox.put([make(m) for m in range(start, min(start + CHUNK, first + count))])
                print(f"queued {min(start + CHUNK, first + count) - first}", flush=True)
        deadline = time.monotonic() + DEADLINE_S
        while outbox.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = pusher.stop(drain_timeout_s=10.0)
    print(f"done left={left} retries={pusher.stats.retries}", flush=True)
    return 0 if left == 0 else 1


if __name__ == "__main__":
    url, outbox_path, source, first, count, put = sys.argv[1:7]
    sys.exit(main(url, outbox_path, source, int(first), int(count), put == "1"))
