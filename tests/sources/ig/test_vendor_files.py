"""Reading vendor tick files (Dukascopy, HistData, TrueFX) and fxhub recordings into quotes for replay.

The real files come from ../shared/data/real/fx (see its MANIFEST.md); they are required, not optional.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxhub.errors import ConfigError, DataFormatError
from fxhub.instruments import load_instruments
from fxhub.model import Candle, PriceBasis, Quote, Source, VolumeType
from fxhub.sessions import fx_is_open
from fxhub.sources.ig.recording import RecordedTick, write_recording
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.vendor_files import (
    FORMATS,
    detect_format,
    pairs_in_file_name,
    read_quotes,
)
from fxhub.sources.ig.vendor_rows import HISTDATA_TIMEZONE, histdata_time_ns

REAL_FX = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "fx"
DUKASCOPY = "dukascopy_EURUSD_ticks_2019-02-04.csv.gz"
DUKASCOPY_NEXT_DAY = "dukascopy_EURUSD_ticks_2019-02-05.csv.gz"
HISTDATA = "histdata_EURUSD_ticks_2020-01-01.csv"
TRUEFX = "truefx_USDJPY_ticks_2013-01-01.csv"
FXCM_BARS = "fxcm_gbpusd-m1-bid-2012.csv.gz"
EPIC = "CS.D.EURUSD.MINI.IP"


def real(name: str) -> Path:
    path = REAL_FX / name
    if not path.is_file():
        pytest.fail(
            f"The real-data file {path} is missing; these tests need the shared data folder "
            f"../shared/data/real/fx next to the project (see its MANIFEST.md)."
        )
    return path


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ns(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def as_utc(ts_ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_ns // 1000)


def write(path: Path, *lines: str, newline: str = "\n") -> Path:
    data = "".join(line + newline for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def error_of(path: Path, *, fmt: str = "auto", pair: str | None = None) -> str:
    with pytest.raises(DataFormatError) as info:
        list(read_quotes(path, fmt=fmt, pair=pair))
    return str(info.value)


# --- the real files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        (DUKASCOPY, "dukascopy"),
        (DUKASCOPY_NEXT_DAY, "dukascopy"),
        (HISTDATA, "histdata"),
        (TRUEFX, "truefx"),
    ],
)
def test_detect_format_names_the_format_of_each_real_file(name: str, fmt: str) -> None:
    assert detect_format(real(name)) == fmt


@pytest.mark.parametrize(
    ("name", "rows", "pair", "first", "last"),
    [
        (DUKASCOPY, 136_741, "EUR_USD", "2019-02-04 00:00:00.994", "2019-02-04 23:59:57.992"),
        (DUKASCOPY_NEXT_DAY, 129_478, "EUR_USD", "2019-02-05 00:00:00.717", "2019-02-05 23:59:59.765"),
        # 17:00:00.065 to 23:00:52.125 EST, five hours behind UTC.
        (HISTDATA, 9_500, "EUR_USD", "2020-01-01 22:00:00.065", "2020-01-02 04:00:52.125"),
        (TRUEFX, 1_000, "USD_JPY", "2013-01-01 22:00:00.295", "2013-01-01 22:35:13.494"),
    ],
)
def test_read_quotes_of_real_file_has_manifest_rows_pair_and_span(
    name: str, rows: int, pair: str, first: str, last: str
) -> None:
    count, head, tail = 0, None, None
    for quote, epic in read_quotes(real(name)):
        assert epic is None
        assert quote.symbol == pair
        head = head or quote
        tail = quote
        count += 1
    assert count == rows
    assert head is not None
    assert tail is not None
    assert as_utc(head.ts_event) == utc(first)
    assert as_utc(tail.ts_event) == utc(last)


def test_read_quotes_of_histdata_file_starts_at_1700_est_which_is_2200_utc() -> None:
    quote, _ = next(read_quotes(real(HISTDATA)))
    assert as_utc(quote.ts_event).astimezone(HISTDATA_TIMEZONE).strftime("%H:%M") == "17:00"
    assert as_utc(quote.ts_event).strftime("%Y-%m-%d %H:%M") == "2020-01-01 22:00"


def test_read_quotes_of_real_files_keeps_first_row_prices_exactly() -> None:
    assert next(read_quotes(real(DUKASCOPY)))[0] == Quote(
        symbol="EUR_USD", ts_event=1549238400994000000, bid=1.14543, ask=1.14545
    )
    assert next(read_quotes(real(HISTDATA)))[0].bid == 1.1212
    assert next(read_quotes(real(TRUEFX)))[0].ask == 86.728


@pytest.mark.parametrize(
    ("name", "pair"),
    [(DUKASCOPY, "EUR_USD"), (HISTDATA, "EUR_USD"), (TRUEFX, "USD_JPY"), ("eur_usd.csv", "EUR_USD")],
)
def test_pairs_in_file_name_finds_the_known_pair(name: str, pair: str) -> None:
    assert pairs_in_file_name(name, load_instruments()) == (pair,)


def test_detect_format_of_real_fxcm_bar_file_fails_naming_file_first_line_and_format_option() -> None:
    path = real(FXCM_BARS)
    with pytest.raises(DataFormatError) as info:
        detect_format(path)
    message = str(info.value)
    assert str(path) in message
    assert "'timestamp,open,high,low,close'" in message
    assert "--format" in message


def _times_without_the_reader(path: Path) -> Iterator[int]:
    """The files' times in ns, parsed here with the standard library only, not with fxhub."""
    if path.name.startswith("dukascopy"):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            next(lines)
            for line in lines:
                yield int(line.split(",")[1]) * 1_000_000
    elif path.name.startswith("histdata"):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                local = datetime.strptime(line.split(",")[0], "%Y%m%d %H%M%S%f")
                yield ns((local + timedelta(hours=5)).replace(tzinfo=UTC))
    else:
        with path.open(encoding="utf-8") as lines:
            next(lines)
            for line in lines:
                yield ns(datetime.fromisoformat(line.split(",")[0]))


