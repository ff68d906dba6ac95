"""A loopback stand-in for Databento's Historical HTTP API, good enough for the real `databento.Historical`.

What the databento 0.88 client sends for `timeseries.get_range` (`databento/historical/api/timeseries.py`,
`databento/common/http.py`):

- ``POST {gateway}/v0/timeseries.get_range`` with a form-encoded body: ``dataset``, ``start``, ``end``
  (ISO 8601 or integer UNIX nanoseconds, as the caller gave them), ``symbols`` (comma-joined), ``schema``,
  ``stype_in``, ``stype_out``, ``encoding=dbn``, ``compression=zstd`` (always), and ``limit`` when set;
- HTTP Basic authentication with the API key as user name and an empty password; headers
  ``accept: application/json`` and ``user-agent: Databento/0.88.0 Python/...``;
- the client turns every gateway into ``https://HOST[:PORT]`` (`validate_gateway`), so the stand-in speaks
  TLS with a self-signed certificate (`make_tls_files`) that the tests trust through ``REQUESTS_CA_BUNDLE``;
- it streams the body (``iter_content``) into ``path`` or into memory and decodes it as DBN; a 4xx answer
  raises `BentoClientError`, a 5xx `BentoServerError`, with the message read from the JSON body
  ``{"detail": {"case": ..., "message": ..., "status_code": ..., "docs": ...}}``.

What it answers, as Databento does as far as fxhub relies on it:

- ``definition``: GLBX publishes a snapshot of every listed contract at 00:00 UTC each day (the real
  definition files in ``../shared/data/real/glbx`` carry ``ts_recv`` at midnight), so a request gets one
  record per contract for every midnight in [start, end), and nothing for a range inside one day. Listed
  per product (6E, 6B, 6J): the front quarterly and the next (class F) and their calendar spread (class
  S, e.g. ``6EZ5-6EH6``), selected by parent (``6E.FUT``) or raw symbol;
- the data schemas of the served DBN files (the simulator's ``mbp-10`` and ``trades``): the records of the
  requested contracts whose ``ts_recv`` lies in [start, end) ("filters on ts_recv if it exists in the
  schema"), in time order, at most ``limit``;
- every answer is DBN with metadata: the request's dataset, schema, stype_in, span, symbols and limit,
  ``not_found`` for unknown raw symbols, and mappings from each contract's raw symbol to its instrument id
  over the request's dates; zstd-compressed when ``compression=zstd``;
- a wrong or missing key gets 401, a bad parameter 422, each with the JSON error shape above.

Every request is recorded (`requests`) for assertions such as "a cached file is not asked for again".
Scenario knob: `empty_definitions` answers definition requests with metadata and no records.
"""

from __future__ import annotations

import base64
import hmac
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Final
from urllib.parse import parse_qsl

import databento as db
import databento_dbn as dbn
import numpy as np
import pandas as pd
import zstandard
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from threaded_server import ThreadedServer

from fxhub.instruments import front_contract, load_instruments
from fxhub.sim.runner import instrument_id_for

__all__ = [
    "HISTORICAL_API_KEY",
    "HistoricalGateway",
    "SeenRequest",
    "TlsFiles",
    "make_tls_files",
]

