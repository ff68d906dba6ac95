"""How exchange records become 1-minute candles: the semantics, named rather than implied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["NS_PER_MINUTE", "BarSpec"]

NS_PER_MINUTE: Final = 60_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BarSpec:
    """The rules every bar builder (streaming or vectorised) follows.

    - `price`: ``"mid"`` builds OHLC from the book mid after each complete venue event (F_LAST), as the
      existing system does; ``"trade"`` builds OHLC from trade prices, so the bars equal Databento's own
      ohlcv-1m. Volume, VWAP and aggressor volume always come from trades (action ``T``) only.
    - `bucket_clock`: ``"ts_event"``, the matching engine's time. A candle describes when trading
      happened at CME, independent of our network path; Databento's ohlcv-1m is bucketed the same way.
    - `label`: ``"open"``: a minute [t, t + 60 s) is labelled t.
    - `emit_empty`: an open-market minute without trades still gets a candle with volume 0 — OHLC from
      the book mid when there were quotes, else flat at the previous close. Minutes when CME is closed get
      none.
    - `max_fill_minutes`: at most this many consecutive empty minutes are filled; a longer silence is a
      hole in the data (an outage, a file that stops), not a quiet market, and gets no candles.
    - `grace_ns`: a quiet feed's minute is closed when the clock passes its end plus this grace, so a
      late record of that minute still lands in it.
    """

    price: Literal["mid", "trade"] = "mid"
    bucket_clock: Literal["ts_event"] = "ts_event"
    label: Literal["open"] = "open"
    emit_empty: bool = True
    grace_ns: int = 2_000_000_000
    max_fill_minutes: int = 15

    def __post_init__(self) -> None:
        if self.price not in ("mid", "trade"):
            raise ValueError(f"BarSpec.price must be 'mid' or 'trade', was {self.price!r}")
        if self.max_fill_minutes < 0:
            raise ValueError(f"BarSpec.max_fill_minutes must be ≥ 0, was {self.max_fill_minutes}")
        if self.grace_ns < 0:
            raise ValueError(f"BarSpec.grace_ns must be ≥ 0, was {self.grace_ns}")