def _expected_volume(times_ns: list[int]) -> tuple[int, int]:
    """Rows in open-market minutes, and the open minutes from the first row's minute to the last's."""
    minute_ns = 60_000_000_000

    def open_at(minute: int) -> bool:
        return fx_is_open(as_utc(minute * minute_ns))

    minutes = [t // minute_ns for t in times_ns]
    is_open = {minute: open_at(minute) for minute in set(minutes)}
    in_open_minutes = sum(1 for minute in minutes if is_open[minute])
    open_minutes = sum(1 for minute in range(minutes[0], minutes[-1] + 1) if open_at(minute))
    return in_open_minutes, open_minutes


@pytest.mark.parametrize("name", [DUKASCOPY, HISTDATA, TRUEFX])
def test_replay_of_real_file_gives_tick_candles_whose_volumes_count_the_open_market_rows(name: str) -> None:
    path = real(name)
    times = list(_times_without_the_reader(path))
    assert [quote.ts_event for quote, _ in read_quotes(path)] == times
    expected_volume, open_minutes = _expected_volume(times)
    candles: list[Candle] = []
    bars = IgBars(candles.append)

    fed = replay_quotes(read_quotes(path), bars)

    assert fed == bars.quotes == len(times)
    assert sum(candle.volume for candle in candles) == expected_volume
    assert sum(candle.quote_count or 0 for candle in candles) == expected_volume
    assert len(candles) == open_minutes  # with emit_empty, one candle per open minute
    assert all(
        (c.source, c.volume_type, c.price_basis) == (Source.IG, VolumeType.TICK, PriceBasis.SPOT)
        for c in candles
    )
    assert sum(builder.late_quotes for builder in bars.builders.values()) == 0


def test_replay_of_truefx_file_fills_its_two_quiet_minutes_with_zero_volume_candles() -> None:
    candles: list[Candle] = []
    replay_quotes(read_quotes(real(TRUEFX)), IgBars(candles.append))
    empty = [c for c in candles if c.volume == 0]
    assert len(candles) == 36  # 22:00 to 22:35
    assert len(empty) == 2
    assert all(c.open == c.high == c.low == c.close and c.avg_spread_pips is None for c in empty)


def test_replay_of_histdata_rows_across_friday_close_drops_the_closed_minutes(tmp_path: Path) -> None:
    # Friday 2020-01-03 16:58 to 17:01 EST; spot FX closes at 17:00 New York (EST in winter).
    rows = [
        f"20200103 {hhmm}{ss}000,1.11620,1.11630,0"
        for hhmm in ("1658", "1659", "1700", "1701")
        for ss in ("05", "35")
    ]
    path = write(tmp_path / "histdata_EURUSD_friday.csv", *rows)
    expected, _ = _expected_volume(list(_times_without_the_reader(path)))
    candles: list[Candle] = []

    replay_quotes(read_quotes(path), IgBars(candles.append))

    assert expected == 4
    assert [c.timestamp for c in candles] == [utc("2020-01-03 21:58"), utc("2020-01-03 21:59")]
    assert sum(c.volume for c in candles) == expected


# --- HistData time: EST all year -------------------------------------------------------------------------


def test_histdata_time_in_summer_is_still_five_hours_behind_utc(tmp_path: Path) -> None:
    # New York is on EDT (UTC−4) in July; HistData is not.
    assert as_utc(histdata_time_ns("20200701 170000000")) == utc("2020-07-01 22:00")
    path = write(tmp_path / "histdata_EURUSD_2020-07.csv", "20200701 120000250,1.12300,1.12310,0")
    quote, _ = next(read_quotes(path))
    assert as_utc(quote.ts_event) == utc("2020-07-01 17:00:00.250")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31)))