HISTORICAL_API_KEY: Final = "db-FxhubHistoricalStandInKey0001"
PRODUCTS: Final = ("6E", "6B", "6J")
DATASET: Final = "GLBX.MDP3"
WAIT_SECONDS: Final = 10.0
CHUNK_BYTES: Final = 64 * 1024
NS_PER_DAY: Final = 86_400 * 1_000_000_000
UNDEF_PRICE: Final = 2**63 - 1
UNDEF_I32: Final = 2**31 - 1
DEFINITION_DTYPE: Final = np.dtype(dbn.InstrumentDefMsg._dtypes)
_RTYPE_DEFINITION: Final = 0x13


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1 and its key (PEM); the certificate is its own CA bundle."""

    cert: Path
    key: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """Create a self-signed certificate for IP 127.0.0.1 with the `openssl` command."""
    files = TlsFiles(cert=folder / "historical-gateway.crt", key=folder / "historical-gateway.key")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(files.key), "-out", str(files.cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return files


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    key: str | None  # the Basic-auth user name: the API key the client sent
    user_agent: str
    form: dict[str, str]
    status: int
    records: int = 0

    @property
    def schema(self) -> str:
        return self.form.get("schema", "")

    @property
    def symbols(self) -> list[str]:
        return [s for s in self.form.get("symbols", "").split(",") if s]


@dataclass(frozen=True, slots=True)
class _Contract:
    raw_symbol: str
    instrument_id: int
    product: str
    instrument_class: bytes  # b"F" outright, b"S" calendar spread
    expiration_ns: int


class _BadRequest(Exception):
    def __init__(self, status: int, case: str, message: str) -> None:
        super().__init__(message)
        self.status, self.case, self.message = status, case, message


def _error(status: int, case: str, message: str) -> JSONResponse:
    detail = {"case": case, "message": message, "status_code": status, "docs": None, "payload": None}
    return JSONResponse({"detail": detail}, status_code=status)


def _time_ns(form: dict[str, str], name: str) -> int:
    text = form.get(name, "")
    if text.isdigit():
        return int(text)
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise _BadRequest(422, "invalid_datetime", f"Invalid `{name}` {text!r}.") from None
    if pd.isna(stamp):
        raise _BadRequest(422, "invalid_datetime", f"Invalid `{name}` {text!r}.")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)


def _day(ns: int) -> date:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).date()


def _listed(day: date) -> list[_Contract]:
    """The contracts of 6E, 6B and 6J listed on `day`: front and next quarterly, and their spread."""
    at = datetime.combine(day, datetime.min.time(), UTC)
    listed = []
    for product in PRODUCTS:
        front = front_contract(product, at)
        later = front.next()
        spread = f"{front.raw_symbol}-{later.raw_symbol}"
        for raw, kind, expires in (
            (front.raw_symbol, b"F", front.last_trade),
            (later.raw_symbol, b"F", later.last_trade),
            (spread, b"S", front.last_trade),
        ):
            expiration_ns = int(expires.timestamp()) * 1_000_000_000
            listed.append(_Contract(raw, instrument_id_for(raw), product, kind, expiration_ns))
    return listed


class HistoricalGateway:
    """The stand-in, served by uvicorn over TLS from a background thread on a free loopback port."""

    def __init__(
        self, data_files: Sequence[Path], tls: TlsFiles, *, api_key: str = HISTORICAL_API_KEY
    ) -> None:
        self.api_key = api_key
        self.tls = tls
        self.empty_definitions = False
        self.requests: list[SeenRequest] = []
        self.port = 0
        self._records: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._load(data_files)
        self.app = Starlette(routes=[Route("/v0/timeseries.get_range", self._get_range, methods=["POST"])])
        self._runner: ThreadedServer | None = None

    @property
    def url(self) -> str:
        """What to pass as `gateway=` to `databento.Historical`."""
        return f"https://127.0.0.1:{self.port}"

    def _load(self, paths: Sequence[Path]) -> None:
        parts: dict[str, list[np.ndarray]] = {}
        for path in paths:
            store = db.DBNStore.from_bytes(path.read_bytes())
            if str(store.metadata.dataset) != DATASET:
                raise ValueError(f"{path}: the stand-in serves {DATASET}, was {store.metadata.dataset}")
            parts.setdefault(str(store.metadata.schema), []).append(store.to_ndarray())
        for schema, arrays in parts.items():
            merged = np.concatenate(arrays)
            # Each file keeps its own order (one instrument each); files are merged by event time.
            self._records[schema] = merged[np.argsort(merged["ts_event"], kind="stable")]

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> HistoricalGateway:
        self._runner = ThreadedServer(
            self.app, "historical-gateway", ssl_certfile=str(self.tls.cert), ssl_keyfile=str(self.tls.key)
        )
        self.port = self._runner.start(WAIT_SECONDS)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop(WAIT_SECONDS)

    def __enter__(self) -> HistoricalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_for(self, schema: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.schema == schema]

    # ------------------------------------------------------------------------------------ the endpoint

    async def _get_range(self, request: Request) -> Response:
        # x-www-form-urlencoded, as `requests` sends a `data=` dict
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        key = _basic_auth_user(request.headers.get("authorization", ""))

        def seen(status: int, records: int = 0) -> None:
            agent = request.headers.get("user-agent", "")
            with self._lock:
                self.requests.append(SeenRequest("POST", request.url.path, key, agent, form, status, records))

        if key is None or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            seen(401)
            return _error(401, "auth_authentication_failed", "Authentication failed.")
        try:
            metadata, records = self._answer(form)
        except _BadRequest as bad:
            seen(bad.status)
            return _error(bad.status, bad.case, bad.message)
        seen(200, len(records))
        body = bytes(metadata) + records.tobytes()
        if form.get("compression") == "zstd":
            body = zstandard.ZstdCompressor(level=3).compress(body)
        return StreamingResponse(_chunks(body), media_type="application/octet-stream")

    def _answer(self, form: dict[str, str]) -> tuple[dbn.Metadata, np.ndarray]:
        if form.get("dataset") != DATASET:
            raise _BadRequest(422, "dataset_invalid", f"Unknown dataset {form.get('dataset')!r}.")
        if form.get("encoding") != "dbn" or form.get("compression") not in ("zstd", "none"):
            raise _BadRequest(
                422, "encoding_invalid", "The stand-in answers encoding=dbn, compression zstd|none."
            )
        schema = form.get("schema", "")
        if schema != "definition" and schema not in self._records:
            raise _BadRequest(422, "schema_unavailable", f"Schema {schema!r} is not available here.")
        stype_in = form.get("stype_in", "raw_symbol")
        if stype_in not in ("raw_symbol", "parent") or form.get("stype_out") != "instrument_id":
            raise _BadRequest(422, "symbology_invalid", f"stype_in {stype_in!r} is not served here.")
        if "end" not in form:
            raise _BadRequest(422, "end_required", "The stand-in needs an `end`.")
        start_ns, end_ns = _time_ns(form, "start"), _time_ns(form, "end")
        if end_ns <= start_ns:
            raise _BadRequest(422, "data_time_range_invalid", "`start` must be before `end`.")
        symbols = [s for s in form.get("symbols", "").split(",") if s]
        limit = int(form["limit"]) if form.get("limit") else None

        days = [_day(ns) for ns in range(start_ns - start_ns % NS_PER_DAY, end_ns, NS_PER_DAY)]
        listed = {c.raw_symbol: c for day in days for c in _listed(day)}
        chosen: dict[str, _Contract] = {}
        not_found = []
        for symbol in symbols:
            if stype_in == "parent":
                matched = [c for c in listed.values() if symbol == f"{c.product}.FUT"]
            else:
                matched = [listed[symbol]] if symbol in listed else []
            if not matched:
                not_found.append(symbol)
            chosen.update((c.raw_symbol, c) for c in matched)
        if not chosen:
            raise _BadRequest(422, "symbology_invalid_symbol", f"None of {symbols} could be resolved.")

        if schema == "definition":
            records = (
                np.zeros(0, DEFINITION_DTYPE)
                if self.empty_definitions
                else _definitions(
                    [d for d in days if start_ns <= _midnight_ns(d) < end_ns], list(chosen.values())
                )
            )
        else:
            data = self._records[schema]
            ids = np.array([c.instrument_id for c in chosen.values()], dtype=data.dtype["instrument_id"])
            mask = (
                np.isin(data["instrument_id"], ids)
                & (data["ts_recv"] >= start_ns)
                & (data["ts_recv"] < end_ns)
            )
            records = data[mask]
        if limit is not None:
            records = records[:limit]

        last_day = _day(end_ns - 1) + timedelta(days=1)  # mapping intervals end on an exclusive date
        interval = {"start_date": _day(start_ns), "end_date": last_day}  # what dbn.Metadata reads
        mappings = [
            SimpleNamespace(
                raw_symbol=c.raw_symbol, intervals=[SimpleNamespace(**interval, symbol=str(c.instrument_id))]
            )
            for c in sorted(chosen.values(), key=lambda c: c.raw_symbol)
        ]
        metadata = dbn.Metadata(
            dataset=DATASET,
            start=start_ns,
            end=end_ns,
            limit=limit,
            stype_in=dbn.SType(stype_in),
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=dbn.Schema(schema),
            symbols=symbols,
            partial=[],
            not_found=not_found,
            mappings=mappings,
            ts_out=False,
        )
        return metadata, records


def _midnight_ns(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp()) * 1_000_000_000


def _definitions(days: Sequence[date], contracts: Sequence[_Contract]) -> np.ndarray:
    """One definition record per contract at each day's midnight snapshot, as GLBX publishes them."""
    table = load_instruments()
    rows = []
    for day in days:
        snapshot_ns = _midnight_ns(day)
        for c in sorted(contracts, key=lambda c: c.raw_symbol):
            instrument = table.by_cme_product(c.product)
            assert instrument is not None
            assert instrument.cme is not None
            row = np.zeros(1, DEFINITION_DTYPE)
            row["length"] = DEFINITION_DTYPE.itemsize // 4
            row["rtype"] = _RTYPE_DEFINITION
            row["publisher_id"] = 1  # GLBX.MDP3 on Globex
            row["instrument_id"] = c.instrument_id
            row["ts_recv"] = snapshot_ns
            row["ts_event"] = snapshot_ns - 13 * 3_600_000_000_000  # last changed the afternoon before
            row["raw_symbol"] = c.raw_symbol.encode()
            row["instrument_class"] = c.instrument_class
            row["security_update_action"] = b"A"
            row["asset"] = row["group"] = c.product.encode()
            row["exchange"] = b"XCME"
            row["security_type"] = b"FUT"
            row["cfi"] = b"FFCPSX" if c.instrument_class == b"F" else b"FMCPSX"
            row["currency"] = b"USD"
            row["min_price_increment"] = round(instrument.cme.tick_size * 1e9)
            row["display_factor"] = 1_000_000_000
            row["expiration"] = c.expiration_ns
            row["raw_instrument_id"] = c.instrument_id
            for name in (
                "high_limit_price",
                "low_limit_price",
                "strike_price",
                "price_ratio",
                "leg_price",
                "leg_delta",
            ):
                row[name] = UNDEF_PRICE
            for name in ("contract_multiplier", "decay_quantity", "original_contract_size"):
                row[name] = UNDEF_I32
            row["market_depth"] = 10
            row["maturity_year"] = datetime.fromtimestamp(c.expiration_ns // 1_000_000_000, UTC).year
            row["maturity_month"] = datetime.fromtimestamp(c.expiration_ns // 1_000_000_000, UTC).month
            rows.append(row)
    return np.concatenate(rows) if rows else np.zeros(0, DEFINITION_DTYPE)


def _basic_auth_user(header: str) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, _password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user


def _chunks(body: bytes) -> Iterator[bytes]:
    for offset in range(0, len(body), CHUNK_BYTES):
        yield body[offset : offset + CHUNK_BYTES]
