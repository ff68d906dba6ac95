"""`UnifiedDataFetcher`: the best candles the hub has for a pair, with indicators and honest labels.

One call, `get_market_data(pair, bars=60)`:

1. reads the newest ``bars + warmup_bars(config)`` candles of each source the policy needs (one
   `get_latest_candles` per source; as many as reached back to the session start last time, if more);
2. anchors the window on the newest of those minutes and chooses a source (see `fxhub.fetcher.selection`);
3. builds one DataFrame from the chosen source only (or, for ``hybrid``, IG prices with CME volume
   joined by minute), optionally shifting futures prices to spot by the measured basis;
4. computes the indicators over the warm-up rows plus the window, so their values do not depend on
   where the window starts;
5. returns the window's candles, the indicators and where everything came from.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Final, Literal, Protocol, Self

import numpy as np
import pandas as pd

from fxhub.errors import FxhubError, ValidationError
from fxhub.fetcher.basis import adjust_to_spot, measure_basis, smooth_basis
from fxhub.fetcher.frames import FrameCache
from fxhub.fetcher.policy import PolicyName, SelectionPolicy
from fxhub.fetcher.selection import Selection, select_source, sources_read
from fxhub.indicators import IndicatorConfig, compute_indicators, warmup_bars
from fxhub.instruments import get_instrument
from fxhub.model import Candle, Source
from fxhub.sessions import cme_session_start, fx_session_start

__all__ = [
    "BASIS_ADJUSTED",
    "VOLUME_SOURCE",
    "CandleReader",
    "NoMarketDataError",
    "UnifiedDataFetcher",
]

#: The `volume_source` label of each source: what a strategy's volume really counts.
VOLUME_SOURCE: Final = {Source.DATABENTO: "DATABENTO (real)", Source.IG: "IG (tick)"}
BASIS_ADJUSTED: Final = "futures, basis-adjusted to spot"
PriceBasisLabel = Literal["futures", "futures, basis-adjusted to spot", "spot"]
_ORDER_FLOW: Final = ("buy_volume", "sell_volume", "ofi")
_MAX_BARS: Final = 10_000
_NEWER_SLACK: Final = 5  # candles a session-extension read may find pushed since the first read
# A session-extension read asks a multiple of this many candles, so its URL (and the page the hub
# client keeps for it, which later reads only update) stays the same for four hours, not a minute: a new
# URL is a whole first read. A strategy polling once a minute meets one such read in 240 calls.
_EXTENSION_STEP: Final = 240
_MAX_LATEST: Final = 10_000  # the hub's largest latest read


class CandleReader(Protocol):
    """What the fetcher needs from a hub: `HubClient` has it, and so can a test's in-process store."""

    def get_latest_candles(
        self, pair: str, limit: int = 100, source: Source | str | None = None
    ) -> list[Candle]: ...

    def get_candles(
        self, pair: str, start: datetime, end: datetime, source: Source | str | None = None
    ) -> list[Candle]: ...


class NoMarketDataError(FxhubError):
    """No source the policy reads has a candle of the pair."""


