"""The vectorised tick reader (`read_tick_frames`) and import (`import_tick_files`) against the row reader.

The row reader (`read_quotes`) and the per-quote bars (`IgBars`) are the reference: on every file, the
vectorised path must read the same quotes, make the same candles bit for bit, and fail with the same
message at the same line after the same rows. The real files come from ../shared/data/real/fx.
"""

from __future__ import annotations

import gzip
import heapq
from dataclasses import astuple
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fxhub.errors import ConfigError, DataFormatError
from fxhub.instruments import load_instruments
from fxhub.model import Candle
from fxhub.sim import SimulationConfig, simulate
from fxhub.sources.ig.recording import RecordedTick, write_recording
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.vendor_files import read_quotes
from fxhub.sources.ig.vendor_frames import import_tick_files, read_tick_frames

REAL_FX = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "fx"
DUKASCOPY = "dukascopy_EURUSD_ticks_2019-02-04.csv.gz"
DUKASCOPY_NEXT_DAY = "dukascopy_EURUSD_ticks_2019-02-05.csv.gz"
HISTDATA = "histdata_EURUSD_ticks_2020-01-01.csv"
TRUEFX = "truefx_USDJPY_ticks_2013-01-01.csv"
REAL_TICK_FILES = (DUKASCOPY, DUKASCOPY_NEXT_DAY, HISTDATA, TRUEFX)
TABLE = load_instruments()
EPIC = "CS.D.EURUSD.MINI.IP"

Row = tuple[str, int, float, float]  # pair, ts_ns, bid, ask
Outcome = tuple[list[Row], str | None]  # rows read, then the error (None: the file ended)


def real(name: str) -> Path:
    path = REAL_FX / name
    if not path.is_file():
        pytest.fail(f"The real-data file {path} is missing; the tests need ../shared/data/real/fx.")
    return path


def bits(candle: Candle) -> tuple[object, ...]:
    return tuple(value.hex() if isinstance(value, float) else value for value in astuple(candle))


def by_rows(path: Path, **options: str | None) -> Outcome:
    rows: list[Row] = []
    try:
        for quote, _ in read_quotes(path, table=TABLE, **options):
            rows.append((quote.symbol, quote.ts_event, quote.bid, quote.ask))
    except DataFormatError as exc:
        return rows, str(exc)
    return rows, None


def by_frames(path: Path, chunk_bytes: int | None = None, **options: str | None) -> Outcome:
    rows: list[Row] = []
    sizes = {"chunk_bytes": chunk_bytes} if chunk_bytes else {}
    try:
        for chunk in read_tick_frames(path, table=TABLE, **options, **sizes):
            assert len(chunk.ts_ns) == len(chunk.bid) == len(chunk.ask) > 0
            assert (chunk.ts_ns.dtype, chunk.bid.dtype, chunk.ask.dtype) == ("int64", "float64", "float64")
            pairs = [chunk.pair] * len(chunk.ts_ns)
            rows.extend(zip(pairs, chunk.ts_ns.tolist(), chunk.bid.tolist(), chunk.ask.tolist(), strict=True))
    except DataFormatError as exc:
        return rows, str(exc)
    return rows, None


def same_outcome(path: Path, chunk_bytes: int | None = None, **options: str | None) -> Outcome:
    expected = by_rows(path, **options)
    got = by_frames(path, chunk_bytes, **options)
    # A recording's chunks come a pair at a time within a block: compare each pair's rows, in order.
    assert by_pair(got[0]) == by_pair(expected[0])
    assert got[1] == expected[1]
    return got


