"""Two collector processes, each with its own outbox, fill one running hub at the same time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from client_support import RunningHub, databento_candle, ig_candle

from fxhub.hub.client import connect_to_data_hub
from fxhub.model import Source

SCRIPT = Path(__file__).with_name("pusher_script.py")
MINUTES = 1000


def test_two_pusher_processes_fill_one_hub_and_latest_has_both_sources(
    hub: RunningHub, tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FXHUB_")}
    env["FXHUB_TOKEN"] = hub.token
    pushers = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), hub.url, str(tmp_path / f"{source}.outbox"), source, str(MINUTES)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for source in ("IG", "DATABENTO")
    ]
    outputs = [process.communicate(timeout=120)[0].decode() for process in pushers]
    assert [process.returncode for process in pushers] == [0, 0], outputs

    with connect_to_data_hub(hub.url, hub.token) as client:
        latest = client.get_latest_candles("EUR_USD", limit=100)
        inventory = {item.source: item.count for item in client.inventory()}

    assert inventory == {Source.IG: MINUTES, Source.DATABENTO: MINUTES}
    newest = range(MINUTES - 50, MINUTES)
    assert latest == [maker(minute) for minute in newest for maker in (databento_candle, ig_candle)]
    by_source = {source: [c for c in latest if c.source is source] for source in Source}
    assert all(
        c.vwap is not None and c.buy_volume == 70.0 and c.instrument == "6EZ5"
        for c in by_source[Source.DATABENTO]
    )
    assert all(c.quote_count is not None and c.avg_spread_pips == 0.6 for c in by_source[Source.IG])
