"""Headless Chromium (Debian's `chromium` package) for the dashboard tests: one-shot runs (--dump-dom,
--screenshot), a page driven over the DevTools protocol, and a PNG reader (stdlib only).

This machine has no outside network: the flags keep Chromium from trying to reach anything.
"""

from __future__ import annotations

import json
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
RUN_TIMEOUT_SECONDS = 120
DEVTOOLS_TIMEOUT_SECONDS = 30
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIRTUAL_TIME = "--virtual-time-budget=10000"  # one-shot runs: let the page's scripts finish first


def require_chromium() -> Path:
    """Chromium's path; fails (never skips) the test when it is not installed."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing, and the dashboard tests need headless Chromium; install it with "
            "`apt-get install -y chromium` (.ci/run does this)"
        )
    return CHROMIUM


def run_chromium(workdir: Path, *args: str) -> str:
    """Run Chromium once with a fresh profile in `workdir`; its stdout (the DOM for --dump-dom)."""
    command = [str(require_chromium()), *FLAGS, VIRTUAL_TIME, f"--user-data-dir={workdir / 'profile'}", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False, cwd=workdir
    )
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


class Page:
    """One open tab, evaluated over the DevTools protocol."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        self._next_id = 0

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        self._next_id += 1
        request = {
            "id": self._next_id,
            "method": "Runtime.evaluate",
            "params": {"expression": expression, "returnByValue": True},
        }
        self._connection.send(json.dumps(request))
        while True:
            answer = json.loads(self._connection.recv(timeout=DEVTOOLS_TIMEOUT_SECONDS))
            if answer.get("id") == self._next_id:
                break
        assert "exceptionDetails" not in answer["result"], answer
        return answer["result"]["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = DEVTOOLS_TIMEOUT_SECONDS) -> Any:
        """Evaluate `expression` until it is truthy; its value."""
        deadline = time.monotonic() + timeout_s
        while (value := self.evaluate(expression)) in (None, False, "", 0):
            assert time.monotonic() < deadline, f"the page never made {expression!r} true"
            time.sleep(0.1)
        return value


@contextmanager
def open_page(workdir: Path, url: str) -> Iterator[Page]:
    """Chromium showing `url` in real time, with a DevTools connection to that tab."""
    profile = workdir / "profile"
    command = [
        str(require_chromium()),
        *FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        url,
    ]
    with (workdir / "chromium.log").open("wb") as log:
        browser = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + DEVTOOLS_TIMEOUT_SECONDS
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert browser.poll() is None, (workdir / "chromium.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "chromium wrote no DevToolsActivePort"
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(target for target in targets if target["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as connection:
            yield Page(connection)
    finally:
        browser.terminate()
        try:
            browser.wait(15)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait(15)


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0), (depth, interlace)
            assert colour in (2, 6), colour
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    above = bytearray(stride)
    rgb = bytearray()
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), above, channels)
        pixels = bytearray(width * 3)
        for channel in range(3):
            pixels[channel::3] = line[channel::channels]
        rgb += pixels
        above = line
    return width, height, bytes(rgb)


def _unfilter(kind: int, line: bytearray, above: bytearray, bpp: int) -> bytearray:
    """Undo one PNG row filter (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) in place."""
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(len(line)):
            line[i] = (line[i] + above[i]) & 0xFF
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + above[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(line)):
            a, b = (line[i - bpp] if i >= bpp else 0), above[i]
            c = above[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return line