def by_pair(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out


def write(path: Path, *lines: str, newline: str = "\n") -> Path:
    data = "".join(line + newline for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


# --- the real files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_TICK_FILES)
@pytest.mark.parametrize("chunk_bytes", [None, 100_000])
def test_real_file_reads_the_row_readers_quotes_all_vectorised(name: str, chunk_bytes: int | None) -> None:
    rows, error = same_outcome(real(name), chunk_bytes)
    assert error is None
    assert len(rows) > 0
    frames = read_tick_frames(real(name), table=TABLE)
    assert sum(len(chunk.ts_ns) for chunk in frames) == len(rows)
    assert frames.by_row_reader == 0  # every block passed the vectorised checks


@pytest.mark.parametrize("name", REAL_TICK_FILES)
@pytest.mark.parametrize("chunk_bytes", [None, 100_000, 7_777])
def test_real_file_import_gives_the_per_quote_candles_bit_for_bit(name: str, chunk_bytes: int | None) -> None:
    expected: list[Candle] = []
    replay_quotes(read_quotes(real(name), table=TABLE), IgBars(expected.append, table=TABLE))
    candles: list[Candle] = []
    options = {"chunk_bytes": chunk_bytes} if chunk_bytes else {}
    quotes, late = import_tick_files([read_tick_frames(real(name), table=TABLE, **options)], candles.append)
    assert [bits(c) for c in candles] == [bits(c) for c in expected]
    assert (quotes, late) == (sum(c.quote_count or 0 for c in expected), 0)


def test_two_dukascopy_days_merge_as_the_per_quote_replay_merges_them() -> None:
    paths = [real(DUKASCOPY_NEXT_DAY), real(DUKASCOPY)]  # given out of order
    expected: list[Candle] = []
    merged = heapq.merge(*(read_quotes(p, table=TABLE) for p in paths), key=lambda item: item[0].ts_event)
    replay_quotes(merged, IgBars(expected.append, table=TABLE))
    candles: list[Candle] = []
    import_tick_files([read_tick_frames(p, table=TABLE, chunk_bytes=1 << 20) for p in paths], candles.append)
    assert len(candles) == 2 * 1440
    assert [bits(c) for c in candles] == [bits(c) for c in expected]


def test_real_dukascopy_day_equals_an_independent_pandas_resample_in_all_1440_minutes() -> None:
    path = real(DUKASCOPY)
    frame = pd.read_csv(path, usecols=["epoch_ms", "bid", "ask"])
    mid = ((frame["bid"] + frame["ask"]) / 2).set_axis(pd.to_datetime(frame["epoch_ms"], unit="ms", utc=True))
    minutes = mid.resample("1min").agg(["first", "max", "min", "last", "count"])
    candles: list[Candle] = []

    import_tick_files([read_tick_frames(path, table=TABLE)], candles.append)

    assert len(minutes) == len(candles) == 1440
    assert [c.timestamp for c in candles] == [t.to_pydatetime() for t in minutes.index]
    assert candles[0].timestamp == datetime(2019, 2, 4, tzinfo=UTC)
    ohlc = [(c.open, c.high, c.low, c.close) for c in candles]
    assert ohlc == list(minutes[["first", "max", "min", "last"]].itertuples(index=False, name=None))
    assert [c.quote_count for c in candles] == minutes["count"].tolist()
    assert [c.volume for c in candles] == minutes["count"].astype(float).tolist()
    assert sum(c.quote_count or 0 for c in candles) == len(frame) == 136_741


# --- fxhub recordings ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("market")
    simulate(SimulationConfig(start=datetime(2025, 11, 4, 13, 0, tzinfo=UTC), minutes=4, seed=5), out)
    return sorted((out / "ig").glob("*.ticks.csv*"))


def test_simulated_recordings_read_vectorised_with_their_pairs_and_epics(recordings: list[Path]) -> None:
    assert recordings
    for path in recordings:
        rows, error = same_outcome(path)
        assert error is None
        assert rows
        frames = read_tick_frames(path, table=TABLE)
        chunks = list(frames)
        assert frames.by_row_reader == 0
        epics = {quote.symbol: epic for quote, epic in read_quotes(path, table=TABLE)}
        assert {chunk.pair: chunk.epic for chunk in chunks} == epics
        with pytest.raises(ValueError, match="fxhub recording"):
            import_tick_files([frames], lambda candle: None)


def test_recording_with_two_pairs_comments_and_blank_line_reads_as_the_row_reader_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.csv"
    ticks = [
        RecordedTick(1762203600123, EPIC, "EUR_USD", 1.15201, 1.15207),
        RecordedTick(1762203600500, "CS.D.USDJPY.MINI.IP", "USD_JPY", 153.401, 153.408),
        RecordedTick(1762203601500, EPIC, "EUR_USD", 1.15202, 1.15208),
    ]
    write_recording(path, ticks, price_decimals=5)
    assert same_outcome(path)[1] is None
    text = path.read_text()
    path.write_text(text + "# a comment\n" + text.splitlines()[-1] + "\n")
    assert same_outcome(path)[1] is None
    path.write_text(text + "\n" + text.splitlines()[-1] + "\n")
    assert "mixed.csv:6: expected 5 fields" in str(same_outcome(path)[1])
    path.write_text(text)
    assert "--pair says USD_JPY, but tick 1 is for EUR_USD" in str(same_outcome(path, pair="USD_JPY")[1])


# --- malformed and unusual files: the row reader's outcome, exactly ---------------------------------------

DUKA_HEADER = "time_utc,epoch_ms,bid,ask,bid_volume,ask_volume"
DUKA_ROW = "2019-02-04T00:00:00.994Z,1549238400994,1.14543,1.14545,2.06,1.00"
DUKA_NEXT = "2019-02-04T00:00:01.271Z,1549238401271,1.14544,1.14546,1.00,1.00"
HD_ROW = "20200101 170000065,1.121200,1.121720,0"
HD_NEXT = "20200101 170010447,1.121200,1.121920,0"
TF_HEADER = "timestamp,bid,ask"
TF_ROW = "2013-01-01 22:00:00.295000+00:00,86.655,86.728"
TF_RAW = "USD/JPY,20130101 22:00:00.295,86.655,86.728"

CASES = [
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.12x,1.121720,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1218,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,0,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,-1.1,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,nan,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,inf,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,1.1217"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,1.1217,0,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20201301 170000066,1.1216,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200230 170000066,1.1216,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "2020-01-01 17:00:00,1.1216,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,1.1217,x"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,1.1217,-0.5"]),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 165959999,1.1216,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, '20200101 170000066,"1.1216",1.1217,0']),
    ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066, 1.1216 ,1.1217,0", HD_NEXT]),  # valid
    ("histdata_EURUSD.csv", [HD_ROW, "19691231 190000000,1.1216,1.1217,0"]),
    ("histdata_EURUSD.csv", [HD_ROW, "   ", "", HD_NEXT]),  # blank lines are fine
    ("histdata_EURUSD.csv", [HD_ROW, "\ufeff" + HD_NEXT]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace("1549238400994", "15492384e5")]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace("1549238400994", "+549238400994")]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace(".994Z", ".995Z")]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace(".994Z", ".994+00:00"), DUKA_NEXT]),  # valid
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace(".994Z", ".994")]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace("2.06", "-2.06")]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW + ",7"]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.rsplit(",", 1)[0]]),
    ("dukascopy_EURUSD.csv.gz", [DUKA_HEADER, DUKA_ROW, DUKA_ROW.replace("1.14545,", "1.14540,")]),
    ("dukascopy_EURUSD.csv", ["epoch_ms,ask,bid", "1549238400994,1.14545,1.14543"]),  # other layout: valid
    ("dukascopy_EURUSD.csv", ["time_utc,epoch_ms,bid", DUKA_ROW]),
    ("dukascopy_EURUSD.csv", ["", DUKA_HEADER, "", DUKA_ROW, DUKA_NEXT]),
    ("dukascopy_EURUSD.csv", [DUKA_HEADER]),
    ("truefx_USDJPY.csv", [TF_HEADER, TF_ROW, "2013-01-01T22:00:00.2+00:00,86.655,86.728"]),
    ("truefx_USDJPY.csv", [TF_HEADER, "2013-01-01 25:00:00,86.655,86.728"]),
    ("truefx_USDJPY.csv", [TF_HEADER, TF_ROW, "", "1813-01-01 22:00:00,86.655,86.728"]),
    ("truefx_USDJPY.csv", [TF_HEADER, TF_ROW, "2013-01-01 22:00:01+01:00,86.655,86.728"]),
    ("truefx_USDJPY.csv", [TF_HEADER, TF_ROW, "2013-01-01T22:00:01Z,86.655,86.728"]),  # valid, rare
    ("truefx_USDJPY.csv", [TF_HEADER, TF_ROW, "2013-01-01 22:00:01,86.655,86.728"]),  # naive: UTC
    ("truefx_USDJPY.csv", [TF_ROW, TF_ROW]),  # no header, not TrueFX's own rows
    ("ticks.csv", [TF_RAW, TF_RAW.replace("USD/JPY", "EUR/USD")]),
    ("ticks.csv", [TF_RAW, TF_RAW.replace(".295", ".294")]),
    ("ticks.csv", [TF_RAW, TF_RAW.replace("22:00:00", "22:00:61")]),
]