def test_histdata_time_is_the_wall_time_plus_five_hours_on_any_date(local: datetime) -> None:
    local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    text = local.strftime("%Y%m%d %H%M%S") + f"{local.microsecond // 1000:03d}"
    assert histdata_time_ns(text) == ns((local + timedelta(hours=5)).replace(tzinfo=UTC))


# --- the pair ---------------------------------------------------------------------------------------------


def test_read_quotes_without_pair_in_file_or_name_asks_for_pair_option(tmp_path: Path) -> None:
    path = write(tmp_path / "ticks.csv", "20200101 170000065,1.121200,1.121720,0")
    with pytest.raises(DataFormatError, match="--pair") as info:
        read_quotes(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("pair", ["EUR_USD", "EURUSD", "eur/usd"])
def test_read_quotes_takes_pair_argument_when_file_and_name_do_not_say(tmp_path: Path, pair: str) -> None:
    path = write(tmp_path / "ticks.csv", "20200101 170000065,1.121200,1.121720,0")
    assert [q.symbol for q, _ in read_quotes(path, pair=pair)] == ["EUR_USD"]


def test_read_quotes_refuses_pair_argument_that_contradicts_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "histdata_EURUSD.csv", "20200101 170000065,1.121200,1.121720,0")
    with pytest.raises(DataFormatError, match="--pair says USD_JPY, but the file name names EUR_USD"):
        read_quotes(path, pair="USD_JPY")
    assert next(read_quotes(path, pair="EURUSD"))[0].symbol == "EUR_USD"


def test_read_quotes_when_name_names_two_pairs_asks_for_pair_option(tmp_path: Path) -> None:
    path = write(tmp_path / "EURUSD_vs_USDJPY.csv", "20200101 170000065,1.121200,1.121720,0")
    with pytest.raises(DataFormatError, match=r"several pairs.*--pair"):
        read_quotes(path)
    assert next(read_quotes(path, pair="USD_JPY"))[0].symbol == "USD_JPY"