class UnifiedDataFetcher:
    """Market data for strategies from the hub: chosen source, candles, indicators, and why.

    `hub` is anything with `get_latest_candles` (default: `connect_to_data_hub()`, closed with the
    fetcher). `policy` is a `SelectionPolicy` or a policy name (``"auto"``, ``"databento"``, ``"ig"``,
    ``"hybrid"``); `indicators` configures the indicator set.
    """

    def __init__(
        self,
        hub: CandleReader | None = None,
        *,
        policy: SelectionPolicy | PolicyName = "auto",
        indicators: IndicatorConfig | None = None,
    ) -> None:
        self._owns_hub = hub is None
        if hub is None:
            from fxhub.hub.client import connect_to_data_hub

            hub = connect_to_data_hub()
        self.hub: CandleReader = hub
        self.policy = policy if isinstance(policy, SelectionPolicy) else SelectionPolicy(policy=policy)
        self.indicators = indicators if indicators is not None else IndicatorConfig()
        self.warmup = int(warmup_bars(self.indicators))
        # Per (pair, source): how many candles the last call needed to reach back to the session start,
        # when that was more than its first read asked. The next call asks that many at once instead
        # of a short read plus a longer one (for a polling strategy: one request per source, not two).
        self._session_reads: dict[tuple[str, Source], int] = {}
        self._frames = FrameCache()  # per (pair, source): unchanged pages are not converted again

    def __repr__(self) -> str:
        return f"UnifiedDataFetcher(hub={self.hub!r}, policy={self.policy!r})"

    def close(self) -> None:
        """Close the hub client if the fetcher opened it."""
        close = getattr(self.hub, "close", None)
        if self._owns_hub and callable(close):
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # --- the one call ------------------------------------------------------------------------------

    def get_market_data(self, pair: str, bars: int = 60) -> dict[str, Any]:
        """The last `bars` minutes of `pair` as a strategy should see them.

        Keys: `pair`; `candles` (DataFrame indexed by UTC minute start: open high low close volume
        volume_source volume_type price_basis plus the source's extras); `indicators`; `volume_source`
        (``"DATABENTO (real)"`` or ``"IG (tick)"``); `volume_type` (``"real"`` or ``"tick"``);
        `price_basis` (``"futures"``, ``"futures, basis-adjusted to spot"`` or ``"spot"``); `selection`
        (policy, chosen, threshold, window, coverage per source, reason); `basis` (when DATABENTO
        prices were considered for adjustment); `warmup_bars`; `as_of` (the window's last minute).
        Raises `NoMarketDataError` when no source the policy reads has a candle of `pair`.
        """
        if not isinstance(pair, str) or not pair:
            raise ValidationError("pair", pair, "must be a pair such as 'EUR_USD'", where="get_market_data")
        pair = pair.strip().upper()
        if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= _MAX_BARS:
            raise ValidationError(
                "bars", bars, f"must be a whole number in 1..{_MAX_BARS}", where="get_market_data"
            )
        limit = bars + self.warmup
        fetched = {
            s: self.hub.get_latest_candles(
                pair, limit=max(limit, self._session_reads.get((pair, s), 0)), source=s
            )
            for s in sources_read(self.policy)
        }
        selection = select_source(fetched, bars, self.policy)
        if selection.chosen is None:
            raise NoMarketDataError(
                f"no market data for {pair}: {selection.reason} (policy {self.policy.policy}); "
                "is a collector filling the hub?"
            )
        assert selection.window_start is not None
        assert selection.window_end is not None
        anchor: Literal["fx", "cme"] = "cme" if selection.chosen == "DATABENTO" else "fx"
        session = (cme_session_start if anchor == "cme" else fx_session_start)(selection.window_end)
        used = (Source.IG, Source.DATABENTO) if selection.chosen == "HYBRID" else (selection.price_source,)
        self._read_session(pair, fetched, used, limit, session)
        frame, meta = self._build(pair, fetched, selection)
        index = frame.index
        in_window = len(index) - int(index.searchsorted(selection.window_start))
        # Keep `warmup` rows before the window for the recursive indicators, and every row since the
        # session start for the anchored VWAP, whichever reaches further back.
        keep_from = min(max(0, len(index) - in_window - self.warmup), int(index.searchsorted(session)))
        frame = frame.iloc[keep_from:]
        indicators = compute_indicators(
            _indicator_frame(frame, selection),
            real_volume=selection.real_volume,
            anchor=anchor,
            config=self.indicators,
            window=in_window,
        )
        candles = frame.iloc[len(frame) - in_window :]
        if "_indicator_volume" in candles.columns:  # hybrid only; a drop that finds nothing still costs
            candles = candles.drop(columns=["_indicator_volume"])
        if selection.chosen != "HYBRID":  # labelled here: the window's rows only, not the warm-up's
            candles = candles.assign(**_labels(meta["source"], meta["price_basis"]))
        selection_dict = selection.to_dict() | meta.pop("selection_extra", {})
        return {
            "pair": pair,
            "candles": candles,
            "indicators": indicators,
            "volume_source": VOLUME_SOURCE[Source.DATABENTO if selection.real_volume else Source.IG],
            "volume_type": "real" if selection.real_volume else "tick",
            "price_basis": meta["price_basis"],
            "selection": selection_dict,
            "basis": meta.get("basis"),
            "warmup_bars": self.warmup,
            "as_of": selection.window_end,
        }

    def _read_session(
        self,
        pair: str,
        fetched: dict[Source, list[Candle]],
        used: tuple[Source | None, ...],
        limit: int,
        session: datetime,
    ) -> None:
        """Extend each read that stopped short of the session start (the VWAP anchor) back to it.

        The extension is one more *latest* read, long enough to reach the session start (a series has
        at most one candle a minute, plus a few for candles pushed since the first read), rounded up to
        a whole `_EXTENSION_STEP` so that the same request repeats for hours: a hub answers those from
        its hot window and page cache, where a range read goes to the database, and while the series
        is unchanged the client's conditional read makes it a `304`. The span is remembered, so the
        next call's first read asks for it at once and needs no extension.
        """
        for source in used:
            candles = fetched.get(source, []) if source is not None else []
            if source is None or not candles:
                continue
            last = candles[-1].timestamp
            span = int((last - session).total_seconds() // 60) + 1 + _NEWER_SLACK
            span = min(-(-span // _EXTENSION_STEP) * _EXTENSION_STEP, _MAX_LATEST)
            if span > limit:
                self._session_reads[(pair, source)] = span
            else:
                self._session_reads.pop((pair, source), None)
            if len(candles) < limit or candles[0].timestamp <= session:
                continue
            longer = self.hub.get_latest_candles(pair, limit=span, source=source)
            if len(longer) == span and longer[0].timestamp > session:  # more than the slack came since
                older = self.hub.get_candles(pair, session, candles[0].timestamp, source=source)
                fetched[source] = older + candles
                continue
            fetched[source] = [c for c in longer if session <= c.timestamp <= last]

    # --- frames ------------------------------------------------------------------------------------

    def _build(
        self, pair: str, fetched: dict[Source, list[Candle]], selection: Selection
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        meta: dict[str, Any] = {}
        if selection.chosen == "HYBRID":
            spot = self._frames.frame((pair, Source.IG), fetched[Source.IG]).copy()  # _hybrid adds to it
            cme = self._frames.frame((pair, Source.DATABENTO), fetched.get(Source.DATABENTO, []))
            return _hybrid(spot, cme, selection), {"price_basis": "spot"} | _tick_only(fetched, selection)
        source = selection.price_source
        assert source is not None
        frame = self._frames.frame((pair, source), fetched[source])
        label: PriceBasisLabel = "futures" if source is Source.DATABENTO else "spot"
        if source is Source.DATABENTO and self.policy.basis_adjust:
            frame, label, meta["basis"] = self._adjust(pair, frame, fetched.get(Source.IG, []))
        meta["source"] = source
        meta["price_basis"] = label
        return frame, meta

    def _adjust(
        self, pair: str, futures: pd.DataFrame, spot_candles: list[Candle]
    ) -> tuple[pd.DataFrame, PriceBasisLabel, dict[str, Any]]:
        raw = measure_basis(futures, self._frames.frame((pair, Source.IG), spot_candles))
        pip = get_instrument(pair).pip_size
        info: dict[str, Any] = {
            "overlap_minutes": len(raw),
            "halflife_minutes": self.policy.basis_halflife_minutes,
        }
        if len(raw) < self.policy.basis_min_overlap:
            info |= {
                "adjusted": False,
                "why": f"only {len(raw)} minute(s) overlap with IG, {self.policy.basis_min_overlap} needed; "
                "prices stay on the futures basis",
            }
            return futures, "futures", info
        basis = smooth_basis(raw, pd.DatetimeIndex(futures.index), self.policy.basis_halflife_minutes)
        info |= {"adjusted": True, "basis_pips": round(float(basis.iloc[-1]) / pip, 3)}
        return adjust_to_spot(futures, basis), BASIS_ADJUSTED, info


def _labels(source: Source, basis: str) -> dict[str, str]:
    """The label columns of one source's rows: what the volume counts and which prices they are."""
    return {
        "volume_source": VOLUME_SOURCE[source],
        "volume_type": "real" if source is Source.DATABENTO else "tick",
        "price_basis": basis,
    }


def _hybrid(frame: pd.DataFrame, cme_frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """IG prices (`frame`, extended in place); CME volume (and order flow) where CME has the minute,
    IG tick count elsewhere."""
    cme = cme_frame.reindex(frame.index)
    real = cme["volume"].notna().to_numpy()
    ticks = frame["volume"].to_numpy()
    frame["tick_volume"] = ticks
    frame["volume"] = np.where(real, cme["volume"].to_numpy(), ticks)
    for column in _ORDER_FLOW:
        if column in cme.columns:
            frame[column] = cme[column].to_numpy()
    frame["volume_source"] = np.where(real, VOLUME_SOURCE[Source.DATABENTO], VOLUME_SOURCE[Source.IG])
    frame["volume_type"] = np.where(real, "real", "tick")
    frame["price_basis"] = "spot"
    # Indicators never add tick counts to contracts: real volume, or (below the threshold) ticks only.
    frame["_indicator_volume"] = (
        np.where(real, cme["volume"].to_numpy(), 0.0) if selection.real_volume else ticks
    )
    return frame


def _tick_only(fetched: dict[Source, list[Candle]], selection: Selection) -> dict[str, Any]:
    cme = {c.timestamp for c in fetched.get(Source.DATABENTO, [])}
    flagged = [
        c.timestamp for c in fetched[Source.IG] if selection.in_window(c.timestamp) and c.timestamp not in cme
    ]
    return {
        "selection_extra": {
            "tick_only_minutes": flagged,
            "real_volume_minutes": selection.hybrid_real_minutes,
        }
    }


def _indicator_frame(frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """OHLC, volume and the order-flow columns the source has, as `compute_indicators` expects."""
    columns: dict[str, Any] = {name: frame[name] for name in ("open", "high", "low", "close")}
    columns["volume"] = (
        frame["_indicator_volume"] if "_indicator_volume" in frame.columns else frame["volume"]
    )
    if selection.real_volume:
        for name in _ORDER_FLOW:
            if name in frame.columns:
                columns[name] = frame[name]  # NaN: unknown (a tick-only minute of hybrid)
    return pd.DataFrame(columns, index=frame.index)
