"""An ASGI app served by a real uvicorn on 127.0.0.1 (a free port), in a thread of the test process."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

START_SECONDS = 10.0


class ThreadedServer:
    """`start()` returns the port once uvicorn listens; `stop()` asks it to exit and joins the thread.

    uvicorn's own logging config is never applied (`log_config=None`): it would stop its loggers
    propagating for the rest of the test process.
    """

    def __init__(self, app: Any, name: str, **config: Any) -> None:
        options: dict[str, Any] = {"log_level": "warning", "lifespan": "off"} | config
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, **options)
        )
        self._thread = threading.Thread(target=self.server.run, name=name, daemon=True)

    def start(self, timeout_s: float = START_SECONDS) -> int:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start {self._thread.name}")
            time.sleep(0.01)
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def stop(self, timeout_s: float = START_SECONDS) -> None:
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout_s)