def test_read_quotes_with_unknown_pair_argument_raises_config_error_listing_pairs(tmp_path: Path) -> None:
    path = write(tmp_path / "ticks.csv", "20200101 170000065,1.121200,1.121720,0")
    with pytest.raises(ConfigError, match=r"must be one of EUR_USD, .*was 'AUDNZD'"):
        read_quotes(path, pair="AUDNZD")


def test_read_quotes_with_unknown_format_argument_raises_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "EURUSD.csv", "20200101 170000065,1.121200,1.121720,0")
    with pytest.raises(ConfigError, match="auto or one of fxhub, dukascopy, histdata, truefx, was 'csv'"):
        read_quotes(path, fmt="csv")
    assert FORMATS == ("fxhub", "dukascopy", "histdata", "truefx")


def test_read_quotes_of_truefx_own_rows_takes_the_pair_from_the_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ticks.csv",
        "USD/JPY,20130101 22:00:00.295,86.655,86.728",
        "USD/JPY,20130101 22:00:00.295,86.656,86.728",
    )
    quotes = [quote for quote, _ in read_quotes(path)]
    assert detect_format(path) == "truefx"
    assert [q.symbol for q in quotes] == ["USD_JPY", "USD_JPY"]
    assert as_utc(quotes[0].ts_event) == utc("2013-01-01 22:00:00.295")
    with pytest.raises(
        DataFormatError, match=r"ticks\.csv:1: --pair says EUR_USD, but the file holds USD/JPY"
    ):
        read_quotes(path, pair="EUR_USD")


def test_read_quotes_of_truefx_own_rows_refuses_a_pair_change_inside(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ticks.csv",
        "USD/JPY,20130101 22:00:00.295,86.655,86.728",
        "EUR/USD,20130101 22:00:00.300,1.3195,1.3197",
    )
    assert "ticks.csv:2: expected the pair USD/JPY" in error_of(path)


def test_read_quotes_of_truefx_own_rows_for_unknown_pair_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "ticks.csv", "AUD/NZD,20130101 22:00:00.295,1.26,1.27")
    with pytest.raises(DataFormatError, match=r"ticks\.csv:1: the file holds AUD/NZD quotes, was not a pair"):
        read_quotes(path)


# --- fxhub recordings -------------------------------------------------------------------------------------


def test_read_quotes_of_fxhub_recording_yields_quotes_with_their_epics(tmp_path: Path) -> None:
    path = tmp_path / "recording.csv.gz"
    ticks = [
        RecordedTick(1762203600123, EPIC, "EUR_USD", 1.15201, 1.15207),
        RecordedTick(1762203601500, "CS.D.USDJPY.MINI.IP", "USD_JPY", 153.401, 153.408),
    ]
    write_recording(path, ticks, price_decimals=5)

    assert detect_format(path) == "fxhub"
    assert list(read_quotes(path)) == [
        (Quote(symbol="EUR_USD", ts_event=1762203600123_000_000, bid=1.15201, ask=1.15207), EPIC),
        (
            Quote(symbol="USD_JPY", ts_event=1762203601500_000_000, bid=153.401, ask=153.408),
            "CS.D.USDJPY.MINI.IP",
        ),
    ]
    assert "--pair says EUR_USD, but tick 2 is for USD_JPY" in error_of(path, pair="EUR_USD")


def test_read_quotes_of_fxhub_recording_refuses_pair_unknown_to_the_table(tmp_path: Path) -> None:
    path = tmp_path / "recording.csv"
    write_recording(path, [RecordedTick(1, "X", "AUD_NZD", 1.1, 1.2)], price_decimals=5)
    assert "tick 1 is for 'AUD_NZD', not a pair of the instrument table" in error_of(path)


