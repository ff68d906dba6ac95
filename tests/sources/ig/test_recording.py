from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from fxhub.errors import DataFormatError
from fxhub.sources.ig.recording import FORMAT_LINE, HEADER, RecordedTick, read_recording, write_recording

EPIC = "CS.D.EURUSD.MINI.IP"
TICKS = [
    RecordedTick(1762203600123, EPIC, "EUR_USD", 1.15201, 1.15207),
    RecordedTick(1762203600123, EPIC, "EUR_USD", 1.15202, 1.15207),  # same millisecond is allowed
    RecordedTick(1762203601500, EPIC, "EUR_USD", 1.15198, 1.15204),
    RecordedTick(1762203662001, "CS.D.USDJPY.MINI.IP", "USD_JPY", 153.401, 153.408),
]
HEADER_LINE = ",".join(HEADER)
GOOD_ROW = f"1762203600123,{EPIC},EUR_USD,1.15201,1.15207"


def write_lines(path: Path, *lines: str) -> Path:
    text = "".join(line + "\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def read_error(path: Path) -> str:
    with pytest.raises(DataFormatError) as info:
        list(read_recording(path))
    return str(info.value)


# --- round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ticks.csv", "ticks.csv.gz"])
def test_recording_write_then_read_round_trips(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_recording(path, TICKS, price_decimals=5) == len(TICKS)
    assert list(read_recording(path)) == TICKS


def test_recording_plain_file_is_the_documented_csv(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    write_recording(path, TICKS[:1], price_decimals=5)
    assert path.read_text(encoding="utf-8") == f"{FORMAT_LINE}\n{HEADER_LINE}\n{GOOD_ROW}\n"


def test_recording_gz_suffix_writes_gzip_of_the_same_text(tmp_path: Path) -> None:
    plain, packed = tmp_path / "ticks.csv", tmp_path / "ticks.csv.gz"
    write_recording(plain, TICKS, price_decimals=5)
    write_recording(packed, TICKS, price_decimals=5)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()


def test_recording_writes_prices_with_the_given_decimals(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    write_recording(path, [RecordedTick(1, EPIC, "EUR_USD", 1.1, 1.10005)], price_decimals=5)
    assert path.read_text(encoding="utf-8").splitlines()[2] == f"1,{EPIC},EUR_USD,1.10000,1.10005"


def test_recording_of_no_ticks_reads_back_empty(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv.gz"
    assert write_recording(path, [], price_decimals=5) == 0
    assert list(read_recording(path)) == []


def test_recording_gz_bytes_identical_when_written_twice_under_same_name(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "ticks.csv.gz", tmp_path / "b" / "ticks.csv.gz"
    first.parent.mkdir()
    second.parent.mkdir()
    write_recording(first, TICKS, price_decimals=5)
    write_recording(second, TICKS, price_decimals=5)
    assert first.read_bytes() == second.read_bytes()


def test_recording_gz_bytes_identical_for_identical_content_under_different_names(tmp_path: Path) -> None:
    first, second = tmp_path / "2025-11-03.csv.gz", tmp_path / "2025-11-04.csv.gz"
    write_recording(first, TICKS, price_decimals=5)
    write_recording(second, TICKS, price_decimals=5)
    assert first.read_bytes() == second.read_bytes()


def test_recording_comment_lines_are_skipped(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "ticks.csv",
        FORMAT_LINE,
        "# recorded by hand",
        HEADER_LINE,
        GOOD_ROW,
        "# a gap follows",
        "1762203700000,CS.D.EURUSD.MINI.IP,EUR_USD,1.1530,1.1531",
    )
    assert [tick.utm_ms for tick in read_recording(path)] == [1762203600123, 1762203700000]


# --- malformed files: each error names the file and the line -------------------------------------------


@pytest.mark.parametrize("name", ["ticks.csv", "ticks.csv.gz"])
def test_recording_without_format_line_names_file_and_line_1(tmp_path: Path, name: str) -> None:
    path = write_lines(tmp_path / name, HEADER_LINE, GOOD_ROW)
    message = read_error(path)
    assert f"{path}:1:" in message
    assert FORMAT_LINE in message
    assert repr(HEADER_LINE) in message


def test_recording_empty_file_names_file_and_line_1(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("", encoding="utf-8")
    assert f"{path}:1:" in read_error(path)


def test_recording_with_bad_header_names_file_and_line_2(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ticks.csv", FORMAT_LINE, "utm_ms,epic,pair,bid,ask", GOOD_ROW)
    message = read_error(path)
    assert f"{path}:2:" in message
    assert "expected the header" in message
    assert "'ask'" in message


def test_recording_with_format_line_only_names_missing_header(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ticks.csv", FORMAT_LINE)
    message = read_error(path)
    assert f"{path}:2:" in message
    assert "was None" in message


@pytest.mark.parametrize(
    "row", [f"1762203600200,{EPIC},EUR_USD,1.15201", f"1762203600200,{EPIC},EUR_USD,1.15201,1.15207,9", ""]
)
def test_recording_with_wrong_field_count_names_file_and_line(tmp_path: Path, row: str) -> None:
    path = write_lines(tmp_path / "ticks.csv", FORMAT_LINE, HEADER_LINE, GOOD_ROW, row)
    message = read_error(path)
    assert f"{path}:4:" in message
    assert "expected 5 fields" in message


@pytest.mark.parametrize(
    ("row", "bad"),
    [
        (f"1762203600200,{EPIC},EUR_USD,1.15x01,1.15207", "1.15x01"),
        (f"1762203600200,{EPIC},EUR_USD,1.15201,", "''"),
        (f"2025-11-03T21:00:00Z,{EPIC},EUR_USD,1.15201,1.15207", "2025-11-03T21:00:00Z"),
        (f"1762203600200.5,{EPIC},EUR_USD,1.15201,1.15207", "1762203600200.5"),
    ],
)
def test_recording_with_non_numeric_value_names_file_and_line(tmp_path: Path, row: str, bad: str) -> None:
    path = write_lines(tmp_path / "ticks.csv", FORMAT_LINE, HEADER_LINE, GOOD_ROW, GOOD_ROW, row)
    message = read_error(path)
    assert f"{path}:5:" in message
    assert "expected integer utm_ms and decimal prices" in message
    assert bad in message


@pytest.mark.parametrize(
    ("bid", "offer"), [("1.15210", "1.15207"), ("0", "1.15207"), ("-1.15", "1.15207"), ("nan", "1.15207")]
)
def test_recording_with_bid_above_offer_or_not_positive_names_file_and_line(
    tmp_path: Path, bid: str, offer: str
) -> None:
    path = write_lines(
        tmp_path / "ticks.csv", FORMAT_LINE, HEADER_LINE, f"1762203600200,{EPIC},EUR_USD,{bid},{offer}"
    )
    message = read_error(path)
    assert f"{path}:3:" in message
    assert "0 < bid ≤ offer" in message
    assert f"bid {bid} offer {offer}" in message


def test_recording_with_infinite_offer_names_file_and_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "ticks.csv", FORMAT_LINE, HEADER_LINE, f"1762203600200,{EPIC},EUR_USD,1.15201,inf"
    )
    assert f"{path}:3:" in read_error(path)


@pytest.mark.parametrize("name", ["ticks.csv", "ticks.csv.gz"])
def test_recording_with_time_going_back_names_file_line_and_both_times(tmp_path: Path, name: str) -> None:
    path = write_lines(
        tmp_path / name,
        FORMAT_LINE,
        HEADER_LINE,
        GOOD_ROW,
        f"1762203601000,{EPIC},EUR_USD,1.15201,1.15207",
        f"1762203600999,{EPIC},EUR_USD,1.15201,1.15207",
    )
    message = read_error(path)
    assert f"{path}:5:" in message
    assert "1762203600999 goes back in time" in message
    assert "previous 1762203601000" in message


def test_recording_yields_good_rows_before_the_bad_one(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ticks.csv", FORMAT_LINE, HEADER_LINE, GOOD_ROW, "garbage")
    reader = read_recording(path)
    assert next(reader).utm_ms == 1762203600123
    with pytest.raises(DataFormatError, match=":4:"):
        next(reader)


def test_recording_error_after_comment_line_names_the_physical_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "ticks.csv", FORMAT_LINE, HEADER_LINE, GOOD_ROW, "# operator note", "garbage"
    )
    assert f"{path}:5:" in read_error(path)


def test_recording_header_error_after_comment_line_names_the_physical_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ticks.csv", FORMAT_LINE, "# recorded by hand", "utm,epic", GOOD_ROW)
    assert f"{path}:3:" in read_error(path)