@pytest.mark.parametrize(("name", "lines"), CASES)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("chunk_bytes", [None, 16])
def test_unusual_or_malformed_file_gives_the_row_readers_rows_and_error(
    tmp_path: Path, name: str, lines: list[str], newline: str, chunk_bytes: int | None
) -> None:
    path = write(tmp_path / name, *lines, newline=newline)
    same_outcome(path, chunk_bytes)


def test_error_in_a_later_block_names_its_line_after_yielding_the_rows_before(tmp_path: Path) -> None:
    rows = [
        f"2019-02-04T00:{m:02d}:{s:02d}.000Z,{1549238400000 + (m * 60 + s) * 1000},1.1,1.2,1,1"
        for m in range(10)
        for s in range(60)
    ]
    rows[450] = rows[450].replace("1.1,1.2", "1.3,1.2")
    path = write(tmp_path / "dukascopy_EURUSD.csv", DUKA_HEADER, *rows)
    got, error = same_outcome(path, chunk_bytes=4096)
    assert len(got) == 450
    assert error is not None
    assert f"{path}:452: expected bid ≤ ask" in error
    frames = read_tick_frames(path, table=TABLE, chunk_bytes=4096)
    with pytest.raises(DataFormatError):
        list(frames)
    assert frames.by_row_reader < 100  # only the bad block went row by row