def test_read_quotes_of_corrupt_gzip_recording_raises_data_format_error(tmp_path: Path) -> None:
    path = tmp_path / "recording.csv.gz"
    write_recording(path, [RecordedTick(1762203600000, EPIC, "EUR_USD", 1.1, 1.2)], price_decimals=5)
    # A second gzip member whose deflate data starts with the reserved block type 11: zlib.error.
    path.write_bytes(path.read_bytes() + bytes.fromhex("1f8b08000000000000ff") + b"\x07" + bytes(16))
    quotes = read_quotes(path)
    assert next(quotes)[1] == EPIC
    with pytest.raises(DataFormatError, match=r"csv.gz:4: cannot read the recording .*invalid block type"):
        next(quotes)


def test_read_quotes_of_corrupt_gzip_start_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "dukascopy_EURUSD.csv.gz"
    path.write_bytes(bytes.fromhex("1f8b08000000000000ff") + b"\x07" + bytes(16))
    assert f"{path}:1: cannot read the file (Error -3" in error_of(path)


# --- malformed rows name file:line ------------------------------------------------------------------------

DUKA_HEADER = "time_utc,epoch_ms,bid,ask,bid_volume,ask_volume"
DUKA_ROW = "2019-02-04T00:00:00.994Z,1549238400994,1.14543,1.14545,2.06,1.00"
HD_ROW = "20200101 170000065,1.121200,1.121720,0"
TF_HEADER = "timestamp,bid,ask"
TF_ROW = "2013-01-01 22:00:00.295000+00:00,86.655,86.728"


@pytest.mark.parametrize(
    ("name", "lines", "line", "why"),
    [
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.12x,1.121720,0"], 2, "`bid` is not a number"),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1218,1.1217,0"], 2, "expected bid ≤ ask"),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,0,1.1217,0"], 2, "positive finite price"),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,-1.1,1.1217,0"], 2, "positive finite price"),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,nan,1.1217,0"], 2, "positive finite price"),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,inf,0"], 2, "positive finite price"),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 170000066,1.1216,1.1217"], 2, "expected 4 fields"),
        ("histdata_EURUSD.csv", [HD_ROW, "20201301 170000066,1.1216,1.1217,0"], 2, "not a valid time"),
        ("histdata_EURUSD.csv", [HD_ROW, "2020-01-01 17:00:00,1.1216,1.1217,0"], 2, "YYYYMMDD HHMMSSfff"),
        (
            "histdata_EURUSD.csv",
            [HD_ROW, "20200101 170000066,1.1216,1.1217,x"],
            2,
            "`volume` is not a number",
        ),
        ("histdata_EURUSD.csv", [HD_ROW, "20200101 165959999,1.1216,1.1217,0"], 2, "time goes backwards"),
        (
            "dukascopy_EURUSD.csv",
            [DUKA_HEADER, DUKA_ROW.replace("1549238400994", "15492384e5")],
            2,
            "whole milliseconds",
        ),
        (
            "dukascopy_EURUSD.csv",
            [DUKA_HEADER, DUKA_ROW.replace(".994Z", ".995Z")],
            2,
            "`time_utc` must be the UTC time",
        ),
        ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW.replace("2.06", "-2.06")], 2, "`bid_volume` must be"),
        ("dukascopy_EURUSD.csv", [DUKA_HEADER, DUKA_ROW + ",7"], 2, "expected 6 fields"),
        (
            "dukascopy_EURUSD.csv.gz",
            [DUKA_HEADER, DUKA_ROW, DUKA_ROW.replace("1.14545,", "1.14540,")],
            3,
            "bid ≤ ask",
        ),
        (
            "truefx_USDJPY.csv",
            [TF_HEADER, TF_ROW, "2013-01-01T22:00:00.2+00:00,86.655,86.728"],
            3,
            "backwards",
        ),
        ("truefx_USDJPY.csv", [TF_HEADER, "2013-01-01 25:00:00,86.655,86.728"], 2, "not an ISO 8601 time"),
        (
            "truefx_USDJPY.csv",
            [TF_HEADER, TF_ROW, "", "1813-01-01 22:00:00,86.655,86.728"],
            4,
            "years 1970 to 2199",
        ),
    ],
)
def test_read_quotes_of_malformed_row_names_file_line_and_why(
    tmp_path: Path, name: str, lines: list[str], line: int, why: str
) -> None:
    path = write(tmp_path / name, *lines)
    message = error_of(path)
    assert f"{path}:{line}: " in message
    assert why in message


