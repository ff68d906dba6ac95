"""The listener objects lightstreamer-client-lib calls, turned into plain callbacks for `IgStream`.

The library calls listener methods by their Java-style names on a thread of its own and ignores any it
does not find, so each listener implements every method it may call; the ones fxhub uses forward to the
callbacks given at construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fxhub.sources.ig.messages import PriceScale

__all__ = ["ClientEvents", "ItemEvents", "LibraryListener", "StreamedEpic"]


@dataclass(slots=True)
class StreamedEpic:
    """An epic `IgStream` subscribed: its pair, price scale, and (subscription, kind) pairs."""

    epic: str
    symbol: str
    scale: PriceScale | None
    subscriptions: list[Any] = field(default_factory=list)


class LibraryListener:
    """Implements every method the library may call on a client or subscription listener."""

    def onListenStart(self, *args: Any) -> None:  # noqa: N802 - the library's names
        pass

    def onListenEnd(self, *args: Any) -> None:  # noqa: N802
        pass

    def onPropertyChange(self, prop: str) -> None:  # noqa: N802
        pass

    def onClearSnapshot(self, item: str, pos: int) -> None:  # noqa: N802
        pass

    def onEndOfSnapshot(self, item: str, pos: int) -> None:  # noqa: N802
        pass

    def onItemLostUpdates(self, item: str, pos: int, lost: int) -> None:  # noqa: N802
        pass

    def onRealMaxFrequency(self, frequency: str | None) -> None:  # noqa: N802
        pass

    def onCommandSecondLevelSubscriptionError(self, code: int, message: str, key: str) -> None:  # noqa: N802
        pass

    def onCommandSecondLevelItemLostUpdates(self, lost: int, key: str) -> None:  # noqa: N802
        pass

    def onUnsubscription(self) -> None:  # noqa: N802
        pass


class ClientEvents(LibraryListener):
    """The client's status changes and server errors."""

    def __init__(
        self, *, on_status: Callable[[str], None], on_server_error: Callable[[int, str | None], None]
    ) -> None:
        self._on_status = on_status
        self._on_server_error = on_server_error

    def onStatusChange(self, status: str) -> None:  # noqa: N802
        self._on_status(status)

    def onServerError(self, code: int, message: str | None) -> None:  # noqa: N802
        self._on_server_error(code, message)


class ItemEvents(LibraryListener):
    """One subscription's events: subscribed, refused, an update, updates the server dropped."""

    def __init__(
        self,
        *,
        on_subscribed: Callable[[], None],
        on_error: Callable[[int, str | None], None],
        on_update: Callable[[Any], None],
        on_lost: Callable[[str, int], None],
    ) -> None:
        self._on_subscribed = on_subscribed
        self._on_error = on_error
        self._on_update = on_update
        self._on_lost = on_lost

    def onSubscription(self) -> None:  # noqa: N802
        self._on_subscribed()

    def onSubscriptionError(self, code: int, message: str | None) -> None:  # noqa: N802
        self._on_error(code, message)

    def onItemUpdate(self, update: Any) -> None:  # noqa: N802
        self._on_update(update)

    def onItemLostUpdates(self, item: str, pos: int, lost: int) -> None:  # noqa: N802
        self._on_lost(item, lost)