def test_row_reader_picks_up_after_vectorised_blocks_between_two_of_its_own(tmp_path: Path) -> None:
    # Block 1: a valid time outside the templates (a tab for the T); block 2 canonical; block 3 malformed.
    odd = DUKA_ROW.replace("T00:", "\t00:")
    bad = DUKA_NEXT.replace("1.00,1.00", "1.00,1.x00")
    path = write(tmp_path / "dukascopy_EURUSD.csv", DUKA_HEADER, odd, DUKA_NEXT, bad)
    rows, error = same_outcome(path, chunk_bytes=50)
    assert len(rows) == 2
    assert "dukascopy_EURUSD.csv:4: `ask_volume` is not a number" in str(error)


def test_recording_header_split_from_its_rows_is_still_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "recording.csv", REC_HEADER[0], "utm_ms,epic,pair,bid,offer,x", REC_ROW)
    assert "recording.csv:2: expected the header" in str(same_outcome(path, chunk_bytes=1)[1])


def test_lone_carriage_returns_and_a_missing_last_newline_read_as_the_row_reader_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "histdata_EURUSD.csv"
    path.write_bytes(f"{HD_ROW}\r{HD_NEXT}\r\n{HD_NEXT}".encode())
    assert same_outcome(path)[1] is None
    assert len(same_outcome(path, chunk_bytes=8)[0]) == 3