def test_read_quotes_of_dukascopy_header_without_ask_names_the_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "dukascopy_EURUSD.csv", "time_utc,epoch_ms,bid", DUKA_ROW)
    assert f"{path}:1: expected a Dukascopy header naming epoch_ms, bid and ask (missing ask)" in error_of(
        path, fmt="dukascopy"
    )


def test_read_quotes_with_explicit_wrong_format_fails_at_line_one(tmp_path: Path) -> None:
    path = write(tmp_path / "dukascopy_EURUSD.csv", DUKA_HEADER, DUKA_ROW)
    assert f"{path}:1: expected 4 fields" in error_of(path, fmt="histdata")


def test_read_quotes_yields_the_rows_before_a_malformed_line(tmp_path: Path) -> None:
    path = write(tmp_path / "histdata_EURUSD.csv", HD_ROW, HD_ROW, "garbage")
    quotes = read_quotes(path)
    assert next(quotes)[0].bid == next(quotes)[0].bid == 1.1212
    with pytest.raises(DataFormatError, match=r"histdata_EURUSD\.csv:3: "):
        next(quotes)


def test_read_quotes_allows_equal_times(tmp_path: Path) -> None:
    path = write(tmp_path / "truefx_USDJPY.csv", TF_HEADER, TF_ROW, TF_ROW, TF_ROW)
    assert len({quote.ts_event for quote, _ in read_quotes(path)}) == 1


def test_read_quotes_accepts_crlf_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "dukascopy_EURUSD.csv"
    path.write_bytes(("\ufeff" + DUKA_HEADER + "\r\n\r\n" + DUKA_ROW + "\r\n\r\n").encode("utf-8"))
    assert detect_format(path) == "dukascopy"
    assert [quote.bid for quote, _ in read_quotes(path)] == [1.14543]


def test_read_quotes_reads_gzip_by_its_content_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "truefx_USDJPY.csv"
    path.write_bytes(gzip.compress(f"{TF_HEADER}\n{TF_ROW}\n".encode()))
    assert detect_format(path) == "truefx"
    assert [quote.ask for quote, _ in read_quotes(path)] == [86.728]


def test_truefx_time_without_offset_is_utc(tmp_path: Path) -> None:
    path = write(tmp_path / "truefx_USDJPY.csv", TF_HEADER, "2013-01-01 22:00:00,86.655,86.728")
    assert as_utc(next(read_quotes(path))[0].ts_event) == utc("2013-01-01 22:00")


@pytest.mark.parametrize(
    ("content", "shown"),
    [(b"hello,world\n", "'hello,world'"), (b"", "''"), (b"\n\n", "''")],
)
def test_detect_format_of_unknown_file_names_file_first_line_and_format_option(
    tmp_path: Path, content: bytes, shown: str
) -> None:
    path = tmp_path / "EURUSD.csv"
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as info:
        read_quotes(path)
    message = str(info.value)
    assert str(path) in message
    assert f"first line, was {shown}" in message
    assert "--format" in message


def test_read_quotes_of_binary_or_missing_file_raises_data_format_error(tmp_path: Path) -> None:
    binary = tmp_path / "EURUSD.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot read the file" in error_of(binary)
    assert "cannot read the file" in error_of(tmp_path / "missing_EURUSD.csv")