def test_cut_gzip_and_bad_bytes_fail_as_the_row_reader_fails(tmp_path: Path) -> None:
    path = write(tmp_path / "dukascopy_EURUSD.csv.gz", DUKA_HEADER, DUKA_ROW, DUKA_NEXT)
    path.write_bytes(path.read_bytes()[:-12])
    assert "cannot read the file" in str(same_outcome(path)[1])
    binary = tmp_path / "histdata_EURUSD.csv"
    binary.write_bytes(HD_ROW.encode() + b"\n20200101 17\xff0010447,1.1212,1.1219,0\n")
    assert same_outcome(binary)[1] is not None


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("ticks.csv", {}),
        ("ticks.csv", {"pair": "AUDNZD"}),
        ("histdata_EURUSD.csv", {"pair": "USD_JPY"}),
        ("histdata_EURUSD.csv", {"fmt": "csv"}),
        ("odd.csv", {"fmt": "auto"}),
    ],
)
def test_settling_format_and_pair_fails_as_read_quotes_fails(
    tmp_path: Path, name: str, options: dict[str, str]
) -> None:
    path = write(tmp_path / name, "hello,world" if name == "odd.csv" else HD_ROW)
    with pytest.raises((DataFormatError, ConfigError)) as expected:
        read_quotes(path, table=TABLE, **options)
    with pytest.raises(type(expected.value)) as got:
        read_tick_frames(path, table=TABLE, **options)
    assert str(got.value) == str(expected.value)


# --- fuzz: any small change to a valid file ----------------------------------------------------------------

REC_HEADER = ["# fxhub-ig-ticks/1", "utm_ms,epic,pair,bid,offer"]
REC_ROW = f"1762203600123,{EPIC},EUR_USD,1.15201,1.15207"
REC_JPY = "1762203600500,CS.D.USDJPY.MINI.IP,USD_JPY,153.401,153.408"
VALID = {
    "dukascopy_EURUSD.csv": [
        DUKA_HEADER,
        DUKA_ROW,
        DUKA_NEXT,
        DUKA_NEXT.replace(":01.271", ":59.999").replace("401271", "459999"),
    ],
    "histdata_EURUSD.csv": [HD_ROW, HD_NEXT, HD_NEXT.replace("170010447", "170100000")],
    "truefx_USDJPY.csv": [
        TF_HEADER,
        TF_ROW,
        TF_ROW.replace("00.295000", "59"),
        TF_ROW.replace("22:00:00.295000", "22:01:00.5"),
    ],
    "ticks.csv": [TF_RAW, TF_RAW, TF_RAW.replace("22:00:00", "22:01:00")],
    "recording.csv": [*REC_HEADER, REC_ROW, REC_JPY, REC_ROW.replace("600123", "660000")],
}
PIECES = [
    b"0",
    b"9",
    b"1",
    b".",
    b"-",
    b"+",
    b" ",
    b",",
    b"\n",
    b"\r",
    b"e",
    b"x",
    b"\t",
    b'"',
    b"#",
    b":",
    b"\xff",
    b"",
]


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(VALID)),
    st.integers(1, 3),
    st.lists(st.tuples(st.integers(0, 600), st.integers(0, 2), st.sampled_from(PIECES)), max_size=4),
    st.sampled_from([None, 1, 16, 50, 100]),
)
def test_a_mutated_file_gives_the_row_readers_rows_and_error(
    fuzz_dir: Path, name: str, repeats: int, edits: list[tuple[int, int, bytes]], chunk_bytes: int | None
) -> None:
    head = 2 if name == "recording.csv" else 1 if "ticks" not in name and "histdata" not in name else 0
    lines = VALID[name][:head] + VALID[name][head:] * repeats  # more rows: more blocks to get wrong
    data = bytearray(("\n".join(lines) + "\n").encode())
    for at, removed, piece in edits:
        at %= len(data) + 1
        data[at : at + removed] = piece
    path = fuzz_dir / name
    path.write_bytes(bytes(data))
    expected = by_rows(path)
    if any(ts > 2**63 - 1 for _, ts, _, _ in expected[0]):  # a recording time past 2262: no int64 ns
        assert "past the year 2262" in str(by_frames(path, chunk_bytes)[1])
        return
    same_outcome(path, chunk_bytes)
